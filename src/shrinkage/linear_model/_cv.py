"""Choosing alpha: cross-validation (LassoCV, ElasticNetCV) and information criteria (LassoIC)."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..dask import is_dask_collection
from ..penalties import ElasticNet as ElasticNetPenalty
from ..solvers import make_design
from ..solvers.path import alpha_max, solve_path
from ._base import PenalizedLinearModel, validate_fit_input
from ._coordinate_descent import ElasticNet
from ._path import RegularizationPath, resolve_alphas


def one_standard_error_alpha(alphas, fold_errors):
    """glmnet's two choices from a cross-validation error matrix.

    ``cvm`` is the mean error over folds, ``cvsd`` its standard error
    ``sqrt(mean_k (e_k - cvm)^2 / (K - 1))`` (cv.glmnet's formula with equal fold weights).
    ``alpha_min`` minimises ``cvm`` (the first, i.e. largest, alpha on ties); ``alpha_1se`` is the
    largest alpha with ``cvm <= cvm[min] + cvsd[min]``.

    Parameters
    ----------
    alphas : array of shape (n_alphas,)
    fold_errors : array of shape (n_alphas, n_folds)

    Returns
    -------
    alpha_min, alpha_1se, cvm, cvsd
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    errors = np.asarray(fold_errors, dtype=np.float64)
    n_folds = errors.shape[1]
    cvm = errors.mean(axis=1)
    cvsd = np.sqrt(((errors - cvm[:, None]) ** 2).mean(axis=1) / max(n_folds - 1, 1))
    best = int(np.argmin(cvm))
    within = cvm <= cvm[best] + cvsd[best]
    return float(alphas[best]), float(alphas[within].max()), cvm, cvsd


def _fold_errors(X, y, sample_weight, train, test, l1_ratio, alphas, fit_intercept,
                 penalty_factor, positive, max_iter, tol):
    """Weighted mean squared test error of the path fitted on ``train``, one per alpha."""
    sw_train = None if sample_weight is None else sample_weight[train]
    design = make_design(X[train], y[train], sw_train, fit_intercept)
    path = solve_path(design, lambda a: ElasticNetPenalty(a, l1_ratio, penalty_factor, positive),
                      alphas, max_iter=max_iter, tol=tol)
    intercepts = design.intercept(path.coefs.T) if fit_intercept else 0.0
    predictions = X[test] @ path.coefs + intercepts
    residuals = np.asarray(predictions) - y[test][:, None]
    weights = None if sample_weight is None else sample_weight[test]
    return np.average(residuals**2, axis=0, weights=weights)


class _CVBase(RegressorMixin, BaseEstimator):
    """Cross-validated elastic net along a path; the refit is an :class:`ElasticNet`."""

    _parameter_constraints: dict = {
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "penalty_factor": ["array-like", None],
        "positive": ["boolean"],
        "cv": ["cv_object"],
        "n_jobs": [Integral, None],
        "refit": [StrOptions({"min", "1se"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def _l1_ratios(self):
        return [1.0]

    def fit(self, X, y, sample_weight=None):
        """Fit the path on each fold, choose alpha (and l1_ratio), refit on all the data."""
        if is_dask_collection(X):  # folds of whole blocks: see shrinkage.dask
            from ..dask import fit as fit_dask
            return fit_dask(self, X, y, sample_weight)
        self._validate_params()
        X, y, sample_weight = validate_fit_input(self, X, y, sample_weight, multi_output=False)
        X = X.tocsr() if hasattr(X, "tocsr") else X  # row slicing for the folds
        ratios = self._l1_ratios()
        design = make_design(X, y, sample_weight, self.fit_intercept)
        grids = []
        for ratio in ratios:
            if not 0 < ratio <= 1:
                raise ValueError(f"l1_ratio values must be in (0, 1], got {ratio!r}")
            penalty = ElasticNetPenalty(1.0, ratio, self.penalty_factor, self.positive)
            grids.append(resolve_alphas(self.alphas, lambda p=penalty: alpha_max(design, p),
                                        self.eps))
        folds = list(check_cv(self.cv).split(X, y))
        jobs = (delayed(_fold_errors)(X, y, sample_weight, train, test, ratio, grid,
                                      self.fit_intercept, self.penalty_factor, self.positive,
                                      self.max_iter, self.tol)
                for ratio, grid in zip(ratios, grids, strict=True) for train, test in folds)
        errors = Parallel(n_jobs=self.n_jobs)(jobs)
        mse = np.array(errors).reshape(len(ratios), len(folds), -1).transpose(0, 2, 1)
        self._select(ratios, grids, mse)
        model = ElasticNet(alpha=self.alpha_, l1_ratio=self.l1_ratio_,
                           fit_intercept=self.fit_intercept, penalty_factor=self.penalty_factor,
                           positive=self.positive, max_iter=self.max_iter, tol=self.tol)
        model.fit(X, y, sample_weight=sample_weight)
        for name in ("coef_", "intercept_", "dual_gap_", "n_iter_", "penalty_"):
            setattr(self, name, getattr(model, name))
        return self

    predict = PenalizedLinearModel.predict


    def _select(self, ratios, grids, mse):
        """Choose ``(l1_ratio, alpha)`` from the CV errors ``mse`` (n_ratios, n_alphas, n_folds)
        on each ratio's ``grids``: glmnet's lambda.min and lambda.1se, ``refit`` picks one."""
        choices = [one_standard_error_alpha(grid, m) for grid, m in zip(grids, mse, strict=True)]
        best = int(np.argmin([c[2].min() for c in choices]))
        alpha_min, alpha_1se, _, cvsd = choices[best]
        self.l1_ratio_ = ratios[best]
        self.alpha_min_, self.alpha_1se_ = alpha_min, alpha_1se
        self.alpha_ = alpha_min if self.refit == "min" else alpha_1se
        self.mse_std_ = cvsd
        self.alphas_ = grids[0] if len(ratios) == 1 else np.array(grids)
        self.mse_path_ = mse[0] if len(ratios) == 1 else np.asarray(mse)
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class LassoCV(_CVBase):
    """Lasso with alpha chosen by K-fold cross-validation along the regularization path.

    For each fold the path (see :func:`~shrinkage.lasso_path`, objective of
    :class:`~shrinkage.Lasso`) is fitted on the training part and scored by the (weighted) mean
    squared error on the held-out part. Two choices are reported, as glmnet's ``cv.glmnet``:
    ``alpha_min_`` minimises the mean error, ``alpha_1se_`` is the largest alpha whose mean error is
    within one standard error of that minimum (see :func:`one_standard_error_alpha`); ``refit``
    says which one the final model on all the data uses.

    Parameters
    ----------
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    alphas : int or array-like, default=100
        The number of alphas of the default grid (from ``alpha_max`` to ``eps * alpha_max``, log
        scale), or the grid itself.
    fit_intercept, penalty_factor, positive, max_iter
        As for :class:`~shrinkage.Lasso`.
    tol : float, default=1e-4
        The fold paths stop each alpha at the duality gap ``tol`` relative to that alpha's own
        objective (the path rule of :mod:`shrinkage.solvers.cd`); the refit uses
        :class:`~shrinkage.Lasso`'s rule.
    cv : int, cross-validation generator or iterable, default=5
        As scikit-learn's (an int means unshuffled KFold).
    n_jobs : int, optional
        Folds run in parallel through joblib.
    refit : {"min", "1se"}, default="min"

    Attributes
    ----------
    alpha_, alpha_min_, alpha_1se_ : float
    alphas_ : ndarray of shape (n_alphas,)
    mse_path_ : ndarray of shape (n_alphas, n_folds)
    mse_std_ : ndarray of shape (n_alphas,)
        Standard error of the mean CV error at each alpha.
    coef_, intercept_, dual_gap_, n_iter_
        Of the refit.
    """

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True,
                 penalty_factor=None, positive=False, cv=5, n_jobs=None, refit="min",
                 max_iter=1000, tol=1e-4):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.cv = cv
        self.n_jobs = n_jobs
        self.refit = refit
        self.max_iter = max_iter
        self.tol = tol


class ElasticNetCV(_CVBase):
    """Elastic net with alpha and l1_ratio chosen by K-fold cross-validation.

    As :class:`LassoCV`, over every ``l1_ratio`` given (each with its own alpha grid); the pair with
    the lowest mean error wins, and ``alpha_1se_`` is computed on that ``l1_ratio``'s curve.

    Parameters
    ----------
    l1_ratio : float or list of float in (0, 1], default=0.5
    Others as :class:`LassoCV`.

    Attributes
    ----------
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
    Others as :class:`LassoCV`.
    """

    _parameter_constraints: dict = {
        **_CVBase._parameter_constraints,
        "l1_ratio": [Interval(Real, 0, 1, closed="right"), "array-like"],
    }

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 penalty_factor=None, positive=False, cv=5, n_jobs=None, refit="min",
                 max_iter=1000, tol=1e-4):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.cv = cv
        self.n_jobs = n_jobs
        self.refit = refit
        self.max_iter = max_iter
        self.tol = tol

    def _l1_ratios(self):
        return [float(r) for r in np.atleast_1d(self.l1_ratio)]


class LassoIC(RegressorMixin, BaseEstimator):
    """Lasso with alpha chosen by AIC or BIC along the regularization path.

    For each alpha of the path, with ``df`` the number of nonzero coefficients (the lasso's
    unbiased degrees of freedom, Zou, Hastie & Tibshirani 2007) and ``sigma^2`` the noise variance::

        criterion = n log(2 pi sigma^2) + RSS / sigma^2 + k df,     k = 2 (AIC) or log n (BIC)

    ``sigma^2`` is ``noise_variance`` if given, else the unbiased estimate from least squares on all
    features (which needs n > p + fit_intercept), as scikit-learn's ``LassoLarsIC``. With sample
    weights (frequency weights) n is ``sum_i s_i`` and RSS is weighted.

    Parameters
    ----------
    criterion : {"aic", "bic"}, default="aic"
    noise_variance : float, optional
    eps, alphas, fit_intercept, positive, max_iter, tol
        As for :class:`LassoCV`.

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas,)
    criterion_ : ndarray of shape (n_alphas,)
    noise_variance_ : float
    path_ : RegularizationPath
    coef_, intercept_, dual_gap_
        At ``alpha_``.
    n_iter_ : int
        Coordinate-descent passes over the whole path.
    """

    _parameter_constraints: dict = {
        "criterion": [StrOptions({"aic", "bic"})],
        "noise_variance": [Interval(Real, 0, None, closed="neither"), None],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, criterion="aic", *, noise_variance=None, eps=1e-3, alphas=100,
                 fit_intercept=True, positive=False, max_iter=1000, tol=1e-4):
        self.criterion = criterion
        self.noise_variance = noise_variance
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y, sample_weight=None):
        """Fit the path, score every alpha, keep the best."""
        self._validate_params()
        X, y, sample_weight = validate_fit_input(self, X, y, sample_weight, multi_output=False)
        # frequency weights: N observations, and sums of squares counted with the raw weights
        n_obs = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        design = make_design(X, y, sample_weight, self.fit_intercept)
        to_raw = n_obs / X.shape[0]  # the design's weights are rescaled to sum to n

        def penalty_at(alpha):
            return ElasticNetPenalty(alpha, 1.0, None, self.positive)

        alphas = resolve_alphas(self.alphas, lambda: alpha_max(design, penalty_at(1.0)), self.eps)
        result = solve_path(design, penalty_at, alphas, self.max_iter, self.tol)
        # residual sums of squares on the weighted, centred problem equal the original ones
        residuals = design.y[:, None] - design.matvec(result.coefs)
        rss = to_raw * np.sum(np.asarray(residuals) ** 2, axis=0)
        sigma2 = self.noise_variance
        if sigma2 is None:
            dof = n_obs - X.shape[1] - int(self.fit_intercept)
            if dof <= 0:
                raise ValueError("estimating the noise variance needs n_samples > n_features + "
                                 "fit_intercept; pass noise_variance")
            ols = design.y - design.matvec(np.linalg.lstsq(
                design.X.toarray() - np.outer(design.sqrt_sw, design.x_offset)
                if design.is_sparse else design.X, design.y, rcond=None)[0])
            sigma2 = to_raw * float(ols @ ols) / dof
        k = 2.0 if self.criterion == "aic" else np.log(n_obs)
        df = np.count_nonzero(result.coefs, axis=0)
        self.criterion_ = n_obs * np.log(2 * np.pi * sigma2) + rss / sigma2 + k * df
        best = int(np.argmin(self.criterion_))
        intercepts = (np.array([design.intercept(result.coefs[:, j]) for j in range(alphas.size)])
                      if self.fit_intercept else np.zeros(alphas.size))
        self.noise_variance_ = sigma2
        self.alphas_ = alphas
        self.alpha_ = float(alphas[best])
        self.path_ = RegularizationPath(alphas, result.coefs, intercepts, result.dual_gaps,
                                        result.n_iters, 1.0)
        self.coef_ = result.coefs[:, best].copy()
        self.intercept_ = float(intercepts[best])
        self.dual_gap_ = float(result.dual_gaps[best])
        self.n_iter_ = int(result.n_iters.sum())  # passes over the whole path
        if X.dtype == np.float32:
            self.coef_ = self.coef_.astype(np.float32)
        return self

    def predict(self, X):
        """Predict ``X w + b``."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"],
                          dtype=[np.float64, np.float32], reset=False)
        return np.asarray(X @ self.coef_).ravel() + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
