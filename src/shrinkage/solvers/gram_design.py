"""A least-squares design known only through its reduced statistics.

When the rows live elsewhere (blocks of a dask array, partitions of a data frame), one pass over
the data reduces them to :class:`GramStats` (weight total, weighted means, centred cross-products),
and :class:`GramDesign` presents those to the covariance-mode solvers (``solve_enet(...,
precompute=True)``, ``solve_path``, ``solve_ridge``) exactly as
:class:`~shrinkage.solvers.design.Design` does: the same ``gram``, ``xty``, ``gram_block``,
``null_objective`` and intercept (``has_rows = False`` tells ``solve_ridge`` to factor the Gram
matrix). The solvers therefore run unchanged on the client.

Numerics. ``X'X - n m m'`` loses ``(m_j / sd_j)^2`` digits on column j, so each block's
cross-products are taken around that block's own (weighted) mean and blocks are merged with Chan,
Golub & LeVeque's pairwise update::

    W = W_a + W_b,  d = m_b - m_a,  m = m_a + d W_b / W,  C = C_a + C_b + (W_a W_b / W) d d'

which is exact in exact arithmetic and only adds products of mean differences, so the centred
Gram matrix is as accurate as a two-pass centred product over the whole data.

A second pass over the data at the solution gives the exact residual's sums
(:class:`ResidualStats`), from which :func:`certified_gap` computes the duality gap without the
cancellation of the Gram-only formula ``||y||^2 - 2 w'X'y + w'X'X w`` (about 1e-13 ||y||^2).
"""

from dataclasses import dataclass

import numpy as np

from .._kernels.gap import enet_dual_value, enet_penalty_value, free_unpenalized


@dataclass(frozen=True)
class GramStats:
    """Weighted, centred sums of a set of rows (float64).

    ``weight`` = sum s_i, ``count`` = number of rows, ``x_mean`` / ``y_mean`` the weighted means
    (zeros when not centred), ``xx`` = sum s (x - m)(x - m)', ``xy`` = sum s (x - m)(y - ybar),
    ``yy`` = sum s (y - ybar)^2.
    """

    count: int
    weight: float
    x_mean: np.ndarray
    y_mean: float
    xx: np.ndarray
    xy: np.ndarray
    yy: float


def block_stats(X, y, s, centre, diagonal=False):
    """:class:`GramStats` of one block (``s`` may be ``None``: unit weights); ``diagonal`` keeps
    only the diagonal of ``xx`` (wide data, where the p x p matrix does not fit)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    n, p = X.shape
    weight = float(n if s is None else s.sum())
    if centre and weight > 0:
        m = (X.sum(axis=0) if s is None else s @ X) / weight
        ybar = float((y.sum() if s is None else s @ y) / weight)
    else:
        m, ybar = np.zeros(p), 0.0
    Xc = X - m
    yc = y - ybar
    Xs = Xc if s is None else Xc * s[:, None]
    ys = yc if s is None else yc * s
    xx = np.einsum("ij,ij->j", Xs, Xc) if diagonal else Xs.T @ Xc
    return GramStats(n, weight, m, ybar, xx, Xs.T @ yc, float(ys @ yc))


def merge_stats(a, b):
    """Chan's pairwise update of two :class:`GramStats` (see the module docstring)."""
    weight = a.weight + b.weight
    if a.weight == 0:
        return GramStats(a.count + b.count, b.weight, b.x_mean, b.y_mean, b.xx, b.xy, b.yy)
    if b.weight == 0:
        return GramStats(a.count + b.count, a.weight, a.x_mean, a.y_mean, a.xx, a.xy, a.yy)
    f = b.weight / weight
    dx = b.x_mean - a.x_mean
    dy = b.y_mean - a.y_mean
    c = a.weight * f  # W_a W_b / W
    outer = np.outer(dx, dx) if a.xx.ndim == 2 else dx * dx  # full Gram, or its diagonal only
    return GramStats(a.count + b.count, weight, a.x_mean + f * dx, a.y_mean + f * dy,
                     a.xx + b.xx + c * outer, a.xy + b.xy + c * dx * dy,
                     a.yy + b.yy + c * dy * dy)


def tree_merge(stats):
    """Merge a list of :class:`GramStats` pairwise (a balanced tree: error grows as log k)."""
    stats = list(stats)
    while len(stats) > 1:
        stats = [merge_stats(*stats[i:i + 2]) if i + 1 < len(stats) else stats[i]
                 for i in range(0, len(stats), 2)]
    return stats[0]


def squared_error_sums(stats, coefs, intercepts):
    """``sum_i s_i (y_i - x_i' w - b)^2`` over the rows of ``stats`` for each column of ``coefs``.

    From the centred sums: the centred cross terms vanish, leaving
    ``yy - 2 w'xy + w'xx w + W (ybar - m'w - b)^2`` (exact up to the cancellation between the first
    three terms, ~1e-16 yy: ample for scoring cross-validation folds).
    """
    W = np.atleast_2d(np.asarray(coefs, dtype=np.float64).T).T  # (p, k)
    quad = stats.yy - 2.0 * (stats.xy @ W) + np.einsum("jk,jk->k", W, stats.xx @ W)
    shift = stats.y_mean - stats.x_mean @ W - np.asarray(intercepts, dtype=np.float64)
    return np.maximum(quad, 0.0) + stats.weight * shift**2


_NO_ROWS = ("this design is known only through its Gram matrix (distributed data); the operation "
            "needs the rows")


class GramDesign:
    """The duck-typed design of the covariance-mode solvers, built from :class:`GramStats`.

    Sample weights are normalised to sum to ``n`` (the row count), as in
    :func:`~shrinkage.solvers.design.make_design`, so the Gram quantities are those of
    ``Xc = diag(sqrt(s)) (X - 1 m')``: ``Xc'Xc = (n / W) xx`` and so on.
    """

    is_sparse = False
    has_rows = False  # solvers.closed_form solves ridge from the Gram matrix

    def __init__(self, stats, fit_intercept=True):
        n = stats.count
        scale = n / stats.weight
        self._init(n, scale, stats.x_mean, stats.y_mean, fit_intercept,
                   (np.asfortranarray(scale * stats.xx), scale * stats.xy, scale * stats.yy))

    def _init(self, n, scale, x_mean, y_mean, fit_intercept, gram):
        self._n = n
        self.weight_scale = scale
        self.x_offset = x_mean if fit_intercept else np.zeros_like(x_mean)
        self.y_offset = y_mean if fit_intercept else 0.0
        self.gram = gram

    @classmethod
    def from_gram(cls, G, b, y_sq, n, weight_scale=1.0, x_offset=None, y_offset=0.0):
        """A design from already scaled Gram quantities (e.g. a working set's block)."""
        design = cls.__new__(cls)
        x_offset = np.zeros(G.shape[0]) if x_offset is None else x_offset
        design._init(n, weight_scale, x_offset, y_offset, True,
                     (np.asfortranarray(G), np.asarray(b, dtype=np.float64), float(y_sq)))
        return design

    @property
    def n_samples(self):
        return self._n

    @property
    def n_features(self):
        return self.gram[0].shape[0]

    @property
    def xty(self):
        return self.gram[1]

    @property
    def column_sq_norms(self):
        return np.diag(self.gram[0]).copy()

    def gram_block(self, features):
        return self.gram[0][np.ix_(features, features)]

    def gram_block_parts(self, features):
        return self.gram[0], features

    def null_objective(self):
        return 0.5 * self.gram[2] / self._n

    def intercept(self, coef):
        return self.y_offset - coef @ self.x_offset

    def target(self, k):
        return self

    # No rows: the path functions read the Gram matrix (solvers.path.gradient_at,
    # unpenalized_start, alpha_max), the solvers run in covariance mode.
    @property
    def y(self):
        raise NotImplementedError(_NO_ROWS)

    def matvec(self, w):
        raise NotImplementedError(_NO_ROWS)

    def rmatvec(self, r):
        raise NotImplementedError(_NO_ROWS)

    @property
    def X(self):
        raise NotImplementedError(_NO_ROWS)

    def gram_columns(self, features):
        """``(Xc' Xc_F, Xc_F' yc)`` for the columns ``F = features``: what :func:`certified_gap`
        needs to project the dual point off unpenalized columns."""
        return self.gram[0][:, features], self.gram[1][features]


@dataclass(frozen=True)
class ResidualStats:
    """Sums over the rows of the exact residuals ``r = y - X w - b`` for k solutions.

    ``r_sq`` = sum s r^2 (k,), ``r_y`` = sum s r (y - ybar) (k,), ``x_r`` = sum s (x - m) r (p, k),
    with the global means ``m``, ``ybar`` of the fit (zeros without an intercept).
    """

    r_sq: np.ndarray
    r_y: np.ndarray
    x_r: np.ndarray

    def __add__(self, other):
        return ResidualStats(self.r_sq + other.r_sq, self.r_y + other.r_y, self.x_r + other.x_r)


def block_residual_stats(X, y, s, coefs, intercepts, x_offset, y_offset):
    """:class:`ResidualStats` of one block for the columns of ``coefs`` (p, k)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    Xc = X - x_offset
    yc = y - y_offset
    # r = (y - ybar) - (x - m)'w + (ybar - m'w - b): the last term is 0 with an intercept
    R = yc[:, None] - Xc @ coefs + (y_offset - x_offset @ coefs - intercepts)
    Rs = R if s is None else R * s[:, None]
    return ResidualStats(np.einsum("ik,ik->k", Rs, R), yc @ Rs, Xc.T @ Rs)


def certified_gap(design, residuals, k, w, l1, l2, positive):
    """``(primal, gap)`` of solution ``w`` from the exact residual sums of column ``k``.

    The dual point is ``theta = r / n`` (scaled residual of the weight-scaled centred problem),
    made feasible as in :func:`shrinkage._kernels.cd_gram.enet_gap_gram`: the unpenalized columns
    are projected out (through their Gram block) and the result rescaled by
    :func:`~shrinkage._kernels.gap.enet_dual_value`.
    """
    n = design.n_samples
    scale = design.weight_scale
    r_sq = scale * float(residuals.r_sq[k])
    theta_y = scale * float(residuals.r_y[k]) / n
    theta_sq = r_sq / (n * n)
    corr = scale * residuals.x_r[:, k] / n
    w = np.ascontiguousarray(w, dtype=np.float64)
    l1 = np.ascontiguousarray(l1, dtype=np.float64)
    l2 = np.ascontiguousarray(l2, dtype=np.float64)
    unpenalized = np.flatnonzero((l1 == 0) & (l2 == 0))
    free = free_unpenalized(unpenalized, w, corr, bool(positive)) if unpenalized.size else unpenalized
    if free.size:
        G_f, b_f = design.gram_columns(free)  # (p, |F|), (|F|,)
        keep = G_f[free, np.arange(free.size)] > 0  # all-zero columns: nothing to project
        free, G_f, b_f = free[keep], G_f[:, keep], b_f[keep]
    if free.size:
        G_uu = G_f[free]
        coef = np.linalg.lstsq(G_uu, corr[free], rcond=None)[0]
        theta_y -= coef @ b_f
        theta_sq += -2.0 * (coef @ corr[free]) + coef @ (G_uu @ coef)
        corr = corr - G_f @ coef
    primal = 0.5 * r_sq / n + enet_penalty_value(w, l1, l2)
    dual, _ = enet_dual_value(theta_y, max(theta_sq, 0.0), corr, l1, l2, bool(positive), n)
    return primal, primal - dual
