"""Linear support vector classifier: squared hinge (L1 or L2 penalty) or hinge (L2, dual CD)."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ..datafits import SquaredHinge
from ..penalties import L1, L2
from ..solvers.hinge_dual import solve_hinge_dual
from ..solvers.prox_newton import solve_prox_newton
from ._logistic import validate_classification_input, with_intercept_column


class LinearSVC(LinearClassifierMixin, BaseEstimator):
    """Linear SVM with an L1 or L2 penalty; one-vs-rest for more than two classes.

    Minimises, per class against the rest, with labels ``y_i in {-1, +1}``::

        (1/n) sum_i s_i l(y_i, x_i' w + b) + alpha P(w)

    - ``loss="squared_hinge"``: ``l = max(0, 1 - y z)^2``; ``penalty="l1"`` (``P = ||w||_1``) or
      ``"l2"`` (``||w||^2 / 2``). Proximal Newton with the generalised Hessian
      (:mod:`shrinkage.solvers.prox_newton`); the intercept is exactly unpenalized.
    - ``loss="hinge"``: ``l = max(0, 1 - y z)``, ``penalty="l2"`` only, by dual coordinate descent
      (:mod:`shrinkage.solvers.hinge_dual`) as liblinear; the intercept is exactly unpenalized
      (found by bisection on the sign of ``sum_i a_i y_i``, each step a warm-started dual solve),
      or liblinear's penalized constant column with ``penalize_intercept=True``.

    ``s`` are the sample weights normalised to sum to n; ``alpha = 1 / (C sum_i s_i)`` unless
    ``alpha`` is given, which maps scikit-learn's ``LinearSVC(C)`` objective
    ``C sum_i s_i l_i + P(w)`` (this objective times ``C sum_i s_i``). The gap is relative to the
    objective at ``w = 0``, ``b = 0``.

    Parameters
    ----------
    penalty : {"l1", "l2"}, default="l2"
    loss : {"squared_hinge", "hinge"}, default="squared_hinge"
    C : float, default=1.0
    alpha : float, optional
        Overrides ``C``.
    fit_intercept : bool, default=True
    penalize_intercept : bool, default=False
        liblinear's intercept: a constant column ``intercept_scaling``, penalized.
    intercept_scaling : float, default=1.0
    tol : float, default=1e-4
    max_iter : int, default=1000
        Newton steps (squared hinge) or epochs (hinge).

    Attributes
    ----------
    classes_, coef_ (1 or n_classes, n_features), intercept_, n_iter_, dual_gap_, alpha_
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l1", "l2"})],
        "loss": [StrOptions({"squared_hinge", "hinge"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="neither"), None],
        "fit_intercept": ["boolean"],
        "penalize_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, penalty="l2", loss="squared_hinge", *, C=1.0, alpha=None,
                 fit_intercept=True, penalize_intercept=False, intercept_scaling=1.0, tol=1e-4,
                 max_iter=1000):
        self.penalty = penalty
        self.loss = loss
        self.C = C
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.penalize_intercept = penalize_intercept
        self.intercept_scaling = intercept_scaling
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None):
        """Fit one classifier (two classes) or one per class against the rest.

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
        if self.loss == "hinge" and self.penalty == "l1":
            raise ValueError("loss='hinge' is supported with penalty='l2' only (dual CD)")
        X, y_enc, sample_weight, classes = validate_classification_input(self, X, y, sample_weight)
        n, p = X.shape
        n_observations = n if sample_weight is None else float(sample_weight.sum())
        alpha = float(self.alpha) if self.alpha is not None else 1.0 / (self.C * n_observations)
        penalty = L1(alpha) if self.penalty == "l1" else L2(alpha)
        l1, l2 = penalty.lower(p)
        liblinear = self.fit_intercept and self.penalize_intercept
        if liblinear:
            X, l1, l2 = with_intercept_column(X, l1, l2, self.intercept_scaling)
        if sp.issparse(X):
            X = sp.csc_matrix(X) if self.loss == "squared_hinge" else sp.csr_matrix(X)
        targets = [1] if classes.size == 2 else range(classes.size)
        coefs, intercepts, gaps, iters = [], [], [], []
        for k in targets:
            signs = np.where(y_enc == k, 1.0, -1.0)
            if self.loss == "hinge":
                result = solve_hinge_dual(X, signs, alpha, sample_weight, self.max_iter, self.tol,
                                          fit_intercept=self.fit_intercept and not liblinear)
                coef, intercept = result.coef, result.intercept
            else:
                result = solve_prox_newton(X, signs, SquaredHinge(), l1, l2, sample_weight,
                                           self.fit_intercept and not liblinear,
                                           max_iter=self.max_iter, tol=self.tol)
                coef, intercept = result.coef, result.intercept
            if liblinear:
                coef, intercept = coef[:-1], self.intercept_scaling * coef[-1]
            coefs.append(coef)
            intercepts.append(intercept if self.fit_intercept else 0.0)
            gaps.append(result.gap)
            iters.append(result.n_iter)
        self.classes_ = classes
        self.coef_ = np.array(coefs)
        self.intercept_ = np.array(intercepts)
        self.dual_gap_ = gaps[0] if len(gaps) == 1 else np.array(gaps)
        self.n_iter_ = max(iters)
        self.alpha_ = alpha
        self.penalty_ = penalty
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
