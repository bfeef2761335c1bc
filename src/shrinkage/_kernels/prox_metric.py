"""Proximal operators in a diagonal metric, in place, for the proximal optimizers' CPU tensors.

An adaptive optimizer (Adam, RMSprop, Adagrad, ...) steps coordinate ``j`` by ``t_j = scale / d_j``
with ``d_j = sqrt(denom_j) + eps`` (``root``) or ``denom_j + eps``; its proximal step is the prox of
the penalty in the metric ``diag(1 / t_j)``. For the separable elastic-net family that is
``prox_enet_1d`` with step ``t_j``, coordinate by coordinate, computed here in the equivalent form
``S(w d, scale l1) / (d + scale l2)`` (no reciprocal step, one division); for the group lasso it is
found per group by Newton's method on the secular equation (derivation in
``shrinkage.torch._prox._group_prox_metric_``, the tensor-operation version of the same iteration).

Each function makes one pass over the weights and the optimizer's state (the group prox: a few
passes over each group while it sits in cache), where the equivalent tensor operations make one
pass per operation; rows (groups) and blocks run in parallel. The arrays are float32 or float64
views of the parameters, written in place. The separable kernels compute in the arrays' precision
(the caller passes the scalars in it) so that the loops vectorise; the group prox too.
``error_model="numpy"``: a division by zero gives inf/NaN as the tensor operations do, and without
Python's zero check the loops vectorise.
"""

import numpy as np

from ._jit import get_thread_id, njit, prange
from .prox import soft_threshold_select

BLOCK = 4096    # elements per parallel task of the flat kernel

# reassociation lets LLVM vectorise the float64 sums over a group; no flag that changes NaN/inf
# semantics (the comparisons with the bound must stay exact)
_GROUP_MATH = {"reassoc", "contract", "arcp"}


@njit(cache=True, inline="always")
def _denominator(value, root, eps):
    return (np.sqrt(value) if root else value) + eps


@njit(cache=True, inline="always")
def _prox_scaled(w, d, threshold, shift, positive, zero):
    """``S(w d, threshold) / (d + shift)`` (one-sided when ``positive``) = the prox with step scale/d."""
    z = w * d
    shrunk = max(z - threshold, zero) if positive else soft_threshold_select(z, threshold)
    return shrunk / (d + shift)


@njit(cache=True, inline="always")
def _enet_loop(w, denom, eps, threshold, shift, root, positive):
    zero = eps - eps
    for j in range(w.shape[0]):
        w[j] = _prox_scaled(w[j], _denominator(denom[j], root, eps), threshold, shift, positive, zero)


@njit(cache=True, inline="always")
def _enet_loop_columns(w, denom, eps, threshold, shift, root, positive):
    zero = eps - eps
    for j in range(w.shape[0]):
        w[j] = _prox_scaled(w[j], _denominator(denom[j], root, eps), threshold[j], shift[j], positive, zero)


@njit(cache=True, error_model="numpy")
def _enet_segment(w, denom, eps, threshold, shift, root, positive):
    # The flags are passed on as constants, one loop per combination: LLVM does not vectorise a
    # loop with a run-time branch inside, nor one over a block's bounds inside a larger array;
    # it does vectorise a loop over a whole (sliced) array with the branches folded away.
    if root:
        if positive:
            _enet_loop(w, denom, eps, threshold, shift, True, True)
        else:
            _enet_loop(w, denom, eps, threshold, shift, True, False)
    elif positive:
        _enet_loop(w, denom, eps, threshold, shift, False, True)
    else:
        _enet_loop(w, denom, eps, threshold, shift, False, False)


@njit(cache=True, error_model="numpy")
def _enet_segment_columns(w, denom, eps, threshold, shift, root, positive):
    if root:
        if positive:
            _enet_loop_columns(w, denom, eps, threshold, shift, True, True)
        else:
            _enet_loop_columns(w, denom, eps, threshold, shift, True, False)
    elif positive:
        _enet_loop_columns(w, denom, eps, threshold, shift, False, True)
    else:
        _enet_loop_columns(w, denom, eps, threshold, shift, False, False)


@njit(cache=True, parallel=True, error_model="numpy")
def prox_enet_metric_flat(w, denom, eps, root, threshold, shift, positive):
    """``w_j <- S(w_j d_j, threshold) / (d_j + shift)`` over flat arrays (scalars in w's dtype;
    ``threshold = scale l1``, ``shift = scale l2``)."""
    n = w.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        _enet_segment(w[lo:hi], denom[lo:hi], eps, threshold, shift, root, positive)


@njit(cache=True, parallel=True, error_model="numpy")
def prox_enet_metric_rows(w, denom, eps, root, threshold, shift, positive):
    """As :func:`prox_enet_metric_flat` on ``(rows, width)`` arrays, with per-column ``threshold`` and
    ``shift`` arrays (per-feature penalty weights), of w's dtype."""
    for i in prange(w.shape[0]):
        _enet_segment_columns(w[i], denom[i], eps, threshold, shift, root, positive)


@njit(cache=True, parallel=True, error_model="numpy", fastmath=_GROUP_MATH)
def group_prox_scalar(groups, step, lam):
    """Block soft-thresholding of each row: ``w_g <- w_g max(1 - step lam_g / ||w_g||, 0)``."""
    n_groups, size = groups.shape
    for g in prange(n_groups):
        norm2 = 0.0
        for j in range(size):
            norm2 += np.float64(groups[g, j]) ** 2
        _block_shrink(groups[g], norm2, step * lam[g])


@njit(cache=True, inline="always")
def _block_shrink(row, norm2, threshold):
    """``row <- row max(1 - threshold / ||row||, 0)`` given ``norm2 = ||row||^2`` (float64)."""
    norm = np.sqrt(norm2)
    factor = 1.0 - threshold / norm if norm > threshold else 0.0
    for j in range(row.shape[0]):
        row[j] = row[j] * factor


@njit(cache=True, parallel=True, error_model="numpy", fastmath=_GROUP_MATH)
def group_prox_metric(groups, denom, scale, eps, root, lam, tol, max_newton, scratch):
    """Each row ``v_g`` <- ``argmin_x sum_j (x_j - v_gj)^2 / (2 t_gj) + lam_g ||x||``, ``t = scale / d``.

    ``x = 0`` exactly when ``||v_g d_g|| <= scale lam_g``; otherwise ``x_j = v_j r / (r + c_j)``,
    ``c_j = t_j lam_g``, with ``r`` the root of ``||y(r)|| = 1``, ``y_j = v_j / (r + c_j)``, reached
    by Newton's method climbing monotonically from ``r0 = ||v|| - sum v^2 c / ||v||^2`` (below the
    root by Jensen's inequality; the root itself when the steps are equal).

    The arithmetic runs in the arrays' precision (``scale, eps, lam, tol`` passed in it): float32
    halves the cost of the divisions and square roots that dominate, and matches the optimizer's
    own float32 step. ``scratch``: an array of the groups' dtype with two rows of the groups' size
    for each of numba's threads, shape ``(numba.config.NUMBA_NUM_THREADS, 2, size)`` (allocating
    them per group cost 7% of the kernel; numba's thread count inside a kernel would keep it out
    of the on-disk cache).
    """
    n_groups, size = groups.shape
    # 1 in the arrays' precision: ``zero + 1`` would be float64 (numba promotes float32 + int),
    # and the Newton loop's division with it (twice the cost, half the vector width)
    one = np.ones(1, dtype=groups.dtype)[0]
    for g in prange(n_groups):
        c = scratch[get_thread_id(), 0]
        y = scratch[get_thread_id(), 1]
        bound = scale * lam[g]
        zero = bound - bound
        scaled2 = zero      # ||v d||^2
        norm2 = zero        # ||v||^2
        weighted = zero     # sum v^2 c
        for j in range(size):
            v = groups[g, j]
            d = _denominator(denom[g, j], root, eps)
            cj = bound / d
            c[j] = cj
            scaled2 += (v * d) ** 2
            norm2 += v * v
            weighted += v * v * cj
        if not np.sqrt(scaled2) > bound:
            for j in range(size):
                groups[g, j] = zero
            continue
        _secular_shrink(groups[g], c, y, norm2, weighted, tol, max_newton, one, zero)


@njit(cache=True, inline="always")
def _secular_shrink(row, c, y, norm2, weighted, tol, max_newton, one, zero):
    """``row`` <- ``x``, ``x_j = v_j r / (r + c_j)`` (``v`` = ``row``), ``r`` the root of ``||y(r)|| = 1``.

    ``norm2 = ||v||^2`` and ``weighted = sum v^2 c`` (the start), ``c`` and ``y`` rows of scratch.
    """
    r = max(np.sqrt(norm2) - weighted / norm2, zero)
    # Each pass evaluates y(r) (kept in y) and the Newton step; it stops at the root or when the
    # step is below tol r, and the result is x = r_new y(r): off by at most the step's relative
    # size, tol, so the final pass needs no division (the passes are bound by them)
    size = row.shape[0]
    for _ in range(max(max_newton, 1)):        # (at least one pass: it fills y)
        y2_sum = zero
        slope = zero     # -(1/2) d||y||^2 / dr
        for j in range(size):
            inv = one / (r + c[j])
            yj = row[j] * inv
            y[j] = yj
            y2 = yj * yj
            y2_sum += y2
            slope += y2 * inv
        if not y2_sum > one:        # at (or, by rounding, just past) the root
            break
        new = r + (y2_sum * np.sqrt(y2_sum) - y2_sum) / slope
        moved = new - r
        r = new
        if not moved > tol * abs(new):
            break
    for j in range(size):
        row[j] = r * y[j]
