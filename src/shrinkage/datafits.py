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

    def log_likelihood(self, y, z, sample_weight=None):
        """Log-likelihood of ``y`` given the linear predictor ``z``: the probabilistic view.

        ``-sum_i s_i l(y_i, z_i)`` with raw weights (1 by default): exact for the logistic loss
        (Bernoulli), up to the normalising constant for Huber, a pseudo-likelihood for the
        hinge losses. :class:`Quadratic` adds the Gaussian's noise scale and constant.
        """
        s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        return float(-(s @ self.loss(y, z)))

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


# ---------------------------------------------------------------------------------------------
# Classification and robust regression (issue 4). Each datafit below also knows the Fenchel
# conjugate of its per-sample loss, which gives the duality gap the proximal-Newton driver stops
# on (:mod:`shrinkage.solvers.prox_newton`). Notation: ``c_i = s_i / n`` (normalised weights over
# n), ``f_i(z) = c_i l(y_i, z)`` and, for a dual point ``theta`` (``-grad f_i`` at the optimum),
# ``dual_loss`` returns ``sum_i f_i*(-theta_i)``. ``dual_loss`` is finite on the domain that
# :meth:`dual_point` and any rescaling of it by a factor in [0, 1] keep (the argument: every
# domain below is an interval containing ``theta_i = 0`` and ``theta_i = -grad_i``).
# ---------------------------------------------------------------------------------------------


def _xlogx(v):
    """``v log v`` with ``0 log 0 = 0``."""
    from scipy.special import xlogy

    return xlogy(v, v)


class Logistic(Datafit):
    """Binary logistic loss ``l(y, z) = log(1 + exp(z)) - y z`` for labels ``y in {0, 1}``.

    The negative log-likelihood of ``y_i ~ Bernoulli(sigmoid(z_i))``. With penalties, the map to
    scikit-learn's ``LogisticRegression(C)``, which minimises ``C sum_i s_i l_i + P(w)``, is
    ``alpha = 1 / (C sum_i s_i)``: shrinkage's ``(1/n) sum_i s_i l_i + alpha P(w)`` (weights
    normalised) times ``C sum_i s_i`` is scikit-learn's objective.

    Prior reading: ``C sum_i NLL_i + ||w||_1`` is ``-log`` of likelihood times a Laplace(0, b)
    prior with ``b = C``; ``C sum_i NLL_i + ||w||^2 / 2`` is the Gaussian prior N(0, tau^2) with
    ``tau^2 = C``. The penalized estimate is the MAP estimate of that model.

    Conjugate: ``log(1 + e^z)`` has conjugate the binary negative entropy
    ``phi*(q) = q log q + (1 - q) log(1 - q)`` on ``[0, 1]``, so ``f_i*(-theta_i) = c_i phi*(q_i)``
    with ``q_i = y_i - theta_i / c_i`` (the predicted probability when ``theta = c (y - p)``).
    """

    def loss(self, y, z):
        z = np.asarray(z, dtype=np.float64)
        return np.logaddexp(0.0, z) - np.asarray(y) * z

    def raw_gradient(self, y, z):
        return _sigmoid(z) - np.asarray(y)

    def raw_hessian(self, y, z):
        p = _sigmoid(z)
        return p * (1.0 - p)

    def dual_loss(self, y, theta, c):
        y = np.asarray(y, dtype=np.float64)
        mask = c > 0
        q = np.clip(y[mask] - theta[mask] / c[mask], 0.0, 1.0)
        return float(c[mask] @ (_xlogx(q) + _xlogx(1.0 - q)))

    def __repr__(self):
        return "Logistic()"


def _sigmoid(z):
    from scipy.special import expit

    return expit(np.asarray(z, dtype=np.float64))


class SquaredHinge(Datafit):
    """L2-loss SVM ``l(y, z) = max(0, 1 - y z)^2`` for labels ``y in {-1, +1}``.

    scikit-learn's ``LinearSVC(loss="squared_hinge", C)`` minimises ``C sum_i l_i + P(w)``: the
    map is ``alpha = 1 / (C n)`` as for :class:`Logistic`. Probabilistic reading: ``exp(-l)`` is
    an (improper) pseudo-likelihood, so the penalized fit is a MAP estimate in that sense only.

    The loss is once differentiable; ``raw_hessian`` is the generalised Hessian (2 where the
    margin is violated, 0 elsewhere). Conjugate, with ``m = max(0, 1 - y z)`` and
    ``theta_i = 2 c_i y_i m_i``: ``f_i*(-theta_i) = -theta_i y_i + theta_i^2 / (4 c_i)`` when
    ``theta_i y_i >= 0`` (infinite otherwise).
    """

    def loss(self, y, z):
        return np.maximum(0.0, 1.0 - np.asarray(y) * np.asarray(z, dtype=np.float64)) ** 2

    def raw_gradient(self, y, z):
        y = np.asarray(y, dtype=np.float64)
        return -2.0 * y * np.maximum(0.0, 1.0 - y * np.asarray(z, dtype=np.float64))

    def raw_hessian(self, y, z):
        y = np.asarray(y, dtype=np.float64)
        return np.where(y * np.asarray(z, dtype=np.float64) < 1.0, 2.0, 0.0)

    def dual_loss(self, y, theta, c):
        y = np.asarray(y, dtype=np.float64)
        mask = c > 0
        t = np.maximum(theta[mask] * y[mask], 0.0)
        return float(np.sum(-t + t * t / (4.0 * c[mask])))

    def __repr__(self):
        return "SquaredHinge()"


class Hinge(Datafit):
    """L1-loss SVM ``l(y, z) = max(0, 1 - y z)`` for labels ``y in {-1, +1}``.

    Not differentiable: fitted through its dual (coordinate descent on the box-constrained dual,
    :mod:`shrinkage._kernels.hinge_dual`) with an L2 penalty, as liblinear does. scikit-learn's
    ``LinearSVC(loss="hinge", C)`` minimises ``C sum_i l_i + ||w||^2 / 2``; ``alpha = 1 / (C n)``.
    ``raw_gradient`` is a subgradient and ``raw_hessian`` zero.
    """

    def loss(self, y, z):
        return np.maximum(0.0, 1.0 - np.asarray(y) * np.asarray(z, dtype=np.float64))

    def raw_gradient(self, y, z):
        y = np.asarray(y, dtype=np.float64)
        return np.where(y * np.asarray(z, dtype=np.float64) < 1.0, -y, 0.0)

    def raw_hessian(self, y, z):
        return np.zeros(np.shape(y))

    def __repr__(self):
        return "Hinge()"


class Huber(Datafit):
    """Huber loss of the residual ``r = y - z``: ``r^2 / 2`` for ``|r| <= delta``, else
    ``delta |r| - delta^2 / 2``.

    Quadratic near zero and linear in the tails, so a few gross outliers pull the fit with bounded
    force. It is the negative log-density of Huber's least-favourable distribution (Gaussian centre,
    Laplace tails) at unit scale. ``delta`` is in the units of ``y`` (no scale is estimated, unlike
    scikit-learn's ``HuberRegressor``, whose ``epsilon`` multiplies a jointly fitted scale).

    Conjugate: ``rho*(v) = v^2 / 2`` on ``|v| <= delta``; with ``theta_i = c_i rho'(r_i)``,
    ``f_i*(-theta_i) = -theta_i y_i + theta_i^2 / (2 c_i)`` for ``|theta_i| <= c_i delta``.
    """

    def __init__(self, delta=1.35):
        self.delta = float(delta)

    def loss(self, y, z):
        r = np.abs(np.asarray(y, dtype=np.float64) - np.asarray(z, dtype=np.float64))
        d = self.delta
        return np.where(r <= d, 0.5 * r * r, d * r - 0.5 * d * d)

    def raw_gradient(self, y, z):
        r = np.asarray(y, dtype=np.float64) - np.asarray(z, dtype=np.float64)
        return -np.clip(r, -self.delta, self.delta)

    def raw_hessian(self, y, z):
        r = np.asarray(y, dtype=np.float64) - np.asarray(z, dtype=np.float64)
        return np.where(np.abs(r) <= self.delta, 1.0, 0.0)

    def model_curvature(self, y, z):
        """Curvature of the quadratic majorizer at the residual: ``min(1, delta / |r|)``.

        Huber's IRLS weights: the quadratic with this curvature and the datafit's gradient lies
        above the loss and touches it at ``r`` (in the tails its working response is ``y``), where
        the generalised Hessian (0 in the tails) gives no model.
        """
        r = np.abs(np.asarray(y, dtype=np.float64) - np.asarray(z, dtype=np.float64))
        with np.errstate(divide="ignore"):
            return np.minimum(1.0, self.delta / r)

    def dual_loss(self, y, theta, c):
        y = np.asarray(y, dtype=np.float64)
        mask = c > 0
        t = np.clip(theta[mask], -c[mask] * self.delta, c[mask] * self.delta)
        return float(np.sum(-t * y[mask] + t * t / (2.0 * c[mask])))

    def __repr__(self):
        return f"Huber(delta={self.delta:g})"
