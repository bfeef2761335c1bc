"""Coordinate descent on proximal Newton's quadratic model, read straight from the design.

The model of the datafit at ``z`` along ``d = X_ws delta + db`` is::

    M(delta, db) = sum_i (cg_i d_i + ch_i d_i^2 / 2) + sum_{j in ws} pen_j(w_j + delta_j)

with ``cg = c g`` and ``ch = c h`` the weighted per-sample derivatives. The intercept step ``db``
is eliminated exactly (always at its optimum ``-(sum_i q_i) / sum_i ch_i``), which makes the
coordinates those of the ``ch``-weighted, centred columns, as in the lasso's kernels. The kernel
keeps ``q = cg + ch * (X delta)`` (sparse updates) and the scalar ``shift = db``; with them

    dM/d delta_j = X_j' q + shift * H m_j,   curvature  X_j' (ch X_j) - H m_j^2,

``H = sum ch``, ``m_j = X_j' ch / H``. Nothing is gathered or copied: the model reads the original
CSC columns, so a Newton step costs one pass over the working set's columns for the curvatures
(which also gives the true gradient there, ``X_j' cg``) and its sweeps. glmnet's schedule: a
sweep over the working set, then sweeps over the nonzero coordinates until they settle, then a
sweep over the working set again, until a whole sweep moves no coordinate by more than ``tol``
in ``curvature * |change|`` (the size of the model's proximal-gradient step, a KKT violation's
measure).
"""

import numpy as np

from ._jit import njit
from .prox import prox_enet_1d, subdiff_distance_1d

# Most sweeps over the nonzero coordinates between two sweeps over the whole working set.
ACTIVE_SWEEPS = 50

# Positions and row indices are read as unsigned in the column loops (CSC's are never negative):
# with signed ones numba checks every access for a negative (wraparound) index.


@njit(cache=True)
def _first_pass_sparse(data, indices, indptr, ws, cg, ch, hsum, fit_intercept):
    """Per working-set column: curvature of the centred model, weighted mean, ``X_j' cg``."""
    k = ws.shape[0]
    curv = np.empty(k)
    means = np.zeros(k)
    grad = np.empty(k)
    for c in range(k):
        j = ws[c]
        sq = 0.0
        lin = 0.0
        gj = 0.0
        for t in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
            i = np.uint64(indices[t])
            x = float(data[t])
            hx = ch[i] * x
            sq += hx * x
            lin += hx
            gj += cg[i] * x
        if fit_intercept and hsum > 0.0:
            means[c] = lin / hsum
            sq -= hsum * means[c] * means[c]
        curv[c] = max(sq, 0.0)
        grad[c] = gj
    return curv, means, grad


@njit(cache=True)
def _start(cg, ch, fit_intercept):
    n = cg.shape[0]
    hsum = 0.0
    total = 0.0
    for i in range(n):
        hsum += ch[i]
        total += cg[i]
    shift = -total / hsum if fit_intercept and hsum > 0.0 else 0.0
    return hsum, shift


@njit(cache=True)
def _kkt(coef, grad, l1, l2, positive):
    worst = 0.0
    for c in range(coef.shape[0]):
        worst = max(worst, subdiff_distance_1d(coef[c], grad[c], l1[c], l2[c], positive))
    return worst


@njit(cache=True)
def newton_cd_sparse(data, indices, indptr, ws, coef, cg, ch, l1, l2, positive, fit_intercept,
                     tol, kkt_stop, max_sweeps):
    """Minimise the model over ``coef`` (the working set's coefficients, updated in place) and
    the intercept step.

    Returns ``(u, db, kkt, n_sweeps)``: ``u = X_ws (coef - coef_in)`` (the step in the linear
    predictor is ``u + db``) and ``kkt``, the largest KKT violation on the working set at the
    point given (from ``X_j' cg``). When ``kkt <= kkt_stop`` nothing is moved (``n_sweeps = 0``).
    """
    n = cg.shape[0]
    k = ws.shape[0]
    hsum, shift = _start(cg, ch, fit_intercept)
    curv, means, grad0 = _first_pass_sparse(data, indices, indptr, ws, cg, ch, hsum,
                                            fit_intercept)
    kkt = _kkt(coef, grad0, l1, l2, positive)
    u = np.zeros(n)
    if kkt <= kkt_stop:
        return u, 0.0, kkt, 0
    start = coef.copy()
    q = cg.copy()
    active = np.empty(k, dtype=np.int64)
    n_sweeps = 0
    full = True
    n_active = 0
    active_sweeps = 0
    while n_sweeps < max_sweeps:
        change = 0.0
        m = k if full else n_active
        for a in range(m):
            c = a if full else active[a]
            if curv[c] <= 0.0:
                continue
            j = ws[c]
            grad = shift * hsum * means[c]
            for t in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
                grad += data[t] * q[np.uint64(indices[t])]
            old = coef[c]
            new = prox_enet_1d(old - grad / curv[c], 1.0 / curv[c], l1[c], l2[c], positive)
            diff = new - old
            if diff != 0.0:
                coef[c] = new
                change = max(change, curv[c] * abs(diff))
                for t in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
                    i = np.uint64(indices[t])
                    q[i] += ch[i] * (data[t] * diff)
                shift -= diff * means[c]
        n_sweeps += 1
        if full:
            if change <= tol:
                break
            n_active = 0
            for c in range(k):
                if coef[c] != 0.0:
                    active[n_active] = c
                    n_active += 1
            full = False
            active_sweeps = 0
        else:
            active_sweeps += 1
            if change <= tol or active_sweeps >= ACTIVE_SWEEPS:
                full = True
    # the step in the linear predictor, from the columns that moved (cheaper than keeping it
    # up to date in every update of every sweep)
    for c in range(k):
        diff = coef[c] - start[c]
        if diff != 0.0:
            j = ws[c]
            for t in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
                u[np.uint64(indices[t])] += data[t] * diff
    return u, shift, kkt, n_sweeps
