"""Histogram gradient boosting with an elastic net on the leaf weights (XGBoost's alpha, lambda).

Round m adds K trees (K = 1, or the number of classes for softmax) to the margin ``F``. From the
per-row gradients ``g_i`` and hessians ``h_i`` of the loss at ``F`` (times the sample weight), a
tree is grown greedily; each leaf with sums ``G``, ``H`` gets the weight

    w = argmin_w  G w + (H + reg_lambda) w^2 / 2 + reg_alpha |w|  =  -S(G, reg_alpha) / (H + reg_lambda)

(the prox of the penalty object's L1 part at the Newton point -G/H, step 1/H: the same
``prox_enet_1d`` the lasso uses), clipped to ``[-max_delta_step, max_delta_step]`` when that is
positive, and the tree adds ``learning_rate * w``. See the kernels in
:mod:`shrinkage._kernels.boosting_tree` for the split gain and its comparison with ``gamma``.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import expit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._kernels.boosting_tree import (
    add_leaf_values,
    add_leaf_values_partitioned,
    apply_binned,
    gradients_logistic,
    gradients_logistic_xgb,
    gradients_softmax,
    gradients_softmax_xgb,
    gradients_squared,
    gradients_squared_xgb,
    grow_tree,
    logit_xgb,
)
from ..linear_model._base import check_numeric_columns, check_sample_weight
from ..penalties import ElasticNet, Penalty
from ._binning import BinMapper
from ._trees import FlatEnsemble, Tree

MAX_BIN_LIMIT = 65535  # bins are stored as uint16 with one index kept for NaN


def _f32(v):
    """Round to float32, kept as float64 (arithmetic="xgboost")."""
    if np.ndim(v) == 0:
        return float(np.float32(v))
    return np.asarray(v, dtype=np.float32).astype(np.float64)


def penalty_to_xgboost(penalty):
    """``(reg_alpha, reg_lambda)`` of a penalty object: its lowered ``(l1, l2)`` for one weight.

    ``L1(a)`` → ``(a, 0)``, ``L2(a)`` → ``(0, a)`` (shrinkage's ``a w^2 / 2`` is XGBoost's
    ``lambda w^2 / 2``), ``ElasticNet(a, rho)`` → ``(a rho, a (1 - rho))``. The penalty applies to
    each leaf of the *summed* loss ``sum_i s_i l(y_i, F_i)`` (XGBoost's scale, not the 1/n mean).
    """
    if not isinstance(penalty, Penalty):
        raise TypeError(f"penalty must be an L1, L2 or ElasticNet object, got {penalty!r}")
    if penalty.weights is not None or penalty.positive:
        raise ValueError("a boosting penalty takes no per-feature weights and no positive=True")
    l1, l2 = penalty.lower(1)
    return float(l1[0]), float(l2[0])


class _BaseGradientBoosting(BaseEstimator):
    _parameter_constraints: dict = {
        "n_estimators": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_depth": [Interval(Integral, 0, None, closed="left")],
        "max_leaves": [Interval(Integral, 0, None, closed="left")],
        "grow_policy": [StrOptions({"depthwise", "lossguide"})],
        "min_child_weight": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "reg_alpha": [Interval(Real, 0, None, closed="left")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "max_delta_step": [Interval(Real, 0, None, closed="left")],
        "penalty": [Penalty, None],
        "base_score": [Real, None],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "max_bin": [Interval(Integral, 2, MAX_BIN_LIMIT - 1, closed="both")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "arithmetic": [StrOptions({"exact", "xgboost"})],
    }

    def __init__(self, *, n_estimators=100, learning_rate=0.3, max_depth=6, max_leaves=0,
                 grow_policy="depthwise", min_child_weight=1.0, gamma=0.0, reg_alpha=0.0,
                 reg_lambda=1.0, max_delta_step=0.0, penalty=None, base_score=None, subsample=1.0,
                 colsample_bytree=1.0, max_bin=256, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-7, random_state=None, arithmetic="exact"):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.grow_policy = grow_policy
        self.min_child_weight = min_child_weight
        self.gamma = gamma
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.max_delta_step = max_delta_step
        self.penalty = penalty
        self.base_score = base_score
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.max_bin = max_bin
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.arithmetic = arithmetic

    # ------------------------------------------------------------------ loss hooks
    def _n_outputs(self):
        return 1

    def _gradients(self, margin, y, weight, g, h):
        if self.arithmetic == "xgboost":
            gradients_squared_xgb(margin[0], y, weight, g[0], h[0])
        else:
            gradients_squared(margin[0], y, weight, g[0], h[0])

    def _loss(self, margin, y, weight):
        return float(np.average(0.5 * (y - margin[0]) ** 2, weights=weight))

    def _default_base_margin(self, y, weight):
        return np.array([np.average(y, weights=weight)])

    def _base_margin_from_score(self, score):
        return np.array([float(score)])

    # ------------------------------------------------------------------ validation
    def _check_X(self, X, reset):
        check_numeric_columns(X)
        try:
            return validate_data(self, X, reset=reset, dtype=np.float64,
                                 ensure_all_finite="allow-nan", order="C")
        except ValueError as err:
            if "could not convert" in str(err):
                raise ValueError(f"X contains non-numeric values: {err}") from err
            raise

    def _validate_fit(self, X, y, sample_weight):
        self._validate_params()
        check_numeric_columns(X)
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan",
                             order="C", y_numeric=not isinstance(self, ClassifierMixin))
        if not isinstance(self, ClassifierMixin):
            y = np.asarray(y, dtype=np.float64)
            if not np.all(np.isfinite(y)):
                raise ValueError("y contains NaN or infinity: the target must be finite")
        sample_weight = check_sample_weight(sample_weight, X)
        return X, y, sample_weight

    def _regularization(self):
        if self.penalty is not None:
            return penalty_to_xgboost(self.penalty)
        return float(self.reg_alpha), float(self.reg_lambda)

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, sample_weight):
        """``y`` is float (regression, 0/1) or class codes; validated already."""
        n, p = X.shape
        # float32 weights: products with float32 gradients are then exact in float64
        weight = np.ones(n) if sample_weight is None else sample_weight.astype(
            np.float32).astype(np.float64)
        reg_alpha, reg_lambda = self._regularization()
        self.reg_alpha_, self.reg_lambda_ = reg_alpha, reg_lambda
        self.penalty_ = ElasticNet(reg_alpha + reg_lambda,
                                   reg_alpha / (reg_alpha + reg_lambda) if reg_alpha + reg_lambda
                                   > 0 else 1.0)
        rng = np.random.default_rng(
            np.random.RandomState(self.random_state).randint(2**31) if not isinstance(
                self.random_state, np.random.Generator) else self.random_state)

        X_val = y_val = w_val = None
        if self.early_stopping:
            stratify = y if isinstance(self, ClassifierMixin) and np.min(np.bincount(
                y.astype(np.int64))) >= 2 else None
            idx = np.arange(n)
            train, val = train_test_split(idx, test_size=self.validation_fraction,
                                          random_state=int(rng.integers(2**31)), stratify=stratify)
            X_val, y_val, w_val = X[val], y[val], weight[val]
            X, y, weight = X[train], y[train], weight[train]
            n = X.shape[0]

        xgb = self.arithmetic == "xgboost"
        if self.base_score is None:
            base = self._default_base_margin(y, weight)
        else:
            base = self._base_margin_from_score(self.base_score)
        if xgb:
            # XGBoost's float32 numbers: margin, labels, parameters (TrainParam holds floats)
            base = _f32(base)
            y = _f32(y)
            reg_alpha, reg_lambda = _f32(reg_alpha), _f32(reg_lambda)
        self.base_margin_ = base
        numbers = (float(self.max_delta_step), float(self.min_child_weight), float(self.gamma),
                   float(self.learning_rate))
        max_delta_step, min_child_weight, gamma, learning_rate = (
            tuple(_f32(v) for v in numbers) if xgb else numbers)
        K = self._n_outputs()

        mapper = BinMapper(self.max_bin, random_state=int(rng.integers(2**31))).fit(
            X, weight if sample_weight is not None else None)
        has_nan = bool(np.isnan(X).any())
        dense = not has_nan
        binned = mapper.transform(X, has_nan=has_nan)
        self.bin_thresholds_ = mapper.thresholds_
        n_bins, missing_bin = mapper.n_bins_, mapper.missing_bin_
        table = mapper.threshold_table_

        lossguide = self.grow_policy == "lossguide"
        max_depth = int(self.max_depth)
        max_leaves = int(self.max_leaves)
        if lossguide and max_depth == 0 and max_leaves == 0:
            raise ValueError("grow_policy='lossguide' with max_depth=0 needs max_leaves > 0")
        if not lossguide and max_depth == 0:
            raise ValueError("grow_policy='depthwise' needs max_depth >= 1")
        slots = 2 ** (max_depth - 1) if max_depth > 0 else n
        if max_leaves > 0:
            slots = min(slots, max_leaves)
        slots = max(1, min(slots, n))
        hists = np.zeros((slots, p, missing_bin + 1, 2))

        margin = np.repeat(base[:, None], n, axis=1)  # (K, n)
        g = np.empty((K, n))
        h = np.empty((K, n))
        leaves = np.empty(n, dtype=np.int64)
        n_features_tree = max(1, round(self.colsample_bytree * p))
        all_rows = np.arange(n, dtype=np.int64)
        all_features = np.arange(p, dtype=np.int64)

        trees = []
        self.train_score_ = []
        self.validation_score_ = []
        if X_val is not None:
            val_margin = np.repeat(base[None, :], X_val.shape[0], axis=0)  # (n_val, K)
            best_loss, best_round, since_best = np.inf, 0, 0
        for _ in range(self.n_estimators):
            self._gradients(margin, y, weight, g, h)
            if self.subsample < 1.0:
                rows = np.flatnonzero(rng.random(n) < self.subsample).astype(np.int64)
                if rows.size == 0:
                    rows = all_rows.copy()
            else:
                rows = all_rows.copy()
            if n_features_tree < p:
                features = np.sort(rng.choice(p, n_features_tree, replace=False)).astype(np.int64)
            else:
                features = all_features
            new = []
            for k in range(K):
                tree_rows = rows.copy()
                (feature, split_bin, missing_left, left, right, value, gain, cover, depth, start,
                 end) = grow_tree(binned, g[k], h[k], tree_rows, features, n_bins, missing_bin,
                                  hists, reg_alpha, reg_lambda, max_delta_step, min_child_weight,
                                  gamma, learning_rate, max_depth, max_leaves, lossguide, xgb,
                                  dense)
                split = feature >= 0
                threshold = np.full(feature.size, np.nan)
                f, b = feature[split], split_bin[split]
                # the top bin (all values left, NaN right; the table has no column for it) is
                # +inf; bin -1 (arithmetic="xgboost": NaN alone left) is -inf
                threshold[split] = np.where(
                    b >= n_bins[f] - 1, np.inf,
                    np.where(b < 0, -np.inf, table[f, np.clip(b, 0, table.shape[1] - 1)]))
                tree = Tree(feature, threshold, split_bin, missing_left, left, right, value, gain,
                            cover, depth, output=k)
                if tree_rows.size == n:  # every row was in the tree: its partition says where
                    add_leaf_values_partitioned(tree_rows, feature, start, end, value, margin[k],
                                                xgb)
                else:
                    apply_binned(binned, missing_bin, feature, split_bin, missing_left, left,
                                 right, leaves)
                    add_leaf_values(leaves, value, margin[k], xgb)
                new.append(tree)
            trees.extend(new)
            self.train_score_.append(self._loss(margin, y, weight))
            if X_val is not None:
                FlatEnsemble(new).add_margin(X_val, val_margin)
                loss = self._loss(np.ascontiguousarray(val_margin.T), y_val, w_val)
                self.validation_score_.append(loss)
                if loss < best_loss - self.tol:
                    best_loss, best_round, since_best = loss, len(trees) // K, 0
                else:
                    since_best += 1
                    if since_best >= self.n_iter_no_change:
                        break
        if X_val is not None and self.n_estimators > 0:
            trees = trees[: best_round * K]
            self.best_iteration_ = best_round
        self.trees_ = trees
        self.n_iter_ = len(trees) // K
        self._flat = FlatEnsemble(trees)
        return self

    # ------------------------------------------------------------------ prediction
    def _raw_predict(self, X):
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        margin = np.repeat(self.base_margin_[None, :], X.shape[0], axis=0)
        return self._flat.add_margin(X, margin)

    def _staged_margin(self, X):
        """Margins after each round, shape (n_rounds + 1, n_samples, K) (row 0: base)."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        K = self.base_margin_.size
        leaves = self._flat.apply(X)  # global node indices (n, T)
        contrib = self._flat.value[leaves]  # (n, T)
        rounds = contrib.reshape(X.shape[0], -1, K)  # round-major: trees m K .. m K + K - 1
        staged = np.cumsum(rounds, axis=1).transpose(1, 0, 2) + self.base_margin_
        return np.concatenate([np.broadcast_to(self.base_margin_, (1, X.shape[0], K)), staged])

    def apply(self, X):
        """The leaf each row reaches in each tree: node indices (within the tree), shape
        (n_samples, n_trees)."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        return self._flat.apply(X) - self._flat.tree_start[None, :]

    # ------------------------------------------------------------------ inspection
    @property
    def leaf_values_(self):
        """Per tree, the values its leaves add to the margin (learning rate included)."""
        check_is_fitted(self)
        return [t.leaf_values for t in self.trees_]

    @property
    def n_leaves_(self):
        return int(sum(t.leaf_values.size for t in self.trees_))

    @property
    def n_zero_leaves_(self):
        """How many leaves are exactly zero (``|G| <= reg_alpha`` or ``H < min_child_weight``)."""
        return int(sum(np.count_nonzero(t.leaf_values == 0.0) for t in self.trees_))

    @property
    def zero_leaf_share_(self):
        return self.n_zero_leaves_ / max(1, self.n_leaves_)

    def get_feature_importance(self, importance_type="gain"):
        """Per-feature importance, as XGBoost's ``get_score``: ``"weight"`` (number of splits),
        ``"gain"`` / ``"cover"`` (mean split gain / hessian sum over its splits), ``"total_gain"``
        / ``"total_cover"`` (their sums). Features never split on get 0."""
        check_is_fitted(self)
        p = self.n_features_in_
        count, gain, cover = np.zeros(p), np.zeros(p), np.zeros(p)
        for t in self.trees_:
            s = t.feature >= 0
            np.add.at(count, t.feature[s], 1.0)
            np.add.at(gain, t.feature[s], t.gain[s])
            np.add.at(cover, t.feature[s], t.cover[s])
        with np.errstate(invalid="ignore", divide="ignore"):
            table = {"weight": count, "total_gain": gain, "total_cover": cover,
                     "gain": np.where(count > 0, gain / np.maximum(count, 1), 0.0),
                     "cover": np.where(count > 0, cover / np.maximum(count, 1), 0.0)}
        if importance_type not in table:
            raise ValueError(f"importance_type must be one of {sorted(table)}, "
                             f"got {importance_type!r}")
        return table[importance_type]

    @property
    def feature_importances_(self):
        """Total split gain per feature, normalised to sum to 1 (zeros when no split)."""
        total = self.get_feature_importance("total_gain")
        s = total.sum()
        return total / s if s > 0 else total

    def dump_tree(self, index, feature_names=None):
        """Tree ``index`` as readable text (one node a line: split, children, gain, cover)."""
        check_is_fitted(self)
        names = feature_names
        if names is None and hasattr(self, "feature_names_in_"):
            names = list(self.feature_names_in_)
        return self.trees_[index].dump(names)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


_PARAMS_DOC = """
    Parameters
    ----------
    n_estimators : int, default=100
        Boosting rounds (trees per output).
    learning_rate : float, default=0.3
        XGBoost's ``eta``: each tree adds ``learning_rate * w`` at its leaves.
    max_depth : int, default=6
        Depth limit (0: none, only with ``grow_policy="lossguide"``).
    max_leaves : int, default=0
        Leaf limit per tree (0: none).
    grow_policy : {"depthwise", "lossguide"}, default="depthwise"
        Expand every node of the shallowest level, or the leaf of largest gain (LightGBM's
        leaf-wise growth).
    min_child_weight : float, default=1
        A child's hessian sum ``H`` must be ``>= min_child_weight``; a node with smaller ``H``
        has weight 0.
    gamma : float, default=0
        XGBoost's ``min_split_loss``: a node is split when ``gain >= gamma`` (and ``gain > 1e-6``),
        with ``gain = score(L) + score(R) - score(parent)``, ``score = S(G, alpha)^2 / (H + lambda)``.
        XGBoost's documentation writes ``gain/2 - gamma``; its code (and this) compares the
        unhalved gain with gamma.
    reg_alpha, reg_lambda : float, default=0 and 1
        The leaf penalty ``reg_alpha |w| + reg_lambda w^2 / 2`` per leaf of the summed loss.
    max_delta_step : float, default=0
        Leaf weights clipped to ``[-max_delta_step, max_delta_step]`` (0: no clipping); the score
        is then ``-(2 G w + (H + lambda) w^2)`` at the clipped ``w``, as in XGBoost's code.
    penalty : L1, L2 or ElasticNet, optional
        Instead of reg_alpha/reg_lambda: ``L1(a)`` → (a, 0), ``L2(a)`` → (0, a),
        ``ElasticNet(a, rho)`` → (a rho, a (1 - rho)); see :func:`penalty_to_xgboost`.
    base_score : float, optional
        The initial prediction (a probability for binary classification). Default: estimated from
        the data as XGBoost 3 does — the weighted mean of ``y`` (regression, binary: its logit is
        the margin); for multiclass the log of the weighted class shares.
    subsample : float in (0, 1], default=1
        Each row joins a tree's sample with this probability (XGBoost's Bernoulli sampling).
    colsample_bytree : float in (0, 1], default=1
        Share of the features (``round(colsample_bytree * p)``, at least 1) drawn per round.
    max_bin : int, default=256
        Bins per feature (2 .. 65534): one per distinct value when there are at most ``max_bin``,
        else quantiles. Missing values (NaN) have their own bin and a learned default side.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` (stratified for classifiers) and stop when the validation
        loss has not decreased by ``tol`` for ``n_iter_no_change`` rounds; keep the best round.
    validation_fraction, n_iter_no_change, tol
        See ``early_stopping``.
    random_state : int, RandomState or None
        Seeds subsample, colsample_bytree, the validation split and the binning subsample.
    arithmetic : {"exact", "xgboost"}, default="exact"
        ``"exact"``: gains in float64 and node sums in float64, so a split whose exact gain is
        0 is never made and integer weights equal repeated rows exactly. ``"xgboost"``:
        XGBoost 3.2's own arithmetic (``tree_method="hist"``), operation by operation — float32
        parameters, margins and gradients (``(p - y) w`` rounded), gains and leaf weights
        rounded to float32 where its hist evaluator rounds them, its node sums and scan order,
        ``gain > 1e-6f``, no tie tolerance. It reproduces XGBoost's trees split for split,
        including the splits XGBoost makes on float32 rounding noise (e.g. ``reg_lambda=0``
        with ``max_delta_step > 0``, where every child clips to the same weight and the exact
        gain is 0). For comparison with XGBoost; see docs/boosting.md, "Numerics".

    Sample weights multiply each row's gradient and hessian (as in XGBoost; not rescaled).
"""


class GradientBoostingRegressor(RegressorMixin, _BaseGradientBoosting):
    """Gradient-boosted trees for squared error with an elastic net on the leaf weights.

    Minimises, greedily one tree at a time with a second-order (Newton) step,
    ``sum_i s_i (y_i - F(x_i))^2 / 2 + sum_trees sum_leaves (gamma_split + reg_alpha |w| +
    reg_lambda w^2 / 2)``; each leaf weight is ``-S(G, reg_alpha) / (H + reg_lambda)``, so a leaf
    with ``|G| <= reg_alpha`` is exactly zero. Parameters and meanings follow XGBoost's
    ``reg:squarederror`` with ``tree_method="hist"``.
    """ + _PARAMS_DOC + """
    Attributes
    ----------
    trees_ : list of Tree
    base_margin_ : ndarray of shape (1,)
    n_iter_ : int
    train_score_, validation_score_ : list of float
        Half mean squared error after each round.
    """

    def fit(self, X, y, sample_weight=None):
        """Fit the ensemble; ``X`` may contain NaN."""
        X, y, sample_weight = self._validate_fit(X, y, sample_weight)
        return self._fit(X, y, sample_weight)

    def predict(self, X):
        return self._raw_predict(X)[:, 0]

    def staged_predict(self, X):
        """Predictions after each boosting round (a generator, as scikit-learn's)."""
        for margin in self._staged_margin(X)[1:]:
            yield margin[:, 0]


class GradientBoostingClassifier(ClassifierMixin, _BaseGradientBoosting):
    """Gradient-boosted trees for binary logistic or multiclass softmax loss, L1/L2 on leaves.

    Two classes: XGBoost's ``binary:logistic`` (one tree per round on the log-odds margin);
    more: ``multi:softprob`` (one tree per class per round, hessian ``2 p (1 - p)`` as XGBoost's).
    Leaf weights as for :class:`GradientBoostingRegressor`.
    """ + _PARAMS_DOC + """
    Attributes
    ----------
    classes_ : ndarray
    trees_ : list of Tree
        For multiclass, round m's trees are ``trees_[m K : (m + 1) K]``, tree k adding to class k.
    base_margin_ : ndarray of shape (1,) or (n_classes,)
    """

    def fit(self, X, y, sample_weight=None):
        """Fit the ensemble; ``X`` may contain NaN."""
        X, y, sample_weight = self._validate_fit(X, y, sample_weight)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        codes = encoder.transform(y)
        if self.classes_.size < 2:
            raise ValueError(f"y has only one class ({self.classes_[0]!r}): a classifier needs "
                             "samples of at least 2 classes")
        counts = np.bincount(codes, minlength=self.classes_.size)
        if np.any(counts == 1):
            once = self.classes_[counts == 1]
            raise ValueError(f"class label(s) {list(once)} appear only once in y: a class needs "
                             "at least 2 samples")
        self.n_classes_ = self.classes_.size
        return self._fit(X, codes.astype(np.float64), sample_weight)

    def _n_outputs(self):
        return 1 if self.n_classes_ == 2 else self.n_classes_

    def _gradients(self, margin, y, weight, g, h):
        xgb = self.arithmetic == "xgboost"
        if self.n_classes_ == 2:
            (gradients_logistic_xgb if xgb else gradients_logistic)(margin[0], y, weight, g[0],
                                                                    h[0])
        else:
            (gradients_softmax_xgb if xgb else gradients_softmax)(margin, y, weight, g, h)

    def _loss(self, margin, y, weight):
        if self.n_classes_ == 2:
            f = margin[0]
            # log(1 + e^f) - y f, stably
            return float(np.average(np.logaddexp(0.0, f) - y * f, weights=weight))
        codes = y.astype(np.int64)
        logp = margin[codes, np.arange(codes.size)] - logsumexp(margin, axis=0)
        return float(-np.average(logp, weights=weight))

    def _default_base_margin(self, y, weight):
        if self.n_classes_ == 2:
            p = float(np.clip(np.average(y, weights=weight), 1e-12, 1 - 1e-12))
            if self.arithmetic == "xgboost":  # XGBoost's float32 ProbToMargin of the mean
                return np.array([logit_xgb(p)])
            return np.array([np.log(p / (1 - p))])
        share = np.bincount(y.astype(np.int64), weights=weight, minlength=self.n_classes_)
        share = np.clip(share / share.sum(), 1e-12, None)
        logs = np.log(share)
        return logs - logs.mean()

    def _base_margin_from_score(self, score):
        if self.n_classes_ == 2:
            if not 0 < score < 1:
                raise ValueError(f"base_score of a binary classifier is a probability in (0, 1), "
                                 f"got {score!r}")
            if self.arithmetic == "xgboost":
                return np.array([logit_xgb(float(score))])
            return np.array([np.log(score / (1 - score))])
        return np.full(self.n_classes_, float(score))

    def decision_function(self, X):
        """The margin: log-odds (binary, shape (n,)) or per-class scores (n, n_classes)."""
        margin = self._raw_predict(X)
        return margin[:, 0] if self.n_classes_ == 2 else margin

    def predict_proba(self, X):
        margin = self._raw_predict(X)
        if self.n_classes_ == 2:
            p = expit(margin[:, 0])
            return np.column_stack([1 - p, p])
        return np.exp(margin - logsumexp(margin, axis=1, keepdims=True))

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


__all__ = ["GradientBoostingClassifier", "GradientBoostingRegressor",
           "penalty_to_xgboost"]
