"""The per-alpha loop of a regularization path on a dense design, in one numba call.

:func:`shrinkage.solvers.path.solve_path` drives a path alpha by alpha: the sequential strong rule,
the second-order (face) warm start, then a working-set solve restricted to the strong set and
certified on every feature. On a short, wide design (72 x 7129) each alpha's arithmetic is a
fraction of a millisecond and the Python around it (a few dozen NumPy calls on p-long vectors) cost
as much again. This kernel runs the same schedule for consecutive alphas without returning to
Python, with the same kernels (:func:`enet_cd_dense`, :func:`enet_gap_dense`,
:func:`face_point`) and the same rules and constants, which the caller passes in.

It handles the common case only: the strong set (after Gap Safe screening) fits in one working set
and the solve on it is certified on every feature. At an alpha where that fails (a feature outside
the strong set violates its KKT condition, or the strong set is larger than a working set) it
returns that alpha's index without having changed the caller's state, and the Python driver,
which handles every case, solves that alpha and calls it again from the next one.
"""

import numpy as np

from ._jit import njit
from .cd_dense import enet_cd_dense, enet_gap_dense, residual_dense
from .cd_gram import face_start
from .screening import gap_safe_keep, strong_set


@njit(cache=True)
def _cross_products(X, index, count, block, first_new):
    """Fill rows and columns ``first_new:count`` of ``block`` with ``X_a' X_b`` (float64)."""
    n = X.shape[0]
    for a in range(first_new, count):
        ja = index[a]
        for b in range(count):
            if b < first_new or b <= a:
                jb = index[b]
                total = 0.0
                for i in range(n):
                    total += float(X[i, ja]) * float(X[i, jb])
                block[a, b] = total
                block[b, a] = total


@njit(cache=True)
def _block_for(X, active, position, index, count, block, max_columns):
    """Gram block cache of the columns seen so far, grown by ``active``'s new columns.

    Returns ``(index, count, block)``, reallocated when it grows (doubling) or restarted when it
    would exceed ``max_columns`` (as ``Design.gram_block_parts``).
    """
    new = 0
    for j in active:
        if position[j] < 0:
            new += 1
    if new == 0:
        return index, count, block
    if count + new > max_columns:  # start again from the current support
        for k in range(count):
            position[index[k]] = -1
        count = 0
        new = active.shape[0]
    if count + new > index.shape[0]:
        capacity = min(max(2 * index.shape[0], count + new, 64), max(max_columns, count + new))
        grown_index = np.empty(capacity, dtype=np.int64)
        grown_index[:count] = index[:count]
        grown = np.empty((capacity, capacity))
        grown[:count, :count] = block[:count, :count]
        index, block = grown_index, grown
    first_new = count
    for j in active:
        if position[j] < 0:
            position[j] = count
            index[count] = j
            count += 1
    _cross_products(X, index, count, block, first_new)
    return index, count, block


@njit(cache=True)
def enet_path_dense(X, y, xty, lipschitz, col_norms, factor, l1_ratio, alphas, first, positive,
                    relative_to_start, tol, null, gap_floor, max_iter, anderson_k, ws_min,
                    second_order, second_order_max, w, corr, older_corr, iters, coefs, gaps,
                    tol_abs_out, position, index, count, block, max_block):
    """Solve ``alphas[first:]`` from the previous solution ``w`` (``corr = X' r / n`` at it).

    ``xty = X' y`` (the second-order start's right-hand side); ``l1 = alpha l1_ratio factor`` and
    ``l2 = alpha (1 - l1_ratio) factor``, as ``Penalty.lower``. Fills ``coefs[:, k]``,
    ``gaps[k]``, ``iters[k]`` and ``tol_abs_out[k]``. Returns ``(k, w, corr, older_corr, index,
    count, block)``: ``k == alphas.size`` when done, else the alpha left to the caller, with
    ``w``, ``corr``, ``older_corr`` those of ``k - 1`` (``older_corr`` of size 0: none yet).
    """
    p = X.shape[1]
    n_alphas = alphas.shape[0]
    always = np.flatnonzero((factor == 0.0) & (lipschitz > 0.0))  # unpenalized
    for k in range(first, n_alphas):
        alpha = alphas[k]
        l1 = alpha * l1_ratio * factor
        l2 = alpha * (1.0 - l1_ratio) * factor
        previous_l1 = alphas[k - 1] * l1_ratio * factor
        # the strong set (solvers.path.solve_path), the support and the unpenalized features
        step = alphas[k - 1] - alphas[k - 2] if k >= 2 else 0.0
        ratio = (alpha - alphas[k - 1]) / step if step != 0.0 else 0.0
        alive = strong_set(corr, older_corr if step != 0.0 else older_corr[:0], ratio, l1,
                           previous_l1, positive, w)
        if always.shape[0]:
            keep = np.zeros(p, dtype=np.bool_)
            keep[alive] = True
            keep[always] = True
            alive = np.flatnonzero(keep)
        # second-order start, when the Cholesky solve costs less than the passes it may save
        v = w.copy()
        active = np.flatnonzero(v)
        recent = 0
        for m in range(max(k - 3, 0), k):
            recent = max(recent, iters[m])
        if (second_order and 0 < active.shape[0] <= second_order_max
                and active.shape[0] ** 2 / 3.0 <= recent * X.shape[0]):
            index, count, block = _block_for(X, active, position, index, count, block,
                                             max_block)
            start, status = face_start(block, position[active], xty, active, v, l1, l2,
                                       float(X.shape[0]), positive)
            if status == 0:
                v = start
        if positive:
            v = np.maximum(v, 0.0)
        # the strong set, screened, solved in one working set, then certified on every feature
        r = residual_dense(X, y, v)
        primal, gap, _, feasible = enet_gap_dense(X, y, v, r, l1, l2, positive, alive,
                                                  lipschitz)
        tol_abs = tol * null
        if relative_to_start:
            tol_abs = max(tol * min(primal, null), min(tol, gap_floor) * null)
        n_iter = 0
        if gap > tol_abs:
            radius = np.sqrt(2.0 * max(gap, 0.0) / X.shape[0])
            features = alive[gap_safe_keep(alive, feasible, radius, v, l1, l2, col_norms,
                                           positive)]
            if features.shape[0] == 0 or features.shape[0] > max(ws_min, 2 * np.count_nonzero(v)):
                return k, w, corr, older_corr, index, count, block
            _, _, n_iter = enet_cd_dense(X, y, v, lipschitz, l1, l2, positive, features,
                                         max_iter, 0.5 * tol_abs, anderson_k)
        r = residual_dense(X, y, v)
        primal, gap, full_corr, _ = enet_gap_dense(X, y, v, r, l1, l2, positive,
                                                   np.arange(p), lipschitz)
        if gap > tol_abs and n_iter < max_iter:  # a violator outside the strong set
            return k, w, corr, older_corr, index, count, block
        older_corr = corr
        corr = full_corr
        w = v
        coefs[:, k] = w
        gaps[k] = gap
        iters[k] = n_iter
        tol_abs_out[k] = tol_abs
    return n_alphas, w, corr, older_corr, index, count, block
