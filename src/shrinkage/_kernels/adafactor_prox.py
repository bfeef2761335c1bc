"""Adafactor's update of a matrix and the separable proximal step, in three passes over memory.

PyTorch's CPU Adafactor runs about a dozen tensor operations per matrix (row and column norms of
the gradient, the factored second moment as an outer product, its clamp and reciprocal root, the
update, its norm, the parameter's norm, the step), and the prox after it must rebuild the metric
again. Adafactor's step needs two whole-tensor reductions before it can move a single weight (the
parameter's RMS for the relative step, the update's RMS for the clipping), so it cannot be one
pass; here it is three, each a read of the gradient (``_single_tensor_adafactor``). A tensor of
more than two dimensions is a batch of ``(R, C)`` matrices over its last two (PyTorch's factoring):
the arrays come as ``(B R, C)`` rows, the column variances as ``(B, C)``, the means as ``(B,)``,
and row ``i`` belongs to matrix ``i // R``.

1. :func:`adafactor_sums`: ``||w||^2``, the rows' and columns' sums of ``g^2`` (the host then
   moves ``row_var``, ``col_var`` as PyTorch does, with ``lerp``);
2. :func:`adafactor_update_norm`: ``sum g^2 / v``, ``v_ij = max(r_i c_j / mean(r), eps1^2)``
   (the host then has ``denom`` and the step ``s = alpha / denom``);
3. :func:`adafactor_step_prox`: ``w <- decay w - s g / sqrt(v)`` with ``s = alpha / denom``, then the
   separable prox at ``t_ij = s / sqrt(v_ij)``: ``S(w, t l1) / (1 + t l2)``, one-sided with
   ``positive`` (:func:`adafactor_step_group_rows`: the group lasso over a matrix's rows instead).

Sums are accumulated in float64; the update and the prox in the arrays' precision.
"""

import numpy as np

from ._jit import get_thread_id, njit, prange
from .prox_metric import _secular_shrink


@njit(cache=True, parallel=True, error_model="numpy")
def adafactor_sums(w, g, row_sq, col_partial):
    """``||w||^2`` (returned), ``row_sq[i] = sum_j g_ij^2`` and, per numba thread, the columns'
    partial sums ``col_partial[thread, matrix, j]`` (zeroed here; the caller adds them up)."""
    n_rows, n_cols = g.shape
    per_matrix = n_rows // col_partial.shape[1]
    col_partial[:] = 0.0
    total = 0.0
    for i in prange(n_rows):
        col = col_partial[get_thread_id(), i // per_matrix]
        row = 0.0
        for j in range(n_cols):
            gij = np.float64(g[i, j])
            sq = gij * gij
            row += sq
            col[j] += sq
            total += np.float64(w[i, j]) ** 2
        row_sq[i] = row
    return total


@njit(cache=True, parallel=True, error_model="numpy")
def adafactor_update_norm(g, row_var, col_var, mean, floor):
    """``sum_ij g_ij^2 / v_ij``, ``v_ij = max(r_i c_j / mean, floor)`` (``floor = eps1^2``; ``c``
    and ``mean`` those of row ``i``'s matrix; as PyTorch forms it: the outer product, then the
    division)."""
    n_rows, n_cols = g.shape
    per_matrix = n_rows // col_var.shape[0]
    total = 0.0
    for i in prange(n_rows):
        r = row_var[i]
        c = col_var[i // per_matrix]
        m = mean[i // per_matrix]
        part = 0.0
        for j in range(n_cols):
            v = max(r * c[j] / m, floor)
            gij = g[i, j]
            part += np.float64(gij * gij / v)
        total += part
    return total


@njit(cache=True, parallel=True, error_model="numpy")
def adafactor_step_prox(w, g, row_var, col_var, mean, floor, hyper, l1, l2, positive):
    """The update and the separable prox, in place. ``hyper = (sign, decay, s, 1)`` in the arrays'
    dtype (``sign`` -1 to maximize, ``decay = 1 - lr wd``, ``s = alpha / denom``); ``l1``, ``l2``
    the penalty's strengths (0 for none)."""
    sign, decay, s, one = hyper
    zero = one - one
    bottom = zero if positive else -one / zero
    per_matrix = w.shape[0] // col_var.shape[0]
    for i in prange(w.shape[0]):
        r = row_var[i]
        c = col_var[i // per_matrix]
        m = mean[i // per_matrix]
        for j in range(w.shape[1]):
            t = s / np.sqrt(max(r * c[j] / m, floor))
            wj = w[i, j] * decay - t * (sign * g[i, j])
            high = t * l1
            wj = max(wj - min(max(wj, -high), high), bottom)
            w[i, j] = wj / (one + t * l2)


@njit(cache=True, parallel=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def adafactor_step_group_rows(w, g, row_var, col_var, mean, floor, hyper, lam, tol, max_newton, scratch):
    """The update of a matrix's rows and the group lasso prox of each (``lam[i]`` its strength)
    while it is in cache: ``argmin_x sum_j (x_j - u_j)^2 / (2 t_j) + lam_i ||x||``, zero when
    ``||u / t|| <= lam_i``, else ``prox_metric``'s Newton iteration with ``c_j = lam_i t_j``.
    ``scratch``: two rows per numba thread (``newton_scratch``); the rest as
    :func:`adafactor_step_prox` (one matrix: ``col_var`` and ``mean`` of one row)."""
    sign, decay, s, one = hyper
    zero = one - one
    c_row = col_var[0]
    m = mean[0]
    for i in prange(w.shape[0]):
        c = scratch[get_thread_id(), 0]
        y = scratch[get_thread_id(), 1]
        row = w[i]
        r = row_var[i]
        bound = lam[i]
        outside = zero
        norm2 = zero
        weighted = zero
        for j in range(w.shape[1]):
            t = s / np.sqrt(max(r * c_row[j] / m, floor))
            wj = row[j] * decay - t * (sign * g[i, j])
            row[j] = wj
            c[j] = bound * t
            outside += (wj / t) ** 2
            norm2 += wj * wj
            weighted += wj * wj * c[j]
        if not np.sqrt(outside) > bound:
            for j in range(w.shape[1]):
                row[j] = zero
            continue
        _secular_shrink(row, c, y, norm2, weighted, tol, max_newton, one, zero)
