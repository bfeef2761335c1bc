"""Coordinate descent for the weighted elastic net on a CSC design, centred implicitly.

The design seen by the objective is ``Xc = D X - v m'`` where ``D X`` is the sparse matrix with its
rows scaled by ``v = sqrt(sample weights)`` (weights normalised to sum to n), and ``m`` holds the
weighted column means (zero without an intercept). ``Xc`` is never formed: the kernel keeps the
sparse residual ``q = y - D X w`` and the scalar ``S = v' q``, and uses

    Xc_j' r = (D X)_j' q - m_j S,          r = y - Xc w = q + (m' w) v,
    ||Xc_j||^2 = ||(D X)_j||^2 - n m_j^2,

which hold because ``(D X)_j' v = n m_j`` and ``v' v = n``. An update of ``w_j`` by ``delta`` costs
one pass over the nonzeros of column j: ``q -= delta (D X)_j`` and ``S -= delta n m_j``.
Objective, schedule and stopping rule are those of :mod:`shrinkage._kernels.cd_dense`.
"""

import numpy as np
from numba import njit

from .gap import (
    enet_dual_value,
    enet_penalty_value,
    free_unpenalized,
    project_out_columns,
)
from .prox import prox_enet_1d


# No fastmath here, unlike the dense kernel: letting LLVM reassociate a gather loop makes it
# vectorise with gathers, three times slower than the scalar loop on the machines we measured.
@njit(cache=True)
def _col_dot(data, indices, indptr, j, v):
    total = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        total += data[k] * v[indices[k]]
    return total


@njit(cache=True)
def _col_axpy(data, indices, indptr, j, alpha, v):
    for k in range(indptr[j], indptr[j + 1]):
        v[indices[k]] -= alpha * data[k]


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
def correlations_sparse(data, indices, indptr, means, v, theta):
    """``Xc' theta`` in float64."""
    p = means.shape[0]
    out = np.empty(p, dtype=np.float64)
    v_theta = v @ theta
    for j in range(p):
        out[j] = _col_dot(data, indices, indptr, j, theta) - means[j] * v_theta
    return out


@njit(cache=True)
def enet_gap_sparse(data, indices, indptr, y, w, r, means, v, l1, l2, positive, unpenalized):
    """Primal value and duality gap at ``w`` with centred residual ``r = y - Xc w``."""
    n = y.shape[0]
    theta = r / n
    corr = correlations_sparse(data, indices, indptr, means, v, theta)
    free = free_unpenalized(unpenalized, w, corr, positive)
    if free.shape[0] > 0:
        columns = np.empty((n, free.shape[0]), dtype=np.float64)
        for k in range(free.shape[0]):
            j = free[k]
            columns[:, k] = -means[j] * v
            for idx in range(indptr[j], indptr[j + 1]):
                columns[indices[idx], k] += data[idx]
        theta = project_out_columns(theta, columns)
        corr = correlations_sparse(data, indices, indptr, means, v, theta)
    primal = 0.5 * (r @ r) / n + enet_penalty_value(w, l1, l2)
    dual = enet_dual_value(theta @ y, theta @ theta, corr, l1, l2, positive, n)
    return primal, primal - dual


@njit(cache=True)
def _sweep_sparse(data, indices, indptr, means, n, w, q, s_q, lipschitz, l1, l2, positive,
                  features):
    """One pass of exact coordinate minimisation; returns (max (L_j+l2_j) dw^2, updated S)."""
    biggest = 0.0
    for j in features:
        if lipschitz[j] == 0.0:
            continue
        old = w[j]
        step = 1.0 / lipschitz[j]
        grad = (_col_dot(data, indices, indptr, j, q) - means[j] * s_q) / n
        new = prox_enet_1d(old + grad * step, step, l1[j], l2[j], positive)
        if new != old:
            delta = new - old
            _col_axpy(data, indices, indptr, j, delta, q)
            s_q -= delta * n * means[j]
            w[j] = new
            change = (lipschitz[j] + l2[j]) * delta * delta
            if change > biggest:
                biggest = change
    return biggest, s_q


@njit(cache=True)
def enet_cd_sparse(data, indices, indptr, y, means, v, w, l1, l2, positive, max_epochs, tol_abs):
    """Minimise the weighted elastic net in place of ``w``; returns ``(primal, gap, epochs)``."""
    n = y.shape[0]
    p = means.shape[0]
    lipschitz = np.empty(p, dtype=np.float64)
    for j in range(p):
        sq = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            sq += float(data[k]) * float(data[k])
        lipschitz[j] = max(sq - n * means[j] * means[j], 0.0) / n
    unpenalized = np.flatnonzero((l1 == 0.0) & (l2 == 0.0) & (lipschitz > 0.0))
    all_features = np.arange(p)
    r, q, s_q = residual_sparse(data, indices, indptr, y, w, means, v)
    primal, gap = np.inf, np.inf
    epochs = 0
    inner_threshold = tol_abs
    # at least one full sweep (see cd_dense)
    while epochs < max_epochs:
        _, s_q = _sweep_sparse(data, indices, indptr, means, n, w, q, s_q, lipschitz, l1, l2,
                               positive, all_features)
        epochs += 1
        # certify with a freshly computed residual (see cd_dense)
        r, q, s_q = residual_sparse(data, indices, indptr, y, w, means, v)
        primal, gap = enet_gap_sparse(data, indices, indptr, y, w, r, means, v, l1, l2,
                                      positive, unpenalized)
        if gap <= tol_abs:
            break
        active = np.flatnonzero(w != 0.0)
        if active.shape[0] == 0:
            continue
        while epochs < max_epochs:
            biggest, s_q = _sweep_sparse(data, indices, indptr, means, n, w, q, s_q, lipschitz,
                                         l1, l2, positive, active)
            epochs += 1
            if biggest <= inner_threshold:
                break
        inner_threshold *= 0.1
    if gap > tol_abs and epochs > 0:  # stopped by max_epochs, possibly after active sweeps
        r, q, s_q = residual_sparse(data, indices, indptr, y, w, means, v)
        primal, gap = enet_gap_sparse(data, indices, indptr, y, w, r, means, v, l1, l2,
                                      positive, unpenalized)
    return primal, gap, epochs
