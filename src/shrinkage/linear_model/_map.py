"""MAP estimation: a prior and a noise level in, the matching penalized fit out."""

from numbers import Integral, Real

from sklearn.utils._param_validation import HasMethods, Interval

from ..priors import Flat
from ._base import PenalizedLinearModel


class MAPRegressor(PenalizedLinearModel):
    """Maximum a posteriori linear regression under Gaussian noise and a coefficient prior.

    Model: ``y_i = x_i' w + b + e_i`` with ``e_i ~ N(0, noise^2)``, ``w ~ prior`` and a flat prior
    on ``b``; sample weights are frequency weights (row i counts ``s_i`` times) and
    ``N = sum_i s_i`` is the number of observations they stand for (n without weights). The MAP
    estimate maximises ``sum_i s_i log p(y_i | w, b) + log p(w)``; multiplying the negative of that
    by ``noise^2 / N`` turns it into shrinkage's objective (weights rescaled to sum to n)

        (1 / 2n) sum_i s_i (y_i - x_i' w - b)^2 + alpha P(w)

    with the penalty ``prior.penalty(noise, N)``:

    - ``Laplace(b)`` -> ``L1(alpha = noise^2 / (N b))``: the :class:`Lasso`;
    - ``Gaussian(tau)`` -> ``L2(alpha = noise^2 / (N tau^2))``: :class:`Ridge`;
    - ``ElasticNetPrior(b, tau)`` -> the :class:`ElasticNet`;
    - ``Flat()`` (the default) -> ordinary least squares, the maximum-likelihood estimate.

    The fit runs the very solver of the matching estimator, so the coefficients are the same
    numbers, not merely close ones.

    Parameters
    ----------
    prior : Prior, default=None
        A :mod:`shrinkage.priors` object; ``None`` is :class:`~shrinkage.priors.Flat`.
    noise : float, default=1.0
        Noise standard deviation ``sigma`` (same units as y).
    fit_intercept : bool, default=True
    positive : bool, default=False
        Restrict the prior's support to ``w >= 0`` (a truncated prior).
    max_iter, tol, warm_start
        As for :class:`Lasso` (used when the penalty has an L1 part or ``positive``).

    Attributes
    ----------
    alpha_ : float
        The penalty strength the prior and noise map to.
    penalty_ : Penalty
        ``prior.penalty(noise, N)``.
    coef_, intercept_, n_iter_, dual_gap_
        As for the matching estimator.
    """

    _parameter_constraints: dict = {
        "prior": [HasMethods(["penalty", "logpdf"]), None],
        "noise": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
    }

    penalty_factor = None  # per-coefficient prior scales play that role

    def __init__(self, prior=None, *, noise=1.0, fit_intercept=True, positive=False,
                 max_iter=1000, tol=1e-4, warm_start=False):
        self.prior = prior
        self.noise = noise
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def _make_penalty(self, n_samples, n_features):
        prior = Flat() if self.prior is None else self.prior
        penalty = prior.penalty(self.noise, n_samples)
        penalty.positive = self.positive
        self.alpha_ = penalty.alpha
        return penalty
