"""Keras 3: :class:`ProximalCallback` applies a shrinkage penalty's prox after every training batch.

Keras's ``kernel_regularizer=L1(l1)`` adds ``l1 sum|w|`` to the loss and, like any loss term,
never sets a weight exactly to zero. This callback takes the proximal step instead, with the same
tensor code as :class:`shrinkage.torch.Proximal` (so it needs PyTorch; with the ``torch`` backend
it works on the variables in place, with other backends through a NumPy copy).

Keras's ``Dense`` kernel has shape ``(n_in, n_out)``, the transpose of ``nn.Linear.weight``:
``GroupLasso(alpha, dim=0)`` groups a Dense layer's *input* features, ``dim=1`` its units.
"""

import math
import warnings

import numpy as np
import torch

from ._prox import Metric, check_penalty, prox_

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


def _learning_rate(optimizer):
    """The learning rate of the step just taken: a schedule is read at the step count before it
    (``optimizer.learning_rate`` reads it at the count after)."""
    rate = getattr(optimizer, "_learning_rate", None)
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
        return _number(rate(optimizer._iterations - 1))
    return _number(optimizer.learning_rate)


class ProximalCallback(keras.callbacks.Callback):
    """After each training batch, replace ``variables`` by the prox of ``penalty``.

    The prox's step is the one the optimizer takes along the gradient once its averages have
    settled, per coordinate, so that the minimiser of the compiled loss plus ``alpha P(w)`` (the
    penalty object's own scaling) is a fixed point of the training, as with
    :class:`shrinkage.torch.Proximal`:

    ==============  =====================================================================
    optimizer       step ``t_j``
    ==============  =====================================================================
    SGD             ``lr``; with momentum ``mu`` (Nesterov or not): ``lr / (1 - mu)``
    Adam, AdamW     ``lr sqrt(1 - beta2^k) / (sqrt(v_j) + eps)`` (Keras adds ``eps`` before
                    the bias correction, unlike PyTorch; ``v_hat`` with amsgrad)
    Nadam           ``lr / (sqrt(v_j / (1 - beta2^k)) + eps)`` (its momentum schedule aside)
    RMSprop         ``lr / sqrt(v_j + eps)`` (centered: ``v_j - g_avg_j^2 + eps``), over
                    ``1 - mu`` with momentum ``mu``
    Adagrad         ``lr / sqrt(G_j + eps)``
    Adamax          ``lr / (u_j + eps)``
    Adadelta        ``lr`` (its step once its averages settle)
    others          ``lr``, with a warning: exact zeros still, but the limit is not that minimiser
                    (Lion's sign steps, Lamb's trust ratio, Adafactor, Ftrl, Muon, ...)
    ==============  =====================================================================

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
        """The prox's step for ``variable`` (a number or a :class:`Metric`), None before any step."""
        lr = _learning_rate(optimizer)
        opt = keras.optimizers
        if isinstance(optimizer, opt.SGD):
            return lr / (1.0 - float(optimizer.momentum))

        def state(slots):       # the optimizer's slot of this variable (read, never written)
            slot = slots[optimizer._get_variable_index(variable)]
            return _value(slot).to(dtype=like.dtype, device=like.device)

        if isinstance(optimizer, (opt.Adam, opt.AdamW, opt.Nadam)):
            k = _number(optimizer.iterations)
            if k == 0:
                return None
            amsgrad = getattr(optimizer, "amsgrad", False)
            v = state(optimizer._velocity_hats if amsgrad else optimizer._velocities)
            root_b = math.sqrt(1.0 - optimizer.beta_2**k)
            eps = optimizer.epsilon * (root_b if isinstance(optimizer, opt.Nadam) else 1.0)
            return Metric(lr * root_b, v, owned=False, root=True, eps=eps)
        if isinstance(optimizer, opt.RMSprop):
            v = state(optimizer._velocities)
            if optimizer.centered:
                v = v - state(optimizer._average_gradients).square()
            return Metric(lr / (1.0 - optimizer.momentum), v + optimizer.epsilon, root=True)
        if isinstance(optimizer, opt.Adagrad):
            return Metric(lr, state(optimizer._accumulators) + optimizer.epsilon, root=True)
        if isinstance(optimizer, opt.Adamax):
            return Metric(lr, state(optimizer._u), owned=False, eps=optimizer.epsilon)
        return lr

    def _optimizer(self):
        # the optimizer that steps: a LossScaleOptimizer (mixed precision) wraps it
        optimizer = self.model.optimizer
        return getattr(optimizer, "inner_optimizer", optimizer)

    def on_train_begin(self, logs=None):
        optimizer = self._optimizer()
        self._stepped = _number(optimizer.iterations)
        opt = keras.optimizers
        if not isinstance(optimizer, (opt.SGD, opt.Adam, opt.AdamW, opt.Nadam, opt.RMSprop, opt.Adagrad,
                                      opt.Adamax, opt.Adadelta)):
            warnings.warn(f"ProximalCallback: {type(optimizer).__name__} is not one whose step shrinkage "
                          f"knows; the proximal step uses its learning rate as its step, so training "
                          f"minimises loss + c * penalty with c the ratio of that step to the optimizer's "
                          f"own, not loss + penalty (exact zeros still)", UserWarning, stacklevel=2)

    def on_train_batch_end(self, batch, logs=None):
        optimizer = self._optimizer()
        # the prox follows a step: none after a batch whose step was skipped (a loss-scaling
        # overflow) or that only accumulated its gradient (gradient_accumulation_steps), which
        # the optimizer's iteration count shows (soft-thresholding twice thresholds twice as far)
        iterations = _number(optimizer.iterations)
        if iterations == getattr(self, "_stepped", None):
            return
        self._stepped = iterations
        for variable in self.variables:
            tensor = _value(variable)
            check_penalty(self.penalty, tensor)
            step = self._step(optimizer, variable, tensor)
            if step is None:
                continue
            prox_(tensor, self.penalty, step)
            if not _torch_backend():
                variable.assign(tensor.numpy())
