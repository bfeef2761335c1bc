"""Hinge loss with an L2 penalty, through dual coordinate descent (liblinear's method).

Problem (normalised weights ``s``)::

    (1/n) sum_i s_i max(0, 1 - y_i (x_i' w + b)) + (alpha / 2) ||w||^2

which is the kernel's ``||w||^2 / 2 + sum_i U_i max(0, 1 - y_i (x_i'w + b))`` divided by
``1 / alpha`` with ``U_i = s_i / (alpha n)`` (scikit-learn's ``C s_i`` when ``alpha = 1 / (C n)``).
Without an intercept (``b = 0``; the estimator appends liblinear's penalized constant column when
asked for one) this is one dual coordinate descent. With an exactly free intercept the dual gains
the equality ``sum_i a_i y_i = 0``, which single-coordinate updates cannot keep; instead
``F(b) = min_w P(w, b)`` is convex in ``b`` with derivative ``-sum_i a_i(b) y_i`` (the dual
solution at that ``b``; the kernel takes the margins ``1 - y_i b``), so ``b`` is found by bisection on
that sign, each solve warm-started from the last. The certificate is the joint duality gap
against the dual point made feasible for the equality (the larger class's ``a_i`` scaled down).
Dense columns are centred first for that route (the problem is invariant to it, its dual much
better conditioned); sparse ones are used as they are. Stops when the gap falls below ``tol``
times the objective at ``w = 0, b = 0`` (which is 1).
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
    intercept: float
    primal: float
    gap: float
    n_iter: int
    converged: bool


_MAX_BISECTIONS = 100


def _dual_cd(X, y, U, m, a, w, max_iter, tol_kernel, seed):
    if sp.issparse(X):
        return hinge_dual_cd_sparse(X.data, X.indices, X.indptr, y, U, m, a, w, int(max_iter),
                                    float(tol_kernel), int(seed))
    return hinge_dual_cd_dense(X, y, U, m, a, w, int(max_iter), float(tol_kernel), int(seed))


def _dual_value(X, y, a):
    v = X.T @ (a * y)
    return a.sum() - 0.5 * (v @ v)


def _feasible(y, a):
    """``a`` made feasible for ``sum a_i y_i = 0`` by scaling down the larger class's part."""
    positive = y > 0
    up, down = a[positive].sum(), a[~positive].sum()
    feasible = a.copy()
    if up > down:
        feasible[positive] *= down / up
    elif down > up:
        feasible[~positive] *= up / down
    return feasible


def _primal(X, y, U, w, b):
    return 0.5 * (w @ w) + U @ np.maximum(0.0, 1.0 - y * (X @ w + b))


def solve_hinge_dual(X, y, alpha, sample_weight=None, max_iter=1000, tol=1e-4, seed=0,
                     warn=True, fit_intercept=False):
    """Minimise the L2-penalized hinge loss (module docstring); ``y`` in {-1, +1}."""
    if not alpha > 0:
        raise ValueError("the hinge loss needs a positive L2 penalty (alpha > 0)")
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * (
        n / np.sum(sample_weight))
    U = s / (alpha * n)
    y = np.ascontiguousarray(y, dtype=np.float64)
    X = sp.csr_matrix(X) if sp.issparse(X) else np.ascontiguousarray(X)
    a = np.zeros(n)
    w = np.zeros(p)
    tol_kernel = tol / alpha  # the objective at w = 0 (and b = 0) is 1 in shrinkage's scaling
    if not fit_intercept:
        primal, gap, epochs = _dual_cd(X, y, U, np.ones(n), a, w, max_iter, tol_kernel, seed)
        b = 0.0
    elif sp.issparse(X):
        b, primal, gap, epochs = _free_intercept(X, y, U, a, w, max_iter, tol_kernel, seed)
    else:
        # with a free intercept the problem is the same on centred columns (x'w + b = (x - m)'w +
        # (b + m'w)), and their dual is far better conditioned than that of columns far from 0
        mean = s @ X / n
        b, primal, gap, epochs = _free_intercept(X - mean, y, U, a, w, max_iter, tol_kernel, seed)
        b -= mean @ w
    converged = gap <= tol_kernel
    if warn and not converged:
        warnings.warn(f"Dual coordinate descent did not converge in {epochs} epochs: duality gap "
                      f"{alpha * gap:.3e} > tolerance {tol:.3e}. Increase max_iter or loosen tol.",
                      ConvergenceWarning, stacklevel=3)
    return HingeResult(w, float(b), alpha * primal, alpha * gap, int(epochs), bool(converged))


def _free_intercept(X, y, U, a, w, max_iter, tol_kernel, seed):
    """Bisection on ``b`` (module docstring); ``a``, ``w`` updated in place. Returns
    ``(b, primal, joint gap, epochs)``.

    The dual point of the certificate is the better of ``a(b)`` made feasible and the combination
    ``t a(lo) + (1 - t) a(hi)`` of the bracket's ends with ``sum a_i y_i = 0`` (feasible: the box is
    convex); near a kink of ``F`` — where the minimiser often is, the hinge being piecewise linear —
    only the latter closes the gap.
    """
    inner_tol = 0.1 * tol_kernel     # the sign of sum a_i y_i must be right near the optimum
    epochs = 0

    def solve_at(b):
        nonlocal epochs
        _, _, used = _dual_cd(X, y, U, 1.0 - y * b, a, w, max_iter, inner_tol, seed)
        epochs += used
        return -(a @ y), a.copy()     # F'(b), the dual point

    lo, hi = -1.0, 1.0
    slope_lo, a_lo = solve_at(lo)
    width = 2.0
    # bracket the minimiser: F' <= 0 at lo, >= 0 at hi (F' is nondecreasing)
    while slope_lo > 0 and epochs < max_iter:
        hi, lo = lo, lo - width
        width *= 2
        slope_lo, a_lo = solve_at(lo)
    slope_hi, a_hi = solve_at(hi)
    while slope_hi < 0 and epochs < max_iter:
        lo, slope_lo, a_lo = hi, slope_hi, a_hi
        hi += width
        width *= 2
        slope_hi, a_hi = solve_at(hi)
    best = None
    dual = -np.inf
    for _ in range(_MAX_BISECTIONS):
        b = 0.5 * (lo + hi)
        slope, a_mid = solve_at(b)
        primal = _primal(X, y, U, w, b)
        dual = max(dual, _dual_value(X, y, _feasible(y, a_mid)))
        if slope_lo < 0 < slope_hi:   # -slope = sum a y: a(lo) has it > 0, a(hi) < 0
            t = slope_hi / (slope_hi - slope_lo)
            dual = max(dual, _dual_value(X, y, t * a_lo + (1.0 - t) * a_hi))
        if best is None or primal < best[1]:
            best = (b, primal, w.copy(), a_mid)
        gap = best[1] - dual
        if gap <= tol_kernel or epochs >= max_iter or hi - lo <= 1e-15 * max(1.0, abs(b)):
            break
        if slope > 0:
            hi, slope_hi, a_hi = b, slope, a_mid
        elif slope < 0:
            lo, slope_lo, a_lo = b, slope, a_mid
        else:
            break
    b, primal, w_best, a_best = best
    a[:] = a_best
    w[:] = w_best
    return b, primal, primal - dual, epochs
