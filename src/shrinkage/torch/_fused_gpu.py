"""The optimizer's update and the proximal step as one Triton launch per parameter group (CUDA).

A GPU training step of a mid-sized network is bound by the host's Python: PyTorch's foreach Adam
spends ~0.45 ms of host time a step on the benchmark network (a dozen multi-tensor launches and
Python loops over the parameters), SGD with momentum ~0.17 ms, and the prox after it is one more
launch per group. For ``torch.optim.SGD``, ``Adam`` and ``AdamW`` this module makes the update and
the prox one launch per parameter group (``_triton``: PyTorch's formulas, as the CPU path
``_fused`` computes them), planned once — which tensors, the tables of their addresses, the
kernel variant — so that a step checks the plan still holds (the same tensors at the same
addresses, gradients where they were), reads the hyperparameters and launches. Gradients are new
tensors after every ``zero_grad()``; their table is looked up by their addresses, which repeat
from step to step (PyTorch's caching allocator hands a backward pass the blocks the previous one
freed), and uploaded from pinned memory when they are new.

Taken where the CPU path would be taken (``_fused.may_fuse``: exact class, no hooks, no scheduler
wrapper on the wrapped optimizer, no gradient scaler; ``_fused.GPU`` set), and when in every group
each parameter with a gradient is a contiguous float32/float64 tensor on the group's CUDA device
with a contiguous gradient of its dtype and the state PyTorch created (so not the first step), an
Adam group's step counts are equal CPU tensors (not ``fused``/``capturable``), and the group's
penalty is none, a separable one without per-feature weights, or a ``GroupLasso`` whose groups are
the rows of a strided view (``dim=0``, or either dim of a matrix). Otherwise nothing is touched and
``Proximal`` runs the optimizer's ``step()`` and the prox.
"""

import torch

from ..penalties import GroupLasso
from . import _prox
from ._fused import _DTYPES, _adam_keys, _group_fits, _separable, adam_hyper, plain_like, sgd_hyper
from ._prox import _group_rows, list_strengths, newton_tol
from ._steps import _number, _step_size


class _GroupPlan:
    """A parameter group's part of the plan: its parameters with a gradient, their state, the
    addresses the launches' tables hold, and the launches made so far (by penalty form)."""

    __slots__ = ("addresses", "flags", "group", "launches", "params", "state_tensors", "states", "steps")

    def __init__(self, group, params, states, state_tensors, steps, flags):
        self.group = group
        self.params = params
        self.states = states
        self.state_tensors = state_tensors      # per parameter, the state tensors the kernels use
        self.steps = steps                      # Adam's step counts (CPU tensors); SGD: ()
        self.flags = flags
        self.addresses = _addresses(params, state_tensors)
        self.launches = {}


def _addresses(params, state_tensors):
    return tuple(p.data_ptr() for p in params) + tuple(t.data_ptr() for ts in state_tensors for t in ts)


def _flags(optimizer, group):
    # what selects the kernel variant and the state it reads
    if type(optimizer) is torch.optim.SGD:
        return bool(group["momentum"]), bool(group.get("nesterov"))
    return bool(group.get("amsgrad")), bool(group.get("decoupled_weight_decay",
                                                      type(optimizer) is torch.optim.AdamW))


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
        if (not _group_fits(optimizer, group) or group.get("fused")
                or (isinstance(lr, torch.Tensor) and lr.device.type != "cpu")):
            return None
        params = [p for p in group["params"] if p.grad is not None]
        keys = _state_keys(optimizer, group)
        states, state_tensors = [], []
        for param in params:
            state = optimizer.state.get(param, {})
            first = params[0]
            if not (param.dtype in _DTYPES and param.dtype == first.dtype and param.device == first.device
                    and param.device.type == _prox.TRITON_DEVICE and plain_like(param, param)
                    and plain_like(param.grad, param)
                    and all(isinstance(state.get(k), torch.Tensor) and plain_like(state[k], param)
                            for k in keys)):
                return None
            step = state.get("step")
            if not sgd and not (isinstance(step, torch.Tensor) and step.device.type == "cpu"):
                return None
            states.append(state)
            state_tensors.append(tuple(state[k] for k in keys))
        steps = () if sgd else tuple(s["step"] for s in states)
        plan.append(_GroupPlan(group, params, states, state_tensors, steps, _flags(optimizer, group)))
    return plan


def _holds(plan, optimizer):
    """Whether the optimizer's groups, parameters with a gradient, their state and addresses are
    the planned ones."""
    groups = optimizer.param_groups
    if len(groups) != len(plan):
        return False
    for group, part in zip(groups, plan, strict=True):
        if group is not part.group or _flags(optimizer, group) != part.flags:
            return False
        with_grad = [p for p in group["params"] if p.grad is not None]
        if len(with_grad) != len(part.params) or any(
                p is not q for p, q in zip(with_grad, part.params, strict=True)):
            return False
        keys = _state_keys(optimizer, group)
        for param, state, tensors in zip(part.params, part.states, part.state_tensors, strict=True):
            if optimizer.state.get(param) is not state or any(
                    state.get(k) is not t for k, t in zip(keys, tensors, strict=True)):
                return False
        if _addresses(part.params, part.state_tensors) != part.addresses:
            return False
    return True


def _state_columns(part, view=lambda t, axis: t, axes=None):
    # the state tensors by kind (SGD: [buffers]; Adam: [m, v] or [m, v, vmax]), each a list over the
    # parameters, optionally as views
    axes = axes or [None] * len(part.params)
    return [[view(ts[i], a) for ts, a in zip(part.state_tensors, axes, strict=True)]
            for i in range(len(part.state_tensors[0]))]


def _separable_launch(part, sgd, kind, shrink):
    key = ("flat", kind, shrink)
    launch = part.launches.get(key)
    if launch is None:
        kernels = _prox._triton()
        columns = _state_columns(part) + [None] * 3       # (absent: no momentum, no amsgrad)
        if sgd:
            launch = kernels.plan_sgd_flat(part.params, columns[0], part.flags[1], kind, shrink)
        else:
            launch = kernels.plan_adam_flat(part.params, *columns[:3], kind, shrink)
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
        launch = kernels.plan_adam_rows(rows, *columns[:3], lam, newton_tol(rows[0].dtype))
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
    work = []
    # everything checked and every launch made before the first one runs
    for part in plan:
        if not part.params:
            continue
        grads = [p.grad for p in part.params]
        if not all(plain_like(g, p) for g, p in zip(grads, part.params, strict=True)):
            return False
        group = part.group
        if not sgd and len({_number(s) for s in part.steps}) != 1:
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
    for part, launch, changing, g_table in work:
        group = part.group
        if sgd:
            names, numbers = _SGD_NAMES, sgd_hyper(group)
        else:
            # the group's step counts, equal (checked above), one more: fill_ is the same number
            # as add_(1) in their dtype and a third of its host time (which a GPU step waits on)
            k = _number(part.steps[0]) + 1
            for count in part.steps:
                count.fill_(k)
            names, numbers = _ADAM_NAMES, adam_hyper(group, _number(part.steps[0]), part.flags[1])
        launch.run(g_table=g_table, **dict(zip(names, numbers, strict=True)), **changing)
    return True


# the kernels' names of sgd_hyper's and adam_hyper's numbers
_SGD_NAMES = ("sign", "wd", "mu", "fresh", "lr")
_ADAM_NAMES = ("sign", "wd", "decay", "lerp", "beta2", "fresh", "step_size", "root_b", "eps_b")
