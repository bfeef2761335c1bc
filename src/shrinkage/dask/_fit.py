"""The dask routes of the least-squares estimators: two passes over the data.

Pass 1 reduces the blocks to centred Gram statistics; the estimator's ordinary solver
(``solve_enet(..., precompute=True)``, ``solve_path``, or ``solve_ridge``'s Cholesky of the normal
equations) runs on the client on a :class:`~shrinkage.solvers.gram_design.GramDesign`; pass 2
computes the exact residuals of every solution, whose sums give the certified duality gap reported
in ``dual_gap_`` (for a path: every alpha in the same pass).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..penalties import ElasticNet as ElasticNetPenalty
from ..solvers import solve_enet, solve_ridge
from ..solvers.gram_design import GramDesign, certified_gap, squared_error_sums, tree_merge
from ..solvers.path import alpha_max, solve_path
from ._blocks import Blocks, residual_pass, stats_pass
from ._wide import fit_wide, gram_fits, wide_stats


def _certify(design, blocks, coefs, intercepts, l1s, l2s, positive, client):
    """Pass 2: ``(primals, gaps)`` of the columns of ``coefs`` from their exact residuals."""
    residuals = residual_pass(blocks, coefs, intercepts, design.x_offset, design.y_offset,
                              client)
    out = [certified_gap(design, residuals, k, coefs[:, k], l1s[k], l2s[k], positive)
           for k in range(coefs.shape[1])]
    return np.array([o[0] for o in out]), np.array([o[1] for o in out])


def _store_certified_fit(estimator, design, blocks, w, n_iter, l1, l2, penalty, client):
    """The second pass (exact residual, certified gap) and the fitted attributes of one solution."""
    b = float(design.intercept(w)) if estimator.fit_intercept else 0.0
    _, gaps = _certify(design, blocks, w[:, None], [b], [l1], [l2], penalty.positive, client)
    _warn_gap(gaps[0], estimator.tol, design)
    _set_input_attributes(estimator, blocks)
    estimator.coef_ = w.astype(np.float32) if blocks.dtype == np.float32 else w
    estimator.intercept_ = b
    estimator.dual_gap_ = float(gaps[0])
    estimator.n_iter_ = n_iter
    estimator.penalty_ = penalty
    estimator.n_passes_ = 2


def _warn_gap(gap, tol, design):
    tol_abs = tol * design.null_objective()
    if gap > tol_abs:
        warnings.warn(f"certified duality gap {gap:.3e} > tolerance {tol_abs:.3e} (tol={tol:g}): "
                      "increase max_iter or loosen tol", ConvergenceWarning, stacklevel=4)


def _set_input_attributes(estimator, blocks):
    estimator.n_features_in_ = blocks.n_features
    if blocks.columns is not None and blocks.string_columns:
        estimator.feature_names_in_ = np.asarray(blocks.columns, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def fit_estimator(estimator, X, y, sample_weight=None, client=None):
    """Route an estimator's ``fit`` on dask input."""
    from ..linear_model._cv import _CVBase
    from ..linear_model._logistic import LogisticRegression

    if isinstance(estimator, LogisticRegression):
        from ._logistic import fit_logistic

        return fit_logistic(estimator, X, y, sample_weight, client)
    if isinstance(estimator, _CVBase):
        return fit_cv(estimator, X, y, sample_weight, client)
    return fit_linear(estimator, X, y, sample_weight, client)


def fit_linear(estimator, X, y, sample_weight=None, client=None):
    """``PenalizedLinearModel.fit`` on dask input (one target)."""
    estimator._validate_params()
    blocks = Blocks(X, y, sample_weight)
    if not gram_fits(blocks.n_features):
        return _fit_linear_wide(estimator, blocks, sample_weight, client)
    (stats,) = stats_pass(blocks, estimator.fit_intercept, client=client)
    if stats.weight <= 0:
        raise ValueError("sample_weight must have a positive sum")
    p = blocks.n_features
    n_obs = stats.count if sample_weight is None else stats.weight
    penalty = estimator._make_penalty(n_obs, p)
    l1, l2 = penalty.lower(p)
    design = GramDesign(stats, estimator.fit_intercept)
    if penalty.l1_ratio == 0 and not penalty.positive:
        w, n_iter = solve_ridge(design, l2)  # Cholesky of the Gram matrix (solvers.closed_form)
    else:
        init = estimator._warm_start_coef(p, 1)
        result = solve_enet(design, l1, l2, penalty.positive,
                            coef_init=None if init is None else init[0],
                            max_iter=estimator.max_iter, tol=estimator.tol, precompute=True)
        w, n_iter = result.coef, result.n_iter
    _store_certified_fit(estimator, design, blocks, w, n_iter, l1, l2, penalty, client)
    return estimator


def _fit_linear_wide(estimator, blocks, sample_weight, client):
    """The working-set route (see :mod:`shrinkage.dask._wide`): one pass per outer iteration."""
    p = blocks.n_features
    stats = wide_stats(blocks, estimator.fit_intercept, client)
    penalty = estimator._make_penalty(stats.count if sample_weight is None else stats.weight, p)
    l1, l2 = penalty.lower(p)
    if penalty.l1_ratio == 0:
        raise NotImplementedError(f"ridge with p = {p}: the Gram matrix exceeds the memory "
                                  "budget and the wide route needs an L1 part")
    init = estimator._warm_start_coef(p, 1)
    w, b, gap, n_iter, passes = fit_wide(blocks, stats, estimator.fit_intercept, l1, l2,
                                         penalty.positive, estimator.tol, estimator.max_iter,
                                         coef_init=None if init is None else init[0],
                                         client=client)
    _warn_gap(gap, estimator.tol, GramDesign.from_gram(np.zeros((0, 0)), np.zeros(0),
                                                      stats.count / stats.weight * stats.yy,
                                                      stats.count))
    _set_input_attributes(estimator, blocks)
    estimator.coef_ = w.astype(np.float32) if blocks.dtype == np.float32 else w
    estimator.intercept_ = b
    estimator.dual_gap_ = float(gap)
    estimator.n_iter_ = n_iter
    estimator.penalty_ = penalty
    estimator.n_passes_ = passes
    return estimator


def enet_path_dask(X, y, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                   sample_weight=None, penalty_factor=None, positive=False, precompute="auto",
                   max_iter=1000, tol=1e-4, client=None):
    """:func:`shrinkage.enet_path` on dask input: two passes for the whole grid.

    The returned :class:`~shrinkage.linear_model._path.RegularizationPath` has the certified gap
    of every alpha in ``dual_gaps`` and the pass count in ``n_passes``.
    """
    from ..linear_model._coordinate_descent import ElasticNet
    from ..linear_model._path import RegularizationPath, resolve_alphas

    if not 0 < l1_ratio <= 1:
        raise ValueError(f"l1_ratio must be in (0, 1] for a path, got {l1_ratio!r}")
    ElasticNet(l1_ratio=l1_ratio, fit_intercept=fit_intercept, penalty_factor=penalty_factor,
               positive=positive, max_iter=max_iter, tol=tol)._validate_params()
    blocks = Blocks(X, y, sample_weight)
    (stats,) = stats_pass(blocks, fit_intercept, client=client)
    design = GramDesign(stats, fit_intercept)

    def penalty_at(alpha):
        return ElasticNetPenalty(alpha, l1_ratio, penalty_factor, positive)

    alphas = resolve_alphas(alphas, lambda: alpha_max(design, penalty_at(1.0)), eps)
    result = solve_path(design, penalty_at, alphas, max_iter=max_iter, tol=tol, precompute=True)
    intercepts = (np.array([design.intercept(result.coefs[:, k]) for k in range(alphas.size)])
                  if fit_intercept else np.zeros(alphas.size))
    lowered = [penalty_at(a).lower(blocks.n_features) for a in alphas]
    _, gaps = _certify(design, blocks, result.coefs, intercepts, [lo[0] for lo in lowered],
                       [lo[1] for lo in lowered], positive, client)
    return RegularizationPath(alphas, result.coefs, intercepts, gaps, result.n_iters,
                              float(l1_ratio), n_passes=2)


def lasso_path_dask(X, y, **kwargs):
    if "l1_ratio" in kwargs:
        raise TypeError("lasso_path has l1_ratio = 1; use enet_path for another value")
    return enet_path_dask(X, y, l1_ratio=1.0, **kwargs)


def fit_cv(estimator, X, y, sample_weight=None, client=None):
    """``LassoCV`` / ``ElasticNetCV`` on dask input, with folds made of whole blocks.

    ``cv`` must be an int K: the blocks are split into K contiguous groups (as an unshuffled
    KFold splits rows). Pass 1 returns one :class:`GramStats` per fold; each training set's
    statistics are the other folds' merged on the client (Chan's update, no subtraction, so no
    cancellation), each held-out error comes from the fold's own statistics, and the refit uses
    all folds merged: no pass beyond the certificate's.
    """
    from ..linear_model._path import resolve_alphas

    estimator._validate_params()
    K = estimator.cv
    if isinstance(K, bool) or not isinstance(K, int | np.integer) or K < 2:
        raise ValueError("on dask input cv must be an int >= 2: the folds are groups of whole "
                         f"blocks; got {K!r}")
    blocks = Blocks(X, y, sample_weight)
    if len(blocks.x) < K:
        raise ValueError(f"cv={K} folds need at least {K} row blocks, X has {len(blocks.x)}: "
                         "rechunk / repartition it")
    groups = np.array_split(np.arange(len(blocks.x)), K)
    fold_stats = stats_pass(blocks, estimator.fit_intercept, groups=groups, client=client)
    total = tree_merge(fold_stats)
    design = GramDesign(total, estimator.fit_intercept)
    p = blocks.n_features
    ratios = estimator._l1_ratios()
    grids, mses = [], []
    for ratio in ratios:
        if not 0 < ratio <= 1:
            raise ValueError(f"l1_ratio values must be in (0, 1], got {ratio!r}")

        def penalty_at(alpha, ratio=ratio):
            return ElasticNetPenalty(alpha, ratio, estimator.penalty_factor, estimator.positive)

        grid = resolve_alphas(estimator.alphas, lambda pa=penalty_at: alpha_max(design, pa(1.0)),
                              estimator.eps)
        errors = []
        for k in range(K):
            train = GramDesign(tree_merge([fold_stats[j] for j in range(K) if j != k]),
                               estimator.fit_intercept)
            path = solve_path(train, penalty_at, grid, max_iter=estimator.max_iter,
                              tol=estimator.tol, precompute=True)
            intercepts = (train.intercept(path.coefs.T) if estimator.fit_intercept
                          else np.zeros(grid.size))
            errors.append(squared_error_sums(fold_stats[k], path.coefs, intercepts)
                          / fold_stats[k].weight)
        grids.append(grid)
        mses.append(np.array(errors).T)  # (n_alphas, n_folds)
    estimator._select(ratios, grids, mses)
    penalty = ElasticNetPenalty(estimator.alpha_, estimator.l1_ratio_, estimator.penalty_factor,
                                estimator.positive)
    l1, l2 = penalty.lower(p)
    result = solve_enet(design, l1, l2, penalty.positive, max_iter=estimator.max_iter,
                        tol=estimator.tol, precompute=True)
    _store_certified_fit(estimator, design, blocks, result.coef, result.n_iter, l1, l2, penalty,
                         client)
    return estimator
