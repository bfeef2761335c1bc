"""Coordinate descent in covariance (Gram) mode: for tall designs, n >> p.

With ``G = X' X`` and ``b = X' y`` computed once (BLAS), a coordinate update costs O(p) instead of
O(n): the kernel keeps ``q = X' r / n = (b - G w) / n`` and, when ``w_j`` moves by ``delta``, sets
``q -= delta G[:, j] / n``. Everything the duality gap needs is a function of ``G``, ``b`` and
``||y||^2``::

    ||r||^2 = ||y||^2 - w' b - n w' q,     theta' y = (||y||^2 - w' b) / n,     X' theta = q

with ``theta = r / n``. Projecting ``theta`` off the unpenalized columns U is also Gram algebra:
``c = G_UU^+ q_U``, ``X' theta' = q - G[:, U] c``, ``theta'' y = theta' y - c' b_U``,
``||theta'||^2 = ||theta||^2 - 2 c' q_U + c' G_UU c``. This is glmnet's "covariance updates" and
scikit-learn's ``precompute``, with the same certificate as the other kernels (q is recomputed
from ``G`` and ``w`` before every gap, so incremental drift never enters it).
"""

import numpy as np

from ._jit import njit
from .anderson import anderson_point
from .gap import enet_dual_value, enet_penalty_value, free_unpenalized
from .prox import prox_enet_1d

ACTIVE_SWEEPS = 50  # as cd_dense


@njit(cache=True)
def gram_correlations(G, b, w, n):
    """``q = (b - G w) / n``, computed afresh from the nonzero coefficients."""
    q = b.copy()
    for j in range(w.shape[0]):
        if w[j] != 0.0:
            for i in range(q.shape[0]):
                q[i] -= G[i, j] * w[j]
    return q / n


@njit(cache=True)
def enet_gap_gram(G, b, y_sq, n, w, l1, l2, positive, features):
    """Primal, gap, ``X_f' r / n`` and ``X_f' theta`` at the feasible dual point, on ``features``.

    The problem is restricted to ``features`` (the others held fixed); with every column it is
    the full problem. The last output feeds Gap Safe screening.
    """
    q = gram_correlations(G, b, w, n)
    w_b = w @ b
    r_sq = y_sq - w_b - n * (w @ q)
    if r_sq < 0.0:
        r_sq = 0.0
    theta_y = (y_sq - w_b) / n
    theta_sq = r_sq / (n * n)
    corr = q[features].copy()
    raw_corr = corr.copy()
    l1f, l2f, wf = l1[features], l2[features], w[features]
    lipschitz_f = np.empty(features.shape[0])
    for k in range(features.shape[0]):
        lipschitz_f[k] = G[features[k], features[k]]
    unpenalized = np.flatnonzero((l1f == 0.0) & (l2f == 0.0) & (lipschitz_f > 0.0))
    free = free_unpenalized(unpenalized, wf, corr, positive)
    if free.shape[0] > 0:
        cols = features[free]
        k = cols.shape[0]
        G_uu = np.empty((k, k))
        for a in range(k):
            for c in range(k):
                G_uu[a, c] = G[cols[a], cols[c]]
        q_u = q[cols]
        coef = np.linalg.lstsq(G_uu, q_u)[0]
        theta_y -= coef @ b[cols]
        theta_sq += -2.0 * (coef @ q_u) + coef @ (G_uu @ coef)
        for m in range(features.shape[0]):
            j = features[m]
            total = 0.0
            for a in range(k):
                total += G[j, cols[a]] * coef[a]
            corr[m] -= total
    primal = 0.5 * r_sq / n + enet_penalty_value(w, l1, l2)
    dual, scale = enet_dual_value(theta_y, max(theta_sq, 0.0), corr, l1f, l2f, positive, n)
    return primal, primal - dual, raw_corr, scale * corr


@njit(cache=True)
def _sweep_gram(G, n, w, q, lipschitz, l1, l2, positive, features):
    """One pass; returns ``max (L_j+l2_j) dw^2`` and the decrease bound (see cd_dense)."""
    biggest = 0.0
    decrease = 0.0
    for j in features:
        if lipschitz[j] == 0.0:
            continue
        old = w[j]
        step = 1.0 / lipschitz[j]
        new = prox_enet_1d(old + q[j] * step, step, l1[j], l2[j], positive)
        if new != old:
            delta = new - old
            scaled = delta / n  # no division in the loop: numba's error model would not vectorise it
            for i in range(q.shape[0]):
                q[i] -= scaled * G[i, j]
            w[j] = new
            change = (lipschitz[j] + l2[j]) * delta * delta
            decrease += 0.5 * change
            if change > biggest:
                biggest = change
    return biggest, decrease


@njit(cache=True)
def _objective_gram(G, b, y_sq, n, w, active, point, l1, l2):
    """Objective with ``w[active]`` replaced by ``point`` (other coordinates as in ``w``)."""
    v = w.copy()
    for k in range(active.shape[0]):
        v[active[k]] = point[k]
    q = gram_correlations(G, b, v, n)
    r_sq = y_sq - v @ b - n * (v @ q)
    return 0.5 * r_sq / n + enet_penalty_value(v, l1, l2)


@njit(cache=True)
def enet_cd_gram(G, b, y_sq, n, w, l1, l2, positive, features, max_epochs, tol_abs,
                 anderson_k):
    """Minimise over ``w[features]`` in place; returns ``(primal, gap, epochs)``."""
    p = G.shape[0]
    lipschitz = np.empty(p)
    for j in range(p):
        lipschitz[j] = G[j, j] / n
    q = gram_correlations(G, b, w, n)
    primal, gap = np.inf, np.inf
    epochs = 0
    inner_threshold = tol_abs
    while epochs < max_epochs:
        _, decrease = _sweep_gram(G, n, w, q, lipschitz, l1, l2, positive, features)
        epochs += 1
        if decrease <= tol_abs:  # else no certificate can hold yet (see cd_dense)
            primal, gap, _, _ = enet_gap_gram(G, b, y_sq, n, w, l1, l2, positive, features)
            q = gram_correlations(G, b, w, n)
            if gap <= tol_abs:
                break
        active = features[w[features] != 0.0]
        if active.shape[0] == 0:
            continue
        history = np.empty((anderson_k + 1, active.shape[0]))
        filled = 0
        for _ in range(ACTIVE_SWEEPS):
            if epochs >= max_epochs:
                break
            biggest, _ = _sweep_gram(G, n, w, q, lipschitz, l1, l2, positive, active)
            epochs += 1
            if anderson_k > 0:
                history[filled] = w[active]
                filled += 1
                if filled == anderson_k + 1:
                    filled = 0
                    point, ok = anderson_point(history)
                    if ok:
                        if positive:
                            point = np.maximum(point, 0.0)
                        now = _objective_gram(G, b, y_sq, n, w, active, w[active], l1, l2)
                        new = _objective_gram(G, b, y_sq, n, w, active, point, l1, l2)
                        if new < now:
                            for k in range(active.shape[0]):
                                w[active[k]] = point[k]
                            q = gram_correlations(G, b, w, n)
            if biggest <= inner_threshold:
                break
        inner_threshold *= 0.1
    if gap > tol_abs and epochs > 0:  # stopped by max_epochs, possibly after active sweeps
        primal, gap, _, _ = enet_gap_gram(G, b, y_sq, n, w, l1, l2, positive, features)
    return primal, gap, epochs


@njit(cache=True)
def face_start(block, at, xty, active, w, l1, l2, n, positive):
    """:func:`face_point` on the face of ``w`` (support ``active``), gathered here.

    ``block[at][:, at]`` is ``Xc_A' Xc_A`` and ``xty`` is ``Xc' yc`` (see
    ``Design.gram_block_parts``); ``H`` and ``c`` are those divided by ``n``. Returns the full
    point (zero off ``active``) and :func:`face_point`'s status.
    """
    k = active.shape[0]
    H = np.empty((k, k))
    for j in range(k):
        for i in range(k):
            H[i, j] = block[at[i], at[j]] / n
    wa = w[active]
    u, status = face_point(H, xty[active] / n, np.sign(wa), l1[active], l2[active], wa, positive)
    start = np.zeros_like(w)
    for i in range(k):
        start[active[i]] = u[i]
    return start, status


@njit(cache=True)
def face_point(H, c, signs, l1, l2, w, positive):
    """Minimiser of ``F(u) = -c' u + u' (H + diag(l2)) u / 2 + l1' |u|`` on the face of ``w``.

    ``H`` is the support's Gram block divided by n (overwritten), ``signs`` the signs of ``w``
    (all nonzero). The stationary point on the face solves ``(H + diag(l2)) u = c - l1 * signs``
    (Cholesky); coordinates whose sign would flip are set to 0, negative ones too with
    ``positive``. Returns ``(u, status)``: status 0 when ``F(u) < F(w)`` (both evaluated exactly,
    on the same support), 1 when not, 2 when the matrix is not positive definite (``|A| >= n``
    without an L2 part, or collinear active columns).
    """
    k = H.shape[0]
    for i in range(k):
        H[i, i] += l2[i]
    u = c - l1 * signs
    try:
        L = np.linalg.cholesky(H)
    except Exception:  # numba catches no narrower class
        return u, 2
    for i in range(k):  # L z = rhs
        total = u[i]
        for j in range(i):
            total -= L[i, j] * u[j]
        u[i] = total / L[i, i]
    for i in range(k - 1, -1, -1):  # L' u = z
        total = u[i]
        for j in range(i + 1, k):
            total -= L[j, i] * u[j]
        u[i] = total / L[i, i]
    for i in range(k):
        if not np.isfinite(u[i]):
            return u, 2
        if (u[i] * signs[i] < 0.0 and l1[i] > 0.0) or (positive and u[i] < 0.0):
            u[i] = 0.0
    return u, 0 if _face_objective(H, c, l1, u) < _face_objective(H, c, l1, w) else 1


@njit(cache=True)
def _face_objective(H, c, l1, v):
    total = 0.0
    for i in range(v.shape[0]):
        quad = 0.0
        for j in range(v.shape[0]):
            quad += H[i, j] * v[j]
        total += v[i] * (0.5 * quad - c[i]) + l1[i] * abs(v[i])
    return total
