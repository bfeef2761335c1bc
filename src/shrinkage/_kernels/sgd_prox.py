"""SGD's update and the proximal step in one pass over memory (the proximal optimizers' CPU path).

As ``adaptive_prox`` for Adam: each coordinate is read once, updated as PyTorch's single-tensor SGD
updates it,

    g <- -g if maximize;    g <- g + wd w
    b <- mu b + (1 - dampening) g;    g <- g + mu b (Nesterov)  or  g <- b      (with momentum mu)
    w <- w - lr g

and proximally stepped with the scalar step ``t`` of ``Proximal``'s table (``lr``, or
``lr (1 - d) / (1 - mu)`` with momentum): ``w <- S(w, t l1) / (1 + t l2)`` for the separable
penalties; for the group lasso over rows, each row is updated while it sits in cache and then
block soft-thresholded, ``w_g <- w_g max(1 - t lam_g / ||w_g||, 0)``.
"""

import numpy as np

from ._jit import njit, prange
from .adaptive_prox import NO_PROX, POSITIVE, SOFT
from .prox import soft_threshold_select
from .prox_metric import BLOCK, _block_shrink


@njit(cache=True, inline="always")
def _update(w, g, buf, j, hyper, momentum, nesterov):
    """SGD's update of coordinate ``j`` (``buf`` written with momentum); returns the new ``w_j``."""
    sign, wd, mu, fresh, lr = hyper
    wj = w[j]
    grad = sign * g[j] + wd * wj
    if momentum:
        b = mu * buf[j] + fresh * grad
        buf[j] = b
        grad = grad + mu * b if nesterov else b
    return wj - lr * grad


@njit(cache=True, inline="always")
def _flat_loop(w, g, buf, hyper, threshold, divisor, momentum, nesterov, kind, shrink):
    zero = threshold - threshold
    for j in range(w.shape[0]):
        wj = _update(w, g, buf, j, hyper, momentum, nesterov)
        if kind == SOFT:
            wj = soft_threshold_select(wj, threshold)
        elif kind == POSITIVE:
            wj = max(wj - threshold, zero)
        if shrink:
            wj = wj / divisor
        w[j] = wj


@njit(cache=True, inline="always")
def _flat_kinds(w, g, buf, hyper, threshold, divisor, momentum, nesterov, kind, shrink):
    if kind == SOFT:
        if shrink:
            _flat_loop(w, g, buf, hyper, threshold, divisor, momentum, nesterov, SOFT, True)
        else:
            _flat_loop(w, g, buf, hyper, threshold, divisor, momentum, nesterov, SOFT, False)
    elif kind == POSITIVE:
        if shrink:
            _flat_loop(w, g, buf, hyper, threshold, divisor, momentum, nesterov, POSITIVE, True)
        else:
            _flat_loop(w, g, buf, hyper, threshold, divisor, momentum, nesterov, POSITIVE, False)
    elif shrink:
        _flat_loop(w, g, buf, hyper, threshold, divisor, momentum, nesterov, NO_PROX, True)
    else:
        _flat_loop(w, g, buf, hyper, threshold, divisor, momentum, nesterov, NO_PROX, False)


@njit(cache=True, error_model="numpy")
def _flat_segment(w, g, buf, hyper, threshold, divisor, momentum, nesterov, kind, shrink):
    # the flags as constants around whole loops (see adaptive_prox._flat_blocks)
    if momentum:
        if nesterov:
            _flat_kinds(w, g, buf, hyper, threshold, divisor, True, True, kind, shrink)
        else:
            _flat_kinds(w, g, buf, hyper, threshold, divisor, True, False, kind, shrink)
    else:
        _flat_kinds(w, g, buf, hyper, threshold, divisor, False, False, kind, shrink)


@njit(cache=True, parallel=True, error_model="numpy")
def sgd_prox_flat(w, g, buf, hyper, threshold, divisor, momentum, nesterov, kind, shrink):
    """SGD's update and the separable prox of flat arrays, in place.

    ``hyper = (sign, wd, mu, 1 - dampening, lr)`` in the arrays' dtype (``sign`` -1 to maximize);
    ``threshold = t l1``, ``divisor = 1 + t l2`` (used with ``shrink``); ``kind`` one of
    ``adaptive_prox.NO_PROX, SOFT, POSITIVE``. ``buf`` (the momentum buffer) is read and written only
    with ``momentum`` (pass ``w`` otherwise).
    """
    n = w.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        _flat_segment(w[lo:hi], g[lo:hi], buf[lo:hi], hyper, threshold, divisor, momentum, nesterov, kind,
                      shrink)


@njit(cache=True, inline="always")
def _row_update(w, g, buf, hyper, momentum, nesterov):
    """SGD's update of one row (written); returns ``||w||^2`` accumulated in float64."""
    norm2 = 0.0
    for j in range(w.shape[0]):
        wj = _update(w, g, buf, j, hyper, momentum, nesterov)
        w[j] = wj
        norm2 += np.float64(wj) ** 2
    return norm2


@njit(cache=True, parallel=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def sgd_group_prox_rows(w, g, buf, hyper, step, lam, momentum, nesterov):
    """SGD's update of ``(rows, size)`` arrays and block soft-thresholding of each row, in place:
    ``w_i <- w_i max(1 - step lam_i / ||w_i||, 0)`` (``step`` and ``lam`` float64, as
    ``prox_metric.group_prox_scalar``)."""
    for i in prange(w.shape[0]):
        if momentum:
            if nesterov:
                norm2 = _row_update(w[i], g[i], buf[i], hyper, True, True)
            else:
                norm2 = _row_update(w[i], g[i], buf[i], hyper, True, False)
        else:
            norm2 = _row_update(w[i], g[i], buf[i], hyper, False, False)
        _block_shrink(w[i], norm2, step * lam[i])
