"""Multinomial logistic regression by block proximal Newton over the classes (glmnet's scheme).

Problem, with ``Z = X W' + 1 b'`` (n x K), one-hot labels ``Y`` and ``c = s / n``::

    P(W, b) = sum_i c_i [logsumexp_k Z_ik - Z_{i, y_i}] + sum_k sum_j (l1_j |W_kj| + l2_j W_kj^2 / 2)

With the other classes fixed, class k's part of the loss is a binary logistic loss with an offset:
``log(e^z + R_i) - Y_ik z = log(1 + e^(z - log R_i)) - Y_ik z + const`` with
``R_i = sum_{j != k} e^(Z_ij)``. So each block is one proximal-Newton step of the binary solver
(:func:`~shrinkage.solvers.prox_newton.solve_prox_newton` with ``offset = -log R``), and a cycle
over the classes is repeated until the joint duality gap certifies the solution.

Duality gap: before each check the intercepts are fitted jointly (a K-dimensional damped Newton
step on ``b``), so that ``sum_i theta_ik = 0`` (each free intercept's equality constraint) holds to
rounding. With ``theta = C (Y - P)`` (rows ``c_i (Y_i - P_i)``) rescaled by ``kappa`` into the L1
box, ``Q = Y - kappa theta / c`` lies on the simplex and

    D = - sum_i c_i sum_k Q_ik log Q_ik - sum_k sum_j G_j*(kappa X_j' theta_k),

the conjugate of ``logsumexp`` being the negative entropy on the simplex. Stop when
``P - D <= tol * P(0, b0)``, ``P(0, b0)`` the weighted entropy of the class frequencies.

The gap is first order in the KKT violation while each block's binary certificate is second
order, and on L1 problems the cycle can stop improving at a gap of ~1e-8 of ``P(0, b0)`` (the
objective then changes by less than 1e-15 per cycle): the solver stops there with a
ConvergenceWarning that states the achieved gap.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning

from ..datafits import Logistic, _xlogx
from .prox_newton import _matvec, _rmatvec, penalty_conjugate, penalty_value, solve_prox_newton


@dataclass(frozen=True)
class MultinomialResult:
    coef: np.ndarray        # (K, p)
    intercept: np.ndarray   # (K,)
    primal: float
    gap: float
    tol_abs: float
    n_iter: int
    converged: bool


def _logsumexp(Z):
    top = Z.max(axis=1)
    return top + np.log(np.exp(Z - top[:, None]).sum(axis=1))


def _loss(Z, Y, c):
    return float(c @ (_logsumexp(Z) - np.sum(Y * Z, axis=1)))


def _fit_intercepts(Z, Y, c, b, max_iter=50):
    """Damped Newton on the intercepts alone (``Z`` includes ``b``); returns ``(Z, b)``."""
    f = _loss(Z, Y, c)
    for _ in range(max_iter):
        P = softmax(Z, axis=1)
        g = c @ (P - Y)
        if np.max(np.abs(g)) <= 1e-14:
            break
        H = np.diag(c @ P) - (P * c[:, None]).T @ P
        # H is singular along (1, ..., 1) (a common shift changes nothing): least squares
        step = np.linalg.lstsq(H, g, rcond=None)[0]
        t = 1.0
        while t > 1e-10:
            f_new = _loss(Z - t * step, Y, c)
            if f_new <= f - 1e-4 * t * (g @ step) + 1e-15 * abs(f):
                break
            t *= 0.5
        else:
            break
        Z = Z - t * step
        b = b - t * step
        f = f_new
    return Z, b


def multinomial_gap(X, Y, c, Z, primal, l1, l2):
    """Duality gap at the point whose predictor is ``Z`` (intercepts assumed fitted)."""
    P = softmax(Z, axis=1)
    theta = c[:, None] * (Y - P)
    corr = np.column_stack([_rmatvec(X, theta[:, k]) for k in range(Y.shape[1])])
    pure_l1 = (l2 == 0) & (l1 > 0)
    kappa = 1.0
    if np.any(pure_l1):
        worst = np.max(np.abs(corr[pure_l1]) / l1[pure_l1, None])
        if worst > 1.0:
            kappa = 1.0 / worst
    Q = np.clip((1.0 - kappa) * Y + kappa * P, 0.0, 1.0)
    dual = -float(c @ np.sum(_xlogx(Q), axis=1))
    dual -= sum(penalty_conjugate(kappa * corr[:, k], l1, l2, False) for k in range(Y.shape[1]))
    return primal - dual


def solve_multinomial(X, y, n_classes, l1, l2, sample_weight=None, fit_intercept=True,
                      coef_init=None, intercept_init=None, max_iter=100, tol=1e-4, warn=True):
    """Minimise the penalized multinomial negative log-likelihood (module docstring).

    ``y`` holds class indices ``0..K-1``; ``max_iter`` counts cycles over the classes.
    """
    n, p = X.shape
    K = int(n_classes)
    if sp.issparse(X):
        X = sp.csc_matrix(X)
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * (
        n / np.sum(sample_weight))
    c = s / n
    Y = np.zeros((n, K))
    Y[np.arange(n), y] = 1.0
    l1 = np.ascontiguousarray(l1, dtype=np.float64)
    l2 = np.ascontiguousarray(l2, dtype=np.float64)
    any_free = bool(np.any((l1 == 0) & (l2 == 0)))

    freq = np.maximum(c @ Y, 1e-300)
    b_null = np.log(freq) if fit_intercept else np.zeros(K)
    null_objective = _loss(np.tile(b_null, (n, 1)), Y, c)
    tol_abs = tol * null_objective

    W = np.zeros((K, p)) if coef_init is None else np.array(coef_init, dtype=np.float64)
    b = b_null.copy() if intercept_init is None else np.array(intercept_init, dtype=np.float64)
    if not fit_intercept:
        b = np.zeros(K)
    Z = np.column_stack([_matvec(X, W[k]) for k in range(K)]) + b
    gap = np.inf
    n_iter = 0
    converged = False
    previous = np.inf
    while True:
        if fit_intercept:
            Z, b = _fit_intercepts(Z, Y, c, b)
        primal = _loss(Z, Y, c) + sum(penalty_value(W[k], l1, l2) for k in range(K))
        if any_free:
            # no penalty: stop on the gradient (KKT), the gap is not defined
            P = softmax(Z, axis=1)
            grad = np.column_stack([_rmatvec(X, c * (P[:, k] - Y[:, k])) for k in range(K)])
            gap = float(np.max(np.abs(grad)))
            converged = gap <= tol * max(1e-300, float(np.max(np.abs(
                np.column_stack([_rmatvec(X, c * (freq[k] - Y[:, k])) for k in range(K)])))))
        else:
            gap = multinomial_gap(X, Y, c, Z, primal, l1, l2)
            converged = gap <= tol_abs
        # a cycle that no longer lowers the objective: float64's floor for this certificate
        stalled = primal >= previous - 1e-15 * abs(primal)
        if converged or n_iter >= max_iter or stalled:
            break
        previous = primal
        n_iter += 1
        for k in range(K):
            # class k against the others: binary logistic with offset -log R_i
            others = np.delete(Z, k, axis=1)
            offset = -_logsumexp(others)
            # tol=0: always one Newton step. The binary dual certifies each block long before the
            # multinomial one certifies the whole (a common rescaling over all classes).
            res = solve_prox_newton(X, Y[:, k], Logistic(), l1, l2, s, fit_intercept,
                                    coef_init=W[k], intercept_init=b[k], max_iter=1,
                                    tol=0.0, warn=False,
                                    null_objective=null_objective, offset=offset)
            W[k] = res.coef
            b[k] = res.intercept if fit_intercept else 0.0
            Z[:, k] = _matvec(X, W[k]) + b[k]
    if any_free:
        gap = np.nan
    if warn and not converged:
        warnings.warn(f"Multinomial proximal Newton did not converge in {n_iter} cycles (gap "
                      f"{gap:.3e}, tolerance {tol_abs:.3e}). Increase max_iter or loosen tol.",
                      ConvergenceWarning, stacklevel=3)
    if fit_intercept:
        b = b - b.mean()  # a common shift changes no probability: report the centred intercepts
    return MultinomialResult(W, b, primal, float(gap), tol_abs, n_iter, converged)


def multinomial_alpha_max(X, y, n_classes, sample_weight=None, fit_intercept=True, l1_ratio=1.0):
    """Smallest alpha with every coefficient zero: ``max_jk |X_j' c (pi_k - Y_k)| / l1_ratio``
    with ``pi`` the (weighted) class frequencies (the intercept-only fit)."""
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * (
        n / np.sum(sample_weight))
    c = s / n
    Y = np.zeros((n, n_classes))
    Y[np.arange(n), y] = 1.0
    P = np.tile(c @ Y, (n, 1)) if fit_intercept else np.full((n, n_classes), 1.0 / n_classes)
    grad = np.column_stack([_rmatvec(X, c * (P[:, k] - Y[:, k])) for k in range(n_classes)])
    return float(np.max(np.abs(grad), initial=0.0)) / max(l1_ratio, 1e-3)


def solve_multinomial_path(X, y, n_classes, penalty_at, alphas, sample_weight=None,
                           fit_intercept=True, max_iter=100, tol=1e-4, warn=True):
    """:func:`solve_multinomial` along ``alphas`` with warm starts.

    Returns ``(coefs (K, p, n_alphas), intercepts (K, n_alphas), gaps, n_iters)``.
    """
    p = X.shape[1]
    alphas = np.asarray(alphas, dtype=np.float64)
    coefs = np.zeros((n_classes, p, alphas.size))
    intercepts = np.zeros((n_classes, alphas.size))
    gaps = np.zeros(alphas.size)
    iters = np.zeros(alphas.size, dtype=np.int64)
    W = b = None
    for k, alpha in enumerate(alphas):
        l1, l2 = penalty_at(alpha).lower(p)
        result = solve_multinomial(X, y, n_classes, l1, l2, sample_weight, fit_intercept,
                                   coef_init=W, intercept_init=b, max_iter=max_iter, tol=tol,
                                   warn=warn)
        W, b = result.coef, result.intercept
        coefs[:, :, k], intercepts[:, k], gaps[k], iters[k] = W, b, result.gap, result.n_iter
    return coefs, intercepts, gaps, iters
