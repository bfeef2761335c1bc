"""The seeds' statements, checked numerically: MAP = penalized fit; the from-scratch examples."""

import numpy as np
import pytest
from scipy import optimize
from sklearn import linear_model as sk

import shrinkage as sh
from conftest import make_problem


def _neg_log_posterior_laplace(params, X, y, noise, scale):
    """-log p(y | w, b) - log p(w) for Gaussian noise and a Laplace prior, with w = u - v and
    u, v >= 0 so that a smooth bound-constrained optimiser (L-BFGS-B) can minimise it."""
    p = X.shape[1]
    u, v, b = params[:p], params[p:2 * p], params[-1]
    r = y - X @ (u - v) - b
    value = 0.5 * r @ r / noise**2 + np.sum(u + v) / scale
    grad_w = -(X.T @ r) / noise**2
    grad = np.concatenate([grad_w + 1 / scale, -grad_w + 1 / scale, [-r.sum() / noise**2]])
    return value, grad


def test_map_under_laplace_prior_is_the_lasso():
    X, y = make_problem(60, 12, seed=21)
    noise, scale = 1.3, 0.02
    n, p = X.shape
    res = optimize.minimize(_neg_log_posterior_laplace, np.zeros(2 * p + 1),
                            args=(X, y, noise, scale), jac=True, method="L-BFGS-B",
                            bounds=[(0, None)] * (2 * p) + [(None, None)],
                            options=dict(ftol=1e-16, gtol=1e-12, maxiter=100_000, maxcor=50))
    w_map = res.x[:p] - res.x[p:2 * p]
    alpha = noise**2 / (n * scale)  # the documented map
    lasso = sh.Lasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(lasso.coef_, w_map, atol=1e-6 * np.abs(w_map).max())
    np.testing.assert_allclose(lasso.intercept_, res.x[-1], rtol=1e-6)
    assert np.count_nonzero(lasso.coef_) < p  # the Laplace prior's mode is sparse


def test_map_under_gaussian_prior_is_ridge():
    X, y = make_problem(40, 15, seed=22)
    noise, tau = 0.7, 0.4
    n = X.shape[0]

    def neg_log_posterior(params):
        w, b = params[:-1], params[-1]
        r = y - X @ w - b
        value = 0.5 * r @ r / noise**2 + 0.5 * w @ w / tau**2
        grad = np.concatenate([-(X.T @ r) / noise**2 + w / tau**2, [-r.sum() / noise**2]])
        return value, grad

    res = optimize.minimize(neg_log_posterior, np.zeros(16), jac=True, method="L-BFGS-B",
                            options=dict(ftol=1e-16, gtol=1e-12, maxiter=10_000))
    ridge = sh.Ridge(alpha=noise**2 / (n * tau**2)).fit(X, y)
    np.testing.assert_allclose(ridge.coef_, res.x[:-1], rtol=1e-6, atol=1e-8)
    # and scikit-learn's scaling: a = noise^2 / tau^2
    ref = sk.Ridge(alpha=noise**2 / tau**2).fit(X, y)
    np.testing.assert_allclose(ridge.coef_, ref.coef_, rtol=1e-10)


@pytest.mark.parametrize(("prior", "estimator_for"), [
    (sh.Laplace(0.05), lambda a: sh.Lasso(alpha=a)),
    (sh.Gaussian(0.3), lambda a: sh.Ridge(alpha=a)),
    (sh.ElasticNetPrior(0.05, 0.3), None),
    (sh.Flat(), lambda a: sh.Ridge(alpha=0.0)),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_map_regressor_returns_exactly_the_matching_estimator(prior, estimator_for, weighted):
    X, y = make_problem(50, 20, seed=23)
    sw = np.random.default_rng(0).integers(1, 4, 50).astype(float) if weighted else None
    noise = 0.9
    fit = sh.MAPRegressor(prior=prior, noise=noise).fit(X, y, sample_weight=sw)
    n_obs = 50 if sw is None else sw.sum()
    penalty = prior.penalty(noise, n_obs)
    if estimator_for is None:
        matching = sh.ElasticNet(alpha=penalty.alpha, l1_ratio=penalty.l1_ratio)
    else:
        matching = estimator_for(penalty.alpha)
    matching.fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(fit.coef_, matching.coef_)
    assert fit.intercept_ == matching.intercept_
    assert fit.alpha_ == penalty.alpha


def test_laplace_posterior_mode_differs_from_mle_by_shrinkage():
    X, y = make_problem(50, 10, seed=24)
    mle = sh.MAPRegressor().fit(X, y)
    tight = sh.MAPRegressor(prior=sh.Laplace(1e-3), noise=1.0).fit(X, y)
    loose = sh.MAPRegressor(prior=sh.Laplace(1e3), noise=1.0).fit(X, y)
    assert np.abs(tight.coef_).sum() < np.abs(loose.coef_).sum() <= np.abs(mle.coef_).sum()
    np.testing.assert_allclose(loose.coef_, mle.coef_, atol=1e-3)


def seed_coordinate_descent(X, y, lam, n_sweeps=1000):
    """The first seed's from-scratch lasso: minimise (1/2)||y - X b||^2 + lam ||b||_1 by cycling
    b_i = S_lam(a_i) / (X_i' X_i) with a_i = X_i' (y - X_{-i} b_{-i})."""
    beta = np.zeros(X.shape[1])
    for _ in range(n_sweeps):
        for i in range(X.shape[1]):
            partial = y - X @ beta + X[:, i] * beta[i]
            a = X[:, i] @ partial
            beta[i] = np.sign(a) * max(abs(a) - lam, 0.0) / (X[:, i] @ X[:, i])
    return beta


def test_seed_lasso_two_feature_example():
    """y = b0 x0 + b1 x1 + noise with lambda = 1, no intercept, as in the seed. The seed's
    objective omits 1/n, so scikit-learn and shrinkage take alpha = lambda / n."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2))
    y = X @ np.array([1.0, 2.0]) + 0.1 * rng.standard_normal(100)
    scratch = seed_coordinate_descent(X, y, lam=1.0)
    ours = sh.Lasso(alpha=1.0 / 100, fit_intercept=False, tol=1e-14).fit(X, y)
    ref = sk.Lasso(alpha=1.0 / 100, fit_intercept=False, tol=1e-14).fit(X, y)
    np.testing.assert_allclose(ours.coef_, scratch, rtol=1e-9)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9)
    np.testing.assert_allclose(ours.coef_, [1.0, 2.0], atol=0.05)


def test_seed_ridge_closed_form():
    """The seed's ridge: (X'X + lambda I)^-1 X'y with lambda = 1 (solved, not inverted) equals
    scikit-learn's Ridge(alpha=1, fit_intercept=False) and shrinkage's Ridge(alpha=1/n)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 2))
    y = X @ np.array([2.0, 3.0]) + rng.normal(size=100)
    closed = np.linalg.solve(X.T @ X + np.eye(2), X.T @ y)
    ours = sh.Ridge(alpha=1.0 / 100, fit_intercept=False).fit(X, y)
    ref = sk.Ridge(alpha=1.0, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(ours.coef_, closed, rtol=1e-12)
    np.testing.assert_allclose(ref.coef_, closed, rtol=1e-12)
