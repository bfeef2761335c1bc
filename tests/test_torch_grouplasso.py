"""GroupLasso (the l2,1 penalty of shrinkage.torch) on NumPy arrays: prox, KKT, alpha_max."""

import numpy as np
import pytest
from scipy import optimize
from sklearn.linear_model import MultiTaskLasso

from shrinkage.penalties import L1, GroupLasso


def test_prox_is_the_argmin_of_its_problem():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4)) * np.array([[0.1], [1.0], [2.0]])
    penalty = GroupLasso(0.7, dim=0, weights=[1.0, 1.2, 0.5])
    step = 0.8
    got = penalty.prox(W, step)
    assert np.all(got[0] == 0) and np.all(got[1:] != 0)

    def objective(x):
        X = x.reshape(W.shape)
        return np.sum((X - W) ** 2) / (2 * step) + penalty.value(X)

    brute = optimize.minimize(objective, W.ravel(), method="Powell",
                              options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 200_000}).x
    assert objective(got.ravel()) <= objective(brute) + 1e-10
    np.testing.assert_allclose(got.ravel(), brute, atol=1e-4)
    # one coefficient per group is the lasso's soft-thresholding
    v = rng.standard_normal(9)
    np.testing.assert_allclose(GroupLasso(0.5).prox(v, 0.7), L1(0.5).prox(v, 0.7), rtol=1e-15)


def test_kkt_and_alpha_max_at_multitask_lasso_solutions():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((40, 8)), rng.standard_normal((40, 3))
    n = X.shape[0]
    penalty = GroupLasso(1.0, dim=1)
    alpha_max = penalty.alpha_max(-(Y.T @ X) / n)      # gradient of (1/2n)||Y - X W'||^2 at W = 0
    assert np.all(MultiTaskLasso(alpha=alpha_max * 1.0001, fit_intercept=False).fit(X, Y).coef_ == 0)
    assert np.any(MultiTaskLasso(alpha=alpha_max * 0.98, fit_intercept=False).fit(X, Y).coef_ != 0)
    alpha = 0.6 * alpha_max
    W = MultiTaskLasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, Y).coef_
    grad = -((Y - X @ W.T).T @ X) / n
    kkt = GroupLasso(alpha, dim=1).subdiff_distance(W, grad)
    assert kkt.max() < 1e-7
    assert 0 < np.sum(np.all(W == 0, axis=0)) < 8
    assert GroupLasso(alpha * 1.5, dim=1).subdiff_distance(W, grad).max() > 1e-3


def test_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        GroupLasso(-1.0)
    with pytest.raises(ValueError, match="dim=2 does not exist"):
        GroupLasso(1.0, dim=2).prox(np.ones((2, 3)), 1.0)
    with pytest.raises(TypeError, match="integer"):
        GroupLasso(1.0, dim=0.5)
    with pytest.raises(ValueError, match="one entry per feature"):
        GroupLasso(1.0, dim=0, weights=[1.0, 2.0]).value(np.ones((3, 2)))
