"""shrinkage: L1 and L2 regularized learning, analytical and probabilistic.

An estimate minimises datafit + penalty, which is the same thing as maximising
likelihood x prior: a datafit is a negative log-likelihood, a penalty a negative log-prior.
"""

from . import datafits, penalties, priors
from .bayes import BayesianLasso, BayesianRidge
from .datafits import Huber, Logistic, Quadratic, SquaredHinge
from .linear_model import (
    ElasticNet,
    ElasticNetCV,
    HuberRegressor,
    Lasso,
    LassoCV,
    LassoIC,
    LinearSVC,
    LogisticRegression,
    LogisticRegressionCV,
    MAPRegressor,
    Ridge,
    enet_path,
    lasso_path,
    logistic_path,
    ridge_path,
)
from .penalties import L1, L2
from .priors import ElasticNetPrior, Flat, Gaussian, Laplace

__version__ = "0.1.0"

__all__ = [
    "L1",
    "L2",
    "BayesianLasso",
    "BayesianRidge",
    "ElasticNet",
    "ElasticNetCV",
    "ElasticNetPrior",
    "Flat",
    "Gaussian",
    "Huber",
    "HuberRegressor",
    "Laplace",
    "Lasso",
    "LassoCV",
    "LassoIC",
    "LinearSVC",
    "Logistic",
    "LogisticRegression",
    "LogisticRegressionCV",
    "MAPRegressor",
    "Quadratic",
    "Ridge",
    "SquaredHinge",
    "datafits",
    "enet_path",
    "lasso_path",
    "logistic_path",
    "penalties",
    "priors",
    "ridge_path",
]
