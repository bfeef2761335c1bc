"""Datafits: the ``L(w)`` of ``L(w) + alpha P(w)``, each a negative log-likelihood per sample.

A datafit is a per-sample loss ``l(y_i, z_i)`` of the linear predictor ``z = X w + b``, averaged
with sample weights normalised to sum to n::

    F(w, b) = (1 / n) sum_i s_i l(y_i, x_i' w + b)

Solvers use only the methods below. ``raw_gradient`` and ``raw_hessian`` (derivatives with respect
to ``z``) give the quadratic model ``l(y, z + d) ~ l + g d + h d^2 / 2`` on which coordinate descent
runs: for :class:`Quadratic` the model is exact (``h = 1``, working response ``y``), so one call
of the least-squares kernel solves the problem; a logistic, squared-hinge or Huber datafit supplies
the same four functions and a proximal-Newton loop calls the same kernel on its weighted model.
"""

from abc import ABC, abstractmethod

import numpy as np


class Datafit(ABC):
    """Per-sample loss ``l(y, z)``, averaged with normalised sample weights."""

    @abstractmethod
    def loss(self, y, z):
        """Per-sample loss ``l(y_i, z_i)``."""

    @abstractmethod
    def raw_gradient(self, y, z):
        """``dl/dz`` per sample."""

    @abstractmethod
    def raw_hessian(self, y, z):
        """``d^2 l / dz^2`` per sample (a generalised Hessian where ``l`` has kinks)."""

    @abstractmethod
    def log_likelihood(self, y, z, **params):
        """Log-likelihood of ``y`` given the linear predictor ``z``: the probabilistic view."""

    def value(self, y, z, sample_weight=None):
        """``F = (1/n) sum_i s_i l(y_i, z_i)`` with ``s`` normalised to sum to n."""
        return float(np.mean(normalise_sample_weight(sample_weight, len(y)) * self.loss(y, z)))

    def gradient(self, X, y, z, sample_weight=None):
        """``dF/dw = (1/n) X' (s * dl/dz)``."""
        s = normalise_sample_weight(sample_weight, len(y))
        return X.T @ (s * self.raw_gradient(y, z)) / len(y)

    def quadratic_model(self, y, z):
        """``(h, working_response)`` with ``l(y, z') ~ h (working_response - z')^2 / 2 + const``."""
        h = self.raw_hessian(y, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(h > 0, self.raw_gradient(y, z) / h, 0.0)
        return h, z - step


class Quadratic(Datafit):
    """Least squares ``l(y, z) = (y - z)^2 / 2``: ``F = (1/2n) sum_i s_i (y_i - z_i)^2``.

    The negative log-likelihood of Gaussian noise, ``y_i ~ N(z_i, noise^2)`` with row i counted
    ``s_i`` times (frequency weights), times ``noise^2 / sum_i s_i`` and up to a constant: see
    :meth:`log_likelihood`.
    """

    def loss(self, y, z):
        return 0.5 * (np.asarray(y) - np.asarray(z)) ** 2

    def raw_gradient(self, y, z):
        return np.asarray(z) - np.asarray(y)

    def raw_hessian(self, y, z):
        return np.ones(np.shape(y))

    def log_likelihood(self, y, z, noise=1.0, sample_weight=None):
        """``sum_i s_i log N(y_i; z_i, noise^2)`` (raw frequency weights ``s``, 1 by default).

        Equals ``-(N / noise^2) F - (N / 2) log(2 pi noise^2)`` with ``N = sum_i s_i``.
        """
        y, z = np.asarray(y, dtype=np.float64), np.asarray(z, dtype=np.float64)
        s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        log_density = -0.5 * (y - z) ** 2 / noise**2 - 0.5 * np.log(2 * np.pi * noise**2)
        return float(s @ log_density)

    def __repr__(self):
        return "Quadratic()"


def normalise_sample_weight(sample_weight, n_samples):
    """Sample weights rescaled to sum to ``n_samples`` (ones when ``None``)."""
    if sample_weight is None:
        return np.ones(n_samples)
    s = np.asarray(sample_weight, dtype=np.float64)
    return s * (n_samples / s.sum())
