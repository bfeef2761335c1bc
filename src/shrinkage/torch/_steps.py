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
             torch.optim.RMSprop, torch.optim.Adagrad)


def _step_size(optimizer, group, param):
    """The step ``t`` (number or per-coordinate tensor) the optimizer just used on ``param``.

    ``None`` when the optimizer has not stepped this parameter (no state yet).
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
    if isinstance(optimizer, optim.SGD) and group.get("momentum", 0.0):
        # heavy ball: the buffer settles at (1 - d) g / (1 - mu), so the step taken along g is
        # lr (1 - d) / (1 - mu) (Nesterov: lr (1 + mu (1 - d) / (1 - mu))); thresholding at
        # lr alpha instead would make loss + (1 - mu) alpha P the objective
        mu, damp = group["momentum"], group.get("dampening", 0.0)
        ratio = (1.0 - damp) / (1.0 - mu)
        return lr * (1.0 + mu * ratio if group.get("nesterov") else ratio)
    return lr
