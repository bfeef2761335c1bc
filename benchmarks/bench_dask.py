"""Lasso on a dask cluster, out of core: shrinkage against dask-ml (dask-glm) and Spark MLlib.

Usage (from the repository root; ``pip install dask-ml pyspark``, a Java 17 runtime on PATH)::

    python benchmarks/bench_dask.py --n 200000                  # smoke test, all peers
    python benchmarks/bench_dask.py --n 5000000 --peer-budget 1500   # the >= 4 GB run
    python benchmarks/bench_dask.py --scaling 1000000,2000000,4000000,8000000
    python benchmarks/bench_dask.py --check-mappings            # Spark / dask-ml lambda scales

Data. ``--data-dir`` (default ``/tmp/shrinkage-dask-bench``) receives Parquet files of 100 000 rows
(float64 columns ``x0 .. x{p-1}``, ``y``; snappy), written once by the cluster's workers and reused:
file ``i`` is drawn from ``numpy.random.default_rng([seed, i])``, ``X ~ N(0, 1) + 1``,
``y = X w + N(0, 1) + 3`` with ten nonzero ``w``. A dataset of ``n`` rows is the directory
``n{n}/`` of hard links to the first ``n / 100 000`` files, so every size is a prefix of the
largest. Delete the directory afterwards (``--clean`` does it).

One objective for everyone, recomputed from each solver's returned coefficients and intercept by
one exact streaming pass over the Parquet files (NumPy on the client, per-block float64 sums
added with ``math.fsum``)::

    P(w, b) = (1/2n) ||y - X w - b||^2 + alpha ||w||_1,   alpha = alpha_max / 20

The reference ``P*`` is shrinkage at ``tol = 1e-14`` (certified by its duality gap); reported:
wall time, the relative suboptimality ``(P - P*) / P*``, shrinkage's passes over the data.

Peers and their scales:

* dask-ml ``LinearRegression(penalty="l1")``, solvers ``admm`` and ``proximal_grad``, default
  settings otherwise. dask-glm's ``Normal`` family minimises ``||y - X w||^2 + lamduh ||w||_1``
  (no 1/2) over the coefficients *including* the intercept column dask-ml appends, so
  ``lamduh = 1 / C = 2 n alpha``; its intercept is penalized and it cannot be told otherwise.
  The "floor" row is the exact optimum of that penalized-intercept problem (shrinkage,
  ``fit_intercept=False`` on ``[X, 1]``): the best dask-ml can reach on ``P``. A run that exceeds
  ``--peer-budget`` seconds is stopped (an exception raised from inside its L1 proximal
  operator, which it calls once per iteration); its last iterate is what it reached.
* Spark MLlib ``LinearRegression(elasticNetParam=1, regParam=alpha, standardization=False)``,
  ``local[2]``: its loss is ``(1/2n) ||y - X w - b||^2`` with an unpenalized intercept, and for a
  pure L1 penalty its internal label scaling cancels, so ``regParam = alpha`` is ``P`` exactly
  (``--check-mappings`` verifies it against shrinkage's in-memory ``Lasso``). ``solver="auto"``
  (its default; for p <= 4096 the normal equations, one pass, then OWL-QN on the client) and
  ``solver="l-bfgs"`` (distributed OWL-QN, one pass per iteration over cached rows). Spark runs
  after the dask cluster is closed; a run over budget is cancelled.

Timing: cluster (or Spark session) warm, data read from Parquet inside every timed fit (the files
are in the OS page cache after they are written: these are not cold-disk times). Single-threaded
workers (``threads_per_worker=1``, BLAS and numba threads 1), 2 worker processes, loopback.
Results go to ``benchmarks/results/dask-<n>.{json,md}`` and ``dask-scaling.{json,md}``.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ROWS_PER_FILE = 100_000
N_TRUE = 10


# ----------------------------------------------------------------------------------------- data
def _columns(p):
    return [f"x{j}" for j in range(p)]


def write_file(path, index, p, seed, rows=ROWS_PER_FILE):
    """File ``index`` of the dataset (runs on a worker); atomic, so a crash leaves no half file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng([seed, index])
    Xt = rng.standard_normal((p, rows))          # one contiguous row per column
    Xt += 1.0
    w = np.zeros(p)
    w[:N_TRUE] = np.linspace(-2, 2, N_TRUE)
    y = w @ Xt + rng.standard_normal(rows) + 3.0
    table = pa.table({**{f"x{j}": Xt[j] for j in range(p)}, "y": y})
    tmp = f"{path}.tmp"
    pq.write_table(table, tmp, compression="snappy")
    os.replace(tmp, path)
    return os.path.getsize(path)


def ensure_dataset(data_dir, n, p, seed, client):
    """The directory of ``n`` rows (hard links to the shared files), writing missing files."""
    if n % ROWS_PER_FILE:
        raise SystemExit(f"--n must be a multiple of {ROWS_PER_FILE}")
    files_dir = Path(data_dir) / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    manifest = files_dir / "manifest.json"
    spec = {"p": p, "seed": seed, "rows_per_file": ROWS_PER_FILE, "generator": "default_rng([seed, i])"}
    if manifest.exists() and json.loads(manifest.read_text()) != spec:
        raise SystemExit(f"{files_dir} holds another dataset ({manifest.read_text()}); use another "
                         "--data-dir or delete it")
    manifest.write_text(json.dumps(spec))
    n_files = n // ROWS_PER_FILE
    paths = [files_dir / f"part-{i:05d}.parquet" for i in range(n_files)]
    missing = [i for i, path in enumerate(paths) if not path.exists()]
    if missing:
        start = time.perf_counter()
        futures = client.map(write_file, [str(paths[i]) for i in missing], missing, p=p, seed=seed,
                             pure=False)
        client.gather(futures)
        print(f"wrote {len(missing)} files in {time.perf_counter() - start:.1f} s", flush=True)
    target = Path(data_dir) / f"n{n}"
    if not target.exists():
        tmp = Path(data_dir) / f".n{n}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for path in paths:
            os.link(path, tmp / path.name)
        tmp.rename(target)
    size = sum(f.stat().st_size for f in target.glob("*.parquet"))
    return target, size


def dataset_files(directory):
    return sorted(Path(directory).glob("*.parquet"))


def _read(path, p):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    X = np.empty((table.num_rows, p))
    for j in range(p):
        X[:, j] = table.column(f"x{j}").to_numpy()
    return X, table.column("y").to_numpy()


def alpha_max_stream(directory, p):
    """``max_j |x_j - mean|' (y - mean) / n`` by one streaming pass (independent of shrinkage)."""
    n, sx, sy, sxy = 0, np.zeros(p), 0.0, np.zeros(p)
    for path in dataset_files(directory):
        X, y = _read(path, p)
        n += len(y)
        sx += X.sum(axis=0)
        sy += y.sum()
        sxy += X.T @ y
    return float(np.max(np.abs(sxy - sx * sy / n)) / n)


def objectives(directory, p, answers, alpha):
    """``P(w, b)`` of every ``(w, b)`` in ``answers`` by one exact pass over the files."""
    W = np.column_stack([np.asarray(w, dtype=float) for w, _ in answers])
    B = np.array([float(b) for _, b in answers])
    sums, n = [], 0
    for path in dataset_files(directory):
        X, y = _read(path, p)
        R = y[:, None] - X @ W - B
        sums.append(np.einsum("ij,ij->j", R, R))
        n += len(y)
    return [0.5 * math.fsum(col) / n + alpha * float(np.abs(W[:, k]).sum())
            for k, col in enumerate(zip(*sums, strict=True))]


# ------------------------------------------------------------------------------------- peers
class _Stop(Exception):
    """Raised inside a peer's iteration when its time budget is spent."""


def _traced_dask_ml(solver, budget):
    """dask-glm's L1 regularizer (and, for proximal_grad, family) recording iterates.

    Nothing in the algorithm changes: the proximal operator is the parent's. ADMM's consensus
    variable ``z`` is the prox output of each iteration; proximal gradient's accepted iterate is
    the last prox output before the next gradient evaluation.
    """
    from dask_glm.families import Normal
    from dask_glm.regularizers import L1

    state = {"start": time.perf_counter(), "last": None, "iterates": [], "stopped": False}

    def over_budget():
        if time.perf_counter() - state["start"] > budget:
            state["stopped"] = True
            raise _Stop

    class TracedL1(L1):
        def proximal_operator(self, beta, t):
            z = super().proximal_operator(beta, t)
            if solver == "admm":
                state["iterates"].append((time.perf_counter() - state["start"], z))
                over_budget()
            else:
                state["last"] = z
                over_budget()
            return z

    class TracedNormal(Normal):
        @staticmethod
        def gradient(Xbeta, X, y):
            if state["last"] is not None:
                state["iterates"].append((time.perf_counter() - state["start"], state["last"]))
            return Normal.gradient(Xbeta, X, y)

    kwargs = {"regularizer": TracedL1()}
    if solver == "proximal_grad":
        kwargs["family"] = TracedNormal
    return kwargs, state


def run_dask_ml(solver, X, y, n, alpha, budget):
    """dask-ml at its defaults (``C = 1 / (2 n alpha)``), stopped after ``budget`` seconds."""
    import dask
    from dask_ml.linear_model import LinearRegression

    kwargs, state = _traced_dask_ml(solver, budget)
    model = LinearRegression(penalty="l1", C=1.0 / (2 * n * alpha), solver=solver,
                             fit_intercept=True, solver_kwargs=kwargs)
    start = time.perf_counter()
    try:
        model.fit(X, y)
        coef = np.concatenate([np.asarray(model.coef_), [float(model.intercept_)]])
        status = "default answer"
    except _Stop:
        if not state["iterates"]:
            return {"time": time.perf_counter() - start, "status": "stopped before one iteration",
                    "w": None, "b": None, "iterations": 0}
        t_last, coef = state["iterates"][-1]
        coef = np.asarray(dask.compute(coef)[0])
        status = f"stopped at the budget; its last iterate (at {t_last:.0f} s)"
    elapsed = time.perf_counter() - start
    return {"time": elapsed, "status": status, "w": coef[:-1], "b": float(coef[-1]),
            "iterations": len(state["iterates"])}


def spark_session(memory):
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("shrinkage-bench")
            .config("spark.driver.memory", memory)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.local.dir", "/tmp")
            .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1000).count()                    # start the executors before any timing
    return spark


def run_spark(spark, source, p, alpha, solver, budget, tol=None, max_iter=None):
    """Spark MLlib's elastic-net linear regression (L1 only) on ``source`` (a Parquet path or a
    Spark DataFrame), cancelled after ``budget`` seconds."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression

    params = {"regParam": alpha, "elasticNetParam": 1.0, "standardization": False,
              "fitIntercept": True, "solver": solver, "featuresCol": "features", "labelCol": "y"}
    if tol is not None:
        params.update(tol=tol, maxIter=max_iter)
    timer = threading.Timer(budget, spark.sparkContext.cancelAllJobs)
    start = time.perf_counter()
    timer.start()
    try:
        frame = spark.read.parquet(str(source)) if isinstance(source, (str, Path)) else source
        data = VectorAssembler(inputCols=_columns(p), outputCol="features").transform(frame)
        model = LinearRegression(**params).fit(data)
    except Exception as error:  # a cancelled job surfaces as a Py4J error
        elapsed = time.perf_counter() - start
        if elapsed < budget:
            raise
        return {"time": elapsed, "status": f"cancelled at the budget ({type(error).__name__})",
                "w": None, "b": None, "iterations": None}
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - start
    try:
        iterations = int(model.summary.totalIterations)
    except Exception:  # the normal-equation route has none
        iterations = None
    return {"time": elapsed, "status": "default answer" if tol is None else f"tol {tol:g}",
            "w": model.coefficients.toArray(), "b": float(model.intercept), "iterations": iterations}


# ------------------------------------------------------------------------------------ harness
def machine_note():
    cpu = platform.processor() or ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {}
    for name in ("numpy", "numba", "dask", "distributed", "dask_ml", "dask_glm", "pyarrow",
                 "pyspark", "shrinkage"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = None
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
        versions["java"] = java.splitlines()[0]
    except OSError:
        versions["java"] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = None
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu,
            "nproc": os.cpu_count(), "load_before": os.getloadavg(), "git": commit, **versions}


def start_cluster(memory):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address="127.0.0.1:0", host="127.0.0.1", memory_limit=memory)
    return cluster, Client(cluster)


def load_frame(directory, p):
    import dask.dataframe as dd

    frame = dd.read_parquet(str(directory))
    return frame[_columns(p)], frame["y"]


def timed(fit, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), times, result


def fmt_time(t):
    return f"{t:.3g} s" if t < 100 else f"{t:.0f} s ({t / 60:.1f} min)"


def main_compare(args):
    from shrinkage import Lasso

    note = machine_note()
    out = RESULTS / f"dask-{args.n}"
    rows = []
    record = {"machine": note, "args": vars(args), "rows": rows}

    def save():
        out.with_suffix(".json").write_text(json.dumps(record, indent=1, default=float))

    cluster, client = start_cluster(args.worker_memory)
    try:
        directory, size = ensure_dataset(args.data_dir, args.n, args.p, args.seed, client)
        record.update(directory=str(directory), bytes=size)
        alpha = alpha_max_stream(directory, args.p) / 20
        record["alpha"] = alpha
        print(f"{directory}: {size / 1e9:.2f} GB ({size / 2**30:.2f} GiB), alpha = {alpha!r}",
              flush=True)
        X_fit, y_fit = load_frame(directory, args.p)
        answers = {}

        def add(name, t, times, w, b, **extra):
            answers[name] = (w, b)
            coef = None if w is None else {"w": np.asarray(w, dtype=float).tolist(), "b": float(b)}
            rows.append({"solver": name, "time": t, "times": times, **extra, "answer": coef})
            print(f"{name:44s} {fmt_time(t):>18s}   {extra}", flush=True)
            save()

        def fit_shrinkage(tol, repeats):
            def fit():
                return Lasso(alpha=alpha, tol=tol).fit(X_fit, y_fit)
            t, times, model = timed(fit, repeats)
            add(f"shrinkage Lasso tol={tol:g}", t, times, model.coef_, model.intercept_,
                passes=model.n_passes_, dual_gap=model.dual_gap_, n_iter=model.n_iter_,
                status="certified gap <= tol * null objective")

        fit_shrinkage(1e-14, 1)
        for tol in args.tols:
            fit_shrinkage(tol, args.repeats)

        # The best dask-ml can reach: the optimum with its intercept penalized like w.
        Xo = X_fit.assign(one=1.0)
        start = time.perf_counter()
        floor = Lasso(alpha=alpha, tol=1e-12, fit_intercept=False).fit(Xo, y_fit)
        add("floor: optimum with penalized intercept", time.perf_counter() - start, None,
            floor.coef_[:-1], floor.coef_[-1], passes=floor.n_passes_,
            status="dask-ml's own optimum (shrinkage, fit_intercept=False on [X, 1])")

        if not args.no_dask_ml:
            # One array for X and y: y read alone gets its partitions merged by dask's optimiser.
            both = X_fit.assign(y=y_fit).to_dask_array(lengths=True)
            X_arr, y_arr = both[:, :args.p], both[:, args.p]
            for solver in args.dask_ml_solvers:
                res = run_dask_ml(solver, X_arr, y_arr, args.n, alpha, args.peer_budget)
                add(f"dask-ml {solver}", res["time"], [res["time"]], res["w"], res["b"],
                    iterations=res["iterations"], status=res["status"])
    finally:
        client.close()
        cluster.close()

    if not args.no_spark:
        spark = spark_session(args.spark_memory)
        try:
            spark.read.parquet(str(directory)).limit(10).count()  # warm the Parquet reader
            for solver in args.spark_solvers:
                res = run_spark(spark, directory, args.p, alpha, solver, args.peer_budget)
                add(f"Spark MLlib solver={solver}", res["time"], [res["time"]], res["w"],
                    res["b"], iterations=res["iterations"], status=res["status"])
        finally:
            spark.stop()

    names = [name for name, (w, _) in answers.items() if w is not None]
    values = objectives(directory, args.p, [answers[name] for name in names], alpha)
    p_star = values[0]
    record["p_star"] = p_star
    for row in rows:
        if row["solver"] in names:
            value = values[names.index(row["solver"])]
            row["objective"] = value
            row["subopt"] = (value - p_star) / p_star
    # dask-ml's own problem penalizes |b| too: how far each of its answers is from that optimum.
    floor_row = next(row for row in rows if row["solver"].startswith("floor"))
    own_star = floor_row["objective"] + alpha * abs(answers[floor_row["solver"]][1])
    for row in rows:
        if row["solver"].startswith("dask-ml") and "objective" in row:
            own = row["objective"] + alpha * abs(answers[row["solver"]][1])
            row["subopt_own_problem"] = (own - own_star) / own_star
    shr = [row for row in rows[1:] if row["solver"].startswith("shrinkage")
           and row.get("subopt", 1) <= 1e-8]
    record["shrinkage_time_to_1e-8"] = min((row["time"] for row in shr), default=None)
    save()
    write_markdown(record, out.with_suffix(".md"))
    print(out.with_suffix(".md").read_text())


def write_markdown(record, path):
    note, args = record["machine"], record["args"]
    lines = [
        f"Date {note['date']}; {note['cpu']}, nproc={note['nproc']} (shared; load before "
        f"{note['load_before'][0]:.1f}); git {note['git']}; numpy {note['numpy']}, numba "
        f"{note['numba']}, dask {note['dask']}, distributed {note['distributed']}, dask-ml "
        f"{note['dask_ml']} (dask-glm {note['dask_glm']}), pyarrow {note['pyarrow']}, pyspark "
        f"{note['pyspark']} ({note['java']}).",
        "",
        f"Data: {record['directory']}, {record['bytes'] / 1e9:.2f} GB of Parquet (snappy), "
        f"n = {args['n']}, p = {args['p']}, float64, seed {args['seed']}; alpha = alpha_max/20 = "
        f"{record['alpha']:.6g}; P* = {record['p_star']:.15g} (shrinkage, tol 1e-14).",
        f"dask: LocalCluster, 2 workers x 1 thread, memory_limit {args['worker_memory']} each, "
        f"loopback, data streamed from Parquet in every fit. Spark: local[2], driver memory "
        f"{args['spark_memory']}. Peer budget {args['peer_budget']:.0f} s.",
        "",
        "| solver | wall time | relative suboptimality | on dask-ml's own problem | passes / iterations "
        "| answer |",
        "|---|---|---|---|---|---|",
    ]
    for row in record["rows"]:
        sub = row.get("subopt")
        sub = "-" if sub is None else ("0 (reference)" if row is record["rows"][0] else f"{sub:.1e}")
        count = (f"{row['passes']} passes" if "passes" in row else
                 f"{row['iterations']} iterations" if row.get("iterations") is not None else "-")
        own = f"{row['subopt_own_problem']:.1e}" if "subopt_own_problem" in row else ""
        lines.append(f"| {row['solver']} | {fmt_time(row['time'])} | {sub} | {own} | {count} | "
                     f"{row['status']} |")
    t8 = record.get("shrinkage_time_to_1e-8")
    lines += ["", f"shrinkage's time to relative suboptimality 1e-8: "
              f"{'-' if t8 is None else fmt_time(t8)}. \"On dask-ml's own problem\": "
              "(P + alpha |b| - F*) / F*, F* that problem's optimum (the floor row)."]
    path.write_text("\n".join(lines) + "\n")


def main_scaling(args):
    import dask.dataframe as dd

    from shrinkage import Lasso

    note = machine_note()
    rows = []
    record = {"machine": note, "args": vars(args), "rows": rows}
    out = RESULTS / "dask-scaling"
    cluster, client = start_cluster(args.worker_memory)
    try:
        # One alpha for every n (alpha_max / 20 of the smallest set): same problem, more rows.
        ensure_dataset(args.data_dir, max(args.scaling), args.p, args.seed, client)
        alpha = alpha_max_stream(ensure_dataset(args.data_dir, min(args.scaling), args.p,
                                                args.seed, client)[0], args.p) / 20
        for n in args.scaling:
            directory, size = ensure_dataset(args.data_dir, n, args.p, args.seed, client)
            X_fit, y_fit = load_frame(directory, args.p)
            frame = dd.read_parquet(str(directory))
            t_read, read_times, _ = timed(frame.sum().compute, args.repeats)
            lasso = Lasso(alpha=alpha, tol=args.scaling_tol)
            t_fit, fit_times, model = timed(partial(lasso.fit, X_fit, y_fit), args.repeats)
            row = {"n": n, "bytes": size, "alpha": alpha, "time": t_fit, "times": fit_times,
                   "read_pass": t_read, "read_times": read_times, "passes": model.n_passes_,
                   "dual_gap": model.dual_gap_, "per_row_us": 1e6 * t_fit / n}
            rows.append(row)
            print(f"n = {n:>9d}  {size / 1e9:5.2f} GB  fit {t_fit:7.2f} s ({fit_times})  "
                  f"{row['per_row_us']:.3f} us/row  read pass {t_read:6.2f} s  "
                  f"passes {model.n_passes_}", flush=True)
            out.with_suffix(".json").write_text(json.dumps(record, indent=1, default=float))
    finally:
        client.close()
        cluster.close()
    n = np.array([row["n"] for row in rows], dtype=float)
    t = np.array([row["time"] for row in rows])
    slope, intercept = np.polyfit(n, t, 1)
    record["fit"] = {"seconds_per_million_rows": slope * 1e6, "intercept_s": intercept}
    out.with_suffix(".json").write_text(json.dumps(record, indent=1, default=float))
    lines = [
        f"Date {note['date']}; {note['cpu']}, nproc={note['nproc']} (shared; load before "
        f"{note['load_before'][0]:.1f}); git {note['git']}; dask {note['dask']}, pyarrow "
        f"{note['pyarrow']}. 2 workers x 1 thread, memory_limit {args.worker_memory} each; "
        f"p = {args.p}, alpha = alpha_max/20 of the smallest n, tol {args.scaling_tol:g}; median of "
        f"{args.repeats}.",
        "",
        "| n | Parquet | shrinkage Lasso | per row | one read pass (sum of columns) | fit / read pass |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['n']:,} | {row['bytes'] / 1e9:.2f} GB | {row['time']:.2f} s | "
                     f"{row['per_row_us']:.2f} µs | {row['read_pass']:.2f} s | "
                     f"{row['time'] / row['read_pass']:.2f} |")
    lines += ["", f"Least-squares line: {slope * 1e6:.2f} s per million rows + {intercept:.2f} s."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())


def main_check_mappings(args):
    """Spark's regParam and dask-glm's lamduh against shrinkage's in-memory Lasso (small n)."""

    from shrinkage import Lasso

    n, p = 20_000, 20
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, p)) + 1.0
    w_true = np.zeros(p)
    w_true[:5] = [2, -1.5, 1, -0.5, 0.25]
    y = X @ w_true + rng.standard_normal(n) + 3.0
    Xc = X - X.mean(axis=0)
    alpha = float(np.max(np.abs(Xc.T @ (y - y.mean()))) / n) / 20

    def P(w, b):
        r = y - X @ w - b
        return 0.5 * float(r @ r) / n + alpha * float(np.abs(w).sum())

    ref = Lasso(alpha=alpha, tol=1e-14).fit(X, y)
    p_ref = P(ref.coef_, ref.intercept_)
    print(f"n = {n}, p = {p}, alpha = {alpha:.6g}; shrinkage P* = {p_ref:.15g}")
    import pandas as pd

    spark = spark_session("2g")
    try:
        frame = spark.createDataFrame(pd.DataFrame(np.column_stack([X, y]),
                                                   columns=[*_columns(p), "y"]))
        for solver in ("normal", "l-bfgs"):
            res = run_spark(spark, frame, p, alpha, solver, 600, tol=1e-12, max_iter=10_000)
            print(f"Spark {solver:7s} regParam = alpha: max |w - w*| = "
                  f"{np.max(np.abs(res['w'] - ref.coef_)):.2e}, |b - b*| = "
                  f"{abs(res['b'] - ref.intercept_):.2e}, (P - P*)/P* = "
                  f"{(P(res['w'], res['b']) - p_ref) / p_ref:.2e}")
    finally:
        spark.stop()
    # dask-glm's Normal family: loglike = ||y - X v||^2 (no 1/2), plus lamduh ||v||_1 over the
    # coefficients and dask-ml's appended intercept column, so lamduh = 2 n alpha gives 2 n P.
    from dask_glm.families import Normal
    from dask_glm.regularizers import L1

    X1 = np.column_stack([X, np.ones(n)])
    v = np.concatenate([ref.coef_, [ref.intercept_]])
    theirs = float(Normal.loglike(X1 @ v, y)) + 2 * n * alpha * float(L1().f(v))
    ours = 2 * n * (P(ref.coef_, ref.intercept_) + alpha * abs(ref.intercept_))
    print(f"dask-glm objective with lamduh = 2 n alpha / (2 n P with |b| penalized) - 1 = "
          f"{theirs / ours - 1:.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000_000)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="/tmp/shrinkage-dask-bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tols", type=lambda s: [float(v) for v in s.split(",")],
                        default=[1e-4, 1e-8])
    parser.add_argument("--worker-memory", default="1.5GiB")
    parser.add_argument("--spark-memory", default="6g")
    parser.add_argument("--peer-budget", type=float, default=1500.0,
                        help="seconds after which a peer is stopped")
    parser.add_argument("--dask-ml-solvers", type=lambda s: s.split(","),
                        default=["admm", "proximal_grad"])
    parser.add_argument("--spark-solvers", type=lambda s: s.split(","), default=["auto", "l-bfgs"])
    parser.add_argument("--no-dask-ml", action="store_true")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--scaling", type=lambda s: [int(float(v)) for v in s.split(",")],
                        default=None, help="comma-separated n: shrinkage's time vs n")
    parser.add_argument("--scaling-tol", type=float, default=1e-8)
    parser.add_argument("--check-mappings", action="store_true")
    parser.add_argument("--clean", action="store_true", help="delete --data-dir and exit")
    args = parser.parse_args()
    if args.clean:
        shutil.rmtree(args.data_dir, ignore_errors=True)
        print(f"deleted {args.data_dir}")
    elif args.check_mappings:
        main_check_mappings(args)
    elif args.scaling:
        main_scaling(args)
    else:
        main_compare(args)


if __name__ == "__main__":
    main()
