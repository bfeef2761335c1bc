"""Priors: distributions over coefficients, each the exponential of minus a penalty.

Under Gaussian noise of standard deviation ``noise`` (``y_i = x_i' w + b + e_i``,
``e_i ~ N(0, noise^2)``) and n observations, the negative log posterior is
``(1 / 2 noise^2) sum_i (y_i - x_i' w - b)^2 - log p(w) + const``. Multiplying by ``noise^2 / n``
gives shrinkage's objective ``(1/2n) sum_i r_i^2 + alpha P(w)``, so:

==============================  ==========================================  =========================
prior                           penalty (shrinkage's scaling)               scikit-learn's name
==============================  ==========================================  =========================
``Laplace(b)``                  ``L1(alpha = noise^2 / (n b))``             ``Lasso(alpha)``, same
``Gaussian(tau)``               ``L2(alpha = noise^2 / (n tau^2))``          ``Ridge(a = noise^2/tau^2)``
``ElasticNetPrior(b, tau)``     ``ElasticNet(l1 + l2, l1 / (l1 + l2))``     ``ElasticNet``, same
``Flat()``                      ``L2(alpha = 0)``: least squares            ``LinearRegression``
==============================  ==========================================  =========================

with ``l1 = noise^2 / (n b)`` and ``l2 = noise^2 / (n tau^2)``. A scale may be an array (one per
coefficient); an infinite scale is a flat prior on that coefficient (penalty factor 0).
The intercept always has a flat prior. With frequency weights (row i counts ``s_i`` times) n is
the number of observations they stand for, ``sum_i s_i``.
"""

from abc import ABC, abstractmethod

import numpy as np
from scipy import special, stats
from sklearn.utils import check_random_state

from .penalties import L1, L2, ElasticNet, _check_noise


def _check_scale(scale, name="scale"):
    arr = np.asarray(scale, dtype=np.float64)
    if arr.ndim > 1 or arr.size == 0:
        raise ValueError(f"{name} must be a positive number or a 1-d array of them")
    if np.any(np.isnan(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be positive (infinity means a flat prior), got {scale!r}")
    return float(arr) if arr.ndim == 0 else arr


def _strength_to_penalty(strength, penalty_class, **kwargs):
    """Penalty with per-coefficient strength ``strength`` (scalar or array) as alpha x weights."""
    if np.ndim(strength) == 0:
        return penalty_class(float(strength), **kwargs)
    return penalty_class(1.0, weights=strength, **kwargs)


class Prior(ABC):
    """A prior over the coefficients, independent across coefficients."""

    @abstractmethod
    def logpdf(self, w):
        """Log-density of each coefficient (same shape as ``w``)."""

    @abstractmethod
    def sample(self, size=None, random_state=None):
        """Draw coefficients; ``size`` as in numpy (array scales broadcast against it)."""

    @abstractmethod
    def penalty(self, noise, n_samples):
        """The penalty whose minimiser with the least-squares datafit is the MAP estimate."""

    def neg_log_density(self, w):
        """``-sum(logpdf(w))``: the penalty up to the factor ``n / noise^2`` and a constant."""
        return -float(np.sum(self.logpdf(w)))


class Laplace(Prior):
    """Laplace (double exponential) prior ``p(w) = exp(-|w| / b) / (2 b)``; variance ``2 b^2``.

    Its penalty under noise standard deviation ``sigma`` and n samples is
    ``L1(alpha = sigma^2 / (n b))`` for the objective ``(1/2n) ||y - Xw||^2 + alpha ||w||_1``.
    """

    def __init__(self, scale=1.0):
        self.scale = _check_scale(scale)

    def logpdf(self, w):
        w = np.asarray(w, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = -np.abs(w) / self.scale - np.log(2.0 * self.scale)
        # an infinite scale is the improper flat prior: log-density 0 up to a constant
        return np.where(np.isinf(self.scale), 0.0, out)

    def sample(self, size=None, random_state=None):
        _check_proper(self.scale)
        return check_random_state(random_state).laplace(0.0, self.scale, size=size)

    def penalty(self, noise, n_samples):
        noise, n_samples = _check_noise(noise, n_samples)
        return _strength_to_penalty(noise**2 / (n_samples * np.asarray(self.scale)), L1)

    @property
    def variance(self):
        return 2.0 * np.asarray(self.scale) ** 2

    def __repr__(self):
        return f"Laplace(scale={self.scale!r})"


class Gaussian(Prior):
    """Zero-mean Gaussian prior with standard deviation ``tau = scale``.

    Its penalty under noise standard deviation ``sigma`` and n samples is
    ``L2(alpha = sigma^2 / (n tau^2))`` for ``(1/2n) ||y - Xw||^2 + (alpha / 2) ||w||^2``; in
    scikit-learn's Ridge scaling ``||y - Xw||^2 + a ||w||^2`` that is ``a = sigma^2 / tau^2``.
    """

    def __init__(self, scale=1.0):
        self.scale = _check_scale(scale)

    def logpdf(self, w):
        w = np.asarray(w, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = stats.norm.logpdf(w, scale=self.scale)
        return np.where(np.isinf(self.scale), 0.0, out)

    def sample(self, size=None, random_state=None):
        _check_proper(self.scale)
        return check_random_state(random_state).normal(0.0, self.scale, size=size)

    def penalty(self, noise, n_samples):
        noise, n_samples = _check_noise(noise, n_samples)
        return _strength_to_penalty(noise**2 / (n_samples * np.asarray(self.scale) ** 2), L2)

    @property
    def variance(self):
        return np.asarray(self.scale) ** 2

    def __repr__(self):
        return f"Gaussian(scale={self.scale!r})"


class ElasticNetPrior(Prior):
    """``p(w) ∝ exp(-|w| / b - w^2 / (2 tau^2))``, the prior behind the elastic net.

    Normalised exactly: ``Z = 2 tau sqrt(pi / 2) erfcx(tau / (b sqrt 2))``. Each half is a Gaussian
    of mean ``-tau^2 / b`` truncated to one side, which is how it is sampled.

    Parameters
    ----------
    l1_scale : float or array
        ``b``, the Laplace part's scale.
    l2_scale : float or array
        ``tau``, the Gaussian part's standard deviation.
    """

    def __init__(self, l1_scale=1.0, l2_scale=1.0):
        self.l1_scale = _check_scale(l1_scale, "l1_scale")
        self.l2_scale = _check_scale(l2_scale, "l2_scale")

    def _log_normaliser(self):
        b, tau = np.asarray(self.l1_scale), np.asarray(self.l2_scale)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(2.0 * tau * np.sqrt(np.pi / 2.0)) + np.log(
                special.erfcx(tau / (b * np.sqrt(2.0)))
            )

    def logpdf(self, w):
        w = np.asarray(w, dtype=np.float64)
        b, tau = np.asarray(self.l1_scale), np.asarray(self.l2_scale)
        return -np.abs(w) / b - w**2 / (2.0 * tau**2) - self._log_normaliser()

    def sample(self, size=None, random_state=None):
        _check_proper(self.l2_scale)
        rng = check_random_state(random_state)
        b, tau = np.asarray(self.l1_scale), np.asarray(self.l2_scale)
        shape = np.broadcast_shapes(np.shape(b), np.shape(tau))
        if size is not None:
            shape = np.broadcast_shapes(shape, tuple(np.atleast_1d(size)))
        # |w| follows N(-tau^2 / b, tau^2) truncated to [0, inf): lower bound at tau / b in z-units
        magnitude = stats.truncnorm.rvs(np.broadcast_to(tau / b, shape), np.inf,
                                        loc=np.broadcast_to(-tau**2 / b, shape),
                                        scale=np.broadcast_to(tau, shape), random_state=rng)
        sign = np.where(rng.random_sample(shape) < 0.5, -1.0, 1.0)
        return sign * magnitude

    def penalty(self, noise, n_samples):
        noise, n_samples = _check_noise(noise, n_samples)
        l1 = noise**2 / (n_samples * np.asarray(self.l1_scale))
        l2 = noise**2 / (n_samples * np.asarray(self.l2_scale) ** 2)
        total = l1 + l2
        if np.ndim(total) == 0:
            ratio = float(l1 / total) if total > 0 else 1.0
            return ElasticNet(float(total), l1_ratio=ratio)
        # per-coefficient strengths must share one l1_ratio to be an ElasticNet with weights
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(total > 0, l1 / total, np.nan)
        ratios = ratios[np.isfinite(ratios)]
        if ratios.size and not np.allclose(ratios, ratios[0], rtol=1e-12, atol=0):
            raise ValueError("per-coefficient scales give an ElasticNet penalty only when "
                             "tau_j^2 / b_j is the same for every coefficient")
        ratio = float(ratios[0]) if ratios.size else 1.0
        return ElasticNet(1.0, l1_ratio=ratio, weights=total)

    def __repr__(self):
        return f"ElasticNetPrior(l1_scale={self.l1_scale!r}, l2_scale={self.l2_scale!r})"


class Flat(Prior):
    """The improper flat prior: the MAP estimate is the maximum-likelihood (least-squares) fit."""

    def logpdf(self, w):
        return np.zeros_like(np.asarray(w, dtype=np.float64))

    def sample(self, size=None, random_state=None):
        raise ValueError("the flat prior is improper: it has no samples")

    def penalty(self, noise, n_samples):
        _check_noise(noise, n_samples)
        return L2(0.0)

    def __repr__(self):
        return "Flat()"


def _check_proper(scale):
    if np.any(np.isinf(scale)):
        raise ValueError("a prior with an infinite scale is flat (improper): it has no samples")
