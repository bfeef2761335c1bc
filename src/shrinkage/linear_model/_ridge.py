"""Ridge regression: least squares with an L2 penalty, in closed form."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..penalties import L2
from ..solvers import make_design, ridge_svd_path
from ._base import PenalizedLinearModel, validate_fit_input


class Ridge(PenalizedLinearModel):
    """Linear regression with an L2 penalty (ridge, Tikhonov).

    Minimises, over ``w`` and an unpenalized intercept ``b``::

        (1 / 2n) sum_i s_i (y_i - x_i' w - b)^2 + (alpha / 2) sum_j f_j w_j^2       [w >= 0]

    with sample weights ``s`` rescaled to sum to n and penalty factors ``f`` (default 1). This is
    shrinkage's single scaling convention, the elastic net's with ``l1_ratio = 0`` and glmnet's
    (``lambda = alpha``, ``alpha = 0``). scikit-learn's ``Ridge(alpha=a)`` minimises
    ``sum_i s_i (y_i - x_i'w - b)^2 + a ||w||^2``: it is this estimator with
    ``alpha = a / sum_i s_i`` (``a / n`` without weights). As a MAP estimate under Gaussian noise of
    standard deviation ``sigma`` it has a Gaussian prior of standard deviation
    ``tau = sigma / sqrt(n alpha)``, i.e. ``a = sigma^2 / tau^2``; ``alpha = 0`` is least squares.

    Solved from the normal equations ``(Xc' Xc + n alpha F) w = Xc' yc`` on the centred design by a
    Cholesky factorisation (of the p x p matrix, or of the n x n one when p > n), an SVD, or
    conjugate gradients for large sparse designs; never an explicit inverse. With
    ``positive=True``, coordinate descent.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength, finite and ``>= 0``.
    fit_intercept : bool, default=True
    penalty_factor : array-like of shape (n_features,), optional
        Non-negative per-feature factors; 0 leaves a feature unpenalized.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (solved by coordinate descent).
    solver : {"auto", "cholesky", "svd", "cg"}, default="auto"
        ``auto`` picks the primal or dual Cholesky by shape, and conjugate gradients for sparse
        designs with more than 5000 rows and columns.
    max_iter : int, default=1000
        For the iterative solvers (conjugate gradients, coordinate descent).
    tol : float, default=1e-4
        Relative duality-gap tolerance of coordinate descent; conjugate gradients run to a
        relative residual of ``min(tol, 1e-10)``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or list
        1 for the direct solvers (one factorisation); iterations of conjugate gradients or
        passes of coordinate descent otherwise.
    dual_gap_ : float or ndarray
        Duality gap of the returned solution (round-off level for the direct solvers).
    penalty_ : L2
    """

    _parameter_constraints: dict = {
        **PenalizedLinearModel._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "cholesky", "svd", "cg"})],
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, penalty_factor=None, positive=False,
                 solver="auto", max_iter=1000, tol=1e-4):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol

    def _make_penalty(self, n_samples, n_features):
        return L2(self.alpha, self.penalty_factor, self.positive)

    def _ridge_solver(self):
        return {"cholesky": "auto"}.get(self.solver, self.solver)


def ridge_path(X, y, alphas, *, fit_intercept=True, sample_weight=None):
    """Ridge coefficients for many ``alphas`` from a single SVD.

    Minimises ``(1/2n) sum_i s_i (y_i - x_i'w - b)^2 + (alpha / 2) ||w||^2`` for each alpha: with
    ``Xc = U S V'`` the solution is ``V diag(s / (s^2 + n alpha)) U' yc``, so the SVD is paid once.

    Returns
    -------
    coefs : ndarray of shape (n_alphas, n_features) or (n_alphas, n_targets, n_features)
    intercepts : ndarray of shape (n_alphas,) or (n_alphas, n_targets)
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if alphas.ndim != 1 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError("alphas must be a 1-d array of finite, non-negative numbers")
    X, y, sample_weight = validate_fit_input(Ridge(), X, y, sample_weight)
    design = make_design(X, y, sample_weight, fit_intercept)
    coefs = ridge_svd_path(design, alphas)
    intercepts = np.array([design.intercept(c) for c in coefs]) if fit_intercept else (
        np.zeros(coefs.shape[:-1]))
    return coefs, intercepts
