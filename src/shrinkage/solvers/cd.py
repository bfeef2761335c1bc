"""Coordinate descent for least squares with an elastic-net-family penalty, certified by the gap.

Stopping rule (the only one): the duality gap of :mod:`shrinkage._kernels.gap` falls to

    gap <= tol * ||yc||^2 / (2n),

i.e. ``tol`` is relative to the objective at ``w = 0`` (scikit-learn's rule up to its factor of 2n).
``tol`` of 1e-4 certifies the objective to four significant digits of its initial value.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._kernels.cd_dense import enet_cd_dense, enet_gap_dense
from .._kernels.cd_sparse import enet_cd_sparse, enet_gap_sparse


@dataclass(frozen=True)
class EnetResult:
    coef: np.ndarray
    primal: float
    gap: float
    tol_abs: float
    n_iter: int

    @property
    def converged(self):
        return self.gap <= self.tol_abs


def solve_enet(design, l1, l2, positive=False, coef_init=None, max_iter=1000, tol=1e-4,
               warn=True):
    """Minimise ``(1/2n) ||yc - Xc w||^2 + sum_j (l1_j |w_j| + l2_j w_j^2 / 2)`` [``w >= 0``].

    Parameters
    ----------
    design : Design
        With a 1-d ``y`` (one target).
    l1, l2 : ndarray of shape (n_features,)
        Lowered penalty (see :meth:`shrinkage.penalties.Penalty.lower`).
    positive : bool
    coef_init : ndarray, optional
        Warm start (copied).
    max_iter : int
        Maximum number of passes over the features (full or active-set passes).
    tol : float
        Relative duality-gap tolerance, see the module docstring.
    warn : bool
        Issue a ConvergenceWarning with the achieved gap when it stays above the tolerance.
    """
    p = design.n_features
    w = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64, copy=True)
    if positive:
        np.maximum(w, 0.0, out=w)
    tol_abs = tol * design.null_objective()
    l1 = np.ascontiguousarray(l1, dtype=np.float64)
    l2 = np.ascontiguousarray(l2, dtype=np.float64)
    if design.is_sparse:
        X = design.X
        primal, gap, n_iter = enet_cd_sparse(X.data, X.indices, X.indptr, design.y,
                                             design.x_offset, design.sqrt_sw, w, l1, l2,
                                             bool(positive), int(max_iter), float(tol_abs))
    else:
        primal, gap, n_iter = enet_cd_dense(design.X, design.y, w, l1, l2, bool(positive),
                                            int(max_iter), float(tol_abs))
    result = EnetResult(w, primal, gap, tol_abs, n_iter)
    if warn and not result.converged:
        warnings.warn(
            f"Coordinate descent did not converge in {n_iter} iterations: duality gap "
            f"{gap:.3e} > tolerance {tol_abs:.3e} (tol={tol:g} times the null objective "
            f"{design.null_objective():.3e}). Increase max_iter, loosen tol, or scale the "
            "features.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result


def enet_gap(design, coef, l1, l2, positive=False):
    """``(primal, gap)`` at ``coef`` for one target: the certificate any solver can report."""
    w = np.ascontiguousarray(coef, dtype=np.float64)
    l1 = np.ascontiguousarray(l1, dtype=np.float64)
    l2 = np.ascontiguousarray(l2, dtype=np.float64)
    unpenalized = np.flatnonzero((l1 == 0) & (l2 == 0))
    if design.is_sparse:
        X = design.X
        r = design.y - design.matvec(w)
        return enet_gap_sparse(X.data, X.indices, X.indptr, design.y, w, r, design.x_offset,
                               design.sqrt_sw, l1, l2, bool(positive), unpenalized)
    r = design.y - design.X @ w.astype(design.X.dtype, copy=False)
    return enet_gap_dense(design.X, design.y, w, r.astype(np.float64), l1, l2, bool(positive),
                          unpenalized)
