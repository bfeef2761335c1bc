"""Duality gap of the weighted elastic net with a least-squares datafit.

Primal, on the centred and weight-scaled design ``X`` (n rows) and response ``y``::

    P(w) = ||y - X w||^2 / (2 n) + sum_j ( l1_j |w_j| + l2_j w_j^2 / 2 )      [+ w >= 0]

Fenchel dual, for any ``theta`` in R^n (the scaled residual ``(y - X w) / n`` at the optimum)::

    D(theta) = theta' y - (n / 2) ||theta||^2 - sum_j g_j*(X_j' theta)

with ``g_j*(u) = max(|u| - l1_j, 0)^2 / (2 l2_j)`` when ``l2_j > 0`` (one-sided ``max(u - l1_j, 0)``
with ``positive``), and the constraint ``|u| <= l1_j`` (``u <= l1_j``) when ``l2_j = 0``.
``P(w) - D(theta) >= P(w) - P(w*) >= 0`` for every feasible ``theta``: the gap certifies the
suboptimality of ``w``. ``theta = r / n`` is made feasible by projecting out the unpenalized columns
(``l1_j = l2_j = 0`` gives the equality ``X_j' theta = 0``) and then rescaling it so that
``|X_j' theta| <= l1_j`` for the pure-L1 columns; at the optimum neither step moves it, so the gap
computed this way goes to zero.
"""

import numpy as np

from ._jit import njit


@njit(cache=True)
def enet_penalty_value(w, l1, l2):
    """``sum_j l1_j |w_j| + l2_j w_j^2 / 2``."""
    total = 0.0
    for j in range(w.shape[0]):
        if w[j] != 0.0:
            total += l1[j] * abs(w[j]) + 0.5 * l2[j] * w[j] * w[j]
    return total


@njit(cache=True)
def enet_dual_value(theta_dot_y, theta_norm2, corr, l1, l2, positive, n):
    """Dual objective at ``s * theta`` given ``theta' y``, ``||theta||^2`` and ``corr = X' theta``.

    ``s in (0, 1]`` is the largest scaling that makes the L1-only constraints hold; columns with
    ``l1 = l2 = 0`` must already satisfy ``corr_j = 0`` (the caller projects them out). Returns
    ``(dual, s)``: ``s * corr`` is ``X' theta`` at the feasible dual point (for screening).
    """
    scale = 1.0
    for j in range(corr.shape[0]):
        if l2[j] == 0.0 and l1[j] > 0.0:
            c = corr[j] if positive else abs(corr[j])
            if c * scale > l1[j]:
                scale = l1[j] / c
    conj = 0.0
    for j in range(corr.shape[0]):
        if l2[j] > 0.0:
            c = scale * corr[j]
            if not positive:
                c = abs(c)
            excess = c - l1[j]
            if excess > 0.0:
                conj += excess * excess / (2.0 * l2[j])
    return scale * theta_dot_y - 0.5 * n * scale * scale * theta_norm2 - conj, scale


@njit(cache=True)
def project_out_columns(theta, columns):
    """Project ``theta`` onto the orthogonal complement of the span of ``columns`` (n x k)."""
    if columns.shape[1] == 0:
        return theta
    coef = np.linalg.lstsq(columns, theta)[0]
    return theta - columns @ coef


@njit(cache=True)
def free_unpenalized(unpenalized, w, corr, positive):
    """Unpenalized columns whose equality ``X_j' theta = 0`` the dual point must satisfy.

    With ``positive`` a column at its bound ``w_j = 0`` only needs ``X_j' theta <= 0``, which may hold
    already; projecting it out anyway would stop the gap from reaching zero.
    """
    keep = np.zeros(unpenalized.shape[0], dtype=np.bool_)
    for k in range(unpenalized.shape[0]):
        j = unpenalized[k]
        keep[k] = (not positive) or w[j] > 0.0 or corr[j] > 0.0
    return unpenalized[keep]
