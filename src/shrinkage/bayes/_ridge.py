"""Bayesian ridge regression: the Gaussian prior's full conjugate posterior, precisions by evidence.

Model (``w`` the coefficients, an unpenalized intercept handled by centring)::

    y_i | w, alpha ~ N(x_i' w + b, 1 / alpha)     noise precision alpha  (sigma^2 = 1 / alpha)
    w | lambda     ~ N(0, I / lambda)             prior precision lambda (Gaussian, tau^2 = 1/lambda)
    alpha ~ Gamma(alpha_1, alpha_2),  lambda ~ Gamma(lambda_1, lambda_2)   (shape, rate)

Given ``(alpha, lambda)`` the posterior of ``w`` is Gaussian with covariance
``S = (lambda I + alpha X'X)^-1`` and mean ``m = alpha S X'y``: the :class:`~shrinkage.Ridge` /
MAP estimate under ``Gaussian(scale=1/sqrt(lambda))`` with noise ``1/sqrt(alpha)``.
``(alpha, lambda)`` maximise the evidence by MacKay's (1992) fixed-point updates, exactly as
scikit-learn's ``BayesianRidge`` (Tipping 2001, appendix A), so the numbers agree with it.
"""

from math import log
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ..linear_model._base import check_numeric_columns, validate_fit_input
from ..priors import Gaussian


class BayesianRidge(RegressorMixin, BaseEstimator):
    """Bayesian ridge regression with noise and prior precisions chosen by evidence maximisation.

    The posterior of the coefficients given the noise precision ``alpha`` and the prior precision
    ``lambda`` is ``N(m, S)``, ``S = (lambda I + alpha X'X)^-1``, ``m = alpha S X'y`` (X and y
    centred when ``fit_intercept``). Everything is computed from one thin SVD ``X = U diag(s) V'``:

    - ``m = V diag(s / (s^2 + lambda / alpha)) U'y`` (no inverse, no normal equations);
    - ``gamma = sum_k alpha s_k^2 / (lambda + alpha s_k^2)`` (effective number of parameters);
    - MacKay's updates ``lambda <- (gamma + 2 lambda_1) / (||m||^2 + 2 lambda_2)``,
      ``alpha <- (N - gamma + 2 alpha_1) / (||y - Xm||^2 + 2 alpha_2)``;
    - stop when ``sum_j |m_j - m_j^old| < tol`` (scikit-learn's rule), at most ``max_iter`` rounds;
    - ``S = V diag(1 / (lambda + alpha s^2)) V' + (I - V V') / lambda``.

    Sample weights are frequency weights (row i counts ``s_i`` times, ``N = sum_i s_i``), applied
    by centring with weighted means and scaling rows by ``sqrt(s_i)``, as scikit-learn does.

    In shrinkage's terms the posterior mean is the MAP estimate under
    ``prior_ = Gaussian(scale=1 / sqrt(lambda_))`` with noise ``noise_ = 1 / sqrt(alpha_)``, i.e.
    ``Ridge(alpha = lambda_ / (alpha_ N))`` (``MAPRegressor(prior_, noise=noise_)``).

    Parameters
    ----------
    max_iter : int, default=300
    tol : float, default=1e-3
    alpha_1, alpha_2 : float, default=1e-6
        Shape and rate of the Gamma hyperprior on the noise precision ``alpha``.
    lambda_1, lambda_2 : float, default=1e-6
        Shape and rate of the Gamma hyperprior on the prior precision ``lambda``.
    alpha_init : float, default=None
        Starting ``alpha``; ``None`` is ``1 / Var(y)``.
    lambda_init : float, default=None
        Starting ``lambda``; ``None`` is 1.
    compute_score : bool, default=False
        Record the log marginal likelihood (plus the hyperpriors' log densities) at each round.
    fit_intercept : bool, default=True
        Centre X and y; the intercept is not a random variable (flat prior, point estimate).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Posterior mean ``m``.
    intercept_ : float
    alpha_, lambda_ : float
        Noise and prior precisions at the end.
    sigma_ : ndarray of shape (n_features, n_features)
        Posterior covariance ``S``.
    scores_ : ndarray
        Only with ``compute_score``: the log evidence at each round, then at the end.
    n_iter_ : int
    noise_ : float
        ``1 / sqrt(alpha_)``, the noise standard deviation.
    prior_ : Gaussian
        ``Gaussian(scale=1 / sqrt(lambda_))``, the fitted prior on each coefficient.
    X_offset_ : ndarray of shape (n_features,)
    """

    _parameter_constraints: dict = {
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "alpha_1": [Interval(Real, 0, None, closed="left")],
        "alpha_2": [Interval(Real, 0, None, closed="left")],
        "lambda_1": [Interval(Real, 0, None, closed="left")],
        "lambda_2": [Interval(Real, 0, None, closed="left")],
        "alpha_init": [None, Interval(Real, 0, None, closed="left")],
        "lambda_init": [None, Interval(Real, 0, None, closed="left")],
        "compute_score": ["boolean"],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, *, max_iter=300, tol=1.0e-3, alpha_1=1.0e-6, alpha_2=1.0e-6,
                 lambda_1=1.0e-6, lambda_2=1.0e-6, alpha_init=None, lambda_init=None,
                 compute_score=False, fit_intercept=True):
        self.max_iter = max_iter
        self.tol = tol
        self.alpha_1 = alpha_1
        self.alpha_2 = alpha_2
        self.lambda_1 = lambda_1
        self.lambda_2 = lambda_2
        self.alpha_init = alpha_init
        self.lambda_init = lambda_init
        self.compute_score = compute_score
        self.fit_intercept = fit_intercept

    def fit(self, X, y, sample_weight=None):
        """Fit the posterior and the precisions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input is densified (the SVD is dense).
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative frequency weights.

        Returns
        -------
        self
        """
        self._validate_params()
        X, y, sw = validate_fit_input(self, X, y, sample_weight, multi_output=False)
        X = X.toarray() if sp.issparse(X) else X
        X = np.asarray(X, dtype=np.float64)
        n_samples, n_features = X.shape
        if sw is None:
            n_obs = float(n_samples)
            y_var = y.var()
            weights = np.ones(n_samples)
        else:
            n_obs = float(sw.sum())
            weights = sw
            y_var = np.average((y - np.average(y, weights=sw)) ** 2, weights=sw)
        if self.fit_intercept:
            X_offset = np.average(X, axis=0, weights=weights)
            y_offset = float(np.average(y, weights=weights))
        else:
            X_offset, y_offset = np.zeros(n_features), 0.0
        # frequency weights: centre with weighted means, then scale rows by sqrt(s_i)
        root = np.sqrt(weights)
        Xc = (X - X_offset) * root[:, None]
        yc = (y - y_offset) * root

        U, s, Vt = np.linalg.svd(Xc, full_matrices=False)  # X = U diag(s) V'
        eig = s**2                                          # eigenvalues of X'X (the nonzero ones)
        Uty = U.T @ yc
        alpha = 1.0 / (y_var + np.finfo(np.float64).eps) if self.alpha_init is None \
            else float(self.alpha_init)
        lam = 1.0 if self.lambda_init is None else float(self.lambda_init)

        scores = []
        coef_old = None
        for it in range(self.max_iter):
            coef, sse = _posterior_mean(Xc, yc, Vt, s, Uty, alpha, lam)
            if self.compute_score:
                scores.append(self._log_evidence(n_features, n_obs, eig, alpha, lam, coef, sse))
            # MacKay (1992): gamma = effective number of well-determined parameters
            gamma = np.sum(alpha * eig / (lam + alpha * eig))
            lam = (gamma + 2.0 * self.lambda_1) / (np.sum(coef**2) + 2.0 * self.lambda_2)
            alpha = (n_obs - gamma + 2.0 * self.alpha_1) / (sse + 2.0 * self.alpha_2)
            if it != 0 and np.sum(np.abs(coef_old - coef)) < self.tol:
                break
            coef_old = coef
        self.n_iter_ = it + 1
        self.alpha_, self.lambda_ = float(alpha), float(lam)
        self.coef_, sse = _posterior_mean(Xc, yc, Vt, s, Uty, alpha, lam)
        if self.compute_score:
            scores.append(self._log_evidence(n_features, n_obs, eig, alpha, lam, self.coef_, sse))
            self.scores_ = np.array(scores)
        # S = V diag(1 / (lambda + alpha s^2)) V' + (I - V V') / lambda  (the null space of X
        # keeps the prior's variance 1 / lambda); no inverse formed
        self.sigma_ = (Vt.T / (lam + alpha * eig)) @ Vt
        if Vt.shape[0] < n_features:
            self.sigma_ += (np.eye(n_features) - Vt.T @ Vt) / lam
        self.X_offset_ = X_offset
        self.intercept_ = y_offset - float(X_offset @ self.coef_) if self.fit_intercept else 0.0
        self.noise_ = 1.0 / np.sqrt(self.alpha_)
        self.prior_ = Gaussian(scale=1.0 / np.sqrt(self.lambda_))
        return self

    def _log_evidence(self, n_features, n_obs, eig, alpha, lam, coef, sse):
        """Log marginal likelihood of (alpha, lambda) plus the Gamma hyperpriors' log densities
        (up to constants), scikit-learn's ``scores_``."""
        # log det S = -sum_k log(lambda + alpha s_k^2) - (p - K) log lambda
        logdet_sigma = -np.sum(np.log(lam + alpha * eig)) - (n_features - eig.size) * log(lam)
        score = self.lambda_1 * log(lam) - self.lambda_2 * lam
        score += self.alpha_1 * log(alpha) - self.alpha_2 * alpha
        score += 0.5 * (n_features * log(lam) + n_obs * log(alpha) - alpha * sse
                        - lam * np.sum(coef**2) + logdet_sigma - n_obs * log(2.0 * np.pi))
        return float(score)

    def predict(self, X, return_std=False):
        """Predictive mean, and optionally its standard deviation.

        ``std_i = sqrt(x_i' S x_i + 1 / alpha)`` with ``x_i`` centred by ``X_offset_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        return_std : bool, default=False

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
        y_std : ndarray of shape (n_samples,), only with ``return_std``
        """
        check_is_fitted(self)
        check_numeric_columns(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"],
                          dtype=[np.float64, np.float32], reset=False)
        X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        y_mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return y_mean
        Xc = X - self.X_offset_
        var = np.einsum("ij,jk,ik->i", Xc, self.sigma_, Xc)
        return y_mean, np.sqrt(var + 1.0 / self.alpha_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _posterior_mean(Xc, yc, Vt, s, Uty, alpha, lam):
    """``m = V diag(s / (s^2 + lambda / alpha)) U'y`` and ``sse = ||y - X m||^2``."""
    coef = Vt.T @ (s / (s**2 + lam / alpha) * Uty)
    resid = yc - Xc @ coef
    return coef, float(resid @ resid)
