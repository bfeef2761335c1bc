"""Lasso and elastic net: least squares with an L1 / elastic-net penalty, by coordinate descent."""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..penalties import L1
from ..penalties import ElasticNet as ElasticNetPenalty
from ._base import PenalizedLinearModel

_FIT_DOC = """
    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
        Unpenalized; ``ybar - m' w`` with the weighted means.
    n_iter_ : int or list of int
        Passes over the features (full and active-set passes) made by coordinate descent; for a
        small dense problem solved by homotopy, the number of its events (each one pass).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap of the returned solution: a certificate that its objective is within
        ``dual_gap_`` of the optimum. Converged means ``dual_gap_ <= tol * ||y - ybar||^2 / (2n)``
        (weighted); otherwise a ConvergenceWarning states both numbers.
    penalty_ : Penalty
        The penalty object minimised (its :meth:`prior` gives the matching Bayesian prior).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When X has string column names.
"""


class ElasticNet(PenalizedLinearModel):
    """Linear regression with an elastic-net penalty.

    Minimises, over ``w`` and an unpenalized intercept ``b``::

        (1 / 2n) sum_i s_i (y_i - x_i' w - b)^2
            + alpha sum_j f_j ( l1_ratio |w_j| + (1 - l1_ratio) w_j^2 / 2 )      [w >= 0]

    with sample weights ``s`` rescaled to sum to n and penalty factors ``f`` (default 1). This is
    scikit-learn's ``ElasticNet(alpha, l1_ratio)`` and glmnet's ``lambda = alpha``,
    ``alpha = l1_ratio``. As a MAP estimate under Gaussian noise of standard deviation ``sigma`` it
    corresponds to the prior of :meth:`shrinkage.penalties.ElasticNet.prior`.

    Solved by coordinate descent with soft-thresholding; stops when the duality gap is at most
    ``tol`` times the objective at ``w = 0``. Small dense problems (at most 100 features and
    50 000 entries) are solved to the exact minimiser instead (see :class:`Lasso`).

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength, finite and ``>= 0``.
    l1_ratio : float in [0, 1], default=0.5
        ``1`` is the lasso, ``0`` ridge (then solved in closed form).
    fit_intercept : bool, default=True
    penalty_factor : array-like of shape (n_features,), optional
        Non-negative per-feature factors ``f_j``; 0 leaves a feature unpenalized (glmnet's
        ``penalty.factor``, used as given: glmnet rescales its factors to sum to n_features).
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    precompute : {"auto", True, False}, default="auto"
        Covariance mode: coordinate descent on the Gram matrix ``X'X`` (glmnet's "covariance
        updates"), O(p) per update instead of O(n). ``"auto"`` uses it for dense designs with
        n >= 10 p and p <= 3000. Same objective, same duality-gap stopping rule.
    max_iter : int, default=1000
        Maximum number of passes over the features.
    tol : float, default=1e-4
        Relative duality-gap tolerance.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.
    """ + _FIT_DOC

    _parameter_constraints: dict = {
        **PenalizedLinearModel._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "precompute": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, penalty_factor=None,
                 positive=False, precompute="auto", max_iter=1000, tol=1e-4, warm_start=False):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.precompute = precompute
        self.fit_intercept = fit_intercept
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def _make_penalty(self, n_samples, n_features):
        return ElasticNetPenalty(self.alpha, self.l1_ratio, self.penalty_factor, self.positive)


class Lasso(PenalizedLinearModel):
    """Linear regression with an L1 penalty (the lasso).

    Minimises, over ``w`` and an unpenalized intercept ``b``::

        (1 / 2n) sum_i s_i (y_i - x_i' w - b)^2 + alpha sum_j f_j |w_j|       [w >= 0]

    with sample weights ``s`` rescaled to sum to n and penalty factors ``f`` (default 1): the same
    objective as scikit-learn's ``Lasso(alpha)`` and glmnet's ``lambda = alpha``. It is the MAP
    estimate under Gaussian noise of standard deviation ``sigma`` and a Laplace prior of scale
    ``b = sigma^2 / (n alpha)`` (see :class:`shrinkage.priors.Laplace`).

    Solved by coordinate descent with soft-thresholding,
    ``w_j <- S(w_j + X_j' r / (n L_j), alpha f_j / L_j)`` with ``L_j = ||X_j||^2 / n``; stops when
    the duality gap is at most ``tol`` times the objective at ``w = 0``.

    Small dense problems (at most 100 features and 50 000 entries) are solved to the exact
    minimiser, up to rounding: by the LARS-lasso homotopy in NumPy while numba is not loaded (a
    fresh process pays no JIT start-up for them), otherwise by coordinate descent finished with
    an exact solve on its support (or by the homotopy where coordinate descent stalls, e.g.
    p > n at a tiny alpha); both give the same answer, and ``dual_gap_`` certifies it (see
    :mod:`shrinkage.solvers.homotopy`).

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength, finite and ``>= 0``.
    fit_intercept : bool, default=True
    penalty_factor : array-like of shape (n_features,), optional
        Non-negative per-feature factors; 0 leaves a feature unpenalized.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    precompute : {"auto", True, False}, default="auto"
        Covariance mode: coordinate descent on the Gram matrix ``X'X`` (glmnet's "covariance
        updates"), O(p) per update instead of O(n). ``"auto"`` uses it for dense designs with
        n >= 10 p and p <= 3000. Same objective, same duality-gap stopping rule.
    max_iter : int, default=1000
        Maximum number of passes over the features.
    tol : float, default=1e-4
        Relative duality-gap tolerance.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.
    """ + _FIT_DOC

    _parameter_constraints: dict = {
        **PenalizedLinearModel._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "precompute": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, penalty_factor=None, positive=False,
                 precompute="auto", max_iter=1000, tol=1e-4, warm_start=False):
        self.alpha = alpha
        self.precompute = precompute
        self.fit_intercept = fit_intercept
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def _make_penalty(self, n_samples, n_features):
        return L1(self.alpha, self.penalty_factor, self.positive)
