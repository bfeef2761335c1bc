"""Proximal operators of the separable elastic-net family, the one copy in the library.

For one coordinate, with per-feature weights ``l1 >= 0`` and ``l2 >= 0`` and a step ``t > 0``::

    prox(v) = argmin_x  (x - v)^2 / (2 t) + t-scaled penalty
            = argmin_x  (x - v)^2 / (2 t) + l1 |x| + (l2 / 2) x^2      [+ indicator(x >= 0)]
            = S(v, t l1) / (1 + t l2)

where ``S(v, a) = sign(v) max(|v| - a, 0)`` is soft-thresholding. With ``positive`` the soft
threshold is one-sided, ``max(v - t l1, 0)``. Coordinate descent, the penalty objects, and later
the proximal optimizers all call these functions.
"""

import numpy as np

from ._jit import njit


@njit(cache=True, inline="always")
def soft_threshold(v, threshold):
    """``sign(v) * max(|v| - threshold, 0)``."""
    if v > threshold:
        return v - threshold
    if v < -threshold:
        return v + threshold
    return 0.0


@njit(cache=True, inline="always")
def soft_threshold_select(v, threshold):
    """:func:`soft_threshold` without branches and in ``v``'s own precision: ``v - clip(v, -a, a)``.

    Equal to it (``v - v`` is +0.0); the form the vectorised in-place kernels use, where the
    branches and the float64 literal of :func:`soft_threshold` would keep a float32 loop scalar.
    """
    return v - min(max(v, -threshold), threshold)


@njit(cache=True, inline="always")
def prox_enet_1d(v, step, l1, l2, positive):
    """Prox of ``step * (l1 |x| + l2 x^2 / 2)`` (plus ``x >= 0`` if ``positive``) at ``v``."""
    if positive:
        shrunk = v - step * l1
        if shrunk <= 0.0:
            return 0.0
        return shrunk / (1.0 + step * l2)
    return soft_threshold(v, step * l1) / (1.0 + step * l2)


@njit(cache=True)
def prox_enet(v, step, l1, l2, positive):
    """Vectorised :func:`prox_enet_1d` over arrays ``v``, ``l1``, ``l2`` of equal length."""
    out = np.empty(v.shape[0], dtype=np.float64)
    for j in range(v.shape[0]):
        out[j] = prox_enet_1d(v[j], step, l1[j], l2[j], positive)
    return out


@njit(cache=True, inline="always")
def subdiff_distance_1d(w, grad, l1, l2, positive):
    """Distance from ``-grad`` to the subdifferential of ``l1|w| + l2 w^2/2`` (+ ``w >= 0``).

    This is the coordinate's violation of the optimality (KKT) condition
    ``0 in grad + d(penalty)(w)``; it is zero exactly at a solution.
    """
    if w > 0.0:
        return abs(grad + l1 + l2 * w)
    if w < 0.0:
        # unreachable for positive problems, which never produce negative coefficients
        return abs(grad - l1 + l2 * w)
    if positive:
        # subdifferential of l1|w| + indicator(w >= 0) at 0 is (-inf, l1]
        excess = -grad - l1
        return excess if excess > 0.0 else 0.0
    excess = abs(grad) - l1
    return excess if excess > 0.0 else 0.0


@njit(cache=True)
def subdiff_distance(w, grad, l1, l2, positive):
    """Vectorised :func:`subdiff_distance_1d`."""
    out = np.empty(w.shape[0], dtype=np.float64)
    for j in range(w.shape[0]):
        out[j] = subdiff_distance_1d(w[j], grad[j], l1[j], l2[j], positive)
    return out
