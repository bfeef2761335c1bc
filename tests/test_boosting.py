"""Gradient boosting: the leaf prox against brute force, the estimator contract, bad input,
inspection, growth policies, NaN handling, sampling and early stopping."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from sklearn.utils.estimator_checks import check_estimator

from shrinkage._kernels import boosting_tree as kernels
from shrinkage.boosting import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    penalty_to_xgboost,
)
from shrinkage.penalties import L1, L2, ElasticNet


def _leaf_objective(w, G, H, alpha, lam):
    return G * w + 0.5 * (H + lam) * w * w + alpha * abs(w)


# ---------------------------------------------------------------- the leaf prox, brute force
@pytest.mark.parametrize("seed", range(4))
def test_leaf_weight_and_score_minimise_the_leaf_objective(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        G = rng.normal(0, 10)
        H = rng.uniform(0.1, 20)
        alpha = rng.choice([0.0, rng.uniform(0, 15)])
        lam = rng.choice([0.0, rng.uniform(0, 10)])
        w = kernels.leaf_weight(G, H, alpha, lam, 0.0, 0.0)
        # brute force: a fine grid, then a bounded scalar search around its best point
        grid = np.linspace(-50, 50, 200_001)
        k = np.argmin(_leaf_objective(grid, G, H, alpha, lam))
        res = minimize_scalar(_leaf_objective, bounds=(grid[k] - 1e-3, grid[k] + 1e-3),
                              args=(G, H, alpha, lam), method="bounded",
                              options={"xatol": 1e-12})
        assert abs(w - res.x) < 1e-7
        assert _leaf_objective(w, G, H, alpha, lam) <= res.fun + 1e-12
        # the score is -2 x the minimum of the leaf objective
        score = kernels.node_score(G, H, alpha, lam, 0.0, 0.0)
        assert score == pytest.approx(-2 * _leaf_objective(w, G, H, alpha, lam), rel=1e-12,
                                      abs=1e-12)
        # exact zero exactly when |G| <= alpha
        assert (w == 0.0) == (abs(G) <= alpha)


def test_max_delta_step_is_the_box_constrained_minimiser_and_xgboost_score():
    rng = np.random.default_rng(7)
    for _ in range(100):
        G, H = rng.normal(0, 10), rng.uniform(0.1, 20)
        alpha, lam, d = rng.uniform(0, 5), rng.uniform(0, 5), rng.uniform(0.05, 1)
        w = kernels.leaf_weight(G, H, alpha, lam, d, 0.0)
        res = minimize_scalar(_leaf_objective, bounds=(-d, d), args=(G, H, alpha, lam),
                              method="bounded", options={"xatol": 1e-12})
        assert abs(w - res.x) < 1e-6
        # XGBoost's score with a clip: -(2 G w + (H + lambda) w^2), no alpha |w| term
        assert kernels.node_score(G, H, alpha, lam, d, 0.0) == pytest.approx(
            -(2 * G * w + (H + lam) * w * w), rel=1e-12, abs=1e-12)


def test_split_gain_is_the_decrease_of_the_penalized_objective():
    """gain = -2 [min obj(L) + min obj(R) - min obj(P)], brute-forced per child."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        gl, gr = rng.normal(0, 5, 2)
        hl, hr = rng.uniform(0.5, 10, 2)
        alpha, lam = rng.uniform(0, 4), rng.uniform(0, 4)
        grid = np.linspace(-30, 30, 600_001)

        def best(G, H, grid=grid, alpha=alpha, lam=lam):
            return np.min(_leaf_objective(grid, G, H, alpha, lam))

        parent = kernels.node_score(gl + gr, hl + hr, alpha, lam, 0.0, 0.0)
        gain = kernels.split_gain(parent, gl, hl, gr, hr, alpha, lam, 0.0, 0.0)
        brute = -2 * (best(gl, hl) + best(gr, hr) - best(gl + gr, hl + hr))
        assert gain == pytest.approx(brute, abs=1e-6)


def test_xgboost_arithmetic_is_the_exact_formula_rounded_to_float32():
    """arithmetic="xgboost" evaluates the same weight and score in XGBoost's float32 steps: the
    weight is the float32 rounding of the exact one (to an ulp: XGBoost's closed form and the
    prox step round differently in float64), the score agrees to float32 precision, and the
    same exact zeros (|G| <= alpha, H < min_child_weight) come out."""
    rng = np.random.default_rng(11)
    f32 = np.float32
    for _ in range(300):
        G, H = rng.normal(0, 10), rng.uniform(0.1, 20)
        alpha, lam = rng.choice([0.0, 1.0, rng.uniform(0, 5)]), rng.choice([0.0, rng.uniform(0, 5)])
        d, mcw = rng.choice([0.0, 0.5, rng.uniform(0.05, 1)]), rng.choice([0.0, 1.0, 5.0])
        alpha, lam, d = float(f32(alpha)), float(f32(lam)), float(f32(d))  # float32 parameters
        w = kernels.leaf_weight(G, H, alpha, lam, d, mcw)
        w32 = kernels.leaf_weight_xgb(G, H, alpha, lam, d, mcw)
        assert w32 == f32(w32)
        assert abs(w32 - w) <= np.spacing(f32(abs(w))), (G, H, alpha, lam, d, mcw)
        assert (w32 == 0.0) == (w == 0.0)
        score = kernels.node_score(G, H, alpha, lam, d, mcw)
        score32 = kernels.node_score_xgb(G, H, alpha, lam, d, mcw)
        assert score32 == f32(score32)
        assert score32 == pytest.approx(score, rel=1e-6, abs=1e-5 * (abs(G) + H))


def test_exact_arithmetic_does_not_split_on_a_zero_gain():
    """reg_lambda = 0 and every child clipped to the same weight: each split gains exactly 0.
    The default arithmetic leaves the root a leaf; arithmetic="xgboost" splits, as XGBoost does,
    on its float32 rounding noise, into children of the same value (same predictions)."""
    X, _ = _regression(300, 4)
    y = 100.0 + np.sin(X[:, 0])
    common = dict(n_estimators=1, max_depth=1, reg_lambda=0.0, max_delta_step=0.5,
                  base_score=0.0, learning_rate=0.3)
    exact = GradientBoostingRegressor(**common).fit(X, y)
    assert exact.trees_[0].feature[0] == -1 and exact.trees_[0].value[0] == 0.15
    noisy = GradientBoostingRegressor(**common, arithmetic="xgboost").fit(X, y)
    tree = noisy.trees_[0]
    assert tree.feature[0] >= 0 and 1e-6 < tree.gain[0] < 1e-6 * (y.sum() - 0.25 * y.size)
    assert np.all(tree.leaf_values == np.float32(0.15))
    np.testing.assert_allclose(noisy.predict(X), exact.predict(X), rtol=1e-7)


def test_leaf_weight_is_the_penalty_objects_prox_at_the_newton_point():
    """One prox: the leaf weight is ElasticNet.prox(-G/H, step=1/H) of the mapped penalty."""
    rng = np.random.default_rng(0)
    for _ in range(30):
        G, H = rng.normal(0, 10), rng.uniform(0.1, 20)
        penalty = ElasticNet(rng.uniform(0, 10), rng.uniform(0, 1))
        alpha, lam = penalty_to_xgboost(penalty)
        w = kernels.leaf_weight(G, H, alpha, lam, 0.0, 0.0)
        assert w == penalty.prox(np.array([-G / H]), 1.0 / H)[0]


def test_penalty_objects_map_to_reg_alpha_reg_lambda():
    assert penalty_to_xgboost(L1(2.0)) == (2.0, 0.0)
    assert penalty_to_xgboost(L2(3.0)) == (0.0, 3.0)
    assert penalty_to_xgboost(ElasticNet(4.0, 0.25)) == (1.0, 3.0)
    X, y = _regression()
    a = GradientBoostingRegressor(n_estimators=5, penalty=ElasticNet(4.0, 0.25)).fit(X, y)
    b = GradientBoostingRegressor(n_estimators=5, reg_alpha=1.0, reg_lambda=3.0).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    with pytest.raises(ValueError, match="per-feature weights"):
        GradientBoostingRegressor(penalty=L1(1.0, weights=[1.0, 2.0])).fit(X, y)


# ---------------------------------------------------------------- estimator contract
@pytest.mark.parametrize("estimator", [GradientBoostingRegressor(n_estimators=5, max_depth=3),
                                       GradientBoostingClassifier(n_estimators=5, max_depth=3)],
                         ids=["regressor", "classifier"])
def test_check_estimator(estimator):
    check_estimator(estimator)


# ---------------------------------------------------------------- bad input
def _regression(n=120, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    return X, X[:, 0] - 2 * X[:, 1] ** 2 + 0.1 * rng.standard_normal(n)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_target_is_named(bad):
    X, y = _regression()
    y = y.copy()
    y[3] = bad
    with pytest.raises(ValueError, match=r"y contains NaN or infinity|Input y contains"):
        GradientBoostingRegressor().fit(X, y)


def test_class_seen_once_is_named():
    X, _ = _regression()
    y = np.array([0, 1] * 59 + [0, 2])
    with pytest.raises(ValueError, match=r"class label\(s\) \[np.int64\(2\)\]|\[2\] appear only"):
        GradientBoostingClassifier().fit(X, y)


def test_single_class_is_named():
    X, _ = _regression()
    with pytest.raises(ValueError, match="only one class"):
        GradientBoostingClassifier().fit(X, np.zeros(X.shape[0]))


@pytest.mark.parametrize("params, match", [
    ({"reg_alpha": -1.0}, "reg_alpha"),
    ({"reg_lambda": -0.5}, "reg_lambda"),
    ({"max_bin": 1}, "max_bin"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"subsample": 0.0}, "subsample"),
    ({"gamma": -1.0}, "gamma"),
])
def test_bad_parameters_are_named(params, match):
    X, y = _regression()
    with pytest.raises(ValueError, match=match):
        GradientBoostingRegressor(**params).fit(X, y)


def test_predict_with_wrong_number_of_columns_is_named():
    X, y = _regression()
    model = GradientBoostingRegressor(n_estimators=3).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])


def test_inf_in_X_is_rejected_nan_is_allowed():
    X, y = _regression()
    X = X.copy()
    X[0, 0] = np.nan
    GradientBoostingRegressor(n_estimators=2).fit(X, y)
    X[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        GradientBoostingRegressor(n_estimators=2).fit(X, y)


def test_caller_arrays_are_not_modified():
    X, y = _regression()
    X.setflags(write=False)
    y.setflags(write=False)
    w = np.ones(X.shape[0])
    w.setflags(write=False)
    GradientBoostingRegressor(n_estimators=3, subsample=0.5, colsample_bytree=0.5,
                              random_state=0).fit(X, y, sample_weight=w)


# ---------------------------------------------------------------- behaviour
def test_reg_alpha_makes_exact_zero_leaves_and_they_are_counted():
    X, y = _regression(n=400)
    counts = []
    for alpha in [0.0, 2.0, 20.0]:
        model = GradientBoostingRegressor(n_estimators=30, max_depth=4, reg_alpha=alpha).fit(X, y)
        values = np.concatenate(model.leaf_values_)
        assert model.n_zero_leaves_ == np.count_nonzero(values == 0.0)
        assert model.zero_leaf_share_ == pytest.approx(model.n_zero_leaves_ / values.size)
        counts.append(model.zero_leaf_share_)
    assert counts[0] == 0.0 and counts[0] < counts[1] < counts[2]


def test_binning_up_to_1024_bins_and_quantiles():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    for max_bin in (2, 16, 1024):
        model = GradientBoostingRegressor(n_estimators=2, max_depth=2, max_bin=max_bin).fit(X, y)
        assert all(t.size + 1 <= max_bin for t in model.bin_thresholds_)
    assert model.bin_thresholds_[0].size + 1 == 1024
    # quantile bins: roughly equal counts
    counts = np.bincount(np.searchsorted(model.bin_thresholds_[0], X[:, 0]), minlength=1024)
    assert counts.min() >= 1 and counts.max() <= 8


def test_predict_on_raw_data_equals_the_training_margin():
    """Thresholds on raw values reproduce the binned partition (predict = training margin)."""
    X, y = _regression(n=500)
    model = GradientBoostingRegressor(n_estimators=20, max_depth=4, max_bin=32).fit(X, y)
    train_loss = 0.5 * np.mean((y - model.predict(X)) ** 2)
    assert train_loss == pytest.approx(model.train_score_[-1], rel=1e-12)


def test_lossguide_respects_max_leaves_and_beats_a_stump():
    X, y = _regression(n=400)
    model = GradientBoostingRegressor(n_estimators=10, grow_policy="lossguide", max_depth=0,
                                      max_leaves=5).fit(X, y)
    assert all(t.leaf_values.size == 5 for t in model.trees_)
    stump = GradientBoostingRegressor(n_estimators=10, max_depth=1).fit(X, y)
    assert model.train_score_[-1] < stump.train_score_[-1]


def test_missing_values_learn_a_default_direction():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 2))
    y = (X[:, 0] > 0).astype(float) * 3
    missing = rng.random(400) < 0.3
    y[missing] = 3.0  # missing behaves like the high side
    X[missing, 0] = np.nan
    model = GradientBoostingRegressor(n_estimators=1, max_depth=1, learning_rate=1.0,
                                      reg_lambda=0.0).fit(X, y)
    tree = model.trees_[0]
    assert tree.feature[0] == 0
    high = tree.right[0] if tree.value[tree.right[0]] > tree.value[tree.left[0]] else tree.left[0]
    assert (tree.left[0] if tree.missing_left[0] else tree.right[0]) == high
    assert model.predict(np.array([[np.nan, 0.0]]))[0] == pytest.approx(3.0)


@pytest.mark.parametrize("arithmetic", ["exact", "xgboost"])
def test_split_of_the_missing_values_from_all_the_others(arithmetic):
    """The best split sends every non-missing value one way and NaN the other (the scan's top
    bin, which has no threshold column): the raw-data threshold is +inf, and predictions on raw
    data equal the tree's leaves for the training rows."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 1))
    missing = rng.random(40) < 0.5
    X[missing, 0] = np.nan
    y = np.where(missing, 1.0, -1.0) + 0.01 * rng.standard_normal(40)
    model = GradientBoostingRegressor(n_estimators=1, max_depth=1, learning_rate=1.0,
                                      reg_lambda=0.0, base_score=0.0,
                                      arithmetic=arithmetic).fit(X, y)
    tree = model.trees_[0]
    assert tree.feature[0] == 0 and np.isposinf(tree.threshold[0]) and not tree.missing_left[0]
    expected = np.where(missing, tree.value[tree.right[0]], tree.value[tree.left[0]])
    np.testing.assert_array_equal(model.predict(X), expected)
    np.testing.assert_allclose(expected, [y[missing].mean() if m else y[~missing].mean()
                                          for m in missing], rtol=1e-6)


def test_subsample_and_colsample_are_reproducible_and_change_the_fit():
    X, y = _regression(n=300, p=6)
    kw = dict(n_estimators=10, subsample=0.5, colsample_bytree=0.5)
    a = GradientBoostingRegressor(**kw, random_state=0).fit(X, y).predict(X)
    b = GradientBoostingRegressor(**kw, random_state=0).fit(X, y).predict(X)
    c = GradientBoostingRegressor(**kw, random_state=1).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    model = GradientBoostingRegressor(n_estimators=10, colsample_bytree=0.34, random_state=0)
    model.fit(X, y)
    assert all(len(set(t.feature[t.feature >= 0])) <= 2 for t in model.trees_)


def test_early_stopping_keeps_the_best_round():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 3))
    y = X[:, 0] + rng.standard_normal(400)
    model = GradientBoostingRegressor(n_estimators=500, learning_rate=0.5, max_depth=6,
                                      early_stopping=True, n_iter_no_change=5,
                                      random_state=0).fit(X, y)
    assert model.n_iter_ < 100
    assert model.n_iter_ == int(np.argmin(model.validation_score_)) + 1
    assert len(model.validation_score_) == model.n_iter_ + 5


def test_multiclass_softmax_learns_and_matches_probabilities():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 2))
    y = np.digitize(X[:, 0] + 0.3 * X[:, 1], [-0.5, 0.5])
    model = GradientBoostingClassifier(n_estimators=20, max_depth=3).fit(X, y)
    assert len(model.trees_) == 20 * 3
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(model.predict(X) == y) > 0.9
    # intercept-only model = the weighted class shares
    base = GradientBoostingClassifier(n_estimators=0).fit(X, y)
    np.testing.assert_allclose(base.predict_proba(X[:1])[0], np.bincount(y) / y.size)


def test_multiclass_against_xgboost_softprob():
    xgb = pytest.importorskip("xgboost")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(300), [-0.5, 0.5])
    common = dict(n_estimators=10, max_depth=3, max_bin=512, reg_alpha=0.5, base_score=0.5)
    ours = GradientBoostingClassifier(**common).fit(X, y)
    theirs = xgb.XGBClassifier(**common, tree_method="hist", n_jobs=1,
                               objective="multi:softprob").fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-5,
                               atol=1e-6)


def test_inspection_importances_and_dump():
    X, y = _regression(n=300)
    model = GradientBoostingRegressor(n_estimators=10, max_depth=3).fit(X, y)
    imp = model.feature_importances_
    assert imp.sum() == pytest.approx(1.0) and imp[1] == imp.max()
    weight = model.get_feature_importance("weight")
    assert weight.sum() == sum(np.count_nonzero(t.feature >= 0) for t in model.trees_)
    total = model.get_feature_importance("total_gain")
    np.testing.assert_allclose(model.get_feature_importance("gain") * weight, total)
    cover = model.get_feature_importance("total_cover")
    assert cover.sum() == pytest.approx(sum(t.cover[t.feature >= 0].sum() for t in model.trees_))
    text = model.dump_tree(0, feature_names=["a", "b", "c", "d"])
    assert text.splitlines()[0].startswith("0:[")
    assert text.count("leaf=") == model.trees_[0].leaf_values.size
    leaves = model.apply(X)
    assert leaves.shape == (X.shape[0], 10)
    assert np.all(model.trees_[0].feature[leaves[:, 0]] < 0)


def test_boosting_demo_numbers(monkeypatch):
    """The demo's printed numbers, recomputed (small sizes)."""
    from shrinkage.demos import boosting as demo

    monkeypatch.setattr(demo, "GRID_TREES", 5)
    monkeypatch.setattr(demo, "N_TREES", 40)
    result = demo.compute()
    for cell in result["grid"]:
        values = np.asarray(cell["leaf_values"])
        assert cell["n_zero"] == np.count_nonzero(values == 0.0) == round(
            cell["zero_share"] * values.size)
        if cell["reg_alpha"] == 0:
            assert cell["n_zero"] == 0
    assert len(result["staged_test_mse"]) == 40
    assert result["staged_test_mse"][-1] == pytest.approx(result["full_test_mse"])
    c = result["compressed"]
    assert c["kept_trees"] == c["chosen_n_trees"]
    assert c["chosen_test_mse"] <= 1.02 * result["full_test_mse"]
    assert "leaf lasso" in demo.summary({**result, "title": demo.TITLE})
