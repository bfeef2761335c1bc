"""``Proximal(optimizer)``: the optimizer's step, then each parameter group's proximal operator.

Proximal gradient in the optimizer's own metric. An optimizer moves ``w`` by ``-T m`` where ``m``
estimates the gradient and ``T = diag(t_j)`` is its per-coordinate step; the matching proximal step
is ``prox`` of the penalty in the metric ``diag(1 / t_j)`` (``shrinkage.torch._prox``). Its fixed
points are exactly the minimisers of ``loss + penalty`` (``w = prox_T(w - T grad)`` is the
optimality condition for any positive ``T``), which is why the limits equal the convex solvers'.

============================  ===============================================================
optimizer                     per-coordinate step ``t_j`` used by the prox
============================  ===============================================================
SGD                           ``lr``; with momentum ``mu``, dampening ``d``: ``lr (1 - d) / (1 - mu)``
                              (Nesterov: ``lr (1 + mu (1 - d) / (1 - mu))``)
Adam, AdamW, NAdam            ``lr / (sqrt(v_j / (1 - beta2^k)) + eps)`` (``max_exp_avg_sq`` with amsgrad)
Adamax                        ``lr / u_j`` (its exponentially weighted infinity norm)
RAdam                         ``lr rect sqrt(1 - beta2^k) / (sqrt(v_j) + eps)`` once rectified, else ``lr``
RMSprop                       ``lr / ((1 - mu) (sqrt(v_j [- g_avg_j^2]) + eps))``
Adagrad                       ``lr / (1 + (k - 1) lr_decay) / (sqrt(G_j) + eps)``
SparseAdam                    ``lr sqrt(1 - beta2^k) / (sqrt(v_j) + eps)``
Adafactor                     ``alpha / denom / sqrt(v_est_j)`` (relative step, update clipping)
ASGD                          the ``eta`` of the step taken
Adadelta                      ``lr`` (its step once its averages settle)
anything else                 ``lr``, with a warning (Rprop, LBFGS, Muon, unknown optimizers)
============================  ===============================================================

The step is the one the optimizer takes along the gradient once its averages have settled
(momentum buffers at ``g / (1 - mu)``, Adam's bias-corrected ``m_hat`` at ``g``), so that the
minimiser of ``loss + penalty`` is a fixed point of the whole iteration. ``lr`` is read from the
group at every step, so learning-rate schedulers act on the prox too.
"""

import math
import warnings

import torch
from torch.autograd import profiler as _autograd_profiler
from torch.optim import Optimizer
from torch.optim import optimizer as _optimizer_module

from ..penalties import L1, L2, ElasticNet, GroupLasso
from ._fused import fused_step, may_fuse
from ._fused_gpu import planned_step
from ._prox import Metric, _one_launch, _triton, check_penalty, group_launch, prox_params_, strengths
from ._steps import _ADAPTIVE, _number, _step_size, before_step, unknown_step

_PENALTIES = {"L1": L1, "L2": L2, "ElasticNet": ElasticNet, "GroupLasso": GroupLasso}


def _encode(penalty):
    """A penalty as plain data, so that ``torch.load(weights_only=True)`` reads the state dict."""
    if penalty is None:
        return None
    data = {"type": type(penalty).__name__, "alpha": penalty.alpha,
            "weights": None if penalty.weights is None else penalty.weights.tolist()}
    if isinstance(penalty, GroupLasso):
        data["dim"] = penalty.dim
    else:
        data["positive"] = penalty.positive
        if isinstance(penalty, ElasticNet):
            data["l1_ratio"] = penalty.l1_ratio
    return data


def _decode(data):
    if data is None or not isinstance(data, dict):
        return data
    kind = data.get("type")
    if kind not in _PENALTIES:
        raise ValueError(f"unknown penalty {kind!r} in the state dict; known: {', '.join(_PENALTIES)}")
    kwargs = {k: v for k, v in data.items() if k != "type"}
    return _PENALTIES[kind](**kwargs)


class Proximal(Optimizer):
    """Wrap a ``torch.optim.Optimizer`` so that every ``step()`` ends with a proximal step.

    A parameter group carries its penalty under the key ``"penalty"``; groups without one are left
    to the optimizer alone::

        opt = Proximal(torch.optim.SGD([
            {"params": [layer.weight], "penalty": L1(1e-3)},
            {"params": [layer.bias]},
        ], lr=0.1))

    After the wrapped optimizer's ``step()`` each penalised parameter ``w`` becomes
    ``argmin_x sum_j (x_j - w_j)^2 / (2 t_j) + alpha P(x)``, with ``t`` the step that optimizer takes
    along the gradient (``lr`` for plain SGD, ``lr / (1 - momentum)`` with momentum,
    ``lr / (sqrt(v_hat) + eps)`` for Adam; table in the module docstring), so that the minimiser of
    ``loss + penalty`` is a fixed point of the iteration.
    The training objective is therefore ``loss + alpha P(w)`` with ``P`` from the penalty object,
    exactly as written there (``L1``: ``alpha sum |w|``; ``L2``: ``alpha sum w^2 / 2``;
    ``ElasticNet``: ``alpha sum (rho |w| + (1 - rho) w^2 / 2)``; ``GroupLasso``:
    ``alpha sum_g ||w_g||``) — with the loss taken as your code computes it (a mean over the batch
    is the ``(1/n) sum`` of the linear models). L1 and group weights reach exact zeros.

    Per-feature penalty weights of ``L1``/``L2``/``ElasticNet`` apply along a tensor's last
    dimension (an ``nn.Linear`` weight's input features). The wrapper is itself an ``Optimizer``:
    learning-rate schedulers, ``zero_grad``, hooks and ``state_dict`` work on it (penalties are
    stored as plain data, so ``torch.load(weights_only=True)`` reads the checkpoint). Parameters
    that received no gradient in a step are left alone, as the optimizer leaves them. Works with
    ``torch.amp.GradScaler`` (a skipped step skips the prox), bfloat16/float16 parameters (the
    prox computed in float32, rounded once) and FSDP2-sharded ``DTensor`` parameters (the prox on
    each rank's shard where it is that shard's own, else on the gathered tensor).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Any optimizer; its groups' ``"penalty"`` entries are validated here.
    fuse_step : bool, default=True
        For ``torch.optim.SGD``, ``Adam``, ``AdamW``, ``NAdam``, ``RAdam``, ``Adamax``, ``RMSprop``,
        ``Adagrad`` and ``Adafactor`` on CPU: make each parameter's update and its prox one pass
        over memory (Adafactor: three; shrinkage's kernels compute the update PyTorch's
        single-tensor implementation computes, on the same state; results equal to rounding).
        PyTorch's default CPU step sweeps memory once per tensor operation; the fused step takes a
        fraction of its time and the prox adds a few percent to it. Taken where it is the same
        computation (exactly one of these classes, no step hooks or scheduler wrapper on the wrapped
        optimizer, contiguous float32/float64 parameters with dense gradients and existing state;
        see ``shrinkage.torch._fused``), else the optimizer's own ``step()`` runs. ``False``:
        always the optimizer's ``step()``, then the prox. On CUDA, for ``SGD``, ``Adam`` and
        ``AdamW`` (also ``fused=True``): the update and the prox as one Triton launch per
        parameter group (``shrinkage.torch._fused_gpu``), replacing PyTorch's several launches;
        the other optimizers take their own step, then the prox.
    """

    def __init__(self, optimizer, fuse_step=True):
        if not isinstance(optimizer, Optimizer) or isinstance(optimizer, Proximal):
            raise TypeError("Proximal wraps a torch.optim.Optimizer (not already proximal), got "
                            f"{type(optimizer).__name__}")
        self._inner = None
        self.fuse_step = bool(fuse_step)
        # Optimizer.__init__ sets up the hook machinery; while _inner is None the placeholder group
        # and state it creates stay on this object, then the wrapped optimizer's take over.
        super().__init__([torch.empty(0, requires_grad=True)], {})
        self._inner = optimizer
        for group in optimizer.param_groups:
            _check_group(group)
        self._warn_if_step_unknown()

    # the wrapped optimizer's groups, state and defaults *are* this object's
    def _get(name):
        def get(self):
            inner = self.__dict__.get("_inner")
            return self.__dict__["_own_" + name] if inner is None else getattr(inner, name)

        def set_(self, value):
            inner = self.__dict__.get("_inner")
            if inner is None:
                self.__dict__["_own_" + name] = value
            else:
                setattr(inner, name, value)

        return property(get, set_)

    param_groups = _get("param_groups")
    state = _get("state")
    defaults = _get("defaults")
    del _get

    @property
    def optimizer(self):
        """The wrapped optimizer."""
        return self._inner

    def add_param_group(self, param_group):
        if self.__dict__.get("_inner") is None:
            return super().add_param_group(param_group)
        _check_group(param_group, need_lr=False)     # the optimizer fills in its default lr
        added = self._inner.add_param_group(param_group)
        self._warn_if_step_unknown()
        return added

    def _warn_if_step_unknown(self):
        # once per wrapper, when a group has a penalty: the prox's step is then a guess
        if self.__dict__.get("_warned") or not any(g.get("penalty") is not None
                                                   for g in self._inner.param_groups):
            return
        reason = unknown_step(self._inner)
        if reason is not None:
            self._warned = True
            warnings.warn(reason, UserWarning, stacklevel=3)

    def step(self, closure=None):
        """The wrapped optimizer's ``step(closure)``, then the proximal step; returns the loss.

        (On CPU, for the optimizers ``fuse_step`` names: both in one pass.)
        """
        # PyTorch wraps every optimizer's step() in a profiler range and its hooks (~10 us, most of
        # it the range), on top of the wrapped optimizer's own; a GPU step of a small network is
        # bound by the host's Python, so that is wall time. The wrapper's runs only when someone
        # looks: hooks registered, or a profiler started from Python.
        if (_autograd_profiler._is_profiler_enabled or self._optimizer_step_pre_hooks
                or self._optimizer_step_post_hooks or _optimizer_module._global_optimizer_pre_hooks
                or _optimizer_module._global_optimizer_post_hooks):
            return _observed_step(self, closure)
        return self._step(closure)

    step.hooked = True      # (tells Optimizer.__init__ not to wrap it)

    def _step(self, closure=None):
        inner = self._inner
        route = self.__dict__.get("fuse_step", True) and may_fuse(inner)
        if not route:
            return self._step_then_prox(closure)
        loss = None
        if closure is not None:         # as SGD's and Adam's step() do, before the update
            with torch.enable_grad():
                loss = closure()
        done = (planned_step(inner, self.__dict__.setdefault("_plans", {})) if route == "triton"
                else fused_step(inner))
        if not done:
            self._step_then_prox(None)
        return loss

    def _step_then_prox(self, closure):
        # the wrapped optimizer's step, then the prox, with what the prox's step needs from before
        # the optimizer's step (Adafactor's rms(w)) recorded for it
        self._before = before_step(self._inner)
        try:
            loss = self._inner.step(closure)
            self.apply_prox()
        finally:
            self._before = None
        return loss

    @torch.no_grad()
    def apply_prox(self):
        """The proximal step alone, with each group's current learning rate."""
        inner = self._inner
        before = self.__dict__.get("_before")       # (set by step() around the optimizer's step)
        for group in inner.param_groups:
            penalty = group.get("penalty")
            if penalty is None or self._launch_planned(group, penalty):
                continue
            # one step for the whole group unless it depends on each parameter's state
            shared = None if isinstance(inner, _ADAPTIVE) else _step_size(inner, group, None)
            items = []
            for param in group["params"]:
                if param.grad is None:
                    continue
                step = shared if shared is not None else _step_size(inner, group, param, before)
                if step is not None:
                    items.append((param, step))
            prox_params_(items, penalty)

    def _launch_planned(self, group, penalty):
        """The prox of a group on CUDA as one planned Triton launch; False if not planned.

        A GPU training step of a small network is bound by the host's Python, so the general path's
        per-parameter work (the step sizes, the checks that the group can share one launch) would
        be paid in wall time. The checks run once and the plan is kept while the group's parameters
        and optimizer state are the same tensors; each step then reads the learning rate (and
        Adam's step count) and launches. Planned: plain SGD, Adam and AdamW groups with GroupLasso
        or a separable penalty without per-feature weights. With ``fused=True`` or ``capturable``
        Adam keeps its step counts on the GPU: the kernel reads them there and applies each
        tensor's bias correction, so the step never waits for the GPU.
        """
        plans = self.__dict__.setdefault("_plans", {})
        params = group["params"]
        plan = plans.get(id(group))
        state = self._inner.state
        if plan is not None and plan["group"] is group and plan["penalty"] is penalty:
            if not plan["ok"]:      # this group does not qualify (checked once)
                return False
            if not _plan_holds(plan, params, state):
                plan = None
        else:
            plan = None
        if plan is None:
            if not all(p.grad is not None for p in params):
                return False    # a parameter without a gradient this step: general path, plan later
            plan = self._plan(group, penalty)
            if plan is None:
                return False    # not yet: the optimizer has no state for these parameters
            plans[id(group)] = plan
        if not plan["ok"]:
            return False
        if plan["key"] is None:     # SGD: one step for the group
            plan["launch"](_step_size(self._inner, group, None), 0.0)
            return True
        if plan["counts"]:          # fused/capturable Adam: the kernel reads the counts on the GPU
            plan["launch"].run(scale=_number(group["lr"]), eps=float(group["eps"]),
                               beta2=float(group["betas"][1]))
            return True
        steps = {_number(state[p]["step"]) for p in params}
        if len(steps) != 1:
            return False
        root_b = math.sqrt(1.0 - group["betas"][1] ** steps.pop())
        plan["launch"](_number(group["lr"]) * root_b, group["eps"] * root_b)
        return True

    def _plan(self, group, penalty):
        """The plan of a group's launch (``ok`` False when it does not qualify), None when it is too
        early to tell (an Adam group whose state does not exist yet)."""
        inner = self._inner
        params = list(group["params"])
        plan = {"group": group, "penalty": penalty, "ok": False, "params": params, "key": None, "moments": (),
                "counts": (), "addresses": ()}
        # (one tensor: the per-tensor launch, unless Adam's counts are on the GPU, which only the
        # planned launch reads there)
        if _triton() is None or (len(params) < 2 and not _counts_on_gpu(group)):
            return plan
        group_lasso = isinstance(penalty, GroupLasso)
        if type(inner) is torch.optim.SGD:
            steps = [_step_size(inner, group, None)] * len(params)
        elif type(inner) in (torch.optim.Adam, torch.optim.AdamW):
            key = "max_exp_avg_sq" if group.get("amsgrad") else "exp_avg_sq"
            if not all(key in inner.state.get(p, {}) for p in params):
                return None
            moments = [inner.state[p][key] for p in params]
            plan.update(key=key, moments=moments, counts=_counts_on_device(group, inner.state, params))
            steps = [Metric(1.0, v, owned=False, root=True) for v in moments]
        else:
            return plan
        # the launch's tables hold these addresses: a parameter moved (``module.cpu()``, ``.data =``)
        # must not be written through them
        plan["addresses"] = _addresses(params, plan["moments"], plan["counts"])
        items = list(zip(params, steps, strict=True))
        counts = plan["counts"] or None
        if group_lasso:
            launch = group_launch(items, penalty, counts)
        elif penalty.weights is None and _one_launch(items):
            l1, l2 = strengths(penalty, params[0])
            denoms = plan["moments"] or None        # SGD: no metric
            launch = _triton().plan_enet_many(params, denoms, denoms is not None, l1, l2, penalty.positive,
                                              counts)
        else:
            launch = None
        plan.update(ok=launch is not None, launch=launch)
        return plan

    def zero_grad(self, set_to_none=True):
        self._inner.zero_grad(set_to_none=set_to_none)

    def state_dict(self):
        """The wrapped optimizer's state dict, with each penalty stored as plain data."""
        sd = self._inner.state_dict()
        sd["param_groups"] = [
            {**g, "penalty": _encode(g["penalty"])} if "penalty" in g else g for g in sd["param_groups"]
        ]
        return sd

    def load_state_dict(self, state_dict):
        groups = [{**g, "penalty": _decode(g["penalty"])} if "penalty" in g else g
                  for g in state_dict["param_groups"]]
        self._inner.load_state_dict({**state_dict, "param_groups": groups})
        for group in self._inner.param_groups:
            _check_group(group)

    def __getstate__(self):
        # plans hold closures; _before lives for one step
        return {k: v for k, v in self.__dict__.items() if k not in ("_plans", "_before")}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        fuse = "" if self.__dict__.get("fuse_step", True) else ", fuse_step=False"
        return f"Proximal({self._inner!r}{fuse})"


# step() as PyTorch wraps an optimizer's: a profiler range named after the class, and the hooks
_observed_step = Optimizer.profile_hook_step(Proximal._step)


def _addresses(*lists):
    return tuple(t.data_ptr() for tensors in lists for t in tensors)


def _counts_on_gpu(group):
    # PyTorch's fused and capturable Adam keep each parameter's step count on its device
    return bool(group.get("fused") or group.get("capturable"))


def _counts_on_device(group, state, params):
    """Adam's step counts where the optimizer keeps them on the parameters' GPU (``fused``,
    ``capturable``): the planned launch reads them there (``.item()`` would make the host wait for
    the GPU at every step). ``()`` where they are numbers on the host."""
    if not _counts_on_gpu(group):
        return ()
    counts = [state[p].get("step") for p in params]
    first = counts[0]
    if all(isinstance(c, torch.Tensor) and c.numel() == 1 and c.device == p.device and c.dtype == first.dtype
           and c.dtype in (torch.float32, torch.float64) for c, p in zip(counts, params, strict=True)):
        return counts
    return ()


def _plan_holds(plan, params, state):
    """Whether a group's parameters (and their Adam state) are still the planned tensors at the
    planned addresses, each with a gradient this step."""
    planned = plan["params"]
    if len(params) != len(planned):
        return False
    if not all(p is q and p.grad is not None for p, q in zip(params, planned, strict=True)):
        return False
    key, moments, counts = plan["key"], plan["moments"], plan["counts"]
    if key is not None and not all(state[p].get(key) is v for p, v in zip(params, moments, strict=True)):
        return False
    if counts and not all(state[p].get("step") is c for p, c in zip(params, counts, strict=True)):
        return False
    return _addresses(params, moments, counts) == plan["addresses"]


def _check_group(group, need_lr=True):
    penalty = group.get("penalty")
    if penalty is None:
        return
    if need_lr and "lr" not in group:
        raise ValueError("a penalised parameter group needs a learning rate 'lr' for the proximal step")
    params = group["params"]
    params = [params] if isinstance(params, torch.Tensor) else list(params)
    check_penalty(penalty)
    for param in params:
        check_penalty(penalty, param)
