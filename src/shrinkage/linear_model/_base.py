"""What every penalized least-squares estimator shares: validation at the edge, then one fit.

``fit`` = validate input once -> build the penalty object -> prepare the centred design ->
call a solver per target -> store ``coef_``, ``intercept_``, ``n_iter_``, ``dual_gap_``.
"""

from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..dask import is_dask_collection
from ..solvers import make_design, solve_enet, solve_ridge
from ..solvers.cd import enet_gap


def check_numeric_columns(X):
    """Name the non-numeric columns of a data frame instead of failing on a conversion."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items"):
        return
    bad = []
    for name, dtype in dtypes.items():
        try:
            numeric = np.issubdtype(np.dtype(dtype), np.number) or np.dtype(dtype) == np.bool_
        except TypeError:  # pandas extension dtypes (category, string, ...)
            numeric = getattr(dtype, "kind", "O") in "biuf"
        if not numeric:
            bad.append(str(name))
    if bad:
        raise ValueError(
            f"X has non-numeric column(s) {bad}: encode them (for example one-hot) or drop them "
            "before fitting"
        )


def validate_fit_input(estimator, X, y, sample_weight, multi_output=True):
    """Validate ``X``, ``y`` and ``sample_weight`` once; returns float arrays (never the caller's
    arrays modified in place: every later step copies)."""
    check_numeric_columns(X)
    try:
        X, y = validate_data(estimator, X, y, accept_sparse=["csc", "csr", "coo"],
                             dtype=[np.float64, np.float32], multi_output=multi_output,
                             y_numeric=True)
    except ValueError as err:
        if "could not convert" in str(err):
            raise ValueError(f"X or y contains non-numeric values: {err}") from err
        raise
    sample_weight = check_sample_weight(sample_weight, X)
    y = np.asarray(y, dtype=np.float64)
    return X, y, sample_weight


def check_sample_weight(sample_weight, X):
    """``None``, or the weights as float64 of shape (n_samples,): non-negative, positive sum."""
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight must be non-negative")
    if not sample_weight.sum() > 0:
        raise ValueError("sample_weight must have a positive sum")
    return sample_weight


class PenalizedLinearModel(RegressorMixin, BaseEstimator):
    """Base of the least-squares estimators: ``(1/2n) sum_i s_i (y_i - x_i'w - b)^2 + penalty``.

    Subclasses say which penalty they minimise (:meth:`_make_penalty`); everything else is here.
    """

    _parameter_constraints: dict = {
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "penalty_factor": ["array-like", None],
    }

    @abstractmethod
    def _make_penalty(self, n_samples, n_features):
        """The :class:`~shrinkage.penalties.Penalty` this estimator minimises.

        ``n_samples`` is the number of observations the weights stand for, ``sum_i s_i`` (the row
        count without weights): frequency weights, so a weight of 2 counts a row twice.
        """

    def _ridge_solver(self):
        return "auto"

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float64 or float32 (kept as float32; the solver accumulates in float64).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative; rescaled internally to sum to n_samples.

        Returns
        -------
        self
        """
        if is_dask_collection(X):  # two passes over the row blocks: see shrinkage.dask
            from ..dask import fit as fit_dask
            return fit_dask(self, X, y, sample_weight)
        self._validate_params()
        X, y, sample_weight = validate_fit_input(self, X, y, sample_weight)
        n_observations = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        penalty = self._make_penalty(n_observations, X.shape[1])
        l1, l2 = penalty.lower(X.shape[1])  # checks the penalty factors against X, before any copy
        design = make_design(X, y, sample_weight, self.fit_intercept)
        n_targets = 1 if y.ndim == 1 else y.shape[1]
        coefs = np.zeros((n_targets, X.shape[1]))
        gaps = np.zeros(n_targets)
        iters = []
        smooth = penalty.l1_ratio == 0 and not penalty.positive
        if smooth:
            coef, n_iter = solve_ridge(design, l2, solver=self._ridge_solver(),
                                       tol=min(self.tol, 1e-10), max_iter=self.max_iter)
            coefs[:] = coef
            iters.append(n_iter)
            for k in range(n_targets):
                gaps[k] = enet_gap(design.target(k), coefs[k], l1, l2)[1]
        else:
            init = self._warm_start_coef(X.shape[1], n_targets)
            for k in range(n_targets):
                result = solve_enet(design.target(k), l1, l2, penalty.positive,
                                    coef_init=None if init is None else init[k],
                                    max_iter=self.max_iter, tol=self.tol,
                                    precompute=getattr(self, "precompute", "auto"))
                coefs[k], gaps[k] = result.coef, result.gap
                iters.append(result.n_iter)
        if y.ndim == 1:
            self.coef_ = coefs[0]
            self.dual_gap_ = float(gaps[0])
        else:
            self.coef_ = coefs
            self.dual_gap_ = gaps
        self.intercept_ = design.intercept(self.coef_) if self.fit_intercept else (
            0.0 if y.ndim == 1 else np.zeros(n_targets))
        if isinstance(self.intercept_, np.ndarray) and self.intercept_.ndim == 0:
            self.intercept_ = float(self.intercept_)
        # one count per target for 2-d y, as scikit-learn
        self.n_iter_ = iters[0] if (y.ndim == 1 or smooth) else iters
        if X.dtype == np.float32:
            self.coef_ = self.coef_.astype(np.float32)
        self.penalty_ = penalty
        return self

    def _warm_start_coef(self, n_features, n_targets):
        if not getattr(self, "warm_start", False) or not hasattr(self, "coef_"):
            return None
        coef = np.atleast_2d(np.asarray(self.coef_, dtype=np.float64))
        if coef.shape != (n_targets, n_features):
            return None
        return coef

    def predict(self, X):
        """Predict ``X w + b``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        if is_dask_collection(X):
            from ..dask import predict as predict_dask
            return predict_dask(self, X)
        check_numeric_columns(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"],
                          dtype=[np.float64, np.float32], reset=False)
        coef = np.asarray(self.coef_)
        if sp.issparse(X):
            return np.asarray(safe_sparse_dot(X, coef.T, dense_output=True)) + self.intercept_
        return X @ coef.T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
