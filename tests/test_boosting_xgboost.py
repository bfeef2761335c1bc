"""Leaf for leaf against XGBoost ``tree_method="hist"`` (XGBoost 3.2).

Setting: ``base_score`` given, no subsampling, depth-wise growth, ``max_bin`` above the number of
distinct values (one bin per value in both libraries), continuous features without ties, 20
rounds. Grid: reg_alpha in {0, 1, 10} x reg_lambda in {0, 1, 10} x max_depth in {2, 5} x
min_child_weight in {1, 5} x max_delta_step in {0, 0.5} (72 settings), for squared error and
binary logistic, with and without sample weights, on three problems.

test_leaf_for_leaf_against_xgboost trains each XGBoost booster once and compares ours with it:

- ``arithmetic="xgboost"``: all 72 settings on "gauss"; on "uniform" and "lognormal" the 12
  noise settings (reg_lambda = 0 and max_delta_step > 0, where XGBoost splits on float32
  rounding noise) and a different third of the other 60 (see grid_for). Both trees walked from
  the root (left = "yes"): the same nodes, the same split feature and missing-value side at
  every node, the split gains, hessian sums (cover) and leaf values equal as float32 numbers
  (bit for bit: the arithmetic is XGBoost's), the training predictions agree to rtol 1e-5, and
  the count of exactly-zero leaves is XGBoost's.
- ``arithmetic="exact"`` (the default), on the same boosters less the 12 noise settings: the same
  split features, leaf values to rtol 1e-4, predictions to rtol 1e-5, the same zero count; the
  one tolerated difference is a split XGBoost makes on rounding noise (gain < 1e-4, children of
  equal value), compared as the one leaf it amounts to.
"""

import itertools
import json

import numpy as np
import pytest

from shrinkage._kernels import boosting_tree as kernels
from shrinkage.boosting import GradientBoostingClassifier, GradientBoostingRegressor

xgb = pytest.importorskip("xgboost")

N_ROUNDS = 20
GRID = list(itertools.product([0.0, 1.0, 10.0], [0.0, 1.0, 10.0], [2, 5], [1.0, 5.0], [0.0, 0.5]))
# reg_lambda = 0 with max_delta_step > 0 (12 of 72): every child whose Newton weight exceeds the
# clip gets the same weight, the exact gain of splitting it is 0, and XGBoost's float32 rounding
# of that 0 often clears its 1e-6 threshold: it splits on noise and grows a different tree below.
# Exact arithmetic does not split there; arithmetic="xgboost" does, as XGBoost does.
NOISE_SETTINGS = [s for s in GRID if s[1] == 0.0 and s[4] > 0.0]
SETTINGS = [s for s in GRID if s not in NOISE_SETTINGS]


def make_problem(name, loss, seed=0):
    rng = np.random.default_rng(seed)
    if name == "gauss":
        X = rng.standard_normal((300, 5))
        f = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2] * X[:, 3]
    elif name == "uniform":
        X = rng.uniform(0, 1, (250, 8))
        f = 10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3]
        f = (f - f.mean()) / f.std()
    else:
        X = rng.lognormal(0.0, 1.0, (400, 3))
        f = np.log(X[:, 0]) - np.sqrt(X[:, 1]) + 0.5 * (X[:, 2] > 1)
    noise = rng.standard_normal(X.shape[0])
    if loss == "squared":
        y = 3.0 * f + 1.0 + 0.5 * noise
    else:
        y = (f + 0.7 * noise > np.median(f)).astype(np.float64)
    for j in range(X.shape[1]):  # no ties: one bin per value in both libraries
        assert np.unique(X[:, j]).size == X.shape[0]
    weight = rng.uniform(0.2, 3.0, X.shape[0])
    return X, y, weight


def _xgb_trees(booster):
    return [json.loads(t) for t in booster.get_dump(dump_format="json", with_stats=True)]


def _leaves(tree):
    if "leaf" in tree:
        return [tree["leaf"]]
    return [v for c in tree["children"] for v in _leaves(c)]


def _our_leaves(ours, node):
    if ours.feature[node] < 0:
        return [ours.value[node]]
    return _our_leaves(ours, ours.left[node]) + _our_leaves(ours, ours.right[node])


def _degenerate(values, gain):
    values = np.asarray(values)
    return gain < 1e-4 and np.allclose(values, values[0], rtol=1e-5, atol=1e-7)


def _compare_tree(ours, node, theirs, path="root"):
    """Walk both trees from the root: same split features, same shape, same leaf values.

    One exception, float32 noise: when two children get the same weight (both clipped by
    ``max_delta_step``, or both ``-G/H`` of pure nodes in the first logistic round) the split
    gains exactly 0 in real arithmetic; XGBoost evaluates gains in float32 and splits when that
    noise exceeds its 1e-6 threshold (we compute in float64 and do not). Such a split (gain
    < 1e-4, all its leaves equal) stands where the other library has a leaf, or another such
    split, of that value; it is compared as that one leaf. Returns the number of XGBoost's
    leaves, so collapsed, that are exactly zero.
    """
    their_leaf = "leaf" in theirs
    our_leaf = ours.feature[node] < 0
    if their_leaf and our_leaf:
        assert _close(ours.value[node], theirs["leaf"]), path
        return int(theirs["leaf"] == 0.0)
    if their_leaf or our_leaf or f"f{ours.feature[node]}" != theirs["split"]:
        theirs_values = [theirs["leaf"]] if their_leaf else _leaves(theirs)
        ours_values = _our_leaves(ours, node)
        their_ok = their_leaf or _degenerate(theirs_values, theirs["gain"])
        our_ok = our_leaf or _degenerate(ours_values, ours.gain[node])
        assert their_ok and our_ok and _close(ours_values[0], theirs_values[0]), (
            f"{path}: ours {'leaf' if our_leaf else f'f{ours.feature[node]}'}, XGBoost "
            f"{'leaf' if their_leaf else theirs['split']}")
        return int(ours_values[0] == 0.0)
    children = {c["nodeid"]: c for c in theirs["children"]}
    return (_compare_tree(ours, ours.left[node], children[theirs["yes"]], path + "L")
            + _compare_tree(ours, ours.right[node], children[theirs["no"]], path + "R"))


def _close(a, b, rtol=1e-4, atol=1e-6):
    return abs(a - b) <= atol + rtol * abs(b)


def _f32_equal(ours, theirs):
    """XGBoost's dump prints float32 numbers with 9 significant digits, which round-trip."""
    return np.float32(ours) == np.float32(theirs)


def _compare_tree_exactly(ours, node, theirs, path="root"):
    """Walk both trees from the root: the same nodes, split features and missing sides, and the
    same float32 gains, covers and leaf values. Returns XGBoost's count of exactly-zero leaves."""
    if "leaf" in theirs:
        assert ours.feature[node] < 0, f"{path}: ours f{ours.feature[node]}, XGBoost leaf"
        assert _f32_equal(ours.value[node], theirs["leaf"]), (
            f"{path}: leaf {ours.value[node]!r} vs XGBoost {theirs['leaf']!r}")
        return int(theirs["leaf"] == 0.0)
    assert f"f{ours.feature[node]}" == theirs["split"], (
        f"{path}: ours {'leaf' if ours.feature[node] < 0 else f'f{ours.feature[node]}'}, "
        f"XGBoost {theirs['split']}")
    assert ours.missing_left[node] == (theirs["missing"] == theirs["yes"]), path
    assert _f32_equal(ours.gain[node], theirs["gain"]), (
        f"{path}: gain {ours.gain[node]!r} vs XGBoost {theirs['gain']!r}")
    assert _f32_equal(ours.cover[node], theirs["cover"]), path
    children = {c["nodeid"]: c for c in theirs["children"]}
    return (_compare_tree_exactly(ours, ours.left[node], children[theirs["yes"]], path + "L")
            + _compare_tree_exactly(ours, ours.right[node], children[theirs["no"]], path + "R"))


def compare(X, y, weight, loss, alpha, lam, depth, mcw, mds, dmatrix=None,
            arithmetics=("exact",)):
    """Train XGBoost once; fit ours with each arithmetic and compare. Returns the zero counts."""
    base = 0.4 if loss == "logistic" else float(np.mean(y)) + 0.25
    common = dict(learning_rate=0.3, max_depth=depth, min_child_weight=mcw, reg_alpha=alpha,
                  reg_lambda=lam, max_delta_step=mds, base_score=base, max_bin=512)
    if dmatrix is None:
        dmatrix = xgb.DMatrix(X, y, weight=weight)
    objective = "reg:squarederror" if loss == "squared" else "binary:logistic"
    booster = xgb.train({**common, "objective": objective, "tree_method": "hist", "nthread": 1},
                        dmatrix, num_boost_round=N_ROUNDS)
    their_pred = booster.predict(dmatrix)
    dumps = _xgb_trees(booster)
    assert len(dumps) == N_ROUNDS
    model = GradientBoostingRegressor if loss == "squared" else GradientBoostingClassifier
    zeros = []
    for arithmetic in arithmetics:
        ours = model(n_estimators=N_ROUNDS, arithmetic=arithmetic, **common).fit(
            X, y, sample_weight=weight)
        ours_pred = ours.predict(X) if loss == "squared" else ours.predict_proba(X)[:, 1]
        assert len(ours.trees_) == N_ROUNDS
        their_zeros = 0
        walk = _compare_tree_exactly if arithmetic == "xgboost" else _compare_tree
        for t, (mine, dump) in enumerate(zip(ours.trees_, dumps, strict=True)):
            try:
                their_zeros += walk(mine, 0, dump)
            except AssertionError as err:
                raise AssertionError(f"arithmetic={arithmetic!r}, tree {t}: {err}") from None
        scale = np.max(np.abs(their_pred))
        np.testing.assert_allclose(ours_pred, their_pred, rtol=1e-5, atol=1e-6 * scale,
                                   err_msg=f"arithmetic={arithmetic!r}")
        assert ours.n_zero_leaves_ == their_zeros, f"arithmetic={arithmetic!r}"
        zeros.append(their_zeros)
    return zeros


def grid_for(problem):
    """All 72 settings on "gauss"; on the others the 12 noise settings and a different third of
    the rest (deterministic: every 3rd, from 0 for "uniform", from 1 for "lognormal")."""
    if problem == "gauss":
        return GRID
    return NOISE_SETTINGS + SETTINGS[{"uniform": 0, "lognormal": 1}[problem]::3]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("problem", ["gauss", "uniform", "lognormal"])
def test_leaf_for_leaf_against_xgboost(problem, loss, weighted):
    """arithmetic="xgboost" on every setting of grid_for(problem): XGBoost's trees node for node,
    bit for bit; the default exact arithmetic on the settings outside NOISE_SETTINGS, against
    the same boosters (noise splits collapsed)."""
    X, y, weight = make_problem(problem, loss)
    w = weight if weighted else None
    dmatrix = xgb.DMatrix(X, y, weight=w)
    zeros = np.zeros(2, dtype=np.int64)
    for setting in grid_for(problem):
        arithmetics = ("xgboost",) if setting in NOISE_SETTINGS else ("xgboost", "exact")
        try:
            counts = compare(X, y, w, loss, *setting, dmatrix=dmatrix, arithmetics=arithmetics)
        except AssertionError as err:
            alpha, lam, depth, mcw, mds = setting
            raise AssertionError(f"reg_alpha={alpha}, reg_lambda={lam}, max_depth={depth}, "
                                 f"min_child_weight={mcw}, max_delta_step={mds}: {err}") from None
        zeros[: len(counts)] += counts
    if problem == "gauss":  # the grid does produce exact zeros (the count checks are not vacuous)
        assert zeros.min() > 0


@pytest.mark.parametrize("arithmetic", ["exact", "xgboost"])
def test_split_on_rounding_noise(arithmetic):
    """reg_lambda = 0, max_delta_step = 0.5, targets far above the margin: every child's weight
    clips to +0.5, so every split's exact gain is 0 (score(L) + score(R) = score(parent)).
    XGBoost's float32 gain of the best one is rounding noise above its 1e-6 threshold, and it
    splits; arithmetic="xgboost" makes the same split with the same float32 gain, exact
    arithmetic keeps the root a leaf of the same value."""
    X, _, _ = make_problem("gauss", "squared")
    y = 100.0 + np.sin(X[:, 0])
    common = dict(n_estimators=1, max_depth=1, reg_lambda=0.0, max_delta_step=0.5, base_score=0.0,
                  max_bin=512, learning_rate=0.3)
    theirs = xgb.XGBRegressor(**common, tree_method="hist", n_jobs=1).fit(X, y)
    dump = _xgb_trees(theirs.get_booster())[0]
    # XGBoost splits on noise: a gain above 1e-6 but within a few float32 ulps of the parent's
    # score (-(2 G w + H w^2) at w = 0.5, about 3e4 here)
    parent_score = y.sum() - 0.25 * y.size
    assert "leaf" not in dump and 1e-6 < dump["gain"] < 4 * np.finfo(np.float32).eps * parent_score
    assert all(np.float32(c["leaf"]) == np.float32(0.15) for c in dump["children"])
    ours = GradientBoostingRegressor(**common, arithmetic=arithmetic).fit(X, y)
    tree = ours.trees_[0]
    if arithmetic == "xgboost":
        _compare_tree_exactly(tree, 0, dump)
    else:
        assert tree.feature[0] == -1 and tree.value[0] == pytest.approx(0.15)
    # XGBoost's split gains 0 in float64 (up to its rounding), far below the 1e-6 threshold
    left = X[:, int(dump["split"][1:])] < dump["split_condition"]
    g = np.float32(0.0 - y).astype(np.float64)
    score = [kernels.node_score(g[m].sum(), float(m.sum()), 0.0, 0.0, 0.5, 1.0)
             for m in (left, ~left, np.ones_like(left))]
    assert abs(score[0] + score[1] - score[2]) < 1e-9
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6)


def test_xgboost_base_score_default_is_the_weighted_mean():
    """XGBoost 3 estimates base_score; ours must land on the same first-round predictions."""
    X, y, weight = make_problem("gauss", "squared")
    for w in (None, weight):
        ours = GradientBoostingRegressor(n_estimators=3, max_depth=3, max_bin=512).fit(
            X, y, sample_weight=w)
        theirs = xgb.XGBRegressor(n_estimators=3, max_depth=3, max_bin=512, tree_method="hist",
                                  n_jobs=1).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5, atol=1e-5)
    X, y, weight = make_problem("gauss", "logistic")
    for w in (None, weight):
        ours = GradientBoostingClassifier(n_estimators=3, max_depth=3, max_bin=512).fit(
            X, y, sample_weight=w)
        theirs = xgb.XGBClassifier(n_estimators=3, max_depth=3, max_bin=512, tree_method="hist",
                                   n_jobs=1).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-5,
                                   atol=1e-6)


def test_gamma_is_compared_with_the_unhalved_gain():
    """XGBoost's code splits when score(L) + score(R) - score(P) >= gamma (its docs halve it)."""
    X, y, _ = make_problem("gauss", "squared")
    probe = GradientBoostingRegressor(n_estimators=1, max_depth=1, max_bin=512, reg_lambda=1.0,
                                      base_score=0.0).fit(X, y)
    root_gain = probe.trees_[0].gain[0]
    for gamma, splits in [(0.99 * root_gain, True), (1.01 * root_gain, False),
                          (0.6 * root_gain, True)]:
        ours = GradientBoostingRegressor(n_estimators=1, max_depth=1, max_bin=512, gamma=gamma,
                                         base_score=0.0).fit(X, y)
        theirs = xgb.XGBRegressor(n_estimators=1, max_depth=1, max_bin=512, gamma=gamma,
                                  base_score=0.0, tree_method="hist", n_jobs=1).fit(X, y)
        dump = _xgb_trees(theirs.get_booster())[0]
        assert ("leaf" not in dump) == splits
        assert (ours.trees_[0].feature[0] >= 0) == splits


@pytest.mark.parametrize("policy", ["lossguide"])
def test_lossguide_against_xgboost(policy):
    X, y, _ = make_problem("uniform", "squared")
    common = dict(n_estimators=10, max_depth=0, max_leaves=7, grow_policy=policy, base_score=0.0,
                  max_bin=512, reg_alpha=1.0)
    ours = GradientBoostingRegressor(**common).fit(X, y)
    theirs = xgb.XGBRegressor(**common, tree_method="hist", n_jobs=1).fit(X, y)
    for mine, dump in zip(ours.trees_, _xgb_trees(theirs.get_booster()), strict=True):
        _compare_tree(mine, 0, dump)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5, atol=1e-5)
    assert all(t.leaf_values.size <= 7 for t in ours.trees_)


def test_missing_values_default_direction_against_xgboost():
    X, y, _ = make_problem("gauss", "squared")
    X = X.copy()
    rng = np.random.default_rng(1)
    X[rng.random(X.shape) < 0.15] = np.nan
    common = dict(n_estimators=10, max_depth=3, base_score=0.0, max_bin=512)
    ours = GradientBoostingRegressor(**common).fit(X, y)
    theirs = xgb.XGBRegressor(**common, tree_method="hist", n_jobs=1).fit(X, y)
    for mine, dump in zip(ours.trees_, _xgb_trees(theirs.get_booster()), strict=True):
        _compare_tree(mine, 0, dump)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5, atol=1e-5)


def _xgboost_pair(model, xgb_model, X, y, sample_weight=None, **params):
    ours = model(**params, arithmetic="xgboost").fit(X, y, sample_weight=sample_weight)
    theirs = xgb_model(**params, tree_method="hist", n_jobs=1).fit(X, y,
                                                                  sample_weight=sample_weight)
    dumps = _xgb_trees(theirs.get_booster())
    for t, (mine, dump) in enumerate(zip(ours.trees_, dumps, strict=True)):
        try:
            _compare_tree_exactly(mine, 0, dump)
        except AssertionError as err:
            raise AssertionError(f"tree {t}: {err}") from None
    return ours, theirs


@pytest.mark.parametrize("lam, mds", [(1.0, 0.0), (0.0, 0.5)])
def test_xgboost_arithmetic_beyond_the_grid(lam, mds):
    """arithmetic="xgboost", node for node and bit for bit, where the grid does not go: missing
    values (XGBoost's backward scan), leaf-wise growth, tied values (several rows a bin),
    multiclass softmax with sample weights, and base_score left to its default."""
    common = dict(max_bin=512, reg_lambda=lam, max_delta_step=mds)
    X, y, weight = make_problem("gauss", "squared")
    X_nan = X.copy()
    X_nan[np.random.default_rng(1).random(X.shape) < 0.15] = np.nan
    ours, theirs = _xgboost_pair(GradientBoostingRegressor, xgb.XGBRegressor, X_nan, y,
                                 n_estimators=10, max_depth=4, base_score=0.0, **common)
    assert any(t.missing_left[t.feature >= 0].any() for t in ours.trees_)
    np.testing.assert_allclose(ours.predict(X_nan), theirs.predict(X_nan), rtol=1e-5, atol=1e-5)
    _xgboost_pair(GradientBoostingRegressor, xgb.XGBRegressor, X, y, n_estimators=10,
                  max_depth=0, max_leaves=7, grow_policy="lossguide", base_score=0.0,
                  reg_alpha=1.0, **common)
    _xgboost_pair(GradientBoostingRegressor, xgb.XGBRegressor, np.round(X * 4) / 4, y,
                  n_estimators=10, max_depth=4, base_score=0.0, **common)
    classes = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    ours, theirs = _xgboost_pair(GradientBoostingClassifier, xgb.XGBClassifier, X, classes,
                                 weight, n_estimators=10, max_depth=3, base_score=0.5,
                                 **common)  # XGBClassifier: multi:softprob
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-5,
                               atol=1e-6)
    X, y, weight = make_problem("gauss", "logistic")
    ours, theirs = _xgboost_pair(GradientBoostingClassifier, xgb.XGBClassifier, X, y, weight,
                                 n_estimators=10, max_depth=3, **common)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-5,
                               atol=1e-6)
