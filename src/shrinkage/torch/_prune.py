"""``prune(model)``: drop the hidden units that sparsity has disconnected, keeping the outputs."""

import copy
from dataclasses import dataclass, field

import torch
from torch import nn

# modules that act on each unit separately (so a dead unit's output is a constant of its own)
_ELEMENTWISE = (
    nn.Identity, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Softsign, nn.Hardtanh, nn.Hardsigmoid, nn.Hardswish,
    nn.Tanhshrink, nn.Softshrink, nn.Hardshrink, nn.LogSigmoid, nn.Threshold, nn.Dropout,
    nn.AlphaDropout,
)


@dataclass
class PruneResult:
    """What :func:`prune` returns.

    Attributes
    ----------
    model : nn.Sequential
        The smaller network; same inputs, same outputs (in eval mode).
    kept_units : list of list of int
        For each hidden layer (each Linear but the last), the indices of the units kept.
    unused_inputs : list of int
        Input features that no longer reach the output (all their weights into kept units are 0).
    n_params_before, n_params_after : int
    """

    model: nn.Sequential
    kept_units: list = field(default_factory=list)
    unused_inputs: list = field(default_factory=list)
    n_params_before: int = 0
    n_params_after: int = 0


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


def _split(model):
    """``[Linear, [elementwise...], Linear, [...], ..., Linear, [...]]`` checked."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"prune takes an nn.Sequential, got {type(model).__name__}")
    linears, between = [], []
    for i, module in enumerate(model):
        if isinstance(module, nn.Linear):
            linears.append(i)
            between.append([])
        elif isinstance(module, _ELEMENTWISE) or (isinstance(module, nn.PReLU)
                                                  and module.num_parameters == 1):
            if not linears:
                raise ValueError(f"prune: module {i} ({type(module).__name__}) comes before the first "
                                 "Linear layer")
            between[-1].append(module)
        else:
            raise ValueError(f"prune handles Linear layers and element-wise activations only; module {i} "
                             f"is {type(module).__name__}")
    if not linears:
        raise ValueError("prune: the model has no Linear layer")
    return [model[i] for i in linears], between


@torch.no_grad()
def prune(model):
    """A smaller copy of ``model`` without the hidden units that cannot change its output.

    A hidden unit whose incoming weights are all zero outputs the constant ``act(b_u)``: that
    constant times its outgoing weights is folded into the next layer's bias and the unit is removed.
    A unit whose outgoing weights are all zero does not reach the output and is removed too. Both
    rules are applied until nothing changes. The input and output sizes stay the same; the outputs
    equal the original's up to rounding (in eval mode: dropout is the identity).

    Parameters
    ----------
    model : nn.Sequential
        Linear layers separated by element-wise activations (ReLU, Tanh, GELU, Dropout, ...).

    Returns
    -------
    PruneResult
        ``.model`` (a new ``nn.Sequential``; ``model`` is not modified), ``.kept_units``,
        ``.unused_inputs``, ``.n_params_before``, ``.n_params_after``.
    """
    linears, between = _split(model)
    was_training = model.training
    weights = [lin.weight.detach().clone() for lin in linears]
    biases = [None if lin.bias is None else lin.bias.detach().clone() for lin in linears]
    kept = [torch.arange(w.shape[0], device=w.device) for w in weights[:-1]]

    def apply_between(i, x):
        for module in between[i]:
            module.eval()
            x = module(x)
        return x

    changed = True
    while changed:
        changed = False
        for i in range(len(weights) - 1):
            w_in, w_out = weights[i], weights[i + 1]
            dead_in = (w_in == 0).all(dim=1)
            dead_out = (w_out == 0).all(dim=0)
            drop = dead_in | dead_out
            if not bool(drop.any()):
                continue
            changed = True
            fold = dead_in & ~dead_out
            if bool(fold.any()):
                b_in = biases[i] if biases[i] is not None else w_in.new_zeros(w_in.shape[0])
                constant = apply_between(i, b_in[fold].unsqueeze(0)).squeeze(0)   # act(b_u)
                if biases[i + 1] is None:
                    biases[i + 1] = w_out.new_zeros(w_out.shape[0])
                biases[i + 1] = biases[i + 1] + w_out[:, fold] @ constant
            keep = ~drop
            weights[i] = w_in[keep]
            if biases[i] is not None:
                biases[i] = biases[i][keep]
            weights[i + 1] = w_out[:, keep]
            kept[i] = kept[i][keep]

    new_modules = []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        layer = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, device=w.device, dtype=w.dtype)
        layer.weight.copy_(w)
        if b is not None:
            layer.bias.copy_(b)
        new_modules.append(layer)
        new_modules.extend(copy.deepcopy(m) for m in between[i])
    for m in between:
        for module in m:
            module.train(was_training)
    pruned = nn.Sequential(*new_modules).train(was_training)
    unused = torch.nonzero((weights[0] == 0).all(dim=0)).flatten().tolist()
    return PruneResult(pruned, [k.tolist() for k in kept], unused, _n_params(model), _n_params(pruned))
