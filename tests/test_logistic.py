"""LogisticRegression: objective values against scikit-learn at tight tolerance, liblinear's
penalized intercept, the prior reading, KKT on hypothesis-drawn problems, bad labels, the contract."""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.utils.estimator_checks import parametrize_with_checks

import shrinkage as sh
from shrinkage.priors import Gaussian, Laplace

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def sk_objective(X, y_enc, coef, intercept, C, l1_ratio, sample_weight=None, penalize_b=0.0):
    """scikit-learn's ``C sum_i s_i NLL_i + l1_ratio ||W||_1 + (1 - l1_ratio) ||W||^2 / 2``,
    written out independently (``penalize_b``: liblinear's intercept column value)."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    s = np.ones(Xd.shape[0]) if sample_weight is None else sample_weight
    W = np.atleast_2d(coef).astype(np.float64)
    Z = Xd @ W.T + intercept
    if W.shape[0] == 1:
        z = Z[:, 0]
        nll = np.logaddexp(0.0, z) - y_enc * z
    else:
        nll = logsumexp(Z, axis=1) - Z[np.arange(len(y_enc)), y_enc]
    if penalize_b:
        W = np.column_stack([W, np.atleast_1d(intercept) / penalize_b])
    return C * (s @ nll) + l1_ratio * np.abs(W).sum() + 0.5 * (1 - l1_ratio) * (W * W).sum()


def make_problem(n=80, p=12, n_classes=2, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.6] = 0.0
    k = min(4, p)
    scores = X[:, :k] @ rng.standard_normal((k, n_classes)) + rng.standard_normal((n, n_classes))
    y = np.argmax(scores, axis=1) if n_classes > 2 else (scores[:, 0] > 0.3).astype(int)
    return (sp.csr_matrix(X) if sparse else X), y


def sklearn_reference(X, y, C, l1_ratio, sample_weight=None):
    # lbfgs for the smooth case, saga otherwise; both to 1e-12 (saga needs scaled columns, which
    # make_problem gives)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solver = "lbfgs" if l1_ratio == 0 else "saga"
        model = SkLogistic(C=C, l1_ratio=l1_ratio, solver=solver, tol=1e-12, max_iter=200_000)
        return model.fit(X, y, sample_weight=sample_weight)


PENALTIES = [("l1", 1.0), ("l2", 0.0), ("elasticnet", 0.4)]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("penalty,l1_ratio", PENALTIES)
def test_objective_matches_scikit_learn(n_classes, sparse, penalty, l1_ratio):
    X, y = make_problem(n_classes=n_classes, sparse=sparse, seed=n_classes)
    C = 0.3
    ref = sklearn_reference(X, y, C, l1_ratio)
    # multinomial: the first-order gap has a float64 floor near 1e-8 of the null objective on L1
    # problems (solvers/multinomial.py), below which the solver stops with a warning
    tol = 1e-10 if n_classes == 2 else 1e-8
    model = sh.LogisticRegression(penalty=penalty, C=C, l1_ratio=l1_ratio, tol=tol,
                                  max_iter=1000)
    with warnings.catch_warnings():
        if n_classes > 2:  # at that floor (sparse L1 here) the warning states the gap reached
            warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    ours = sk_objective(X, y, model.coef_, model.intercept_, C, l1_ratio)
    theirs = sk_objective(X, y, ref.coef_, ref.intercept_, C, l1_ratio)
    assert abs(ours - theirs) <= 1e-6 * abs(theirs)
    assert ours <= theirs * (1 + (1e-9 if n_classes == 2 else 1e-7))  # ours is (near) optimal
    assert model.coef_.shape == ref.coef_.shape
    assert model.intercept_.shape == ref.intercept_.shape
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=2e-4)


def test_sample_weights_match_scikit_learn():
    X, y = make_problem(seed=5)
    sw = np.random.default_rng(5).uniform(0.2, 3.0, X.shape[0])
    ref = sklearn_reference(X, y, 0.5, 1.0, sample_weight=sw)
    model = sh.LogisticRegression(penalty="l1", C=0.5, tol=1e-10).fit(X, y, sample_weight=sw)
    ours = sk_objective(X, y, model.coef_, model.intercept_, 0.5, 1.0, sw)
    theirs = sk_objective(X, y, ref.coef_, ref.intercept_, 0.5, 1.0, sw)
    assert abs(ours - theirs) <= 1e-6 * abs(theirs)


@pytest.mark.parametrize("penalty,l1_ratio", [("l1", 1.0), ("l2", 0.0)])
@pytest.mark.parametrize("scaling", [1.0, 3.0])
@pytest.mark.parametrize("sparse", [False, True])
def test_penalized_intercept_reproduces_liblinear(penalty, l1_ratio, scaling, sparse):
    X, y = make_problem(seed=7, sparse=sparse)
    C = 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkLogistic(C=C, l1_ratio=l1_ratio, solver="liblinear", intercept_scaling=scaling,
                         tol=1e-12, max_iter=100_000).fit(X, y)
    model = sh.LogisticRegression(penalty=penalty, C=C, penalize_intercept=True,
                                  intercept_scaling=scaling, tol=1e-10).fit(X, y)
    ours = sk_objective(X, y, model.coef_, model.intercept_, C, l1_ratio, penalize_b=scaling)
    theirs = sk_objective(X, y, ref.coef_, ref.intercept_, C, l1_ratio, penalize_b=scaling)
    assert abs(ours - theirs) <= 1e-6 * abs(theirs)
    # and the default intercept is exactly unpenalized: a different (lower) optimum
    free = sh.LogisticRegression(penalty=penalty, C=C, tol=1e-10).fit(X, y)
    assert sk_objective(X, y, free.coef_, free.intercept_, C, l1_ratio) <= ours + 1e-12


def test_alpha_is_one_over_c_n_and_float32_agrees():
    X, y = make_problem(seed=11)
    n = X.shape[0]
    by_c = sh.LogisticRegression(penalty="l1", C=0.25, tol=1e-12).fit(X, y)
    by_alpha = sh.LogisticRegression(penalty="l1", alpha=1 / (0.25 * n), tol=1e-12).fit(X, y)
    np.testing.assert_allclose(by_alpha.coef_, by_c.coef_, rtol=1e-9, atol=1e-12)
    assert by_c.alpha_ == pytest.approx(1 / (0.25 * n))
    # float32 data: a certificate near 1e-10 is below what the float32 products resolve
    single = sh.LogisticRegression(penalty="l1", C=0.25, tol=1e-7).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(single.coef_, by_c.coef_, atol=1e-5)


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_prior_reading_is_the_map_estimate(penalty):
    """C sum NLL + ||w||_1 is -log(likelihood x Laplace(b=C)); + ||w||^2/2 is Gaussian(tau^2=C)."""
    X, y = make_problem(n=60, p=3, seed=2)
    C = 0.7
    prior = Laplace(scale=C) if penalty == "l1" else Gaussian(scale=np.sqrt(C))
    model = sh.LogisticRegression(penalty=penalty, C=C, tol=1e-12).fit(X, y)
    loglik = sh.Logistic().log_likelihood

    def neg_log_posterior(theta):
        z = X @ theta[1:] + theta[0]
        return -loglik(y, z) - np.sum(prior.logpdf(theta[1:]))

    start = np.concatenate([model.intercept_, model.coef_[0]])
    best = neg_log_posterior(start)
    # the MAP point: no perturbation (and no independent optimizer run) does better
    rng = np.random.default_rng(0)
    for _ in range(200):
        assert neg_log_posterior(start + 1e-3 * rng.standard_normal(start.size)) >= best - 1e-12
    if penalty == "l2":
        found = minimize(neg_log_posterior, np.zeros(4), method="BFGS", options={"gtol": 1e-10})
        np.testing.assert_allclose(found.x, start, atol=1e-5)


@st.composite
def logistic_problems(draw):
    n = draw(st.integers(10, 40))
    p = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    sparse = draw(st.booleans())
    if sparse:
        X = sp.random(n, p, density=draw(st.sampled_from([0.2, 0.6])), format="csc",
                      random_state=seed, data_rvs=rng.standard_normal)
    else:
        X = rng.standard_normal((n, p)) * rng.uniform(0.1, 5, p) + rng.uniform(-1, 1, p)
    y = (rng.random(n) < draw(st.sampled_from([0.2, 0.5]))).astype(int)
    y[:2] = [0, 1]
    weights = rng.uniform(0.1, 3.0, n) if draw(st.booleans()) else None
    return dict(X=X, y=y, sample_weight=weights, l1_ratio=draw(st.sampled_from([1.0, 0.6, 0.0])),
                fit_intercept=draw(st.booleans()), ratio=draw(st.sampled_from([0.02, 0.2, 0.9])))


@given(logistic_problems())
def test_kkt_holds_at_every_solution(problem):
    X, y, sw = problem["X"], problem["y"], problem["sample_weight"]
    Xd = X.toarray() if sp.issparse(X) else X
    n = Xd.shape[0]
    s = np.ones(n) if sw is None else sw * n / sw.sum()
    # alpha relative to alpha_max at w = 0 (intercept fitted)
    ybar = s @ y / n if problem["fit_intercept"] else 0.5
    alpha = problem["ratio"] * max(np.abs(Xd.T @ (s * (ybar - y))).max() / n, 1e-3)
    l1_ratio = problem["l1_ratio"]
    model = sh.LogisticRegression(penalty="elasticnet", alpha=alpha, l1_ratio=l1_ratio,
                                  fit_intercept=problem["fit_intercept"], tol=1e-12,
                                  max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y, sample_weight=sw)
    w, b = model.coef_[0], model.intercept_[0]
    # the gradient, written out again: (1/n) X' s (sigmoid(z) - y)
    z = Xd @ w + b
    residual = s * (1.0 / (1.0 + np.exp(-z)) - y) / n
    grad = Xd.T @ residual + alpha * (1 - l1_ratio) * w
    l1 = alpha * l1_ratio
    violation = np.where(w != 0, np.abs(grad + l1 * np.sign(w)), np.maximum(np.abs(grad) - l1, 0))
    # relative to each coordinate's curvature bound sqrt(L_j + l2): a gap <= tol bounds this by
    # ~sqrt(2 tol) whatever the column scaling (the logistic curvature is at most 1/4)
    curvature = s @ Xd**2 / (4 * n) + alpha * (1 - l1_ratio)
    assert np.max(violation / np.sqrt(curvature), initial=0.0) <= 1e-5
    if problem["fit_intercept"]:
        assert abs(residual.sum()) <= 1e-5 * np.sqrt(0.25)
    assert model.dual_gap_ <= 1e-12 * np.log(2) + 1e-15


@pytest.mark.parametrize("y,message", [
    (np.zeros(20), "only one class"),
    (np.r_[np.full(10, np.nan), np.ones(10)], "NaN"),
    (np.linspace(0, 1, 20), "continuous"),
])
def test_bad_labels_give_clear_errors(y, message):
    X = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(ValueError, match=message):
        sh.LogisticRegression().fit(X, y)


def test_labels_of_any_type_and_output_shapes():
    X, y = make_problem(n_classes=3, seed=4)
    names = np.array(["cat", "dog", "emu"])[y]
    model = sh.LogisticRegression(C=0.5).fit(X, names)
    assert list(model.classes_) == ["cat", "dog", "emu"]
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba)
    assert set(model.predict(X)) <= set(names)
    assert model.decision_function(X).shape == (X.shape[0], 3)
    binary = sh.LogisticRegression().fit(X, names == "dog")
    assert binary.decision_function(X).shape == (X.shape[0],)
    assert binary.predict_proba(X).shape == (X.shape[0], 2)


def test_no_penalty_stops_on_kkt():
    X, y = make_problem(n=200, p=3, seed=9)
    model = sh.LogisticRegression(penalty=None, tol=1e-10).fit(X, y)
    ref = SkLogistic(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-5)
    assert np.isnan(model.dual_gap_)


@parametrize_with_checks([sh.LogisticRegression(), sh.LogisticRegression(penalty="l1", C=0.5)])
def test_check_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_newton_subproblem_design_equals_make_design(fit_intercept):
    """The sparse shortcut of solvers/prox_newton.py builds the Design make_design would."""
    from shrinkage.solvers.design import make_design
    from shrinkage.solvers.prox_newton import _subproblem_design

    rng = np.random.default_rng(0)
    X = sp.random(40, 12, density=0.3, format="csc", random_state=0)
    ws = np.array([7, 2, 11, 0])
    target, weights = rng.standard_normal(40), rng.uniform(0.01, 2.0, 40)
    ours = _subproblem_design(X, ws, target, weights, fit_intercept)
    ref = make_design(X[:, ws], target, weights, fit_intercept)
    np.testing.assert_allclose(ours.X.toarray(), ref.X.toarray(), atol=1e-14)
    for name in ("y", "x_offset", "sqrt_sw", "column_sq_norms"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), atol=1e-13)
    assert ours.y_offset == pytest.approx(ref.y_offset, abs=1e-14)
    w = rng.standard_normal(4)
    np.testing.assert_allclose(ours.matvec(w), ref.matvec(w), atol=1e-13)


@pytest.mark.parametrize("fit_intercept,positive,l2", [(True, False, 0.0), (False, False, 0.0),
                                                      (True, True, 0.02)])
def test_sparse_model_kernel_step_equals_solve_enet_step(fit_intercept, positive, l2):
    """The Newton step of the sparse route (coordinate descent reading X's columns, intercept
    eliminated) is the minimiser that solve_enet finds on the same weighted least-squares model."""
    from shrinkage.datafits import Logistic
    from shrinkage.solvers.prox_newton import _model_cd, _newton_direction

    rng = np.random.default_rng(3)
    n, p = 60, 15
    X = sp.random(n, p, density=0.4, format="csc", random_state=3) * 3.0
    y = (rng.random(n) < 0.4).astype(float)
    s = rng.uniform(0.2, 2.0, n)
    s *= n / s.sum()
    c = s / n
    w = np.zeros(p)
    w[[1, 4, 9]] = [0.3, -0.2, 0.5] if not positive else [0.3, 0.2, 0.5]
    b = 0.1 if fit_intercept else 0.0
    z = X @ w + b
    ws = np.array([0, 1, 4, 6, 9, 12])
    l1, l2v = np.full(p, 0.01), np.full(p, l2)
    step = _model_cd(Logistic(), X, y, c, z, w, b, ws, l1, l2v, positive, fit_intercept, 1e-15,
                     -1.0, 100_000)
    w_ref, b_ref = _newton_direction(Logistic(), X, y, s, z, w, ws, l1, l2v, positive,
                                     fit_intercept, 1e-18, 100_000, np.zeros(n))
    np.testing.assert_allclose(step[0], w_ref, atol=1e-9)
    assert step[1] == pytest.approx(b_ref, abs=1e-9)
    # the step in the linear predictor is X_ws (w_new - w) + (b_new - b)
    np.testing.assert_allclose(step[2], X[:, ws] @ (step[0] - w[ws]) + step[1] - b, atol=1e-12)
