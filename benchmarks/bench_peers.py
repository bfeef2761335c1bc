"""Lasso against the fastest peers: shrinkage, scikit-learn, skglm, celer and R's glmnet.

Usage (from the repository root; the Python peers come with ``pip install -e ".[bench]"``, R's
glmnet from the OS, e.g. ``apt-get install r-base-core r-cran-glmnet``)::

    python benchmarks/bench_peers.py                       # everything (~25 min on 2 cores)
    python benchmarks/bench_peers.py --quick               # 1 repeat, 30-alpha paths
    python benchmarks/bench_peers.py --problems diabetes-poly3 leukemia --cells max/10
    python benchmarks/bench_peers.py --quick --scale 0.1 --no-cold-start   # smoke test
    python benchmarks/bench_peers.py --cold-start-only     # import + first fit, fresh processes

What is measured: the **time to reach a relative suboptimality of 1e-6**, for every solver,
single-threaded, on the scikit-learn / glmnet lasso ``P(w, b) = ||y - X w - b||^2 / (2n) +
alpha ||w||_1`` with an unpenalized intercept.

- The reference ``P_ref`` of a cell is shrinkage's fit at ``tol=1e-12`` (relative duality gap),
  certified by its own duality gap recomputed here (:func:`bench_lasso.lasso_duality_gap`); at the
  end, the lowest objective seen from any solver is compared with it and reported.
- Every solver's objective is recomputed by one function (:func:`objectives`, i.e.
  :func:`bench_lasso.lasso_objective` per alpha) from the returned coefficients and intercepts;
  no solver's own number is used.
- Each solver walks a ladder of its own tolerance settings (decades, in its own units), starting
  at its default and moving looser while the target is still reached, tighter while it is not;
  the fastest setting that reaches ``(P - P_ref) / P_ref <= 1e-6`` (at every alpha of a path) is
  timed again, and its median over 3 runs is reported (fewer for slow runs, more for runs under
  0.05 s; the table says how many). "not reached" when no setting on the ladder (or within the
  per-cell time budget) gets there.
- Cells: ``alpha_max/10``, ``alpha_max/100`` and a 100-alpha path from ``alpha_max`` down to
  ``alpha_max/1000`` (log grid, the same for every solver: glmnet receives it as ``lambda``).
- Times are wall times of the solver's own entry point (``fit`` or its path function, with the
  centring a path function needs done by the adapter inside the timed region); glmnet's is
  measured inside R around the ``glmnet()`` call only. Numba compilation (shrinkage, skglm) is
  excluded by a warm-up on a tiny problem of the same layout, and reported on its own line.
- Cold start: fresh interpreters, import + first fit of a 100 x 50 lasso.

Results are printed and written to ``benchmarks/results/peers.{md,json}`` (git-ignored).
"""

# Single-threaded: these must be set before numpy (and its BLAS), numba or R are started.
import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS")
for _var in THREAD_VARS:
    os.environ[_var] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lasso import (  # noqa: E402
    RESULTS_DIR,
    Problem,
    _cpu_model,
    alpha_max,
    environment,
    lasso_duality_gap,
    lasso_objective,
    log,
    make_dense,
    make_sparse,
    null_objective,
)

HERE = Path(__file__).resolve().parent
GLMNET_SCRIPT = HERE / "glmnet_fit.R"

TARGET = 1e-6  # relative suboptimality to reach
REF_TOL = 1e-12  # shrinkage's relative gap for the single-alpha reference fits
REF_TOL_PATH = 1e-10  # and for the reference paths (1e-12 there costs minutes, gains nothing)
MAX_ITER = 1_000_000  # only the tolerance stops a solver
LADDER = [10.0**-k for k in range(1, 15)]  # 1e-1 ... 1e-14, each solver in its own units


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


def make_wide(scale=1.0):
    """p >> n: 500 x 20000 Gaussian, Toeplitz correlation 0.6^|i-j| (AR(1) columns)."""
    pb = make_dense(n=max(int(500 * scale), 20), p=max(int(20000 * scale), 50), n_nonzero=50,
                    rho=0.6, snr=3.0, seed=0)
    return dataclasses.replace(pb, name="dense-wide")


def make_leukemia_like(scale=1.0, seed=2):
    """Synthetic stand-in with the leukemia data set's shape (72 x 7129) and ±1 labels as y.

    The real set (Golub et al.) is not available offline here. Expression-like design: 8 latent
    factors shared by all genes (strong, uneven correlations), 150 genes shifted by the class,
    columns standardised; y is the class label (47 ALL = +1, 25 AML = -1), as celer and skglm use
    the libsvm copy of leukemia for regression.
    """
    n, p = max(int(72 * scale), 20), max(int(7129 * scale), 50)
    rng = np.random.default_rng(seed)
    n_pos = round(n * 47 / 72)
    labels = np.r_[np.ones(n_pos), -np.ones(n - n_pos)]
    rng.shuffle(labels)
    factors = rng.standard_normal((n, 8))
    loadings = rng.standard_normal((8, p)) * rng.uniform(0.0, 1.5, size=p)
    X = factors @ loadings + rng.standard_normal((n, p))
    informative = rng.choice(p, size=min(150, p // 2), replace=False)
    X[:, informative] += labels[:, None] * rng.uniform(0.3, 1.5, size=informative.size)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    desc = ("SYNTHETIC leukemia-shaped (real data not available offline): 8 latent factors, "
            f"{informative.size} class-shifted columns, standardised; y = ±1 labels "
            f"({n_pos} / {n - n_pos}), seed {seed}")
    return Problem("leukemia", np.asfortranarray(X), labels, desc)


def make_tall(scale=1.0):
    """n >> p: 200000 x 100 Gaussian, Toeplitz correlation 0.6^|i-j|."""
    pb = make_dense(n=max(int(200000 * scale), 200), p=100, n_nonzero=10, rho=0.6, snr=3.0,
                    seed=3)
    return dataclasses.replace(pb, name="dense-tall")


def make_text(scale=1.0):
    """20000 x 50000 CSC at 0.15% density, bench_lasso's text-like generator."""
    pb = make_sparse(n=max(int(20000 * scale), 100), p=max(int(50000 * scale), 200),
                     density=1.5e-3, seed=1)
    return dataclasses.replace(pb, name="sparse-text")


def make_diabetes_poly3(scale=1.0):
    """scikit-learn's diabetes (442 x 10) expanded to degree-3 monomials (285), standardised."""
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    X0, y = load_diabetes(return_X_y=True)
    X = PolynomialFeatures(3, include_bias=False).fit_transform(X0)
    X = StandardScaler().fit_transform(X)
    desc = ("scikit-learn's diabetes (embedded), PolynomialFeatures(3, include_bias=False), "
            "StandardScaler; y the raw target (sex is binary, so sex^2 and sex^3 duplicate sex "
            "up to sign and scale: exactly collinear columns)")
    return Problem("diabetes-poly3", np.asfortranarray(X), y.astype(np.float64), desc)


PROBLEMS = {
    "dense-wide": make_wide,
    "leukemia": make_leukemia_like,
    "dense-tall": make_tall,
    "sparse-text": make_text,
    "diabetes-poly3": make_diabetes_poly3,
}
CELLS = ["max/10", "max/100", "path"]


def imported_shrinkage():
    """Where the imported shrinkage lives and a hash of its sources (the working tree may be
    edited while this runs; a snapshot can be benchmarked with PYTHONPATH=<snapshot>/src)."""
    import hashlib

    import shrinkage

    pkg = Path(shrinkage.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(pkg.rglob("*.py")):
        digest.update(path.relative_to(pkg.parent).as_posix().encode())
        digest.update(path.read_bytes())
    return str(pkg), digest.hexdigest()[:12]


def cell_alphas(amax, cell, n_path):
    if cell == "path":
        return np.geomspace(amax, amax / 1000.0, n_path)
    return np.array([amax / float(cell.split("/")[1])])


def tiny_like(X, seed=123):
    """A small problem of the same layout and dtype, for warm-ups."""
    rng = np.random.default_rng(seed)
    if sp.issparse(X):
        Xt = sp.random(60, 40, density=0.2, format="csc", random_state=seed, dtype=X.dtype)
        Xt.sort_indices()
    else:
        Xt = np.asfortranarray(rng.standard_normal((60, 40)).astype(X.dtype))
    return Xt, rng.standard_normal(60)


# --------------------------------------------------------------------------------------------
# Quality: one objective function for everybody
# --------------------------------------------------------------------------------------------


def objectives(X, y, alphas, coefs, intercepts):
    """``P(w_k, b_k)`` at every alpha, recomputed from the returned coefficients (inf if NaN)."""
    out = np.empty(len(alphas))
    for k, alpha in enumerate(alphas):
        c = coefs[:, k]
        if not (np.all(np.isfinite(c)) and np.isfinite(intercepts[k])):
            out[k] = np.inf
        else:
            out[k] = lasso_objective(X, y, alpha, c, intercepts[k])
    return out


def dual_bounds(X, y, alphas, coefs):
    """Lower bounds on the optimum at every alpha: P - gap (intercept profiled out)."""
    out = np.empty(len(alphas))
    for k, alpha in enumerate(alphas):
        c = coefs[:, k]
        r = y - X @ c
        r = r - r.mean()
        primal = 0.5 * float(r @ r) / X.shape[0] + alpha * float(np.abs(c).sum())
        out[k] = primal - lasso_duality_gap(X, y, alpha, c, True)
    return out


# --------------------------------------------------------------------------------------------
# Solvers: one adapter each, all with run(X, y, alphas, tol, repeats) -> Run
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    coefs: np.ndarray  # (n_features, n_alphas)
    intercepts: np.ndarray  # (n_alphas,)
    times: list  # seconds, one per repeat
    n_iter: float  # the solver's own count (passes, epochs, subproblems), summed over a path
    warnings: list


class Adapter:
    name = "?"
    units = "?"
    default_tol = 1e-4

    def unavailable(self):
        """None when usable, else the reason it is skipped."""
        return None

    def version(self):
        return "?"

    def run(self, X, y, alphas, tol, repeats=1):
        times, out = [], None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(repeats):
                gc.collect()
                start = time.perf_counter()
                out = self._fit(X, y, np.asarray(alphas, dtype=np.float64), tol)
                times.append(time.perf_counter() - start)
        coefs, intercepts, n_iter = out
        msgs = list(dict.fromkeys(f"{w.category.__name__}: {str(w.message)[:150]}"
                                  for w in caught))
        return Run(np.asarray(coefs, dtype=np.float64), np.asarray(intercepts, dtype=np.float64),
                   times, float(n_iter), msgs)

    def warm_up(self, X, y):
        """Compile / load before timing; returns the first (tiny) call's time.

        Then the same on a slice of the real problem (same dtype, layout and shape regime, e.g.
        n >= 10 p for the tall one), so that no code path is compiled inside a timed run: the
        timed runs happen in forked children, which would pay any compilation again each time.
        """
        Xt, yt = tiny_like(X)
        amax = alpha_max(Xt, yt)
        t0 = time.perf_counter()
        self.run(Xt, yt, [amax / 10], 1e-4)
        first = time.perf_counter() - t0
        n, p = X.shape
        rows, cols = min(n, 2000), min(p, 2000)
        Xs, ys = X[:rows][:, :cols], y[:rows]
        if sp.issparse(Xs):
            Xs = sp.csc_matrix(Xs)
            Xs.sort_indices()
        else:
            Xs = np.asfortranarray(Xs)
        for Xw, yw in ((Xt, yt), (Xs, ys)):
            amax = alpha_max(Xw, yw)
            for tol in (1e-2, 1e-6):
                self.run(Xw, yw, [amax / 10], tol)
                self.run(Xw, yw, np.geomspace(amax, amax / 1000, 8), tol)
        return first


class ShrinkageAdapter(Adapter):
    name = "shrinkage"
    # single fits; on paths each alpha's gap <= tol P_alpha(warm start) (solvers.cd's path rule)
    units = "relative duality gap: gap <= tol ||yc||^2/(2n)"

    def version(self):
        import shrinkage

        return shrinkage.__version__

    def _fit(self, X, y, alphas, tol):
        import shrinkage

        if alphas.size == 1:
            m = shrinkage.Lasso(alpha=alphas[0], tol=tol, max_iter=MAX_ITER,
                                fit_intercept=True).fit(X, y)
            return m.coef_[:, None], [m.intercept_], m.n_iter_
        path = shrinkage.lasso_path(X, y, alphas=alphas, tol=tol, max_iter=MAX_ITER)
        return path.coefs, path.intercepts, np.sum(path.n_iters)


def _centre_dense(X, y):
    """Centred copies (what an estimator's preprocessing does before a path function)."""
    x_mean = X.mean(axis=0)
    Xc = np.asfortranarray(X - x_mean)
    return Xc, y - y.mean(), x_mean


class SklearnAdapter(Adapter):
    name = "sklearn"
    units = "gap on n*P <= tol ||yc||^2 (= relative gap 2 tol)"

    def version(self):
        import sklearn

        return sklearn.__version__

    def _fit(self, X, y, alphas, tol):
        from sklearn.linear_model import Lasso, lasso_path

        # Gram matrix when n > p: what scikit-learn's lasso_path does by default ('auto');
        # Lasso itself defaults to precompute=False, which is far slower on the tall problem.
        gram = (not sp.issparse(X)) and X.shape[0] > X.shape[1]
        if alphas.size == 1:
            m = Lasso(alpha=alphas[0], tol=tol, max_iter=MAX_ITER, precompute=gram,
                      fit_intercept=True).fit(X, y)
            return m.coef_[:, None], [m.intercept_], m.n_iter_
        ybar = y.mean()
        if sp.issparse(X):  # implicit centring, as LassoCV does
            x_mean = np.asarray(X.mean(axis=0)).ravel()
            _, coefs, _, n_iters = lasso_path(
                X, y - ybar, alphas=alphas, tol=tol, max_iter=MAX_ITER, copy_X=False,
                return_n_iter=True, X_offset=x_mean, X_scale=np.ones_like(x_mean))
        else:
            Xc, yc, x_mean = _centre_dense(X, y)
            _, coefs, _, n_iters = lasso_path(Xc, yc, alphas=alphas, tol=tol,
                                              max_iter=MAX_ITER, copy_X=False,
                                              precompute="auto", return_n_iter=True)
        return coefs, ybar - x_mean @ coefs, np.sum(n_iters)


class SkglmAdapter(Adapter):
    name = "skglm"
    units = "max KKT violation (distance of the gradient to the subdifferential), absolute"

    def unavailable(self):
        try:
            import skglm  # noqa: F401
        except ImportError as exc:
            return f"import skglm failed ({exc}); pip install -e '.[bench]'"
        return None

    def version(self):
        import skglm

        return skglm.__version__

    def _fit(self, X, y, alphas, tol):
        from skglm import Lasso

        model = Lasso(alpha=alphas[0], tol=tol, max_iter=10_000, max_epochs=MAX_ITER,
                      fit_intercept=True)
        if alphas.size == 1:
            model.fit(X, y)
            return model.coef_[:, None], [model.intercept_], model.n_iter_
        # AndersonCD.path with the intercept as an extra, unpenalized coordinate (last row)
        _, coefs, _, n_iters = model.path(X, y, alphas)
        return coefs[:-1], coefs[-1], np.sum(n_iters)


class CelerAdapter(Adapter):
    name = "celer"
    units = "duality gap <= tol ||yc||^2/n (= relative gap 2 tol)"

    def unavailable(self):
        try:
            import celer  # noqa: F401
        except ImportError as exc:
            return f"import celer failed ({exc}); pip install -e '.[bench]'"
        return None

    def version(self):
        import celer

        return celer.__version__

    def _fit(self, X, y, alphas, tol):
        from celer import Lasso, celer_path

        if alphas.size == 1:
            m = Lasso(alpha=alphas[0], tol=tol, max_iter=10_000, max_epochs=MAX_ITER,
                      fit_intercept=True).fit(X, y)
            return m.coef_[:, None], [m.intercept_], m.n_iter_
        ybar = y.mean()
        # celer.Lasso's own preprocessing: centre (implicitly for sparse), then celer_path
        # with pruning on, as the estimator does
        if sp.issparse(X):
            x_mean = np.asarray(X.mean(axis=0)).ravel()
            _, coefs, _, n_iters = celer_path(
                X, y - ybar, "lasso", alphas=alphas, tol=tol, max_iter=10_000,
                max_epochs=MAX_ITER, prune=1, return_n_iter=True, X_offset=x_mean,
                X_scale=np.ones_like(x_mean))
        else:
            Xc, yc, x_mean = _centre_dense(X, y)
            _, coefs, _, n_iters = celer_path(Xc, yc, "lasso", alphas=alphas, tol=tol,
                                              max_iter=10_000, max_epochs=MAX_ITER, prune=1,
                                              return_n_iter=True)
        return coefs, ybar - x_mean @ coefs, np.sum(n_iters)


class GlmnetAdapter(Adapter):
    """R's glmnet through Rscript; the time is measured inside R around glmnet() only."""

    name = "glmnet"
    units = "thresh: max objective change of a coordinate update <= thresh * null deviance"
    default_tol = 1e-7
    family = "gaussian"  # glmnet_fit.R's FAMILY argument

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self._data = {}  # id(X) -> (X, directory)
        self._version = None

    def unavailable(self):
        rscript = shutil.which("Rscript")
        if rscript is None:
            return "Rscript not found (apt-get install r-base-core r-cran-glmnet)"
        try:
            out = subprocess.run(
                [rscript, "-e", 'suppressMessages(library(glmnet)); '
                 'cat(as.character(packageVersion("glmnet")), R.version$major, '
                 'R.version$minor, "\\n")'],
                capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"Rscript failed ({exc})"
        if out.returncode != 0:
            return f"R package glmnet not loadable: {out.stderr.strip()[-200:]}"
        glmnet_v, r_major, r_minor = out.stdout.split()
        self._version = f"{glmnet_v} (R {r_major}.{r_minor})"
        return None

    def version(self):
        return self._version or "?"

    def _datadir(self, X, y):
        key = id(X)
        if key in self._data and self._data[key][0] is X:
            return self._data[key][1]
        d = self.workdir / f"data{len(self._data)}"
        d.mkdir(parents=True)
        n, p = X.shape
        if sp.issparse(X):
            Xc = sp.csc_matrix(X)
            Xc.sort_indices()
            Xc.indptr.astype(np.int32).tofile(d / "indptr.bin")
            Xc.indices.astype(np.int32).tofile(d / "indices.bin")
            Xc.data.astype(np.float64).tofile(d / "data.bin")
            (d / "meta.txt").write_text(f"{n} {p} 1 {Xc.nnz}\n")
        else:
            np.asarray(X, dtype=np.float64).ravel(order="F").tofile(d / "X.bin")
            (d / "meta.txt").write_text(f"{n} {p} 0 0\n")
        np.asarray(y, dtype=np.float64).tofile(d / "y.bin")
        self._data[key] = (X, d)
        return d

    def run(self, X, y, alphas, tol, repeats=1, timeout=None):
        d = self._datadir(X, y)
        alphas = np.asarray(alphas, dtype=np.float64)
        alphas.tofile(d / "lambda.bin")
        out_path = d / "out.bin"
        proc = subprocess.run(["Rscript", str(GLMNET_SCRIPT), str(d), str(d / "lambda.bin"),
                               repr(float(tol)), str(int(repeats)), str(out_path), self.family],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"glmnet_fit.R failed: {proc.stderr[-1000:]}")
        raw = np.fromfile(out_path, dtype=np.float64)
        p = X.shape[1]
        k = int(raw[0])
        times = list(raw[1:1 + repeats])
        npasses, jerr = raw[1 + repeats], raw[2 + repeats]
        rest = raw[3 + repeats:]
        a0, beta = rest[:k], rest[k:].reshape((p, k), order="F")
        coefs = np.full((p, alphas.size), np.nan)
        intercepts = np.full(alphas.size, np.nan)
        coefs[:, :k], intercepts[:k] = beta, a0
        msgs = []
        if jerr != 0:
            msgs.append(f"glmnet jerr={jerr:g}")
        if k < alphas.size:
            msgs.append(f"glmnet returned {k} of {alphas.size} lambdas")
        return Run(coefs, intercepts, times, float(npasses), msgs)

    def warm_up(self, X, y):
        return 0.0  # the R script warms up on a slice itself, outside the timed call


# --------------------------------------------------------------------------------------------
# Time to target: walk the ladder of tolerance settings
# --------------------------------------------------------------------------------------------


def guarded_run(adapter, X, y, alphas, tol, repeats, timeout):
    """``adapter.run`` stopped after ``timeout`` seconds per repeat; None when it was stopped.

    Compiled numba and Cython loops cannot be interrupted in-process, so a Python solver runs
    in a forked child (which shares X copy-on-write and inherits the warmed-up, compiled code);
    its time is still measured inside the child around the solver call only. glmnet is already
    a child process.
    """
    limit = timeout * repeats + 5
    if isinstance(adapter, GlmnetAdapter):
        try:
            return adapter.run(X, y, alphas, tol, repeats, timeout=limit + 30)
        except subprocess.TimeoutExpired:
            return None
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)

    def child():
        try:
            # a tiny untimed fit first: the child's first allocations and writes copy pages
            # of the parent (copy-on-write), which would otherwise land in the timed run
            Xt, yt = tiny_like(X)
            adapter.run(Xt, yt, [alpha_max(Xt, yt) / 10], 1e-4)
            sender.send(("ok", adapter.run(X, y, alphas, tol, repeats)))
        except BaseException as exc:  # report, do not hang the parent
            sender.send(("error", f"{type(exc).__name__}: {exc}"))

    gc.collect()
    gc.freeze()  # the child's gc.collect() then leaves the parent's objects (and pages) alone
    proc = ctx.Process(target=child)
    proc.start()
    gc.unfreeze()
    sender.close()
    if not receiver.poll(limit):
        proc.kill()
        proc.join()
        return None
    status, result = receiver.recv()
    proc.join()
    if status != "ok":
        raise RuntimeError(f"{adapter.name} failed: {result}")
    return result


def time_to_target(adapter, X, y, alphas, p_ref, args):
    """The fastest ladder setting whose objectives are all within TARGET of p_ref.

    Starts at the solver's default tolerance; moves looser while the target is still reached,
    tighter while it is not. Stops at the ladder's end, after a run longer than
    ``--max-run-seconds`` (killed: a tighter setting would be slower still), or once the
    solver has spent ``--max-cell-seconds`` on this cell.
    """
    tried = {}
    spent = 0.0

    in_process = args.max_run_seconds / 20  # runs predicted shorter than this are not guarded
    is_r = isinstance(adapter, GlmnetAdapter)

    def timed(tol, repeats, predicted, timeout):
        """A run in this process when it is predicted short, else in a guarded child; a short
        child run is timed again here (a forked child's first run pays copy-on-write faults,
        a few ms, which would distort the fastest cells)."""
        if not is_r and predicted is not None and predicted < in_process:
            return adapter.run(X, y, alphas, tol, repeats)
        run = guarded_run(adapter, X, y, alphas, tol, repeats, timeout)
        if not is_r and run is not None and max(run.times) < in_process:
            run = adapter.run(X, y, alphas, tol, repeats)
        return run

    def attempt(i):
        nonlocal spent
        done = [t["time_s"] for t in tried.values() if not t["timeout"]]
        run = timed(LADDER[i], 1, done[-1] if done else None, args.max_run_seconds)
        if run is None:
            tried[i] = dict(tol=LADDER[i], time_s=None, subopt=None, reached=False,
                            timeout=True)
            spent += args.max_run_seconds
            log(f"      {adapter.name:9s} tol={LADDER[i]:.0e}: stopped after "
                f"{args.max_run_seconds:g} s")
            return False
        P = objectives(X, y, alphas, run.coefs, run.intercepts)
        subopt = float(np.max((P - p_ref) / p_ref))
        tried[i] = dict(tol=LADDER[i], time_s=run.times[0], subopt=subopt,
                        reached=bool(subopt <= TARGET), timeout=False, run=run, objectives=P)
        spent += run.times[0]
        log(f"      {adapter.name:9s} tol={LADDER[i]:.0e}: {run.times[0]:9.4f} s  max subopt "
            f"{subopt:9.2e}  n_iter={run.n_iter:g}"
            + (f"  [{run.warnings[0][:90]}]" if run.warnings else ""))
        return tried[i]["reached"]

    def over_budget(i):
        return spent + (tried[i]["time_s"] or args.max_run_seconds) > args.max_cell_seconds

    i = LADDER.index(adapter.default_tol)
    stop = None
    if attempt(i):
        while i > 0:  # looser while the target is still reached
            if over_budget(i):
                stop = "budget"
                break
            i -= 1
            if not attempt(i):
                break
    else:
        while True:  # tighter until it is reached
            if tried[i]["timeout"]:
                stop = "timeout"
                break
            if i + 1 >= len(LADDER):
                stop = "ladder end"
                break
            if over_budget(i):
                stop = "budget"
                break
            i += 1
            if attempt(i):
                break
    reached = [j for j in tried if tried[j]["reached"]]
    summary = dict(solver=adapter.name,
                   ladder=[{k: v for k, v in t.items() if k not in ("run", "objectives")}
                           for _, t in sorted(tried.items())])
    if not reached:
        done = [j for j in tried if not tried[j]["timeout"]]
        j = max(done) if done else None
        summary.update(
            reached=False, stop=stop, spent_s=spent, last_tol=LADDER[max(tried)],
            tightest_tol=LADDER[j] if done else None,
            tightest_subopt=tried[j]["subopt"] if done else None,
            objectives=tried[j]["objectives"] if done else np.full(alphas.size, np.inf))
        return summary
    best = min(reached, key=lambda j: tried[j]["time_s"])
    t0, run = tried[best]["time_s"], tried[best]["run"]
    repeats = args.repeats if t0 >= 0.05 else max(args.repeats, args.repeats_fast)
    # a slow setting gets fewer repeats: stay within the per-cell budget
    extra = repeats - 1
    if extra > 0 and t0 > 0:
        extra = min(extra, max(0, int((args.max_cell_seconds - spent) // t0)))
    times = [t0]
    if extra > 0:
        more = timed(LADDER[best], extra, t0, max(args.max_run_seconds, 2 * t0))
        if more is not None:
            times += more.times
    summary.update(reached=True, tol=LADDER[best], times_s=times, time_s=statistics.median(times),
                   repeats=len(times), requested=repeats, subopt=tried[best]["subopt"],
                   n_iter=run.n_iter, warnings=run.warnings, nnz_last=int(np.count_nonzero(
                       run.coefs[:, -1])), objectives=tried[best]["objectives"])
    return summary


# --------------------------------------------------------------------------------------------
# Cold start: fresh interpreters
# --------------------------------------------------------------------------------------------

COLD_TEMPLATE = """
import os, sys, time
T0 = time.perf_counter()
for _v in {thread_vars!r}:
    os.environ[_v] = "1"
import numpy as np
rng = np.random.default_rng(0)
X = np.asfortranarray(rng.standard_normal((100, 50)))
y = X[:, :5] @ np.array([3.0, -2.0, 1.5, 1.0, -1.0]) + rng.standard_normal(100)
yc = y - y.mean()
alpha = float(np.max(np.abs((X - X.mean(axis=0)).T @ yc))) / 100 / 10
T1 = time.perf_counter()
{code}
T3 = time.perf_counter()
print("RESULT", T1 - T0, T2 - T1, T3 - T2)
"""

COLD_CODE = {
    "shrinkage": "import shrinkage\nT2 = time.perf_counter()\n"
                 "shrinkage.Lasso(alpha=alpha).fit(X, y)",
    # the same fit through numba's coordinate descent (the homotopy for small problems off): what
    # a problem too large for the homotopy pays for numba's start-up
    "shrinkage-numba": "import shrinkage\nfrom shrinkage.solvers import homotopy\n"
                       "homotopy.MAX_FEATURES = 0\nT2 = time.perf_counter()\n"
                       "shrinkage.Lasso(alpha=alpha).fit(X, y)",
    "sklearn": "from sklearn.linear_model import Lasso\nT2 = time.perf_counter()\n"
               "Lasso(alpha=alpha).fit(X, y)",
    "skglm": "from skglm import Lasso\nT2 = time.perf_counter()\nLasso(alpha=alpha).fit(X, y)",
    "celer": "from celer import Lasso\nT2 = time.perf_counter()\nLasso(alpha=alpha).fit(X, y)",
}

GLMNET_COLD = r"""
t0 <- Sys.time()
suppressMessages(library(glmnet))
t1 <- Sys.time()
set.seed(0)
X <- matrix(rnorm(100 * 50), 100, 50)
y <- as.vector(X[, 1:5] %*% c(3, -2, 1.5, 1, -1) + rnorm(100))
yc <- y - mean(y)
lam <- max(abs(crossprod(scale(X, scale = FALSE), yc))) / 100 / 10
t2 <- Sys.time()
fit <- glmnet(X, y, lambda = lam, standardize = FALSE)
t3 <- Sys.time()
cat("RESULT", as.numeric(t1 - t0, units = "secs"), as.numeric(t3 - t2, units = "secs"), "\n")
"""


def cold_start(adapters, tmpdir, repeats):
    """Median over fresh processes of: import of the library, first fit, process wall time."""
    rows = []

    def python_once(name, cache_dir=None):
        env = dict(os.environ)
        if cache_dir is not None:
            env["NUMBA_CACHE_DIR"] = str(cache_dir)
        code = COLD_TEMPLATE.format(thread_vars=THREAD_VARS, code=COLD_CODE[name])
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
        wall = time.perf_counter() - t0
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1]
        _, _numpy, imp, fit = line.split()
        return float(imp), float(fit), wall

    def summarise(name, variant, samples):
        imp = statistics.median(s[0] for s in samples)
        fit = statistics.median(s[1] for s in samples)
        tot = statistics.median(s[0] + s[1] for s in samples)
        wall = statistics.median(s[2] for s in samples)
        rows.append(dict(solver=name, variant=variant, n=len(samples), import_s=imp,
                         first_fit_s=fit, import_plus_fit_s=tot, process_wall_s=wall,
                         samples=samples))
        log(f"   cold start {name:9s} {variant:34s}: import {imp:.3f} s + first fit {fit:.3f} s "
            f"= {tot:.3f} s (process {wall:.2f} s, median of {len(samples)})")

    names = [a.name for a in adapters]
    if "shrinkage" in names:
        # byte-compile the imported shrinkage, as `pip install` does (scikit-learn's .pyc files
        # exist): a checkout or snapshot run with PYTHONDONTWRITEBYTECODE would otherwise compile
        # its ~40 modules from source in every fresh process
        import compileall
        import importlib.util

        compileall.compile_dir(str(Path(importlib.util.find_spec("shrinkage").origin).parent),
                               quiet=1)
        # the default route of a 100 x 50 problem imports no numba: its cache does not matter
        summarise("shrinkage", "default (small problem: homotopy, no numba)",
                  [python_once("shrinkage") for _ in range(repeats)])
        # compiling takes ~20 s and varies little: one process per 5 warm ones
        cold_dirs = [Path(tmpdir) / f"numba-cold-{i}" for i in range(max(1, repeats // 5))]
        samples = []
        for d in cold_dirs:
            d.mkdir()
            samples.append(python_once("shrinkage-numba", d))
        summarise("shrinkage", "numba CD, cold numba cache (compiles)", samples)
        summarise("shrinkage", "numba CD, warm numba cache (loads)",
                  [python_once("shrinkage-numba", cold_dirs[0]) for _ in range(repeats)])
    for name in ("sklearn", "skglm", "celer"):
        if name in names:
            variant = "fresh process (numba compiles)" if name == "skglm" else "fresh process"
            summarise(name, variant, [python_once(name) for _ in range(repeats)])
    if "glmnet" in names:
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = subprocess.run(["Rscript", "-e", GLMNET_COLD], capture_output=True, text=True,
                                 check=True)
            wall = time.perf_counter() - t0
            line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1]
            _, imp, fit = line.split()
            samples.append((float(imp), float(fit), wall))
        summarise("glmnet", "fresh Rscript (library(glmnet))", samples)
    return rows


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def run_problem(name, args, adapters, compile_rows):
    problem = PROBLEMS[name](args.scale)
    X, y = problem.X, problem.y
    amax = alpha_max(X, y, True)
    null = null_objective(y, True)
    nnz = int(X.nnz) if sp.issparse(X) else None
    log(f"\n== {name}: {X.shape[0]} x {X.shape[1]}"
        + (f", {nnz} nonzeros ({problem.density:.3%})" if nnz else "")
        + f"; {problem.description}")
    log(f"   alpha_max = {amax:.6g}, null objective = {null:.6g}")

    layout = "sparse" if sp.issparse(X) else "dense"
    for a in adapters:
        t = a.warm_up(X, y)
        if not any(r["solver"] == a.name and r["layout"] == layout for r in compile_rows):
            if a.name in ("shrinkage", "skglm"):
                compile_rows.append(dict(solver=a.name, layout=layout, first_call_s=t))
                log(f"   numba warm-up {a.name} ({layout}): first tiny fit {t:.2f} s "
                    "(compilation or cache load; excluded from the timings)")

    cells = []
    for cell in args.cells:
        alphas = cell_alphas(amax, cell, args.n_path)
        log(f"-- {name} {cell}" + (f" ({alphas.size} alphas)" if cell == "path" else
                                    f" (alpha = {alphas[0]:.6g})"))
        ref_adapter = next(a for a in adapters if a.name == "shrinkage")
        ref_tol = REF_TOL_PATH if cell == "path" else REF_TOL
        ref = ref_adapter.run(X, y, alphas, ref_tol)
        p_ref = objectives(X, y, alphas, ref.coefs, ref.intercepts)
        lower = dual_bounds(X, y, alphas, ref.coefs)
        cert = float(np.max((p_ref - lower) / p_ref))
        log(f"   reference shrinkage tol={ref_tol:.0e}: {ref.times[0]:.2f} s, n_iter "
            f"{ref.n_iter:g}, certified (P_ref - dual bound)/P_ref <= {cert:.1e}, "
            f"nnz at last alpha {np.count_nonzero(ref.coefs[:, -1])}")
        results = {}
        for a in adapters:
            results[a.name] = time_to_target(a, X, y, alphas, p_ref, args)
            r = results[a.name]
            if r["reached"]:
                log(f"   => {a.name:9s} tol={r['tol']:.0e}: median {r['time_s']:.4f} s of "
                    f"{r['repeats']}  (max subopt {r['subopt']:.1e})")
            else:
                log(f"   => {a.name:9s} {_fmt_result(r, args)}")
        # the lowest objective anybody found, against the reference
        seen = np.vstack([p_ref, *[r["objectives"] for r in results.values()]])
        p_best = seen.min(axis=0)
        ref_excess = float(np.max((p_ref - p_best) / p_best))
        for r in results.values():
            r["subopt_vs_best"] = float(np.max((r["objectives"] - p_best) / p_best))
            del r["objectives"]
        peers = {k: r for k, r in results.items() if k != "shrinkage" and r["reached"]}
        best_peer = min(peers, key=lambda k: peers[k]["time_s"]) if peers else None
        s = results["shrinkage"]
        ratio = (s["time_s"] / peers[best_peer]["time_s"]
                 if best_peer and s["reached"] else None)
        log(f"   reference vs lowest objective seen: (P_ref - P_best)/P_best <= {ref_excess:.1e}"
            + (f"; shrinkage / best peer ({best_peer}) = {ratio:.2f}" if ratio else ""))
        cells.append(dict(problem=name, cell=cell, n_alphas=int(alphas.size),
                          alpha_first=float(alphas[0]), alpha_last=float(alphas[-1]),
                          reference=dict(tol=ref_tol, time_s=ref.times[0], n_iter=ref.n_iter,
                                         certified=cert, excess_over_best=ref_excess,
                                         nnz_last=int(np.count_nonzero(ref.coefs[:, -1]))),
                          results=results, best_peer=best_peer, ratio=ratio))
    info = dict(name=name, shape=list(X.shape), nnz=nnz, density=problem.density,
                description=problem.description, alpha_max=amax, null_objective=null)
    return info, cells


def _fmt_result(r, args):
    if not r["reached"]:
        if r["stop"] == "timeout":
            return f"> {args.max_run_seconds:g} s at {r['last_tol']:.0e}"
        if r["tightest_tol"] is None:
            return f"not reached ({r['stop']})"
        return (f"not reached ({r['stop']}; {r['tightest_subopt']:.0e} at "
                f"{r['tightest_tol']:.0e})")
    rep = f", {r['repeats']}x" if r["repeats"] != 3 else ""
    return f"{r['time_s']:.3g} ({r['tol']:.0e}{rep})"


def format_report(env, versions, skipped, problems, cells, compile_rows, cold, command, args):
    solvers = list(versions)
    lines = [
        f"Date {env['date']}; {env['processor']}, nproc={env['nproc']}, single-threaded "
        f"({', '.join(f'{v}=1' for v in THREAD_VARS)}); Python {env['python']}, numpy "
        f"{env['numpy']}, scipy {env['scipy']}, numba {env['numba']}; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f"; shrinkage imported from `{env['shrinkage_path']}`"
        + (f" (snapshot of git {env['shrinkage_snapshot_of']})"
           if env.get("shrinkage_snapshot_of") else f" (git {env['git']})")
        + f", sources sha256 {env['shrinkage_imported_sha256']}.",
        "",
        f"Command: `{command}`",
        "",
    ]
    for name, why in skipped.items():
        lines.append(f"- skipped {name}: {why}")
    if skipped:
        lines.append("")
    lines += ["Time [s] to reach relative suboptimality <= 1e-6 (every alpha of a path), median "
              "of 3 runs unless marked (Nx), with the tolerance setting that got there in the "
              "solver's own units; ratio = shrinkage / fastest peer (below 1: shrinkage "
              f"faster). '> {args.max_run_seconds:g} s': the run at that setting was stopped; "
              "'not reached (budget | ladder end)': no setting tried got there.", ""]
    for p in problems:
        lines += [f"### {p['name']}: {p['shape'][0]} x {p['shape'][1]}"
                  + (f", {p['nnz']} nonzeros" if p["nnz"] else ""), "",
                  f"{p['description']}; alpha_max = {p['alpha_max']:.6g}.", "",
                  "| cell | " + " | ".join(solvers) + " | best peer | shrinkage / best peer |",
                  "|---|" + "---|" * (len(solvers) + 2)]
        for c in cells:
            if c["problem"] != p["name"]:
                continue
            row = [_fmt_result(c["results"][s], args) for s in solvers]
            label = c["cell"] if c["cell"] != "path" else f"path ({c['n_alphas']})"
            ratio = f"**{c['ratio']:.2f}**" if c["ratio"] is not None else "-"
            lines.append(f"| {label} | " + " | ".join(row) + f" | {c['best_peer'] or '-'} | "
                         f"{ratio} |")
        lines.append("")
    lines += ["Reference fits (shrinkage) and quality checks:", "",
              "| problem | cell | reference tol | reference time [s] | certified (P_ref - dual)/P_ref"
              " | (P_ref - lowest seen)/lowest | nnz (last alpha) |", "|---|---|---|---|---|---|---|"]
    for c in cells:
        r = c["reference"]
        lines.append(f"| {c['problem']} | {c['cell']} | {r['tol']:.0e} | {r['time_s']:.2f} | "
                     f"{r['certified']:.1e} | {r['excess_over_best']:.1e} | {r['nnz_last']} |")
    lines += ["", "Ladders walked (tol: time [s] / max subopt; * = reached):", ""]
    for c in cells:
        for s in solvers:
            steps = ", ".join(f"{t['tol']:.0e}: " + (
                f"{t['time_s']:.3g}/{t['subopt']:.0e}" + ("*" if t["reached"] else "")
                if not t["timeout"] else "stopped") for t in c["results"][s]["ladder"])
            r = c["results"][s]
            extra = (f"; n_iter {r['n_iter']:g}; times {', '.join(f'{t:.3g}' for t in r['times_s'])}"
                     if r["reached"] else "")
            warn = f"; warnings: {r['warnings'][0][:100]}" if r.get("warnings") else ""
            lines.append(f"- {c['problem']} {c['cell']} {s}: {steps}{extra}{warn}")
    if compile_rows:
        lines += ["", "Numba warm-up (first tiny fit in this process, excluded from the "
                  "timings): " + "; ".join(f"{r['solver']} {r['layout']} {r['first_call_s']:.2f} s"
                                           for r in compile_rows) + "."]
    if cold:
        lines += ["", "Cold start (fresh process, 100 x 50 lasso at alpha_max/10, default tol; "
                  "numpy imported before the clock starts; median over processes):", "",
                  "| solver | variant | import [s] | first fit [s] | import + first fit [s] | "
                  "process wall [s] | processes |", "|---|---|---|---|---|---|---|"]
        for r in cold:
            lines.append(f"| {r['solver']} | {r['variant']} | {r['import_s']:.3f} | "
                         f"{r['first_fit_s']:.3f} | {r['import_plus_fit_s']:.3f} | "
                         f"{r['process_wall_s']:.2f} | {r['n']} |")
        sk = next((r for r in cold if r["solver"] == "sklearn"), None)
        if sk:
            for r in cold:
                if r["solver"] == "shrinkage":
                    lines.append(f"\nshrinkage ({r['variant']}) / sklearn, import + first fit: "
                                 f"{r['import_plus_fit_s'] / sk['import_plus_fit_s']:.2f}; "
                                 f"process wall: {r['process_wall_s'] / sk['process_wall_s']:.2f}")
    lines += ["", "Settings: " + ", ".join(f"{a}={v}" for a, v in vars(args).items()
                                            if a not in ("out",))]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 repeat, 30-alpha paths, 30 s per-cell budget")
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--cells", nargs="+", default=CELLS, choices=CELLS)
    parser.add_argument("--solvers", nargs="+",
                        default=["shrinkage", "sklearn", "skglm", "celer", "glmnet"],
                        choices=["shrinkage", "sklearn", "skglm", "celer", "glmnet"])
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs of the chosen setting (default 3, 1 with --quick)")
    parser.add_argument("--repeats-fast", type=int, default=7,
                        help="runs of a chosen setting that takes under 0.05 s")
    parser.add_argument("--n-path", type=int, default=None,
                        help="alphas on the path (default 100, 30 with --quick)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the generated problems' dimensions (smoke tests: 0.1)")
    parser.add_argument("--max-cell-seconds", type=float, default=None,
                        help="per solver and cell: stop walking the ladder / repeating once "
                             "this is spent (default 60, 30 with --quick)")
    parser.add_argument("--max-run-seconds", type=float, default=40.0,
                        help="stop (kill) a single run after this long: reported as '> N s'")
    parser.add_argument("--cold-repeats", type=int, default=None,
                        help="fresh processes per cold-start variant (default 5, 2 with --quick)")
    parser.add_argument("--no-cold-start", action="store_true")
    parser.add_argument("--cold-start-only", action="store_true",
                        help="measure import + first fit only (no problems)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    q = args.quick
    args.repeats = args.repeats or (1 if q else 3)
    args.repeats_fast = 1 if q else args.repeats_fast
    args.n_path = args.n_path or (30 if q else 100)
    args.max_cell_seconds = args.max_cell_seconds or (30.0 if q else 60.0)
    args.cold_repeats = args.cold_repeats or (2 if q else 5)
    if "shrinkage" not in args.solvers:
        parser.error("shrinkage is the reference solver: keep it in --solvers")
    if args.cold_start_only:
        args.problems, args.no_cold_start = [], False

    argv_used = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python benchmarks/bench_peers.py", *argv_used])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmpdir:
        every = {"shrinkage": ShrinkageAdapter(), "sklearn": SklearnAdapter(),
                 "skglm": SkglmAdapter(), "celer": CelerAdapter(),
                 "glmnet": GlmnetAdapter(Path(tmpdir) / "glmnet")}
        adapters, skipped = [], {}
        for name in args.solvers:
            why = every[name].unavailable()
            if why:
                skipped[name] = why
                log(f"skipping {name}: {why}")
            else:
                adapters.append(every[name])
        env = environment()
        env["processor"] = _cpu_model()
        env["shrinkage_path"], env["shrinkage_imported_sha256"] = imported_shrinkage()
        rev = Path(env["shrinkage_path"]).parents[1] / "REV"  # written next to a snapshot
        if rev.exists():
            env["shrinkage_snapshot_of"] = rev.read_text().strip()
        versions = {a.name: a.version() for a in adapters}
        log(json.dumps(dict(env, versions=versions), indent=1))
        fingerprint = env["shrinkage_imported_sha256"]

        problems, cells, compile_rows = [], [], []
        for name in args.problems:
            info, these = run_problem(name, args, adapters, compile_rows)
            problems.append(info)
            cells += these
        cold = [] if args.no_cold_start else cold_start(adapters, tmpdir, args.cold_repeats)

    if imported_shrinkage()[1] != fingerprint:
        log("WARNING: the shrinkage sources changed during the run; timings may include "
            "recompilation and mix two versions of the code")
        env["sources_changed_during_run"] = True
    env["total_runtime_s"] = time.perf_counter() - start
    report = format_report(env, versions, skipped, problems, cells, compile_rows, cold, command,
                           args)
    log("\n" + report)
    log(f"total runtime {env['total_runtime_s'] / 60:.1f} min")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "peers.md").write_text(report)
    payload = dict(environment=env, versions=versions, skipped=skipped, command=command,
                   problems=problems, cells=cells, numba_warm_up=compile_rows, cold_start=cold,
                   settings={k: (str(v) if isinstance(v, Path) else v)
                             for k, v in vars(args).items()})
    (args.out / "peers.json").write_text(json.dumps(payload, indent=1, default=float))
    log(f"wrote {args.out / 'peers.md'} and {args.out / 'peers.json'}")


if __name__ == "__main__":
    main()
