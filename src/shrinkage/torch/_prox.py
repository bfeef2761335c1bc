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


# Elements per block of the CPU prox (256 KiB of float32). A parameter of 10M weights is 40 MB, far
# beyond the caches; done tensor-wide, each of the prox's element-wise operations is one pass over
# memory. Done block by block, a block stays in L2 between its operations, so memory sees about one
# read of the weights and of the optimizer's state and one write of the weights. On CUDA the
# tensor-wide operations are cheap and per-block kernel launches would not be, so no blocks there.
CHUNK = 1 << 16
# Newton's method per group runs ~50 small tensor operations per block whatever its size: blocks of
# the group prox in a metric are larger, so that this per-block cost stays small.
GROUP_CHUNK = 1 << 18


class Metric:
    """Per-coordinate steps ``t_j = scale / d_j`` (Adam: ``lr / (sqrt(v_hat_j) + eps)``).

    ``d_j = sqrt(denom_j) + eps`` when ``root`` (the optimizers' second-moment state, read as it is:
    the denominators are formed block by block where the prox needs them, never as a whole
    tensor), else ``d_j = denom_j + eps``. Kept as the pair so that the separable prox needs no
    tensor of thresholds: ``S(w, t l1) / (1 + t l2) = S(w d, scale l1) / (d + scale l2)``.
    """

    __slots__ = ("denom", "eps", "owned", "root", "scale")

    def __init__(self, scale, denom, owned=True, *, root=False, eps=0.0):
        self.scale = float(scale)
        self.denom = denom
        self.owned = owned      # True: a temporary of the wrapper's (the optimizer's state is not)
        self.root = root
        self.eps = float(eps)

    def denominators(self, source=None, out=None):
        """``d`` over ``source`` (a block of ``denom``; all of it by default), in ``out`` when given.

        Without ``out`` the result may be ``source`` itself (not to be written to) when no
        arithmetic is needed.
        """
        source = self.denom if source is None else source
        if self.root:
            d = source.sqrt() if out is None else torch.sqrt(source, out=out)
            return d.add_(self.eps)
        if self.eps:
            return torch.add(source, self.eps, out=out) if out is not None else source + self.eps
        return source if out is None else out.copy_(source)

    def steps(self, source=None):
        """The steps ``t = scale / d`` over ``source`` (all of ``denom`` by default), a new tensor."""
        d = self.denominators(source)
        d = d.reciprocal() if d is source or d is self.denom else d.reciprocal_()
        return d.mul_(self.scale)


def _blockable(param, *others):
    """Whether ``param`` (and same-shape ``others``) can be walked block by block as flat views."""
    return (param.device.type == "cpu" and param.numel() > CHUNK and param.is_contiguous()
            and all(o.shape == param.shape and o.is_contiguous() for o in others))


def _row_blocks(rows, *others, width, size=None):
    """Matching slices of the 2-D tensors ``rows, *others``: blocks of about ``size`` elements."""
    n = rows.shape[0]
    step = max(1, (CHUNK if size is None else size) // max(width, 1))
    for start in range(0, n, step):
        yield (rows[start:start + step], *(o[start:start + step] for o in others))


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
        return _group_prox_(param, penalty, step)
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
    # S(w, (s / d) l1) / (1 + (s / d) l2) = S(w d, s l1) / (d + s l2): no tensor of thresholds.
    # On CPU block by block (see CHUNK): d of a block is formed into one reused buffer and the
    # five element-wise operations run on data in cache; every element sees the same operations
    # as tensor-wide, so the result is the same to the bit.
    threshold = metric.scale * l1
    shift = metric.scale * l2
    per_feature = isinstance(threshold, torch.Tensor) or isinstance(shift, torch.Tensor)
    shrink = isinstance(shift, torch.Tensor) or shift > 0
    if not (positive or shrink or isinstance(threshold, torch.Tensor) or threshold > 0):
        return param
    source = metric.denom
    if not _blockable(param, source):
        d = metric.denominators()
        own = d is not source or metric.owned
        return _separable_block_(param, d, own, None, positive, threshold, shrink, shift)
    # per-feature strengths broadcast along the last dimension: whole rows per block
    width = param.shape[-1] if per_feature else 1
    buffer = torch.empty(max(width, CHUNK // max(width, 1) * width) if per_feature else CHUNK,
                         dtype=param.dtype)
    for w, v in _row_blocks(param.view(-1, width), source.view(-1, width), width=width):
        out = buffer[:w.numel()].view(w.shape)
        d = metric.denominators(v, out=out if metric.root else None)
        _separable_block_(w, d, d is out, out, positive, threshold, shrink, shift)
    return param


def _separable_block_(w, d, own, spare, positive, threshold, shrink, shift):
    """``w <- S(w d, threshold) / (d + shift)`` in place; ``d`` may be overwritten when ``own``."""
    w.mul_(d)
    if positive:
        w.sub_(threshold).clamp_min_(0.0)
    elif isinstance(threshold, torch.Tensor):
        w.sub_(torch.clamp(w, min=-threshold, max=threshold))
    elif threshold > 0:
        torch._C._nn.softshrink(w, threshold, out=w)
    if shrink:
        d = d.add_(shift) if own else (d + shift if spare is None else torch.add(d, shift, out=spare))
    return w.div_(d)


def _grouped(param, axis):
    """``param`` as a ``(n_groups, group_size)`` view (a copy when the layout forbids a view)."""
    moved = param.movedim(axis, 0)
    return moved.reshape(moved.shape[0], -1)


def _write_back(param, axis, groups):
    if groups.untyped_storage().data_ptr() != param.untyped_storage().data_ptr():
        param.movedim(axis, 0).copy_(groups.reshape(param.movedim(axis, 0).shape))


def _group_prox_(param, penalty, step):
    # groups as rows; in a metric, on CPU, a block of whole rows at a time (see GROUP_CHUNK), so
    # that Newton's iterations run on rows in cache
    axis = penalty.axis(param.dim())
    groups = _grouped(param, axis)
    strength = torch.as_tensor(penalty.group_strengths(groups.shape[0]), dtype=param.dtype,
                               device=param.device)
    width = groups.shape[1]
    blocked = param.device.type == "cpu"
    if isinstance(step, (Metric, torch.Tensor)):
        source = step.denom if isinstance(step, Metric) else step.expand_as(param)
        source = _grouped(source, axis)
        blocks = (_row_blocks(groups, source, strength, width=width, size=GROUP_CHUNK) if blocked
                  else [(groups, source, strength)])
        for rows, s, lam in blocks:
            if isinstance(step, Metric):
                # t = scale / d: c = t lam = (scale lam) / d, and ||v / t|| > lam iff ||v d|| > scale lam
                d = step.denominators(s)
                bound = step.scale * lam
                c = torch.div(bound[:, None], d)
                alive = torch.linalg.vector_norm(rows * d, dim=1) > bound
            else:
                c = s * lam[:, None]
                alive = torch.linalg.vector_norm(rows / s, dim=1) > lam
            _group_prox_metric_(rows, c, alive)
    else:
        # block soft-thresholding: two passes tensor-wide (blocks measured slower here)
        threshold = step * strength
        norms = torch.linalg.vector_norm(groups, dim=1)
        scale = torch.where(norms > threshold, 1.0 - threshold / norms, torch.zeros_like(norms))
        groups.mul_(scale[:, None])
    _write_back(param, axis, groups)
    return param


def _group_prox_metric_(v, c, alive):
    """In place: each row ``v_g`` <- ``argmin_x sum_j (x_j - v_gj)^2 / (2 t_gj) + lam_g ||x||``.

    ``c = t lam`` (a temporary, overwritten) and ``alive``, whether ``||v_g / t_g|| > lam_g``.
    Optimality gives ``x_j = v_j r / (r + c_j)`` with ``r = ||x||``, so ``r`` is the root of the
    secular equation ``||y(r)|| = 1``, ``y_j = v_j / (r + c_j)``; ``x = 0`` exactly when
    ``||v / t|| <= lam``. ``phi(r) = 1 - 1/||y(r)||`` is concave and increasing (Moré & Sorensen's
    trust-region argument), so Newton's method from a point below the root climbs monotonically to
    it. The start ``r0 = ||v|| - c_bar``, ``c_bar = sum_j v_j^2 c_j / ||v||^2``, is below the root:
    ``1/x^2`` is convex, so by Jensen ``||y(r)||^2 >= ||v||^2 / (r + c_bar)^2``, which is 1 at
    ``r0``. It is the root itself when all ``c_j`` are equal (block soft-thresholding), and close to
    it otherwise: one Newton step settles most groups.
    """
    v2 = v.square()
    norm2 = v2.sum(dim=1)
    c_bar = torch.linalg.vecdot(v2, c) / norm2
    # (0 for a group whose squares underflow: still below the root)
    r = (norm2.sqrt_() - c_bar).nan_to_num_(nan=0.0).clamp_min_(0.0)
    del v2
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
