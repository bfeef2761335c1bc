"""L1 logistic regression against the fastest peers: shrinkage, scikit-learn (liblinear, saga),
skglm, celer and R's glmnet (binomial), at a fixed suboptimality of 1e-6.

Usage (from the repository root; peers from ``pip install -e ".[bench]"``, R's glmnet from the OS)::

    python benchmarks/bench_logistic.py                          # both problems, both cells
    python benchmarks/bench_logistic.py --problems sparse-text --cells max/10
    python benchmarks/bench_logistic.py --scale 0.1 --max-run-seconds 10     # smoke test

The harness is ``bench_peers.py``'s, imported: the same ladder of tolerance settings per solver
(:func:`bench_peers.time_to_target`), forked guarded runs, warm-ups that exclude numba compilation,
medians of repeats, single-threaded. What changes is the objective, recomputed for every solver
from its returned coefficients and intercept by one function (:func:`logistic_objectives`)::

    P(w, b) = (1/n) sum_i [log(1 + exp(z_i)) - y_i z_i] + alpha ||w||_1,   z = X w + b,  y in {0, 1}

(glmnet's binomial objective with ``lambda = alpha``; scikit-learn's ``C sum NLL + ||w||_1`` over
``C n`` with ``C = 1 / (alpha n)``; skglm's ``SparseLogisticRegression(alpha)``). The reference
``P_ref`` is shrinkage at ``tol = 1e-12`` (relative duality gap), certified by its own gap.

Problems (labels ``y = 1[t > median(t)]`` from the regression targets of bench_peers' designs):

- ``sparse-text``: 20 000 x 50 000 CSC, 0.15 % dense, tf-idf-like (``bench_peers.make_text``).
- ``dense-wide``: 500 x 20 000 Gaussian with AR(1) correlation 0.6 (``bench_peers.make_wide``).

Cells: ``alpha_max / 10`` and ``alpha_max / 100``. Peers that cannot solve this objective are
reported as such: liblinear penalizes its intercept (run with ``intercept_scaling = 100``, which
makes the penalty on it negligible, and judged on the same objective), celer's logistic
regression cannot fit an intercept. Results: ``benchmarks/results/logistic.{md,json}``.
"""

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS")
for _var in THREAD_VARS:
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_peers  # noqa: E402
from bench_lasso import RESULTS_DIR, environment, log  # noqa: E402
from bench_peers import (  # noqa: E402
    MAX_ITER,
    Adapter,
    GlmnetAdapter,
    imported_shrinkage,
    make_text,
    make_wide,
    time_to_target,
)

REF_TOL = 1e-12
CELLS = ["max/10", "max/100"]


def binary_labels(y):
    """``{0, 1}`` labels: the given ones, or a Gaussian target cut at 0.5 (warm-up problems)."""
    y = np.asarray(y, dtype=np.float64)
    return (y > 0.5).astype(np.float64)


def logistic_objectives(X, y, alphas, coefs, intercepts):
    """``P`` per alpha (module docstring), from any solver's coefficients: one function for all."""
    y = binary_labels(y)
    out = np.empty(len(alphas))
    for k, alpha in enumerate(alphas):
        w = np.asarray(coefs[:, k], dtype=np.float64)
        if not np.all(np.isfinite(w)) or not np.isfinite(intercepts[k]):
            out[k] = np.inf
            continue
        z = np.asarray(X @ w).ravel() + intercepts[k]
        out[k] = np.mean(np.logaddexp(0.0, z) - y * z) + alpha * np.abs(w).sum()
    return out


def logistic_alpha_max(X, y, fit_intercept=True):
    """``max_j |X_j' (ybar - y)| / n``: every coefficient is zero from there up."""
    y = binary_labels(y)
    grad = np.asarray(X.T @ (y.mean() - y)).ravel() / X.shape[0]
    return float(np.max(np.abs(grad)))


# the imported harness computes objectives and warm-up alphas through these module globals
bench_peers.objectives = logistic_objectives
bench_peers.alpha_max = logistic_alpha_max


class ShrinkageLogistic(Adapter):
    name = "shrinkage"
    units = "relative duality gap: gap <= tol * P(0, b0)"

    def version(self):
        import shrinkage

        return shrinkage.__version__

    def _fit(self, X, y, alphas, tol):
        import shrinkage

        m = shrinkage.LogisticRegression(penalty="l1", alpha=alphas[0], tol=tol,
                                         max_iter=10_000).fit(X, binary_labels(y))
        return m.coef_.T, m.intercept_, m.n_iter_[0]


class SklearnSaga(Adapter):
    name = "sk-saga"
    units = "max relative change of the coefficients per epoch"

    def version(self):
        import sklearn

        return sklearn.__version__

    def _fit(self, X, y, alphas, tol):
        from sklearn.linear_model import LogisticRegression

        C = 1.0 / (alphas[0] * X.shape[0])
        m = LogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=tol, max_iter=MAX_ITER)
        m.fit(X, binary_labels(y))
        return m.coef_.T, m.intercept_, m.n_iter_[0]


class SklearnLiblinear(Adapter):
    name = "sk-liblinear"
    units = "liblinear's eps (newGLMNET: relative subgradient norm)"

    def version(self):
        import sklearn

        return sklearn.__version__

    def _fit(self, X, y, alphas, tol):
        from sklearn.linear_model import LogisticRegression

        C = 1.0 / (alphas[0] * X.shape[0])
        m = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", tol=tol,
                               max_iter=MAX_ITER, intercept_scaling=100.0)
        m.fit(X, binary_labels(y))
        return m.coef_.T, m.intercept_, m.n_iter_[0]


class SkglmLogistic(Adapter):
    name = "skglm"
    units = "max KKT violation, absolute"

    def unavailable(self):
        try:
            import skglm  # noqa: F401
        except ImportError as exc:
            return f"import skglm failed ({exc})"
        return None

    def version(self):
        import skglm

        return skglm.__version__

    def _fit(self, X, y, alphas, tol):
        from skglm import SparseLogisticRegression

        m = SparseLogisticRegression(alpha=alphas[0], tol=tol, max_iter=1000,
                                     max_epochs=MAX_ITER, fit_intercept=True)
        m.fit(X, binary_labels(y))
        return m.coef_.T, np.atleast_1d(m.intercept_), getattr(m, "n_iter_", 0)


class CelerLogistic(Adapter):
    name = "celer"

    def unavailable(self):
        try:
            import celer  # noqa: F401
        except ImportError as exc:
            return f"import celer failed ({exc})"
        return ("celer.LogisticRegression cannot fit an intercept (NotImplementedError in "
                "0.7.4): not the same problem")


class GlmnetBinomial(GlmnetAdapter):
    """R's glmnet, family = "binomial" (benchmarks/glmnet_fit.R with its FAMILY argument)."""

    units = "thresh: max weighted coefficient change <= thresh * null deviance (per IRLS step)"
    family = "binomial"


def make_problem(name, scale):
    problem = make_text(scale) if name == "sparse-text" else make_wide(scale)
    y = (problem.y > np.median(problem.y)).astype(np.float64)
    X = problem.X
    if sp.issparse(X):
        X = sp.csc_matrix(X)
        X.sort_indices()
    return X, y, problem.description


def reference(X, y, alpha):
    import shrinkage

    t0 = time.perf_counter()
    m = shrinkage.LogisticRegression(penalty="l1", alpha=alpha, tol=REF_TOL,
                                     max_iter=10_000).fit(X, y)
    P = logistic_objectives(X, y, [alpha], m.coef_.T, m.intercept_)[0]
    return P, m.dual_gap_, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", nargs="+", default=["sparse-text", "dense-wide"],
                        choices=["sparse-text", "dense-wide"])
    parser.add_argument("--cells", nargs="+", default=CELLS, choices=CELLS)
    parser.add_argument("--solvers", nargs="+",
                        default=["shrinkage", "sk-liblinear", "sk-saga", "skglm", "celer",
                                 "glmnet"])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeats-fast", type=int, default=7)
    parser.add_argument("--max-run-seconds", type=float, default=60.0)
    parser.add_argument("--max-cell-seconds", type=float, default=300.0)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="bench_logistic_")
    all_adapters = {"shrinkage": ShrinkageLogistic(), "sk-liblinear": SklearnLiblinear(),
                    "sk-saga": SklearnSaga(), "skglm": SkglmLogistic(),
                    "celer": CelerLogistic(), "glmnet": GlmnetBinomial(tmp)}
    adapters, skipped = [], {}
    for name in args.solvers:
        reason = all_adapters[name].unavailable()
        if reason:
            skipped[name] = reason
            log(f"skip {name}: {reason}")
        else:
            adapters.append(all_adapters[name])
    env = environment()
    pkg, digest = imported_shrinkage()
    log(f"shrinkage from {pkg} (sources {digest}); {env.get('processor')}, "
        f"{env.get('nproc')} cores (single-threaded runs)")
    rows = []
    for pname in args.problems:
        X, y, desc = make_problem(pname, args.scale)
        amax = logistic_alpha_max(X, y)
        log(f"\n== {pname}: {X.shape[0]} x {X.shape[1]}; {desc}; alpha_max = {amax:.6g}")
        for adapter in adapters:
            first = adapter.warm_up(X, y)
            log(f"   warm-up {adapter.name}: first tiny call {first:.2f} s")
        for cell in args.cells:
            alpha = amax / float(cell.split("/")[1])
            p_ref, gap, t_ref = reference(X, y, alpha)
            log(f"  -- {cell}: alpha = {alpha:.6g}, P_ref = {p_ref:.12g} (gap {gap:.1e}, "
                f"{t_ref:.1f} s)")
            results = {}
            for adapter in adapters:
                results[adapter.name] = time_to_target(adapter, X, y, np.array([alpha]), p_ref,
                                                       args)
            best_peer = min((r["time_s"] for n, r in results.items()
                             if n != "shrinkage" and r.get("reached")), default=None)
            for name, r in results.items():
                rows.append(dict(problem=pname, cell=cell, solver=name,
                                 reached=r.get("reached"), time_s=r.get("time_s"),
                                 tol=r.get("tol"), repeats=r.get("repeats"),
                                 subopt=r.get("subopt", r.get("tightest_subopt")),
                                 nnz=r.get("nnz_last"), best_peer_s=best_peer))
    lines = ["| problem | cell | solver | time to 1e-6 (s) | / best peer | setting | nnz |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        t = f"{r['time_s']:.3f}" if r["reached"] else "not reached"
        ratio = (f"{r['time_s'] / r['best_peer_s']:.2f}" if r["reached"] and r["best_peer_s"]
                 else "")
        tol = f"{r['tol']:.0e}" if r["tol"] else ""
        lines.append(f"| {r['problem']} | {r['cell']} | {r['solver']} | {t} | {ratio} | {tol} "
                     f"| {r['nnz'] if r['nnz'] is not None else ''} |")
    for name, reason in skipped.items():
        lines.append(f"\n{name}: {reason}")
    report = "\n".join(lines)
    log("\n" + report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "logistic.md").write_text(report + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (args.out / "logistic.json").write_text(json.dumps(
            dict(environment=env, shrinkage=[pkg, digest], rows=rows, skipped=skipped,
                 scale=args.scale), indent=1, default=str))


if __name__ == "__main__":
    main()
