"""Which features a solve may leave out: the sequential strong rule (a heuristic, always checked
by a full-width certificate) and Gap Safe screening (a proof). One copy each, for the Python
drivers (``solvers.cd``, ``solvers.path``) and the numba path loop (``path_dense``).
"""

import numpy as np

from ._jit import njit


@njit(cache=True)
def strong_set(corr, older_corr, ratio, l1, previous_l1, positive, w):
    """The sequential strong rule's features (Tibshirani et al., 2012), with the support of ``w``.

    Feature j is kept when its correlation ``corr_j = X_j' r / n`` at the previous solution reaches
    ``2 l1_j - previous_l1_j``, or when the correlation extrapolated linearly in alpha from the
    last two solutions, ``corr + ratio (corr - older_corr)``, does (``older_corr`` of size 0:
    no extrapolation). One-sided with ``positive``. Sorted indices.
    """
    p = corr.shape[0]
    extrapolate = older_corr.shape[0] == p
    keep = np.empty(p, dtype=np.bool_)
    for j in range(p):
        threshold = 2.0 * l1[j] - previous_l1[j]
        c = corr[j] if positive else abs(corr[j])
        hit = c >= threshold or w[j] != 0.0
        if not hit and extrapolate:
            e = corr[j] + ratio * (corr[j] - older_corr[j])
            hit = (e if positive else abs(e)) >= threshold
        keep[j] = hit
    return np.flatnonzero(keep)


@njit(cache=True)
def gap_safe_keep(alive, feasible, radius, w, l1, l2, col_norms, positive):
    """Gap Safe screening (Fercoq et al., 2015): False for the features of ``alive`` proven zero.

    ``feasible = X_alive' theta`` at the feasible dual point and ``radius = sqrt(2 gap / n)``: a
    pure-L1 feature at zero with ``|X_j' theta| + ||X_j|| radius < l1_j`` is zero at every
    solution (see ``solvers.cd._gap_safe_screen``).
    """
    keep = np.ones(alive.shape[0], dtype=np.bool_)
    for a in range(alive.shape[0]):
        j = alive[a]
        drive = feasible[a] if positive else abs(feasible[a])
        if (l2[j] == 0.0 and l1[j] > 0.0 and w[j] == 0.0
                and drive + col_norms[j] * radius < l1[j]):
            keep[a] = False
    return keep
