"""Robust regression: the Huber loss with an L1, L2 or elastic-net penalty."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ..datafits import Huber
from ..solvers.prox_newton import solve_prox_newton
from ._base import PenalizedLinearModel, validate_fit_input
from ._logistic import make_penalty


class HuberRegressor(RegressorMixin, BaseEstimator):
    """Linear regression with the Huber loss and an L1, L2 or elastic-net penalty.

    Minimises::

        (1/n) sum_i s_i H_delta(y_i - x_i' w - b) + alpha P(w)

    with ``H_delta(r) = r^2 / 2`` for ``|r| <= delta`` and ``delta |r| - delta^2 / 2`` beyond (the
    :class:`~shrinkage.datafits.Huber` datafit), ``s`` the sample weights normalised to sum to n,
    ``P`` the penalty of :class:`~shrinkage.Lasso` (``"l1"``), :class:`~shrinkage.Ridge`
    (``"l2"``, ``||w||^2 / 2``) or :class:`~shrinkage.ElasticNet`, and ``b`` unpenalized. For
    ``delta -> inf`` it is the least-squares estimator of the same penalty and alpha.

    ``delta`` is in the units of ``y``; unlike scikit-learn's ``HuberRegressor`` (whose ``epsilon``
    multiplies a scale fitted jointly, with an L2 penalty only) no scale is estimated: standardise
    ``y`` or set ``delta`` from a robust scale (e.g. 1.345 times the MAD of the residuals).

    Solved by proximal Newton on Huber's IRLS majorizer with the lasso's coordinate descent inside;
    stops when the duality gap (closed-form conjugate) is below ``tol`` times the objective at
    ``w = 0``.

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet"}, default="l2"
    alpha : float, default=1e-4
    l1_ratio : float, optional
    delta : float, default=1.35
    fit_intercept : bool, default=True
    tol : float, default=1e-8
        Relative duality gap (Newton steps are cheap; the coefficients are then good to ~1e-8).
    max_iter : int, default=200

    Attributes
    ----------
    coef_, intercept_, dual_gap_, n_iter_, outliers_ (``|r_i| > delta`` at the solution)
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "delta": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, penalty="l2", *, alpha=1e-4, l1_ratio=None, delta=1.35,
                 fit_intercept=True, tol=1e-8, max_iter=200):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.delta = delta
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        self._validate_params()
        X, y, sample_weight = validate_fit_input(self, X, y, sample_weight, multi_output=False)
        penalty = make_penalty(self.penalty, self.alpha, self.l1_ratio)
        l1, l2 = penalty.lower(X.shape[1])
        if sp.issparse(X):
            X = sp.csc_matrix(X)
        datafit = Huber(self.delta)
        result = solve_prox_newton(X, y, datafit, l1, l2, sample_weight, self.fit_intercept,
                                   max_iter=self.max_iter, tol=self.tol)
        self.coef_ = result.coef
        self.intercept_ = result.intercept if self.fit_intercept else 0.0
        self.dual_gap_ = result.gap
        self.n_iter_ = result.n_iter
        residual = y - np.asarray(X @ self.coef_).ravel() - self.intercept_
        self.outliers_ = np.abs(residual) > self.delta
        self.penalty_ = penalty
        return self

    predict = PenalizedLinearModel.predict

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
