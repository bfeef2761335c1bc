"""shrinkage's penalties on PyTorch parameters: proximal steps that give exact zeros.

The penalty objects of :mod:`shrinkage.penalties` (``L1``, ``L2``, ``ElasticNet``, ``GroupLasso``) are
attached to the parameter groups of any ``torch.optim.Optimizer``; :class:`Proximal` applies their
proximal operator after every ``step()`` (in Adam's diagonal metric for the Adam family), so L1 and
group-lasso weights become exactly zero instead of merely small. :func:`penalty_loss` gives the
classical loss term instead, :func:`prune` removes the dead units, and
:class:`shrinkage.torch.keras.ProximalCallback` does the same for Keras 3.

Needs PyTorch: ``pip install 'shrinkage[torch]'``. See ``docs/torch.md`` for the conventions table
(Keras ``L2``, PyTorch ``weight_decay``, ``AdamW``) and the scaling of each penalty.
"""

try:
    import torch  # noqa: F401
except ImportError as err:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "shrinkage.torch needs PyTorch, which is not installed: pip install 'shrinkage[torch]'"
    ) from err

from ..penalties import L1, L2, ElasticNet, GroupLasso
from ._loss import penalty_loss
from ._optim import Proximal
from ._prox import prox_
from ._prune import PruneResult, prune

__all__ = ["L1", "L2", "ElasticNet", "GroupLasso", "Proximal", "PruneResult", "penalty_loss", "prox_",
           "prune"]
