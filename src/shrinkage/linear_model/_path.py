"""Public regularization paths: ``lasso_path`` and ``enet_path``."""

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import scipy.sparse as sp

from ..dask import is_dask_collection
from ..penalties import ElasticNet as ElasticNetPenalty
from ..solvers import make_design
from ..solvers.path import alpha_max, solve_path
from ._base import validate_fit_input
from ._coordinate_descent import ElasticNet


@dataclass(frozen=True)
class RegularizationPath:
    """Solutions along a grid of alphas (largest first).

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas)
        As scikit-learn's ``enet_path``; :meth:`sparse_coefs` gives a CSC matrix.
    intercepts : ndarray of shape (n_alphas,)
    dual_gaps : ndarray of shape (n_alphas,)
        The certificate of each solution.
    n_iters : ndarray of shape (n_alphas,)
    l1_ratio : float
    n_passes : int or None
        Passes over the data of a distributed (dask) fit; ``None`` for in-memory data.
    """

    alphas: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    dual_gaps: np.ndarray
    n_iters: np.ndarray
    l1_ratio: float
    n_passes: int | None = None

    @property
    def n_nonzero(self):
        """Number of nonzero coefficients at each alpha (glmnet's ``df``)."""
        return np.count_nonzero(self.coefs, axis=0)

    def sparse_coefs(self):
        """``coefs`` as a scipy.sparse CSC matrix (n_features, n_alphas)."""
        return sp.csc_matrix(self.coefs)


def alpha_grid(alpha_max_value, n_alphas=100, eps=1e-3):
    """``n_alphas`` values from ``alpha_max`` down to ``eps * alpha_max``, evenly on a log scale."""
    if not np.isfinite(alpha_max_value):
        raise ValueError("alpha_max is infinite (no L1 part or nothing penalized): give alphas")
    if alpha_max_value <= np.finfo(float).resolution:  # y is explained without any feature
        return np.full(n_alphas, np.finfo(float).resolution)
    return np.geomspace(alpha_max_value, alpha_max_value * eps, num=n_alphas)


def resolve_alphas(alphas, alpha_max_at, eps):
    """``alphas`` as scikit-learn takes it: an int is the size of the default grid (computed by
    ``alpha_max_at()`` only then), an array is the grid."""
    if isinstance(alphas, Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"alphas as a count must be >= 1, got {alphas}")
        return alpha_grid(alpha_max_at(), int(alphas), eps)
    return _check_alphas(alphas)


def _check_alphas(alphas):
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError("alphas must be a non-empty 1-d array")
    if not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError("alphas must be finite and non-negative")
    return alphas


def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
              sample_weight=None, penalty_factor=None, positive=False, precompute="auto",
              max_iter=1000, tol=1e-4):
    """Elastic-net solutions along a grid of alphas, with warm starts.

    Each point minimises ``(1/2n) sum_i s_i (y_i - x_i'w - b)^2 + alpha sum_j f_j (l1_ratio |w_j|
    + (1 - l1_ratio) w_j^2 / 2)`` (see :class:`~shrinkage.ElasticNet`) to the duality gap ``tol``
    relative to that alpha's own objective at its warm start (the path rule of
    :mod:`shrinkage.solvers.cd`, where the stopping rules are stated). The default grid runs from
    ``alpha_max`` (every penalized coefficient zero) to ``eps * alpha_max`` on a log scale, as
    scikit-learn's and glmnet's.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    l1_ratio : float in (0, 1]
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    alphas : int or array-like, default=100
        The number of alphas on the default grid, or the grid itself, solved in the order given
        (decreasing is fastest).
    fit_intercept, sample_weight, penalty_factor, positive, precompute, max_iter, tol
        As for :class:`~shrinkage.ElasticNet`, except that ``precompute="auto"`` uses covariance
        mode as soon as n >= p (p <= 3000, dense): the Gram matrix is computed once for the
        whole path.

    Returns
    -------
    RegularizationPath
    """
    if is_dask_collection(X):  # two passes for the whole grid: see shrinkage.dask
        from ..dask import enet_path as enet_path_dask
        return enet_path_dask(X, y, l1_ratio=l1_ratio, eps=eps, alphas=alphas,
                              fit_intercept=fit_intercept, sample_weight=sample_weight,
                              penalty_factor=penalty_factor, positive=positive,
                              precompute=precompute, max_iter=max_iter, tol=tol)
    if not 0 < l1_ratio <= 1:
        raise ValueError(f"l1_ratio must be in (0, 1] for a path, got {l1_ratio!r}")
    template = ElasticNet(l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                          penalty_factor=penalty_factor, positive=positive, max_iter=max_iter,
                          tol=tol)
    template._validate_params()
    X, y, sample_weight = validate_fit_input(template, X, y, sample_weight, multi_output=False)
    design = make_design(X, y, sample_weight, fit_intercept)

    def penalty_at(alpha):
        return ElasticNetPenalty(alpha, l1_ratio, penalty_factor, positive)

    alphas = resolve_alphas(alphas, lambda: alpha_max(design, penalty_at(1.0), precompute), eps)
    result = solve_path(design, penalty_at, alphas, max_iter=max_iter, tol=tol,
                        precompute=precompute)
    intercepts = np.array([design.intercept(result.coefs[:, k]) for k in range(alphas.size)])
    if not fit_intercept:
        intercepts = np.zeros(alphas.size)
    return RegularizationPath(alphas, result.coefs, intercepts, result.dual_gaps, result.n_iters,
                              float(l1_ratio))


def lasso_path(X, y, **kwargs):
    """Lasso solutions along a grid of alphas: :func:`enet_path` with ``l1_ratio=1``."""
    if "l1_ratio" in kwargs:
        raise TypeError("lasso_path has l1_ratio = 1; use enet_path for another value")
    return enet_path(X, y, l1_ratio=1.0, **kwargs)
