"""The design matrix as the solvers see it: centred and scaled by the sample weights.

With sample weights ``s`` normalised to sum to n, weighted means ``m = X' s / n`` and
``ybar = y' s / n``, and ``v = sqrt(s)``, the problem

    (1/2n) sum_i s_i (y_i - x_i' w - b)^2 + alpha P(w)

has the intercept ``b = ybar - m' w`` in closed form, and what is left is unweighted least squares
on ``Xc = diag(v) (X - 1 m')`` and ``yc = v * (y - ybar)``: ``(1/2n) ||yc - Xc w||^2 + alpha P(w)``.
Dense designs are centred in a new column-major copy, made on first use (the caller's array is
never written; without intercept and weights a column-major X is used as is): covariance-mode
solvers never ask for it, because :attr:`Design.gram` centres row blocks of the source on the fly.
Sparse designs are only row-scaled (a copy only with weights), and the kernels centre them
implicitly so sparsity survives.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from .._kernels.cd_dense import centred_copy_dense, column_sq_norms_dense
from .._kernels.cd_sparse import column_sq_norms_sparse
from ..datafits import normalise_sample_weight


@dataclass(frozen=True)
class Design:
    """Centred, weight-scaled least-squares problem.

    Attributes
    ----------
    source : ndarray or scipy.sparse matrix
        The validated design as the caller gave it (read, never written).
    y : ndarray of shape (n,) or (n, k), float64
        ``yc``.
    x_offset : ndarray of shape (p,)
        Weighted column means ``m`` (zeros without an intercept).
    y_offset : float or ndarray of shape (k,)
        Weighted mean(s) of y (zero without an intercept).
    sqrt_sw : ndarray of shape (n,)
        ``v = sqrt(s)``.
    weighted : bool
        Whether sample weights were given (otherwise ``v = 1`` and no row scaling is needed).
    """

    source: object
    y: np.ndarray
    x_offset: np.ndarray
    y_offset: object
    sqrt_sw: np.ndarray
    weighted: bool = False

    @cached_property
    def X(self):
        """The design the kernels read. Dense: ``Xc`` itself (column-major; a copy unless no
        centring or scaling is needed). Sparse: CSC ``diag(v) X``, to be centred with
        ``x_offset`` and ``v``."""
        X = self.source
        if sp.issparse(X):
            # shares the caller's arrays when X is CSC already: the kernels only read them
            return sp.csc_matrix(sp.diags(self.sqrt_sw) @ X if self.weighted else X)
        if not self.weighted and not np.any(self.x_offset):
            return np.asfortranarray(X)
        if X.flags.f_contiguous and X.size > KERNEL_COPY_MIN_SIZE:
            scale = self.sqrt_sw if self.weighted else np.empty(0)
            return centred_copy_dense(X, self.x_offset.astype(X.dtype), scale.astype(X.dtype))
        Xc = np.array(X, dtype=X.dtype, order="F", copy=True)
        Xc -= self.x_offset.astype(X.dtype)
        if self.weighted:
            Xc *= self.sqrt_sw[:, None].astype(X.dtype)
        return Xc

    @property
    def n_samples(self):
        return self.y.shape[0]

    @property
    def n_features(self):
        return self.source.shape[1]

    @property
    def is_sparse(self):
        return sp.issparse(self.source)

    def intercept(self, coef):
        """``b = ybar - m' w`` for coefficients of shape (p,) or (k, p)."""
        return self.y_offset - coef @ self.x_offset

    def target(self, k):
        """The design restricted to target column ``k`` (for 2-d ``y``)."""
        if self.y.ndim == 1:
            return self
        one = Design(self.source, np.ascontiguousarray(self.y[:, k]), self.x_offset,
                     self.y_offset[k], self.sqrt_sw, self.weighted)
        for shared in ("X", "column_sq_norms"):  # the centred copy is made once for all targets
            if shared in self.__dict__:
                one.__dict__[shared] = self.__dict__[shared]
        return one

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
            b = np.asarray(self.rmatvec(self.y), dtype=np.float64)
        elif "X" in self.__dict__:
            X = np.asarray(self.X, dtype=np.float64)
            G, b = X.T @ X, X.T @ self.y
        else:
            G, b = self._uncentred_gram()
        return np.asfortranarray(G), b, float(self.y @ self.y)

    @cached_property
    def xty(self):
        """``Xc' yc`` (1-d y), float64, kept for the path's second-order warm starts."""
        if "gram" in self.__dict__:
            return self.gram[1]
        return np.asarray(self.rmatvec(self.y), dtype=np.float64).ravel()

    def gram_block(self, features):
        """``Xc_A' Xc_A`` for the columns ``A = features``, float64 (see :meth:`gram_block_parts`)."""
        block, at = self.gram_block_parts(features)
        return block[np.ix_(at, at)]

    def gram_block_parts(self, features):
        """``(block, at)`` with ``block[np.ix_(at, at)] = Xc_A' Xc_A`` for ``A = features``.

        ``block`` is the Gram matrix when it is cached; otherwise a block kept on the design for
        the columns asked for so far, extended by the new ones only (O(n |A| k) for k new
        columns), so a path that grows its support one feature at a time pays O(n) per entry.
        Kernels gather from it themselves (the second-order start), without the fancy-indexed copy.
        """
        if "gram" in self.__dict__:
            return self.gram[0], features
        cache = self.__dict__.get("_gram_block")
        if cache is None or cache[0].size + features.size > GRAM_BLOCK_MAX_COLUMNS:
            cache = (np.empty(0, dtype=np.intp), np.full(self.n_features, -1, dtype=np.intp),
                     np.empty((0, 0)))
        index, position, block = cache
        new = features[position[features] < 0]
        if new.size:
            index = np.concatenate([index, new])
            position = position.copy()
            position[new] = np.arange(index.size - new.size, index.size)
            cross = self._cross_products(new, index)  # (new, all)
            grown = np.empty((index.size, index.size))
            k = index.size - new.size
            grown[:k, :k] = block
            grown[k:, :] = cross
            grown[:k, k:] = cross[:, :k].T
            block = grown
            self.__dict__["_gram_block"] = (index, position, block)
        return block, position[features]

    def _cross_products(self, rows, cols):
        """``Xc_rows' Xc_cols`` in float64."""
        if self.is_sparse:
            product = (self.X[:, rows].T @ self.X[:, cols]).toarray()
            return product - self.n_samples * np.outer(self.x_offset[rows], self.x_offset[cols])
        X = self.X
        return np.asarray(X[:, rows], dtype=np.float64).T @ np.asarray(X[:, cols],
                                                                      dtype=np.float64)

    def _uncentred_gram(self):
        """``Xc' Xc`` and ``Xc' yc`` without the centred n x p copy.

        Unweighted, ``Xc' Xc = X'X - n m m'`` and ``Xc' yc = X' yc`` (``yc`` sums to zero): one
        BLAS product on the source. The subtraction loses ``(m_j / sd_j)^2`` times machine
        precision on column j, so when some column's mean exceeds its spread (or with weights)
        row blocks are centred (and scaled) in a small buffer instead: exact, same flops.
        """
        X, n = self.source, self.n_samples
        if not self.weighted:
            X64 = np.asarray(X, dtype=np.float64)
            G = X64.T @ X64
            m = self.x_offset
            spread = np.diag(G) - n * m * m
            if np.all(n * m * m <= np.maximum(spread, 0.0)):
                G -= n * np.outer(m, m)
                return G, X64.T @ self.y
        return self._blocked_gram()

    def _blocked_gram(self):
        """``Xc' Xc`` and ``Xc' yc`` from row blocks of the source, each centred and scaled in a
        small buffer."""
        X, n, p = self.source, self.n_samples, self.n_features
        rows = max(256, GRAM_BLOCK_ELEMENTS // max(p, 1))
        G = np.zeros((p, p))
        b = np.zeros(p)
        for start in range(0, n, rows):
            block = np.array(X[start:start + rows], dtype=np.float64, order="F")
            block -= self.x_offset
            if self.weighted:
                block *= self.sqrt_sw[start:start + rows, None]
            G += block.T @ block
            b += block.T @ self.y[start:start + rows]
        return G, b

    def null_objective(self):
        """``||yc||^2 / (2n)``: the objective at ``w = 0``, the scale of the relative gap."""
        return self._null_objective

    @cached_property
    def _null_objective(self):
        return 0.5 * float(np.sum(self.y**2, axis=0).max()) / self.n_samples


# Most columns kept in the Gram block of Design.gram_block (50 MB; beyond it the block starts
# afresh).
GRAM_BLOCK_MAX_COLUMNS = 2500
# Designs above this many entries are centred by one numba pass (half the time of NumPy's copy and
# subtraction); smaller ones by NumPy, so that the small fits solved without numba (see
# solvers/homotopy.py) do not import it.
KERNEL_COPY_MIN_SIZE = 50_000
# Elements per row block when the Gram matrix is formed without the centred copy (8 MB in float64).
GRAM_BLOCK_ELEMENTS = 1 << 20


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
    return Design(X, yc, x_offset, y_offset, sqrt_sw, sample_weight is not None)
