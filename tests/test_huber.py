"""HuberRegressor: objective against an independent smooth solver, KKT, the least-squares limit,
robustness to outliers, the contract."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import shrinkage as sh


def make_problem(n=80, p=6, seed=0, outliers=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(n) + 3.0
    y[:outliers] += rng.choice([-25.0, 25.0], outliers)
    return X, y


def huber_mean(r, delta):
    a = np.abs(r)
    return np.mean(np.where(a <= delta, 0.5 * r * r, delta * a - 0.5 * delta**2))


@pytest.mark.parametrize("penalty,l1_ratio", [("l2", None), ("l1", None), ("elasticnet", 0.5)])
@pytest.mark.parametrize("sparse", [False, True])
def test_objective_matches_l_bfgs_b_on_the_split_problem(penalty, l1_ratio, sparse):
    X, y = make_problem(seed=1)
    alpha, delta = 0.05, 1.0
    model = sh.HuberRegressor(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, delta=delta,
                              tol=1e-12).fit(sp.csr_matrix(X) if sparse else X, y)
    rho = {"l2": 0.0, "l1": 1.0, "elasticnet": 0.5}[penalty]
    p = X.shape[1]

    def objective(coef, b):
        return huber_mean(y - X @ coef - b, delta) + alpha * (
            rho * np.abs(coef).sum() + 0.5 * (1 - rho) * coef @ coef)

    def split(theta):  # w = u - v, u, v >= 0: smooth with bounds
        u, v = theta[1:p + 1], theta[p + 1:]
        coef = u - v
        return huber_mean(y - X @ coef - theta[0], delta) + alpha * (
            rho * (u.sum() + v.sum()) + 0.5 * (1 - rho) * coef @ coef)

    found = minimize(split, np.zeros(2 * p + 1), method="L-BFGS-B",
                     bounds=[(None, None)] + [(0, None)] * (2 * p),
                     options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20_000})
    ours = objective(model.coef_, model.intercept_)
    assert ours <= found.fun + 1e-9 * found.fun
    assert abs(ours - found.fun) <= 1e-6 * found.fun
    assert model.dual_gap_ <= 1e-12 * huber_mean(y - np.median(y), delta) * 10


def test_kkt_and_outliers():
    X, y = make_problem(seed=2)
    alpha, delta = 0.02, 1.5
    model = sh.HuberRegressor(penalty="l1", alpha=alpha, delta=delta, tol=1e-12).fit(X, y)
    r = y - X @ model.coef_ - model.intercept_
    psi = np.clip(r, -delta, delta)
    grad = -X.T @ psi / len(y)
    w = model.coef_
    violation = np.where(w != 0, np.abs(grad + alpha * np.sign(w)),
                         np.maximum(np.abs(grad) - alpha, 0))
    assert violation.max() <= 1e-6
    assert abs(psi.sum()) <= 1e-6 * len(y)
    assert model.outliers_[:8].all()  # the planted gross errors


def test_large_delta_is_the_lasso():
    X, y = make_problem(seed=3, outliers=0)
    huber = sh.HuberRegressor(penalty="l1", alpha=0.1, delta=1e6, tol=1e-12).fit(X, y)
    lasso = sh.Lasso(alpha=0.1, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(huber.coef_, lasso.coef_, atol=1e-7)
    assert huber.intercept_ == pytest.approx(lasso.intercept_, abs=1e-7)


def test_robust_to_outliers_where_least_squares_is_not():
    X, y = make_problem(n=200, seed=4, outliers=20)
    clean = make_problem(n=200, seed=4, outliers=0)[1]
    truth = sh.Ridge(alpha=1e-6).fit(X, clean).coef_
    huber = sh.HuberRegressor(alpha=1e-4).fit(X, y).coef_
    ridge = sh.Ridge(alpha=1e-6).fit(X, y).coef_
    assert np.abs(huber - truth).max() < 0.5 * np.abs(ridge - truth).max()


@parametrize_with_checks([sh.HuberRegressor(penalty="l1", alpha=0.01)])
def test_check_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
