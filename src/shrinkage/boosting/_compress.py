"""Leaf lasso: refit every leaf value of a fitted ensemble jointly, with an L1 penalty, and drop
the trees whose leaves all become zero.

A fitted ensemble predicts ``F(x) = b + sum_t v_t(leaf_t(x)) = b + Z(x) theta``, where ``Z`` is
the sparse leaf-indicator matrix (one column per leaf of every tree, one 1 per tree in each row)
and ``theta`` the vector of all leaf values. :func:`compress` solves, along a path of alphas,

    minimise_{b, theta}  (1/2n) sum_i s_i (t_i - b - Z_i theta)^2 + alpha sum_c f_c |theta_c|

with shrinkage's own :func:`~shrinkage.lasso_path` (and :class:`~shrinkage.LassoCV` for the
choice of alpha) on ``Z`` in CSC format. The penalty factors ``f_c`` are 1 (the plain lasso,
``adaptive=0``) or ``|v_c|^-adaptive`` scaled to a smallest factor of 1, from the boosted
leaf values ``v`` (the adaptive lasso, default ``adaptive=0.5``). The target ``t`` is ``y``
for a regressor and the fitted log-odds (the ensemble's own margin, a distillation) for a
binary classifier. A tree whose leaves are all zero at some alpha contributes nothing and is
dropped: the path is a size/accuracy curve.
"""

import copy
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from ..linear_model import LassoCV, lasso_path
from ._trees import FlatEnsemble, Tree


def leaf_indicator_matrix(model, X):
    """The CSC matrix ``Z`` (n_samples, n_leaves) with ``Z[i, c] = 1`` when row ``i`` reaches leaf
    ``c``; the columns run over the trees in order, and over each tree's leaves by node index.

    Returns ``(Z, columns)`` where ``columns[t]`` maps tree t's node index to its column (-1 at
    inner nodes).
    """
    check_is_fitted(model)
    leaves = model.apply(X)  # (n, T) node indices within each tree
    columns, offset = [], 0
    for tree in model.trees_:
        lut = np.full(tree.feature.size, -1, dtype=np.int64)
        is_leaf = tree.feature < 0
        lut[is_leaf] = offset + np.arange(np.count_nonzero(is_leaf))
        offset += np.count_nonzero(is_leaf)
        columns.append(lut)
    n, T = leaves.shape
    cols = np.empty((n, T), dtype=np.int64)
    for t, lut in enumerate(columns):
        cols[:, t] = lut[leaves[:, t]]
    Z = sp.csr_matrix((np.ones(n * T), cols.ravel(), np.arange(0, n * T + 1, T)),
                      shape=(n, offset))
    return Z.tocsc(), columns


@dataclass
class CompressionPath:
    """The leaf lasso along its alphas (largest first): the size/accuracy trade-off.

    Attributes
    ----------
    alphas : ndarray (n_alphas,)
    n_trees : ndarray (n_alphas,)
        Trees with at least one nonzero leaf.
    n_leaves : ndarray (n_alphas,)
        Nonzero leaves.
    train_error : ndarray (n_alphas,)
        Weighted mean squared error to the target on the fitting data.
    test_error : ndarray (n_alphas,) or None
        Mean squared error on ``(X_test, y_test)`` (regressor), or log-loss (classifier).
    full_train_error, full_test_error : float
        The same for the uncompressed ensemble.
    cv_alpha : float or None
        LassoCV's alpha (``cv`` given).
    """

    alphas: np.ndarray
    n_trees: np.ndarray
    n_leaves: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray | None
    full_train_error: float
    full_test_error: float | None
    total_trees: int
    cv_alpha: float | None = None
    coefs: np.ndarray = field(default=None, repr=False)
    intercepts: np.ndarray = field(default=None, repr=False)

    def smallest_within(self, tolerance=0.02, on="test"):
        """Index of the fewest-tree alpha whose error is within ``(1 + tolerance)`` of the full
        model's (on the test data, or on the training data with ``on="train"``)."""
        errors = self.test_error if on == "test" else self.train_error
        full = self.full_test_error if on == "test" else self.full_train_error
        if errors is None:
            raise ValueError("no test error: pass X_test and y_test to compress")
        ok = np.flatnonzero(errors <= (1.0 + tolerance) * full)
        if ok.size == 0:
            return int(np.argmin(errors))
        return int(ok[np.argmin(self.n_trees[ok])])


def _target(model, X, y):
    from ._gradient_boosting import GradientBoostingClassifier

    if isinstance(model, GradientBoostingClassifier):
        if model.n_classes_ != 2:
            raise ValueError("compress supports regressors and binary classifiers")
        return model.decision_function(X), True
    return np.asarray(y, dtype=np.float64), False


def _error(model, is_classifier, margin, X, y):
    if is_classifier:
        codes = np.searchsorted(model.classes_, y).astype(np.float64)
        return float(np.mean(np.logaddexp(0.0, margin) - codes * margin))
    return float(np.mean((np.asarray(y, dtype=np.float64) - margin) ** 2))


def compress(model, X, y=None, *, alphas=50, eps=1e-3, cv=None, sample_weight=None,
             X_test=None, y_test=None, alpha=None, adaptive=0.5, max_iter=1000, tol=1e-4):
    """Refit all leaf values of ``model`` as a lasso on its leaf-indicator matrix; drop the trees
    whose leaves all vanish.

    Parameters
    ----------
    model : fitted GradientBoostingRegressor or binary GradientBoostingClassifier
    X : array-like of shape (n_samples, n_features)
        Data for the refit (usually the training data).
    y : array-like of shape (n_samples,)
        Regression target (ignored for a classifier, whose target is its own log-odds).
    alphas : int or array-like, default=50
        The lasso path: the number of alphas from alpha_max down to ``eps * alpha_max`` (log
        scale), or the grid itself. Objective: ``(1/2n) sum_i s_i (t_i - b - Z_i theta)^2 +
        alpha ||theta||_1``, shrinkage's lasso scaling.
    cv : int or cross-validation generator, optional
        Choose alpha with :class:`~shrinkage.LassoCV` on the same grid.
    sample_weight : array-like, optional
    X_test, y_test : optional
        Held-out data for the test-error curve (MSE; log-loss for a classifier).
    adaptive : float, default=0.5
        Penalty factors ``f_c = |v_c|^-adaptive / min`` from the boosted leaf values ``v`` (the
        adaptive lasso, glmnet's ``penalty.factor``): small leaves, mostly in late trees, pay
        more, so whole trees empty sooner. 0 is the plain lasso. Leaves that are zero already
        get 1e6 times the largest factor (they stay zero).
    alpha : float, optional
        The alpha of the returned model; default: LassoCV's (``cv`` given), else the
        fewest-tree alpha within 2% of the full model's test error (``X_test`` given), else the
        smallest alpha.

    Returns
    -------
    compressed : estimator
        A copy of ``model`` with the refitted leaf values, the lasso intercept as base margin,
        the all-zero trees removed; ``compression_alpha_`` records alpha.
    path : CompressionPath
    """
    check_is_fitted(model)
    if model.base_margin_.size != 1:
        raise ValueError("compress supports regressors and binary classifiers")
    Z, _ = leaf_indicator_matrix(model, X)
    target, is_classifier = _target(model, X, y)
    if target.shape[0] != Z.shape[0]:
        raise ValueError(f"y has {target.shape[0]} rows, X has {Z.shape[0]}")
    tree_of_column = np.repeat(np.arange(len(model.trees_)),
                               [t.leaf_values.size for t in model.trees_])
    factor = None
    if adaptive > 0:
        v = np.abs(np.concatenate([t.leaf_values for t in model.trees_]))
        if not np.any(v > 0):
            raise ValueError("every leaf of the model is zero: nothing to compress")
        factor = np.ones_like(v)
        factor[v > 0] = v[v > 0] ** -adaptive
        factor /= factor[v > 0].min()
        factor[v == 0] = 1e6 * factor[v > 0].max()  # kept at zero on any useful alpha
    path = lasso_path(Z, target, alphas=alphas, eps=eps, sample_weight=sample_weight,
                      max_iter=max_iter, tol=tol, penalty_factor=factor)
    grid = path.alphas
    cv_alpha = None
    if cv is not None:
        search = LassoCV(alphas=grid, cv=cv, max_iter=max_iter, tol=tol, penalty_factor=factor)
        search.fit(Z, target, sample_weight=sample_weight)
        cv_alpha = float(search.alpha_)

    nonzero = path.coefs != 0
    n_leaves = nonzero.sum(axis=0)
    n_trees = np.array([np.unique(tree_of_column[nonzero[:, k]]).size for k in range(grid.size)])
    w = np.ones(Z.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    fitted = Z @ path.coefs + path.intercepts[None, :]
    train_error = np.average((target[:, None] - fitted) ** 2, axis=0, weights=w)
    full_margin = model._raw_predict(X)[:, 0]
    full_train = float(np.average((target - full_margin) ** 2, weights=w))
    test_error = full_test = None
    if X_test is not None:
        Zt, _ = leaf_indicator_matrix(model, X_test)
        margins = Zt @ path.coefs + path.intercepts[None, :]
        test_error = np.array([_error(model, is_classifier, margins[:, k], X_test, y_test)
                               for k in range(grid.size)])
        full_test = _error(model, is_classifier, model._raw_predict(X_test)[:, 0], X_test,
                           y_test)
    result = CompressionPath(grid, n_trees, n_leaves, train_error, test_error, full_train,
                             full_test, len(model.trees_), cv_alpha, path.coefs, path.intercepts)

    if alpha is None:
        if cv_alpha is not None:
            alpha = cv_alpha
        elif test_error is not None:
            alpha = float(grid[result.smallest_within(0.02)])
        else:
            alpha = float(grid[-1])
    k = int(np.argmin(np.abs(grid - alpha)))
    if not np.isclose(grid[k], alpha, rtol=1e-12):
        single = lasso_path(Z, target, alphas=[alpha], sample_weight=sample_weight,
                            max_iter=max_iter, tol=tol, penalty_factor=factor)
        theta, intercept = single.coefs[:, 0], float(single.intercepts[0])
    else:
        theta, intercept = path.coefs[:, k], float(path.intercepts[k])
    return _rebuild(model, theta, intercept, alpha), result


def _rebuild(model, theta, intercept, alpha):
    """A copy of ``model`` whose leaves carry ``theta``; all-zero trees dropped."""
    trees, start = [], 0
    for tree in model.trees_:
        leaf = tree.feature < 0
        count = np.count_nonzero(leaf)
        values = theta[start: start + count]
        start += count
        if not np.any(values != 0.0):
            continue
        value = np.zeros_like(tree.value)
        value[leaf] = values
        trees.append(Tree(tree.feature, tree.threshold, tree.split_bin, tree.missing_left,
                          tree.left, tree.right, value, tree.gain, tree.cover, tree.depth,
                          tree.output))
    compressed = copy.deepcopy(model)
    compressed.trees_ = trees
    compressed.base_margin_ = np.array([intercept])
    compressed._flat = FlatEnsemble(trees)
    compressed.compression_alpha_ = float(alpha)
    return compressed
