"""Ridge in closed form: the minimiser of ``(1/2n) ||yc - Xc w||^2 + sum_j l2_j w_j^2 / 2``.

Setting the gradient to zero gives the normal equations

    (Xc' Xc + n L) w = Xc' yc,        L = diag(l2),

solved without ever forming an inverse:

- ``primal``: Cholesky of the p x p matrix ``Xc' Xc + n L`` (n >= p, or unpenalized columns);
- ``dual``: by the push-through identity ``w = L^-1 Xc' c`` with ``(Xc L^-1 Xc' + n I) c = yc``,
  a Cholesky of an n x n matrix (p > n, every l2_j > 0);
- ``svd``: ``Xc = U S V'`` gives ``w = V diag(s / (s^2 + n alpha)) U' yc`` for every alpha at once;
- ``cg``: conjugate gradients on the smaller normal equations through matrix-vector products only
  (large sparse designs, where neither Gram matrix fits in memory);
- ``l2 = 0`` everywhere (a flat prior): least squares by SVD (``lstsq``), minimum-norm when the
  design is rank deficient.

A design known only through its Gram matrix (:class:`~shrinkage.solvers.gram_design.GramDesign`,
distributed data: ``has_rows`` is False) takes ``primal``, or ``lstsq`` on the normal equations
(the minimum-norm solution of ``Xc'Xc w = Xc'yc`` is the minimum-norm least-squares one).
"""

import warnings

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, cg, lsqr
from sklearn.exceptions import ConvergenceWarning

# Above this many rows (or columns) a sparse design is not turned into a dense Gram matrix.
GRAM_LIMIT = 5000
# Singular values below this fraction of the largest are treated as zero (rank deficiency).
RANK_CUTOFF = 1e-12


def _gram(design):
    """``Xc' Xc`` as a dense array (the sparse design is centred implicitly)."""
    X = design.X
    if not design.is_sparse:
        return X.T @ X
    m = design.x_offset
    return (X.T @ X).toarray() - design.n_samples * np.outer(m, m)


def _kernel(design, column_scale):
    """``Xc diag(column_scale^2) Xc'`` as a dense n x n array."""
    X = design.X
    if not design.is_sparse:
        Xs = X * column_scale
        return Xs @ Xs.T
    Xs = X @ sp.diags(column_scale)
    a = Xs @ (design.x_offset * column_scale)  # (D X S) (S m)
    v = design.sqrt_sw
    m_s = design.x_offset * column_scale
    return (Xs @ Xs.T).toarray() - np.outer(a, v) - np.outer(v, a) + (m_s @ m_s) * np.outer(v, v)


def _normal_equations(design):
    """``(Xc' Xc, Xc' yc)``: the Gram matrix a design holds (reduced statistics, or one already
    computed for covariance mode), else formed from the rows."""
    held = vars(design).get("gram")
    if held is not None:
        return held[0], held[1]
    return _gram(design), design.rmatvec(design.y)


def choose_ridge_solver(design, l2):
    n, p = design.n_samples, design.n_features
    if not np.any(l2 > 0):
        return "lstsq"
    if not getattr(design, "has_rows", True):
        return "primal"
    if design.is_sparse and min(n, p) > GRAM_LIMIT:
        return "cg"
    if p > n and np.all(l2 > 0):
        return "dual"
    return "primal"


def solve_ridge(design, l2, solver="auto", tol=1e-10, max_iter=None):
    """Solve the normal equations for every target of ``design``; returns ``(coef, n_iter)``.

    ``coef`` has shape (p,) for a 1-d ``y`` and (k, p) for a 2-d one. ``n_iter`` is 1 for
    the direct solvers (one factorisation), the conjugate-gradient iteration count otherwise.
    """
    l2 = np.asarray(l2, dtype=np.float64)
    n = design.n_samples
    if solver == "auto":
        solver = choose_ridge_solver(design, l2)
    if solver == "svd":
        if np.ptp(l2) > 0:
            raise ValueError("solver='svd' needs the same penalty on every feature")
        return ridge_svd_path(design, np.array([l2[0] if l2.size else 0.0]))[0], 1
    if solver == "lstsq":
        if not getattr(design, "has_rows", True):
            G, rhs = _normal_equations(design)
            # the eigenvalues of Xc'Xc are Xc's singular values squared, and its round-off is
            # ~1e-16 of the largest: RANK_CUTOFF here drops Xc's directions below ~1e-6 of it
            return la.lstsq(G, rhs, cond=RANK_CUTOFF, check_finite=False)[0], 1
        return _least_squares(design), 1
    if solver == "cg":
        return _ridge_cg(design, l2, tol, max_iter)
    if solver == "dual":
        if np.any(l2 <= 0):
            raise ValueError("the dual (kernel) ridge solver needs every l2_j > 0")
        inv_sqrt = 1.0 / np.sqrt(l2)
        K = _kernel(design, inv_sqrt)
        K[np.diag_indices_from(K)] += n
        dual_coef = la.cho_solve(la.cho_factor(K, lower=True, check_finite=False), design.y,
                                 check_finite=False)
        coef = (design.rmatvec(dual_coef).T * (inv_sqrt**2)).T
        return np.asarray(coef.T), 1
    # primal
    G, rhs = _normal_equations(design)
    G = G.astype(np.float64)  # a copy: a held Gram matrix stays as it is
    G[np.diag_indices_from(G)] += n * l2
    try:
        coef = la.cho_solve(la.cho_factor(G, lower=True, check_finite=False), rhs,
                            check_finite=False)
    except la.LinAlgError:
        # singular: unpenalized columns that are collinear; take the minimum-norm solution
        coef = la.lstsq(G, rhs, check_finite=False)[0]
    return np.asarray(coef.T), 1


def _least_squares(design):
    if design.is_sparse:
        op = _centred_operator(design)
        ys = design.y if design.y.ndim == 2 else design.y[:, None]
        coefs = [lsqr(op, ys[:, k], atol=1e-14, btol=1e-14, iter_lim=10 * sum(op.shape))[0]
                 for k in range(ys.shape[1])]
        coef = np.array(coefs)
        return coef[0] if design.y.ndim == 1 else coef
    # Centring makes Xc rank deficient; its round-off singular values (~eps * ||X|| * sqrt(n)) must
    # fall below the cutoff whatever n is, or the minimum-norm solution depends on them.
    coef = la.lstsq(np.asarray(design.X, dtype=np.float64), design.y, cond=RANK_CUTOFF,
                    check_finite=False)[0]
    return np.asarray(coef.T)


def _centred_operator(design):
    return LinearOperator(design.X.shape, matvec=design.matvec, rmatvec=design.rmatvec,
                          dtype=np.float64)


def _ridge_cg(design, l2, tol, max_iter):
    """Conjugate gradients on ``(Xc' Xc + n L) w = Xc' yc``, one target at a time."""
    n, p = design.n_samples, design.n_features
    op = LinearOperator((p, p), dtype=np.float64,
                        matvec=lambda w: design.rmatvec(design.matvec(w)) + n * l2 * w)
    ys = design.y if design.y.ndim == 2 else design.y[:, None]
    coefs, iters = [], 0
    for k in range(ys.shape[1]):
        count = [0]

        def callback(_, count=count):
            count[0] += 1

        coef, info = cg(op, design.rmatvec(ys[:, k]), rtol=tol, atol=0.0,
                        maxiter=max_iter, callback=callback)
        if info > 0:
            warnings.warn(f"Conjugate gradients did not reach the relative residual {tol:g} in "
                          f"{info} iterations; increase max_iter.", ConvergenceWarning,
                          stacklevel=4)
        iters = max(iters, count[0])
        coefs.append(coef)
    coef = np.array(coefs)
    return (coef[0] if design.y.ndim == 1 else coef), iters


def ridge_svd_path(design, alphas):
    """Ridge coefficients for every ``alpha`` in ``alphas`` from one thin SVD.

    Minimises ``(1/2n) ||yc - Xc w||^2 + (alpha / 2) ||w||^2``; returns an array of shape
    (n_alphas, p) for a 1-d ``y`` and (n_alphas, k, p) for a 2-d one.
    """
    X = design.X
    if design.is_sparse:
        X = X.toarray() - np.outer(design.sqrt_sw, design.x_offset)
    U, s, Vt = la.svd(np.asarray(X, dtype=np.float64), full_matrices=False, check_finite=False,
                      lapack_driver="gesdd")
    Uty = U.T @ design.y
    n = design.n_samples
    out = []
    for alpha in np.asarray(alphas, dtype=np.float64):
        with np.errstate(divide="ignore", invalid="ignore"):
            # s / (s^2 + n alpha); singular values that vanish contribute nothing (minimum norm)
            d = np.where(s > s.max(initial=0.0) * RANK_CUTOFF,
                         s / (s**2 + n * alpha), 0.0)
        coef = Vt.T @ (d[:, None] * Uty if Uty.ndim == 2 else d * Uty)
        out.append(coef.T)
    return np.array(out)
