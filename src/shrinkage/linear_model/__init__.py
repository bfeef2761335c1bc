"""Estimators with the scikit-learn API."""

from ._coordinate_descent import ElasticNet, Lasso
from ._map import MAPRegressor
from ._ridge import Ridge, ridge_path

__all__ = ["ElasticNet", "Lasso", "MAPRegressor", "Ridge", "ridge_path"]
