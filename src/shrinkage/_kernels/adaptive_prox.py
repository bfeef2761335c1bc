"""An adaptive optimizer's update and the proximal step in one pass over memory (the proximal
optimizers' CPU path for Adam, AdamW, NAdam, RAdam, Adamax, RMSprop and Adagrad).

PyTorch runs these optimizers' CPU updates as a sequence of tensor operations, each a pass over
the parameters and the optimizer's state; the proximal step after it is one more pass over the
weights and the second moments. On a large network these passes are bound by memory bandwidth,
not arithmetic. Here each coordinate is read once, updated as PyTorch's single-tensor
implementation updates it, and proximally stepped at once in the optimizer's own metric (the
table of ``shrinkage.torch._optim``): the step along coordinate ``j`` is ``t_j = scale inv_j``,
with ``inv_j = num / d_j`` computed once and shared by the update and the prox. First, for every
rule (``sign`` -1 to maximize; ``decay`` is AdamW's/decoupled ``1 - lr wd``, else 1)::

    w <- decay w;    g <- sign g + wd w

then, per rule (``b = 1 - beta2^k``; in brackets the prox's ``scale`` and ``num``)::

    ADAM     m <- m + (1 - beta1) (g - m);  v <- beta2 v + (1 - beta2) g^2  (max_v <- max(max_v, v)
             with amsgrad);  d = sqrt(v) + eps sqrt(b), inv = sqrt(b) / d;
             w <- w - (lr / (1 - beta1^k)) m inv                          [scale lr, num sqrt(b)]
    NADAM    m, v as Adam;  w <- w - c_g g inv - c_m m inv,  c_g = lr (1 - mu_k) / (1 - prod mu),
             c_m = lr mu_{k+1} / (1 - mu_{k+1} prod mu)                   [scale lr, num sqrt(b)]
    RADAM    m, v as Adam;  rectified: d = sqrt(v) + eps, inv = sqrt(b) / d,
             w <- w - (lr rect / (1 - beta1^k)) m inv   [scale lr rect, num sqrt(b)];
             not yet: inv = d = 1, w <- w - (lr / (1 - beta1^k)) m          [scale lr, num 1]
    ADAMAX   m as Adam;  u <- max(beta2 u, |g| + eps);  d = u, inv = 1 / u;
             w <- w - (lr / (1 - beta1^k)) m inv                          [scale lr, num 1]
    RMSPROP  s <- alpha s + (1 - alpha) g^2;  centered: a <- a + (1 - alpha) (g - a),
             d = sqrt(s - a^2) + eps, else d = sqrt(s) + eps;  inv = 1 / d;
             momentum mu: buf <- mu buf + g inv, w <- w - lr buf;  else w <- w - lr g inv
                                                                 [scale lr / (1 - mu), num 1]
    ADAGRAD  G <- G + g^2;  d = sqrt(G) + eps, inv = 1 / d;  w <- w - clr g inv,
             clr = lr / (1 + (k - 1) lr_decay)                            [scale clr, num 1]

(``m / d`` becomes ``m inv``: the update may differ from PyTorch's in the last bit.) Then:

- separable penalties (``l1``, ``l2`` without per-feature weights), flat:
  ``w <- S(w, scale l1 inv) / (1 + scale l2 inv)`` (one-sided with ``positive``);
- the group lasso over rows: each row is updated into place while it sits in cache, then shrunk
  by ``prox_metric``'s Newton iteration on the secular equation with ``c_j = scale lam_g inv_j``
  (zero when ``||u / t|| = ||u d|| / (scale num) <= lam_g``);
- no penalty: the update alone.

The scalars are passed in the arrays' precision (float32 arithmetic for float32 parameters, as the
optimizer's own), the hyperparameters as one 10-tuple whatever the rule (``num`` its 8th, unused
entries 0), the state arrays as ``s1, s2, s3`` (``w`` where a rule has fewer), and the rule and
flags as compile-time constants around whole loops, so that the loops vectorise (see
``prox_metric._enet_segment``). Each rule has its own functions — a segment of the flat pass, one
row of the group pass (each its rule's loops, compiled once), and the two parallel entry points
that call them — so that a process compiles only the rules it uses, and each parallel loop's body
is one call (numba's parallel compilation grows fast with the body it is given).
"""

import numpy as np

from ._jit import get_thread_id, njit, prange
from .prox_metric import BLOCK, _secular_shrink

# what a flat pass does after the update
NO_PROX, SOFT, POSITIVE = 0, 1, 2
# the update rules
ADAM, NADAM, RADAM, ADAMAX, RMSPROP, ADAGRAD = range(6)


# (compiled once and inlined by LLVM at each loop, where the rule and flags are constants: numba's
# own inlining would type and lower every rule's code again in every loop variant, twice the
# compile time, for the same machine code)
@njit(cache=True, error_model="numpy")
def _update(rule, w, g, s1, s2, s3, j, hyper, flag_a, flag_b):
    """The rule's update of coordinate ``j`` (its state written); returns ``(w_j, inv_j, d_j)``.

    ``flag_a``: Adam's amsgrad, RAdam's rectification, RMSprop's momentum; ``flag_b``: RMSprop's
    ``centered``.
    """
    h0, h1, h2, h3, h4, h5, h6, h7, h8, h9 = hyper
    wj = w[j] * h2 if rule != RMSPROP and rule != ADAGRAD else w[j]
    grad = h0 * g[j] + h1 * wj
    # h7 is ``num`` (1 unless named below), inv = num / d
    if rule == RMSPROP:     # (sign, wd, alpha, 1 - alpha, mu, lr, eps, 1)
        s = h2 * s1[j] + h3 * grad * grad
        s1[j] = s
        if flag_b:
            a = s3[j] + h3 * (grad - s3[j])
            s3[j] = a
            s = s - a * a
        d = np.sqrt(s) + h6
        inv = h7 / d
        if flag_a:
            b = h4 * s2[j] + grad * inv
            s2[j] = b
            return wj - h5 * b, inv, d
        return wj - h5 * grad * inv, inv, d
    if rule == ADAGRAD:     # (sign, wd, clr, eps, 0, 0, 0, 1)
        s = s1[j] + grad * grad
        s1[j] = s
        d = np.sqrt(s) + h3
        inv = h7 / d
        return wj - h2 * grad * inv, inv, d
    # the Adam family: (sign, wd, decay, 1 - beta1, beta2, 1 - beta2, step size, ., ., .)
    mj = s1[j] + h3 * (grad - s1[j])
    s1[j] = mj
    if rule == ADAMAX:      # (..., beta2, eps, lr / (1 - beta1^k), 1)
        u = max(h4 * s2[j], abs(grad) + h5)
        s2[j] = u
        inv = h7 / u
        return wj - h6 * mj * inv, inv, u
    vj = h4 * s2[j] + h5 * grad * grad
    s2[j] = vj
    if rule == RADAM and not flag_a:    # not yet rectified: momentum SGD, (..., lr / (1 - beta1^k), 1)
        return wj - h6 * mj, h7, h7
    if rule == ADAM and flag_a:
        vj = max(s3[j], vj)
        s3[j] = vj
    d = np.sqrt(vj) + h8        # (..., sqrt(b), eps sqrt(b)); RAdam: (..., sqrt(b), eps)
    inv = h7 / d
    if rule == NADAM:           # (..., c_g, sqrt(b), eps sqrt(b), c_m)
        return wj - h6 * grad * inv - h9 * mj * inv, inv, d
    return wj - h6 * mj * inv, inv, d


@njit(cache=True, inline="always")
def _flat_loop(rule, w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, prox, shrink):
    # one form for every separable penalty, without branches (so that it vectorises, and a rule
    # compiles three loops per combination of its flags only): S(w, a) = w - clip(w, -a, a), and
    # max(S(w, a), 0) = max(w - a, 0) with ``positive``; ``threshold = 0`` leaves ``w`` as it is.
    # (Every number in the arrays' precision: a float64 constant would make the loop float64.)
    one = hyper[7] / hyper[7]       # num / num: 1 in the arrays' precision
    zero = one - one
    floor = zero if positive else -one / zero
    for j in range(w.shape[0]):
        wj, inv, _ = _update(rule, w, g, s1, s2, s3, j, hyper, flag_a, flag_b)
        if prox:
            high = threshold * inv
            wj = max(wj - min(max(wj, -high), high), floor)
        if shrink:
            wj = wj / (one + shift * inv)
        w[j] = wj


@njit(cache=True, inline="always")
def _flat_shrink(rule, w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, shrink):
    # the division by 1 + shift inv only where there is an L2 part, the thresholding only where
    # there is one (the update alone: no penalty, or L2 alone)
    if shrink:
        _flat_loop(rule, w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, True, True)
    elif threshold > 0 or positive:
        _flat_loop(rule, w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, True, False)
    else:
        _flat_loop(rule, w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, False, False)


@njit(cache=True, inline="always")
def _row_update(rule, w, g, s1, s2, s3, hyper, bound, c, flag_a, flag_b):
    """The rule's update of one row (written), ``c_j = bound inv_j``; returns ``(||w d||^2, ||w||^2,
    sum w^2 c)`` in the row's precision."""
    zero = bound - bound
    scaled2 = zero
    norm2 = zero
    weighted = zero
    for j in range(w.shape[0]):
        wj, inv, d = _update(rule, w, g, s1, s2, s3, j, hyper, flag_a, flag_b)
        w[j] = wj
        cj = bound * inv
        c[j] = cj
        scaled2 += (wj * d) ** 2
        norm2 += wj * wj
        weighted += wj * wj * cj
    return scaled2, norm2, weighted


@njit(cache=True, inline="always")
def _row(rule, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, c, y):
    """One row of the group pass: the update, then the prox with ``c_j = scale lam inv_j``."""
    one = hyper[7] / hyper[7]
    bound = scale * lam
    zero = bound - bound
    scaled2, norm2, weighted = _row_update(rule, w, g, s1, s2, s3, hyper, bound, c, flag_a, flag_b)
    # ||u / t|| = ||u d|| / (scale num)
    if not np.sqrt(scaled2) > bound * hyper[7]:
        for j in range(w.shape[0]):
            w[j] = zero
        return
    _secular_shrink(w, c, y, norm2, weighted, tol, max_newton, one, zero)


@njit(cache=True, inline="always")
def _penalty_form(threshold, kind):
    """``(threshold, positive)`` of :func:`_flat_loop` for a pass of ``kind``."""
    return threshold if kind != NO_PROX else threshold - threshold, kind == POSITIVE


# Per rule: ``_<rule>_segment`` (a block of the flat pass) and ``_<rule>_row`` (a row of the group
# pass) hold the rule's loops, one per combination of its flags (unused flags are constants);
# the entry points spread blocks resp. rows over numba's threads. Flat:
#   <rule>_prox_flat(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, kind, shrink)
# updates flat arrays and applies the separable prox in place, ``threshold = scale l1``,
# ``shift = scale l2`` (``shrink``: divide by ``1 + shift inv``), ``kind`` one of NO_PROX, SOFT,
# POSITIVE. Rows:
#   <rule>_group_prox_rows(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, scratch)
# updates ``(rows, size)`` arrays and makes row ``i`` ``argmin_x sum_j (x_j - u_j)^2 / (2 t_j) +
# lam_i ||x||`` (``u`` the updated row): zero when ``||u d|| <= scale num lam_i`` (``num =
# hyper[7]``), else Newton's iteration of ``prox_metric.group_prox_metric``; ``scale``, ``lam``,
# ``tol`` in the arrays' dtype, ``scratch`` two rows of the row size per numba thread,
# ``(NUMBA_NUM_THREADS, 2, size)``. Unused flags are False; unused state arrays are ``w`` (never
# touched). Flags: Adam's ``amsgrad``, RAdam's ``rectified`` (this step), RMSprop's ``momentum > 0``
# and ``centered``.


@njit(cache=True, error_model="numpy")
def _adam_segment(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, shrink):
    if flag_a:
        _flat_shrink(ADAM, w, g, s1, s2, s3, hyper, threshold, shift, True, False, positive, shrink)
    else:
        _flat_shrink(ADAM, w, g, s1, s2, s3, hyper, threshold, shift, False, False, positive, shrink)


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def _adam_row(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, c, y):
    if flag_a:
        _row(ADAM, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, True, False, c, y)
    else:
        _row(ADAM, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, False, False, c, y)


@njit(cache=True, parallel=True, error_model="numpy")
def adam_prox_flat(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, kind, shrink):
    """Adam / AdamW, the flat pass (``s1, s2, s3 = exp_avg, exp_avg_sq, max_exp_avg_sq``)."""
    threshold, positive = _penalty_form(threshold, kind)
    n = w.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        _adam_segment(w[lo:hi], g[lo:hi], s1[lo:hi], s2[lo:hi], s3[lo:hi], hyper, threshold, shift, flag_a,
                      flag_b, positive, shrink)


@njit(cache=True, parallel=True, error_model="numpy")
def adam_group_prox_rows(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, scratch):
    """Adam / AdamW, the group pass."""
    for i in prange(w.shape[0]):
        _adam_row(w[i], g[i], s1[i], s2[i], s3[i], hyper, scale, lam[i], tol, max_newton, flag_a, flag_b,
                  scratch[get_thread_id(), 0], scratch[get_thread_id(), 1])


@njit(cache=True, error_model="numpy")
def _nadam_segment(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, shrink):
    _flat_shrink(NADAM, w, g, s1, s2, s3, hyper, threshold, shift, False, False, positive, shrink)


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def _nadam_row(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, c, y):
    _row(NADAM, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, False, False, c, y)


@njit(cache=True, parallel=True, error_model="numpy")
def nadam_prox_flat(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, kind, shrink):
    """NAdam, the flat pass (``s1, s2 = exp_avg, exp_avg_sq``)."""
    threshold, positive = _penalty_form(threshold, kind)
    n = w.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        _nadam_segment(w[lo:hi], g[lo:hi], s1[lo:hi], s2[lo:hi], s3[lo:hi], hyper, threshold, shift, flag_a,
                       flag_b, positive, shrink)


@njit(cache=True, parallel=True, error_model="numpy")
def nadam_group_prox_rows(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, scratch):
    """NAdam, the group pass."""
    for i in prange(w.shape[0]):
        _nadam_row(w[i], g[i], s1[i], s2[i], s3[i], hyper, scale, lam[i], tol, max_newton, flag_a, flag_b,
                   scratch[get_thread_id(), 0], scratch[get_thread_id(), 1])


@njit(cache=True, error_model="numpy")
def _radam_segment(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, shrink):
    if flag_a:
        _flat_shrink(RADAM, w, g, s1, s2, s3, hyper, threshold, shift, True, False, positive, shrink)
    else:
        _flat_shrink(RADAM, w, g, s1, s2, s3, hyper, threshold, shift, False, False, positive, shrink)


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def _radam_row(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, c, y):
    if flag_a:
        _row(RADAM, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, True, False, c, y)
    else:
        _row(RADAM, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, False, False, c, y)


@njit(cache=True, parallel=True, error_model="numpy")
def radam_prox_flat(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, kind, shrink):
    """RAdam, the flat pass (``s1, s2 = exp_avg, exp_avg_sq``)."""
    threshold, positive = _penalty_form(threshold, kind)
    n = w.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        _radam_segment(w[lo:hi], g[lo:hi], s1[lo:hi], s2[lo:hi], s3[lo:hi], hyper, threshold, shift, flag_a,
                       flag_b, positive, shrink)


@njit(cache=True, parallel=True, error_model="numpy")
def radam_group_prox_rows(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, scratch):
    """RAdam, the group pass."""
    for i in prange(w.shape[0]):
        _radam_row(w[i], g[i], s1[i], s2[i], s3[i], hyper, scale, lam[i], tol, max_newton, flag_a, flag_b,
                   scratch[get_thread_id(), 0], scratch[get_thread_id(), 1])


@njit(cache=True, error_model="numpy")
def _adamax_segment(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, shrink):
    _flat_shrink(ADAMAX, w, g, s1, s2, s3, hyper, threshold, shift, False, False, positive, shrink)


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def _adamax_row(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, c, y):
    _row(ADAMAX, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, False, False, c, y)


@njit(cache=True, parallel=True, error_model="numpy")
def adamax_prox_flat(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, kind, shrink):
    """Adamax, the flat pass (``s1, s2 = exp_avg, exp_inf``)."""
    threshold, positive = _penalty_form(threshold, kind)
    n = w.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        _adamax_segment(w[lo:hi], g[lo:hi], s1[lo:hi], s2[lo:hi], s3[lo:hi], hyper, threshold, shift, flag_a,
                        flag_b, positive, shrink)


@njit(cache=True, parallel=True, error_model="numpy")
def adamax_group_prox_rows(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, scratch):
    """Adamax, the group pass."""
    for i in prange(w.shape[0]):
        _adamax_row(w[i], g[i], s1[i], s2[i], s3[i], hyper, scale, lam[i], tol, max_newton, flag_a, flag_b,
                    scratch[get_thread_id(), 0], scratch[get_thread_id(), 1])


@njit(cache=True, error_model="numpy")
def _rmsprop_segment(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, shrink):
    if flag_a:
        if flag_b:
            _flat_shrink(RMSPROP, w, g, s1, s2, s3, hyper, threshold, shift, True, True, positive, shrink)
        else:
            _flat_shrink(RMSPROP, w, g, s1, s2, s3, hyper, threshold, shift, True, False, positive, shrink)
    elif flag_b:
        _flat_shrink(RMSPROP, w, g, s1, s2, s3, hyper, threshold, shift, False, True, positive, shrink)
    else:
        _flat_shrink(RMSPROP, w, g, s1, s2, s3, hyper, threshold, shift, False, False, positive, shrink)


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def _rmsprop_row(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, c, y):
    if flag_a:
        if flag_b:
            _row(RMSPROP, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, True, True, c, y)
        else:
            _row(RMSPROP, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, True, False, c, y)
    elif flag_b:
        _row(RMSPROP, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, False, True, c, y)
    else:
        _row(RMSPROP, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, False, False, c, y)


@njit(cache=True, parallel=True, error_model="numpy")
def rmsprop_prox_flat(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, kind, shrink):
    """RMSprop, the flat pass (``s1, s2, s3 = square_avg, momentum_buffer, grad_avg``)."""
    threshold, positive = _penalty_form(threshold, kind)
    n = w.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        _rmsprop_segment(w[lo:hi], g[lo:hi], s1[lo:hi], s2[lo:hi], s3[lo:hi], hyper, threshold, shift, flag_a,
                         flag_b, positive, shrink)


@njit(cache=True, parallel=True, error_model="numpy")
def rmsprop_group_prox_rows(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, scratch):
    """RMSprop, the group pass."""
    for i in prange(w.shape[0]):
        _rmsprop_row(w[i], g[i], s1[i], s2[i], s3[i], hyper, scale, lam[i], tol, max_newton, flag_a, flag_b,
                     scratch[get_thread_id(), 0], scratch[get_thread_id(), 1])


@njit(cache=True, error_model="numpy")
def _adagrad_segment(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, positive, shrink):
    _flat_shrink(ADAGRAD, w, g, s1, s2, s3, hyper, threshold, shift, False, False, positive, shrink)


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def _adagrad_row(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, c, y):
    _row(ADAGRAD, w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, False, False, c, y)


@njit(cache=True, parallel=True, error_model="numpy")
def adagrad_prox_flat(w, g, s1, s2, s3, hyper, threshold, shift, flag_a, flag_b, kind, shrink):
    """Adagrad, the flat pass (``s1 = sum``)."""
    threshold, positive = _penalty_form(threshold, kind)
    n = w.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        _adagrad_segment(w[lo:hi], g[lo:hi], s1[lo:hi], s2[lo:hi], s3[lo:hi], hyper, threshold, shift, flag_a,
                         flag_b, positive, shrink)


@njit(cache=True, parallel=True, error_model="numpy")
def adagrad_group_prox_rows(w, g, s1, s2, s3, hyper, scale, lam, tol, max_newton, flag_a, flag_b, scratch):
    """Adagrad, the group pass."""
    for i in prange(w.shape[0]):
        _adagrad_row(w[i], g[i], s1[i], s2[i], s3[i], hyper, scale, lam[i], tol, max_newton, flag_a, flag_b,
                     scratch[get_thread_id(), 0], scratch[get_thread_id(), 1])
