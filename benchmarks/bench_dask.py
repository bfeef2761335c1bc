"""Lasso on a dask cluster: shrinkage against dask-ml (dask-glm's ADMM and proximal gradient).

Usage (from the repository root; ``pip install dask-ml``)::

    python benchmarks/bench_dask.py                       # n = 1 000 000, p = 100, 2 workers
    python benchmarks/bench_dask.py --n 200000 --repeats 1 # smoke test
    python benchmarks/bench_dask.py --parquet DIR          # write the data to Parquet and stream it

One objective for everyone, recomputed from each solver's returned coefficients and intercept::

    P(w, b) = (1/2n) ||y - X w - b||^2 + alpha ||w||_1

dask-glm minimises ``(1/2) ||y - X w||^2 + lambda ||w||_1`` over its coefficients *including* the
intercept column that dask-ml appends (its intercept is penalized), so ``lambda = n alpha``,
``C = 1 / lambda``; it is judged on ``P`` all the same. The reference ``P*`` is shrinkage at
``tol = 1e-14`` (certified by its duality gap). Reported: wall time (median of repeats, cluster
warm), relative suboptimality ``(P - P*) / P*``, and shrinkage's passes over the data.
Single-threaded workers (``threads_per_worker=1``, BLAS threads 1), 2 worker processes, loopback.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def objective(X, y, w, b, alpha):
    """``P(w, b)`` by one pass over the dask arrays (computed exactly, float64)."""
    r = y - X @ w - b
    return float((0.5 * (r * r).mean()).compute()) + alpha * float(np.abs(w).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parquet", default=None)
    args = parser.parse_args()

    import dask.array as da
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from shrinkage import Lasso
    from shrinkage.dask._blocks import Blocks, stats_pass
    from shrinkage.solvers.gram_design import GramDesign

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster, Client(cluster) as client:
        rng = da.random.RandomState(0)
        X = rng.standard_normal((args.n, args.p), chunks=(args.chunk, args.p)) + 1.0
        w_true = np.zeros(args.p)
        w_true[:10] = np.linspace(-2, 2, 10)
        y = X @ w_true + rng.standard_normal(args.n, chunks=args.chunk) + 3.0
        if args.parquet:
            frame = da.concatenate([X, y[:, None]], axis=1).to_dask_dataframe(
                columns=[f"x{j}" for j in range(args.p)] + ["y"])
            frame.to_parquet(args.parquet, write_index=False)
            frame = dd.read_parquet(args.parquet)
            X_fit, y_fit = frame[[f"x{j}" for j in range(args.p)]], frame["y"]
            X, y = X_fit.to_dask_array(lengths=True), y_fit.to_dask_array(lengths=True)
        else:
            X, y = client.persist([X, y])
            X_fit, y_fit = X, y
        (stats,) = stats_pass(Blocks(X_fit, y_fit), True)
        design = GramDesign(stats)
        from shrinkage.penalties import L1

        alpha = design.alpha_max(L1(1.0)) / 20
        reference = Lasso(alpha=alpha, tol=1e-14).fit(X_fit, y_fit)
        p_star = objective(X, y, reference.coef_, reference.intercept_, alpha)
        rows = []

        def run(name, fit):
            times, result = [], None
            for _ in range(args.repeats):
                start = time.perf_counter()
                result = fit()
                times.append(time.perf_counter() - start)
            w, b, extra = result
            sub = (objective(X, y, w, b, alpha) - p_star) / p_star
            rows.append((name, float(np.median(times)), sub, extra))
            print(f"{name:38s} {np.median(times):8.2f} s   subopt {sub:9.2e}   {extra}", flush=True)

        for tol in (1e-4, 1e-8):
            def fit_shrinkage(tol=tol):
                model = Lasso(alpha=alpha, tol=tol).fit(X_fit, y_fit)
                return model.coef_, model.intercept_, f"passes {model.n_passes_}, gap " \
                                                      f"{model.dual_gap_:.1e}"
            run(f"shrinkage Lasso tol={tol:g}", fit_shrinkage)
        try:
            from dask_ml.linear_model import LinearRegression
        except ImportError:
            print("dask-ml not installed: peers skipped")
            return
        for solver in ("admm", "proximal_grad"):
            def fit_peer(solver=solver):
                model = LinearRegression(penalty="l1", C=1.0 / (args.n * alpha), solver=solver,
                                         fit_intercept=True)
                model.fit(X, y)
                return np.asarray(model.coef_), float(model.intercept_), "default settings"
            run(f"dask-ml LinearRegression {solver}", fit_peer)
        print(f"\nn = {args.n}, p = {args.p}, alpha = alpha_max / 20, P* = {p_star:.12g}")


if __name__ == "__main__":
    main()
