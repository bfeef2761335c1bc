"""Dual coordinate descent for the L2-penalized hinge loss (liblinear's L1-loss SVM, no shrinking).

Primal, labels ``y_i in {-1, +1}``, per-sample bounds ``U_i = C s_i``, margins ``m_i`` (1, or
``1 - y_i b`` for a fixed intercept ``b``)::

    P(w) = ||w||^2 / 2 + sum_i U_i max(0, m_i - y_i x_i' w)

Dual, ``0 <= a_i <= U_i``, ``w(a) = sum_i a_i y_i x_i``::

    D(a) = sum_i a_i m_i - ||w(a)||^2 / 2

Coordinate i minimises ``-D`` exactly in ``a_i``: with ``G = y_i x_i' w - m_i`` (the partial
derivative) and ``Q_ii = ||x_i||^2``, ``a_i <- clip(a_i - G / Q_ii, 0, U_i)``, then
``w += (a_i' - a_i) y_i x_i``. A sample whose row is zero (``Q_ii = 0``: common in sparse data)
leaves ``w`` alone and enters ``D`` linearly: its optimum is ``a_i = U_i`` where ``m_i > 0``, else
0, set once. The duality gap ``P(w(a)) - D(a)`` (>= 0, zero at the optimum) is
the stopping rule, checked after every epoch. Samples are visited in a fresh random order each
epoch, as liblinear does.
"""

import numpy as np

from ._jit import njit


@njit(cache=True)
def _zero_rows(q, U, m, a):
    # a sample with x_i = 0 adds a_i m_i to the dual and nothing to w: its coordinate's maximiser
    # over [0, U_i], whatever the others are
    for i in range(q.shape[0]):
        if q[i] == 0.0:
            a[i] = U[i] if m[i] > 0.0 else 0.0


@njit(cache=True)
def _row_dot_dense(X, i, w):
    total = 0.0
    for j in range(X.shape[1]):
        total += X[i, j] * w[j]
    return total


@njit(cache=True)
def _gap_dense(X, y, U, m, a, w):
    hinge = 0.0
    for i in range(X.shape[0]):
        margin = m[i] - y[i] * _row_dot_dense(X, i, w)
        if margin > 0.0:
            hinge += U[i] * margin
    w_sq = w @ w
    primal = 0.5 * w_sq + hinge
    return primal, primal - (a @ m - 0.5 * w_sq)


@njit(cache=True)
def hinge_dual_cd_dense(X, y, U, m, a, w, max_epochs, tol_abs, seed):
    """Dual CD on a C-ordered dense ``X``; updates ``a`` and ``w`` in place.

    Returns ``(primal, gap, epochs)``.
    """
    n = X.shape[0]
    q = np.empty(n)
    for i in range(n):
        q[i] = 0.0
        for j in range(X.shape[1]):
            q[i] += X[i, j] * X[i, j]
    _zero_rows(q, U, m, a)
    np.random.seed(seed)  # noqa: NPY002 (numba supports the legacy API only)
    order = np.arange(n)
    primal, gap = _gap_dense(X, y, U, m, a, w)
    epoch = 0
    while epoch < max_epochs and gap > tol_abs:
        np.random.shuffle(order)  # noqa: NPY002
        for k in range(n):
            i = order[k]
            if q[i] == 0.0:
                continue        # (set before the loop: _zero_rows)
            grad = y[i] * _row_dot_dense(X, i, w) - m[i]
            new = min(max(a[i] - grad / q[i], 0.0), U[i])
            delta = new - a[i]
            if delta != 0.0:
                a[i] = new
                step = delta * y[i]
                for j in range(X.shape[1]):
                    w[j] += step * X[i, j]
        epoch += 1
        primal, gap = _gap_dense(X, y, U, m, a, w)
    return primal, gap, epoch


@njit(cache=True)
def _gap_sparse(data, indices, indptr, y, U, m, a, w):
    hinge = 0.0
    for i in range(indptr.shape[0] - 1):
        dot = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            dot += data[k] * w[indices[k]]
        margin = m[i] - y[i] * dot
        if margin > 0.0:
            hinge += U[i] * margin
    w_sq = w @ w
    primal = 0.5 * w_sq + hinge
    return primal, primal - (a @ m - 0.5 * w_sq)


@njit(cache=True)
def hinge_dual_cd_sparse(data, indices, indptr, y, U, m, a, w, max_epochs, tol_abs, seed):
    """Dual CD on a CSR matrix (rows are samples); updates ``a`` and ``w`` in place."""
    n = indptr.shape[0] - 1
    q = np.zeros(n)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            q[i] += data[k] * data[k]
    _zero_rows(q, U, m, a)
    np.random.seed(seed)  # noqa: NPY002 (numba supports the legacy API only)
    order = np.arange(n)
    primal, gap = _gap_sparse(data, indices, indptr, y, U, m, a, w)
    epoch = 0
    while epoch < max_epochs and gap > tol_abs:
        np.random.shuffle(order)  # noqa: NPY002
        for t in range(n):
            i = order[t]
            if q[i] == 0.0:
                continue        # (set before the loop: _zero_rows)
            dot = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                dot += data[k] * w[indices[k]]
            new = min(max(a[i] - (y[i] * dot - m[i]) / q[i], 0.0), U[i])
            delta = new - a[i]
            if delta != 0.0:
                a[i] = new
                step = delta * y[i]
                for k in range(indptr[i], indptr[i + 1]):
                    w[indices[k]] += step * data[k]
        epoch += 1
        primal, gap = _gap_sparse(data, indices, indptr, y, U, m, a, w)
    return primal, gap, epoch
