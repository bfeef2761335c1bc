"""Coordinate descent for the weighted elastic net on a CSC design, centred implicitly.

The design seen by the objective is ``Xc = D X - v m'`` where ``D X`` is the sparse matrix with its
rows scaled by ``v = sqrt(sample weights)`` (weights normalised to sum to n), and ``m`` holds the
weighted column means (zero without an intercept). ``Xc`` is never formed: the kernel keeps the
sparse residual ``q = y - D X w`` and the scalar ``S = v' q``, and uses

    Xc_j' r = (D X)_j' q - m_j S,          r = y - Xc w = q + (m' w) v,
    ||Xc_j||^2 = ||(D X)_j||^2 - n m_j^2,

which hold because ``(D X)_j' v = n m_j`` and ``v' v = n``. An update of ``w_j`` by ``delta`` costs
one pass over the nonzeros of column j: ``q -= delta (D X)_j`` and ``S -= delta n m_j``.
Objective, restriction to ``features``, schedule, Anderson extrapolation and stopping rule are
those of :mod:`shrinkage._kernels.cd_dense`.
"""

import numpy as np

from ._jit import njit
from .anderson import anderson_point
from .gap import enet_dual_value, enet_penalty_value, free_unpenalized, project_out_columns
from .prox import prox_enet_1d

# Most active-set sweeps between two full sweeps (each full sweep ends with a gap check).
ACTIVE_SWEEPS = 50


# No fastmath here, unlike the dense kernel: letting LLVM reassociate a gather loop makes it
# vectorise with gathers, three times slower than the scalar loop on the machines we measured.
# Unsigned positions and row indices (CSC's are never negative): with signed ones numba checks
# every access for a negative (wraparound) index, which costs a quarter of the gather loop.
@njit(cache=True)
def _col_dot(data, indices, indptr, j, v):
    total = 0.0
    for k in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
        total += data[k] * v[np.uint64(indices[k])]
    return total


@njit(cache=True)
def _col_axpy(data, indices, indptr, j, alpha, v):
    for k in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
        v[np.uint64(indices[k])] -= alpha * data[k]


@njit(cache=True)
def column_sq_norms_sparse(data, indptr, means, n):
    """``||Xc_j||^2 = ||(D X)_j||^2 - n m_j^2`` per column, in float64."""
    p = means.shape[0]
    out = np.empty(p, dtype=np.float64)
    for j in range(p):
        sq = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            sq += float(data[k]) * float(data[k])
        out[j] = max(sq - n * means[j] * means[j], 0.0)
    return out


@njit(cache=True)
def residual_sparse(data, indices, indptr, y, w, means, v):
    """Return ``(r, q, S)``: the centred residual, the sparse residual and ``S = v' q``."""
    q = y.astype(np.float64)
    offset = 0.0
    for j in range(w.shape[0]):
        if w[j] != 0.0:
            _col_axpy(data, indices, indptr, j, w[j], q)
            offset += means[j] * w[j]
    r = q + offset * v
    return r, q, v @ q


@njit(cache=True)
def enet_gap_sparse(data, indices, indptr, y, w, r, means, v, l1, l2, positive, features,
                    lipschitz):
    """Primal, gap, ``X_f' r / n`` and ``X_f' theta`` at the feasible dual point, on ``features``.

    The problem is restricted to ``features`` (the others held fixed); with every column it is
    the full problem. The last output feeds Gap Safe screening.
    """
    n = y.shape[0]
    m = features.shape[0]
    theta = r / n
    v_theta = v @ theta
    corr = np.empty(m, dtype=np.float64)
    for k in range(m):
        j = features[k]
        corr[k] = _col_dot(data, indices, indptr, j, theta) - means[j] * v_theta
    raw_corr = corr.copy()
    l1f, l2f, wf = l1[features], l2[features], w[features]
    unpenalized = np.flatnonzero((l1f == 0.0) & (l2f == 0.0) & (lipschitz[features] > 0.0))
    free = free_unpenalized(unpenalized, wf, corr, positive)
    if free.shape[0] > 0:
        columns = np.empty((n, free.shape[0]), dtype=np.float64)
        for k in range(free.shape[0]):
            j = features[free[k]]
            columns[:, k] = -means[j] * v
            for idx in range(indptr[j], indptr[j + 1]):
                columns[indices[idx], k] += data[idx]
        theta = project_out_columns(theta, columns)
        v_theta = v @ theta
        for k in range(m):
            j = features[k]
            corr[k] = _col_dot(data, indices, indptr, j, theta) - means[j] * v_theta
    primal = 0.5 * (r @ r) / n + enet_penalty_value(w, l1, l2)
    dual, scale = enet_dual_value(theta @ y, theta @ theta, corr, l1f, l2f, positive, n)
    return primal, primal - dual, raw_corr, scale * corr


@njit(cache=True)
def _sweep_sparse(data, indices, indptr, means, n, w, q, s_q, lipschitz, l1, l2, positive,
                  features):
    """One pass of exact coordinate minimisation; returns ``max (L_j+l2_j) dw^2``, the decrease
    bound ``sum (L_j+l2_j) dw^2 / 2`` (see cd_dense) and the updated ``S``."""
    biggest = 0.0
    decrease = 0.0
    for j in features:
        if lipschitz[j] == 0.0:
            continue
        old = w[j]
        step = 1.0 / lipschitz[j]
        # Xc_j' r / n, the negative gradient along j
        neg_grad = (_col_dot(data, indices, indptr, j, q) - means[j] * s_q) / n
        new = prox_enet_1d(old + neg_grad * step, step, l1[j], l2[j], positive)
        if new != old:
            delta = new - old
            _col_axpy(data, indices, indptr, j, delta, q)
            s_q -= delta * n * means[j]
            w[j] = new
            change = (lipschitz[j] + l2[j]) * delta * delta
            decrease += 0.5 * change
            if change > biggest:
                biggest = change
    return biggest, decrease, s_q


@njit(cache=True)
def _try_extrapolation(data, indices, indptr, means, v, w, q, s_q, active, point, l1, l2,
                       positive):
    """Move ``w[active]`` to ``point`` if that lowers the objective; returns the new ``S``."""
    n = q.shape[0]
    if positive:
        point = np.maximum(point, 0.0)
    candidate = q.copy()
    s_candidate = s_q
    offset_now = means @ w
    offset_new = offset_now
    for k in range(active.shape[0]):
        j = active[k]
        delta = point[k] - w[j]
        if delta != 0.0:
            _col_axpy(data, indices, indptr, j, delta, candidate)
            s_candidate -= delta * n * means[j]
            offset_new += delta * means[j]
    r_now = q + offset_now * v
    r_new = candidate + offset_new * v
    before = 0.5 * (r_now @ r_now) / n
    after = 0.5 * (r_new @ r_new) / n
    for k in range(active.shape[0]):
        j = active[k]
        before += l1[j] * abs(w[j]) + 0.5 * l2[j] * w[j] * w[j]
        after += l1[j] * abs(point[k]) + 0.5 * l2[j] * point[k] * point[k]
    if after < before:
        for k in range(active.shape[0]):
            w[active[k]] = point[k]
        q[:] = candidate
        return s_candidate
    return s_q


@njit(cache=True)
def enet_cd_sparse(data, indices, indptr, y, means, v, w, q_io, lipschitz, l1, l2, positive,
                   features, max_epochs, tol_abs, anderson_k):
    """Minimise over ``w[features]`` in place; returns ``(primal, gap, epochs)``.

    ``q_io`` is the sparse residual ``y - D X w`` at the given ``w``, exactly as
    :func:`residual_sparse` computes it (the caller keeps it between calls: rebuilding it costs a
    pass over the support); on return it holds the same at the returned ``w``.
    """
    n = y.shape[0]
    q = q_io.copy()
    s_q = v @ q
    primal, gap = np.inf, np.inf
    epochs = 0
    inner_threshold = tol_abs
    # at least one full sweep (see cd_dense)
    while epochs < max_epochs:
        _, decrease, s_q = _sweep_sparse(data, indices, indptr, means, n, w, q, s_q, lipschitz,
                                         l1, l2, positive, features)
        epochs += 1
        if decrease <= tol_abs:  # else no certificate can hold yet (see cd_dense)
            # certify with a freshly computed residual (see cd_dense)
            r, q, s_q = residual_sparse(data, indices, indptr, y, w, means, v)
            primal, gap, _, _ = enet_gap_sparse(data, indices, indptr, y, w, r, means, v, l1,
                                                l2, positive, features, lipschitz)
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
            if epochs >= max_epochs:
                break
            biggest, _, s_q = _sweep_sparse(data, indices, indptr, means, n, w, q, s_q,
                                            lipschitz, l1, l2, positive, active)
            epochs += 1
            if anderson_k > 0:
                history[filled] = w[active]
                filled += 1
                if filled == anderson_k + 1:
                    filled = 0
                    point, ok = anderson_point(history)
                    if ok:
                        s_q = _try_extrapolation(data, indices, indptr, means, v, w, q, s_q,
                                                 active, point, l1, l2, positive)
            if biggest <= inner_threshold:
                break
        inner_threshold *= 0.1
    if gap > tol_abs and epochs > 0:  # stopped by max_epochs, possibly after active sweeps
        r, q, s_q = residual_sparse(data, indices, indptr, y, w, means, v)
        primal, gap, _, _ = enet_gap_sparse(data, indices, indptr, y, w, r, means, v, l1, l2,
                                         positive, features, lipschitz)
    # every exit follows a fresh residual (a certified gap, the line above, or no epoch at all)
    q_io[:] = q
    return primal, gap, epochs
