"""Dask input: the same optimum as the NumPy fit, certified, in two passes over the data.

Everything runs on one 2-process ``distributed.LocalCluster`` on loopback (module fixture).
"""

import itertools
import json

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from shrinkage import (  # noqa: E402
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    Ridge,
    enet_path,
    lasso_path,
)
from shrinkage.cli import main as cli_main  # noqa: E402
from shrinkage.cli.fit import summary_text  # noqa: E402
from shrinkage.penalties import L1  # noqa: E402
from shrinkage.solvers import make_design  # noqa: E402
from shrinkage.solvers.gram_design import GramDesign, block_stats, tree_merge  # noqa: E402
from shrinkage.solvers.path import alpha_max  # noqa: E402

N, P = 20_000, 50
TOL = 1e-12
RTOL = 1e-8
UNEVEN = (4000, 1500, 3500, 2000, 5000, 1000, 3000)  # 7 blocks


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1",
                                  silence_logs=50) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, P)) * rng.uniform(0.5, 2.0, P) + rng.uniform(-3, 3, P)
    w = np.zeros(P)
    w[:12] = rng.standard_normal(12) * 2
    y = X @ w + rng.standard_normal(N) + 5.0
    amax = alpha_max(make_design(X, y), L1(1.0))
    return X, y, amax


@pytest.fixture(scope="module")
def layouts(client, problem, tmp_path_factory):
    """X, y as 8 equal blocks, 7 uneven blocks, 1 block, a 3-partition DataFrame (persisted on
    the workers once, so every fit reads them there) and a 3-file Parquet directory."""
    X, y, _ = problem
    out = {}
    for name, chunks in (("8 equal", N // 8), ("7 uneven", UNEVEN), ("1 block", N)):
        Xd = da.from_array(X, chunks=(chunks, P))
        yd = da.from_array(y, chunks=(Xd.chunks[0],))
        out[name] = client.persist([Xd, yd])
    # a directory of 3 Parquet files: read lazily (every pass streams it from disk), and read
    # once into the workers' memory as the 3-partition DataFrame layout
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(P)])
    frame["y"] = y
    directory = tmp_path_factory.mktemp("parquet") / "data"
    for k, rows in enumerate(np.array_split(np.arange(N), 3)):
        directory.mkdir(exist_ok=True)
        frame.iloc[rows].to_parquet(directory / f"part.{k}.parquet", index=False)
    names = [f"x{j}" for j in range(P)]
    pq = dd.read_parquet(directory)
    assert pq.npartitions == 3
    out["Parquet"] = (pq[names], pq["y"])
    ddf = client.persist(dd.read_parquet(directory))
    out["DataFrame"] = (ddf[names], ddf["y"])
    return out


LAYOUTS = ("8 equal", "7 uneven", "1 block", "DataFrame", "Parquet")


def _kkt(X, y, est, alpha, l1_ratio):
    """Subgradient condition on the data itself: ``X_c' r / n - alpha (1 - rho) w`` is
    ``alpha rho sign(w_j)`` on the support and at most ``alpha rho`` elsewhere."""
    r = y - X @ est.coef_ - est.intercept_
    grad = (X - X.mean(axis=0)).T @ r / X.shape[0] - alpha * (1 - l1_ratio) * est.coef_
    on = est.coef_ != 0
    scale = alpha * max(l1_ratio, 1e-3)
    assert np.all(np.abs(grad[~on]) <= alpha * l1_ratio * (1 + 1e-6) + 1e-9 * scale)
    np.testing.assert_allclose(grad[on], alpha * l1_ratio * np.sign(est.coef_[on]),
                               atol=1e-6 * scale)


_NUMPY_FITS = {}


def _numpy_fit(est, X, y):
    """The NumPy reference, fitted once per estimator for all the layouts."""
    key = (type(est).__name__, est.alpha)
    if key not in _NUMPY_FITS:
        _NUMPY_FITS[key] = type(est)(**est.get_params()).fit(X, y)
    return _NUMPY_FITS[key]


def _null_objective(y):
    return 0.5 * np.var(y)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", ["lasso", "enet", "ridge"])
def test_fit_equals_numpy_and_is_certified(problem, layouts, layout, kind):
    X, y, amax = problem
    alpha = amax / 20
    est, l1_ratio = {"lasso": (Lasso(alpha=alpha, tol=TOL), 1.0),
                     "enet": (ElasticNet(alpha=alpha, l1_ratio=0.5, tol=TOL), 0.5),
                     "ridge": (Ridge(alpha=alpha, tol=TOL), 0.0)}[kind]
    ref = _numpy_fit(est, X, y)
    Xd, yd = layouts[layout]
    est.fit(Xd, yd)
    assert isinstance(est.coef_, np.ndarray)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max())
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=RTOL)
    assert est.dual_gap_ <= TOL * _null_objective(y)
    assert est.n_passes_ == 2
    _kkt(X, y, est, alpha, l1_ratio)
    if layout in ("DataFrame", "Parquet"):
        assert list(est.feature_names_in_) == [f"x{j}" for j in range(P)]


def test_unpenalized_features_on_the_gram_route(problem, layouts):
    """penalty_factor with zeros and unequal weights: single fits (lasso, ridge through
    solvers.closed_form, ridge with alpha = 0 by least squares), a 50-alpha path and LassoCV
    equal the NumPy ones, with certified gaps."""
    X, y, amax = problem
    Xd, yd = layouts["8 equal"]
    factor = np.r_[0.0, 0.0, 0.0, np.linspace(0.5, 2.0, P - 3)]
    null = _null_objective(y)
    for est in (Lasso(alpha=amax / 20, penalty_factor=factor, tol=TOL),
                Ridge(alpha=amax, penalty_factor=factor, tol=TOL)):
        ref = type(est)(**est.get_params()).fit(X, y)
        est.fit(Xd, yd)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL,
                                   atol=RTOL * np.abs(ref.coef_).max())
        assert est.intercept_ == pytest.approx(ref.intercept_, rel=RTOL)
        assert est.dual_gap_ <= TOL * null and est.n_passes_ == 2
    # alpha = 0: least squares, from the Gram matrix's normal equations
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    ols = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    est = Ridge(alpha=0.0).fit(Xd, yd)
    np.testing.assert_allclose(est.coef_, ols, rtol=RTOL, atol=RTOL * np.abs(ols).max())
    assert est.dual_gap_ <= TOL * null
    ref = enet_path(X, y, l1_ratio=0.8, alphas=50, eps=1e-2, tol=TOL, penalty_factor=factor)
    path = enet_path(Xd, yd, l1_ratio=0.8, alphas=50, eps=1e-2, tol=TOL, penalty_factor=factor)
    np.testing.assert_allclose(path.alphas, ref.alphas, rtol=1e-12)
    np.testing.assert_allclose(path.coefs, ref.coefs, rtol=RTOL,
                               atol=RTOL * np.abs(ref.coefs).max())
    assert np.all(path.dual_gaps <= TOL * null) and path.n_passes == 2
    assert np.all(path.coefs[:3] != 0)  # the unpenalized features are in from the start
    folds = [(np.setdiff1d(np.arange(N), t), t) for t in np.array_split(np.arange(N), 4)]
    ref = LassoCV(alphas=20, eps=1e-2, cv=folds, tol=1e-10, penalty_factor=factor).fit(X, y)
    est = LassoCV(alphas=20, eps=1e-2, cv=4, tol=1e-10, penalty_factor=factor).fit(Xd, yd)
    assert est.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max())


def test_two_passes_counted_on_the_scheduler(client, problem, layouts):
    """Independently of ``n_passes_``: the only tasks that read blocks are one statistics task
    and one residual task per block."""
    amax = problem[2]
    Xd, yd = layouts["7 uneven"]
    with distributed.get_task_stream(client) as stream:
        est = Lasso(alpha=amax / 20, tol=TOL).fit(Xd, yd)
    prefixes = [d["key"][0] if isinstance(d["key"], tuple) else d["key"] for d in stream.data]
    assert sum(k.startswith("stats_task") for k in prefixes) == len(UNEVEN)
    assert sum(k.startswith("residual_task") for k in prefixes) == len(UNEVEN)
    assert est.n_passes_ == 2


def test_predict_returns_dask_array(problem, layouts):
    X, _, amax = problem
    Xd, yd = layouts["7 uneven"]
    est = Lasso(alpha=amax / 20).fit(Xd, yd)
    prediction = est.predict(Xd)
    assert isinstance(prediction, da.Array)
    np.testing.assert_allclose(prediction.compute(), est.predict(X), rtol=1e-12)
    frame_prediction = est.predict(layouts["DataFrame"][0])
    np.testing.assert_allclose(frame_prediction.compute(), est.predict(X), rtol=1e-12)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_path_equals_numpy(problem, layouts, l1_ratio):
    X, y, _ = problem
    Xd, yd = layouts["8 equal"]
    ref = enet_path(X, y, l1_ratio=l1_ratio, alphas=50, eps=1e-2, tol=TOL)
    path = (lasso_path(Xd, yd, alphas=50, eps=1e-2, tol=TOL) if l1_ratio == 1
            else enet_path(Xd, yd, l1_ratio=l1_ratio, alphas=50, eps=1e-2, tol=TOL))
    np.testing.assert_allclose(path.alphas, ref.alphas, rtol=1e-12)
    np.testing.assert_allclose(path.coefs, ref.coefs, rtol=RTOL,
                               atol=RTOL * np.abs(ref.coefs).max())
    np.testing.assert_allclose(path.intercepts, ref.intercepts, rtol=RTOL)
    assert np.all(path.dual_gaps <= TOL * _null_objective(y))
    assert path.n_passes == 2


def test_lasso_cv_chooses_the_numpy_alpha(problem, layouts):
    X, y, _ = problem
    Xd, yd = layouts["8 equal"]
    blocks = np.array_split(np.arange(N), 4)  # 4 folds of 2 whole blocks, as the dask route
    folds = [(np.setdiff1d(np.arange(N), test), test) for test in blocks]
    ref = LassoCV(alphas=30, eps=1e-2, cv=folds, tol=1e-10).fit(X, y)
    est = LassoCV(alphas=30, eps=1e-2, cv=4, tol=1e-10).fit(Xd, yd)
    # the same grid point (alpha_max agrees to round-off: from the Gram vs from the rows)
    assert est.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert est.alpha_1se_ == pytest.approx(ref.alpha_1se_, rel=1e-12)
    np.testing.assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-9)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max())
    assert est.n_passes_ == 2


def test_elastic_net_cv_on_dataframe(problem, layouts):
    X, y, _ = problem
    Xd, yd = layouts["DataFrame"]
    folds = [(np.setdiff1d(np.arange(N), t), t) for t in np.array_split(np.arange(N), 3)]
    ratios = [0.5, 1.0]
    ref = ElasticNetCV(l1_ratio=ratios, alphas=20, eps=1e-2, cv=folds, tol=1e-10).fit(X, y)
    est = ElasticNetCV(l1_ratio=ratios, alphas=20, eps=1e-2, cv=3, tol=1e-10).fit(Xd, yd)
    assert est.l1_ratio_ == ref.l1_ratio_
    assert est.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max())


def test_sample_weight_and_no_intercept(client, problem, layouts):
    X, y, amax = problem
    Xd, yd = layouts["7 uneven"]
    s = np.random.default_rng(1).uniform(0, 3, N)
    sd = da.from_array(s, chunks=(Xd.chunks[0],))
    for fit_intercept in (True, False):
        ref = ElasticNet(alpha=amax / 30, l1_ratio=0.8, tol=TOL,
                         fit_intercept=fit_intercept).fit(X, y, sample_weight=s)
        est = ElasticNet(alpha=amax / 30, l1_ratio=0.8, tol=TOL,
                         fit_intercept=fit_intercept).fit(Xd, yd, sample_weight=sd)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL,
                                   atol=RTOL * np.abs(ref.coef_).max())
        assert est.intercept_ == pytest.approx(ref.intercept_, rel=RTOL, abs=1e-12)
        assert est.dual_gap_ <= TOL * make_design(X, y, s, fit_intercept).null_objective()


def test_chan_merge_keeps_the_centred_gram_accurate():
    """Columns whose mean is 1e6 times their spread: X'X - n m m' would lose ~12 digits; the
    block-centred statistics merged by Chan's update agree with a centred product to ~1e-12."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, 4)) + 1e6
    y = rng.standard_normal(3000)
    edges = [0, 700, 1500, 1501, 3000]
    stats = tree_merge([block_stats(X[a:b], y[a:b], None, True)
                        for a, b in itertools.pairwise(edges)])
    design = GramDesign(stats)
    Xc = X - X.mean(axis=0)  # the two-pass reference (mean first, then the centred product)
    np.testing.assert_allclose(design.gram[0], Xc.T @ Xc, rtol=1e-9, atol=1e-9 * 3000)
    np.testing.assert_allclose(design.gram[1], Xc.T @ (y - y.mean()), rtol=1e-7, atol=1e-7)


def test_nan_names_column_and_partition(client):
    X = np.random.default_rng(3).standard_normal((300, 3))
    X[250, 1] = np.nan
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["y"] = 1.0 + np.arange(300.0)
    ddf = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(ValueError, match=r"'b'.*partition 2"):
        Lasso(alpha=0.1).fit(ddf[["a", "b", "c"]], ddf["y"])
    X[250, 1] = np.inf
    with pytest.raises(ValueError, match=r"column 1.*partition 2"):
        Lasso(alpha=0.1).fit(da.from_array(X, chunks=(100, 3)), da.ones(300, chunks=100))


def test_mismatched_partitions_and_unknown_chunks(client):
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((300, 3)), rng.standard_normal(300)
    Xd = da.from_array(X, chunks=(100, 3))
    # known sizes, different blocks: y is rechunked to X's blocks
    ref = Lasso(alpha=0.05).fit(X, y)
    est = Lasso(alpha=0.05).fit(Xd, da.from_array(y, chunks=(150,)))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-8)
    with pytest.raises(ValueError, match="rows"):
        Lasso().fit(Xd, da.from_array(y[:200], chunks=100))
    # data frames partitioned differently
    fx = dd.from_pandas(pd.DataFrame(X), npartitions=3)
    fy = dd.from_pandas(pd.Series(y), npartitions=2)
    with pytest.raises(ValueError, match="partitioned differently"):
        Lasso().fit(fx, fy)
    # unknown chunk sizes: fine when y comes along, refused for a local y
    Xu = Xd[Xd[:, 0] > -np.inf]  # boolean mask: chunk sizes become unknown
    yu = da.from_array(y, chunks=100)[Xd[:, 0] > -np.inf]
    assert np.isnan(Xu.chunks[0][0])
    est = Lasso(alpha=0.05).fit(Xu, yu)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-8)
    with pytest.raises(ValueError, match="unknown"):
        Lasso().fit(Xu, y)
    # same number of blocks but different row counts inside: caught in the block
    fy3 = dd.from_pandas(pd.Series(np.r_[y, y[:30]]), npartitions=3)
    with pytest.raises(ValueError, match="partitioned alike"):
        Lasso().fit(fx, fy3)


def test_cv_needs_whole_block_folds(client, layouts):
    Xd, yd = layouts["1 block"]
    with pytest.raises(ValueError, match="at least 5 row blocks"):
        LassoCV(cv=5).fit(Xd, yd)
    with pytest.raises(ValueError, match="cv must be an int"):
        LassoCV(cv=[(np.arange(3), np.arange(3))]).fit(Xd, yd)


def test_missing_dask_names_the_extra(monkeypatch):
    import sys

    from shrinkage.dask._blocks import require_dask

    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ImportError, match=r"shrinkage\[dask\]"):
        require_dask()


@pytest.mark.filterwarnings("ignore:Sending large graph")
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_wide_working_set_route(client, monkeypatch, caplog, l1_ratio):
    """p = 3000 with a Gram budget below p x p: one fused pass per outer iteration (counted on the
    scheduler), the same solution as NumPy, certified."""
    import logging

    import shrinkage.dask._wide as wide

    monkeypatch.setattr(wide, "GRAM_MAX_BYTES", 1 << 20)
    rng = np.random.default_rng(5)
    n, p = 1200, 3000
    X = rng.standard_normal((n, p)) + rng.uniform(-2, 2, p)
    y = X[:, :15] @ rng.standard_normal(15) + 0.5 * rng.standard_normal(n)
    alpha = alpha_max(make_design(X, y), L1(1.0)) / 20
    # with p > n a gap of tol only bounds ||w - w*||^2 by 2 gap / l2: the elastic net needs a
    # tighter certificate than 1e-12 for the two solutions to agree to 1e-8
    tol = TOL if l1_ratio == 1 else 1e-15
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=tol).fit(X, y)
    Xd, yd = client.persist([da.from_array(X, chunks=(300, p)), da.from_array(y, chunks=300)])
    with distributed.get_task_stream(client) as stream, caplog.at_level(logging.INFO,
                                                                        "shrinkage.dask"):
        est = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=tol).fit(Xd, yd)
    assert "working-set route" in caplog.text
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max())
    # b = ybar - m'w: its error is the coefficients' weighted by the column means
    assert est.intercept_ == pytest.approx(ref.intercept_, abs=RTOL * np.abs(X.mean(axis=0))
                                           @ np.abs(ref.coef_))
    assert est.dual_gap_ <= tol * _null_objective(y)
    keys = [d["key"][0] if isinstance(d["key"], tuple) else d["key"] for d in stream.data]
    assert sum(k.startswith("stats_task") for k in keys) == 4  # pass 0
    assert sum(k.startswith("_wide_task") for k in keys) == 4 * (est.n_passes_ - 1)
    assert 2 <= est.n_passes_ <= 12


@pytest.mark.filterwarnings("ignore:Sending large graph")
def test_wide_route_with_unpenalized_features(client, monkeypatch):
    """Unpenalized features on the working-set route: always in the working set, the dual point
    projected off them through their Gram columns (p x |U|, returned by every pass); the NumPy
    optimum, certified."""
    import shrinkage.dask._wide as wide

    monkeypatch.setattr(wide, "GRAM_MAX_BYTES", 1 << 20)
    rng = np.random.default_rng(8)
    n, p = 600, 800
    X = rng.standard_normal((n, p)) + rng.uniform(-2, 2, p)
    y = X[:, :10] @ rng.standard_normal(10) + 0.5 * rng.standard_normal(n) + 2.0
    factor = np.ones(p)
    factor[[0, 5, 400]] = 0.0
    factor[1:5] = 3.0
    alpha = alpha_max(make_design(X, y), L1(1.0, weights=factor)) / 10
    ref = Lasso(alpha=alpha, penalty_factor=factor, tol=TOL).fit(X, y)
    Xd, yd = client.persist([da.from_array(X, chunks=(200, p)), da.from_array(y, chunks=200)])
    est = Lasso(alpha=alpha, penalty_factor=factor, tol=TOL).fit(Xd, yd)
    assert est.n_passes_ > 2  # the working-set route
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max())
    assert est.intercept_ == pytest.approx(ref.intercept_, abs=RTOL * np.abs(X.mean(axis=0))
                                           @ np.abs(ref.coef_))
    assert est.dual_gap_ <= TOL * _null_objective(y)
    assert np.all(est.coef_[[0, 5, 400]] != 0)


def test_worker_killed_mid_pass_gives_the_same_fit(client, problem):
    """Kill one worker process while a pass runs: its tasks are recomputed elsewhere (the blocks
    are recomputable from the graph) and the fit is bit-for-bit the undisturbed one."""
    import os
    import signal
    import threading
    import time

    X, y, amax = problem
    X, y = X[:4000, :10], y[:4000]

    def slow(block):  # a block that takes a while to load, so the kill lands mid-pass
        time.sleep(0.1)
        return block

    Xd = da.from_array(X, chunks=(500, 10)).map_blocks(slow, dtype=X.dtype)
    yd = da.from_array(y, chunks=500)
    undisturbed = Lasso(alpha=amax / 20, tol=TOL).fit(Xd, yd)
    before = client.run(os.getpid)
    victim = next(iter(before.values()))
    killer = threading.Timer(0.3, os.kill, (victim, signal.SIGKILL))
    killer.start()
    est = Lasso(alpha=amax / 20, tol=TOL).fit(Xd, yd)
    killer.join()
    assert victim not in client.run(os.getpid).values()  # the kill did happen, during the fit
    np.testing.assert_array_equal(est.coef_, undisturbed.coef_)
    assert est.intercept_ == undisturbed.intercept_
    assert est.dual_gap_ == undisturbed.dual_gap_
    assert est.n_passes_ == 2


def test_l1_logistic_equals_numpy_with_two_passes_per_newton_step(client, problem):
    """Binary L1 logistic regression (string labels) on 3 uneven blocks: the NumPy optimum to
    1e-6, a certified gap, and 2 passes per proximal-Newton step (+ 2 before the loop).

    5000 rows of the problem: the NumPy reference takes ~30 s on all 20 000 (single-machine
    prox-Newton on these uncentred columns; the dask route's Gram-mode subproblems do not)."""
    from shrinkage import LogisticRegression

    n = 5000
    X = problem[0][:n]
    rng = np.random.default_rng(6)
    w = np.zeros(P)
    w[:8] = rng.standard_normal(8)
    labels = np.array(["no", "yes"])[(rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ w - 0.5))))
                                     .astype(int)]
    chunks = (1000, 1500, 2500)
    Xd = da.from_array(X, chunks=(chunks, P))
    yd = da.from_array(labels, chunks=(chunks,))
    ref = LogisticRegression(penalty="l1", C=0.002, tol=1e-10).fit(X, labels)
    with distributed.get_task_stream(client) as stream:
        est = LogisticRegression(penalty="l1", C=0.002, tol=1e-10).fit(Xd, yd)
    assert list(est.classes_) == ["no", "yes"]
    assert 0 < np.count_nonzero(est.coef_) < P
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-6 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6)
    p_yes = labels == "yes"
    null = -(p_yes.mean() * np.log(p_yes.mean()) + (1 - p_yes.mean()) * np.log(1 - p_yes.mean()))
    assert est.dual_gap_ <= 1e-10 * null
    assert est.n_passes_ == 2 + 2 * int(est.n_iter_[0])
    keys = [d["key"][0] if isinstance(d["key"], tuple) else d["key"] for d in stream.data]
    reads = sum(k.startswith(("_labels_task", "_newton_task", "_step_task")) for k in keys)
    assert reads == len(chunks) * est.n_passes_
    _check_classifier_outputs(est, X, Xd)


def _check_classifier_outputs(est, X, Xd):
    """decision_function, predict_proba, predict_log_proba and predict on dask input: lazy dask
    arrays, blockwise, equal to the NumPy outputs (labels of the classes' own dtype)."""
    for method in ("decision_function", "predict_proba", "predict_log_proba"):
        out = getattr(est, method)(Xd)
        assert isinstance(out, da.Array)
        np.testing.assert_allclose(out.compute(), getattr(est, method)(X), rtol=1e-12,
                                   atol=1e-300)
    labels = est.predict(Xd)
    assert isinstance(labels, da.Array) and labels.dtype == est.classes_.dtype
    assert labels.numblocks[0] == (Xd.numblocks[0] if hasattr(Xd, "numblocks") else Xd.npartitions)
    np.testing.assert_array_equal(labels.compute(), est.predict(X))


def test_multiclass_predictions_on_dask_input(client):
    """A multinomial model predicts dask arrays and DataFrames blockwise, as it does NumPy
    arrays. (Its coefficients are set, not fitted: predictions only read them.)"""
    from shrinkage import LogisticRegression

    rng = np.random.default_rng(7)
    X = rng.standard_normal((600, 4))
    labels = np.array(["a", "b", "c"])[rng.integers(0, 3, 600)]
    est = LogisticRegression()
    est.classes_, est.n_features_in_ = np.array(["a", "b", "c"]), 4
    est.coef_, est.intercept_ = rng.standard_normal((3, 4)), rng.standard_normal(3)
    _check_classifier_outputs(est, X, da.from_array(X, chunks=(250, 2)))
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("pqrs")), npartitions=3)
    _check_classifier_outputs(est, X, frame)
    with pytest.raises(ValueError, match="features"):
        est.predict(da.from_array(X[:, :3], chunks=100))
    with pytest.raises(NotImplementedError, match="3 classes: multinomial"):
        LogisticRegression().fit(da.from_array(X, chunks=(300, 4)),
                                 da.from_array(labels, chunks=300))


def test_explicit_client_and_detection(client, problem, layouts):
    import shrinkage.dask as sdask

    X, y, amax = problem
    Xd, yd = layouts["1 block"]
    assert sdask.is_dask_collection(Xd) and sdask.is_dask_collection(layouts["DataFrame"][0])
    assert not sdask.is_dask_collection(X) and not sdask.is_dask_collection(pd.DataFrame(X[:5]))
    est = sdask.fit(Lasso(alpha=amax / 20, tol=TOL), Xd, yd, client=client)
    ref = _numpy_fit(Lasso(alpha=amax / 20, tol=TOL), X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max())


# --- shrinkage fit --dask, end to end on this module's cluster (more in tests/test_dask_cli.py)


def _standardize(X):
    mean, scale = X.mean(axis=0), X.std(axis=0)
    return (X - mean) / scale, scale


def test_cli_dask_fit_equals_the_in_memory_estimators(client, tmp_path, capsys):
    """``shrinkage fit 'dir/*.parquet' --dask --scheduler ...``: 4 Parquet files with 3 rows of
    missing values (--dropna), 5 folds (the 4 files repartitioned into 5), elastic net. The
    grid, lambda.min / lambda.1se, the CV curve and both fits (original scale, certified) are
    those of the NumPy estimators on the standardised table with the same block folds; the data
    are read in 5 passes."""
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    n, p = 4000, 8
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + rng.uniform(-5, 5, p)
    y = X[:, :4] @ np.array([1.0, -2.0, 0.5, 0.3]) + rng.standard_normal(n) + 3.0
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    frame["y"] = y
    frame.iloc[[3, 1500, 3999], [2, 0, 8]] = np.nan
    data = tmp_path / "data"
    data.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(n), 4)):
        frame.iloc[rows].to_parquet(data / f"part{k}.parquet", index=False)
    out = tmp_path / "out"
    assert cli_main(["fit", str(data / "*.parquet"), "--dask", "--scheduler",
                     client.scheduler.address, "--penalty", "elasticnet", "--l1-ratio", "0.6",
                     "--cv", "5", "--dropna", "--n-lambda", "40", "--json", "--out",
                     str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["data"]["n_rows"] == n - 3 and result["data"]["n_rows_dropped"] == 3
    assert result["data"]["target"] == "y"  # the last column by default
    assert result["dask"]["n_passes"] == 5 and result["dask"]["n_partitions"] == 5
    kept = frame.dropna()
    X, y = kept.drop(columns="y").to_numpy(), kept["y"].to_numpy()
    # the partitions the route fitted on: the same lazy repartition, sized here
    sizes = list(dd.read_parquet(data).dropna().repartition(npartitions=5)
                 .map_partitions(len).compute(scheduler="sync"))
    edges = np.cumsum([0, *sizes])
    folds = [(np.setdiff1d(np.arange(n - 3), np.arange(a, b)), np.arange(a, b))
             for a, b in itertools.pairwise(edges)]
    Z, scale = _standardize(X)
    grid = np.array(result["cv"]["lambda"])
    Zc = Z - Z.mean(axis=0)
    assert grid[0] == pytest.approx(np.max(np.abs(Zc.T @ (y - y.mean()))) / (len(y) * 0.6),
                                    rel=1e-10)
    cv = ElasticNetCV(l1_ratio=0.6, alphas=grid, cv=folds, tol=1e-10, max_iter=100_000).fit(Z, y)
    assert result["lambda_min"] == pytest.approx(cv.alpha_min_, rel=1e-12)
    assert result["lambda_1se"] == pytest.approx(cv.alpha_1se_, rel=1e-12)
    np.testing.assert_allclose(result["cv"]["mse"], cv.mse_path_.mean(axis=1), rtol=1e-7)
    np.testing.assert_allclose(result["cv"]["mse_se"], cv.mse_std_, rtol=1e-5)
    null = 0.5 * np.var(y)
    for key in ("lambda_min", "lambda_1se"):
        ref = ElasticNet(alpha=result[key], l1_ratio=0.6, tol=1e-12, max_iter=100_000).fit(Z, y)
        coefs = result["coefficients"][key]
        beta = np.array([coefs[f"x{j}"] for j in range(p)])
        np.testing.assert_allclose(beta, ref.coef_ / scale, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(X @ beta + coefs["(intercept)"], ref.predict(Z), rtol=1e-6)
        assert -1e-14 * null <= result["dual_gap"][key] <= 1e-8 * null  # round-off may go < 0
    for name in ("coefficients.csv", "path.png", "cv.png"):
        assert (out / name).stat().st_size > 0
    assert "unshuffled" in (out / "report.html").read_text(encoding="utf-8")
    text = summary_text(result)  # what the command prints without --json
    assert f"lambda.min = {result['lambda_min']:.6g}" in text
    assert "5 passes over the data" in text


def test_cli_bad_values_found_in_the_moments_pass(client, tmp_path, capsys):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.standard_normal((60, 3)), columns=["a", "b", "y"])
    args = ["--dask", "--scheduler", client.scheduler.address, "--cv", "3"]
    for name, column, value, words in (("nan", "b", np.nan, ["missing values", "'b' (1 rows)"]),
                                       ("inf", "a", np.inf, ["infinite", "'a'"]),
                                       ("const", "b", None, ["constant", "'b'"])):
        bad = frame.copy()
        if value is None:
            bad[column] = 7.0
        else:
            bad.loc[40, column] = value
        path = tmp_path / f"{name}.parquet"
        bad.to_parquet(path)
        code = cli_main(["fit", str(path), *args, "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1, err
        assert all(word in err for word in words), err
