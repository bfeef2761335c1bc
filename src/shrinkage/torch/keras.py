"""Keras 3: :class:`ProximalCallback` applies a shrinkage penalty's prox after every training batch.

Keras's ``kernel_regularizer=L1(l1)`` adds ``l1 sum|w|`` to the loss and, like any loss term,
never sets a weight exactly to zero. This callback takes the proximal step instead, with the same
tensor code as :class:`shrinkage.torch.Proximal` (so it needs PyTorch; with the ``torch`` backend
it works on the variables in place, with other backends through a NumPy copy).

Keras's ``Dense`` kernel has shape ``(n_in, n_out)``, the transpose of ``nn.Linear.weight``:
``GroupLasso(alpha, dim=0)`` groups a Dense layer's *input* features, ``dim=1`` its units.
"""

import math

import numpy as np
import torch

from ._prox import check_penalty, prox_

try:
    import keras
except ImportError as err:  # pragma: no cover - exercised only without keras
    raise ImportError("shrinkage.torch.keras needs Keras 3: pip install keras") from err


def _torch_backend():
    return keras.backend.backend() == "torch"


def _value(x):
    """A Keras variable or tensor as a torch tensor (the storage itself with the torch backend)."""
    if _torch_backend():
        return x.value if isinstance(x, keras.Variable) else torch.as_tensor(x)
    return torch.as_tensor(np.array(keras.ops.convert_to_numpy(x)))


def _number(x):
    return float(_value(x).item())


class ProximalCallback(keras.callbacks.Callback):
    """After each training batch, replace ``variables`` by the prox of ``penalty``.

    The step is the optimizer's: ``lr`` for SGD and the other optimizers, and for Keras's ``Adam``
    and ``AdamW`` the diagonal metric ``lr sqrt(1 - beta2^k) / (sqrt(v_j) + eps)`` of its update
    (Keras adds ``eps`` to ``sqrt(v)`` before the bias correction, unlike PyTorch). The objective is
    the compiled loss plus ``alpha P(w)`` exactly as the penalty object writes it.

    Parameters
    ----------
    penalty : L1, L2, ElasticNet or GroupLasso
    variables : list of keras.Variable
        e.g. ``[model.layers[0].kernel]``.
    """

    def __init__(self, penalty, variables):
        super().__init__()
        check_penalty(penalty)
        self.penalty = penalty
        self.variables = list(variables)
        if not self.variables:
            raise ValueError("ProximalCallback needs at least one variable")
        for variable in self.variables:
            if not isinstance(variable, keras.Variable):
                raise TypeError(f"ProximalCallback takes keras Variables, got {type(variable).__name__}")
            dtype = str(variable.dtype)
            if not dtype.startswith(("float", "bfloat")):
                raise TypeError(f"{penalty!r} needs a floating-point variable, got dtype {dtype}")

    def _step(self, optimizer, variable, like):
        lr = _number(optimizer.learning_rate)
        if isinstance(optimizer, (keras.optimizers.Adam, keras.optimizers.AdamW)):
            k = _number(optimizer.iterations)
            if k == 0:
                return None
            index = optimizer._get_variable_index(variable)
            v = optimizer._velocity_hats[index] if optimizer.amsgrad else optimizer._velocities[index]
            v = _value(v).to(dtype=like.dtype, device=like.device, copy=True)
            scale = lr * math.sqrt(1.0 - optimizer.beta_2**k)
            return v.sqrt_().add_(optimizer.epsilon).reciprocal_().mul_(scale)
        return lr

    def on_train_batch_end(self, batch, logs=None):
        optimizer = self.model.optimizer
        for variable in self.variables:
            tensor = _value(variable)
            check_penalty(self.penalty, tensor)
            step = self._step(optimizer, variable, tensor)
            if step is None:
                continue
            prox_(tensor, self.penalty, step)
            if not _torch_backend():
                variable.assign(tensor.numpy())
