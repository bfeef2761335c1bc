"""Gradient-boosted trees with L1/L2 on the leaf weights, and a lasso that prunes the ensemble.

- :class:`GradientBoostingRegressor`, :class:`GradientBoostingClassifier`: histogram boosting whose
  leaves solve a one-dimensional elastic net through the library's one prox (XGBoost's ``alpha``
  and ``lambda``; checked leaf for leaf against XGBoost ``tree_method="hist"``).
- :func:`compress`: refit every leaf value jointly as a lasso on the leaf-indicator matrix and drop
  the trees whose leaves all vanish.
"""

from ._compress import CompressionPath, compress, leaf_indicator_matrix
from ._gradient_boosting import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    penalty_to_xgboost,
)

__all__ = [
    "CompressionPath",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "compress",
    "leaf_indicator_matrix",
    "penalty_to_xgboost",
]
