"""Penalized logistic regression: binary and multinomial, L1 / L2 / elastic net, on proximal Newton.

Objective (one scaling convention, as every shrinkage estimator)::

    (1/n) sum_i s_i NLL_i(w, b) + alpha P(w)

with ``s`` normalised to sum to n, ``P`` the L1 / L2 / elastic-net penalty of
:mod:`shrinkage.penalties`, and the intercept ``b`` unpenalized. ``alpha = 1 / (C sum_i s_i)`` maps
scikit-learn's ``C sum_i s_i NLL_i + P(w)``: both have the same minimiser, and shrinkage's objective
times ``C sum_i s_i`` is scikit-learn's.
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from scipy.special import expit, log_softmax, softmax
from sklearn.base import BaseEstimator
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.model_selection import check_cv
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..dask import is_dask_collection
from ..datafits import Logistic
from ..penalties import L1, L2
from ..penalties import ElasticNet as ElasticNetPenalty
from ..solvers.multinomial import multinomial_alpha_max, solve_multinomial, solve_multinomial_path
from ..solvers.prox_newton import glm_alpha_max, solve_glm_path, solve_prox_newton
from ._base import check_numeric_columns, check_sample_weight
from ._cv import one_standard_error_alpha
from ._path import resolve_alphas


def validate_classification_input(estimator, X, y, sample_weight, reset=True):
    """Validate ``X``, ``y`` (class labels of any type) and weights once, at the edge.

    Returns ``X`` (float64/float32, dense or sparse), the encoded labels ``0..K-1``, the weights
    (or ``None``) and the classes.
    """
    check_numeric_columns(X)
    try:
        X, y = validate_data(estimator, X, y, accept_sparse=["csc", "csr", "coo"],
                             dtype=[np.float64, np.float32], reset=reset)
    except ValueError as err:
        if "could not convert" in str(err):
            raise ValueError(f"X contains non-numeric values: {err}") from err
        raise
    check_classification_targets(y)
    encoder = LabelEncoder()
    y_enc = encoder.fit_transform(y)
    classes = encoder.classes_
    if classes.size < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in the data, but "
            f"the data contains only one class: {classes[0]!r}")
    sample_weight = check_sample_weight(sample_weight, X)
    return X, y_enc, sample_weight, classes


def make_penalty(penalty, alpha, l1_ratio):
    """The penalty object for ``penalty`` in {"l1", "l2", "elasticnet", None} at ``alpha``."""
    if penalty is None:
        return L2(0.0)
    if penalty == "l1":
        return L1(alpha)
    if penalty == "l2":
        return L2(alpha)
    if l1_ratio is None:
        raise ValueError("penalty='elasticnet' needs l1_ratio (a number in [0, 1])")
    return ElasticNetPenalty(alpha, l1_ratio)


def with_intercept_column(X, l1, l2, scaling):
    """liblinear's penalized intercept: a constant column ``scaling`` with the features' penalty
    (the last feature's strengths; every feature has factor 1 here)."""
    n = X.shape[0]
    column = np.full((n, 1), scaling, dtype=X.dtype)
    if sp.issparse(X):
        X = sp.hstack([X, sp.csc_matrix(column)], format="csc")
    else:
        X = np.hstack([X, column])
    strength1 = l1[0] if l1.size else 0.0
    strength2 = l2[0] if l2.size else 0.0
    return X, np.append(l1, strength1), np.append(l2, strength2)


class LogisticRegression(LinearClassifierMixin, BaseEstimator):
    """Logistic regression with an L1, L2 or elastic-net penalty and an unpenalized intercept.

    Minimises, for two classes (labels of any type; the second of ``classes_`` is "1")::

        (1/n) sum_i s_i [log(1 + exp(z_i)) - y_i z_i] + alpha P(w),     z_i = x_i' w + b

    and for K > 2 classes the multinomial negative log-likelihood
    ``(1/n) sum_i s_i [logsumexp_k z_ik - z_{i, y_i}] + alpha sum_k P(w_k)`` (one coefficient row
    per class, intercepts unpenalized). ``s`` are the sample weights normalised to sum to n, and

    - ``penalty="l1"``: ``P(w) = ||w||_1``; ``"l2"``: ``||w||^2 / 2``; ``"elasticnet"``:
      ``l1_ratio ||w||_1 + (1 - l1_ratio) ||w||^2 / 2``; ``None``: no penalty.
    - ``alpha = 1 / (C sum_i s_i)`` unless ``alpha`` is given: scikit-learn's
      ``C sum_i s_i NLL_i + P(w)`` is this objective times ``C sum_i s_i`` (same minimiser).

    Prior reading (the MAP view): ``C sum NLL + ||w||_1`` is Laplace(0, b) on each ``w_j`` with
    ``b = C``; ``C sum NLL + ||w||^2 / 2`` is N(0, tau^2) with ``tau^2 = C``.

    Solved by proximal Newton (:mod:`shrinkage.solvers.prox_newton`) with the lasso's working-set
    coordinate descent inside; stops when the duality gap falls below ``tol`` times the objective
    at ``w = 0`` (intercept fitted). Multinomial: block proximal Newton over the classes
    (:mod:`shrinkage.solvers.multinomial`).

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet"} or None, default="l2"
    C : float, default=1.0
        Inverse regularization strength as scikit-learn's (ignored when ``alpha`` is given).
    alpha : float, optional
        Penalty strength in shrinkage's convention (overrides ``C``).
    l1_ratio : float in [0, 1], optional
        Only for ``penalty="elasticnet"``.
    fit_intercept : bool, default=True
    penalize_intercept : bool, default=False
        Reproduce liblinear: append a constant column ``intercept_scaling`` and penalize its
        coefficient like the others (``intercept_ = intercept_scaling * w_last``). Binary only.
    intercept_scaling : float, default=1.0
    tol : float, default=1e-4
        Relative duality-gap tolerance.
    max_iter : int, default=100
        Maximum number of (outer) Newton steps.
    warm_start : bool, default=False

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,)
    dual_gap_ : float
        Duality gap of the returned solution in shrinkage's scaling (NaN with ``penalty=None``,
        which stops on the KKT conditions).
    alpha_ : float
        The alpha used.
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"}), None],
        "C": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left"), None],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "penalize_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }

    def __init__(self, penalty="l2", *, C=1.0, alpha=None, l1_ratio=None, fit_intercept=True,
                 penalize_intercept=False, intercept_scaling=1.0, tol=1e-4, max_iter=100,
                 warm_start=False):
        self.penalty = penalty
        self.C = C
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.penalize_intercept = penalize_intercept
        self.intercept_scaling = intercept_scaling
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start

    def _alpha(self, n_observations):
        return float(self.alpha) if self.alpha is not None else 1.0 / (self.C * n_observations)

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (any type).
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        if is_dask_collection(X):  # prox-Newton with two passes per step: see shrinkage.dask
            from ..dask import fit as fit_dask
            return fit_dask(self, X, y, sample_weight)
        self._validate_params()
        X, y_enc, sample_weight, classes = validate_classification_input(self, X, y, sample_weight)
        n, p = X.shape
        n_observations = n if sample_weight is None else float(sample_weight.sum())
        alpha = self._alpha(n_observations)
        penalty = make_penalty(self.penalty, alpha, self.l1_ratio)
        l1, l2 = penalty.lower(p)
        if sp.issparse(X):
            X = sp.csc_matrix(X)
        self.classes_ = classes
        self.alpha_ = alpha
        warm = self._warm(classes.size, p)
        if classes.size == 2:
            self._fit_binary(X, y_enc.astype(np.float64), sample_weight, l1, l2, warm)
        else:
            self._fit_multinomial(X, y_enc, classes.size, sample_weight, l1, l2, warm)
        self.penalty_ = penalty
        return self

    def _warm(self, n_classes, p):
        if not self.warm_start or not hasattr(self, "coef_"):
            return None
        rows = 1 if n_classes == 2 else n_classes
        if self.coef_.shape != (rows, p):
            return None
        return self.coef_.copy(), self.intercept_.copy()

    def _fit_binary(self, X, y01, sample_weight, l1, l2, warm):
        fit_intercept = self.fit_intercept
        coef_init = intercept_init = None
        if warm is not None:
            coef_init, intercept_init = warm[0][0], float(warm[1][0])
        if self.penalize_intercept and fit_intercept:
            X, l1, l2 = with_intercept_column(X, l1, l2, self.intercept_scaling)
            fit_intercept = False
            if coef_init is not None:
                coef_init = np.append(coef_init, intercept_init / self.intercept_scaling)
                intercept_init = None
        result = solve_prox_newton(X, y01, Logistic(), l1, l2, sample_weight, fit_intercept,
                                   coef_init=coef_init, intercept_init=intercept_init,
                                   max_iter=self.max_iter, tol=self.tol)
        coef = result.coef
        intercept = result.intercept
        if self.penalize_intercept and self.fit_intercept:
            intercept = self.intercept_scaling * coef[-1]
            coef = coef[:-1]
        self.coef_ = coef[None, :]
        self.intercept_ = np.array([intercept if self.fit_intercept else 0.0])
        self.dual_gap_ = result.gap
        self.n_iter_ = np.array([result.n_iter])

    def _fit_multinomial(self, X, y_enc, n_classes, sample_weight, l1, l2, warm):
        fit_intercept = self.fit_intercept
        coef_init = intercept_init = None
        if warm is not None:
            coef_init, intercept_init = warm
        liblinear = self.penalize_intercept and fit_intercept
        if liblinear:
            X, l1, l2 = with_intercept_column(X, l1, l2, self.intercept_scaling)
            fit_intercept = False
            if coef_init is not None:
                coef_init = np.column_stack([coef_init, intercept_init / self.intercept_scaling])
                intercept_init = None
        result = solve_multinomial(X, y_enc, n_classes, l1, l2, sample_weight, fit_intercept,
                                   coef_init=coef_init, intercept_init=intercept_init,
                                   max_iter=self.max_iter, tol=self.tol)
        coef, intercept = result.coef, result.intercept
        if liblinear:
            intercept = self.intercept_scaling * coef[:, -1]
            coef = coef[:, :-1]
        self.coef_ = np.ascontiguousarray(coef)
        self.intercept_ = intercept if self.fit_intercept else np.zeros(n_classes)
        self.dual_gap_ = result.gap
        self.n_iter_ = np.array([result.n_iter])

    def decision_function(self, X):
        """Scores ``X coef_' + intercept_``: shape (n_samples,) for two classes, else
        (n_samples, n_classes). On a dask array or DataFrame: a dask array, block by block."""
        if is_dask_collection(X):
            check_is_fitted(self)
            from ..dask import decision_function as decision_function_dask
            return decision_function_dask(self, X)
        return super().decision_function(X)

    def predict(self, X):
        """Class labels (from ``classes_``) of the highest score; a dask array on dask input."""
        if is_dask_collection(X):
            check_is_fitted(self)
            from ..dask import predict_labels
            return predict_labels(self, X)
        return super().predict(X)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Or a dask array / DataFrame: the result is then a dask array, block by block.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return _from_scores(self.decision_function(X), _proba, self.classes_.size)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably."""
        check_is_fitted(self)
        return _from_scores(self.decision_function(X), _log_proba, self.classes_.size)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _proba(z):
    if z.ndim == 1:
        p1 = expit(z)
        return np.column_stack([1.0 - p1, p1])
    return softmax(z, axis=1)


def _log_proba(z):
    if z.ndim == 1:
        return np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])
    return log_softmax(z, axis=1)


def _from_scores(z, transform, n_classes):
    if is_dask_collection(z):  # the same transform, block by block
        from ..dask import map_scores
        return map_scores(z, transform, n_classes)
    return transform(z)


def _ratio(penalty, l1_ratio):
    if penalty == "l1":
        return 1.0
    if penalty == "l2":
        return 0.0
    if l1_ratio is None:
        raise ValueError("penalty='elasticnet' needs l1_ratio (a number in [0, 1])")
    return float(l1_ratio)


@dataclass(frozen=True)
class LogisticPath:
    """Penalized logistic solutions along a grid of alphas (largest first).

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas), or (n_classes, n_features, n_alphas)
    intercepts : ndarray of shape (n_alphas,) or (n_classes, n_alphas)
    dual_gaps, n_iters : ndarray of shape (n_alphas,)
    classes : ndarray
    l1_ratio : float
    """

    alphas: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    dual_gaps: np.ndarray
    n_iters: np.ndarray
    classes: np.ndarray
    l1_ratio: float

    @property
    def n_nonzero(self):
        """Number of nonzero coefficients at each alpha (features nonzero in any class)."""
        nonzero = self.coefs != 0
        if nonzero.ndim == 3:
            nonzero = nonzero.any(axis=0)
        return np.count_nonzero(nonzero, axis=0)


def _solve_path(X, y_enc, n_classes, ratio, alphas, sample_weight, fit_intercept, max_iter, tol,
                warn=True):
    def penalty_at(alpha):
        return ElasticNetPenalty(alpha, ratio)

    if n_classes == 2:
        return solve_glm_path(X, y_enc.astype(np.float64), Logistic(), penalty_at, alphas,
                              sample_weight, fit_intercept, max_iter, tol, warn)
    return solve_multinomial_path(X, y_enc, n_classes, penalty_at, alphas, sample_weight,
                                  fit_intercept, max_iter, tol, warn)


def _alpha_max(X, y_enc, n_classes, ratio, sample_weight, fit_intercept):
    if n_classes == 2:
        return glm_alpha_max(X, y_enc.astype(np.float64), Logistic(), sample_weight,
                             fit_intercept, ratio)
    return multinomial_alpha_max(X, y_enc, n_classes, sample_weight, fit_intercept, ratio)


def logistic_path(X, y, *, penalty="l1", l1_ratio=None, eps=1e-3, alphas=100,
                  fit_intercept=True, sample_weight=None, max_iter=100, tol=1e-4):
    """Penalized logistic regression along a grid of alphas, with warm starts.

    Each point minimises the objective of :class:`LogisticRegression` at that ``alpha``
    (``alpha = 1 / (C sum_i s_i)`` in scikit-learn's terms) to the relative duality gap ``tol``.
    The default grid runs from ``alpha_max`` (every coefficient zero; for ``penalty="l2"`` the
    value for ``l1_ratio = 1e-3``, glmnet's convention for ridge) to ``eps * alpha_max``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Class labels; more than two classes give the multinomial path.
    penalty : {"l1", "l2", "elasticnet"}, default="l1"
    l1_ratio : float, optional
        For ``penalty="elasticnet"``.
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    fit_intercept, sample_weight, max_iter, tol
        As for :class:`LogisticRegression`.

    Returns
    -------
    LogisticPath
    """
    template = LogisticRegression(penalty=penalty, l1_ratio=l1_ratio,
                                  fit_intercept=fit_intercept, max_iter=max_iter, tol=tol)
    template._validate_params()
    X, y_enc, sample_weight, classes = validate_classification_input(template, X, y,
                                                                     sample_weight)
    ratio = _ratio(penalty, l1_ratio)
    if sp.issparse(X):
        X = sp.csc_matrix(X)
    alphas = resolve_alphas(alphas, lambda: _alpha_max(X, y_enc, classes.size, ratio,
                                                       sample_weight, fit_intercept), eps)
    coefs, intercepts, gaps, iters = _solve_path(X, y_enc, classes.size, ratio, alphas,
                                                 sample_weight, fit_intercept, max_iter, tol)
    return LogisticPath(alphas, coefs, intercepts, gaps, iters, classes, ratio)


def _fold_scores(X, y_enc, n_classes, sample_weight, train, test, ratio, alphas, fit_intercept,
                 max_iter, tol, scoring):
    """Weighted mean deviance (or misclassification rate) on ``test`` per alpha."""
    sw_train = None if sample_weight is None else sample_weight[train]
    coefs, intercepts, _, _ = _solve_path(X[train], y_enc[train], n_classes, ratio, alphas,
                                          sw_train, fit_intercept, max_iter, tol, warn=False)
    Xt, yt = X[test], y_enc[test]
    weights = None if sample_weight is None else sample_weight[test]
    if n_classes == 2:
        Z = np.asarray(Xt @ coefs) + intercepts  # (n_test, n_alphas)
        nll = np.logaddexp(0.0, Z) - yt[:, None] * Z
        wrong = (Z > 0) != (yt[:, None] == 1)
    else:
        Z = np.stack([np.asarray(Xt @ coefs[:, :, a].T) + intercepts[:, a]
                      for a in range(alphas.size)], axis=2)  # (n_test, K, n_alphas)
        log_p = log_softmax(Z, axis=1)
        nll = -log_p[np.arange(yt.size), yt, :]
        wrong = np.argmax(Z, axis=1) != yt[:, None]
    values = 2.0 * nll if scoring == "deviance" else wrong.astype(np.float64)
    return np.average(values, axis=0, weights=weights)


class LogisticRegressionCV(LinearClassifierMixin, BaseEstimator):
    """Penalized logistic regression with alpha chosen by K-fold cross-validation (cv.glmnet).

    On each fold the path (:func:`logistic_path`, the objective of :class:`LogisticRegression`)
    is fitted on the training part and scored on the held-out part by the weighted mean binomial
    / multinomial deviance ``-2 log p(y_i)`` (``scoring="deviance"``, glmnet's default) or the
    misclassification rate (``"misclassification"``, glmnet's ``type.measure="class"``).
    ``alpha_min_`` minimises the mean score, ``alpha_1se_`` is the largest alpha within one
    standard error of it (:func:`~shrinkage.linear_model.one_standard_error_alpha`), and the
    model is refitted on all the data at ``alpha_min_`` or ``alpha_1se_`` (``refit``).

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet"}, default="l1"
    l1_ratio : float, optional
    alphas : int or array-like, default=50
        Size of the default grid (``alpha_max`` to ``eps * alpha_max``) or the grid.
    eps : float, default=1e-3
    cv : int, cross-validation generator or iterable, default=5
        Integers give stratified folds.
    scoring : {"deviance", "misclassification"}, default="deviance"
    refit : {"min", "1se"}, default="min"
    fit_intercept : bool, default=True
    tol : float, default=1e-4
    max_iter : int, default=100
    n_jobs : int, optional
        Folds in parallel (joblib).

    Attributes
    ----------
    alphas_, alpha_min_, alpha_1se_, alpha_, C_
        The grid, the two choices, the one refitted, and its ``C = 1 / (alpha_ sum_i s_i)``.
    cv_scores_ : ndarray of shape (n_alphas, n_folds)
    cvm_, cvsd_ : ndarray of shape (n_alphas,)
        Mean score and its standard error.
    classes_, coef_, intercept_, dual_gap_, n_iter_
        Of the refitted :class:`LogisticRegression`.
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "scoring": [StrOptions({"deviance", "misclassification"})],
        "refit": [StrOptions({"min", "1se"})],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, penalty="l1", *, l1_ratio=None, alphas=50, eps=1e-3, cv=5,
                 scoring="deviance", refit="min", fit_intercept=True, tol=1e-4, max_iter=100,
                 n_jobs=None):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs

    def fit(self, X, y, sample_weight=None):
        """Fit the path on each fold, choose alpha, refit on all the data."""
        self._validate_params()
        X, y_enc, sample_weight, classes = validate_classification_input(self, X, y,
                                                                         sample_weight)
        ratio = _ratio(self.penalty, self.l1_ratio)
        X = X.tocsr() if sp.issparse(X) else X  # row slicing for the folds
        K = classes.size
        alphas = resolve_alphas(self.alphas, lambda: _alpha_max(
            X, y_enc, K, ratio, sample_weight, self.fit_intercept), self.eps)
        folds = list(check_cv(self.cv, y_enc, classifier=True).split(X, y_enc))
        for train, _ in folds:
            if np.unique(y_enc[train]).size < K:
                raise ValueError("a training fold lacks a class: use fewer folds")
        jobs = (delayed(_fold_scores)(X, y_enc, K, sample_weight, train, test, ratio, alphas,
                                      self.fit_intercept, self.max_iter, self.tol, self.scoring)
                for train, test in folds)
        scores = np.array(Parallel(n_jobs=self.n_jobs)(jobs)).T  # (n_alphas, n_folds)
        alpha_min, alpha_1se, cvm, cvsd = one_standard_error_alpha(alphas, scores)
        self.alphas_ = alphas
        self.cv_scores_ = scores
        self.cvm_, self.cvsd_ = cvm, cvsd
        self.alpha_min_, self.alpha_1se_ = alpha_min, alpha_1se
        self.alpha_ = alpha_min if self.refit == "min" else alpha_1se
        n_observations = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        self.C_ = 1.0 / (self.alpha_ * n_observations)
        model = LogisticRegression(penalty="elasticnet", alpha=self.alpha_, l1_ratio=ratio,
                                   fit_intercept=self.fit_intercept, tol=self.tol,
                                   max_iter=self.max_iter)
        model.fit(X, classes[y_enc], sample_weight=sample_weight)
        for name in ("classes_", "coef_", "intercept_", "dual_gap_", "n_iter_", "penalty_"):
            setattr(self, name, getattr(model, name))
        return self

    predict_proba = LogisticRegression.predict_proba
    predict_log_proba = LogisticRegression.predict_log_proba

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
