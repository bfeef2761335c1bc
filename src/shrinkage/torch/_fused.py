"""The optimizer's update and the proximal step as one pass over each CPU parameter.

``Proximal(optimizer)`` would otherwise run PyTorch's step — on a CPU, by default, a sequence of
tensor operations that each sweep the parameter and its state (seven for Adam, three for SGD with
momentum) — and then the prox, one more sweep. For ``SGD``, ``Adam``, ``AdamW``, ``NAdam``,
``RAdam``, ``Adamax``, ``RMSprop`` and ``Adagrad`` the kernels of ``shrinkage._kernels.sgd_prox`` /
``adaptive_prox`` (``Adafactor``: ``adafactor_prox``, three passes, since its step needs the norms
of ``w`` and of the update first) do the update exactly as PyTorch's single-tensor implementation
writes it and the prox while each coordinate (each row, for the group lasso) is in cache: the
optimizer's state and the parameters end as PyTorch's step followed by ``apply_prox`` leaves them,
to rounding (``tests/test_torch_fused.py``). The prox's step is ``Proximal``'s (``_steps``): ``lr``-based for
SGD, the optimizer's metric for the others.

The path is taken only where it is the same computation: the optimizer is exactly one of these
classes (a subclass may change the update), nothing observes its ``step()`` (no step hooks, no
learning-rate scheduler's wrapper on it, no gradient scaler's ``grad_scale``), no group is
``capturable`` or ``differentiable`` or has a Tensor hyperparameter other than ``lr``, and every
parameter with a gradient is a contiguous float32/float64 CPU tensor with a dense gradient of its
dtype and the state PyTorch created (a first step with state to create is PyTorch's own, so the
state is made as it makes it). Anything else returns False before touching a tensor, and
``Proximal`` calls the optimizer's ``step()`` and then the prox.
"""

import math

import numpy as np
import torch
from torch.optim import optimizer as _optimizer_module

from .._kernels import adafactor_prox, adaptive_prox, sgd_prox
from ..penalties import GroupLasso
from . import _prox
from ._prox import Metric, _numba, _numba_threads, _prox_, newton_scratch, strengths
from ._steps import _number, _step_size, adafactor_eps, adafactor_root

_optim = torch.optim
# the adaptive optimizers' kernels (flat, group rows) in shrinkage._kernels.adaptive_prox
_ADAPTIVE = {_optim.Adam: "adam", _optim.AdamW: "adam", _optim.NAdam: "nadam", _optim.RAdam: "radam",
             _optim.Adamax: "adamax", _optim.RMSprop: "rmsprop", _optim.Adagrad: "adagrad"}
_TYPES = (_optim.SGD, *_ADAPTIVE, _optim.Adafactor)
_GPU_TYPES = (_optim.SGD, _optim.Adam, _optim.AdamW)     # (_fused_gpu's)
_DTYPES = (torch.float32, torch.float64)
# From this many elements the fused step runs on torch.get_num_threads() threads, as the PyTorch
# operations it replaces do (ATen's grain size); Adam's does ~4x the prox's work per element.
# Two threads on a 2-core box, whole Proximal.step: 125 -> 96 us at 32768 float32, 175 -> 122 us
# at 65536, 253 -> 175 us at 131072.
PARALLEL_MIN = 1 << 15
# Whether CUDA parameters take the fused path too (``_fused_gpu``, Triton; tests/test_torch_cuda.py
# compares it with PyTorch's step and the prox on a GPU). A switch for benchmarks and bisecting.
GPU = True


def may_fuse(optimizer):
    """Where ``optimizer`` can be stepped by shrinkage, as far as the optimizer itself tells:
    ``"numba"`` (CPU parameters: :func:`fused_step`), ``"triton"`` (CUDA: ``_fused_gpu``) or None.
    The parameters are checked there, once their gradients exist."""
    groups = optimizer.param_groups
    if not (type(optimizer) in _TYPES and _prox.KERNELS and groups and groups[0]["params"]
            and not (optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks
                     or _optimizer_module._global_optimizer_pre_hooks
                     or _optimizer_module._global_optimizer_post_hooks)
            and "step" not in vars(optimizer)           # wrapped: a scheduler counts the calls
            and getattr(optimizer, "grad_scale", None) is None
            and getattr(optimizer, "found_inf", None) is None):
        return None
    # (a GPU step is bound by the host's Python: one look at the first parameter decides)
    device = groups[0]["params"][0].device.type
    if device == _prox.TRITON_DEVICE and GPU:
        return "triton" if type(optimizer) in _GPU_TYPES and _prox._triton() is not None else None
    return "numba" if device == "cpu" else None


def plain_like(tensor, like):
    """Whether ``tensor`` is plain contiguous memory of ``like``'s device, dtype and shape (what the
    fused kernels read and write by flat index)."""
    return (type(tensor) in _prox.PLAIN_TYPES and tensor.layout == torch.strided
            and tensor.device == like.device and tensor.dtype == like.dtype and tensor.shape == like.shape
            and tensor.is_contiguous() and not tensor.is_neg())


def _fits(param, state, keys):
    return (param.dtype in _DTYPES and param.device.type == "cpu" and plain_like(param, param)
            and plain_like(param.grad, param)
            and all(isinstance(state.get(k), torch.Tensor) and plain_like(state[k], param) for k in keys))


def _adam_keys(group):
    return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group.get("amsgrad") else ("exp_avg", "exp_avg_sq")


def _state_keys(optimizer, group):
    """The per-coordinate state tensors the optimizer's update reads and writes."""
    kind = type(optimizer)
    if kind is _optim.SGD:
        return ("momentum_buffer",) if group["momentum"] else ()
    if kind in (_optim.Adam, _optim.AdamW):
        return _adam_keys(group)
    if kind in (_optim.NAdam, _optim.RAdam):
        return ("exp_avg", "exp_avg_sq")
    if kind is _optim.Adamax:
        return ("exp_avg", "exp_inf")
    if kind is _optim.RMSprop:
        return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))
    if kind is _optim.Adafactor:
        return ()       # (its factored state has other shapes: _adafactor_fits)
    return ("sum",)     # Adagrad


def _group_fits(optimizer, group):
    """Whether the group's hyperparameters are ones the kernels take (numbers, no special modes)."""
    if group.get("capturable") or group.get("differentiable"):
        return False
    values = [v for k, v in group.items() if k not in ("params", "lr", "penalty")]
    return not any(isinstance(x, torch.Tensor) for x in [*values, *group.get("betas", ())])


def _scalar_state(optimizer, state):
    # the step count (all but SGD) and NAdam's product of momentum coefficients: CPU tensors
    kind = type(optimizer)
    names = () if kind is _optim.SGD else ("step", "mu_product") if kind is _optim.NAdam else ("step",)
    return all(isinstance(state.get(k), torch.Tensor) and state[k].device.type == "cpu"
               and state[k].numel() == 1 for k in names)


def fused_step(optimizer):
    """The optimizer's step of every parameter with a gradient, each followed at once by its
    group's prox.

    Returns False, having changed nothing, where the path does not apply (module docstring).
    """
    sgd = type(optimizer) is _optim.SGD
    work = []
    for group in optimizer.param_groups:
        if not _group_fits(optimizer, group):
            return False
        keys = _state_keys(optimizer, group)
        for param in group["params"]:
            if param.grad is None:
                continue
            state = optimizer.state.get(param, {})
            if not (_scalar_state(optimizer, state) and _fits(param, state, keys)):
                return False
            if type(optimizer) is _optim.Adafactor and not _adafactor_fits(param, state):
                return False
            work.append((group, param, state))
    with torch.no_grad():
        for group, param, state in work:
            if sgd:
                _sgd_param(optimizer, group, param, state)
            elif type(optimizer) is _optim.Adafactor:
                _adafactor_param(group, param, state)
            else:
                _adaptive_param(optimizer, group, param, state)
    return True


def _sign(group):
    # the gradient's sign in the update: -1 to maximize
    return -1.0 if group.get("maximize") else 1.0


def sgd_hyper(group):
    """SGD's numbers ``(sign, wd, mu, 1 - dampening, lr)`` of the fused kernels (``sign`` -1 to maximize)."""
    return (_sign(group), float(group["weight_decay"]), float(group["momentum"]),
            1.0 - group["dampening"], _number(group["lr"]))


def adam_hyper(group, k, decoupled):
    """Adam's numbers at step ``k`` of the fused kernels, ``(sign, wd, decay, 1 - beta1, beta2,
    1 - beta2, lr / (1 - beta1^k), sqrt(b), eps sqrt(b))``, ``b = 1 - beta2^k`` (``adaptive_prox``)."""
    beta1, beta2 = group["betas"]
    lr = _number(group["lr"])
    wd = group["weight_decay"]
    root_b = math.sqrt(1.0 - beta2**k)
    return (_sign(group),
            0.0 if decoupled else wd,               # Adam: g + wd w
            1.0 - lr * wd if decoupled else 1.0,    # AdamW: w (1 - lr wd) first
            1.0 - beta1, beta2, 1.0 - beta2, lr / (1.0 - beta1**k), root_b, group["eps"] * root_b)


def _sgd_param(optimizer, group, param, state):
    momentum = group["momentum"]
    typed = np.float32 if param.dtype == torch.float32 else np.float64
    hyper = tuple(typed(x) for x in sgd_hyper(group))
    w, g = param.detach().numpy(), param.grad.detach().numpy()
    buf = state["momentum_buffer"].detach().numpy() if momentum else w
    if w.size == 0:
        return
    _numba_threads(w.size, PARALLEL_MIN)
    penalty = group.get("penalty")
    step = _step_size(optimizer, group, None)       # the prox's step (Proximal's table)
    nesterov = bool(group.get("nesterov"))
    if isinstance(penalty, GroupLasso) and w.ndim >= 1 and penalty.axis(w.ndim) == 0:
        rows = [a.reshape(a.shape[0], -1) for a in (w, g, buf)]
        lam = np.asarray(penalty.group_strengths(w.shape[0]), dtype=np.float64)
        sgd_prox.sgd_group_prox_rows(*rows, hyper, float(step), lam, bool(momentum), nesterov)
        return
    kind, threshold, shift, separate = _separable(penalty, param, step)
    flat = [a.reshape(-1) for a in (w, g, buf)]
    sgd_prox.sgd_prox_flat(*flat, hyper, typed(threshold), typed(1.0 + shift), bool(momentum), nesterov, kind,
                           shift > 0)
    if separate:
        _prox_(param, penalty, step)


def _separable(penalty, param, step):
    """``(kind, t l1, t l2, separate)`` of the flat kernels for the scalar ``t`` (Adam: ``lr``);
    ``separate``: the penalty needs a pass of its own (GroupLasso off rows, per-feature weights)."""
    if penalty is None:
        return adaptive_prox.NO_PROX, 0.0, 0.0, False
    if isinstance(penalty, GroupLasso) or penalty.weights is not None:
        return adaptive_prox.NO_PROX, 0.0, 0.0, True
    l1, l2 = strengths(penalty, param)
    kinds = adaptive_prox
    kind = kinds.POSITIVE if penalty.positive else kinds.SOFT if l1 > 0 else kinds.NO_PROX
    return kind, step * l1, step * l2, False


def _adam_numbers(optimizer, group, state, k):
    decoupled = group.get("decoupled_weight_decay", type(optimizer) is _optim.AdamW)
    amsgrad = bool(group.get("amsgrad"))
    second = state["max_exp_avg_sq"] if amsgrad else state["exp_avg_sq"]
    return ((*adam_hyper(group, k, decoupled), 0.0), _number(group["lr"]),
            (state["exp_avg"], state["exp_avg_sq"], second), amsgrad, False)


def _decoupled(group):
    # (sign, wd, decay) of the update's first line: AdamW-style decay, or L2 added to the gradient
    lr, wd = _number(group["lr"]), group["weight_decay"]
    sign = _sign(group)
    if group.get("decoupled_weight_decay"):
        return sign, 0.0, 1.0 - lr * wd
    return sign, wd, 1.0


def _nadam_numbers(optimizer, group, state, k):
    beta1, beta2 = group["betas"]
    lr, decay = _number(group["lr"]), group["momentum_decay"]
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (k * decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((k + 1) * decay)))
    state["mu_product"] *= mu       # (as PyTorch: the tensor, then its value)
    product = _number(state["mu_product"])
    root_b = math.sqrt(1.0 - beta2**k)
    hyper = (*_decoupled(group), 1.0 - beta1, beta2, 1.0 - beta2, lr * (1.0 - mu) / (1.0 - product), root_b,
             group["eps"] * root_b, lr * mu_next / (1.0 - product * mu_next))
    return hyper, lr, (state["exp_avg"], state["exp_avg_sq"], None), False, False


def _radam_numbers(optimizer, group, state, k):
    beta1, beta2 = group["betas"]
    lr = _number(group["lr"])
    bias1, bias2 = 1.0 - beta1**k, 1.0 - beta2**k
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho = rho_inf - 2.0 * k * beta2**k / bias2
    states = (state["exp_avg"], state["exp_avg_sq"], None)
    first = (*_decoupled(group), 1.0 - beta1, beta2, 1.0 - beta2)
    if rho > 5.0:
        rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        hyper = (*first, lr * rect / bias1, math.sqrt(bias2), group["eps"], 0.0)
        return hyper, lr * rect, states, True, False
    return (*first, lr / bias1, 1.0, 0.0, 0.0), lr, states, False, False


def _adamax_numbers(optimizer, group, state, k):
    beta1, beta2 = group["betas"]
    lr = _number(group["lr"])
    sign = _sign(group)
    hyper = (sign, group["weight_decay"], 1.0, 1.0 - beta1, beta2, group["eps"], lr / (1.0 - beta1**k), 1.0,
             0.0, 0.0)
    return hyper, lr, (state["exp_avg"], state["exp_inf"], None), False, False


def _rmsprop_numbers(optimizer, group, state, k):
    lr, alpha, mu = _number(group["lr"]), group["alpha"], group["momentum"]
    sign = _sign(group)
    hyper = (sign, group["weight_decay"], alpha, 1.0 - alpha, mu, lr, group["eps"], 1.0, 0.0, 0.0)
    states = (state["square_avg"], state.get("momentum_buffer"), state.get("grad_avg"))
    return hyper, lr / (1.0 - mu), states, mu > 0, bool(group["centered"])


def _adagrad_numbers(optimizer, group, state, k):
    clr = _number(group["lr"]) / (1.0 + (k - 1.0) * group["lr_decay"])
    sign = _sign(group)
    hyper = (sign, group["weight_decay"], clr, group["eps"], 0.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return hyper, clr, (state["sum"], None, None), False, False


# the kernels' numbers after the step count's increment to k: (hyper, the prox's scale, the three
# state tensors (None where unused), flag_a, flag_b), see shrinkage._kernels.adaptive_prox
_NUMBERS = {"adam": _adam_numbers, "nadam": _nadam_numbers, "radam": _radam_numbers,
            "adamax": _adamax_numbers, "rmsprop": _rmsprop_numbers, "adagrad": _adagrad_numbers}


def _adaptive_param(optimizer, group, param, state):
    rule = _ADAPTIVE[type(optimizer)]
    state["step"] += 1
    numbers, scale, states, flag_a, flag_b = _NUMBERS[rule](optimizer, group, state, _number(state["step"]))
    if param.numel() == 0:
        return
    typed = np.float32 if param.dtype == torch.float32 else np.float64
    hyper = tuple(typed(x) for x in numbers)
    w, g = param.detach().numpy(), param.grad.detach().numpy()
    s1, s2, s3 = (w if t is None else t.detach().numpy() for t in states)
    _numba_threads(w.size, PARALLEL_MIN)
    penalty = group.get("penalty")
    if isinstance(penalty, GroupLasso) and w.ndim >= 1 and penalty.axis(w.ndim) == 0:
        rows = [a.reshape(a.shape[0], -1) for a in (w, g, s1, s2, s3)]
        lam = np.asarray(penalty.group_strengths(w.shape[0]), dtype=w.dtype)
        kernel = getattr(adaptive_prox, rule + "_group_prox_rows")
        kernel(*rows, hyper, typed(scale), lam, typed(8 * np.finfo(w.dtype).eps), _prox._MAX_NEWTON, flag_a,
               flag_b, newton_scratch(rows[0]))
        return
    kind, threshold, shift, separate = _separable(penalty, param, scale)     # t_j = scale inv_j
    flat = [a.reshape(-1) for a in (w, g, s1, s2, s3)]
    getattr(adaptive_prox, rule + "_prox_flat")(*flat, hyper, typed(threshold), typed(shift), flag_a, flag_b,
                                                kind, shift > 0)
    if separate:
        # group lasso over another dimension, per-feature weights: the prox as a pass of its own,
        # in the metric of the step just taken (``Proximal``'s table)
        _prox_(param, penalty, _step_size(optimizer, group, param))


def _adafactor_fits(param, state):
    """A non-empty matrix (or batch of them: the last two dimensions) with its row and column
    variances, or a non-empty vector with its variance."""
    if param.numel() == 0:
        return False
    if param.dim() >= 2:
        *batch, rows, cols = param.shape
        return (all(isinstance(state.get(k), torch.Tensor) and type(state[k]) in _prox.PLAIN_TYPES
                    and state[k].dtype == param.dtype and state[k].device == param.device
                    and state[k].is_contiguous() for k in ("row_var", "col_var"))
                and state["row_var"].shape == (*batch, rows, 1)
                and state["col_var"].shape == (*batch, 1, cols))
    return param.dim() == 1 and isinstance(state.get("variance"), torch.Tensor)


def _adafactor_param(group, param, state):
    """Adafactor's step as ``_single_tensor_adafactor`` takes it, and the prox in its metric
    ``t = alpha / denom / sqrt(v_est)`` (``_steps._adafactor_step``)."""
    state["step"] += 1
    k = _number(state["step"])
    lr = _number(group["lr"])
    eps1, eps2 = adafactor_eps(group, param)
    lerp = k ** group["beta2_decay"]
    relative = min(lr, 1.0 / k**0.5)
    decay = 1.0 - lr * group["weight_decay"] if group["weight_decay"] else 1.0
    sign = _sign(group)
    penalty = group.get("penalty")
    size = param.numel()
    if param.dim() == 1:        # a vector (a bias): PyTorch's operations, a few elements
        grad = param.grad if sign > 0 else -param.grad
        alpha = max(eps2, param.norm(2).item() / size**0.5) * relative
        if decay != 1.0:
            param.mul_(decay)
        variance = state["variance"]
        variance.lerp_(grad * grad, lerp)
        update = variance.clamp(min=eps1 * eps1).rsqrt_().mul_(grad)
        step = alpha / max(1.0, update.norm(2).item() / (size**0.5 * group["d"]))
        param.add_(update, alpha=-step)
        if penalty is not None:
            _prox_(param, penalty, Metric(step, adafactor_root(state, param, eps1)))
        return
    typed = np.float32 if param.dtype == torch.float32 else np.float64
    rows, cols = param.shape[-2:]
    matrices = size // (rows * cols)
    # (B R, C) rows; row i belongs to matrix i // R
    w, g = (t.detach().numpy().reshape(matrices * rows, cols) for t in (param, param.grad))
    _numba_threads(size, PARALLEL_MIN)
    row_sq = np.empty(matrices * rows)
    col_partial = np.empty((_numba().config.NUMBA_NUM_THREADS, matrices, cols))
    alpha = max(eps2, (adafactor_prox.adafactor_sums(w, g, row_sq, col_partial) / size) ** 0.5) * relative
    row_var, col_var = state["row_var"], state["col_var"]
    row_var.lerp_(torch.from_numpy(row_sq / cols).to(param.dtype).view(row_var.shape), lerp)
    col_var.lerp_(torch.from_numpy(col_partial.sum(axis=0) / rows).to(param.dtype).view(col_var.shape), lerp)
    mean = row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1).detach().numpy().reshape(matrices)
    floor = typed(eps1 * eps1)
    r, c = row_var.detach().numpy().reshape(-1), col_var.detach().numpy().reshape(matrices, cols)
    update_norm = adafactor_prox.adafactor_update_norm(g, r, c, mean, floor) ** 0.5
    step = alpha / max(1.0, update_norm / (size**0.5 * group["d"]))
    hyper = (typed(sign), typed(decay), typed(step), typed(1.0))
    if isinstance(penalty, GroupLasso) and param.dim() == 2 and penalty.axis(2) == 0:
        lam = np.asarray(penalty.group_strengths(rows), dtype=w.dtype)
        adafactor_prox.adafactor_step_group_rows(w, g, r, c, mean, floor, hyper, lam,
                                                 typed(8 * np.finfo(w.dtype).eps), _prox._MAX_NEWTON,
                                                 newton_scratch(w))
        return
    separate = penalty is not None and (isinstance(penalty, GroupLasso) or penalty.weights is not None)
    l1, l2 = strengths(penalty, param) if penalty is not None and not separate else (0.0, 0.0)
    positive = bool(penalty is not None and not separate and penalty.positive)
    adafactor_prox.adafactor_step_prox(w, g, r, c, mean, floor, hyper, typed(l1), typed(l2), positive)
    if separate:
        # group lasso, per-feature weights: the prox as a pass of its own, in the step's metric
        _prox_(param, penalty, Metric(step, adafactor_root(state, param, eps1)))
