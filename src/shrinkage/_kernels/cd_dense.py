"""Coordinate descent for the weighted elastic net on a dense, column-major design.

Objective (see :mod:`shrinkage._kernels.gap`)::

    ||y - X w||^2 / (2 n) + sum_j ( l1_j |w_j| + l2_j w_j^2 / 2 )      [+ w >= 0]

``X`` is already centred and scaled by the square roots of the sample weights, so sample weights
and the intercept cost nothing here. ``X`` may be float32 or float64; the residual, the
coefficients and every reduction are float64, so float32 storage halves memory traffic without
losing the certificate.

The kernel solves the problem restricted to ``features`` (the others stay fixed: the working-set
driver in :mod:`shrinkage.solvers.cd` picks them). Its schedule is glmnet's: a full sweep over
``features``, then sweeps over the nonzero ones (the active set) until they settle, accelerated by
Anderson extrapolation every ``anderson_k`` sweeps, then a full sweep again. The duality gap of
the restricted problem, evaluated after each full sweep on a freshly computed residual, is the
only stopping rule.
"""

import numpy as np

from ._jit import njit
from .anderson import anderson_point
from .gap import enet_dual_value, enet_penalty_value, free_unpenalized, project_out_columns
from .prox import prox_enet_1d

# Most active-set sweeps between two full sweeps (each full sweep ends with a gap check).
ACTIVE_SWEEPS = 50


@njit(cache=True, fastmath={"reassoc", "contract"})
def _col_dot(X, j, v):
    total = 0.0
    for i in range(X.shape[0]):
        total += X[i, j] * v[i]
    return total


@njit(cache=True, fastmath={"contract"})
def _col_axpy(X, j, alpha, v):
    # v -= alpha * X[:, j]
    for i in range(X.shape[0]):
        v[i] -= alpha * X[i, j]


@njit(cache=True, fastmath={"reassoc", "contract"})  # a reduction: vectorised only reassociated
def column_sq_norms_dense(X):
    """``||X_j||^2`` per column, in float64."""
    out = np.empty(X.shape[1], dtype=np.float64)
    for j in range(X.shape[1]):
        total = 0.0
        for i in range(X.shape[0]):
            total += float(X[i, j]) * float(X[i, j])
        out[j] = total
    return out


@njit(cache=True)
def centred_copy_dense(X, offset, row_scale):
    """``(X - offset) * row_scale[:, None]`` as a new column-major array of X's dtype, in one
    pass (an empty ``row_scale`` means 1)."""
    n, p = X.shape
    out = np.empty((p, n), dtype=X.dtype).T
    scaled = row_scale.shape[0] == n
    for j in range(p):
        m = offset[j]
        for i in range(n):
            value = X[i, j] - m
            out[i, j] = value * row_scale[i] if scaled else value
    return out


@njit(cache=True)
def residual_dense(X, y, w):
    """``y - X w`` in float64."""
    r = y.astype(np.float64)
    for j in range(X.shape[1]):
        if w[j] != 0.0:
            _col_axpy(X, j, w[j], r)
    return r


@njit(cache=True)
def enet_gap_dense(X, y, w, r, l1, l2, positive, features, lipschitz):
    """Primal, gap, ``X_f' r / n`` and ``X_f' theta`` at the feasible dual point, on ``features``.

    The problem is restricted to ``features`` (the others held fixed); with every column it is
    the full problem. The last output feeds Gap Safe screening.
    """
    n = X.shape[0]
    m = features.shape[0]
    theta = r / n
    corr = np.empty(m, dtype=np.float64)
    for k in range(m):
        corr[k] = _col_dot(X, features[k], theta)
    raw_corr = corr.copy()
    l1f, l2f, wf = l1[features], l2[features], w[features]
    unpenalized = np.flatnonzero((l1f == 0.0) & (l2f == 0.0) & (lipschitz[features] > 0.0))
    free = free_unpenalized(unpenalized, wf, corr, positive)
    if free.shape[0] > 0:
        columns = np.empty((n, free.shape[0]), dtype=np.float64)
        for k in range(free.shape[0]):
            j = features[free[k]]
            for i in range(n):
                columns[i, k] = X[i, j]
        theta = project_out_columns(theta, columns)
        for k in range(m):
            corr[k] = _col_dot(X, features[k], theta)
    primal = 0.5 * (r @ r) / n + enet_penalty_value(w, l1, l2)
    dual, scale = enet_dual_value(theta @ y, theta @ theta, corr, l1f, l2f, positive, n)
    return primal, primal - dual, raw_corr, scale * corr


@njit(cache=True)
def _sweep_dense(X, w, r, lipschitz, l1, l2, positive, features):
    """One pass of exact coordinate minimisation over ``features``.

    Returns ``max_j (L_j + l2_j) dw_j^2`` and ``sum_j (L_j + l2_j) dw_j^2 / 2``, a lower bound on
    the decrease of the objective over the pass (each step exactly minimises a function of
    curvature ``L_j + l2_j`` along its coordinate).
    """
    n = X.shape[0]
    biggest = 0.0
    decrease = 0.0
    for j in features:
        if lipschitz[j] == 0.0:
            continue
        old = w[j]
        # w_j <- prox_{1/L_j}( w_j + X_j' r / (n L_j) ): the exact minimiser along coordinate j
        step = 1.0 / lipschitz[j]
        new = prox_enet_1d(old + _col_dot(X, j, r) / n * step, step, l1[j], l2[j], positive)
        if new != old:
            _col_axpy(X, j, new - old, r)
            w[j] = new
            change = (lipschitz[j] + l2[j]) * (new - old) ** 2
            decrease += 0.5 * change
            if change > biggest:
                biggest = change
    return biggest, decrease


@njit(cache=True)
def _try_extrapolation(X, w, r, active, point, l1, l2, positive):
    """Move ``w[active]`` to ``point`` (and update ``r``) if that lowers the objective."""
    n = X.shape[0]
    if positive:
        point = np.maximum(point, 0.0)
    candidate = r.copy()
    for k in range(active.shape[0]):
        delta = point[k] - w[active[k]]
        if delta != 0.0:
            _col_axpy(X, active[k], delta, candidate)
    before = 0.5 * (r @ r) / n
    after = 0.5 * (candidate @ candidate) / n
    for k in range(active.shape[0]):
        j = active[k]
        before += l1[j] * abs(w[j]) + 0.5 * l2[j] * w[j] * w[j]
        after += l1[j] * abs(point[k]) + 0.5 * l2[j] * point[k] * point[k]
    if after < before:
        for k in range(active.shape[0]):
            w[active[k]] = point[k]
        r[:] = candidate


@njit(cache=True)
def enet_cd_dense(X, y, w, lipschitz, l1, l2, positive, features, max_epochs, tol_abs,
                  anderson_k, max_updates=-1):
    """Minimise over ``w[features]`` in place; returns ``(primal, gap, epochs)``.

    ``lipschitz[j] = ||X_j||^2 / n``. Converged iff ``gap <= tol_abs`` (restricted problem).
    With ``max_updates >= 0`` it also stops once its sweeps have visited that many coordinates
    (the caller's switch to covariance mode, see ``solvers.cd.use_gram``); the returned gap is
    then computed at the point reached.
    """
    r = residual_dense(X, y, w)
    primal, gap = np.inf, np.inf
    epochs = 0
    updates = 0
    inner_threshold = tol_abs
    # at least one full sweep, even when the start already meets the tolerance: just below
    # alpha_max, w = 0 is within a loose gap but the first sweep moves the leading feature
    while epochs < max_epochs:
        _, decrease = _sweep_dense(X, w, r, lipschitz, l1, l2, positive, features)
        epochs += 1
        updates += features.shape[0]
        # A sweep that alone lowered the objective by more than the tolerance leaves, under
        # linear convergence at any rate slower than 1/2, a suboptimality above it: skip the
        # certificate (a pass over the features) and go on.
        if decrease <= tol_abs:
            # certify with a freshly computed residual, never the incrementally updated one (it
            # drifts); the refresh touches only the nonzero coefficients' columns
            r = residual_dense(X, y, w)
            primal, gap, _, _ = enet_gap_dense(X, y, w, r, l1, l2, positive, features,
                                               lipschitz)
            if gap <= tol_abs:
                break
        active = features[w[features] != 0.0]
        if active.shape[0] == 0:
            continue
        history = np.empty((anderson_k + 1, active.shape[0]))
        filled = 0
        # back to a full sweep and a gap check at least every ACTIVE_SWEEPS: rounding keeps the
        # coefficients moving by ~1e-10 once they are converged, so a threshold alone may never fire
        for _ in range(ACTIVE_SWEEPS):
            if epochs >= max_epochs or (max_updates >= 0 and updates >= max_updates):
                break
            biggest, _ = _sweep_dense(X, w, r, lipschitz, l1, l2, positive, active)
            epochs += 1
            updates += active.shape[0]
            if anderson_k > 0:
                history[filled] = w[active]
                filled += 1
                if filled == anderson_k + 1:
                    filled = 0
                    point, ok = anderson_point(history)
                    if ok:
                        _try_extrapolation(X, w, r, active, point, l1, l2, positive)
            if biggest <= inner_threshold:
                break
        # the active set settled but the full gap did not: ask the inner loop for more next time
        inner_threshold *= 0.1
        if max_updates >= 0 and updates >= max_updates:
            break
    if gap > tol_abs and epochs > 0:  # stopped by max_epochs, possibly after active sweeps
        r = residual_dense(X, y, w)
        primal, gap, _, _ = enet_gap_dense(X, y, w, r, l1, l2, positive, features, lipschitz)
    return primal, gap, epochs
