"""Proximal Newton for smooth datafits with an elastic-net-family penalty.

Problem, for a datafit ``l`` (:mod:`shrinkage.datafits`) and normalised sample weights ``s``::

    P(w, b) = (1/n) sum_i s_i l(y_i, x_i' w + b) + sum_j (l1_j |w_j| + l2_j w_j^2 / 2)  [+ w >= 0]

with the intercept ``b`` unpenalized (exactly: it is never shrunk; liblinear's penalized intercept is
a column of the design, added by the estimator).

Outer loop (one Newton step per round):

1. At ``z = X w + b`` compute the per-sample derivatives ``g = dl/dz``, ``h = d^2 l/dz^2``, the
   full gradient ``X' (c g)`` (``c = s / n``) and the duality gap below. Stop when
   ``gap <= tol * P(0, b0)``, ``P(0, b0)`` being the objective with every coefficient zero and
   the intercept at its unpenalized optimum (the "null deviance" scale, as glmnet's).
2. Working set: the support, the unpenalized features and the worst KKT violators, twice the
   support in all (at least ``FIRST_WS_SIZE``), as :func:`~shrinkage.solvers.cd.solve_enet` does.
3. Quadratic model of the datafit on those columns: ``l(y, z + d) ~ l + g d + h d^2 / 2`` is, up to
   a constant, ``h (r - z')^2 / 2`` with working response ``r = z - g / h``. That is a weighted
   least-squares problem with weights ``s h``; :func:`~shrinkage.solvers.design.make_design` and
   :func:`~shrinkage.solvers.cd.solve_enet` (the lasso's working-set coordinate descent, unchanged)
   solve it with the intercept in closed form, to a fraction of the current gap.
4. Backtracking line search (Armijo, on the true objective) along the step to the model's
   minimiser (Lee, Sun & Saunders, 2014).

Sparse designs (CSC) take another route for steps 2-4, the one of skglm's and celer's working-set
solvers: the working set starts at ``SPARSE_FIRST_WS_SIZE`` worst violators and grows to
``SPARSE_WS_GROWTH`` times the support, and on it proximal-Newton steps are repeated without any
pass over the other columns until the working set's KKT violation is ``INNER_KKT`` times the whole
problem's. Each model is solved by :func:`~shrinkage._kernels.newton_cd.newton_cd_sparse`:
coordinate descent on X's own columns (no gathered copy, no Design), the intercept eliminated
exactly, one pass for the curvatures that also gives the working set's gradient, so the check
that ends the Newton steps costs no pass of its own. On text-like data the full passes of step 1
(one fused kernel pass for the gap) then happen only once per working set. Dense designs keep
:func:`~shrinkage.solvers.cd.solve_enet` (Gram mode, Anderson extrapolation), which is faster on
the correlated columns of dense p >> n problems, and so does the KKT-stopped case below.

Duality gap (Fenchel). Write ``P = sum_i f_i(z_i) + G(w)`` with ``f_i(z) = c_i l(y_i, z)``. For any
``theta`` with ``sum_i theta_i = 0`` (the intercept is free) the dual objective

    D(theta) = - sum_i f_i*(-theta_i) - sum_j G_j*(X_j' theta)

bounds ``P`` from below, where ``G_j*(u) = max(|u| - l1_j, 0)^2 / (2 l2_j)`` if ``l2_j > 0`` and the
constraint ``|u| <= l1_j`` if ``l2_j = 0`` (one-sided with ``w >= 0``). The datafit supplies
``sum_i f_i*(-theta_i)`` (``dual_loss``; closed forms for logistic, squared hinge, Huber). The dual
point is ``theta = -c g`` (the negative gradient, the optimal dual point at the optimum), first
made to sum to zero by shrinking the entries of the sign in excess (a factor in [0, 1] on those
entries, which keeps every ``f_i*`` finite), then rescaled by ``kappa = min(1, min_j l1_j /
|X_j' theta|)`` over the pure-L1 features. ``gap = P(w, b) - D(theta) >= P(w, b) - P* >= 0``.

Unpenalized features (``l1_j = l2_j = 0``) would need ``X_j' theta = 0`` exactly; with them the
stopping rule is the KKT one instead: ``max_j dist(-grad_j, d penalty_j(w_j)) <= tol * max_j
|grad_j(0, b0)|``, and the reported gap is NaN.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from .._kernels.newton_cd import newton_cd_sparse
from .._kernels.newton_design import csc_columns_scaled, csc_matvec_columns, csc_rmatvec2
from .._kernels.prox import subdiff_distance
from .cd import enet_gap, solve_enet
from .design import Design, make_design

FIRST_WS_SIZE = 100
# The Newton subproblem (weighted elastic net) is solved to this fraction of the current gap.
INNER_GAP_FRACTION = 0.1
# Curvature floor relative to the largest h: samples where the datafit is linear (Huber's tails)
# still pull on the model through their gradient (a quadratic with zero curvature has no
# minimiser along them).
H_FLOOR = 1e-6
ARMIJO = 1e-4
# Sparse route: the first working set and its growth (times the support) per outer round.
SPARSE_FIRST_WS_SIZE = 1000
SPARSE_WS_GROWTH = 4.0
# Newton steps on a working set stop when its KKT violation is this fraction of the whole
# problem's at the round's start; each model is solved until no coordinate moves by more than
# CD_KKT times that target (in curvature * |change|).
INNER_KKT = 0.3
CD_KKT = 0.3


@dataclass(frozen=True)
class ProxNewtonResult:
    coef: np.ndarray
    intercept: float
    primal: float
    gap: float       # NaN when stopping on KKT (unpenalized features)
    kkt: float       # max KKT violation over the features
    tol_abs: float
    n_iter: int
    converged: bool
    full_grad: np.ndarray  # gradient of the datafit over every feature at the solution


def penalty_value(w, l1, l2):
    return float(l1 @ np.abs(w) + 0.5 * l2 @ (w * w))


def penalty_conjugate(u, l1, l2, positive):
    """``sum_j G_j*(u_j)``; ``inf`` when a pure-L1 (or free) constraint is violated (beyond
    rounding)."""
    drive = u if positive else np.abs(u)
    excess = np.maximum(drive - l1, 0.0)
    smooth = l2 > 0
    total = float(np.sum(excess[smooth] ** 2 / (2.0 * l2[smooth])))
    if np.any(excess[~smooth] > 1e-12 * np.maximum(l1[~smooth], 1e-300)):
        return np.inf
    return total


def _matvec(X, w):
    return np.asarray(X @ w, dtype=np.float64).ravel()


def _rmatvec(X, v):
    # float32 designs meet a float64 vector: the product is accumulated in float64
    return np.asarray(X.T @ v, dtype=np.float64).ravel()


def fit_intercept_only(datafit, y, offset, c, b0=0.0, max_iter=100):
    """Minimise ``sum_i c_i l(y_i, offset_i + b)`` over ``b`` (damped 1-d Newton)."""
    b = float(b0)
    f = float(c @ datafit.loss(y, offset + b))
    for _ in range(max_iter):
        z = offset + b
        g = float(c @ datafit.raw_gradient(y, z))
        h = float(c @ datafit.raw_hessian(y, z))
        if abs(g) <= 1e-14 * max(1.0, abs(f)):
            break
        step = g / h if h > 1e-12 * np.sum(c) else np.sign(g)
        t = 1.0
        while t > 1e-10:
            f_new = float(c @ datafit.loss(y, offset + b - t * step))
            if f_new <= f - ARMIJO * t * step * g + 1e-15 * abs(f):
                break
            t *= 0.5
        else:
            break
        b -= t * step
        f = f_new
    return b, f


def duality_gap(datafit, X, y, c, z, w, b_free, l1, l2, positive, primal, offset=None):
    """``(gap, grad)`` at ``(w, b)``; ``z = X w + b + offset``; ``b_free``: the intercept is fitted.

    With an offset ``o``, ``f_i(z) = c_i l(y_i, z + o_i)`` has ``f_i*(u) = (c_i l)*(u) - u o_i``.
    """
    theta = -c * datafit.raw_gradient(y, z)
    total = float(theta.sum())
    if b_free and total != 0.0:
        # balanced dual point theta - (1 - f) part, its correlations from the same pass over X
        part = np.where(theta > 0, theta, 0.0) if total > 0 else np.where(theta < 0, theta, 0.0)
        shrink = total / part.sum()
        if sp.issparse(X):
            x_theta, x_part = csc_rmatvec2(X.data, X.indices, X.indptr, theta, part)
        else:
            both = np.asarray(X.T @ np.column_stack([theta, part]), dtype=np.float64)
            x_theta, x_part = both[:, 0], both[:, 1]
        grad = -x_theta
        corr = x_theta - shrink * x_part
        theta = theta - shrink * part
    else:
        grad = -_rmatvec(X, theta)
        corr = -grad
    drive = corr if positive else np.abs(corr)
    pure_l1 = (l2 == 0) & (l1 > 0)
    kappa = 1.0
    if np.any(pure_l1):
        worst = np.max(drive[pure_l1] / l1[pure_l1])
        if worst > 1.0:
            kappa = 1.0 / worst
    dual = -datafit.dual_loss(y, kappa * theta, c) - penalty_conjugate(kappa * corr, l1, l2,
                                                                       positive)
    if offset is not None:
        dual -= kappa * float(theta @ offset)
    return primal - dual, grad


def solve_prox_newton(X, y, datafit, l1, l2, sample_weight=None, fit_intercept=True,
                      positive=False, coef_init=None, intercept_init=None, max_iter=100,
                      tol=1e-4, max_cd_iter=10000, warn=True, null_objective=None, offset=None):
    """Minimise ``(1/n) sum_i s_i l(y_i, x_i'w + b) + sum_j (l1_j |w_j| + l2_j w_j^2 / 2)``.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix (CSC preferred) of shape (n, p), float64 or float32
    y : ndarray of shape (n,)
        Labels as the datafit reads them ({0, 1} for :class:`~shrinkage.datafits.Logistic`,
        {-1, +1} for the hinge losses, real for Huber).
    datafit : Datafit with ``dual_loss``
    l1, l2 : ndarray of shape (p,)
        Lowered penalty.
    sample_weight : ndarray of shape (n,), optional
        Normalised here to sum to n.
    fit_intercept : bool
        Fit an unpenalized intercept.
    positive : bool
    coef_init, intercept_init : warm start
    max_iter : int
        Maximum number of Newton steps.
    tol : float
        Relative duality-gap tolerance: stop when ``gap <= tol * P(0, b0)`` (module docstring).
    max_cd_iter : int
        Coordinate-descent passes allowed to each Newton subproblem.
    null_objective : float, optional
        ``P(0, b0)`` when the caller knows it (a path).
    offset : ndarray of shape (n,), optional
        Fixed part of the linear predictor, ``z = X w + b + offset`` (glmnet's offset; the
        multinomial solver's other classes).

    Returns
    -------
    ProxNewtonResult
    """
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * (
        n / np.sum(sample_weight))
    c = s / n
    y = np.asarray(y, dtype=np.float64)
    l1 = np.ascontiguousarray(l1, dtype=np.float64)
    l2 = np.ascontiguousarray(l2, dtype=np.float64)
    if sp.issparse(X):
        X = sp.csc_matrix(X)
    w = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64, copy=True)
    if positive:
        np.maximum(w, 0.0, out=w)
    free = (l1 == 0) & (l2 == 0)

    offset = np.zeros(n) if offset is None else np.asarray(offset, dtype=np.float64)
    any_free = bool(np.any(free))
    b0 = 0.0
    # the intercept-only fit: the tolerance's scale and the cold start (skipped when both are
    # given, as the multinomial solver's block steps do)
    if null_objective is None or intercept_init is None or any_free:
        b0, f0 = fit_intercept_only(datafit, y, offset, c) if fit_intercept else (
            0.0, float(c @ datafit.loss(y, offset)))
        if null_objective is None:
            null_objective = f0
    tol_abs = tol * null_objective
    if any_free:
        grad0 = _rmatvec(X, c * datafit.raw_gradient(y, offset + b0))
        kkt_tol = tol * max(np.max(np.abs(grad0)), 1e-300)

    b = (b0 if coef_init is None else 0.0) if intercept_init is None else float(intercept_init)
    if not fit_intercept:
        b = 0.0
    z = (_matvec(X, w) if np.any(w) else np.zeros(n)) + b + offset
    primal = float(c @ datafit.loss(y, z)) + penalty_value(w, l1, l2)
    n_iter = 0
    converged = False
    gap = kkt = np.inf
    # sparse designs: the model is solved by coordinate descent reading X's own columns, a few
    # Newton steps per working set; dense ones go through solve_enet (Gram mode, Anderson
    # extrapolation: faster on the correlated columns of dense p >> n problems), as does the
    # KKT-stopped case with unpenalized features
    model_kernel = sp.issparse(X) and not any_free
    stalled = False
    while True:
        gap, grad = duality_gap(datafit, X, y, c, z, w, fit_intercept, l1, l2, positive, primal,
                                offset)
        violation = subdiff_distance(w, grad, l1, l2, positive)
        kkt = float(violation.max()) if p else 0.0
        if any_free:
            gap = np.nan
            converged = kkt <= kkt_tol
        else:
            converged = gap <= tol_abs
        if converged or stalled or n_iter >= max_iter:
            break
        # working set: support, unpenalized features, worst violators
        scores = violation.copy()
        scores[(w != 0) | free] = np.inf
        if model_kernel:
            ws_size = max(SPARSE_FIRST_WS_SIZE, int(SPARSE_WS_GROWTH * np.count_nonzero(w)))
        else:
            ws_size = max(FIRST_WS_SIZE, 2 * np.count_nonzero(w))
        n_candidates = np.count_nonzero(scores > 0)
        if ws_size >= n_candidates:
            ws = np.flatnonzero(scores > 0)
        else:
            ws = np.sort(np.argpartition(-scores, ws_size - 1)[:ws_size])
        if not model_kernel:
            if any_free:
                # the KKT rule is first order while a gap is second order in the violation: solve
                # the model to the floor of float64 (such problems are small: unpenalized logistic)
                inner_abs = 0.0
            else:
                inner_abs = max(INNER_GAP_FRACTION * gap, 0.01 * tol_abs)
            w_ws, b_new = _newton_direction(datafit, X, y, s, z, w, ws, l1, l2, positive,
                                            fit_intercept, inner_abs, max_cd_iter, offset)
            n_iter += 1
            step_ok, w, b, z, primal = _line_search(datafit, X, y, c, z, w, b, ws, w_ws, b_new,
                                                    l1, l2, primal)
            stalled = not step_ok
            continue
        # proximal Newton restricted to the working set, no pass over the other columns, until
        # its KKT violation is a fraction of the whole problem's (at least one step)
        kkt_stop = -1.0
        while n_iter < max_iter:
            step = _model_cd(datafit, X, y, c, z, w, b, ws, l1, l2, positive,
                             fit_intercept, CD_KKT * INNER_KKT * kkt, kkt_stop, max_cd_iter)
            if step is None:
                break
            w_ws, b_new, dz, cg = step
            n_iter += 1
            step_ok, w, b, z, primal = _line_search(datafit, X, y, c, z, w, b, ws, w_ws, b_new,
                                                    l1, l2, primal, dz, cg)
            if not step_ok:
                stalled = True
                break
            kkt_stop = INNER_KKT * kkt
    full_grad = grad
    if warn and not converged:
        what = (f"KKT violation {kkt:.3e} > {kkt_tol:.3e}" if any_free
                else f"duality gap {gap:.3e} > tolerance {tol_abs:.3e}")
        warnings.warn(
            f"Proximal Newton did not converge in {n_iter} iterations: {what} (tol={tol:g}). "
            "Increase max_iter or loosen tol.", ConvergenceWarning, stacklevel=3)
    return ProxNewtonResult(w, float(b), primal, float(gap), kkt, tol_abs, n_iter, converged,
                            full_grad)


def _model_cd(datafit, X, y, c, z, w, b, ws, l1, l2, positive, fit_intercept, cd_tol, kkt_stop,
              max_sweeps):
    """The Newton step by coordinate descent on the model, read from the working set's columns
    of the CSC ``X`` (:mod:`shrinkage._kernels.newton_cd`): ``(w_ws, b_new, dz, c g)``, or
    ``None`` when the working set's KKT violation at the current point is already
    ``<= kkt_stop``."""
    g = datafit.raw_gradient(y, z)
    # a datafit may offer a majorizing curvature (Huber: min(1, delta / |r|), whose working
    # response is y itself in the linear tails) instead of its generalised Hessian
    h = getattr(datafit, "model_curvature", datafit.raw_hessian)(y, z)
    h_max = float(h.max()) if h.size else 0.0
    h = np.maximum(h, H_FLOOR * max(h_max, 1e-12))
    cg = np.ascontiguousarray(c * g, dtype=np.float64)
    ch = np.ascontiguousarray(c * h, dtype=np.float64)
    coef = np.ascontiguousarray(w[ws], dtype=np.float64)
    l1_ws = np.ascontiguousarray(l1[ws])
    l2_ws = np.ascontiguousarray(l2[ws])
    cols = np.ascontiguousarray(ws, dtype=np.int64)
    u, db, _, n_sweeps = newton_cd_sparse(X.data, X.indices, X.indptr, cols, coef, cg, ch, l1_ws,
                                          l2_ws, positive, fit_intercept, cd_tol, kkt_stop,
                                          max_sweeps)
    if n_sweeps == 0:
        return None
    u += db
    return coef, b + db, u, cg


def _newton_direction(datafit, X, y, s, z, w, ws, l1, l2, positive, fit_intercept,
                      inner_abs, max_cd_iter, offset):
    """Minimiser (on ``ws`` and the intercept) of the quadratic model of the datafit + penalty."""
    g = datafit.raw_gradient(y, z)
    # a datafit may offer a majorizing curvature (Huber: min(1, delta / |r|), whose working
    # response is y itself in the linear tails) instead of its generalised Hessian
    h = getattr(datafit, "model_curvature", datafit.raw_hessian)(y, z)
    h_max = float(h.max()) if h.size else 0.0
    h = np.maximum(h, H_FLOOR * max(h_max, 1e-12))
    response = z - g / h
    weights = s * h
    # make_design rescales the weights s h to sum to n: the model is scale * (design objective)
    # with scale = sum(s h) / n, so the penalty is divided by it
    scale = float(weights.sum()) / len(y)
    # z = X w + b + offset; the columns outside ws stay fixed, part of the offset
    outside = w.copy()
    outside[ws] = 0.0
    fixed = offset + _matvec(X, outside) if np.any(outside) else offset
    if not np.any(l1[ws]) and not np.any(l2[ws]) and ws.size <= 2000:
        # nothing penalized (scikit-learn's penalty=None): the model's minimiser is a weighted
        # least-squares solve, exact where coordinate descent's gap-based stop is not (the KKT
        # rule asks for a gradient near float64's resolution)
        return _weighted_lstsq(X[:, ws], response - fixed, weights, fit_intercept)
    design = _subproblem_design(X, ws, response - fixed, weights, fit_intercept)
    null = design.null_objective()
    l1_model, l2_model = l1[ws] / scale, l2[ws] / scale
    # the model's own gap at the current point must shrink too: a true-problem gap can be far
    # looser than the model's (Huber's rescaled dual point weighs the raw y), and a model already
    # certified at that level would return the current point unchanged
    start_gap = enet_gap(design, w[ws], l1_model, l2_model, positive)[1]
    target = min(inner_abs / scale, 0.1 * start_gap)
    tol_rel = target / null if null > 0 else 1e-12
    result = solve_enet(design, l1_model, l2_model, positive, coef_init=w[ws],
                        max_iter=max_cd_iter, tol=max(tol_rel, 1e-14), warn=False)
    b_new = float(design.intercept(result.coef)) if fit_intercept else 0.0
    return result.coef, b_new


def _subproblem_design(X, ws, target, weights, fit_intercept):
    """The :class:`~shrinkage.solvers.design.Design` of ``make_design(X[:, ws], target, weights,
    fit_intercept)``.

    Sparse: one kernel pass gathers the columns, row-scales them by ``v = sqrt(s)`` and takes the
    weighted means, and the Design is given that row-scaled CSC as an unweighted source (its
    documented sparse form: ``diag(v) X`` centred implicitly with ``x_offset`` and ``v``).
    scipy's column slicing and ``diags(v) @ X`` each go through format conversions that cost more
    than the subproblem on text-like data. ``tests/test_logistic.py`` checks the equivalence.
    """
    if not sp.issparse(X):
        return make_design(X[:, ws], target, weights, fit_intercept)
    n = X.shape[0]
    s = weights * (n / weights.sum())
    v = np.sqrt(s)
    cols = np.ascontiguousarray(ws, dtype=np.int64)
    data, indices, indptr, means = csc_columns_scaled(X.data, X.indices, X.indptr, cols, v, s,
                                                      n)
    scaled = sp.csc_matrix((data, indices, indptr), shape=(n, cols.size))
    if not fit_intercept:
        means = np.zeros(cols.size)
    y_offset = float(s @ target / n) if fit_intercept else 0.0
    return Design(scaled, (target - y_offset) * v, means, y_offset, v, False)


def _weighted_lstsq(X, target, weights, fit_intercept):
    """``argmin sum_i weights_i (target_i - x_i'w - b)^2`` by least squares (no inverse)."""
    dense = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    if fit_intercept:
        dense = np.column_stack([dense, np.ones(dense.shape[0])])
    v = np.sqrt(weights)
    solution = np.linalg.lstsq(dense * v[:, None], target * v, rcond=None)[0]
    if fit_intercept:
        return solution[:-1], float(solution[-1])
    return solution, 0.0


def _line_search(datafit, X, y, c, z, w, b, ws, w_ws, b_new, l1, l2, primal, dz=None, cg=None):
    """Armijo backtracking on ``P`` along the Newton step; returns the accepted point. ``dz``
    (the step in ``z``) and ``cg`` (``c g`` at ``z``) when the caller has them."""
    dw = w_ws - w[ws]
    db = b_new - b
    if dz is None and sp.issparse(X):
        moved = np.flatnonzero(dw)  # only the columns that move (scipy would slice all of ws)
        dz = csc_matvec_columns(X.data, X.indices, X.indptr, ws[moved].astype(np.int64),
                                dw[moved], X.shape[0]) + db
    elif dz is None:
        dz = _matvec(X[:, ws], dw) + db  # the working set's columns only
    pen_old = penalty_value(w[ws], l1[ws], l2[ws])
    pen_new = penalty_value(w_ws, l1[ws], l2[ws])
    if cg is None:
        cg = c * datafit.raw_gradient(y, z)
    decrease = float(cg @ dz) + pen_new - pen_old  # directional model decrease (<= 0)
    if decrease >= 0 and not np.any(dw) and db == 0:
        return False, w, b, z, primal
    t = 1.0
    rest = penalty_value(w, l1, l2) - pen_old  # penalty outside ws
    for _ in range(40):
        w_try = w[ws] + t * dw
        z_try = z + t * dz
        value = float(c @ datafit.loss(y, z_try)) + penalty_value(w_try, l1[ws], l2[ws]) + rest
        if value <= primal + ARMIJO * t * decrease + 1e-15 * abs(primal):
            w = w.copy()
            w[ws] = w_try
            return True, w, b + t * db, z_try, value
        t *= 0.5
    return False, w, b, z, primal


def glm_alpha_max(X, y, datafit, sample_weight=None, fit_intercept=True, l1_ratio=1.0):
    """Smallest alpha with every coefficient zero: ``max_j |X_j' c g(b0)| / l1_ratio``, ``g`` the
    datafit's derivative at the intercept-only fit ``b0``."""
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * (
        n / np.sum(sample_weight))
    c = s / n
    b0 = fit_intercept_only(datafit, y, np.zeros(n), c)[0] if fit_intercept else 0.0
    grad = _rmatvec(X, c * datafit.raw_gradient(y, np.full(n, b0)))
    return float(np.max(np.abs(grad), initial=0.0)) / max(l1_ratio, 1e-3)


def solve_glm_path(X, y, datafit, penalty_at, alphas, sample_weight=None, fit_intercept=True,
                   max_iter=100, tol=1e-4, warn=True):
    """:func:`solve_prox_newton` along ``alphas`` (largest first), each warm-started at the
    previous solution; ``penalty_at(alpha)`` gives the penalty object.

    Returns ``(coefs (p, n_alphas), intercepts, gaps, n_iters)``.
    """
    p = X.shape[1]
    alphas = np.asarray(alphas, dtype=np.float64)
    coefs = np.zeros((p, alphas.size))
    intercepts = np.zeros(alphas.size)
    gaps = np.zeros(alphas.size)
    iters = np.zeros(alphas.size, dtype=np.int64)
    if sp.issparse(X):
        X = sp.csc_matrix(X)
    w = b = None
    for k, alpha in enumerate(alphas):
        penalty = penalty_at(alpha)
        l1, l2 = penalty.lower(p)
        result = solve_prox_newton(X, y, datafit, l1, l2, sample_weight, fit_intercept,
                                   penalty.positive, coef_init=w, intercept_init=b,
                                   max_iter=max_iter, tol=tol, warn=warn)
        w, b = result.coef, result.intercept
        coefs[:, k], intercepts[k], gaps[k], iters[k] = w, b, result.gap, result.n_iter
    return coefs, intercepts, gaps, iters
