"""Anderson extrapolation of coordinate-descent iterates (Bertrand & Massias, 2021).

Coordinate descent on a fixed support is a linear fixed-point iteration; the last K + 1 iterates
predict its limit. With ``U`` the K x m matrix of successive differences, the weights
``c = (U U')^-1 1 / 1'(U U')^-1 1`` give the extrapolated point ``sum_k c_k w_k``. The caller keeps
it only when it lowers the objective, so extrapolation never hurts convergence.
"""

import numpy as np

from ._jit import njit


@njit(cache=True)
def anderson_point(history):
    """Extrapolate from ``history`` (K + 1 rows of iterates); returns (point, ok)."""
    k = history.shape[0] - 1
    diffs = history[1:] - history[:-1]
    gram = diffs @ diffs.T
    trace = 0.0
    for i in range(k):
        trace += gram[i, i]
    if trace == 0.0:
        return history[-1].copy(), False
    # a tiny ridge keeps the system solvable when differences are collinear
    for i in range(k):
        gram[i, i] += 1e-10 * trace
    weights = np.linalg.solve(gram, np.ones(k))
    total = weights.sum()
    if total == 0.0 or not np.isfinite(total):
        return history[-1].copy(), False
    weights /= total
    point = np.zeros(history.shape[1])
    for i in range(k):
        point += weights[i] * history[i + 1]
    return point, True
