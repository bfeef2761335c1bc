"""Estimators with the scikit-learn API, and regularization paths."""

from ._coordinate_descent import ElasticNet, Lasso
from ._cv import ElasticNetCV, LassoCV, LassoIC, one_standard_error_alpha
from ._huber import HuberRegressor
from ._logistic import LogisticPath, LogisticRegression, LogisticRegressionCV, logistic_path
from ._map import MAPRegressor
from ._path import RegularizationPath, enet_path, lasso_path
from ._ridge import Ridge, ridge_path
from ._svm import LinearSVC

__all__ = [
    "ElasticNet",
    "ElasticNetCV",
    "HuberRegressor",
    "Lasso",
    "LassoCV",
    "LassoIC",
    "LinearSVC",
    "LogisticPath",
    "LogisticRegression",
    "LogisticRegressionCV",
    "MAPRegressor",
    "RegularizationPath",
    "Ridge",
    "enet_path",
    "lasso_path",
    "logistic_path",
    "one_standard_error_alpha",
    "ridge_path",
]
