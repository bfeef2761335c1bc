"""Figures: glmnet's two pictures of a penalized fit.

:func:`plot_path` draws coefficients against log λ with the number of nonzero coefficients on the
top axis (glmnet's ``plot(fit)``); :func:`plot_cv` draws the cross-validation curve with one
standard error bars and the λ.min and λ.1se lines (``plot(cv.glmnet(...))``). They read paths and
fitted estimators and return matplotlib figures; nothing in the library imports this package but
the command line. matplotlib is imported here only (``pip install 'shrinkage[plot]'``).
"""

from .cv import plot_cv
from .path import plot_path

__all__ = ["plot_cv", "plot_path"]
