"""Working-set coordinate descent for least squares with an elastic-net-family penalty.

Stopping rule (the only one): the duality gap of :mod:`shrinkage._kernels.gap` falls to

    gap <= tol * ||yc||^2 / (2n),

i.e. ``tol`` is relative to the objective at ``w = 0`` (scikit-learn's rule up to its factor of 2n).
``tol`` of 1e-4 certifies the objective to four significant digits of its initial value.

On a regularization path (:func:`shrinkage.solvers.path.solve_path`, and through it ``lasso_path``,
``enet_path`` and the CV estimators) each alpha is certified relative to its own objective instead:

    gap <= max(tol * min(P_alpha(w_start), ||yc||^2 / (2n)), min(tol, 1e-12) * ||yc||^2 / (2n)),

``w_start`` being that alpha's warm start (``relative_to="start"``). The rule is never looser than
a single fit's (the minimum matters on a grid that is not decreasing), and never tighter than
``1e-12`` of the null objective unless ``tol`` itself is (``GAP_FLOOR``): the gap is a difference
of terms of the size of the null objective and cannot certify much below 1e-15 of it. Since
``P_alpha(w_start) >= P_alpha(w*)``, ``tol`` then bounds every alpha's relative suboptimality, up
to the factor ``P_alpha(w_start) / P_alpha(w*)``, which warm starts keep near 1. With the null
objective as the scale, the small alphas, whose objectives are ~1e-3 of it, would need a tolerance
1000 times tighter, which the large alphas would then pay for.

Working sets (as celer and skglm): one pass over all features gives the full gap and each
feature's KKT violation; the subproblem on the nonzero features, the unpenalized ones and the worst
violators, twice the support in all, is solved by the coordinate-descent kernel to a fraction of
the current gap (to the final tolerance once every violator is in). Features that satisfy their
KKT condition are never touched, which is where the time goes on large problems; Gap Safe
screening removes, for good, the features the current gap proves zero, so later rounds' full-width
passes shrink too.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._kernels.cd_dense import (
    enet_cd_dense,
    enet_gap_dense,
    residual_dense,
)
from .._kernels.cd_gram import enet_cd_gram, enet_gap_gram
from .._kernels.cd_sparse import (
    enet_cd_sparse,
    enet_gap_sparse,
    residual_sparse,
)
from .._kernels.prox import subdiff_distance
from .._kernels.screening import gap_safe_keep
from . import homotopy

# Anderson extrapolation every this many active-set sweeps (0 disables it).
ANDERSON_K = 5
# Working-set size when the support is small, otherwise twice the support (300: measured on
# benchmarks/bench_lasso.py, where 10 to 1000 were tried; docs/benchmarks.md).
FIRST_WS_SIZE = 300
# The subproblem is solved to this fraction of the current full gap (0.1: fewer rounds, each of
# which ends with a full-width gap; 0.3, 0.1 and 0.03 measured in docs/benchmarks.md).
INNER_GAP_FRACTION = 0.1
# X'X (n p^2 multiply-adds by BLAS, ~16 GFMA/s single-threaded here) costs as much as about
# p^2 / 12 coordinate updates (2n multiply-adds each at ~2.6 GFMA/s): the budget of a "switch" fit
# (see use_gram) before it forms the Gram matrix.
GRAM_COST_IN_UPDATES = 12
# Relative to the null objective, the smallest gap a path certifies per alpha before falling back to
# the single fit's rule: the gap is a difference of terms of the size of the null objective, so
# it cannot go much below 1e-15 of it, whatever that alpha's own objective.
GAP_FLOOR = 1e-12


@dataclass(frozen=True)
class EnetResult:
    coef: np.ndarray
    primal: float
    gap: float
    tol_abs: float
    n_iter: int
    full_corr: np.ndarray | None = None  # X' r / n at coef over every feature, when computed

    @property
    def converged(self):
        return self.gap <= self.tol_abs


def use_gram(design, precompute, path=False):
    """Covariance mode: True, False, or ``"switch"``.

    Asked for, or ``"auto"`` on a dense design with p <= 3000 and n >= 10 p (a single fit) or
    n >= p (a path), where one BLAS product X'X (n p^2) is cheaper than the O(n) cost of every
    coordinate update: a single fit needs the design tall to recoup it, a path pays for it once
    for all its alphas (measured on 400-4000 x 200-1000 designs, docs/benchmarks.md). A single fit
    on a design in between (p <= n < 10 p) gets ``"switch"``: it starts without the Gram matrix
    and forms it once its passes have cost as much as X'X would (ski rental: a fit that needs
    few passes never pays for X'X, one that needs many pays at most about twice the better
    choice).
    """
    if precompute == "auto":
        n, p = design.n_samples, design.n_features
        if design.is_sparse or p > 3000:
            return False
        if n >= (p if path else 10 * p):
            return True
        return "switch" if n >= p else False
    return bool(precompute)


def _kernels_for(design, gram):
    """The :class:`_Kernels` of ``design``, made once per design and mode (a path or a CV fold
    calls the solver once per alpha)."""
    cache = design.__dict__.setdefault("_solver_kernels", {})
    if gram not in cache:
        cache[gram] = _Kernels(design, gram)
    return cache[gram]


class _Kernels:
    """The layout-specific kernels bound to one design: one place that knows dense, CSC and Gram."""

    def __init__(self, design, gram=False):
        self.design = design
        # "switch": coordinate updates left before forming the Gram matrix (see use_gram)
        self.updates_before_gram = (int(design.n_features ** 2 / GRAM_COST_IN_UPDATES)
                                    if gram == "switch" else None)
        self.gram = None
        self.sq_norms = None
        if gram is True:
            self._to_gram()
        else:
            self.sq_norms = design.column_sq_norms  # cached on the design: once per path
            self._set_norms()
        # sparse: (w, q, r) with q = y - D X w and r the centred residual, exact at that w. A
        # rebuild costs a pass over the support's nonzeros, and consecutive calls (a gap after a
        # solve, a solve after a gap) usually share their w. One tuple, replaced whole, so a
        # reader never pairs one w with another's residual.
        self._residual = None

    def _to_gram(self):
        self.gram = self.design.gram
        self.sq_norms = np.diag(self.gram[0]).copy()
        self.updates_before_gram = None
        self._set_norms()

    def _set_norms(self):
        self.lipschitz = self.sq_norms / self.design.n_samples
        self.col_norms = np.sqrt(self.sq_norms)

    def _sparse_residual(self, w):
        """``(q, r)`` at ``w``: the cached pair when ``w`` is the same, else computed."""
        cached = self._residual
        if cached is not None and np.array_equal(cached[0], w):
            return cached[1], cached[2]
        d = self.design
        X = d.X
        r, q, _ = residual_sparse(X.data, X.indices, X.indptr, d.y, w, d.x_offset, d.sqrt_sw)
        self._residual = (w.copy(), q, r)
        return q, r

    def gap(self, w, l1, l2, positive, features):
        # residuals from the kernels: float64 accumulation even for float32 designs
        d = self.design
        if self.gram is not None:
            G, b, y_sq = self.gram
            return enet_gap_gram(G, b, y_sq, d.n_samples, w, l1, l2, positive, features)
        if d.is_sparse:
            X = d.X
            r = self._sparse_residual(w)[1]
            return enet_gap_sparse(X.data, X.indices, X.indptr, d.y, w, r, d.x_offset, d.sqrt_sw,
                                   l1, l2, positive, features, self.lipschitz)
        r = residual_dense(d.X, d.y, w)
        return enet_gap_dense(d.X, d.y, w, r, l1, l2, positive, features, self.lipschitz)

    def solve(self, w, l1, l2, positive, features, max_epochs, tol_abs):
        d = self.design
        if self.gram is not None:
            G, b, y_sq = self.gram
            return enet_cd_gram(G, b, y_sq, d.n_samples, w, l1, l2, positive, features,
                                max_epochs, tol_abs, ANDERSON_K)
        if d.is_sparse:
            X = d.X
            q = self._sparse_residual(w)[0].copy()
            out = enet_cd_sparse(X.data, X.indices, X.indptr, d.y, d.x_offset, d.sqrt_sw, w, q,
                                 self.lipschitz, l1, l2, positive, features, max_epochs, tol_abs,
                                 ANDERSON_K)
            self._residual = (w.copy(), q, q + (d.x_offset @ w) * d.sqrt_sw)
            return out
        budget = self.updates_before_gram
        if budget is None:
            return enet_cd_dense(d.X, d.y, w, self.lipschitz, l1, l2, positive, features,
                                 max_epochs, tol_abs, ANDERSON_K)
        start = np.count_nonzero(w)
        primal, gap, epochs = enet_cd_dense(d.X, d.y, w, self.lipschitz, l1, l2, positive,
                                            features, max_epochs, tol_abs, ANDERSON_K, budget)
        if gap <= tol_abs or epochs >= max_epochs:
            # an estimate of the updates made: one full sweep, the rest over the support
            self.updates_before_gram = max(
                budget - features.size - (epochs - 1) * max(start, np.count_nonzero(w)), 0)
            return primal, gap, epochs
        self._to_gram()  # not done after as many updates as X'X costs: go on in Gram mode
        primal, gap, more = self.solve(w, l1, l2, positive, features, max_epochs - epochs,
                                       tol_abs)
        return primal, gap, epochs + more


def solve_enet(design, l1, l2, positive=False, coef_init=None, max_iter=1000, tol=1e-4,
               warn=True, working_set=True, precompute="auto", screening=True, candidates=None,
               relative_to="null"):
    """Minimise ``(1/2n) ||yc - Xc w||^2 + sum_j (l1_j |w_j| + l2_j w_j^2 / 2)`` [``w >= 0``].

    Parameters
    ----------
    design : Design
        With a 1-d ``y`` (one target).
    l1, l2 : ndarray of shape (n_features,)
        Lowered penalty (see :meth:`shrinkage.penalties.Penalty.lower`).
    positive : bool
    coef_init : ndarray, optional
        Warm start (copied).
    max_iter : int
        Maximum number of coordinate-descent passes (over a working set or its active part).
    tol : float
        Relative duality-gap tolerance, see the module docstring.
    relative_to : {"null", "start"}
        What ``tol`` is relative to: the null objective, or the objective at ``coef_init``
        (paths); see the module docstring.
    warn : bool
        Issue a ConvergenceWarning with the achieved gap when it stays above the tolerance.
    working_set : bool
        Solve growing subproblems (default) or sweep every feature every time.
    precompute : {"auto", True, False}
        Covariance (Gram) mode, see :func:`use_gram`; the Gram matrix is cached on the design.
    screening : bool
        Gap Safe screening between working-set rounds (see :func:`_gap_safe_screen`).
    candidates : ndarray of int, optional
        Features believed to contain the support (a path's strong rule). The problem is first
        solved on them (plus the current support and the unpenalized features), then the gap over
        every feature is checked; when it is above the tolerance the solve goes on with all
        features. The certificate is always the full problem's.
    """
    p = design.n_features
    relative_to_start = relative_to == "start"
    w = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64, copy=True)
    if positive:
        np.maximum(w, 0.0, out=w)
    positive = bool(positive)
    l1 = np.ascontiguousarray(l1, dtype=np.float64)
    l2 = np.ascontiguousarray(l2, dtype=np.float64)
    tol_abs = tol * design.null_objective()
    small = (working_set and candidates is None and not relative_to_start
             and homotopy.is_small(design))
    if small and homotopy.prefer_homotopy():
        # solved exactly, without numba (see shrinkage.solvers.homotopy)
        exact = homotopy.timed_homotopy(design, l1, l2, positive, int(max_iter))
        if exact is not None:
            w, primal, gap, n_iter = exact
            if gap <= tol_abs or n_iter >= max_iter:
                return _finish(EnetResult(w, primal, gap, tol_abs, n_iter), relative_to, tol, warn)
            coef_init = w  # rounding left a gap above tol: coordinate descent finishes
    kernels = _kernels_for(design, use_gram(design, precompute))
    all_features = np.arange(p)
    if not working_set:
        if relative_to_start:  # the warm start's objective, the gap's first output
            start = kernels.gap(w, l1, l2, positive, all_features[:0])[0]
            tol_abs = _tol_at_start(tol, start, design.null_objective())
        primal, gap, n_iter = kernels.solve(w, l1, l2, positive, all_features, int(max_iter),
                                            float(tol_abs))
        return _finish(EnetResult(w, primal, gap, tol_abs, n_iter), relative_to, tol, warn)

    always = np.flatnonzero((l1 == 0) & (l2 == 0) & (kernels.lipschitz > 0))  # unpenalized
    alive = all_features  # features not yet screened out
    restricted = candidates is not None
    if restricted:
        keep = w != 0
        keep[candidates] = True
        keep[always] = True
        alive = np.flatnonzero(keep)
    n_iter = 0
    primal, gap, corr, feasible = kernels.gap(w, l1, l2, positive, alive)
    if relative_to_start:
        tol_abs = _tol_at_start(tol, primal, design.null_objective())
    while True:
        primal, gap, n_iter, alive, corr, feasible = _working_set_rounds(
            kernels, w, l1, l2, positive, alive, always, primal, gap, corr, feasible, tol_abs,
            max_iter, n_iter, screening, cold=coef_init is None,
            widen_to=all_features if restricted else None)
        coef_init = w
        if not restricted:
            break
        # the candidates came from a heuristic: certify on every feature (done already when the
        # solve ended with a final round, see _working_set_rounds), also when out of passes
        restricted = False
        if alive.size < p:
            alive = all_features
            primal, gap, corr, feasible = kernels.gap(w, l1, l2, positive, alive)
        if gap <= tol_abs or n_iter >= max_iter:
            break
    full_corr = corr if alive.size == p else None
    if small and gap <= tol_abs:  # the exact minimiser, as the homotopy gives it
        exact = homotopy.exact_on_support(design, w, l1, l2, positive)
        if exact is not None and exact[2] <= max(gap, tol_abs):
            w, primal, gap = exact
            full_corr = None
    elif small:  # coordinate descent stalled (p > n at a tiny alpha, say): the homotopy is exact
        exact = homotopy.solve_enet_homotopy(design, l1, l2, positive, int(max_iter))
        if exact is not None and exact[2] < gap:
            w, primal, gap, events = exact
            n_iter += events
            full_corr = None
    return _finish(EnetResult(w, primal, gap, tol_abs, n_iter, full_corr), relative_to, tol, warn)


def _tol_at_start(tol, start, null):
    """The path's absolute tolerance (see the module docstring)."""
    return max(tol * min(start, null), min(tol, GAP_FLOOR) * null)


def _working_set_rounds(kernels, w, l1, l2, positive, alive, always, primal, gap, corr, feasible,
                        tol_abs, max_iter, n_iter, screening, cold, widen_to=None):
    """Working-set rounds on ``alive`` until its gap meets ``tol_abs``; updates ``w`` in place.

    With ``widen_to`` (the full feature set of a solve restricted to a strong set), the working
    set is the whole strong set when it fits, and a round that solved the subproblem to the end
    is followed by the gap on ``widen_to`` rather than on ``alive``, and the rounds stop there:
    the restricted gap is at most the full one, so checking it first would only cost a pass.
    """
    p = w.shape[0]
    all_features = np.arange(p)
    col_norms = kernels.col_norms
    n_samples = kernels.design.n_samples
    # A warm start that is already certified costs one gap evaluation. A cold start always runs
    # the kernel once: just below alpha_max, w = 0 meets a loose gap, but a sweep moves the
    # leading feature, as users (and scikit-learn) expect.
    while cold or gap > tol_abs:
        cold = False
        if screening:
            alive, corr = _gap_safe_screen(alive, corr, feasible, gap, w, l1, l2, positive,
                                           col_norms, n_samples)
        # KKT violation of each feature: distance of -grad to the subdifferential at w_j
        scores = subdiff_distance(w[alive], -corr, l1[alive], l2[alive], positive)
        scores[w[alive] != 0] = np.inf  # keep the support
        if always.size:
            scores[np.isin(alive, always)] = np.inf
        # skglm's size rule: twice the support, so a settled support costs little per round
        ws_size = max(FIRST_WS_SIZE, 2 * np.count_nonzero(w))
        n_candidates = np.count_nonzero(scores > 0)
        final = ws_size >= n_candidates or (widen_to is not None and alive.size <= ws_size)
        if widen_to is not None and alive.size <= ws_size:
            # a path's strong set: every feature of it, violating yet or not, is swept from the
            # start (glmnet's schedule); the features about to enter then do so in this solve
            # rather than after a full-width check and a restart
            features = alive
            inner_tol = 0.5 * tol_abs
        elif final:
            features = alive[scores > 0]
            # every violator is in: solve to the end, not to a fraction of the current gap
            inner_tol = 0.5 * tol_abs
        else:
            features = np.sort(alive[np.argpartition(-scores, ws_size - 1)[:ws_size]])
            inner_tol = max(INNER_GAP_FRACTION * gap, 0.5 * tol_abs)
        if features.size == 0:  # w = 0 satisfies every KKT condition exactly (or was screened)
            features = all_features[kernels.lipschitz > 0][:1]
            if features.size == 0:
                break
        _, _, epochs = kernels.solve(w, l1, l2, positive, features, int(max_iter - n_iter),
                                     float(inner_tol))
        n_iter += epochs
        widen = widen_to is not None and final
        if widen:
            alive = widen_to
        primal, gap, corr, feasible = kernels.gap(w, l1, l2, positive, alive)
        if widen or n_iter >= max_iter:
            break
    return primal, gap, n_iter, alive, corr, feasible


def _gap_safe_screen(alive, corr, feasible, gap, w, l1, l2, positive, col_norms, n_samples):
    """Drop the features Gap Safe screening proves zero at the optimum (Fercoq et al., 2015).

    The dual objective is n-strongly concave, so the optimal dual point lies within
    ``sqrt(2 gap / n)`` of the feasible one; a pure-L1 feature with
    ``|X_j' theta| + ||X_j|| sqrt(2 gap / n) < l1_j`` has ``w_j = 0`` at every solution. The
    problem restricted to the survivors has the same optimum, so its gap certifies the original.
    Only features at zero with no L2 part are screened.
    """
    radius = np.sqrt(2.0 * max(gap, 0.0) / n_samples)
    keep = gap_safe_keep(alive, feasible, radius, w, l1, l2, col_norms, positive)
    if keep.all():
        return alive, corr
    return alive[keep], corr[keep]


def _finish(result, relative_to, tol, warn):
    if warn and not result.converged:
        warnings.warn(
            f"Coordinate descent did not converge in {result.n_iter} iterations: duality gap "
            f"{result.gap:.3e} > tolerance {result.tol_abs:.3e} (tol={tol:g} times the "
            f"{'objective at the warm start' if relative_to == 'start' else 'null objective'}). "
            "Increase max_iter, loosen tol, or scale the features.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return result


def enet_gap(design, coef, l1, l2, positive=False):
    """``(primal, gap)`` at ``coef`` for one target: the certificate any solver can report."""
    w = np.ascontiguousarray(coef, dtype=np.float64)
    l1 = np.ascontiguousarray(l1, dtype=np.float64)
    l2 = np.ascontiguousarray(l2, dtype=np.float64)
    if homotopy.is_small(design):  # no numba needed (see shrinkage.solvers.homotopy)
        return homotopy.gram_gap(*homotopy.scaled_gram(design), w, l1, l2, bool(positive))
    primal, gap, _, _ = _kernels_for(design, False).gap(w, l1, l2, bool(positive), np.arange(w.shape[0]))
    return primal, gap
