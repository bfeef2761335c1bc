"""Posterior estimators: the priors of :mod:`shrinkage.priors` carried from MAP to the posterior.

:class:`BayesianRidge` (Gaussian prior, conjugate, precisions by evidence maximisation) and
:class:`BayesianLasso` (Laplace prior, Park & Casella's Gibbs sampler); split R-hat and effective
sample size in :mod:`shrinkage.bayes._diagnostics`.
"""

from ._diagnostics import effective_sample_size, split_rhat
from ._lasso import BayesianLasso
from ._ridge import BayesianRidge

__all__ = ["BayesianLasso", "BayesianRidge", "effective_sample_size", "split_rhat"]
