"""Wide data: working sets on the client, products on the cluster.

When the p x p Gram matrix does not fit the memory budget, the lasso / elastic net is solved by an
outer loop whose every iteration costs one fused pass over the data. Pass ``k`` evaluates, at the
current solution ``w`` (supported inside the working set ``A``):

- the exact residual sums ``||r||^2``, ``r'y`` and the full ``Xc' r`` (p numbers): the certified
  duality gap of ``w`` and every feature's KKT violation;
- the working set's Gram block ``Xc_A' Xc_A`` and ``Xc_A' yc`` (centred around the global means of
  pass 0, so without cancellation);
- with unpenalized features U (``penalty_factor`` 0), their columns of the Gram matrix
  ``Xc' Xc_U`` (p x |U|): the certificate projects the dual point off them, as the Gram route's
  does. U is always in the working set, so the first subproblem is their least-squares fit.

If the gap of ``w`` meets the tolerance, ``w`` is returned, certified. Otherwise the subproblem on
``A`` is solved exactly on the client by the single-machine covariance-mode solver
(``solve_enet(..., precompute=True)`` on a :class:`GramDesign` of the block), and ``A`` grows by the
worst KKT violators found in the pass (features never leave it, so the loop ends: at worst ``A`` is
every feature). Pass 0 gives the means, ``||yc||^2`` and ``Xc' yc`` (the violations at ``w = 0``).
"""

import logging
import operator
from dataclasses import dataclass

import numpy as np

from .._kernels.prox import subdiff_distance
from ..solvers import solve_enet
from ..solvers.gram_design import GramDesign, ResidualStats, certified_gap
from ._blocks import _tree, compute, read_block, require_dask, stats_pass

logger = logging.getLogger("shrinkage.dask")

# Largest Gram matrix (bytes) the n >> p route builds; beyond it, the working-set route.
GRAM_MAX_BYTES = 1 << 30
# Working-set growth per outer iteration: at least this many violators, or as many as the support.
WS_GROWTH = 50


def gram_fits(n_features):
    return 8 * n_features * n_features <= GRAM_MAX_BYTES


@dataclass(frozen=True)
class _WidePass:
    residual: ResidualStats
    xx: np.ndarray  # Xc_A' S Xc_A
    xy: np.ndarray  # Xc_A' S yc
    xu: np.ndarray  # Xc' S Xc_U (p, |U|)

    def __add__(self, other):
        return _WidePass(self.residual + other.residual, self.xx + other.xx, self.xy + other.xy,
                         self.xu + other.xu)


def _wide_task(partition, X, y, s, w, features, unpenalized, x_offset, y_offset):
    X, y, s = read_block(partition, X, y, s, None)
    Xc = X - x_offset
    yc = y - y_offset
    r = yc - Xc[:, features] @ w[features]
    rs = r if s is None else r * s
    XA = Xc[:, features]
    XAs = XA if s is None else XA * s[:, None]
    residual = ResidualStats(np.array([rs @ r]), np.array([rs @ yc]), (Xc.T @ rs)[:, None])
    XU = Xc[:, unpenalized] if s is None else Xc[:, unpenalized] * s[:, None]
    return _WidePass(residual, XAs.T @ XA, XAs.T @ yc, Xc.T @ XU)


def _wide_pass(blocks, w, features, unpenalized, x_offset, y_offset, client):
    dask = require_dask()
    args = [dask.delayed(np.asarray(a)) for a in (w, features, unpenalized, x_offset)]
    leaves = [dask.delayed(_wide_task, pure=True)(i, x, y, None if blocks.s is None
                                                  else blocks.s[i], *args, float(y_offset))
              for i, (x, y) in enumerate(zip(blocks.x, blocks.y, strict=True))]
    return compute(client, _tree(dask, leaves, operator.add))[0]


class _Scaled:
    """What :func:`certified_gap` needs on the wide route: the Gram matrix's columns of the
    unpenalized features only (``cross`` = Xc'Xc_U, ``xty_u`` = Xc_U'yc, weight-scaled)."""

    def __init__(self, n, weight_scale, unpenalized, cross, xty_u):
        self.n_samples, self.weight_scale = n, weight_scale
        self._position = {int(j): k for k, j in enumerate(unpenalized)}
        self._cross, self._xty_u = cross, xty_u

    def gram_columns(self, features):
        k = [self._position[int(j)] for j in features]
        return self._cross[:, k], self._xty_u[k]


def wide_stats(blocks, fit_intercept, client=None):
    """Pass 0 of the wide route: weights, means, ``||yc||^2``, ``Xc'yc`` and column norms."""
    p = blocks.n_features
    logger.info("p = %d: the %d x %d Gram matrix exceeds the %d-byte budget; working-set route "
                "(one pass per outer iteration)", p, p, p, GRAM_MAX_BYTES)
    (stats,) = stats_pass(blocks, fit_intercept, client=client, diagonal=True)
    return stats


def fit_wide(blocks, stats, fit_intercept, l1, l2, positive, tol, max_iter, coef_init=None,
             client=None, max_outer=100):
    """Working-set elastic net over the blocks from pass 0's ``stats``; returns
    ``(w, intercept, gap, n_iter, passes)`` (``passes`` counts pass 0)."""
    p = blocks.n_features
    unpenalized = np.flatnonzero((l1 == 0) & (l2 == 0))
    if 8 * p * unpenalized.size > GRAM_MAX_BYTES:
        raise NotImplementedError(f"{unpenalized.size} unpenalized features: their {p} x "
                                  f"{unpenalized.size} Gram columns exceed the memory budget")
    n, scale = stats.count, stats.count / stats.weight
    x_offset = stats.x_mean if fit_intercept else np.zeros(p)
    y_offset = stats.y_mean if fit_intercept else 0.0
    y_sq = scale * stats.yy
    tol_abs = tol * 0.5 * y_sq / n
    w = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64)
    # X'r/n at w = 0; a warm start's violations are only known after the first pass
    corr = scale * stats.xy / n if coef_init is None else None
    features = np.union1d(np.flatnonzero(w), unpenalized).astype(np.intp)
    passes, n_iter = 1, 0
    gap = np.inf
    for _ in range(max_outer):
        if corr is not None:
            scores = subdiff_distance(w, -corr, l1, l2, positive)
            scores[features] = -1.0
            grow = max(WS_GROWTH, np.count_nonzero(w))
            outside = np.flatnonzero(scores > 0)
            new = outside[np.argsort(-scores[outside])[:grow]]
            features = np.union1d(features, new).astype(np.intp)
        if features.size == 0:  # w = 0 satisfies every KKT condition
            features = np.array([int(np.argmax(np.abs(stats.xy)))], dtype=np.intp)
        result = _wide_pass(blocks, w, features, unpenalized, x_offset, y_offset, client)
        passes += 1
        certifier = _Scaled(n, scale, unpenalized, scale * result.xu, scale * stats.xy[unpenalized])
        _, gap = certified_gap(certifier, result.residual, 0, w, l1, l2, positive)
        corr = scale * result.residual.x_r[:, 0] / n
        if gap <= tol_abs:
            break
        sub = GramDesign.from_gram(scale * result.xx, scale * result.xy, y_sq, n, scale)
        solved = solve_enet(sub, l1[features], l2[features], positive, coef_init=w[features],
                            max_iter=max_iter, tol=0.5 * tol, warn=False, precompute=True)
        n_iter += solved.n_iter
        w = np.zeros(p)
        w[features] = solved.coef
    else:
        logger.warning("working-set route stopped after %d outer iterations with gap %.3e",
                       max_outer, gap)
    intercept = float(y_offset - x_offset @ w) if fit_intercept else 0.0
    return w, intercept, gap, n_iter, passes
