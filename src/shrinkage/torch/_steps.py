"""The step ``t`` each optimizer takes along the gradient: the step of ``Proximal``'s prox.

The table is in ``shrinkage.torch._optim``'s docstring; ``_fused`` uses the same numbers for the
steps it fuses with the optimizer's update.
"""

import math

import torch

from ._prox import Metric


def _number(x):
    return float(x.item() if isinstance(x, torch.Tensor) else x)


# optimizers whose step depends on each parameter's state (the others: on the group alone)
_ADAPTIVE = (torch.optim.Adam, torch.optim.AdamW, torch.optim.NAdam, torch.optim.Adamax, torch.optim.RAdam,
             torch.optim.RMSprop, torch.optim.Adagrad, torch.optim.ASGD, torch.optim.SparseAdam,
             torch.optim.Adafactor)
# optimizers whose step the table knows (and their subclasses); Adadelta and SGD step by ``lr``
# once settled. Any other optimizer gets ``lr`` too, with a warning (``unknown_step``).
KNOWN = (*_ADAPTIVE, torch.optim.SGD, torch.optim.Adadelta)


def unknown_step(optimizer):
    """Why the prox's step ``lr`` is not known to be the optimizer's, or None where it is."""
    if isinstance(optimizer, KNOWN):
        return None
    name = type(optimizer).__name__
    if isinstance(optimizer, (torch.optim.Rprop, torch.optim.LBFGS)) or name == "Muon":
        kind = "does not step along a rescaled gradient (sign steps, line search, orthogonalised updates)"
    else:
        kind = "is not one whose step shrinkage knows"
    return (f"{name} {kind}: the proximal step uses the group's lr as its step, so training minimises "
            f"loss + c * penalty with c the ratio of that step to the optimizer's own, not loss + penalty "
            f"(exact zeros still). Known: {', '.join(c.__name__ for c in KNOWN)} and their subclasses.")


def _step_size(optimizer, group, param, before=None):
    """The step ``t`` (number or per-coordinate tensor) the optimizer just used on ``param``.

    ``None`` when the optimizer has not stepped this parameter (no state yet). ``before``: what
    :func:`before_step` recorded before the optimizer's step, if anything.
    """
    lr = _number(group["lr"])
    state = optimizer.state.get(param, {})
    optim = torch.optim
    if isinstance(optimizer, (optim.Adam, optim.AdamW, optim.NAdam)):
        if "step" not in state:
            return None
        k = _number(state["step"])
        v = state["max_exp_avg_sq"] if group.get("amsgrad") else state["exp_avg_sq"]
        # lr / (sqrt(v) / sqrt(b) + eps) = lr sqrt(b) / (sqrt(v) + eps sqrt(b)),  b = 1 - beta2^k
        root_b = math.sqrt(1.0 - group["betas"][1] ** k)
        return Metric(lr * root_b, v, owned=False, root=True, eps=group["eps"] * root_b)
    if isinstance(optimizer, optim.Adamax):
        if "exp_inf" not in state:
            return None
        return Metric(lr, state["exp_inf"], owned=False)
    if isinstance(optimizer, optim.RAdam):
        if "step" not in state:
            return None
        k = _number(state["step"])
        beta2 = group["betas"][1]
        bias2 = 1.0 - beta2**k
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_k = rho_inf - 2.0 * k * beta2**k / bias2
        if rho_k <= 5.0:
            return lr
        rect = math.sqrt((rho_k - 4) * (rho_k - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_k))
        return Metric(lr * rect * math.sqrt(bias2), state["exp_avg_sq"], owned=False, root=True,
                      eps=group["eps"])
    if isinstance(optimizer, optim.RMSprop):
        if "square_avg" not in state:
            return None
        v = state["square_avg"]
        if group.get("centered"):
            v = v.addcmul(state["grad_avg"], state["grad_avg"], value=-1)
        # with momentum mu the buffer settles at g / ((1 - mu) avg): that is the step taken
        return Metric(lr / (1.0 - group.get("momentum", 0.0)), v, owned=False, root=True, eps=group["eps"])
    if isinstance(optimizer, optim.Adagrad):
        if "sum" not in state or "step" not in state:
            return None
        clr = lr / (1.0 + (_number(state["step"]) - 1.0) * group["lr_decay"])
        return Metric(clr, state["sum"], owned=False, root=True, eps=group["eps"])
    if isinstance(optimizer, optim.ASGD):
        if "step" not in state:
            return None
        # the step just taken used the eta of the one before (state["eta"] is already the next's),
        # as PyTorch kept it: a tensor of its scalar dtype
        k = _number(state["step"])
        eta = lr / (1.0 + group["lambd"] * lr * (k - 1.0)) ** group["alpha"]
        return _number(torch.as_tensor(eta, dtype=state["eta"].dtype))
    if isinstance(optimizer, optim.SparseAdam):
        if "exp_avg_sq" not in state:
            return None
        # lr sqrt(b) / (sqrt(v) + eps): its eps is not bias-corrected, unlike Adam's
        root_b = math.sqrt(1.0 - group["betas"][1] ** _number(state["step"]))
        return Metric(lr * root_b, state["exp_avg_sq"], owned=False, root=True, eps=group["eps"])
    if isinstance(optimizer, optim.Adafactor):
        return _adafactor_step(group, param, state, (before or {}).get(param))
    if isinstance(optimizer, optim.SGD) and group.get("momentum", 0.0):
        # heavy ball: the buffer settles at (1 - d) g / (1 - mu), so the step taken along g is
        # lr (1 - d) / (1 - mu) (Nesterov: lr (1 + mu (1 - d) / (1 - mu))); thresholding at
        # lr alpha instead would make loss + (1 - mu) alpha P the objective
        mu, damp = group["momentum"], group.get("dampening", 0.0)
        ratio = (1.0 - damp) / (1.0 - mu)
        return lr * (1.0 + mu * ratio if group.get("nesterov") else ratio)
    return lr


def before_step(optimizer):
    """What the prox's step needs from before the optimizer's step: Adafactor's relative step is
    ``rms(w)`` of the weights it starts from (``{param: rms}`` over the penalised groups)."""
    if not isinstance(optimizer, torch.optim.Adafactor):
        return None
    return {p: _rms(p) for g in optimizer.param_groups if g.get("penalty") is not None for p in g["params"]
            if p.numel()}


def _rms(t):
    return t.norm(2).item() / t.numel() ** 0.5


def _adafactor_step(group, param, state, rms_before=None):
    """Adafactor's ``alpha / denom / sqrt(max(v_est, eps1^2))`` (PyTorch's ``_single_tensor_adafactor``).

    ``v_est`` is the factored second moment (``row_var col_var / mean(row_var)`` over the last two
    dimensions, ``variance`` for vectors), ``alpha = max(eps2, rms(w)) min(lr, 1 / sqrt(k))`` its
    relative step and ``denom = max(1, rms(g / sqrt(v_est)) / d)`` its update clipping.
    ``rms_before``: ``rms(w)`` before the step (``before_step``); without it (``apply_prox`` called
    on its own) ``rms(w)`` is read after the step, equal at a fixed point.
    """
    if "step" not in state or param is None:
        return None
    eps1, eps2 = adafactor_eps(group, param)
    k = _number(state["step"])
    lr = _number(group["lr"])
    d = adafactor_root(state, param, eps1)
    alpha = max(eps2, _rms(param) if rms_before is None else rms_before) * min(lr, 1.0 / k**0.5)
    denom = max(1.0, _rms(param.grad / d) / group["d"]) if param.grad is not None else 1.0
    return Metric(alpha / denom, d, owned=True)


def adafactor_eps(group, param):
    """Adafactor's ``(eps1, eps2)``, ``eps1`` of ``None`` as PyTorch reads it (its dtype's eps)."""
    eps1, eps2 = group["eps"]
    return (torch.finfo(param.dtype).eps if eps1 is None else eps1), eps2


def adafactor_root(state, param, eps1):
    """``sqrt(max(v_est, eps1^2))``, a new tensor: the factored second moment ``row_var col_var /
    mean(row_var)`` over the last two dimensions (PyTorch's order: the outer product, then the
    division), the ``variance`` of a vector."""
    if param.dim() > 1:
        row, col = state["row_var"], state["col_var"]
        v = (row @ col).div_(row.mean(dim=-2, keepdim=True).clamp_(min=eps1))
    else:
        v = state["variance"].clone()
    return v.clamp_(min=eps1 * eps1).sqrt_()      # (in place: one temporary in all)
