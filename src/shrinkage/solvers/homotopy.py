"""Exact homotopy (LARS-lasso) for small dense elastic-net problems, in NumPy.

Why a second solver: numba costs a fresh process about 0.7 s before its first kernel runs
(import, type registries, cache loads; see :mod:`shrinkage._kernels._jit`), while a 100 x 50 lasso
takes a millisecond to solve. Small dense problems are therefore solved here, without numba, and
exactly: the answer is the minimiser up to rounding, certified by the same duality gap as
coordinate descent (:func:`gram_gap`, the NumPy twin of ``_kernels.cd_gram.enet_gap_gram``).

With ``G = Xc'Xc / n``, ``b = Xc'yc / n`` and the penalty's L1 part scaled by ``s``::

    P_s(w) = ||yc - Xc w||^2 / (2n) + s sum_j l1_j |w_j| + sum_j l2_j w_j^2 / 2,

the minimiser is piecewise linear in ``s``: on an active set ``A`` with signs ``z_A``,
``w_A(s) = H_AA^{-1} (b_A - s l1_A z_A)`` with ``H = G + diag(l2)``. The path starts at
``s_max``, where only the unpenalized features (``l1_j = 0``) are nonzero, and moves down to
``s = 1`` from event to event: an inactive feature's correlation ``c_j = b_j - H_jA w_A`` reaches
``+-s l1_j`` (it joins with that sign), or an active coefficient reaches zero (it leaves). Each
event costs a column appended to the Cholesky factor of ``H_AA`` (O(|A|^2); a refactorisation,
O(|A|^3), when a feature leaves), two triangular solves and one product with ``H[:, A]``
(O(p |A|)), with a number of events of the order of the final support.

The homotopy returns None, and the caller falls back to coordinate descent, where it is not the
right tool: a singular ``H_AA`` (more active features than samples, or collinear ones, with no L2
part), events cycling on ties, unpenalized features under ``positive``.
"""

import time

import numpy as np
from scipy.linalg import lapack

from .._kernels import _jit

# Largest problem solved by homotopy: up to these sizes a fit takes milliseconds in NumPy (~0.1 ms
# an event), against numba's ~0.7 s start-up in a fresh process (docs/benchmarks.md); warm numba
# CD is faster still (~1 ms on 100 x 50), hence HANDOVER_SECONDS.
MAX_FEATURES = 100
MAX_ELEMENTS = 50_000
# Events allowed per feature before the path is deemed to cycle on ties (a lasso path has at
# most a few times p events in practice).
EVENTS_PER_FEATURE = 4
# A joining feature whose Cholesky pivot falls below this fraction of its diagonal entry is
# (numerically) in the span of the active ones: H_AA is singular and the path not unique.
SINGULAR = 1e-10
# Relative slack of the KKT check |c_j| <= l1_j of exact_on_support (rounding of c_j).
KKT_SLACK = 1e-9


# What numba's start-up costs a fresh process, roughly (import, registries, cache loads: 0.5 to
# 0.8 s measured). Small problems are solved by homotopy until the homotopy has spent this long in
# all, then numba is loaded and coordinate descent takes them (the ski-rental rule: never pay more
# than twice the better choice in hindsight, and nothing at all for a few small fits).
HANDOVER_SECONDS = 0.5
_homotopy_seconds = 0.0


def is_small(design):
    """Whether ``design`` is small and dense: solved to the exact minimiser, by homotopy before
    numba is loaded, by coordinate descent finished with :func:`exact_on_support` after (or by
    the homotopy when coordinate descent stops short of the tolerance)."""
    n, p = design.n_samples, design.n_features
    return not design.is_sparse and p <= MAX_FEATURES and n * p <= MAX_ELEMENTS


def prefer_homotopy():
    """Whether a small problem goes to :func:`solve_enet_homotopy` now: while numba is not
    loaded (see ``HANDOVER_SECONDS``)."""
    return not _jit.is_active()


def timed_homotopy(design, l1, l2, positive, max_iter):
    """:func:`solve_enet_homotopy`, counted against ``HANDOVER_SECONDS``."""
    global _homotopy_seconds
    start = time.perf_counter()
    try:
        return solve_enet_homotopy(design, l1, l2, positive, max_iter)
    finally:
        _homotopy_seconds += time.perf_counter() - start
        if _homotopy_seconds > HANDOVER_SECONDS:
            _jit.activate()


def scaled_gram(design):
    """``(G, b, yy)`` = ``(Xc'Xc, Xc'yc, ||yc||^2) / n`` in float64 (the design's cached Gram)."""
    G, b, y_sq = design.gram
    n = design.n_samples
    return G / n, b / n, y_sq / n


def _problem(design, l1, l2):
    """``G, b, yy`` (:func:`scaled_gram`), ``H = G + diag(l2)``, the live features (a zero column
    with no L2 part stays at zero) and the live penalized ones."""
    G, b, yy = scaled_gram(design)
    H = G + np.diag(l2)
    live = np.diag(H) > 0
    return G, b, yy, H, live, live & (l1 > 0)


def solve_enet_homotopy(design, l1, l2, positive, max_iter):
    """Minimise ``(1/2n) ||yc - Xc w||^2 + sum_j (l1_j |w_j| + l2_j w_j^2 / 2)`` [``w >= 0``]
    exactly, following the homotopy in the L1 strength from ``s_max`` down to 1.

    Returns ``(w, primal, gap, events)`` (each event is a pass over the features for their
    correlations; at ``max_iter`` events the path stops short of ``s = 1`` and the gap says how
    far), or None when coordinate descent should solve it instead (see the module docstring).
    """
    if positive and np.any(l1 == 0):
        return None
    G, b, yy, H, live, penalized = _problem(design, l1, l2)
    p = b.shape[0]
    active = live & ~penalized
    signs = np.zeros(p)
    factor = _ActiveCholesky(H, np.flatnonzero(active))
    if not factor.ok:
        return None
    w, corr, _, _ = _face_point(factor, b, H, l1, signs, 0.0)
    # the start: the unpenalized fit, optimal for every s >= s_max
    drive = corr if positive else np.abs(corr)
    ratios = np.where(penalized, drive / np.where(penalized, l1, 1.0), -np.inf)
    j = int(np.argmax(ratios))
    s = float(ratios[j])
    events = 0
    last_in = last_out = -1
    max_events = EVENTS_PER_FEATURE * p + 10
    if s > 1.0:
        events = 1
        last_in = j
        active[j] = True
        signs[j] = 1.0 if positive else np.sign(corr[j])
        if not factor.add(j):
            return None
    with np.errstate(divide="ignore", invalid="ignore"):
        while s > 1.0:
            w, corr, slope, velocity = _face_point(factor, b, H, l1, signs, s)
            # a feature that has just changed state is held for one event, so that rounding
            # cannot make it leave (or join) again at a zero step
            joiners = penalized & ~active
            if last_out >= 0:
                joiners[last_out] = False
            leavers = active & penalized
            if last_in >= 0:
                leavers[last_in] = False
            # the step Delta (s -> s - Delta) to each feature's event; corr and w move linearly
            join_up = np.where(joiners & (slope < l1), (corr - s * l1) / (slope - l1), np.inf)
            if positive:
                join_down = np.full(p, np.inf)
            else:
                join_down = np.where(joiners & (slope > -l1), (corr + s * l1) / (slope + l1),
                                     np.inf)
            leave = -w / velocity
            leave = np.where(leavers & (leave > 0), leave, np.inf)
            up, down, out = int(np.argmin(join_up)), int(np.argmin(join_down)), int(np.argmin(leave))
            delta, kind = min((s - 1.0, 0), (max(join_up[up], 0.0), 1),
                              (max(join_down[down], 0.0), 2), (leave[out], 3))
            if kind == 0:
                w += delta * velocity
                s = 1.0
                break
            if events >= max_iter:
                break  # out of passes: w is the exact solution at s > 1
            if events >= max_events:
                return None  # cycling on ties
            s -= delta
            events += 1
            if kind == 3:
                active[out] = False
                signs[out] = 0.0
                last_out, last_in = out, -1
                factor.remove(out)
            else:
                j = up if kind == 1 else down
                active[j] = True
                signs[j] = 1.0 if kind == 1 else -1.0
                last_in, last_out = j, -1
                if not factor.add(j):
                    return None
    primal, gap = gram_gap(G, b, yy, w, l1, l2, positive)
    return w, primal, gap, events


def exact_on_support(design, w, l1, l2, positive, max_rounds=10):
    """The exact minimiser from an approximate one ``w`` (coordinate descent's), or None.

    Solves the optimality conditions on ``w``'s support and signs (``H_AA w_A = b_A - l1_A z_A``)
    and checks them on every feature; a coefficient that changes sign leaves the face and the
    worst violator outside it joins, for at most ``max_rounds`` rounds. Returns
    ``(w, primal, gap)`` when the conditions hold, so that small problems have one answer, up to
    rounding, whichever route solved them.
    """
    if positive and np.any(l1 == 0):
        return None
    G, b, yy, H, live, penalized = _problem(design, l1, l2)
    active = live & ((w != 0) | ~penalized)
    signs = np.where(penalized & active, np.sign(w), 0.0)
    slack = KKT_SLACK * l1
    for _ in range(max_rounds):
        factor = _ActiveCholesky(H, np.flatnonzero(active))
        if not factor.ok:
            return None
        exact, corr, _, _ = _face_point(factor, b, H, l1, signs, 1.0)
        wrong = penalized & active & (exact * signs <= 0)
        drive = corr if positive else np.abs(corr)
        excess = np.where(penalized & ~active, drive - l1 - slack, 0.0)
        if not np.any(wrong) and not np.any(excess > 0):
            primal, gap = gram_gap(G, b, yy, exact, l1, l2, positive)
            return exact, primal, gap
        active &= ~wrong
        signs[wrong] = 0.0
        j = int(np.argmax(excess))
        if excess[j] > 0:
            active[j] = True
            signs[j] = 1.0 if positive else np.sign(corr[j])
    return None


def _face_point(factor, b, H, l1, signs, s):
    """On the active face at strength ``s``: ``w``, the correlations ``c = b - H w``, and their
    rates ``dc/d(-s)`` and ``dw/d(-s)``."""
    p = b.shape[0]
    w = np.zeros(p)
    velocity = np.zeros(p)
    idx = factor.order
    if idx.size == 0:
        return w, b.copy(), np.zeros(p), velocity
    rhs = np.empty((idx.size, 2))
    rhs[:, 1] = l1[idx] * signs[idx]
    rhs[:, 0] = b[idx] - s * rhs[:, 1]
    sol = factor.solve(rhs)
    w[idx] = sol[:, 0]
    velocity[idx] = sol[:, 1]
    moves = H[:, idx] @ sol
    return w, b - moves[:, 0], moves[:, 1], velocity


class _ActiveCholesky:
    """Upper Cholesky factor of ``H_AA`` for the active features ``order``: a joining feature
    appends a column (O(|A|^2)); a leaving one, rarer, refactors."""

    def __init__(self, H, order):
        self.H = H
        self.order = np.asarray(order, dtype=np.intp)
        self.ok = self._refactor()

    def _refactor(self):
        k = self.order.size
        self.U = np.zeros((k, k), order="F")
        if k == 0:
            return True
        U, info = lapack.dpotrf(self.H[np.ix_(self.order, self.order)], lower=False, clean=True)
        self.U = U
        return info == 0

    def add(self, j):
        k = self.order.size
        h = self.H[self.order, j]
        if k:
            u, _ = lapack.dtrtrs(self.U, h, lower=False, trans=1)
            pivot = self.H[j, j] - u @ u
        else:
            u, pivot = h, self.H[j, j]
        if not pivot > SINGULAR * self.H[j, j]:
            return False  # H_AA singular: no unique path
        U = np.zeros((k + 1, k + 1), order="F")
        U[:k, :k] = self.U
        U[:k, k] = u
        U[k, k] = np.sqrt(pivot)
        self.U = U
        self.order = np.append(self.order, j)
        return True

    def remove(self, j):
        self.order = self.order[self.order != j]
        if not self._refactor():
            raise np.linalg.LinAlgError("a principal block of a positive definite matrix")

    def solve(self, rhs):
        sol, _ = lapack.dpotrs(self.U, rhs, lower=False)
        return sol


def gram_gap(G, b, yy, w, l1, l2, positive):
    """``(primal, gap)`` of the elastic net at ``w`` from ``G = Xc'Xc/n``, ``b = Xc'yc/n`` and
    ``yy = ||yc||^2/n``: the dual point and its feasibility repair of :mod:`shrinkage._kernels.gap`
    (unpenalized columns projected out, then rescaled into the L1 constraints), in NumPy; the gap
    is clipped at zero."""
    corr = b - G @ w  # X' theta with theta = r / n
    wb = w @ b
    r_sq = max(yy - 2.0 * wb + w @ (b - corr), 0.0)  # ||r||^2 / n
    theta_y = yy - wb  # theta' yc
    theta_sq = r_sq  # n ||theta||^2
    unpenalized = (l1 == 0) & (l2 == 0) & (np.diag(G) > 0)
    if positive:  # a column at its bound only needs X_j' theta <= 0
        unpenalized &= (w > 0) | (corr > 0)
    cols = np.flatnonzero(unpenalized)
    if cols.size:
        coef = np.linalg.lstsq(G[np.ix_(cols, cols)], corr[cols], rcond=None)[0]
        theta_y -= coef @ b[cols]
        theta_sq -= coef @ corr[cols]
        corr = corr - G[:, cols] @ coef
    pure_l1 = (l2 == 0) & (l1 > 0)
    drive = corr if positive else np.abs(corr)
    over = pure_l1 & (drive > l1)
    scale = float(np.min(l1[over] / drive[over])) if np.any(over) else 1.0
    excess = np.maximum((scale * corr if positive else scale * np.abs(corr)) - l1, 0.0)
    ridge = l2 > 0
    conj = float(np.sum(excess[ridge] ** 2 / (2.0 * l2[ridge])))
    dual = scale * theta_y - 0.5 * scale * scale * max(theta_sq, 0.0) - conj
    primal = 0.5 * r_sq + float(np.sum(l1 * np.abs(w) + 0.5 * l2 * w * w))
    # at an exact minimiser the difference is rounding of either sign; a gap is never negative
    return primal, max(primal - dual, 0.0)
