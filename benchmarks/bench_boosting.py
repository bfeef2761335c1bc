"""Benchmark shrinkage's gradient boosting against XGBoost, LightGBM and scikit-learn, one thread.

Usage::

    python benchmarks/bench_boosting.py                   # 1 000 000 x 50, 3 repeats
    python benchmarks/bench_boosting.py --rows 200000 --repeats 1   # quicker
    python benchmarks/bench_boosting.py --compress         # + the leaf-lasso curves (docs)

Problems (fixed seeds, float64, 50 features, test set of 100 000 rows):

- ``regression``: ``y = sum_{j<5} b_j x_j + sin(2 x_5) + x_6 x_7 + |x_8| + N(0, 1)``, Gaussian
  features; metric: test R^2.
- ``classification``: ``1[y_reg > median]`` of the same kind of signal; metric: test accuracy.

Settings shared by every library: 100 trees, depth 6, 256 bins (scikit-learn and LightGBM: 255,
their maximum), learning rate 0.1, one thread; everything else at each library's default
(XGBoost: ``tree_method="hist"``, ``max_leaves=0``; LightGBM: ``num_leaves=64`` so that depth 6 is
the binding limit; scikit-learn ``HistGradientBoosting*``: ``max_leaf_nodes=None``,
``early_stopping=False``). Timing: median wall time of ``fit`` (binning included) over the
repeats, libraries interleaved within each repeat. shrinkage is warmed up on a tiny problem first
(numba compilation excluded); its first-fit cost is measured separately in fresh subprocesses:
import + fit of 1 tree on 10 000 rows, with an empty numba cache (compilation) and a warm one.

``--compress`` runs the leaf lasso of :func:`shrinkage.boosting.compress` on friedman1 (n = 20 000,
noise 1, 500 trees, learning rate 0.1, depth 3; test n = 10 000) and on diabetes (70/30 split,
500 trees, learning rate 0.05, depth 2) and prints each whole curve.

Results are printed and written to ``benchmarks/results/boosting.{json,md}``.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

N_TREES, DEPTH, LR = 100, 6, 0.1
RESULTS = Path(__file__).parent / "results"


def make_data(kind, n, p=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.array([1.0, -0.8, 0.6, -0.4, 0.2])
    f = X[:, :5] @ beta + np.sin(2 * X[:, 5]) + X[:, 6] * X[:, 7] + np.abs(X[:, 8])
    y = f + rng.standard_normal(n)
    if kind == "classification":
        y = (y > np.median(y)).astype(np.int64)
    return X, y


def peers(kind):
    """name -> constructor of an unfitted model, for the libraries that import."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from shrinkage.boosting import GradientBoostingClassifier, GradientBoostingRegressor

    reg = kind == "regression"
    out = {
        "shrinkage": lambda: (GradientBoostingRegressor if reg else GradientBoostingClassifier)(
            n_estimators=N_TREES, max_depth=DEPTH, max_bin=256, learning_rate=LR),
        "sklearn-hgb": lambda: (HistGradientBoostingRegressor if reg
                                else HistGradientBoostingClassifier)(
            max_iter=N_TREES, max_depth=DEPTH, max_leaf_nodes=None, max_bins=255,
            learning_rate=LR, early_stopping=False),
    }
    try:
        import xgboost as xgb

        out["xgboost"] = lambda: (xgb.XGBRegressor if reg else xgb.XGBClassifier)(
            n_estimators=N_TREES, max_depth=DEPTH, max_bin=256, learning_rate=LR,
            tree_method="hist", n_jobs=1)
    except ImportError:
        pass
    try:
        import lightgbm as lgb

        out["lightgbm"] = lambda: (lgb.LGBMRegressor if reg else lgb.LGBMClassifier)(
            n_estimators=N_TREES, max_depth=DEPTH, num_leaves=64, max_bin=255, learning_rate=LR,
            n_jobs=1, verbose=-1)
    except ImportError:
        pass
    return out


def score(kind, model, X, y):
    pred = model.predict(X)
    if kind == "regression":
        return float(1 - np.mean((y - pred) ** 2) / np.var(y))
    return float(np.mean(pred == y))


FIRST_FIT = """
import os, time
t0 = time.perf_counter()
import numpy as np
from shrinkage.boosting import GradientBoostingRegressor
rng = np.random.default_rng(0)
X = rng.standard_normal((10000, 50)); y = X[:, 0] + rng.standard_normal(10000)
GradientBoostingRegressor(n_estimators=1, max_depth=6).fit(X, y)
print(time.perf_counter() - t0)
"""


def first_fit_seconds(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", FIRST_FIT], capture_output=True, text=True,
                         env=env, check=True)
    return float(out.stdout.strip())


def bench_speed(rows, repeats):
    from shrinkage.boosting import GradientBoostingRegressor

    Xw, yw = make_data("regression", 2000)
    GradientBoostingRegressor(n_estimators=2).fit(Xw, yw)  # numba compiled / loaded
    table = {}
    for kind in ("regression", "classification"):
        X, y = make_data(kind, rows, seed=0)
        Xt, yt = make_data(kind, 100_000, seed=1)
        libs = peers(kind)
        times = {name: [] for name in libs}
        scores = {}
        for _ in range(repeats):
            for name, make in libs.items():
                model = make()
                t0 = time.perf_counter()
                model.fit(X, y)
                times[name].append(time.perf_counter() - t0)
                scores[name] = score(kind, model, Xt, yt)
                del model
        medians = {name: statistics.median(t) for name, t in times.items()}
        fastest = min(medians.values())
        table[kind] = {name: {"seconds": medians[name], "ratio_to_fastest": medians[name] / fastest,
                              "test_score": scores[name], "all_seconds": times[name]}
                       for name in libs}
        print(f"\n{kind}: {rows} x 50, {N_TREES} trees, depth {DEPTH}, median of {repeats}")
        for name in sorted(libs, key=medians.get):
            r = table[kind][name]
            print(f"  {name:12s} {r['seconds']:8.2f} s  x{r['ratio_to_fastest']:.2f}  "
                  f"{'R2' if kind == 'regression' else 'acc'} {r['test_score']:.4f}")
    with tempfile.TemporaryDirectory() as cold:
        cold_s = first_fit_seconds(cold)
        warm_s = first_fit_seconds(cold)
    table["first_fit"] = {"cold_cache_seconds": cold_s, "warm_cache_seconds": warm_s}
    print(f"\nfirst fit in a fresh process (import + 1 tree on 10 000 x 50): "
          f"cold numba cache {cold_s:.1f} s, warm {warm_s:.1f} s")
    return table


def bench_compress():
    from sklearn.datasets import load_diabetes, make_friedman1
    from sklearn.model_selection import train_test_split

    from shrinkage.boosting import GradientBoostingRegressor, compress

    out = {}
    X, y = make_friedman1(n_samples=20_000, noise=1.0, random_state=0)
    Xt, yt = make_friedman1(n_samples=10_000, noise=1.0, random_state=1)
    problems = {"friedman1": (X, y, Xt, yt, 0.1, 3)}
    Xd, yd = load_diabetes(return_X_y=True)
    Xd, Xdt, yd, ydt = train_test_split(Xd, yd, test_size=0.3, random_state=0)
    problems["diabetes"] = (Xd, yd, Xdt, ydt, 0.05, 2)
    for name, (X, y, Xt, yt, lr, depth) in problems.items():
        model = GradientBoostingRegressor(n_estimators=500, learning_rate=lr, max_depth=depth)
        model.fit(X, y)
        out[name] = {}
        for adaptive in (0.0, 0.5):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, path = compress(model, X, y, alphas=30, X_test=Xt, y_test=yt,
                                   adaptive=adaptive)
            seconds = time.perf_counter() - t0
            k = path.smallest_within(0.02)
            out[name][f"adaptive={adaptive}"] = {
                "seconds": seconds, "full_test_mse": path.full_test_error,
                "alphas": path.alphas.tolist(), "n_trees": path.n_trees.tolist(),
                "n_leaves": path.n_leaves.tolist(), "test_mse": path.test_error.tolist(),
                "chosen": {"alpha": float(path.alphas[k]), "n_trees": int(path.n_trees[k]),
                           "test_mse": float(path.test_error[k])}}
            print(f"\n{name}, adaptive={adaptive}: full model 500 trees, test MSE "
                  f"{path.full_test_error:.4f}; compress {seconds:.1f} s")
            print("  alpha       trees  leaves  test MSE  / full")
            for a, nt, nl, te in zip(path.alphas, path.n_trees, path.n_leaves, path.test_error,
                                     strict=True):
                print(f"  {a:10.4g}  {nt:5d}  {nl:6d}  {te:9.4f}  {te / path.full_test_error:.3f}")
            print(f"  fewest trees within 2%: {path.n_trees[k]} trees "
                  f"({100 * path.n_trees[k] / 500:.0f}%), test MSE {path.test_error[k]:.4f}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compress", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    result = {"machine": f"{platform.machine()} {platform.processor()} {os.cpu_count()} cpus",
              "python": platform.python_version(), "rows": args.rows, "repeats": args.repeats}
    import sklearn

    versions = {"sklearn": sklearn.__version__}
    for mod in ("xgboost", "lightgbm", "numba", "numpy"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            pass
    result["versions"] = versions
    if not args.no_speed:
        result["speed"] = bench_speed(args.rows, args.repeats)
    if args.compress:
        result["compress"] = bench_compress()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "boosting.json").write_text(json.dumps(result, indent=1))
    print(f"\nwritten {RESULTS / 'boosting.json'}")


if __name__ == "__main__":
    main()
