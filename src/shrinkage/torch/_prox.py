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

Where they apply, fused kernels do the same arithmetic in one pass: numba
(``shrinkage._kernels.prox_metric``) for contiguous float32/float64 CPU tensors, Triton
(``_triton``) for CUDA tensors; the tensor operations below serve everything else and are the
reference the kernels are tested against (``KERNELS = False`` selects them).
"""

import math
import threading
from numbers import Real

import numpy as np
import torch

from .._kernels import prox_metric
from .._kernels._jit import activate as _numba
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
    """``(l1, l2)``: numbers, or tensors along ``param``'s last dimension when the penalty has weights
    (of ``param``'s dtype; float32 for half types, which the prox computes in float32)."""
    if penalty.weights is None:
        return penalty.alpha * penalty.l1_ratio, penalty.alpha * (1.0 - penalty.l1_ratio)
    dtype = torch.float32 if param.dtype in _HALF else param.dtype
    return _on_device(penalty, "lower", param.shape[-1], dtype, param.device,
                      lambda: penalty.lower(param.shape[-1]))


# Per-feature and per-group strengths as tensors on the parameters' device, made once per penalty
# and shape: a copy from host memory to a GPU waits for the kernels queued before it, so making
# them at every step would serialise the prox with the optimizer's step.
_DEVICE_CACHE = {}


def _on_device(penalty, kind, n, dtype, device, values):
    key = (id(penalty), kind, n, dtype, str(device), penalty.alpha, getattr(penalty, "l1_ratio", None))
    hit = _DEVICE_CACHE.get(key)
    if hit is None or hit[0] is not penalty:
        if len(_DEVICE_CACHE) > 256:
            _DEVICE_CACHE.clear()
        arrays = values()
        tensors = tuple(torch.as_tensor(a, dtype=dtype, device=device) for a in arrays)
        hit = _DEVICE_CACHE[key] = (penalty, tensors)      # the penalty kept alive: its id stays its own
    return hit[1]


# Whether the fused kernels run (tests turn them off to compare with the tensor operations).
KERNELS = True


def _triton():
    """The Triton kernels' module, or None where Triton does not import (CPU-only PyTorch builds)."""
    global _TRITON
    if _TRITON is False:
        try:
            from . import _triton as module
        except ImportError:
            module = None
        _TRITON = module
    return _TRITON


_TRITON = False
# The device type whose tensors the one-launch paths give to Triton (a test of the launch plans
# sets "cpu" to run them in Triton's interpreter, TRITON_INTERPRET=1, on a machine without a GPU).
TRITON_DEVICE = "cuda"
_FUSED_DTYPES = (torch.float32, torch.float64)
# what the kernels may read by address: plain tensors (a subclass, e.g. FSDP2's DTensor, may not be
# its own memory)
PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)
_HALF = (torch.float16, torch.bfloat16)     # (the tensor operations compute these in float32)


def _kernel_for(*tensors):
    """``"numba"`` (CPU), ``"triton"`` (CUDA) or None: which fused kernel can take these tensors.

    The kernels need contiguous tensors of one shape; numba float32/float64, Triton any floating type.
    """
    first = tensors[0]
    if not KERNELS or not all(t.is_contiguous() and t.shape == first.shape for t in tensors):
        return None
    if first.device.type == "cpu":
        return "numba" if all(t.dtype in _FUSED_DTYPES and t.dtype == first.dtype for t in tensors) else None
    if first.device.type == "cuda" and _triton() is not None:
        return "triton"
    return None


# Below this many elements a kernel runs on one thread: waking a thread pool costs more than the
# arithmetic (hundreds of microseconds when the other cores are busy).
PARALLEL_MIN = 1 << 20


def _numba_threads(size, parallel_min=None):
    # a large tensor's prox uses as many threads as PyTorch is told to use (numba's pool is capped
    # by its own configuration); numba.set_num_threads costs ~7 us, so only a change is passed on
    threshold = PARALLEL_MIN if parallel_min is None else parallel_min
    wanted = torch.get_num_threads() if size >= threshold else 1
    if getattr(_threads_set, "count", None) == wanted:
        return
    numba = _numba()
    numba.set_num_threads(max(1, min(wanted, numba.config.NUMBA_NUM_THREADS)))
    _threads_set.count = wanted


# the count this module last gave numba.set_num_threads, per thread (numba's setting is per thread)
_threads_set = threading.local()


class Metric:
    """Per-coordinate steps ``t_j = scale / d_j`` (Adam: ``lr / (sqrt(v_hat_j) + eps)``).

    ``d_j = sqrt(denom_j) + eps`` when ``root`` (the optimizers' second-moment state, read as it is:
    the denominators are formed where the prox needs them, never stored as a whole
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
        """``d`` over ``source`` (a part of ``denom``; all of it by default), in ``out`` when given.

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
    with torch.no_grad():
        return _prox_(param, penalty, step)


def prox_params_(items, penalty):
    """The prox of ``penalty`` on each ``(param, step)`` of a parameter group (inside no_grad).

    On CUDA the whole list goes to one Triton launch where it can (one launch costs about what the
    arithmetic on a few million weights does): a separable penalty without per-feature weights or a
    GroupLasso, with one step (a number, or an Adam-family metric) for all; otherwise parameter
    by parameter.
    """
    if len(items) > 1 and isinstance(penalty, GroupLasso):
        launch = group_launch(items, penalty)
        if launch is not None:
            first = items[0][1]
            launch(*((first.scale, first.eps) if isinstance(first, Metric) else (first, 0.0)))
            return
    elif len(items) > 1 and penalty.weights is None and _one_launch(items):
        first = items[0][1]
        l1, l2 = strengths(penalty, items[0][0])
        if penalty.positive or l1 > 0 or l2 > 0:
            params = [p for p, _ in items]
            if isinstance(first, Metric):
                _triton().plan_enet_many(params, [t.denom for _, t in items], first.root, l1, l2,
                                         penalty.positive)(first.scale, first.eps)
            else:
                _triton().plan_enet_many(params, None, False, l1, l2, penalty.positive)(first, 0.0)
        return
    for param, step in items:
        _prox_(param, penalty, step)


def group_launch(items, penalty, counts=None):
    """The GroupLasso prox of ``(param, step)`` pairs as one Triton launch, or None if they can't share one.

    They can when they are CUDA tensors of one floating dtype whose groups form strided 2-D views
    (``dim=0`` of a contiguous tensor, either dim of a contiguous matrix) and their steps are one
    number, or :class:`Metric` s with one ``scale, eps, root`` over state of the same layout. The
    returned :class:`_triton.Launch` is called with ``(scale, eps)`` (``(step, 0)`` for a number),
    or, with Adam's step ``counts`` on the GPU, run as ``_triton.plan_group_many`` says.
    """
    param, first = items[0]
    if not (KERNELS and param.device.type == TRITON_DEVICE and _triton() is not None
            and param.dtype in _triton()._TL_TYPES):
        return None
    if not all(type(p) in PLAIN_TYPES and type(getattr(t, "denom", p)) in PLAIN_TYPES for p, t in items):
        return None
    metric = isinstance(first, Metric)
    if metric:
        common = (first.scale, first.eps, first.root)
    elif isinstance(first, torch.Tensor):
        return None
    rows, denoms = [], []
    for p, t in items:
        if p.device != param.device or p.dtype != param.dtype:
            return None
        if metric:
            if not isinstance(t, Metric) or (t.scale, t.eps, t.root) != common or t.denom.dtype != p.dtype:
                return None
        elif isinstance(t, (Metric, torch.Tensor)) or t != first:
            return None
        axis = penalty.axis(p.dim())
        view = _group_rows(p, axis)
        if view is None:
            return None
        if metric:
            state = _group_rows(t.denom, axis)
            if state is None or state.shape != view.shape or state.stride() != view.stride():
                return None
            denoms.append(state)
        rows.append(view)
    return _triton().plan_group_many(rows, denoms if metric else None, list_strengths(penalty, rows),
                                     metric and first.root, newton_tol(param.dtype), counts)


def list_strengths(penalty, rows):
    """The GroupLasso strengths of the groups of several ``(n_groups, size)`` views, tensor after
    tensor, as one float64 tensor on their device (made once per penalty and list of shapes)."""
    counts = tuple(r.shape[0] for r in rows)
    (lam,) = _on_device(penalty, "groups of a list", counts, torch.float64, rows[0].device,
                        lambda: (np.concatenate([penalty.group_strengths(n) for n in counts]),))
    return lam


def _one_launch(items):
    """Whether the ``(param, step)`` pairs of a separable penalty can share one Triton launch: CUDA
    tensors of one dtype, contiguous, and one step for all — a number, or :class:`Metric` s with one
    scale/eps/root over state of the parameters' dtype and shapes."""
    param, first = items[0]
    if not (KERNELS and param.device.type == TRITON_DEVICE and _triton() is not None
            and param.dtype in _triton()._TL_TYPES and all(
                type(p) in PLAIN_TYPES and p.device == param.device and p.dtype == param.dtype
                and p.is_contiguous() and type(getattr(t, "denom", p)) in PLAIN_TYPES for p, t in items)):
        return False
    if not isinstance(first, Metric):
        return not isinstance(first, torch.Tensor) and all(
            not isinstance(t, (Metric, torch.Tensor)) and t == first for _, t in items)
    common = (first.scale, first.eps, first.root)
    return all(isinstance(t, Metric) and (t.scale, t.eps, t.root) == common and t.denom.dtype == p.dtype
               and t.denom.shape == p.shape and t.denom.is_contiguous() for p, t in items)


def _prox_(param, penalty, step):
    # prox_ without the no_grad context (the optimizer wrapper calls it inside one, per parameter)
    if param.numel() == 0:
        return param        # (a layer of zero units: no kernel launches on an empty grid)
    if _is_dtensor(param):
        return _dtensor_prox_(param, penalty, step)
    if isinstance(penalty, GroupLasso):
        return _group_prox_(param, penalty, step)
    l1, l2 = strengths(penalty, param)
    if isinstance(step, Metric):
        return _separable_metric_(param, penalty.positive, step, l1, l2)
    if param.dtype in _HALF:
        # in float32, rounded once: half-precision tensor operations round a Python number to the
        # tensor's dtype first (bfloat16's w - 0.1 is w - 0.10009765625)
        work = param.float()
        _prox_(work, penalty, step.float() if isinstance(step, torch.Tensor) else step)
        return param.copy_(work)
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


def _is_dtensor(tensor):
    # (torch.distributed may be absent from a build; a DTensor can only exist where it is not)
    dtensor = getattr(getattr(torch, "distributed", None), "tensor", None)
    return dtensor is not None and isinstance(tensor, getattr(dtensor, "DTensor", ()))


def _dtensor_prox_(param, penalty, step):
    """The prox of a DTensor parameter (FSDP2's ``fully_shard``, tensor parallelism), in place.

    Where each shard's prox is its own, on the local shard with its shard of the optimizer's
    state, with no communication: a separable penalty whose per-feature weights (if any) lie along
    an unsharded last dimension; a GroupLasso whose groups are sharded only along the group axis
    (FSDP2's ``Shard(0)`` with ``dim=0``: whole rows on each rank), with the rank's slice of the
    group strengths. Otherwise (groups across shards): on the whole tensor (gathered, the same
    arithmetic on every rank), then each rank keeps its shard. Partial placements (a parameter
    holding unreduced sums) are refused.
    """
    from torch.distributed.tensor import Replicate, Shard

    placements = param.placements
    if not all(isinstance(p, (Shard, Replicate)) for p in placements):
        raise NotImplementedError(f"the prox of a DTensor with placements {placements}: only sharded "
                                  "or replicated parameters (FSDP2, tensor parallelism) are supported")
    ndim = max(param.dim(), 1)
    sharded = {p.dim % ndim for p in placements if isinstance(p, Shard)}
    denom = step.denom if isinstance(step, Metric) else step if isinstance(step, torch.Tensor) else None
    local = denom is None or (_is_dtensor(denom) and denom.placements == placements)
    if isinstance(penalty, GroupLasso):
        axis = penalty.axis(param.dim())
        local = local and sharded <= {axis}
        if local and penalty.weights is not None and sharded:
            # the rank's groups are rows offset.. of the whole tensor's: a penalty with their
            # strengths (made once per penalty and shard: its strengths are cached by identity)
            shape, offset = _shard_box(param)
            key = (id(penalty), penalty.alpha, param.shape[axis], offset[axis], shape[axis])
            held = _SHARD_PENALTIES.get(key)
            if held is None or held[0] is not penalty:
                if len(_SHARD_PENALTIES) > 256:
                    _SHARD_PENALTIES.clear()
                lam = penalty.group_strengths(param.shape[axis])[offset[axis]:offset[axis] + shape[axis]]
                held = _SHARD_PENALTIES[key] = (penalty, GroupLasso(1.0, dim=penalty.dim, weights=lam))
            penalty = held[1]
    else:
        local = local and (penalty.weights is None or param.dim() - 1 not in sharded)
    if local:
        if isinstance(step, Metric):
            step = Metric(step.scale, step.denom.to_local(), owned=step.owned, root=step.root, eps=step.eps)
        elif denom is not None:
            step = step.to_local()
        _prox_(param.to_local(), penalty, step)
        return param
    whole = param.full_tensor()
    if isinstance(step, Metric):
        step = Metric(step.scale, _whole(step.denom), owned=True, root=step.root, eps=step.eps)
    elif denom is not None:
        step = _whole(step)
    _prox_(whole, penalty, step)
    # (every rank holds the same whole tensor: its shard is cut locally, nothing is sent)
    shape, offset = _shard_box(param)
    param.to_local().copy_(whole[tuple(slice(o, o + n) for o, n in zip(offset, shape, strict=True))])
    return param


def _shard_box(param):
    """``(local shape, global offset)`` of this rank's shard of a DTensor (only where the prox
    needs it: the shard's group strengths, or its slice of a gathered tensor)."""
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    return compute_local_shape_and_global_offset(param.shape, param.device_mesh, param.placements)


# a sharded GroupLasso's penalty on one shard's groups, by (penalty, shard); the penalty kept alive
_SHARD_PENALTIES = {}


def _whole(tensor):
    return tensor.full_tensor() if _is_dtensor(tensor) else tensor


def _separable_metric_(param, positive, metric, l1, l2):
    # S(w, (s / d) l1) / (1 + (s / d) l2): one fused pass over the weights and the optimizer's
    # state where a kernel takes them, else the tensor operations below
    threshold = metric.scale * l1
    shift = metric.scale * l2
    shrink = isinstance(shift, torch.Tensor) or shift > 0
    if not (positive or shrink or isinstance(threshold, torch.Tensor) or threshold > 0):
        return param
    source = metric.denom
    kernel = _kernel_for(param, source)
    if kernel == "numba":
        _numba_threads(param.numel())
        w, v = param.detach().numpy(), source.detach().numpy()
        # the scalars in the parameter's precision, so that the kernel's loop stays in it
        typed = w.dtype.type
        if isinstance(threshold, torch.Tensor):
            thr, sh = (np.ascontiguousarray(t.cpu().numpy(), dtype=w.dtype) for t in (threshold, shift))
            prox_metric.prox_enet_metric_rows(w.reshape(-1, w.shape[-1]), v.reshape(-1, v.shape[-1]),
                                              typed(metric.eps), metric.root, thr, sh, positive)
        else:
            prox_metric.prox_enet_metric_flat(w.reshape(-1), v.reshape(-1), typed(metric.eps), metric.root,
                                              typed(threshold), typed(shift), positive)
        return param
    if kernel == "triton":
        if isinstance(l1, torch.Tensor):
            l1, l2 = (t.to(device=param.device, dtype=torch.float64) for t in (l1, l2))
        else:
            l1, l2 = float(l1), float(l2)
        return _triton().enet_metric_(param, source, metric.scale, metric.eps, metric.root, l1, l2,
                                      positive)
    if param.dtype in _HALF:
        # half precision: w d is rounded before the threshold is taken off, so near the threshold
        # the result's error is the size of the weights' last bits, not the result's; in float32,
        # rounded once at the end, it is the result's own rounding
        w = param.float()
        _separable_block_(w, metric.denominators(source.float()), True, None, positive, threshold, shrink,
                          shift)
        return param.copy_(w)
    d = metric.denominators()
    own = d is not source or metric.owned
    return _separable_block_(param, d, own, None, positive, threshold, shrink, shift)


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
    return moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))     # (-1 is ambiguous when empty)


def _write_back(param, axis, groups):
    if groups.untyped_storage().data_ptr() != param.untyped_storage().data_ptr():
        param.movedim(axis, 0).copy_(groups.reshape(param.movedim(axis, 0).shape))


def _group_rows(param, axis):
    """``param`` as a ``(n_groups, group_size)`` strided view, or None when no view exists."""
    if axis == 0:
        return param.view(param.shape[0], math.prod(param.shape[1:])) if param.is_contiguous() else None
    if param.dim() == 2 and axis == 1:
        return param.t() if param.is_contiguous() else None
    return None


def newton_tol(dtype):
    """The relative tolerance of the group prox's Newton iterates for parameters of ``dtype``: a
    few units in the last place of the precision they are computed in (float32 for half types)."""
    return 8 * torch.finfo(torch.float32 if dtype in _HALF else dtype).eps


def newton_scratch(rows):
    """The metric group prox kernels' scratch for ``rows`` (a 2-D array): two rows of its width per
    numba thread, of its dtype (``prox_metric.group_prox_metric``)."""
    return np.empty((_numba().config.NUMBA_NUM_THREADS, 2, rows.shape[1]), dtype=rows.dtype)


def _group_prox_(param, penalty, step):
    axis = penalty.axis(param.dim())
    n_groups = param.shape[axis]
    lam = penalty.group_strengths(n_groups)
    tol = newton_tol(param.dtype)
    metric = isinstance(step, Metric)
    if metric or not isinstance(step, torch.Tensor):
        rows = _group_rows(param, axis)
        denom = _group_rows(step.denom, axis) if metric else None
        kernel = (None if rows is None or (metric and denom is None)
                  else _kernel_for(param, step.denom) if metric else _kernel_for(param))
        if kernel == "numba":
            _numba_threads(param.numel())
            g = rows.detach().numpy()
            if metric:
                typed = g.dtype.type       # the arithmetic in the parameter's precision
                scratch = newton_scratch(g)
                prox_metric.group_prox_metric(g, denom.detach().numpy(), typed(step.scale), typed(step.eps),
                                              step.root, np.asarray(lam, dtype=g.dtype), typed(tol),
                                              _MAX_NEWTON, scratch)
            else:
                prox_metric.group_prox_scalar(g, float(step), np.asarray(lam, dtype=np.float64))
            return param
        if kernel == "triton":
            (lam,) = _on_device(penalty, "groups", n_groups, torch.float64, param.device, lambda: (lam,))
            if metric:
                _triton().group_(rows, denom, lam, step.scale, step.eps, step.root, True, tol)
            else:
                _triton().group_(rows, None, lam, float(step), 0.0, False, False, tol)
            return param
    # the tensor operations: groups as rows of a (possibly copied) 2-D tensor; half precision in
    # float32 (norms, Newton's iterates and the scale rounded once, when written back)
    groups = _grouped(param, axis)
    if groups.dtype in _HALF:
        groups = groups.float()
    (strength,) = _on_device(penalty, "groups", n_groups, groups.dtype, param.device, lambda: (lam,))
    if isinstance(step, (Metric, torch.Tensor)):
        source = _grouped(step.denom if metric else step.expand_as(param), axis).to(groups.dtype)
        if metric:
            # t = scale / d: c = t lam = (scale lam) / d, and ||v / t|| > lam iff ||v d|| > scale lam
            d = step.denominators(source)
            bound = step.scale * strength
            c = torch.div(bound[:, None], d)
            alive = torch.linalg.vector_norm(groups * d, dim=1) > bound
        else:
            c = source * strength[:, None]
            alive = torch.linalg.vector_norm(groups / source, dim=1) > strength
        _group_prox_metric_(groups, c, alive)
    else:
        # block soft-thresholding
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
    tol = newton_tol(v.dtype)
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
