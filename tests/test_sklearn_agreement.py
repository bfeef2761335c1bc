"""Coefficients and intercepts agree with scikit-learn run to a very tight tolerance."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk

import shrinkage as sh
from conftest import alpha_max, make_problem

TIGHT = dict(tol=1e-14, max_iter=200_000)

# (name, n, p, sparse, fit_intercept, weighted, positive, dtype, ratio)
PROBLEMS = [
    ("dense n>p", 80, 20, False, True, False, False, np.float64, 0.1),
    ("dense p>n", 40, 120, False, True, False, False, np.float64, 0.05),
    ("dense no intercept", 60, 30, False, False, False, False, np.float64, 0.1),
    ("sparse n>p", 150, 40, True, True, False, False, np.float64, 0.1),
    ("sparse p>n", 50, 200, True, True, False, False, np.float64, 0.05),
    ("sparse no intercept", 80, 60, True, False, False, False, np.float64, 0.1),
    ("dense weights", 70, 25, False, True, True, False, np.float64, 0.05),
    ("sparse weights", 90, 50, True, True, True, False, np.float64, 0.05),
    ("dense positive", 60, 40, False, True, False, True, np.float64, 0.02),
    ("sparse positive", 80, 60, True, True, False, True, np.float64, 0.05),
    ("dense weights p>n positive", 30, 90, False, True, True, True, np.float64, 0.1),
    ("dense float32", 80, 30, False, True, False, False, np.float32, 0.1),
    ("sparse float32", 100, 40, True, True, False, False, np.float32, 0.1),
]


def _weights(n, weighted, seed=3):
    if not weighted:
        return None
    return np.random.default_rng(seed).uniform(0.2, 3.0, n)


def _assert_close(ours, ref, rtol):
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    scale = max(np.max(np.abs(ref)), 1.0)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize(
    ("name", "n", "p", "sparse", "fit_intercept", "weighted", "positive", "dtype", "ratio"),
    PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_lasso_and_enet_match_sklearn(name, n, p, sparse, fit_intercept, weighted, positive,
                                      dtype, ratio, l1_ratio):
    X, y = make_problem(n, p, sparse=sparse, dtype=dtype, seed=n + p)
    sw = _weights(n, weighted)
    alpha = ratio * alpha_max(X, y, sw, fit_intercept) / l1_ratio
    params = dict(alpha=alpha, fit_intercept=fit_intercept, positive=positive, **TIGHT)
    if l1_ratio == 1.0:
        ours, ref = sh.Lasso(**params), sk.Lasso(**params)
    else:
        ours = sh.ElasticNet(l1_ratio=l1_ratio, **params)
        ref = sk.ElasticNet(l1_ratio=l1_ratio, **params)
    ours.fit(X, y, sample_weight=sw)
    # the reference runs in float64: scikit-learn's float32 solver cannot reach a tight gap
    ref.fit(X.astype(np.float64), y, sample_weight=sw)
    rtol = 1e-4 if dtype == np.float32 else 1e-6
    assert ours.coef_.dtype == dtype
    _assert_close(ours.coef_, ref.coef_, rtol)
    _assert_close(ours.intercept_, ref.intercept_, rtol)
    assert 0 < np.count_nonzero(ours.coef_) < p
    s = np.ones(n) if sw is None else sw * n / sw.sum()
    yc = y - s @ y / n if fit_intercept else y
    assert ours.dual_gap_ <= ours.tol * 0.5 * np.sum(s * yc**2) / n


RIDGE_PROBLEMS = [
    ("dense n>p", 80, 20, False, True, False),
    ("dense p>n", 30, 100, False, True, False),
    ("dense no intercept", 60, 30, False, False, False),
    ("dense weights", 50, 20, False, True, True),
    ("dense weights p>n", 30, 60, False, True, True),
    ("sparse n>p", 120, 40, True, True, False),
    ("sparse p>n", 40, 150, True, True, False),
    ("sparse weights", 90, 30, True, True, True),
    ("sparse no intercept", 60, 80, True, False, False),
]


@pytest.mark.parametrize("solver", ["auto", "svd", "cg"])
@pytest.mark.parametrize(("name", "n", "p", "sparse", "fit_intercept", "weighted"),
                         RIDGE_PROBLEMS, ids=[p[0] for p in RIDGE_PROBLEMS])
def test_ridge_matches_sklearn(name, n, p, sparse, fit_intercept, weighted, solver):
    X, y = make_problem(n, p, sparse=sparse, seed=n * p)
    sw = _weights(n, weighted)
    alpha = 0.3
    sum_weights = n if sw is None else sw.sum()
    ours = sh.Ridge(alpha=alpha, fit_intercept=fit_intercept, solver=solver, tol=1e-12,
                    max_iter=10_000).fit(X, y, sample_weight=sw)
    # scikit-learn's Ridge minimises ||y - Xw - b||^2_s + a ||w||^2: a = alpha * sum(s)
    ref = sk.Ridge(alpha=alpha * sum_weights, fit_intercept=fit_intercept, solver="auto",
                   tol=1e-14, max_iter=100_000).fit(X if not sparse else X.toarray(), y,
                                                    sample_weight=sw)
    _assert_close(ours.coef_, ref.coef_, 1e-6)
    _assert_close(ours.intercept_, ref.intercept_, 1e-6)
    assert abs(ours.dual_gap_) < 1e-9 * np.var(y)


def test_ridge_multi_target_and_positive():
    X, y = make_problem(60, 15, n_targets=3, seed=5)
    ours = sh.Ridge(alpha=0.2).fit(X, y)
    ref = sk.Ridge(alpha=0.2 * 60).fit(X, y)
    assert ours.coef_.shape == (3, 15)
    _assert_close(ours.coef_, ref.coef_, 1e-8)
    _assert_close(ours.intercept_, ref.intercept_, 1e-8)
    ours = sh.Ridge(alpha=0.2, positive=True, tol=1e-14, max_iter=100_000).fit(X, y[:, 0])
    ref = sk.Ridge(alpha=0.2 * 60, positive=True, tol=1e-12).fit(X, y[:, 0])
    assert np.all(ours.coef_ >= 0)
    _assert_close(ours.coef_, ref.coef_, 1e-5)  # scikit-learn's positive ridge is L-BFGS-B


def test_lasso_multi_target_matches_sklearn():
    X, y = make_problem(50, 30, n_targets=2, seed=9)
    ours = sh.Lasso(alpha=0.1, **TIGHT).fit(X, y)
    ref = sk.Lasso(alpha=0.1, **TIGHT).fit(X, y)
    assert ours.coef_.shape == (2, 30) and ours.dual_gap_.shape == (2,)
    _assert_close(ours.coef_, ref.coef_, 1e-6)
    _assert_close(ours.intercept_, ref.intercept_, 1e-6)


def test_flat_prior_is_least_squares():
    X, y = make_problem(50, 10, seed=2)
    ours = sh.MAPRegressor(prior=sh.Flat()).fit(X, y)
    ref = sk.LinearRegression().fit(X, y)
    _assert_close(ours.coef_, ref.coef_, 1e-10)
    _assert_close(ours.intercept_, ref.intercept_, 1e-10)
    Xs = sp.csc_matrix(X)
    ours = sh.Ridge(alpha=0.0).fit(Xs, y)
    _assert_close(ours.coef_, ref.coef_, 1e-8)


def test_penalty_factor_matches_rescaled_columns():
    """A factor f_j > 0 is the lasso on X_j / f_j with w_j scaled by 1 / f_j (scikit-learn)."""
    X, y = make_problem(60, 20, seed=11)
    f = np.random.default_rng(0).uniform(0.3, 3.0, 20)
    ours = sh.Lasso(alpha=0.05, penalty_factor=f, **TIGHT).fit(X, y)
    ref = sk.Lasso(alpha=0.05, **TIGHT).fit(X / f, y)
    _assert_close(ours.coef_, ref.coef_ / f, 1e-6)
    _assert_close(ours.intercept_, ref.intercept_, 1e-6)


@pytest.mark.parametrize("sparse", [False, True])
def test_unpenalized_feature_matches_partialled_out_lasso(sparse):
    """f_j = 0: by Frisch-Waugh the other coefficients are the lasso on the data with column j
    (and the intercept) regressed out."""
    X, y = make_problem(80, 25, seed=12, sparse=sparse)
    f = np.ones(25)
    f[[3, 7]] = 0.0
    ours = sh.Lasso(alpha=0.1, penalty_factor=f, **TIGHT).fit(X, y)
    Xd = X.toarray() if sparse else X
    Xc, yc = Xd - Xd.mean(0), y - y.mean()
    U = Xc[:, [3, 7]]
    proj = U @ np.linalg.lstsq(U, np.column_stack([Xc, yc]), rcond=None)[0]
    resid = np.column_stack([Xc, yc]) - proj
    keep = np.flatnonzero(f > 0)
    ref = sk.Lasso(alpha=0.1, fit_intercept=False, **TIGHT).fit(resid[:, keep], resid[:, -1])
    _assert_close(ours.coef_[keep], ref.coef_, 1e-6)
    assert ours.coef_[3] != 0 and ours.coef_[7] != 0


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize(
    ("name", "n", "p", "sparse", "fit_intercept", "weighted", "positive", "dtype", "ratio"),
    [*PROBLEMS, ("dense tall", 600, 25, False, True, True, False, np.float64, 0.01)],
    ids=[*(p[0] for p in PROBLEMS), "dense tall"])
def test_covariance_mode_matches_sklearn(name, n, p, sparse, fit_intercept, weighted, positive,
                                         dtype, ratio, l1_ratio):
    """precompute=True: coordinate descent on the Gram matrix, same answers."""
    X, y = make_problem(n, p, sparse=sparse, dtype=dtype, seed=n + p + 1)
    sw = _weights(n, weighted)
    alpha = ratio * alpha_max(X, y, sw, fit_intercept) / l1_ratio
    params = dict(alpha=alpha, fit_intercept=fit_intercept, positive=positive, **TIGHT)
    ours = sh.ElasticNet(l1_ratio=l1_ratio, precompute=True, **params).fit(X, y, sample_weight=sw)
    ref = sk.ElasticNet(l1_ratio=l1_ratio, **params).fit(X.astype(np.float64), y,
                                                         sample_weight=sw)
    rtol = 1e-4 if dtype == np.float32 else 1e-6
    _assert_close(ours.coef_, ref.coef_, rtol)
    _assert_close(ours.intercept_, ref.intercept_, rtol)


@pytest.mark.parametrize(("fraction", "tol", "switches"), [(0.5, 1e-4, False), (0.002, 1e-12, True)])
def test_covariance_switch_mid_fit(fraction, tol, switches):
    """p <= n < 10 p: a single fit starts without the Gram matrix and forms it once its updates
    have cost as much (see ``solvers.cd.use_gram``); the answer is scikit-learn's either way, and
    a hard fit does switch while an easy one does not."""
    from shrinkage.solvers import make_design
    from shrinkage.solvers.cd import _kernels_for, solve_enet, use_gram

    rng = np.random.default_rng(0)
    n, p = 400, 150
    X = rng.standard_normal((n, p))
    for j in range(1, p):  # correlated columns: many passes at small alpha
        X[:, j] = 0.9 * X[:, j - 1] + np.sqrt(1 - 0.81) * X[:, j]
    y = X[:, ::10] @ rng.standard_normal(15) + rng.standard_normal(n)
    design = make_design(X, y)
    assert use_gram(design, "auto") == "switch" and use_gram(design, "auto", path=True) is True
    alpha = fraction * alpha_max(X, y)
    l1 = np.full(p, alpha)
    result = solve_enet(design, l1, np.zeros(p), tol=tol, max_iter=100_000)
    assert (_kernels_for(design, "switch").gram is not None) == switches
    assert result.gap <= tol * design.null_objective()
    ref = sk.Lasso(alpha=alpha, **TIGHT).fit(X, y)
    _assert_close(result.coef, ref.coef_, 1e-6 if switches else 1e-2)
