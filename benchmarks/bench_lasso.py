"""Benchmark shrinkage's Lasso against scikit-learn's, single-threaded, at equal quality.

Usage::

    python benchmarks/bench_lasso.py            # full run: 3 repeats per cell
    python benchmarks/bench_lasso.py --quick    # 1 repeat per cell, no scikit-learn reference
    python benchmarks/bench_lasso.py --scale 0.1 --quick   # smoke test on small problems

Problems (fixed seeds, float64, fit_intercept=True):

- ``dense``: 500 x 5000 Gaussian design with AR(1) feature correlation 0.5, 50 true nonzeros,
  signal-to-noise ratio 3 (std of ``X w`` over std of the noise).
- ``sparse``: 20000 x 50000 CSC, text-like: Zipf word frequencies, sublinear tf-idf, rows
  L2-normalised, ~0.1% nonzeros, 100 true nonzeros on words seen in >= 10 documents, SNR 2.

Each at ``alpha = alpha_max / 10`` and ``alpha_max / 100`` with
``alpha_max = ||Xc' yc||_inf / n`` (for sparse ``X`` the centring is implicit: ``Xc' yc = X' yc``
because ``yc`` sums to zero).

Tolerance settings, per solver in its own units (see :data:`SOLVERS`):

- ``default``: each solver's own default, ``tol=1e-4`` for both (note: scikit-learn stops when its
  gap ``<= tol ||yc||^2`` on the objective multiplied by n, shrinkage when
  ``gap <= tol ||yc||^2 / (2n)`` on the objective itself, so at the same number scikit-learn's
  target is 2x looser);
- ``tight``: the same certified target for both, duality gap ``<= 1e-8 ||yc||^2 / (2n)``:
  shrinkage ``tol=1e-8``, scikit-learn ``tol=5e-9``.

Quality is measured, not trusted: every objective ``P(w, b) = ||y - X w - b||^2 / (2n) +
alpha ||w||_1`` is recomputed by :func:`lasso_objective` from the returned ``coef_`` and
``intercept_``. The reference ``P_ref`` of a problem is the lowest objective seen: the
high-precision reference fits (shrinkage at ``tol=1e-12``; scikit-learn at the equivalent
``5e-13`` unless ``--quick``) and every timed fit. Its own duality gap, recomputed by
:func:`lasso_duality_gap`, certifies how far ``P_ref`` can be above the optimum.

Timing: median wall time of ``fit`` over the repeats (solvers interleaved within each repeat so
that machine noise hits both), after a warm-up fit on a tiny problem of the same layout and dtype
(which excludes numba compilation). The one-time costs are measured separately in fresh
subprocesses: import + first fit on the real problem, for shrinkage with a cold numba cache
(compilation) and with a warm one (cache load), and for scikit-learn.

Results are printed and written to ``benchmarks/results/`` (git-ignored) as JSON and markdown.
"""

# Single-threaded: these must be set before numpy (and its BLAS) or numba is imported.
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"

MAX_ITER = 1_000_000  # large enough that only the tolerance stops a solver
REF_REL_GAP = 1e-12  # reference fits: duality gap <= 1e-12 ||yc||^2 / (2n)
TIGHT_REL_GAP = 1e-8


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Problem:
    name: str
    X: object  # ndarray (Fortran order) or scipy.sparse.csc_matrix
    y: np.ndarray
    description: str

    @property
    def shape(self):
        return self.X.shape

    @property
    def density(self):
        return self.X.nnz / np.prod(self.X.shape) if sp.issparse(self.X) else 1.0


def make_dense(n=500, p=5000, n_nonzero=50, rho=0.5, snr=3.0, seed=0):
    """Gaussian design, AR(1) correlation ``rho^|i-j|`` between features, sparse truth."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p), order="F")
    X[:, 0] = Z[:, 0]
    c = np.sqrt(1.0 - rho**2)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + c * Z[:, j]
    w = np.zeros(p)
    support = rng.choice(p, size=n_nonzero, replace=False)
    w[support] = rng.choice([-1.0, 1.0], size=n_nonzero) * rng.uniform(0.5, 2.0, size=n_nonzero)
    signal = X @ w
    noise = rng.standard_normal(n) * signal.std() / snr
    y = signal + noise + 3.0
    desc = (f"Gaussian, AR(1) rho={rho}, {n_nonzero} true nonzeros, SNR {snr}, "
            f"seed {seed}")
    return Problem("dense", X, y, desc)


def make_sparse(n=20000, p=50000, density=1e-3, n_nonzero=100, snr=2.0, seed=1):
    """Text-like CSC design: Zipf word frequencies, sublinear tf-idf, L2-normalised rows."""
    rng = np.random.default_rng(seed)
    rank = rng.permutation(p)  # column order unrelated to frequency, like a sorted vocabulary
    popularity = 1.0 / (rank + 20.0)
    popularity /= popularity.sum()
    # draw a few more tokens than the target nonzeros: repeated (document, word) pairs merge
    n_tokens = int(1.024 * density * n * p)
    rows = rng.integers(0, n, size=n_tokens)
    cols = rng.choice(p, size=n_tokens, p=popularity)
    counts = sp.coo_matrix((np.ones(n_tokens), (rows, cols)), shape=(n, p)).tocsr()
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=p)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    X = counts.copy()
    X.data = (1.0 + np.log(X.data)) * idf[X.indices]
    row_norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    row_norms[row_norms == 0.0] = 1.0
    X = sp.csc_matrix(sp.diags(1.0 / row_norms) @ X)
    X.sort_indices()
    w = np.zeros(p)
    candidates = np.flatnonzero(df >= 10)
    support = rng.choice(candidates, size=n_nonzero, replace=False)
    w[support] = rng.standard_normal(n_nonzero) * 5.0
    signal = X @ w
    noise = rng.standard_normal(n) * signal.std() / snr
    y = signal + noise + 1.0
    desc = (f"text-like: Zipf word frequencies, sublinear tf-idf, L2-normalised rows, "
            f"{X.nnz} nonzeros ({X.nnz / (n * p):.3%}), {n_nonzero} true nonzeros, SNR {snr}, "
            f"seed {seed}")
    return Problem("sparse", X, y, desc)


def make_tiny_like(problem):
    """A small problem of the same layout and dtype, for the warm-up (compilation) fit."""
    rng = np.random.default_rng(123)
    if sp.issparse(problem.X):
        X = sp.random(60, 40, density=0.2, format="csc", random_state=123,
                      dtype=problem.X.dtype)
        X.sort_indices()
    else:
        X = np.asfortranarray(rng.standard_normal((60, 40)).astype(problem.X.dtype))
    y = rng.standard_normal(60)
    return X, y


def alpha_max(X, y, fit_intercept=True):
    """``||Xc' yc||_inf / n``: the smallest alpha with an all-zero lasso solution."""
    if not fit_intercept:
        return float(np.max(np.abs(X.T @ y))) / X.shape[0]
    yc = y - y.mean()
    if sp.issparse(X):
        corr = X.T @ yc  # the column means drop out: yc sums to zero
    else:
        corr = X.T @ yc - X.mean(axis=0) * yc.sum()
    return float(np.max(np.abs(corr))) / X.shape[0]


# --------------------------------------------------------------------------------------------
# Quality: one objective function for every solver, and an independent duality gap
# --------------------------------------------------------------------------------------------


def lasso_objective(X, y, alpha, coef, intercept):
    """``||y - X w - b||^2 / (2n) + alpha ||w||_1`` in float64."""
    coef = np.asarray(coef, dtype=np.float64)
    r = y - X @ coef - float(intercept)
    return 0.5 * float(r @ r) / X.shape[0] + alpha * float(np.abs(coef).sum())


def lasso_duality_gap(X, y, alpha, coef, fit_intercept=True):
    """Duality gap of ``coef`` (intercept profiled out): certifies ``P(w) - P* <= gap``."""
    n = X.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    yc = y - y.mean() if fit_intercept else y
    r = y - X @ coef
    if fit_intercept:
        r = r - r.mean()  # the residual of the centred problem, i.e. with the optimal intercept
    primal = 0.5 * float(r @ r) / n + alpha * float(np.abs(coef).sum())
    theta = r / n
    corr = X.T @ theta  # = Xc' theta because theta sums to zero (with an intercept)
    scale = min(1.0, alpha / max(float(np.max(np.abs(corr))), 1e-300))
    dual = scale * float(theta @ yc) - 0.5 * n * scale**2 * float(theta @ theta)
    return primal - dual


def null_objective(y, fit_intercept=True):
    """``||yc||^2 / (2n)``: the objective at ``w = 0`` with the optimal intercept."""
    yc = y - y.mean() if fit_intercept else y
    return 0.5 * float(yc @ yc) / y.shape[0]


# --------------------------------------------------------------------------------------------
# Solvers: one adapter per solver, all with the same signature
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Fit:
    coef: np.ndarray
    intercept: float
    n_iter: int
    reported_gap: float  # the solver's own number, for information only
    warnings: list


def fit_shrinkage(X, y, alpha, tol, max_iter, fit_intercept=True):
    """shrinkage.Lasso; ``tol`` in shrinkage's units."""
    import shrinkage

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = shrinkage.Lasso(alpha=alpha, tol=tol, max_iter=max_iter,
                                fit_intercept=fit_intercept).fit(X, y)
    return Fit(model.coef_, float(model.intercept_), int(model.n_iter_), float(model.dual_gap_),
               [str(w.message)[:200] for w in caught])


def fit_sklearn(X, y, alpha, tol, max_iter, fit_intercept=True):
    """sklearn.linear_model.Lasso (cyclic selection, its gap-safe screening on); sklearn units."""
    from sklearn.linear_model import Lasso

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Lasso(alpha=alpha, tol=tol, max_iter=max_iter,
                      fit_intercept=fit_intercept).fit(X, y)
    return Fit(model.coef_, float(model.intercept_), int(model.n_iter_), float(model.dual_gap_),
               [str(w.message)[:200] for w in caught])


@dataclasses.dataclass
class Solver:
    fit: Callable  # fit(X, y, alpha, tol, max_iter, fit_intercept=True) -> Fit
    default_tol: float
    # native tol for "duality gap <= rel_gap * ||yc||^2 / (2n)" on the objective P
    tol_for_rel_gap: Callable
    # code run in a fresh interpreter for the first-fit measurement; X, y, alpha, tol defined
    first_fit_code: str
    version: Callable


SOLVERS = {
    "shrinkage": Solver(
        fit=fit_shrinkage,
        default_tol=1e-4,
        tol_for_rel_gap=lambda rel_gap: rel_gap,
        first_fit_code=("import shrinkage\n"
                        "T_IMPORT = time.perf_counter()\n"
                        "shrinkage.Lasso(alpha=alpha, tol=tol, max_iter=MAX_ITER,\n"
                        "                fit_intercept=FIT_INTERCEPT).fit(X, y)\n"),
        version=lambda: __import__("shrinkage").__version__,
    ),
    # scikit-learn's gap is on n * P and its target tol * ||yc||^2, i.e. 2 tol ||yc||^2 / (2n)
    "sklearn": Solver(
        fit=fit_sklearn,
        default_tol=1e-4,
        tol_for_rel_gap=lambda rel_gap: rel_gap / 2.0,
        first_fit_code=("from sklearn.linear_model import Lasso\n"
                        "T_IMPORT = time.perf_counter()\n"
                        "Lasso(alpha=alpha, tol=tol, max_iter=MAX_ITER,\n"
                        "      fit_intercept=FIT_INTERCEPT).fit(X, y)\n"),
        version=lambda: __import__("sklearn").__version__,
    ),
}

SETTINGS = {
    "default": lambda solver: solver.default_tol,
    "tight": lambda solver: solver.tol_for_rel_gap(TIGHT_REL_GAP),
}


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def timed_fit(solver, X, y, alpha, tol, fit_intercept=True):
    gc.collect()
    start = time.perf_counter()
    fit = SOLVERS[solver].fit(X, y, alpha, tol, MAX_ITER, fit_intercept)
    return time.perf_counter() - start, fit


FIRST_FIT_TEMPLATE = """
import os, sys, time
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"
import numpy as np, scipy.sparse as sp
data = np.load(sys.argv[1])
if "data" in data:
    X = sp.csc_matrix((data["data"], data["indices"], data["indptr"]), shape=data["shape"])
else:
    X = np.asfortranarray(data["X"])
y = data["y"]
alpha, tol, MAX_ITER = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
FIT_INTERCEPT = sys.argv[5] == "1"
T0 = time.perf_counter()
{code}
T1 = time.perf_counter()
print("RESULT", T_IMPORT - T0, T1 - T_IMPORT)
"""


def first_fit_subprocess(solver, data_path, alpha, tol, fit_intercept, cache_dir=None):
    """Import + first fit in a fresh interpreter; returns (import_s, first_fit_s)."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    code = FIRST_FIT_TEMPLATE.format(code=SOLVERS[solver].first_fit_code)
    out = subprocess.run(
        [sys.executable, "-c", code, str(data_path), repr(alpha), repr(tol), str(MAX_ITER),
         str(int(fit_intercept))],
        env=env, capture_output=True, text=True, check=True,
    )
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1]
    _, t_import, t_fit = line.split()
    return float(t_import), float(t_fit)


def save_problem(problem, path):
    X = problem.X
    if sp.issparse(X):
        np.savez(path, data=X.data, indices=X.indices, indptr=X.indptr,
                 shape=np.array(X.shape), y=problem.y)
    else:
        np.savez(path, X=X, y=problem.y)


def first_fit_times(problem, alpha, tmpdir, fit_intercept=True):
    """One-time costs at alpha_max/10 and the default tolerance, in fresh subprocesses."""
    data_path = Path(tmpdir) / f"{problem.name}.npz"
    save_problem(problem, data_path)
    rows = []
    for solver in SOLVERS:
        tol = SOLVERS[solver].default_tol
        if solver == "shrinkage":
            cold = Path(tmpdir) / f"numba-cache-{problem.name}"
            cold.mkdir()
            t_imp, t_fit = first_fit_subprocess(solver, data_path, alpha, tol, fit_intercept,
                                                cache_dir=cold)
            rows.append(dict(solver=solver, variant="cold numba cache (compiles)",
                             import_s=t_imp, first_fit_s=t_fit))
            # same (now populated) cache directory: what every later process pays
            t_imp, t_fit = first_fit_subprocess(solver, data_path, alpha, tol, fit_intercept,
                                                cache_dir=cold)
            rows.append(dict(solver=solver, variant="warm numba cache (loads)",
                             import_s=t_imp, first_fit_s=t_fit))
        else:
            t_imp, t_fit = first_fit_subprocess(solver, data_path, alpha, tol, fit_intercept)
            rows.append(dict(solver=solver, variant="fresh process", import_s=t_imp,
                             first_fit_s=t_fit))
    return rows


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def source_fingerprint():
    """Hash of the shrinkage sources benchmarked (another engineer may be editing them)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "shrinkage").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def git_describe():
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def environment():
    import numba
    import scipy
    import sklearn

    return {
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "nproc": os.cpu_count(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "scikit-learn": sklearn.__version__,
        "shrinkage": SOLVERS["shrinkage"].version(),
        "git": git_describe(),
        "shrinkage_source_sha256": source_fingerprint(),
        "threads": {v: os.environ[v] for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")},
    }


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def log(msg):
    print(msg, flush=True)


def run_problem(problem, args, tmpdir):
    fi = args.fit_intercept
    X, y = problem.X, problem.y
    if not fi:
        y = y - y.mean()  # without an intercept, fit the centred response (X stays as is)
    amax = alpha_max(X, y, fi)
    null = null_objective(y, fi)
    log(f"\n== {problem.name}: {X.shape[0]} x {X.shape[1]}, {problem.description}")
    log(f"   fit_intercept={fi}, alpha_max = {amax:.6g}, null objective = {null:.6g}")

    # warm-up: compile shrinkage's kernels for this layout/dtype, load scikit-learn's modules
    Xt, yt = make_tiny_like(problem)
    for solver in SOLVERS:
        for tol_of in SETTINGS.values():
            SOLVERS[solver].fit(Xt, yt, 0.1 * alpha_max(Xt, yt, fi), tol_of(SOLVERS[solver]),
                                1000, fi)

    def measure(fit):
        return dict(objective=lasso_objective(X, y, alpha, fit.coef, fit.intercept),
                    gap=lasso_duality_gap(X, y, alpha, fit.coef, fi),
                    reported_gap=fit.reported_gap, nnz=int(np.count_nonzero(fit.coef)),
                    n_iter=fit.n_iter, warnings=fit.warnings)

    cells = []
    for ratio in args.alpha_ratios:
        alpha = amax / ratio
        log(f"-- alpha = alpha_max/{ratio:g} = {alpha:.6g}")
        # high-precision reference fits, timed once (for information)
        refs = []
        ref_solvers = ["shrinkage"] if args.quick else list(SOLVERS)
        for solver in ref_solvers:
            tol = SOLVERS[solver].tol_for_rel_gap(REF_REL_GAP)
            t, fit = timed_fit(solver, X, y, alpha, tol, fi)
            refs.append(dict(solver=solver, label=f"{solver} reference", tol=tol, time_s=t,
                             **measure(fit)))
            r = refs[-1]
            log(f"   reference {solver:9s} tol={tol:.0e}: {t:8.2f} s  P={r['objective']:.15g}  "
                f"gap={r['gap']:.2e}  nnz={r['nnz']}  n_iter={r['n_iter']}"
                + (f"  WARN {fit.warnings[0][:80]}" if fit.warnings else ""))

        these = []
        for setting, tol_of in SETTINGS.items():
            runs = {s: dict(times=[], fits=[]) for s in SOLVERS}
            skipped = {s: False for s in SOLVERS}
            for rep in range(args.repeats):
                order = list(SOLVERS) if rep % 2 == 0 else list(SOLVERS)[::-1]
                for solver in order:
                    if skipped[solver]:
                        continue
                    t, fit = timed_fit(solver, X, y, alpha, tol_of(SOLVERS[solver]), fi)
                    runs[solver]["times"].append(t)
                    runs[solver]["fits"].append(fit)
                    # a slow cell gets fewer repeats: stop once the next one would overrun
                    if (rep + 1 < args.repeats
                            and sum(runs[solver]["times"]) + t > args.max_cell_seconds):
                        skipped[solver] = True
                        log(f"   [{solver} {setting}: {t:.0f} s per fit, stopping after "
                            f"{rep + 1} of {args.repeats} repeats (--max-cell-seconds "
                            f"{args.max_cell_seconds:g})]")
            for solver in SOLVERS:
                fit = runs[solver]["fits"][-1]  # deterministic solvers: every repeat is the same
                c = dict(problem=problem.name, fit_intercept=fi, alpha_ratio=ratio, alpha=alpha,
                         setting=setting, solver=solver, label=f"{solver} {setting}",
                         tol=tol_of(SOLVERS[solver]), times_s=runs[solver]["times"],
                         time_s=statistics.median(runs[solver]["times"]),
                         repeats=len(runs[solver]["times"]), requested=args.repeats,
                         **measure(fit))
                these.append(c)
                log(f"   {setting:7s} {solver:9s} tol={c['tol']:.0e}: median {c['time_s']:8.3f} s "
                    f"of {c['repeats']}  P={c['objective']:.15g}  nnz={c['nnz']}  "
                    f"n_iter={c['n_iter']}"
                    + (f"  WARN {fit.warnings[0][:80]}" if fit.warnings else ""))

        # P_ref: the lowest objective seen for this (problem, alpha). Every fit's dual point is
        # a lower bound P_i - gap_i on the optimum; the best of them certifies P_ref.
        everything = [*refs, *these]
        best = min(everything, key=lambda d: d["objective"])
        p_ref = best["objective"]
        lower = max(d["objective"] - d["gap"] for d in everything)
        for c in these:
            c["p_ref"] = p_ref
            c["rel_subopt"] = (c["objective"] - p_ref) / p_ref
            c["ref_from"] = best["label"]
            c["ref_certified"] = (p_ref - lower) / p_ref
            c["references"] = refs
        cells += these
        log(f"   P_ref = {p_ref:.15g} (from {best['label']}); certified: "
            f"(P_ref - best dual bound) / P_ref = {(p_ref - lower) / p_ref:.1e}")

    first_fit = []
    if not args.no_first_fit:
        first_fit = first_fit_times(Problem(problem.name, X, y, problem.description),
                                    amax / args.alpha_ratios[0], tmpdir, fi)
        for row in first_fit:
            log(f"   first fit {row['solver']:9s} {row['variant']:28s}: import "
                f"{row['import_s']:.2f} s + first fit {row['first_fit_s']:.2f} s")
    info = dict(name=problem.name, shape=list(X.shape), nnz=int(X.nnz) if sp.issparse(X) else None,
                density=problem.density, description=problem.description, fit_intercept=fi,
                alpha_max=amax, null_objective=null)
    return info, cells, first_fit


def format_tables(env, problems, cells, first_fit, command):
    """Markdown: one row per (problem, alpha, setting), both solvers side by side."""
    fi = problems[0]["fit_intercept"] if problems else True
    lines = [
        f"Date {env['date']}; {env['processor']}, nproc={env['nproc']}, single-threaded; "
        f"Python {env['python']}, numpy {env['numpy']}, scipy {env['scipy']}, "
        f"numba {env['numba']}, scikit-learn {env['scikit-learn']}, shrinkage "
        f"{env['shrinkage']} (git {env['git']}, sources {env['shrinkage_source_sha256']}).",
        "",
        f"Command: `{command}` (fit_intercept={fi})",
        "",
        "| problem | alpha | tol setting | shrinkage tol | shrinkage time [s] | shrinkage "
        "subopt | sklearn tol | sklearn time [s] | sklearn subopt | time sklearn / "
        "time shrinkage |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    keys = list(dict.fromkeys((c["problem"], c["alpha_ratio"], c["setting"]) for c in cells))
    for key in keys:
        by = {c["solver"]: c for c in cells
              if (c["problem"], c["alpha_ratio"], c["setting"]) == key}
        s, k = by["shrinkage"], by["sklearn"]
        lines.append(
            f"| {key[0]} | max/{key[1]:g} | {key[2]} | {s['tol']:.0e} | {_fmt_time(s)} | "
            f"{s['rel_subopt']:.1e} | {k['tol']:.0e} | {_fmt_time(k)} | "
            f"{k['rel_subopt']:.1e} | {k['time_s'] / s['time_s']:.2f} |"
        )
    lines += [
        "",
        "Times: median wall time of `fit` over the repeats, after a warm-up fit; a cell timed "
        "fewer times than requested says so in brackets. subopt: (P(w) - P_ref) / P_ref with "
        "P recomputed from coef_ and intercept_; P_ref is the lowest objective seen; "
        "subopt below the certificate of P_ref (next table) is not resolved.",
        "",
        "| problem | alpha | P_ref | from | certified (P_ref - max dual) / P_ref | nnz |",
        "|---|---|---|---|---|---|",
    ]
    firsts = {}
    for c in cells:
        firsts.setdefault((c["problem"], c["alpha_ratio"]), c)
    for (name, ratio), c in firsts.items():
        nnz = next(d["nnz"] for d in [*c["references"], *cells]
                   if d["label"] == c["ref_from"] and d.get("problem", name) == name
                   and d.get("alpha_ratio", ratio) == ratio)
        lines.append(f"| {name} | max/{ratio:g} | {c['p_ref']:.12g} | {c['ref_from']} | "
                     f"{c['ref_certified']:.1e} | {nnz} |")
    lines += ["", "Reference fits (relative gap 1e-12 in shrinkage's units, timed once):", "",
              "| problem | alpha | solver | tol | time [s] | P | gap / P | nnz | n_iter |",
              "|---|---|---|---|---|---|---|---|---|"]
    for (name, ratio), c in firsts.items():
        for r in c["references"]:
            lines.append(f"| {name} | max/{ratio:g} | {r['solver']} | {r['tol']:.0e} | "
                         f"{r['time_s']:.2f} | {r['objective']:.12g} | "
                         f"{r['gap'] / r['objective']:.1e} | {r['nnz']} | {r['n_iter']} |")
    lines += ["", "Per solver details (all repeat times, nonzeros, iterations, duality gap "
              "recomputed by the benchmark):", "",
              "| problem | alpha | setting | solver | times [s] | nnz | n_iter | gap / P_ref | "
              "warnings |",
              "|---|---|---|---|---|---|---|---|---|"]
    for c in cells:
        times = ", ".join(f"{t:.3f}" for t in c["times_s"])
        warn = "; ".join(w[:60] for w in c["warnings"]) or "-"
        lines.append(f"| {c['problem']} | max/{c['alpha_ratio']:g} | {c['setting']} | "
                     f"{c['solver']} | {times} | {c['nnz']} | {c['n_iter']} | "
                     f"{c['gap'] / c['p_ref']:.1e} | {warn} |")
    if first_fit:
        lines += ["", "One-time cost in a fresh subprocess (numpy and scipy imported before "
                  "the clock starts), at the first alpha and the default tol:", "",
                  "| problem | solver | variant | import [s] | first fit [s] | steady-state "
                  "median fit [s] |", "|---|---|---|---|---|---|"]
        for row in first_fit:
            steady = next((c["time_s"] for c in cells
                           if c["problem"] == row["problem"] and c["solver"] == row["solver"]
                           and c["setting"] == "default"), float("nan"))
            lines.append(f"| {row['problem']} | {row['solver']} | {row['variant']} | "
                         f"{row['import_s']:.2f} | {row['first_fit_s']:.2f} | {steady:.3f} |")
    lines += ["", "Problems:", ""]
    for p in problems:
        lines.append(f"- {p['name']}: {p['shape'][0]} x {p['shape'][1]}, {p['description']}; "
                     f"alpha_max = {p['alpha_max']:.6g}, null objective "
                     f"{p['null_objective']:.6g}")
    return "\n".join(lines) + "\n"


def _fmt_time(c):
    suffix = f" ({c['repeats']} of {c['requested']})" if c["repeats"] != c["requested"] else ""
    return f"{c['time_s']:.3f}{suffix}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 repeat per cell and only shrinkage as the reference solver")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed repeats per cell (default 3, 1 with --quick)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply both problem dimensions (smoke tests: 0.1)")
    parser.add_argument("--problems", nargs="+", default=["dense", "sparse"],
                        choices=["dense", "sparse"])
    parser.add_argument("--alpha-ratios", nargs="+", type=float, default=[10.0, 100.0],
                        help="alpha = alpha_max / ratio")
    parser.add_argument("--no-intercept", dest="fit_intercept", action="store_false",
                        help="supplementary: fit_intercept=False on the centred response")
    parser.add_argument("--max-cell-seconds", type=float, default=600.0,
                        help="fewer repeats for a solver whose fits in one cell would exceed "
                             "this in total")
    parser.add_argument("--no-first-fit", action="store_true",
                        help="skip the fresh-subprocess first-fit measurements")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help="directory for the .json and .md results (git-ignored)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3

    argv_used = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python benchmarks/bench_lasso.py", *argv_used])
    env = environment()
    log(json.dumps(env, indent=1))
    fingerprint = env["shrinkage_source_sha256"]

    makers = {
        "dense": lambda: make_dense(n=int(500 * args.scale), p=int(5000 * args.scale)),
        "sparse": lambda: make_sparse(n=int(20000 * args.scale), p=int(50000 * args.scale)),
    }
    problems, cells, first_fit = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-lasso-") as tmpdir:
        for name in args.problems:
            info, these_cells, these_first = run_problem(makers[name](), args, tmpdir)
            for row in these_first:
                row["problem"] = name
            problems.append(info)
            cells += these_cells
            first_fit += these_first

    if source_fingerprint() != fingerprint:
        log("WARNING: the shrinkage sources changed during the run; timings may include "
            "recompilation and mix two versions of the code")
        env["sources_changed_during_run"] = True

    table = format_tables(env, problems, cells, first_fit, command)
    log("\n" + table)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "lasso" if args.fit_intercept else "lasso-nointercept"
    (args.out / f"{stem}.md").write_text(table)
    payload = dict(environment=env, command=command, problems=problems, cells=cells,
                   first_fit=first_fit)
    (args.out / f"{stem}.json").write_text(json.dumps(payload, indent=1, default=float))
    log(f"wrote {args.out / (stem + '.md')} and {args.out / (stem + '.json')}")


if __name__ == "__main__":
    main()
