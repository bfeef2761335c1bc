"""The optimizer's update and the proximal step as one Triton launch per parameter group (CUDA).

A GPU training step of a mid-sized network is bound by the host's Python: PyTorch's foreach Adam
spends ~0.45 ms of host time a step on the benchmark network (a dozen multi-tensor launches and
Python loops over the parameters), SGD with momentum ~0.17 ms, and the prox after it is one more
launch per group. For ``torch.optim.SGD`` (``fused=True`` too), ``Adam`` and ``AdamW`` this module
makes the update and the prox one launch per parameter group (``_triton``: PyTorch's formulas, as
the CPU path ``_fused`` computes them), planned once — which tensors, the tables of their
addresses, the kernel variant — so that a step checks the plan still holds (the same tensors at the
same addresses, gradients where they were), reads the hyperparameters and launches. Gradients are
new tensors after every ``zero_grad()``; their table is looked up by their addresses, which repeat
from step to step (PyTorch's caching allocator hands a backward pass the blocks the previous one
freed), and uploaded from pinned memory when they are new.

Taken where the CPU path would be taken (``_fused.may_fuse``: exact class, no hooks, no scheduler
wrapper on the wrapped optimizer, no gradient scaler; ``_fused.GPU`` set), and when in every group
each parameter with a gradient is a contiguous float32/float64 tensor on the group's CUDA device
with a contiguous gradient of its dtype and the state PyTorch created (so not the first step), an
Adam group's step counts are equal CPU tensors, or (``fused=True``) tensors on its GPU, and the
group's penalty is none, a separable one without per-feature weights, or a ``GroupLasso`` whose
groups are the rows of a strided view (``dim=0``, or either dim of a matrix). Otherwise nothing is
touched and ``Proximal`` runs the optimizer's ``step()`` and the prox.
"""

from operator import is_

import torch

from ..penalties import GroupLasso
from . import _prox
from ._fused import _DTYPES, _adam_keys, _group_fits, _separable, adam_hyper, plain_like, sgd_hyper
from ._prox import _group_rows, list_strengths, newton_tol
from ._steps import _number, _step_size


class _GroupPlan:
    """A parameter group's part of the plan: its parameters with a gradient, their state, the
    addresses the launches' tables hold, and the launches made so far (by penalty form)."""

    __slots__ = ("addresses", "checked", "columns", "counts", "flags", "group", "launches", "params",
                 "states", "steps", "tensors")

    def __init__(self, group, params, states, keys, steps, flags, on_device):
        self.group = group
        self.params = params
        self.states = states                    # per parameter, its state dict (None: none yet)
        self.columns = [[s[k] for s in states] for k in keys]     # the state tensors the kernels use, by key
        self.steps = steps                      # Adam's step counts (tensors); SGD: ()
        self.counts = steps if on_device else None      # those the kernels read (fused Adam's, on the GPU)
        self.flags = flags
        # (what a step checks is still in the state: the tensors by key, and the counts)
        self.checked = [*zip(keys, self.columns, strict=True), *([("step", steps)] if steps else [])]
        self.tensors = (*params, *(t for column in self.columns for t in column), *(self.counts or ()))
        self.addresses = tuple(map(_data_ptr, self.tensors))
        self.launches = {}


_data_ptr = torch.Tensor.data_ptr


def _flags(optimizer, group):
    # what selects the kernel variant and the state it reads
    if type(optimizer) is torch.optim.SGD:
        return bool(group["momentum"]), bool(group.get("nesterov"))
    return (bool(group.get("amsgrad")),
            bool(group.get("decoupled_weight_decay", type(optimizer) is torch.optim.AdamW)),
            bool(group.get("fused")))


def _state_keys(optimizer, group):
    if type(optimizer) is torch.optim.SGD:
        return ("momentum_buffer",) if group["momentum"] else ()
    return _adam_keys(group)


def _make_plan(optimizer):
    """The plan of every group, or None when the path does not apply (now)."""
    sgd = type(optimizer) is torch.optim.SGD
    plan = []
    for group in optimizer.param_groups:
        lr = group["lr"]
        # (PyTorch's fused=True optimizers keep the state of their foreach steps, but fused Adam's
        # step counts are on the GPU, where the kernels read them: their steps are replaced too)
        if not _group_fits(optimizer, group) or (isinstance(lr, torch.Tensor) and lr.device.type != "cpu"):
            return None
        on_device = not sgd and bool(group.get("fused"))
        params = [p for p in group["params"] if p.grad is not None]
        keys = _state_keys(optimizer, group)
        states = []
        for param in params:
            state = optimizer.state.get(param)      # (plain SGD keeps none)
            first = params[0]
            if not (param.dtype in _DTYPES and param.dtype == first.dtype and param.device == first.device
                    and param.device.type == _prox.TRITON_DEVICE and plain_like(param, param)
                    and plain_like(param.grad, param)
                    and all(isinstance((state or {}).get(k), torch.Tensor) and plain_like(state[k], param)
                            for k in keys)):
                return None
            if not (sgd or _count_fits((state or {}).get("step"), param, on_device)):
                return None
            states.append(state)
        steps = () if sgd else tuple(s["step"] for s in states)
        if on_device and len({c.dtype for c in steps}) > 1:
            return None
        plan.append(_GroupPlan(group, params, states, keys, steps, _flags(optimizer, group), on_device))
    return plan


def _holds(plan, optimizer):
    """Whether the optimizer's groups, parameters with a gradient, their state and addresses are
    the planned ones. (Runs every step: one pass of identity checks, no per-item calls.)"""
    groups = optimizer.param_groups
    if len(groups) != len(plan):
        return False
    state = optimizer.state
    for group, part in zip(groups, plan, strict=True):
        if group is not part.group or _flags(optimizer, group) != part.flags:
            return False
        with_grad = [p for p in group["params"] if p.grad is not None]
        if len(with_grad) != len(part.params) or not all(map(is_, with_grad, part.params)):
            return False
        states = [state.get(p) for p in with_grad]
        if not all(map(is_, states, part.states)):
            return False
        for key, planned in part.checked:
            if not all(map(is_, [s.get(key) for s in states], planned)):
                return False
        # (the plan holds the planned tensors, so no other tensor has their addresses but a view
        # of the same memory: a parameter moved to new storage shows here)
        if tuple(map(_data_ptr, part.tensors)) != part.addresses:
            return False
    return True


def _state_columns(part, view=lambda t, axis: t, axes=None):
    # the state tensors by kind (SGD: [buffers]; Adam: [m, v] or [m, v, vmax]), each a list over the
    # parameters, optionally as views
    axes = axes or [None] * len(part.params)
    return [[view(t, a) for t, a in zip(column, axes, strict=True)] for column in part.columns]


def _separable_launch(part, sgd, kind, shrink):
    key = ("flat", kind, shrink)
    launch = part.launches.get(key)
    if launch is None:
        kernels = _prox._triton()
        columns = _state_columns(part) + [None] * 3       # (absent: no momentum, no amsgrad)
        if sgd:
            launch = kernels.plan_sgd_flat(part.params, columns[0], part.flags[1], kind, shrink)
        else:
            launch = kernels.plan_adam_flat(part.params, *columns[:3], kind, shrink, part.counts)
        part.launches[key] = launch
    return launch


def _group_launch(part, sgd, penalty):
    """The group lasso's launch, or None when a parameter's groups are not the rows of a view."""
    key = ("rows", id(penalty))
    held = part.launches.get(key)
    if held is not None and held[0] is penalty and held[1] == penalty.alpha:
        return held[2]
    if any(p.dim() == 0 for p in part.params):
        return None
    axes = [penalty.axis(p.dim()) for p in part.params]
    rows = [_group_rows(p, a) for p, a in zip(part.params, axes, strict=True)]
    if any(r is None for r in rows):
        return None
    lam = list_strengths(penalty, rows)
    kernels = _prox._triton()
    # the state as views with the rows' strides (each state tensor has its parameter's layout)
    columns = _state_columns(part, _group_rows, axes) + [None] * 3
    if sgd:
        launch = kernels.plan_sgd_rows(rows, columns[0], lam, part.flags[1])
    else:
        launch = kernels.plan_adam_rows(rows, *columns[:3], lam, newton_tol(rows[0].dtype), part.counts)
    if len(part.launches) > 16:
        part.launches.clear()
    # (the penalty kept, so that its id stays its own; a new alpha is a new plan)
    part.launches[key] = (penalty, penalty.alpha, launch)
    return launch


def planned_step(optimizer, plans):
    """The step of every parameter with a gradient and its group's prox, one launch per group.

    ``plans``: a dict the caller keeps between steps (the plan under ``"step"``). Returns False,
    having changed nothing, where the path does not apply (module docstring).
    """
    plan = plans.get("step")
    if plan is None or not _holds(plan, optimizer):
        plan = plans["step"] = _make_plan(optimizer)
        if plan is None:
            return False
    sgd = type(optimizer) is torch.optim.SGD
    kernels = _prox._triton()
    work, counts_on_device = [], []
    # everything checked and every launch made before the first one runs
    for part in plan:
        if not part.params:
            continue
        grads = [p.grad for p in part.params]
        if not all(plain_like(g, p) for g, p in zip(grads, part.params, strict=True)):
            return False
        group = part.group
        if part.counts is not None:
            counts_on_device += part.counts
        elif not sgd and len(set(map(_item, part.steps))) != 1:
            return False        # (a step outside this path left some counts behind)
        penalty = group.get("penalty")
        lr = _number(group["lr"])
        step = _step_size(optimizer, group, None) if sgd else lr      # the prox's (Adam: per unit of inv)
        if isinstance(penalty, GroupLasso):
            launch = _group_launch(part, sgd, penalty)
            if launch is None:
                return False
            changing = {"step": step} if sgd else {"lr": lr}
        else:
            if penalty is not None and penalty.weights is not None:
                return False
            kind, threshold, shift, _ = _separable(penalty, part.params[0], step)
            launch = _separable_launch(part, sgd, kind, shift > 0)
            changing = {"threshold": threshold, "shift": shift}
        work.append((part, launch, changing, kernels.address_table(grads)))
    if counts_on_device:
        torch._foreach_add_(counts_on_device, 1)     # (one launch, as fused Adam's own step does first)
    for part, launch, changing, g_table in work:
        group = part.group
        if sgd:
            launch.run(g_table=g_table, **dict(zip(_SGD_NAMES, sgd_hyper(group), strict=True)), **changing)
            continue
        if part.counts is None:
            # the group's step counts, equal (checked above), one more: fill_ is the same number
            # as add_(1) in their dtype and a third of its host time (which a GPU step waits on)
            k = part.steps[0].item() + 1
            for count in part.steps:
                count.fill_(k)
            numbers = dict(zip(_ADAM_NAMES, adam_hyper(group, k, part.flags[1]), strict=True))
        else:
            # the kernel corrects lr and eps by each tensor's count, read on the GPU
            numbers = dict(zip(_ADAM_NAMES, adam_hyper(group, 1, part.flags[1]), strict=True))
            numbers.update(step_size=_number(group["lr"]), root_b=1.0, eps_b=float(group["eps"]))
        launch.run(g_table=g_table, beta1=float(group["betas"][0]), **numbers, **changing)
    return True


def _count_fits(count, param, on_device):
    """Whether Adam's step count is one the launch reads: a number on the host (a CPU tensor), or
    ``on_device`` one on the parameter's GPU, float32 or float64."""
    if not (isinstance(count, torch.Tensor) and count.numel() == 1):
        return False
    if on_device:
        return count.device == param.device and count.dtype in _DTYPES
    return count.device.type == "cpu"


_item = torch.Tensor.item


# the kernels' names of sgd_hyper's and adam_hyper's numbers
_SGD_NAMES = ("sign", "wd", "mu", "fresh", "lr")
_ADAM_NAMES = ("sign", "wd", "decay", "lerp", "beta2", "fresh", "step_size", "root_b", "eps_b")
