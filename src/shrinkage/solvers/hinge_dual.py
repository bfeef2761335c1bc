"""Hinge loss with an L2 penalty, through dual coordinate descent (liblinear's method).

Problem (normalised weights ``s``, no intercept: the estimator appends liblinear's constant
column when asked for one)::

    (1/n) sum_i s_i max(0, 1 - y_i x_i' w) + (alpha / 2) ||w||^2

which is the kernel's ``||w||^2 / 2 + sum_i U_i max(0, 1 - y_i x_i'w)`` divided by ``1 / alpha``
with ``U_i = s_i / (alpha n)`` (scikit-learn's ``C s_i`` when ``alpha = 1 / (C n)``). Stops when
the duality gap falls below ``tol`` times the objective at ``w = 0`` (which is 1).
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from .._kernels.hinge_dual import hinge_dual_cd_dense, hinge_dual_cd_sparse


@dataclass(frozen=True)
class HingeResult:
    coef: np.ndarray
    primal: float
    gap: float
    n_iter: int
    converged: bool


def solve_hinge_dual(X, y, alpha, sample_weight=None, max_iter=1000, tol=1e-4, seed=0,
                     warn=True):
    """Minimise the L2-penalized hinge loss (module docstring); ``y`` in {-1, +1}."""
    if not alpha > 0:
        raise ValueError("the hinge loss needs a positive L2 penalty (alpha > 0)")
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * (
        n / np.sum(sample_weight))
    U = s / (alpha * n)
    y = np.ascontiguousarray(y, dtype=np.float64)
    a = np.zeros(n)
    w = np.zeros(p)
    tol_kernel = tol / alpha  # the objective at w = 0 is 1 in shrinkage's scaling
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        primal, gap, epochs = hinge_dual_cd_sparse(X.data, X.indices, X.indptr, y, U, a, w,
                                                   int(max_iter), float(tol_kernel), int(seed))
    else:
        primal, gap, epochs = hinge_dual_cd_dense(np.ascontiguousarray(X), y, U, a, w,
                                                  int(max_iter), float(tol_kernel), int(seed))
    converged = gap <= tol_kernel
    if warn and not converged:
        warnings.warn(f"Dual coordinate descent did not converge in {epochs} epochs: duality gap "
                      f"{alpha * gap:.3e} > tolerance {tol:.3e}. Increase max_iter or loosen tol.",
                      ConvergenceWarning, stacklevel=3)
    return HingeResult(w, alpha * primal, alpha * gap, int(epochs), bool(converged))
