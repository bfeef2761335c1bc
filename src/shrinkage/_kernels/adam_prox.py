"""Adam's update and the proximal step in one pass over memory (the proximal optimizers' CPU path).

PyTorch's Adam on a CPU runs its update as a sequence of tensor operations, each a pass over the
parameters and the optimizer's state; the proximal step after it is one more pass over the weights
and the second moments. On a large network these passes are bound by memory bandwidth, not
arithmetic. Here each coordinate is read once, updated as PyTorch's single-tensor Adam updates it,

    g <- -g if maximize;    w <- w (1 - lr wd) (AdamW)  or  g <- g + wd w (Adam)
    m <- m + (1 - beta1) (g - m)                         (torch's lerp_)
    v <- beta2 v + (1 - beta2) g^2                       (max_v <- max(max_v, v) with amsgrad)
    w <- w - (lr / (1 - beta1^k)) m / (sqrt(v) / sqrt(b) + eps),      b = 1 - beta2^k

and proximally stepped at once, in the same metric as ``prox_metric``: the step along coordinate
``j`` is ``t_j = lr / (sqrt(v_j / b) + eps)`` (``max_v`` with amsgrad). The step is computed as
``inv_j = sqrt(b) / (sqrt(v_j) + eps sqrt(b))`` (one division, shared by the update and the prox),
so the update may differ from PyTorch's ``m / denom`` in the last bit.

- separable penalties (``l1``, ``l2`` without per-feature weights), flat:
  ``w <- S(w, lr l1 inv) / (1 + lr l2 inv)`` (one-sided with ``positive``);
- the group lasso over rows: each row is updated into place while it sits in cache, then shrunk
  by ``prox_metric``'s Newton iteration on the secular equation with ``c_j = lr lam_g inv_j``;
- no penalty: Adam's update alone.

The scalars are passed in the arrays' precision (float32 arithmetic for float32 parameters, as the
optimizer's own), and the flags as compile-time branches around whole loops, so that the loops
vectorise (see ``prox_metric._enet_segment``).
"""

import numpy as np

from ._jit import get_thread_id, njit, prange
from .prox import soft_threshold_select
from .prox_metric import BLOCK, _secular_shrink

# what a flat pass does after the update
NO_PROX, SOFT, POSITIVE = 0, 1, 2


@njit(cache=True, inline="always")
def _update(w, g, m, v, vmax, j, hyper, amsgrad):
    """Adam's update of coordinate ``j`` (``m``, ``v``, ``vmax`` written); returns ``(w_j, inv_j, d_j)``
    with ``inv_j = sqrt(b) / d_j`` the step per unit of ``lr``, ``d_j = sqrt(v_j) + eps sqrt(b)``."""
    sign, wd, decay, lerp, beta2, fresh, step_size, root_b, eps_b = hyper
    wj = w[j] * decay
    grad = sign * g[j] + wd * wj
    mj = m[j] + lerp * (grad - m[j])
    m[j] = mj
    vj = beta2 * v[j] + fresh * grad * grad
    v[j] = vj
    if amsgrad:
        vj = max(vmax[j], vj)
        vmax[j] = vj
    d = np.sqrt(vj) + eps_b
    inv = root_b / d
    return wj - step_size * mj * inv, inv, d


@njit(cache=True, inline="always")
def _flat_loop(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, kind, shrink):
    zero = threshold - threshold
    one = hyper[7] / hyper[7]       # sqrt(b) / sqrt(b): 1 in the arrays' precision
    for j in range(w.shape[0]):
        wj, inv, _ = _update(w, g, m, v, vmax, j, hyper, amsgrad)
        if kind == SOFT:
            wj = soft_threshold_select(wj, threshold * inv)
        elif kind == POSITIVE:
            wj = max(wj - threshold * inv, zero)
        if shrink:
            wj = wj / (one + shift * inv)
        w[j] = wj


@njit(cache=True, inline="always")
def _flat_kinds(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, kind, shrink):
    if kind == SOFT:
        if shrink:
            _flat_loop(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, SOFT, True)
        else:
            _flat_loop(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, SOFT, False)
    elif kind == POSITIVE:
        if shrink:
            _flat_loop(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, POSITIVE, True)
        else:
            _flat_loop(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, POSITIVE, False)
    elif shrink:
        _flat_loop(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, NO_PROX, True)
    else:
        _flat_loop(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, NO_PROX, False)


@njit(cache=True, error_model="numpy")
def _flat_segment(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, kind, shrink):
    # one loop per combination of the flags, each with them as constants once inlined (LLVM
    # vectorises a loop over a whole sliced array once the branches inside are folded away)
    if amsgrad:
        _flat_kinds(w, g, m, v, vmax, hyper, threshold, shift, True, kind, shrink)
    else:
        _flat_kinds(w, g, m, v, vmax, hyper, threshold, shift, False, kind, shrink)


@njit(cache=True, parallel=True, error_model="numpy")
def adam_prox_flat(w, g, m, v, vmax, hyper, threshold, shift, amsgrad, kind, shrink):
    """Adam's update and the separable prox of flat arrays, in place.

    ``hyper = (sign, wd, decay, lerp, beta2, 1 - beta2, lr / (1 - beta1^k), sqrt(b), eps sqrt(b))``
    in the arrays' dtype (``sign`` -1 to maximize; ``wd`` Adam's coupled weight decay, ``decay``
    AdamW's factor ``1 - lr wd``); ``threshold = lr l1``, ``shift = lr l2`` (``shrink``: divide by
    ``1 + shift inv``); ``kind`` one of ``NO_PROX, SOFT, POSITIVE``. ``vmax`` is read and written
    only with ``amsgrad`` (pass ``v`` otherwise).
    """
    n = w.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        _flat_segment(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], vmax[lo:hi], hyper, threshold, shift,
                      amsgrad, kind, shrink)


@njit(cache=True, inline="always")
def _row_update(w, g, m, v, vmax, hyper, bound, c, amsgrad):
    """Adam's update of one row (written), ``c_j = bound inv_j``; returns ``(||w d||^2, ||w||^2,
    sum w^2 c)`` in the row's precision."""
    zero = bound - bound
    scaled2 = zero
    norm2 = zero
    weighted = zero
    for j in range(w.shape[0]):
        wj, inv, d = _update(w, g, m, v, vmax, j, hyper, amsgrad)
        w[j] = wj
        cj = bound * inv
        c[j] = cj
        scaled2 += (wj * d) ** 2
        norm2 += wj * wj
        weighted += wj * wj * cj
    return scaled2, norm2, weighted


@njit(cache=True, parallel=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def adam_group_prox_rows(w, g, m, v, vmax, hyper, lr, lam, tol, max_newton, amsgrad, scratch):
    """Adam's update of ``(rows, size)`` arrays and the group lasso prox of each row, in place.

    Row ``i`` becomes ``argmin_x sum_j (x_j - u_j)^2 / (2 t_j) + lam_i ||x||`` with ``u`` the
    updated row and ``t_j = lr inv_j``: zero when ``||u d|| <= lr sqrt(b) lam_i`` (``u / t`` within
    the ball), else Newton's iteration of ``prox_metric.group_prox_metric``. ``hyper`` as in
    :func:`adam_prox_flat`; ``lr``, ``lam``, ``tol`` in the arrays' dtype; ``scratch`` two rows of
    the row size per numba thread, ``(NUMBA_NUM_THREADS, 2, size)``.
    """
    n_rows = w.shape[0]
    one = np.ones(1, dtype=w.dtype)[0]
    root_b = hyper[7]
    for i in prange(n_rows):
        c = scratch[get_thread_id(), 0]
        y = scratch[get_thread_id(), 1]
        bound = lr * lam[i]
        zero = bound - bound
        if amsgrad:
            scaled2, norm2, weighted = _row_update(w[i], g[i], m[i], v[i], vmax[i], hyper, bound, c, True)
        else:
            scaled2, norm2, weighted = _row_update(w[i], g[i], m[i], v[i], vmax[i], hyper, bound, c, False)
        # ||u / t|| = ||u d|| / (lr sqrt(b))
        if not np.sqrt(scaled2) > bound * root_b:
            for j in range(w.shape[1]):
                w[i, j] = zero
            continue
        _secular_shrink(w[i], c, y, norm2, weighted, tol, max_newton, one, zero)
