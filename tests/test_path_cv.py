"""Regularization paths and model selection: lasso_path / enet_path, LassoCV, ElasticNetCV,
LassoIC, against scikit-learn and glmnet's one-standard-error rule."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

import shrinkage as sh
from conftest import make_problem


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(("n", "p"), [(80, 30), (40, 150)])
def test_path_matches_sklearn_enet_path(n, p, sparse, l1_ratio):
    X, y = make_problem(n, p, sparse=sparse, seed=n + p)
    path = sh.enet_path(X, y, l1_ratio=l1_ratio, alphas=30, eps=1e-3, tol=1e-14,
                        max_iter=100_000)
    Xd = X.toarray() if sparse else X
    Xc, yc = Xd - Xd.mean(0), y - y.mean()
    ref_alphas = sk.LassoCV(alphas=30, eps=1e-3).fit(Xc, yc).alphas_ if l1_ratio == 1 else (
        sk.ElasticNetCV(l1_ratio=l1_ratio, alphas=30, eps=1e-3).fit(Xc, yc).alphas_)
    alphas, coefs, _ = sk.enet_path(Xc, yc, l1_ratio=l1_ratio, alphas=ref_alphas, tol=1e-14,
                                    max_iter=100_000)
    np.testing.assert_allclose(path.alphas, alphas, rtol=1e-12)
    scale = np.abs(coefs).max()
    np.testing.assert_allclose(path.coefs, coefs, rtol=1e-6, atol=1e-6 * scale)
    np.testing.assert_allclose(path.intercepts, y.mean() - Xd.mean(0) @ path.coefs, rtol=1e-9,
                               atol=1e-9)
    assert np.all(path.coefs[:, 0] == 0)  # alpha_max: everything is zero
    assert path.n_nonzero[-1] > 0
    null = 0.5 * np.mean(yc**2)
    assert np.all(path.dual_gaps <= 1e-14 * null)


def test_path_with_user_alphas_weights_and_penalty_factor():
    X, y = make_problem(60, 20, seed=3)
    sw = np.random.default_rng(0).uniform(0.5, 2, 60)
    f = np.ones(20)
    f[2] = 0.0
    alphas = [0.5, 0.1, 0.02]
    path = sh.lasso_path(X, y, alphas=alphas, sample_weight=sw, penalty_factor=f, tol=1e-12)
    for k, alpha in enumerate(alphas):
        single = sh.Lasso(alpha=alpha, penalty_factor=f, tol=1e-12).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(path.coefs[:, k], single.coef_, atol=1e-8)
        np.testing.assert_allclose(path.intercepts[k], single.intercept_, atol=1e-8)
    # alphas come back sorted from large to small, as given
    np.testing.assert_array_equal(path.alphas, alphas)


def test_path_sparse_output():
    X, y = make_problem(50, 40, seed=4)
    path = sh.lasso_path(X, y, alphas=10)
    as_sparse = path.sparse_coefs()
    assert sp.issparse(as_sparse)
    np.testing.assert_array_equal(as_sparse.toarray(), path.coefs)


def test_lasso_cv_picks_sklearns_alpha():
    X, y = make_problem(120, 40, seed=5, noise=2.0)
    cv = KFold(5, shuffle=True, random_state=0)
    ours = sh.LassoCV(alphas=40, cv=cv, tol=1e-12, max_iter=100_000).fit(X, y)
    ref = sk.LassoCV(alphas=40, cv=cv, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.alpha_min_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert ours.alpha_ == ours.alpha_min_  # default refit at alpha_min
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert ours.alpha_1se_ >= ours.alpha_min_


def one_se_rule_by_hand(alphas, fold_errors):
    """glmnet's cv.glmnet: cvm = mean over folds, cvsd = sqrt(mean((e - cvm)^2) / (K - 1)),
    lambda.1se = max{lambda : cvm <= cvm[min] + cvsd[min]} (written out for equal fold weights)."""
    K = fold_errors.shape[1]
    cvm = fold_errors.mean(axis=1)
    cvsd = np.sqrt(((fold_errors - cvm[:, None]) ** 2).mean(axis=1) / (K - 1))
    best = np.argmin(cvm)
    return max(a for a, m in zip(alphas, cvm, strict=True) if m <= cvm[best] + cvsd[best])


def test_alpha_1se_follows_glmnets_rule_on_a_worked_example():
    from shrinkage.linear_model import one_standard_error_alpha

    alphas = np.array([1.0, 0.5, 0.25, 0.125, 0.0625])
    # columns are folds; the minimum is at 0.125, and 0.5 is within one standard error of it
    errors = np.array([[9.0, 9.5, 8.5, 9.2],
                       [5.2, 4.6, 5.9, 4.9],
                       [4.1, 3.8, 5.2, 4.6],
                       [3.9, 3.5, 5.6, 4.2],
                       [4.3, 4.0, 5.9, 4.5]])
    alpha_min, alpha_1se, _, cvsd = one_standard_error_alpha(alphas, errors)
    assert alpha_min == 0.125
    assert alpha_1se == one_se_rule_by_hand(alphas, errors) == 0.25
    np.testing.assert_allclose(cvsd[3], np.std(errors[3]) / np.sqrt(3))


def test_lasso_cv_refit_at_1se_is_sparser():
    X, y = make_problem(150, 60, seed=6, noise=3.0)
    at_min = sh.LassoCV(cv=5).fit(X, y)
    at_1se = sh.LassoCV(cv=5, refit="1se").fit(X, y)
    assert at_1se.alpha_ == at_1se.alpha_1se_ == at_min.alpha_1se_
    assert np.count_nonzero(at_1se.coef_) <= np.count_nonzero(at_min.coef_)
    assert at_min.mse_path_.shape == (100, 5)
    assert at_min.mse_std_.shape == (100,)


def test_elastic_net_cv_grid_over_l1_ratio():
    X, y = make_problem(100, 30, seed=7, noise=1.0)
    cv = KFold(4, shuffle=True, random_state=1)
    ours = sh.ElasticNetCV(l1_ratio=[0.2, 0.7, 1.0], alphas=25, cv=cv, tol=1e-15,
                           max_iter=100_000).fit(X, y)
    ref = sk.ElasticNetCV(l1_ratio=[0.2, 0.7, 1.0], alphas=25, cv=cv, tol=1e-15,
                          max_iter=1_000_000).fit(X, y)
    assert ours.l1_ratio_ == ref.l1_ratio_
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert ours.mse_path_.shape == ref.mse_path_.shape == (3, 25, 4)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)


@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_lasso_ic_matches_its_definition_and_sklearn(criterion):
    X, y = make_problem(200, 20, seed=8, noise=1.0)
    ours = sh.LassoIC(criterion=criterion, tol=1e-12).fit(X, y)
    # the definition, recomputed: n log(2 pi s2) + RSS / s2 + k * df, s2 from the OLS fit
    n = len(y)
    ols = sk.LinearRegression().fit(X, y)
    s2 = np.sum((y - ols.predict(X)) ** 2) / (n - X.shape[1] - 1)
    k = 2 if criterion == "aic" else np.log(n)
    crit = []
    for j in range(ours.alphas_.size):
        coef = ours.path_.coefs[:, j]
        rss = np.sum((y - X @ coef - ours.path_.intercepts[j]) ** 2)
        crit.append(n * np.log(2 * np.pi * s2) + rss / s2 + k * np.count_nonzero(coef))
    np.testing.assert_allclose(ours.criterion_, crit, rtol=1e-8)
    assert ours.alpha_ == ours.alphas_[np.argmin(crit)]
    ref = sk.LassoLarsIC(criterion=criterion).fit(X, y)
    # LARS chooses among its own breakpoints: the selected supports agree
    assert set(np.flatnonzero(ours.coef_)) == set(np.flatnonzero(ref.coef_))


def test_second_order_start_is_the_next_solution_on_an_unchanged_face():
    """Between two kinks the lasso path is linear: from the solution at one alpha, the Newton
    point on its face is the solution at the next alpha (to rounding), so the solver only
    certifies it."""
    from shrinkage.penalties import L1
    from shrinkage.solvers import make_design, solve_enet
    from shrinkage.solvers.path import second_order_start

    X, y = make_problem(100, 12, seed=8)
    design = make_design(X, y, None, True)
    path = sh.lasso_path(X, y, alphas=60, eps=1e-2, tol=1e-14, max_iter=100_000)
    support = path.coefs != 0
    same_face = [k for k in range(1, 60)
                 if np.array_equal(support[:, k], support[:, k - 1])
                 and np.array_equal(np.sign(path.coefs[:, k]), np.sign(path.coefs[:, k - 1]))
                 and support[:, k].any()]
    assert len(same_face) > 10
    for k in same_face:
        l1, l2 = L1(path.alphas[k]).lower(12)
        start = second_order_start(design, path.coefs[:, k - 1], l1, l2, False)
        np.testing.assert_allclose(start, path.coefs[:, k], rtol=1e-9, atol=1e-12)
        assert solve_enet(design, l1, l2, coef_init=start, tol=1e-12).n_iter == 0
    # leaving the face: a new feature would enter; the point is still no worse than the start
    k = next(k for k in range(1, 60) if support[:, k].sum() > support[:, k - 1].sum() > 0)
    l1, l2 = L1(path.alphas[k]).lower(12)
    start = second_order_start(design, path.coefs[:, k - 1], l1, l2, False)
    assert start is None or np.all(start[~support[:, k - 1]] == 0)


def test_path_with_and_without_second_order_agree():
    from shrinkage.penalties import ElasticNet as ENetPenalty
    from shrinkage.solvers import make_design
    from shrinkage.solvers.cd import enet_gap
    from shrinkage.solvers.path import solve_path

    X, y = make_problem(30, 200, seed=9)  # p >> n: the regime the warm start is for
    design = make_design(X, y, None, True)
    alphas = np.geomspace(1.0, 1e-3, 40) * sh.lasso_path(X, y, alphas=1).alphas[0]
    runs = [solve_path(design, lambda a: ENetPenalty(a, 0.9), alphas, max_iter=10**6,
                       tol=1e-13, second_order=flag) for flag in (True, False)]
    # both certified to 1e-13 of the null objective: their objectives agree to that
    null = design.null_objective()
    for k, alpha in enumerate(alphas):
        l1, l2 = ENetPenalty(alpha, 0.9).lower(200)
        primal = [enet_gap(design, run.coefs[:, k], l1, l2) for run in runs]
        assert max(gap for _, gap in primal) <= 1e-13 * null
        assert abs(primal[0][0] - primal[1][0]) <= 2e-13 * null
    assert runs[0].n_iters.sum() < runs[1].n_iters.sum()


def _paths_numba_and_python(monkeypatch, design, penalty_at, alphas, **kwargs):
    """The same path solved by the numba per-alpha loop and by the Python one (the loop turned
    off), with the alphas the numba loop left to Python."""
    from shrinkage.solvers import path as path_module

    handbacks, calls = [], []
    kernel = path_module.enet_path_dense

    def counting(*args):
        out = kernel(*args)
        calls.append(out[0])
        handbacks.extend([out[0]] if out[0] < alphas.size else [])
        return out

    with monkeypatch.context() as patch:
        patch.setattr(path_module, "enet_path_dense", counting)
        fast = path_module.solve_path(design, penalty_at, alphas, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(path_module._DensePathKernel, "applies", staticmethod(lambda *a: False))
        slow = path_module.solve_path(design, penalty_at, alphas, **kwargs)
    assert calls and calls[-1] == alphas.size  # the numba loop ran, and to the end
    return fast, slow, handbacks


@pytest.mark.parametrize("case", ["lasso", "enet-positive", "unpenalized", "float32",
                                  "block-restarts"])
def test_numba_path_loop_solves_what_the_python_loop_does(case, monkeypatch):
    """The dense path's per-alpha loop in numba (``_kernels/path_dense.py``) against the Python
    driver: every alpha certified to the same rule, the same objectives to it (also when its
    Gram block cache, capped at 8 columns, starts afresh as the support grows)."""
    from shrinkage.penalties import ElasticNet as ENetPenalty
    from shrinkage.solvers import make_design
    from shrinkage.solvers import path as path_module
    from shrinkage.solvers.cd import enet_gap

    if case == "block-restarts":
        monkeypatch.setattr(path_module, "GRAM_BLOCK_MAX_COLUMNS", 8)

    dtype = np.float32 if case == "float32" else np.float64
    X, y = make_problem(40, 250, seed=31, dtype=dtype)
    factor = np.ones(250)
    if case == "unpenalized":
        factor[[3, 17]] = 0.0
    ratio, positive = (0.7, True) if case == "enet-positive" else (1.0, False)

    def penalty_at(alpha):
        return ENetPenalty(alpha, ratio, factor, positive)

    design = make_design(X, y, None, True)
    alphas = np.geomspace(1.0, 1e-3, 50) * sh.enet_path(
        X, y, l1_ratio=ratio, alphas=1, penalty_factor=factor, positive=positive).alphas[0]
    fast, slow, handbacks = _paths_numba_and_python(monkeypatch, design, penalty_at, alphas,
                                                    max_iter=10**6, tol=1e-10)
    assert len(handbacks) < 5  # the common case runs in numba
    null = design.null_objective()
    for k, alpha in enumerate(alphas):
        l1, l2 = penalty_at(alpha).lower(250)
        (p_fast, g_fast), (p_slow, g_slow) = (enet_gap(design, run.coefs[:, k], l1, l2, positive)
                                              for run in (fast, slow))
        np.testing.assert_allclose(fast.dual_gaps[k], g_fast, rtol=1e-6, atol=1e-14 * null)
        assert max(g_fast, g_slow) <= 1e-10 * null
        assert abs(p_fast - p_slow) <= 2e-10 * null
        if positive:
            assert np.all(fast.coefs[:, k] >= 0)
        if case == "unpenalized" and k > 0:
            assert np.all(fast.coefs[[3, 17], k] != 0)


def test_numba_path_loop_hands_back_what_it_cannot_finish(monkeypatch):
    """With a working set smaller than the strong set (FIRST_WS_SIZE = 3) the numba loop leaves
    alphas to the Python driver, which finishes them; the path is still scikit-learn's."""
    from shrinkage.penalties import L1
    from shrinkage.solvers import make_design
    from shrinkage.solvers import path as path_module

    X, y = make_problem(30, 120, seed=5)
    design = make_design(X, y, None, True)
    alphas = np.geomspace(1.0, 1e-2, 25) * sh.lasso_path(X, y, alphas=1).alphas[0]
    monkeypatch.setattr(path_module, "FIRST_WS_SIZE", 3)
    fast, slow, handbacks = _paths_numba_and_python(monkeypatch, design, L1, alphas,
                                                    max_iter=10**6, tol=1e-12)
    assert len(handbacks) > 3
    Xc, yc = X - X.mean(0), y - y.mean()
    _, ref, _ = sk.lasso_path(Xc, yc, alphas=alphas, tol=1e-14, max_iter=100_000)
    for run in (fast, slow):
        np.testing.assert_allclose(run.coefs, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def test_numba_path_loop_warns_with_the_achieved_gap():
    """Non-convergence warns for every alpha left above its tolerance, the ones solved in the
    numba loop included, with the achieved gap."""
    X, y = make_problem(30, 200, seed=2)
    with pytest.warns(ConvergenceWarning, match="duality gap") as caught:
        path = sh.lasso_path(X, y, alphas=20, eps=1e-3, tol=1e-14, max_iter=3)
    unconverged = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(unconverged) >= 10
    assert any(f"{gap:.3e}" in message for gap in path.dual_gaps[1:] for message in unconverged)


@pytest.mark.parametrize("positive", [False, True])
def test_strong_set_and_gap_safe_test_are_their_formulas(positive):
    """The screening kernels against the rules written out in NumPy."""
    from shrinkage._kernels.screening import gap_safe_keep, strong_set

    rng = np.random.default_rng(11)
    p = 400
    corr, older = rng.normal(0, 1, p), rng.normal(0, 1, p)
    l1, previous_l1 = np.full(p, 1.2), np.full(p, 1.5)
    l1[:20] = 0.0
    w = np.where(rng.uniform(size=p) < 0.05, rng.normal(size=p), 0.0)
    drive = (lambda c: c) if positive else np.abs
    threshold = 2 * l1 - previous_l1
    for ratio, previous in ((0.0, np.empty(0)), (0.8, older)):
        expected = (drive(corr) >= threshold) | (w != 0)
        if previous.size:
            expected |= drive(corr + ratio * (corr - previous)) >= threshold
        np.testing.assert_array_equal(
            strong_set(corr, previous, ratio, l1, previous_l1, positive, w), np.flatnonzero(expected))
    alive = np.sort(rng.choice(p, 150, replace=False))
    feasible, l2 = rng.normal(0, 1, 150), np.where(rng.uniform(size=p) < 0.1, 0.5, 0.0)
    col_norms, radius = rng.uniform(0.5, 2, p), 0.3
    drop = ((l2[alive] == 0) & (l1[alive] > 0) & (w[alive] == 0)
            & (drive(feasible) + col_norms[alive] * radius < l1[alive]))
    keep = gap_safe_keep(alive, feasible, radius, w, l1, l2, col_norms, positive)
    np.testing.assert_array_equal(keep, ~drop)
    assert drop.any() and (~drop).any()


@pytest.mark.parametrize("sparse", [False, True])
def test_path_stopping_rule_is_relative_to_each_alphas_objective(sparse):
    """On a path each alpha's gap meets ``tol`` times the objective at its warm start (at most
    the objective at the previous solution), never looser than the single fit's rule; every
    returned gap is the full problem's certificate, recomputed independently here."""
    from shrinkage.penalties import L1
    from shrinkage.solvers import make_design
    from shrinkage.solvers.cd import enet_gap
    from shrinkage.solvers.path import solve_path

    X, y = make_problem(50, 300, sparse=sparse, seed=21)
    design = make_design(X, y, None, True)
    null = design.null_objective()
    alphas = np.geomspace(1.0, 1e-3, 30) * sh.lasso_path(X, y, alphas=1).alphas[0]
    tol = 1e-6
    by_start = solve_path(design, L1, alphas, max_iter=10**6, tol=tol)
    by_null = solve_path(design, L1, alphas, max_iter=10**6, tol=tol, relative_to="null")
    for k in range(1, alphas.size):
        l1, l2 = L1(alphas[k]).lower(300)
        primal, gap = enet_gap(design, by_start.coefs[:, k], l1, l2)
        np.testing.assert_allclose(by_start.dual_gaps[k], gap, rtol=1e-6, atol=1e-15 * null)
        at_previous = enet_gap(design, by_start.coefs[:, k - 1], l1, l2)[0]
        assert gap <= tol * min(at_previous, null)
        assert by_null.dual_gaps[k] <= tol * null
    # the late alphas' objectives are far below the null objective: the per-alpha rule is tighter
    assert primal < 0.05 * null
    assert by_start.dual_gaps[-1] < tol * null * 0.05
