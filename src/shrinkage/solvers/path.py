"""Regularization paths: one warm-started working-set solve per alpha, from alpha_max down.

Along a decreasing grid the solution at one alpha is an excellent start for the next (its support
seeds the working set), and the sequential strong rule names the features worth looking at (with
those whose correlation, extrapolated from the last two alphas, is about to cross it): each alpha
is solved on all of them first, then certified on every feature (glmnet's strong set + KKT check),
so a 100-alpha path costs a few single fits. Unpenalized features are fitted first: the path
starts at their least-squares fit, where every penalized coefficient is 0.

Second-order warm start: the lasso path is piecewise linear, with kinks only where a feature enters
or leaves the support, so from one alpha to the next the solution usually stays on the same face
(support and signs), where the objective is a smooth quadratic. Its exact minimiser there, one
Cholesky solve with the support's Gram block, is the next solution itself when the face does not
change (Larsson & Wallin's Hessian warm start, NeurIPS 2022) and a close start when it does; the
coordinate-descent solve then only certifies it, or corrects it. This matters where coordinate
descent is slow: late on a p >> n path, where the support nears n and the active columns are
nearly collinear.

On dense designs outside covariance mode the loop over alphas after the first runs in numba
(:mod:`shrinkage._kernels.path_dense`): on a short wide design each alpha's arithmetic is well
under a millisecond, and the Python around it cost as much again. Same schedule, same rules; an
alpha it cannot finish in one working set comes back here.
"""

from dataclasses import dataclass

import numpy as np

from .._kernels.cd_gram import face_start
from .._kernels.path_dense import enet_path_dense
from .._kernels.screening import strong_set
from ..penalties import Penalty, check_penalty_factor
from .cd import (
    ANDERSON_K,
    FIRST_WS_SIZE,
    GAP_FLOOR,
    EnetResult,
    _finish,
    _kernels_for,
    solve_enet,
    use_gram,
)
from .design import GRAM_BLOCK_MAX_COLUMNS

# Largest support whose |A| x |A| system the second-order warm start solves (O(n |A|^2) to form,
# less along a path: Design.gram_block keeps the columns it has seen).
SECOND_ORDER_MAX_ACTIVE = 2000


@dataclass(frozen=True)
class PathResult:
    alphas: np.ndarray       # (n_alphas,), decreasing as given
    coefs: np.ndarray        # (n_features, n_alphas)
    dual_gaps: np.ndarray    # (n_alphas,)
    n_iters: np.ndarray      # (n_alphas,)


def _computed_gram(design):
    """``(Xc'Xc, Xc'yc, ||yc||^2)`` when the design already holds it (covariance mode, or a design
    built from distributed statistics), else ``None``: then the path's own products use it."""
    return vars(design).get("gram")


def unpenalized_start(design, l1, l2):
    """Least-squares fit of the unpenalized features (zeros elsewhere): the path's first point."""
    w = np.zeros(design.n_features)
    free = np.flatnonzero((l1 == 0) & (l2 == 0))
    if free.size == 0:
        return w
    gram = _computed_gram(design)
    if gram is not None:
        w[free] = np.linalg.lstsq(gram[0][np.ix_(free, free)], gram[1][free], rcond=None)[0]
        return w
    if design.is_sparse:
        cols = design.X[:, free].toarray() - np.outer(design.sqrt_sw, design.x_offset[free])
    else:
        cols = np.asarray(design.X[:, free], dtype=np.float64)
    w[free] = np.linalg.lstsq(cols, design.y, rcond=None)[0]
    return w


def gradient_at(design, w):
    """Gradient of ``(1/2n) ||yc - Xc w||^2``: ``-Xc' (yc - Xc w) / n``."""
    gram = _computed_gram(design)
    if gram is not None:
        return -(gram[1] - gram[0] @ w) / design.n_samples
    r = design.y - design.matvec(w)
    return -np.asarray(design.rmatvec(r)).ravel() / design.n_samples


def alpha_max(design, penalty, precompute="auto"):
    """Smallest alpha at which every penalized coefficient is zero.

    In covariance mode (``precompute``, see :func:`shrinkage.solvers.cd.use_gram`) the Gram matrix
    is formed first and the gradient read from it: no centred copy of a tall dense design.
    """
    if use_gram(design, precompute, path=True):
        _ = design.gram  # cached on the design; the path's solves reuse it
    l1, l2 = penalty.lower(design.n_features)
    # lowering with alpha = 1 gives the factors; the start fits the unpenalized features only
    w0 = unpenalized_start(design, l1, l2)
    return penalty.alpha_max(gradient_at(design, w0))


def second_order_worthwhile(design, active, passes):
    """Whether the Cholesky solve (~|A|^3 / 3 flops) costs less than the coordinate-descent
    passes it may save: ``passes`` over the support's nonzeros, as many as the last alpha took."""
    if active.size == 0 or active.size > SECOND_ORDER_MAX_ACTIVE:
        return False
    if design.is_sparse:
        indptr = design.source.indptr if design.source.format == "csc" else None
        per_column = (np.mean(indptr[active + 1] - indptr[active]) if indptr is not None
                      else design.source.nnz / design.n_features)
    else:
        per_column = design.n_samples
    return active.size**2 / 3.0 <= passes * per_column


def second_order_start(design, w, l1, l2, positive):
    """The minimiser, at the penalty ``(l1, l2)``, of the objective on the face of ``w``.

    With ``A`` the support of ``w`` and ``s`` its signs, the objective restricted to
    ``{u : u_j = 0 off A, sign(u_A) = s}`` is ``F(u) = const - c_A' u + u' H u / 2 + l1_A' |u|`` with
    ``H = Xc_A' Xc_A / n + diag(l2_A)`` and ``c = Xc' yc / n``; its stationary point solves
    ``H u = c_A - l1_A * s``. Coordinates whose sign would flip are set to 0 (the face was left
    there). Returns the point when it has a lower objective than ``w``, else ``None`` (also when
    ``H`` is singular).
    """
    active = np.flatnonzero(w)
    block, at = design.gram_block_parts(active)
    start, status = face_start(block, at, design.xty, active, w, l1, l2,
                               float(design.n_samples), bool(positive))
    return start if status == 0 else None  # not lower, or H singular (see face_point)


class _DensePathKernel:
    """:func:`~shrinkage._kernels.path_dense.enet_path_dense`'s fixed inputs for one path, and the
    Gram block cache it keeps between calls: the per-alpha loop in numba, for dense designs
    outside covariance mode and penalties lowered as ``Penalty.lower`` does."""

    def __init__(self, design, penalty, alphas, max_iter, tol, relative_to, second_order):
        kernels = _kernels_for(design, False)
        p = design.n_features
        self.design, self.alphas = design, alphas
        self.args = (kernels.lipschitz, kernels.col_norms,
                     check_penalty_factor(penalty.weights, p), float(penalty.l1_ratio))
        self.settings = (bool(penalty.positive), relative_to == "start", float(tol),
                         float(design.null_objective()), GAP_FLOOR, int(max_iter), ANDERSON_K,
                         FIRST_WS_SIZE, bool(second_order), SECOND_ORDER_MAX_ACTIVE)
        self.position = np.full(p, -1, dtype=np.int64)
        self.cache = (np.empty(0, dtype=np.int64), 0, np.empty((0, 0)))
        self.tol_abs = np.full(alphas.size, np.nan)  # set for the alphas solved here

    @staticmethod
    def applies(design, precompute, penalty):
        return (precompute is False and not design.is_sparse and "gram" not in vars(design)
                and isinstance(penalty, Penalty) and type(penalty).lower is Penalty.lower)

    def run(self, first, w, corr, older_corr, iters, coefs, gaps):
        """Solve from ``alphas[first]`` on; returns the first alpha left to Python (or the end)
        and the state after the alpha before it."""
        d = self.design
        older = np.empty(0) if older_corr is None else older_corr
        k, w, corr, older, *self.cache = enet_path_dense(
            d.X, d.y, d.xty, *self.args, self.alphas, first, *self.settings, w, corr, older,
            iters, coefs, gaps, self.tol_abs, self.position, *self.cache, GRAM_BLOCK_MAX_COLUMNS)
        return k, w, corr, (older if older.size else None)


def solve_path(design, penalty_at, alphas, max_iter=1000, tol=1e-4, warn=True,
               precompute="auto", second_order=True, relative_to="start"):
    """Solve along ``alphas`` with warm starts; ``penalty_at(alpha)`` gives the penalty object.

    In covariance mode the Gram matrix is computed once (cached on ``design``) for the whole path.
    ``second_order`` starts each alpha from the minimiser on the previous solution's face
    (:func:`second_order_start`) when that lowers the objective. ``tol`` is relative to each
    alpha's objective at its warm start (``relative_to="start"``, the stopping rule of
    :mod:`shrinkage.solvers.cd`), or to the null objective as for a single fit (``"null"``).
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    p = design.n_features
    precompute = use_gram(design, precompute, path=True)
    coefs = np.zeros((p, alphas.size), order="F")  # one contiguous column per alpha
    gaps = np.zeros(alphas.size)
    iters = np.zeros(alphas.size, dtype=np.int64)
    first = penalty_at(alphas[0]) if alphas.size > 1 else None
    fast = (_DensePathKernel(design, first, alphas, max_iter, tol, relative_to, second_order)
            if first is not None and _DensePathKernel.applies(design, precompute, first)
            else None)
    w = None
    previous_l1 = corr = older_corr = None
    k = 0
    while k < alphas.size:
        if fast is not None and corr is not None:
            # the per-alpha loop in numba; it leaves to this one the alphas it cannot finish
            k, w, corr, older_corr = fast.run(k, w, corr, older_corr, iters, coefs, gaps)
            if k == alphas.size:
                break
            previous_l1 = penalty_at(alphas[k - 1]).lower(p)[0]
        alpha = alphas[k]
        penalty = penalty_at(alpha)
        l1, l2 = penalty.lower(p)
        if w is None:
            w = unpenalized_start(design, l1, l2)
        candidates = None
        if corr is not None:
            # sequential strong rule (Tibshirani et al., 2012): feature j is likely inactive at the
            # new alpha when |X_j' r / n| < 2 l1_j(new) - l1_j(previous); solve_enet certifies on
            # all. Also kept: the features whose correlation, extrapolated linearly in alpha from
            # the last two solutions, crosses the same threshold (where the support grows fast,
            # text data late on the path, these are the ones the strong rule misses, each miss
            # costing a full-width check and a second solve), and the current support.
            step = alphas[k - 1] - alphas[k - 2] if k >= 2 else 0.0
            extrapolate = older_corr is not None and step != 0.0
            candidates = strong_set(corr, older_corr if extrapolate else np.empty(0),
                                    (alpha - alphas[k - 1]) / step if extrapolate else 0.0, l1,
                                    previous_l1, bool(penalty.positive), w)
            # as many passes as the recent alphas needed (an alpha it solved outright needs none)
            recent = int(iters[max(k - 3, 0):k].max())
            if second_order and second_order_worthwhile(design, np.flatnonzero(w), recent):
                predicted = second_order_start(design, w, l1, l2, penalty.positive)
                if predicted is not None:
                    w = predicted
        result = solve_enet(design, l1, l2, penalty.positive, coef_init=w, max_iter=max_iter,
                            tol=tol, warn=warn, precompute=precompute, candidates=candidates,
                            relative_to=relative_to)
        w = result.coef
        older_corr = corr
        corr = result.full_corr
        if corr is None:
            corr = -gradient_at(design, w)
        previous_l1 = l1
        coefs[:, k] = w
        gaps[k] = result.gap
        iters[k] = result.n_iter
        k += 1
    if fast is not None and warn:  # solve_enet warned for the alphas solved in Python
        for k in np.flatnonzero(gaps > fast.tol_abs):
            _finish(EnetResult(coefs[:, k], np.nan, gaps[k], fast.tol_abs[k], iters[k]),
                    relative_to, tol, warn)
    return PathResult(alphas, coefs, gaps, iters)
