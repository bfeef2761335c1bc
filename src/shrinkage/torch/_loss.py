"""``penalty_loss``: the penalty as an autograd term, for the classical (subgradient) behaviour."""

import torch

from ..penalties import GroupLasso
from ._prox import check_penalty, strengths


def penalty_loss(params, penalty):
    """``alpha * P(w)`` summed over ``params``, as a differentiable scalar tensor.

    Added to a loss, autograd differentiates it: ``L2(alpha)`` contributes ``alpha * w`` to the
    gradient (so SGD on ``loss + penalty_loss(w, L2(wd))`` is ``SGD(weight_decay=wd)`` on ``loss``),
    ``L1(alpha)`` contributes the subgradient ``alpha * sign(w)`` (0 at 0): weights become small
    and oscillate around zero but are not set to zero — use :class:`Proximal` for exact zeros.

    Parameters
    ----------
    params : torch.Tensor or iterable of torch.Tensor
    penalty : L1, L2, ElasticNet or GroupLasso
        ``L1``: ``alpha sum f|w|``; ``L2``: ``alpha sum f w^2 / 2``; ``ElasticNet``:
        ``alpha sum f (rho |w| + (1 - rho) w^2 / 2)``; ``GroupLasso``: ``alpha sum_g f_g ||w_g||_2``
        (per-feature weights ``f`` along each tensor's last dimension).

    Returns
    -------
    torch.Tensor
        A 0-dimensional tensor.
    """
    params = [params] if isinstance(params, torch.Tensor) else list(params)
    if not params:
        raise ValueError("penalty_loss needs at least one tensor")
    check_penalty(penalty)
    total = None
    for param in params:
        check_penalty(penalty, param)
        if isinstance(penalty, GroupLasso):
            axis = penalty.axis(param.dim())
            groups = param.movedim(axis, 0).reshape(param.shape[axis], -1)
            strength = torch.as_tensor(penalty.group_strengths(groups.shape[0]), dtype=param.dtype,
                                       device=param.device)
            term = (strength * torch.linalg.vector_norm(groups, dim=1)).sum()
        else:
            if penalty.positive and bool((param < 0).any()):
                term = param.new_tensor(float("inf"))
            else:
                l1, l2 = strengths(penalty, param)
                term = param.new_zeros(())
                if isinstance(l1, torch.Tensor) or l1 > 0:
                    term = term + (l1 * param.abs()).sum()
                if isinstance(l2, torch.Tensor) or l2 > 0:
                    term = term + 0.5 * (l2 * param.square()).sum()
        total = term if total is None else total + term
    return total
