"""logistic_path and LogisticRegressionCV: against scikit-learn on the same grid and folds."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.linear_model import LogisticRegressionCV as SkLogisticCV
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

import shrinkage as sh
from shrinkage.linear_model import one_standard_error_alpha
from test_logistic import make_problem, sk_objective


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_path_starts_at_alpha_max_and_matches_scikit_learn(n_classes, sparse):
    X, y = make_problem(n=60, p=10, n_classes=n_classes, sparse=sparse, seed=21)
    n = X.shape[0]
    with warnings.catch_warnings():
        if n_classes > 2:  # the multinomial L1 certificate's float64 floor, ~1e-8: warned
            warnings.simplefilter("ignore", ConvergenceWarning)
        path = sh.logistic_path(X, y, alphas=8, eps=0.05, tol=1e-9, max_iter=500)
    assert path.alphas[0] > path.alphas[-1]
    coefs = path.coefs if n_classes == 2 else path.coefs.transpose(2, 0, 1)
    first = coefs[..., 0] if n_classes == 2 else coefs[0]
    assert not np.any(first)  # alpha_max: every coefficient zero ...
    # ... and just below it the first feature enters (alpha_max is the smallest such alpha)
    below = sh.LogisticRegression(penalty="l1", alpha=0.99 * path.alphas[0], tol=1e-10).fit(X, y)
    assert np.any(below.coef_)
    for k in (3, 7):
        alpha = path.alphas[k]
        C = 1 / (alpha * n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = SkLogistic(C=C, l1_ratio=1.0, solver="saga", tol=1e-12,
                             max_iter=200_000).fit(X, y)
        if n_classes == 2:
            coef, intercept = path.coefs[:, k][None, :], path.intercepts[k]
        else:
            coef, intercept = path.coefs[:, :, k], path.intercepts[:, k]
        ours = sk_objective(X, y, coef, intercept, C, 1.0)
        theirs = sk_objective(X, y, ref.coef_, ref.intercept_, C, 1.0)
        assert abs(ours - theirs) <= 1e-6 * theirs
    assert np.all(np.diff(path.n_nonzero[:4]) >= 0)


def _l1_logistic_lbfgsb(X, y, C):
    """``C sum_i NLL_i + ||w||_1`` with a free intercept, by L-BFGS-B on ``w = u - v``, ``u, v >= 0``."""
    from scipy.optimize import minimize

    p = X.shape[1]

    def fun(theta):
        b, u, v = theta[0], theta[1:p + 1], theta[p + 1:]
        z = X @ (u - v) + b
        g = C * (1.0 / (1.0 + np.exp(-z)) - y)
        value = C * np.sum(np.logaddexp(0.0, z) - y * z) + u.sum() + v.sum()
        gw = X.T @ g
        return value, np.concatenate([[g.sum()], gw + 1.0, -gw + 1.0])

    bounds = [(None, None)] + [(0.0, None)] * (2 * p)
    res = minimize(fun, np.zeros(2 * p + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"ftol": 1e-16, "gtol": 1e-12, "maxiter": 100_000})
    return res.x[1:p + 1] - res.x[p + 1:], res.x[0]


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_cv_matches_scikit_learn_on_the_same_folds_and_grid(penalty):
    X, y = make_problem(n=90, p=8, seed=23)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    n_train = 60  # every training part: equal folds, so alpha = 1 / (C n_train) on each
    ours = sh.LogisticRegressionCV(penalty=penalty, alphas=8, eps=0.02, cv=folds,
                                   tol=1e-10, max_iter=500).fit(X, y)
    Cs = 1.0 / (ours.alphas_ * n_train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkLogisticCV(Cs=Cs, cv=folds, l1_ratios=[1.0 if penalty == "l1" else 0.0],
                           solver="saga" if penalty == "l1" else "lbfgs",
                           scoring="neg_log_loss", tol=1e-12, max_iter=100_000,
                           use_legacy_attributes=False).fit(X, y)
    # scikit-learn's per-fold mean log-loss, C in increasing order (alphas decreasing)
    sk_scores = -np.asarray(ref.scores_).reshape(3, -1)  # (folds, Cs)
    if penalty == "l2":
        np.testing.assert_allclose(ours.cv_scores_.T, 2 * sk_scores, rtol=1e-5)
    else:
        # saga (scikit-learn's only L1 solver with a free intercept) stops up to ~1e-3 away in
        # held-out deviance on some folds even at tol 1e-12, varying from run to run (its
        # intercept is off): the per-fold deviances are checked against L-BFGS-B on the split
        # smooth problem instead, and saga only to 1e-2
        np.testing.assert_allclose(ours.cv_scores_.T, 2 * sk_scores, rtol=1e-2)
        for f, (train, test) in enumerate(folds.split(X, y)):
            for k, alpha in enumerate(ours.alphas_):
                coef, b = _l1_logistic_lbfgsb(X[train], y[train], 1.0 / (alpha * n_train))
                z = X[test] @ coef + b
                deviance = 2 * np.mean(np.logaddexp(0.0, z) - y[test] * z)
                assert ours.cv_scores_[k, f] == pytest.approx(deviance, rel=1e-5)
    best = int(np.argmin(ours.cvm_))
    assert ours.alpha_min_ == ours.alphas_[best]
    assert 1 / (ours.alpha_min_ * n_train) == pytest.approx(np.ravel(ref.C_)[0])
    a_min, a_1se, _, _ = one_standard_error_alpha(ours.alphas_, ours.cv_scores_)
    assert (ours.alpha_min_, ours.alpha_1se_) == (a_min, a_1se)
    assert ours.alpha_1se_ >= ours.alpha_min_
    refit = sh.LogisticRegression(penalty=penalty, alpha=ours.alpha_, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.coef_, refit.coef_, atol=1e-8)


def test_cv_multiclass_misclassification_and_1se_refit():
    X, y = make_problem(n=90, p=6, n_classes=3, seed=29)
    model = sh.LogisticRegressionCV(alphas=6, eps=0.05, cv=3, scoring="misclassification",
                                    refit="1se").fit(sp.csr_matrix(X), np.array(["a", "b", "c"])[y])
    assert model.alpha_ == model.alpha_1se_
    assert model.coef_.shape == (3, 6)
    assert np.all((model.cv_scores_ >= 0) & (model.cv_scores_ <= 1))
    assert set(model.predict(X)) <= {"a", "b", "c"}


@parametrize_with_checks([sh.LogisticRegressionCV(alphas=3, eps=0.1, cv=2)])
def test_check_estimator_cv(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
