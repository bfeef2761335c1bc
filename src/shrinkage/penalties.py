"""Penalties: the ``R(w)`` of ``datafit(w) + R(w)``, each the negative log-density of a prior.

shrinkage has one scaling convention, glmnet's, for every estimator::

    minimise_w   (1 / 2n) sum_i s_i (y_i - x_i' w - b)^2  +  alpha * P(w)

    L1:          P(w) = sum_j f_j |w_j|
    L2:          P(w) = sum_j f_j w_j^2 / 2
    ElasticNet:  P(w) = sum_j f_j ( rho |w_j| + (1 - rho) w_j^2 / 2 )

with sample weights ``s`` normalised to sum to n, per-feature penalty factors ``f_j >= 0``
(glmnet's ``penalty.factor``; ``f_j = 0`` leaves feature j unpenalized) and ``rho = l1_ratio``.
``positive=True`` adds the constraint ``w >= 0``, handled inside the proximal operator.

Before a kernel sees a penalty it is *lowered* to two arrays, ``l1_j = alpha rho f_j`` and
``l2_j = alpha (1 - rho) f_j``, and the ``positive`` flag: one cached kernel serves every member
of the family.

Maps to other libraries (no sample weights; with weights replace n by sum_i s_i where noted):

- scikit-learn ``Lasso(alpha)`` and ``ElasticNet(alpha, l1_ratio)``: the same alpha and l1_ratio.
- scikit-learn ``Ridge(alpha=a)`` minimises ``||y - Xw||^2 + a ||w||^2``: ``a = alpha * sum_i s_i``.
- glmnet: ``lambda = alpha``, glmnet's ``alpha = l1_ratio``; glmnet rescales ``penalty.factor`` to
  sum to the number of features, shrinkage uses the factors as given.
- Priors: see each penalty's :meth:`prior` and :mod:`shrinkage.priors`.
"""

from abc import ABC, abstractmethod
from numbers import Real

import numpy as np

from ._kernels.prox import prox_enet, subdiff_distance


def _check_alpha(alpha):
    if not isinstance(alpha, Real) or isinstance(alpha, bool) or not np.isfinite(alpha):
        raise ValueError(f"alpha must be a finite real number, got {alpha!r}")
    if alpha < 0:
        raise ValueError(f"alpha must be non-negative, got {alpha!r}")
    return float(alpha)


def check_penalty_factor(penalty_factor, n_features):
    """Validate per-feature penalty factors; ``None`` means 1 for every feature."""
    if penalty_factor is None:
        return np.ones(n_features)
    factor = np.asarray(penalty_factor, dtype=np.float64)
    if factor.ndim != 1 or factor.shape[0] != n_features:
        raise ValueError(
            f"penalty_factor must have one entry per feature ({n_features}), "
            f"got shape {factor.shape}"
        )
    if not np.all(np.isfinite(factor)):
        raise ValueError("penalty_factor contains NaN or infinity")
    if np.any(factor < 0):
        raise ValueError("penalty_factor must be non-negative (0 leaves a feature unpenalized)")
    return factor


class Penalty(ABC):
    """A separable penalty ``alpha * P(w)`` of the elastic-net family.

    Parameters
    ----------
    alpha : float
        Penalty strength, ``>= 0``.
    weights : array-like of shape (n_features,), optional
        Per-feature penalty factors ``f_j >= 0``; 0 leaves feature j unpenalized.
    positive : bool
        Constrain the coefficients to be non-negative.
    """

    def __init__(self, alpha, weights=None, positive=False):
        self.alpha = _check_alpha(alpha)
        self.weights = None
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            self.weights = check_penalty_factor(weights, weights.shape[0] if weights.ndim else 0)
        self.positive = bool(positive)

    @property
    @abstractmethod
    def l1_ratio(self):
        """The share of ``alpha`` on the L1 part."""

    def lower(self, n_features):
        """Return ``(l1, l2)``: the per-feature L1 and L2 strengths the kernels take."""
        factor = check_penalty_factor(self.weights, n_features)
        return (self.alpha * self.l1_ratio * factor,
                self.alpha * (1.0 - self.l1_ratio) * factor)

    def value(self, w):
        """``alpha * P(w)`` (infinite when ``positive`` and some ``w_j < 0``)."""
        w = np.asarray(w, dtype=np.float64)
        if self.positive and np.any(w < 0):
            return np.inf
        l1, l2 = self.lower(w.shape[0])
        return float(l1 @ np.abs(w) + 0.5 * l2 @ (w * w))

    def prox(self, w, step):
        """Proximal operator ``argmin_x ||x - w||^2 / (2 step) + alpha P(x)``.

        Soft-thresholding at ``step * l1_j`` followed by the shrinkage ``1 / (1 + step * l2_j)``;
        with ``positive`` the threshold is one-sided and negative values go to zero.
        """
        w = np.asarray(w, dtype=np.float64)
        l1, l2 = self.lower(w.shape[0])
        return prox_enet(w, float(step), l1, l2, self.positive)

    def subdiff_distance(self, w, grad):
        """Per-feature distance from ``-grad`` to the subdifferential of ``alpha P`` at ``w``.

        ``grad`` is the gradient of the datafit at ``w``; all entries are zero exactly at a
        minimiser of ``datafit + penalty`` (the KKT conditions).
        """
        w = np.asarray(w, dtype=np.float64)
        l1, l2 = self.lower(w.shape[0])
        return subdiff_distance(w, np.asarray(grad, dtype=np.float64), l1, l2, self.positive)

    def alpha_max(self, grad_at_zero):
        """Smallest ``alpha`` for which ``w = 0`` minimises ``datafit + penalty``.

        ``grad_at_zero`` is the datafit's gradient at ``w = 0`` (after fitting the intercept and the
        unpenalized features). Infinite when there is no L1 part.
        """
        grad = np.asarray(grad_at_zero, dtype=np.float64)
        factor = check_penalty_factor(self.weights, grad.shape[0])
        if self.l1_ratio == 0:
            return np.inf
        drive = np.maximum(-grad, 0.0) if self.positive else np.abs(grad)
        penalized = factor > 0
        if not np.any(penalized):
            return np.inf
        return float(np.max(drive[penalized] / factor[penalized]) / self.l1_ratio)

    @abstractmethod
    def prior(self, noise, n_samples):
        """The prior whose negative log-density this penalty is, for Gaussian noise ``noise``."""

    def __repr__(self):
        extra = "" if self.weights is None else ", weights=..."
        extra += ", positive=True" if self.positive else ""
        return f"{type(self).__name__}({self._repr_core()}{extra})"

    def _repr_core(self):
        return f"alpha={self.alpha:g}"


class L1(Penalty):
    """Lasso penalty ``alpha * sum_j f_j |w_j|`` — the negative log-density of a Laplace prior."""

    l1_ratio = 1.0

    def prior(self, noise, n_samples):
        """Laplace prior with scale ``b_j = noise^2 / (n alpha f_j)``.

        With Gaussian noise of standard deviation ``noise`` the negative log-posterior is
        ``||y - Xw||^2 / (2 noise^2) + sum_j |w_j| / b_j``; multiplied by ``noise^2 / n`` it is
        ``||y - Xw||^2 / (2n) + alpha sum_j f_j |w_j|`` exactly when ``alpha f_j = noise^2 / (n b_j)``.
        Unpenalized features (``f_j = 0``) get an infinite scale: a flat prior.
        """
        from .priors import Laplace

        return Laplace(_scale_from_strength(self, noise, n_samples, power=1))


class L2(Penalty):
    """Ridge penalty ``alpha * sum_j f_j w_j^2 / 2`` — the negative log-density of a Gaussian prior."""

    l1_ratio = 0.0

    def prior(self, noise, n_samples):
        """Gaussian prior with standard deviation ``tau_j = noise / sqrt(n alpha f_j)``.

        ``||y - Xw||^2 / (2 noise^2) + sum_j w_j^2 / (2 tau_j^2)`` times ``noise^2 / n`` is
        ``||y - Xw||^2 / (2n) + (alpha / 2) sum_j f_j w_j^2`` when ``alpha f_j = noise^2 / (n tau_j^2)``
        (in scikit-learn's Ridge scaling ``||y - Xw||^2 + a ||w||^2``: ``a = noise^2 / tau^2``).
        ``alpha = 0`` gives a flat prior: ordinary least squares.
        """
        from .priors import Flat, Gaussian

        if self.alpha == 0:
            return Flat()
        return Gaussian(_scale_from_strength(self, noise, n_samples, power=2))


class ElasticNet(Penalty):
    """Elastic-net penalty ``alpha * sum_j f_j (rho |w_j| + (1 - rho) w_j^2 / 2)``.

    Parameters
    ----------
    alpha : float
    l1_ratio : float in [0, 1]
        ``rho``: 1 is the lasso, 0 is ridge.
    weights, positive
        As for :class:`Penalty`.
    """

    def __init__(self, alpha, l1_ratio=0.5, weights=None, positive=False):
        super().__init__(alpha, weights, positive)
        if (not isinstance(l1_ratio, Real) or isinstance(l1_ratio, bool)
                or not 0.0 <= l1_ratio <= 1.0):
            raise ValueError(f"l1_ratio must be a number in [0, 1], got {l1_ratio!r}")
        self._l1_ratio = float(l1_ratio)

    @property
    def l1_ratio(self):
        return self._l1_ratio

    def prior(self, noise, n_samples):
        """The elastic-net prior ``p(w_j) ∝ exp(-|w_j| / b_j - w_j^2 / (2 tau_j^2))``.

        ``b_j = noise^2 / (n alpha rho f_j)`` and ``tau_j^2 = noise^2 / (n alpha (1 - rho) f_j)``: the
        L1 and L2 maps applied to each part.
        """
        from .priors import ElasticNetPrior

        l1_part = L1(self.alpha * self.l1_ratio, self.weights)
        l2_part = L2(self.alpha * (1.0 - self.l1_ratio), self.weights)
        return ElasticNetPrior(
            l1_scale=_scale_from_strength(l1_part, noise, n_samples, power=1),
            l2_scale=_scale_from_strength(l2_part, noise, n_samples, power=2),
        )

    def _repr_core(self):
        return f"alpha={self.alpha:g}, l1_ratio={self.l1_ratio:g}"


def _scale_from_strength(penalty, noise, n_samples, power):
    """Prior scale(s) whose penalty under noise ``noise`` and n samples is ``penalty``.

    ``power=1`` (Laplace): ``b = noise^2 / (n alpha f)``; ``power=2`` (Gaussian):
    ``tau = noise / sqrt(n alpha f)``. Zero strength gives an infinite scale (a flat prior).
    """
    noise, n_samples = _check_noise(noise, n_samples)
    strength = penalty.alpha * (1.0 if penalty.weights is None else penalty.weights)
    with np.errstate(divide="ignore"):
        scale = noise**2 / (n_samples * np.asarray(strength, dtype=np.float64))
    scale = scale if power == 1 else np.sqrt(scale)
    return float(scale) if np.ndim(scale) == 0 else scale


def _check_noise(noise, n_samples):
    if not isinstance(noise, Real) or not np.isfinite(noise) or noise <= 0:
        raise ValueError(f"noise (the noise standard deviation) must be positive, got {noise!r}")
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    return float(noise), int(n_samples)


class GroupLasso:
    """Group lasso (l2,1) penalty ``alpha * sum_g f_g ||W_g||_2`` over the slices of ``W`` along ``dim``.

    Group ``g`` is ``W.take(g, axis=dim)``: for a weight matrix of shape ``(n_out, n_in)`` (PyTorch's
    ``nn.Linear``, scikit-learn's ``MultiTaskLasso.coef_``) ``dim=0`` groups the rows (one group per
    output neuron) and ``dim=1`` the columns (one group per input feature); for a convolution weight
    ``(out_channels, in_channels, ...)`` ``dim=0`` groups the output channels. Its proximal operator
    scales each group towards zero and sets whole groups exactly to zero. On a vector with ``dim=0``
    every group is one coefficient and the penalty is :class:`L1`.

    scikit-learn's ``MultiTaskLasso(alpha)`` minimises ``(1/2n)||Y - X W'||_F^2 + alpha sum_j ||W[:, j]||``:
    the same ``alpha`` with ``dim=1`` on its ``coef_`` of shape ``(n_tasks, n_features)``.
    The prior is the multivariate Laplace-type density ``p(W_g) ∝ exp(-||W_g|| / b_g)``.

    Parameters
    ----------
    alpha : float
        Penalty strength, ``>= 0``.
    dim : int
        The axis that indexes the groups (negative counts from the end).
    weights : array-like of shape (n_groups,), optional
        Per-group penalty factors ``f_g >= 0``; 0 leaves a group unpenalized. Default: all 1
        (a common alternative is ``sqrt(group size)``).
    """


    def __init__(self, alpha, dim=0, weights=None):
        self.alpha = _check_alpha(alpha)
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise TypeError(f"dim must be an integer axis, got {dim!r}")
        self.dim = dim
        self.weights = None
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            self.weights = check_penalty_factor(weights, weights.shape[0] if weights.ndim else 0)

    def axis(self, ndim):
        """The group axis for an array of ``ndim`` dimensions (``ValueError`` when it does not exist)."""
        if not -ndim <= self.dim < ndim:
            raise ValueError(f"GroupLasso dim={self.dim} does not exist for an array with {ndim} "
                             f"dimension(s); use a dim in [{-ndim}, {ndim - 1}]")
        return self.dim % ndim

    def group_strengths(self, n_groups):
        """``alpha * f_g`` for each of ``n_groups`` groups."""
        return self.alpha * check_penalty_factor(self.weights, n_groups)

    def _groups(self, w):
        w = np.asarray(w, dtype=np.float64)
        axis = self.axis(w.ndim)
        return w, axis, np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)

    def value(self, w):
        """``alpha * sum_g f_g ||W_g||_2``."""
        _, _, groups = self._groups(w)
        return float(self.group_strengths(groups.shape[0]) @ np.linalg.norm(groups, axis=1))

    def prox(self, w, step):
        """Block soft-thresholding ``W_g * max(1 - step alpha f_g / ||W_g||, 0)`` for every group.

        It is ``argmin_X ||X - W||_F^2 / (2 step) + alpha sum_g f_g ||X_g||``; a group whose norm is at
        most ``step alpha f_g`` becomes exactly zero.
        """
        w, axis, groups = self._groups(w)
        threshold = step * self.group_strengths(groups.shape[0])
        norms = np.linalg.norm(groups, axis=1)
        scale = np.zeros_like(norms)
        alive = norms > threshold
        scale[alive] = 1.0 - threshold[alive] / norms[alive]
        shape = [1] * w.ndim
        shape[axis] = -1
        return w * scale.reshape(shape)

    def subdiff_distance(self, w, grad):
        """Per-group distance from ``-grad`` to the subdifferential of the penalty at ``w`` (KKT)."""
        _, _, groups = self._groups(w)
        _, _, grads = self._groups(grad)
        strength = self.group_strengths(groups.shape[0])
        norms = np.linalg.norm(groups, axis=1)
        out = np.maximum(np.linalg.norm(grads, axis=1) - strength, 0.0)
        alive = norms > 0
        direction = groups[alive] / norms[alive, None]
        out[alive] = np.linalg.norm(grads[alive] + strength[alive, None] * direction, axis=1)
        return out

    def alpha_max(self, grad_at_zero):
        """Smallest ``alpha`` for which ``W = 0`` is optimal: ``max_g ||grad_g|| / f_g``."""
        _, _, grads = self._groups(grad_at_zero)
        factor = check_penalty_factor(self.weights, grads.shape[0])
        penalized = factor > 0
        if not np.any(penalized):
            return np.inf
        return float(np.max(np.linalg.norm(grads, axis=1)[penalized] / factor[penalized]))

    def __repr__(self):
        extra = "" if self.weights is None else ", weights=..."
        return f"GroupLasso(alpha={self.alpha:g}, dim={self.dim}{extra})"
