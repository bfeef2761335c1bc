"""Figures: glmnet's two pictures of a penalized fit, and the teaching pictures of the demos.

:func:`plot_path` draws coefficients against log λ with the number of nonzero coefficients on the
top axis (glmnet's ``plot(fit)``); :func:`plot_cv` draws the cross-validation curve with one
standard error bars and the λ.min and λ.1se lines (``plot(cv.glmnet(...))``);
:func:`plot_priors` draws prior densities beside their negative logs (the penalties);
:func:`plot_iterates` draws coefficients over an optimiser's iterations;
:func:`plot_posterior` puts a Bayesian lasso's MAP point beside its posterior. They read paths, fitted
estimators and arrays and return matplotlib figures; nothing in the library imports this package
but the command line and :mod:`shrinkage.demos`. matplotlib is imported here only
(``pip install 'shrinkage[plot]'``).
"""

from .cv import plot_cv
from .iterates import plot_iterates
from .path import plot_path
from .posterior import plot_posterior
from .priors import plot_priors

__all__ = ["plot_cv", "plot_iterates", "plot_path", "plot_posterior", "plot_priors"]
