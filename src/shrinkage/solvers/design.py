"""The design matrix as the solvers see it: centred and scaled by the sample weights.

With sample weights ``s`` normalised to sum to n, weighted means ``m = X' s / n`` and
``ybar = y' s / n``, and ``v = sqrt(s)``, the problem

    (1/2n) sum_i s_i (y_i - x_i' w - b)^2 + alpha P(w)

has the intercept ``b = ybar - m' w`` in closed form, and what is left is unweighted least squares
on ``Xc = diag(v) (X - 1 m')`` and ``yc = v * (y - ybar)``: ``(1/2n) ||yc - Xc w||^2 + alpha P(w)``.
Dense designs are centred in a new column-major copy (the caller's array is never written; without
intercept and weights a column-major X is used as is); sparse designs are only row-scaled (a copy
only with weights), and the kernels centre them implicitly so sparsity survives.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from .._kernels.cd_dense import column_sq_norms_dense
from .._kernels.cd_sparse import column_sq_norms_sparse
from ..datafits import normalise_sample_weight


@dataclass(frozen=True)
class Design:
    """Centred, weight-scaled least-squares problem.

    Attributes
    ----------
    X : ndarray (Fortran order) or scipy.sparse.csc_matrix
        Dense: ``Xc`` itself. Sparse: ``diag(v) X``, to be centred with ``x_offset`` and ``v``.
    y : ndarray of shape (n,) or (n, k), float64
        ``yc``.
    x_offset : ndarray of shape (p,)
        Weighted column means ``m`` (zeros without an intercept).
    y_offset : float or ndarray of shape (k,)
        Weighted mean(s) of y (zero without an intercept).
    sqrt_sw : ndarray of shape (n,)
        ``v = sqrt(s)``.
    """

    X: object
    y: np.ndarray
    x_offset: np.ndarray
    y_offset: object
    sqrt_sw: np.ndarray

    @property
    def n_samples(self):
        return self.y.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def is_sparse(self):
        return sp.issparse(self.X)

    def intercept(self, coef):
        """``b = ybar - m' w`` for coefficients of shape (p,) or (k, p)."""
        return self.y_offset - coef @ self.x_offset

    def target(self, k):
        """The design restricted to target column ``k`` (for 2-d ``y``)."""
        if self.y.ndim == 1:
            return self
        return Design(self.X, np.ascontiguousarray(self.y[:, k]), self.x_offset,
                      self.y_offset[k], self.sqrt_sw)

    def matvec(self, w):
        """``Xc w``."""
        if not self.is_sparse:
            return self.X @ w
        return self.X @ w - np.multiply.outer(self.sqrt_sw, self.x_offset @ w)

    def rmatvec(self, r):
        """``Xc' r``."""
        if not self.is_sparse:
            return self.X.T @ r
        return self.X.T @ r - np.multiply.outer(self.x_offset, self.sqrt_sw @ r)

    @cached_property
    def column_sq_norms(self):
        """``||Xc_j||^2`` per column, float64; computed once per design (a path or CV fold calls
        the solver once per alpha)."""
        if self.is_sparse:
            return column_sq_norms_sparse(self.X.data, self.X.indptr, self.x_offset,
                                          self.n_samples)
        return column_sq_norms_dense(self.X)

    @cached_property
    def gram(self):
        """``(Xc' Xc, Xc' yc, ||yc||^2)`` in float64, for covariance-mode solvers (1-d y).

        Computed on first use and kept, so a path or a refit pays for it once.
        """
        if self.is_sparse:
            G = (self.X.T @ self.X).toarray() - self.n_samples * np.outer(self.x_offset,
                                                                         self.x_offset)
        else:
            X = np.asarray(self.X, dtype=np.float64)
            G = X.T @ X
        return np.asfortranarray(G), np.asarray(self.rmatvec(self.y), dtype=np.float64), float(
            self.y @ self.y)

    def null_objective(self):
        """``||yc||^2 / (2n)``: the objective at ``w = 0``, the scale of the relative gap."""
        return 0.5 * float(np.sum(self.y**2, axis=0).max()) / self.n_samples


def make_design(X, y, sample_weight=None, fit_intercept=True):
    """Build the :class:`Design` from validated arrays (not modified)."""
    n_samples = X.shape[0]
    s = normalise_sample_weight(sample_weight, n_samples)
    sqrt_sw = np.sqrt(s)
    y = np.asarray(y, dtype=np.float64)
    if fit_intercept:
        x_offset = np.asarray(X.T @ s, dtype=np.float64).ravel() / n_samples
        y_offset = s @ y / n_samples
    else:
        x_offset = np.zeros(X.shape[1])
        y_offset = 0.0 if y.ndim == 1 else np.zeros(y.shape[1])
    yc = (y - y_offset) * (sqrt_sw if y.ndim == 1 else sqrt_sw[:, None])
    if sp.issparse(X):
        Xs = sp.diags(sqrt_sw) @ X if sample_weight is not None else X
        # shares the caller's arrays when X is CSC already: the kernels only read them
        return Design(sp.csc_matrix(Xs), yc, x_offset, y_offset, sqrt_sw)
    if not fit_intercept and sample_weight is None:
        return Design(np.asfortranarray(X), yc, x_offset, y_offset, sqrt_sw)  # read-only use
    Xc = np.array(X, dtype=X.dtype, order="F", copy=True)
    if fit_intercept:
        Xc -= x_offset.astype(X.dtype)
    if sample_weight is not None:
        Xc *= sqrt_sw[:, None].astype(X.dtype)
    return Design(Xc, yc, x_offset, y_offset, sqrt_sw)
