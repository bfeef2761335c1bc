"""Adam's (AdamW's) update and the proximal step as one pass over each CPU parameter.

``Proximal(Adam)`` would otherwise run PyTorch's step — on a CPU, by default, a sequence of tensor
operations that each sweep the parameter and its state — and then the prox, one more sweep over the
weights and second moments. The kernels of ``shrinkage._kernels.adam_prox`` do the update exactly as
PyTorch's single-tensor Adam writes it and the prox while each coordinate (each row, for the group
lasso) is in cache: the optimizer's state and the parameters end as PyTorch's step followed by
``apply_prox`` leaves them, to rounding (``tests/test_torch_adam.py``).

The path is taken only where it is the same computation: the optimizer is exactly
``torch.optim.Adam`` or ``AdamW`` (a subclass may change the update), nothing observes its
``step()`` (no step hooks, no learning-rate scheduler's wrapper on it, no gradient scaler's
``grad_scale``), no group is ``capturable`` or ``differentiable``, hyperparameters are numbers, and
every parameter with a gradient is a contiguous float32/float64 CPU tensor with a dense gradient of
its dtype and state PyTorch created (the first step is PyTorch's own, so the state is made as it
makes it). Anything else returns False before touching a tensor, and ``Proximal`` calls the
optimizer's ``step()`` and then the prox.
"""

import math

import numpy as np
import torch
from torch.optim import optimizer as _optimizer_module

from .._kernels import adam_prox
from .._kernels._jit import activate as _numba
from ..penalties import GroupLasso
from . import _prox
from ._prox import Metric, _numba_threads, _prox_, strengths

_ADAM_TYPES = (torch.optim.Adam, torch.optim.AdamW)
_DTYPES = (torch.float32, torch.float64)
# From this many elements the fused step runs on torch.get_num_threads() threads, as the seven
# PyTorch operations it replaces do (ATen's grain size); it does ~4x the prox's work per element.
# Two threads on a 2-core box, whole Proximal.step: 125 -> 96 us at 32768 float32, 175 -> 122 us
# at 65536, 253 -> 175 us at 131072.
PARALLEL_MIN = 1 << 15


def _number(x):
    return float(x.item() if isinstance(x, torch.Tensor) else x)


def may_fuse(optimizer):
    """Whether ``optimizer`` can be stepped here, as far as the optimizer itself tells (its
    parameters are checked by :func:`fused_step`, once their gradients exist)."""
    groups = optimizer.param_groups
    return (type(optimizer) in _ADAM_TYPES and _prox.KERNELS
            # (a GPU step is bound by the host's Python: one look at the first parameter ends it)
            and groups and groups[0]["params"] and groups[0]["params"][0].device.type == "cpu"
            and not (optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks
                     or _optimizer_module._global_optimizer_pre_hooks
                     or _optimizer_module._global_optimizer_post_hooks)
            and "step" not in vars(optimizer)           # wrapped: a scheduler counts the calls
            and getattr(optimizer, "grad_scale", None) is None
            and getattr(optimizer, "found_inf", None) is None)


_PLAIN = (torch.Tensor, torch.nn.Parameter)     # (a tensor subclass may not be plain memory)


def _plain_cpu(tensor, like):
    return (type(tensor) in _PLAIN and tensor.device.type == "cpu" and tensor.layout == torch.strided
            and tensor.dtype == like.dtype and tensor.shape == like.shape and tensor.is_contiguous()
            and not tensor.is_neg())


def _fits(param, state, amsgrad):
    keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("exp_avg", "exp_avg_sq")
    return (param.dtype in _DTYPES and _plain_cpu(param, param) and _plain_cpu(param.grad, param)
            and isinstance(state.get("step"), torch.Tensor)
            and all(isinstance(state.get(k), torch.Tensor) and _plain_cpu(state[k], param) for k in keys))


def fused_step(optimizer):
    """Adam's step of every parameter with a gradient, each followed at once by its group's prox.

    Returns False, having changed nothing, where the path does not apply (module docstring).
    """
    work = []
    for group in optimizer.param_groups:
        if group.get("capturable") or group.get("differentiable"):
            return False
        if any(isinstance(x, torch.Tensor) for x in (*group["betas"], group["eps"], group["weight_decay"])):
            return False
        amsgrad = bool(group.get("amsgrad"))
        for param in group["params"]:
            if param.grad is None:
                continue
            state = optimizer.state.get(param)
            if not state or not _fits(param, state, amsgrad):
                return False
            work.append((group, param, state, amsgrad))
    decoupled_default = type(optimizer) is torch.optim.AdamW
    with torch.no_grad():
        for group, param, state, amsgrad in work:
            _step_param(group, param, state, amsgrad, group.get("decoupled_weight_decay", decoupled_default))
    return True


def _step_param(group, param, state, amsgrad, decoupled):
    state["step"] += 1
    k = _number(state["step"])
    beta1, beta2 = group["betas"]
    lr = _number(group["lr"])
    wd = group["weight_decay"]
    root_b = math.sqrt(1.0 - beta2**k)
    eps_b = group["eps"] * root_b
    typed = np.float32 if param.dtype == torch.float32 else np.float64
    hyper = tuple(typed(x) for x in (
        -1.0 if group.get("maximize") else 1.0,
        0.0 if decoupled else wd,               # Adam: g + wd w
        1.0 - lr * wd if decoupled else 1.0,    # AdamW: w (1 - lr wd) first
        1.0 - beta1, beta2, 1.0 - beta2, lr / (1.0 - beta1**k), root_b, eps_b))
    second = state["max_exp_avg_sq"] if amsgrad else state["exp_avg_sq"]
    w, g, m, v, vmax = (t.detach().numpy() for t in (param, param.grad, state["exp_avg"], state["exp_avg_sq"],
                                                     second))
    if w.size == 0:
        return
    _numba_threads(w.size, PARALLEL_MIN)
    penalty = group.get("penalty")
    if isinstance(penalty, GroupLasso) and w.ndim >= 1 and penalty.axis(w.ndim) == 0:
        rows = [a.reshape(a.shape[0], -1) for a in (w, g, m, v, vmax)]
        lam = np.asarray(penalty.group_strengths(w.shape[0]), dtype=w.dtype)
        scratch = np.empty((_numba().config.NUMBA_NUM_THREADS, 2, rows[0].shape[1]), dtype=w.dtype)
        adam_prox.adam_group_prox_rows(*rows, hyper, typed(lr), lam, typed(8 * np.finfo(w.dtype).eps),
                                       _prox._MAX_NEWTON, amsgrad, scratch)
        return
    kind, threshold, shift = adam_prox.NO_PROX, 0.0, 0.0
    separate = penalty is not None and (isinstance(penalty, GroupLasso) or penalty.weights is not None)
    if penalty is not None and not separate:
        l1, l2 = strengths(penalty, param)
        kind = (adam_prox.POSITIVE if penalty.positive else adam_prox.SOFT if l1 > 0 else adam_prox.NO_PROX)
        threshold, shift = lr * l1, lr * l2
    flat = [a.reshape(-1) for a in (w, g, m, v, vmax)]
    adam_prox.adam_prox_flat(*flat, hyper, typed(threshold), typed(shift), amsgrad, kind, shift > 0)
    if separate:
        # group lasso over another dimension, per-feature weights: the prox as a pass of its own,
        # in the metric of the step just taken (``Proximal``'s table)
        _prox_(param, penalty, Metric(lr * root_b, second, owned=False, root=True, eps=eps_b))
