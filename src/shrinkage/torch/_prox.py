"""The proximal operators of :mod:`shrinkage.penalties` as in-place tensor operations.

The numba kernels (``shrinkage._kernels.prox``) work on float64 NumPy vectors; PyTorch parameters
are float32/float64 tensors on CPU or CUDA, so the same formulas are written here with tensor ops
and checked against the penalty objects' own ``prox`` in ``tests/test_torch.py``::

    separable (L1, L2, ElasticNet), step t (a number, or a tensor of per-coordinate steps):
        w <- S(w, t l1) / (1 + t l2)        S(v, a) = v - clamp(v, -a, a) = sign(v) max(|v| - a, 0)
        positive: w <- max(w - t l1, 0) / (1 + t l2)
    GroupLasso, one group g, scalar step t:
        w_g <- w_g max(1 - t alpha f_g / ||w_g||, 0)

``l1 = alpha * l1_ratio * f`` and ``l2 = alpha * (1 - l1_ratio) * f`` come from ``Penalty.lower``,
so the strengths are the penalty object's own numbers. A tensor step ``t_j`` is the prox in the
diagonal metric ``diag(1 / t_j)`` (Adam's): for separable penalties it is the same formula
coordinate by coordinate (with ``t_j = s / d_j`` computed as ``S(w d, s l1) / (d + s l2)``);
for GroupLasso it has no closed form and is found by Newton's method on the secular equation
(see :func:`_group_prox_metric_`).
"""

from numbers import Real

import numpy as np
import torch

from ..penalties import GroupLasso, Penalty

_MAX_NEWTON = 50


def check_penalty(penalty, param=None):
    """Raise a clear error when ``penalty`` cannot act on ``param`` (a tensor)."""
    if not isinstance(penalty, (Penalty, GroupLasso)):
        raise TypeError("penalty must be a shrinkage penalty (L1, L2, ElasticNet or GroupLasso), "
                        f"got {type(penalty).__name__}")
    alpha = penalty.alpha
    if not isinstance(alpha, Real) or not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"penalty alpha must be a finite non-negative number, got {alpha!r}")
    if param is None:
        return
    if not isinstance(param, torch.Tensor):
        raise TypeError(f"a penalty acts on tensors, got {type(param).__name__}")
    if not param.is_floating_point():
        raise TypeError(f"{penalty!r} needs a floating-point tensor, got dtype {param.dtype}")
    if isinstance(penalty, GroupLasso):
        axis = penalty.axis(param.dim())
        if penalty.weights is not None and penalty.weights.shape[0] != param.shape[axis]:
            raise ValueError(f"GroupLasso weights have {penalty.weights.shape[0]} entries but the "
                             f"tensor has {param.shape[axis]} groups along dim {penalty.dim}")
    elif penalty.weights is not None:
        if param.dim() == 0 or penalty.weights.shape[0] != param.shape[-1]:
            raise ValueError(f"penalty weights have {penalty.weights.shape[0]} entries; they apply "
                             f"along the last dimension of the tensor, of shape {tuple(param.shape)}")


def strengths(penalty, param):
    """``(l1, l2)``: numbers, or tensors along ``param``'s last dimension when the penalty has weights."""
    if penalty.weights is None:
        return penalty.alpha * penalty.l1_ratio, penalty.alpha * (1.0 - penalty.l1_ratio)
    l1, l2 = penalty.lower(param.shape[-1])
    return (torch.as_tensor(l1, dtype=param.dtype, device=param.device),
            torch.as_tensor(l2, dtype=param.dtype, device=param.device))


class Metric:
    """Per-coordinate steps ``t_j = scale / denom_j`` (Adam: ``lr / (sqrt(v_hat_j) + eps)``).

    Kept as the pair so that the separable prox needs no tensor of thresholds:
    ``S(w, t l1) / (1 + t l2) = S(w denom, scale l1) / (denom + scale l2)``.
    """

    __slots__ = ("denom", "owned", "scale")

    def __init__(self, scale, denom, owned=True):
        self.scale = float(scale)
        self.denom = denom
        self.owned = owned      # True: a temporary the prox may overwrite

    def steps(self):
        return self.denom.reciprocal().mul_(self.scale)


@torch.no_grad()
def prox_(param, penalty, step):
    """Replace ``param`` in place by the proximal point of ``penalty`` with step ``step``.

    Parameters
    ----------
    param : torch.Tensor
        A floating-point tensor (CPU or CUDA); it is overwritten.
    penalty : L1, L2, ElasticNet or GroupLasso
    step : float, torch.Tensor or Metric
        The step ``t`` of ``argmin_x ||x - w||^2 / (2 t) + penalty(x)``; a tensor of the shape of
        ``param`` (or a :class:`Metric`) gives the prox in the diagonal metric ``diag(1 / t)``:
        ``argmin_x sum_j (x_j - w_j)^2 / (2 t_j) + penalty(x)``.

    Returns
    -------
    param
    """
    if isinstance(penalty, GroupLasso):
        return _group_prox_(param, penalty, step.steps() if isinstance(step, Metric) else step)
    l1, l2 = strengths(penalty, param)
    if isinstance(step, Metric):
        return _separable_metric_(param, penalty.positive, step, l1, l2)
    threshold = step * l1
    if penalty.positive:
        param.sub_(threshold).clamp_min_(0.0)
    elif isinstance(threshold, torch.Tensor):
        param.sub_(torch.clamp(param, min=-threshold, max=threshold))
    elif threshold > 0:
        # softshrink is S(v, a) in one fused pass, written back into the parameter
        torch._C._nn.softshrink(param, threshold, out=param)
    if isinstance(l2, torch.Tensor) or l2 > 0:
        param.div_(1.0 + step * l2)
    return param


def _separable_metric_(param, positive, metric, l1, l2):
    # S(w, (s / d) l1) / (1 + (s / d) l2) = S(w d, s l1) / (d + s l2), computed in place in the
    # parameter: five passes over memory and no temporary beyond d (half the cost of forming
    # a threshold tensor)
    threshold = metric.scale * l1
    shrink = isinstance(l2, torch.Tensor) or l2 > 0
    if not (positive or shrink or isinstance(threshold, torch.Tensor) or threshold > 0):
        return param
    denom = metric.denom
    param.mul_(denom)
    if positive:
        param.sub_(threshold).clamp_min_(0.0)
    elif isinstance(threshold, torch.Tensor):
        param.sub_(torch.clamp(param, min=-threshold, max=threshold))
    elif threshold > 0:
        torch._C._nn.softshrink(param, threshold, out=param)
    if shrink:
        denom = denom.add_(metric.scale * l2) if metric.owned else denom + metric.scale * l2
    return param.div_(denom)


def _grouped(param, axis):
    """``param`` as a ``(n_groups, group_size)`` view (a copy when the layout forbids a view)."""
    moved = param.movedim(axis, 0)
    return moved.reshape(moved.shape[0], -1)


def _write_back(param, axis, groups):
    if groups.untyped_storage().data_ptr() != param.untyped_storage().data_ptr():
        param.movedim(axis, 0).copy_(groups.reshape(param.movedim(axis, 0).shape))


def _group_prox_(param, penalty, step):
    axis = penalty.axis(param.dim())
    groups = _grouped(param, axis)
    strength = torch.as_tensor(penalty.group_strengths(groups.shape[0]), dtype=param.dtype,
                               device=param.device)
    if isinstance(step, torch.Tensor):
        _group_prox_metric_(groups, strength, _grouped(step.expand_as(param), axis))
    else:
        threshold = step * strength
        norms = torch.linalg.vector_norm(groups, dim=1)
        scale = torch.where(norms > threshold, 1.0 - threshold / norms, torch.zeros_like(norms))
        groups.mul_(scale[:, None])
    _write_back(param, axis, groups)
    return param


def _group_prox_metric_(v, strength, step):
    """In place: each row ``v_g`` <- ``argmin_x sum_j (x_j - v_gj)^2 / (2 t_gj) + lam_g ||x||``.

    Optimality gives ``x_j = v_j r / (r + t_j lam)`` with ``r = ||x||``, so ``r`` is the root of the
    secular equation ``||y(r)|| = 1``, ``y_j = v_j / (r + t_j lam)``; ``x = 0`` exactly when
    ``||v / t|| <= lam``. ``phi(r) = 1 - 1/||y(r)||`` is concave and increasing (Moré & Sorensen's
    trust-region argument), so Newton's method from a point below the root climbs monotonically to
    it; ``r0 = ||v|| - max_j t_j lam`` is below the root (and the root itself when all ``t_j`` are
    equal, where the result is block soft-thresholding).
    """
    c = step * strength[:, None]
    alive = torch.linalg.vector_norm(v / step, dim=1) > strength
    r = (torch.linalg.vector_norm(v, dim=1) - c.amax(dim=1)).clamp_min(0.0)
    tol = 8 * torch.finfo(v.dtype).eps
    # Newton steps on the groups still moving only: after two steps few groups are left
    active = torch.nonzero(alive).flatten()
    for _ in range(_MAX_NEWTON):
        if active.numel() == 0:
            break
        whole = active.numel() == v.shape[0]
        va, ca, ra = (v, c, r) if whole else (v[active], c[active], r[active])
        shifted = ra[:, None] + ca
        y2 = (va / shifted).square_()
        norm2 = y2.sum(dim=1)
        dpsi = -2.0 * y2.div_(shifted).sum(dim=1)       # d||y||^2 / dr
        below = norm2 > 1.0                                # still left of the root
        new = torch.where(below, ra - 2.0 * (norm2 * norm2.sqrt() - norm2) / dpsi, ra)
        # the iterates increase to the root; a group is done when it no longer moves
        moving = below & ((new - ra) > tol * new.abs())
        r[active] = new
        active = active[moving]
    # x = v r / (r + t lam), with the buffers reused (fresh 4-byte-per-weight temporaries cost more
    # than the arithmetic); groups at zero are set to exactly zero
    scale = torch.div(r[:, None], c.add_(r[:, None]), out=c)
    v.mul_(scale)
    if not bool(alive.all()):
        v.masked_fill_(~alive[:, None], 0.0)
    return v
