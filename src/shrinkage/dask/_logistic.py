"""Binary logistic regression (L1 / L2 / elastic net) on dask input: proximal Newton with the
Newton models on the client and the per-sample work on the cluster.

The algorithm is :func:`shrinkage.solvers.prox_newton.solve_prox_newton`'s, with its per-sample
work split into two fused passes per outer iteration:

1. at ``(w, b)``: the objective, the full gradient ``X'(c g)``, the three correlations that build
   the balanced dual point (``X'theta``, ``X'theta+``, ``X'theta-`` with ``theta = -c g``), and the
   quadratic model of the datafit on the working set as weighted centred Gram statistics
   (weights ``s h``, working response ``z - g / h``; merged with Chan's update). The client solves
   the model with the single-machine ``solve_enet(..., precompute=True)`` on a GramDesign.
2. along the Newton step: the objective at every backtracking step ``2^-m`` (the client takes the
   first that meets Armijo's rule), and the dual objective at the point of pass 1 (its conjugates
   are per-sample): the certified duality gap of ``(w, b)``. When it meets the tolerance, ``(w, b)``
   is returned.

Two passes before the loop give the classes, the intercept-only fit (closed form:
``b0 = logit(ybar)``) and the gradient at ``(0, b0)``.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import logit

from .._kernels.prox import subdiff_distance
from ..datafits import Logistic
from ..solvers import solve_enet
from ..solvers.gram_design import GramDesign, block_stats, merge_stats
from ..solvers.prox_newton import ARMIJO, FIRST_WS_SIZE, H_FLOOR, penalty_conjugate, penalty_value
from ._blocks import _as_float, _tree, compute, require_dask

N_STEPS = 30  # backtracking steps 2^0 ... 2^-29 evaluated in one pass


def _read(partition, X, y, s, columns):
    X = _as_float(X, "X", partition, columns)
    y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y).ravel()
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"partition {partition}: X has {X.shape[0]} rows but y has {y.shape[0]}")
    if s is not None:
        s = _as_float(s, "sample_weight", partition, None).ravel()
        if np.any(s < 0):
            raise ValueError(f"sample_weight must be non-negative (partition {partition})")
    return X, y, s


def _labels_task(partition, X, y, s, columns):
    X, y, s = _read(partition, X, y, s, columns)
    labels, inverse = np.unique(y, return_inverse=True)
    weights = np.bincount(inverse, weights=s, minlength=labels.size)
    return dict(zip(labels.tolist(), weights.tolist(), strict=True)), X.shape[0]


def _encode(y, positive_label):
    return (y == positive_label).astype(np.float64)


@dataclass(frozen=True)
class _Newton:
    loss: float
    g_sum: float
    grad: np.ndarray        # X' (c g)
    theta_parts: np.ndarray  # (sum theta+, sum theta-)
    x_parts: np.ndarray      # (p, 2): X' theta+, X' theta-
    model: object            # GramStats of the working set's quadratic model

    def __add__(self, o):
        return _Newton(self.loss + o.loss, self.g_sum + o.g_sum, self.grad + o.grad,
                       self.theta_parts + o.theta_parts, self.x_parts + o.x_parts,
                       merge_stats(self.model, o.model))


def _newton_task(partition, X, y, s, positive_label, c_scale, w, b, ws, centre, columns):
    X, y, s = _read(partition, X, y, s, columns)
    y = _encode(y, positive_label)
    c = (np.ones(X.shape[0]) if s is None else s) * c_scale  # c_i = s_i / n, s summing to n
    z = X @ w + b
    datafit = Logistic()
    g = datafit.raw_gradient(y, z)
    h = np.maximum(datafit.raw_hessian(y, z), H_FLOOR * 0.25)  # h <= 1/4: the floor of cd
    theta = -c * g
    pos, neg = np.where(theta > 0, theta, 0.0), np.where(theta < 0, theta, 0.0)
    # the model's weights only matter up to a constant factor (GramDesign renormalises them)
    model = block_stats(X[:, ws], z - g / h, c * h, centre)
    return _Newton(float(c @ datafit.loss(y, z)), float(c @ g), X.T @ (c * g),
                   np.array([pos.sum(), neg.sum()]), X.T @ np.column_stack([pos, neg]), model)


def _step_task(partition, X, y, s, positive_label, c_scale, w, b, dw, db, shrink, kappa, sign,
               columns):
    X, y, s = _read(partition, X, y, s, columns)
    y = _encode(y, positive_label)
    c = (np.ones(X.shape[0]) if s is None else s) * c_scale
    datafit = Logistic()
    z = X @ w + b
    dz = X @ dw + db
    steps = 0.5 ** np.arange(N_STEPS)
    losses = np.array([c @ datafit.loss(y, z + t * dz) for t in steps])
    theta = -c * datafit.raw_gradient(y, z)
    part = np.where(sign * theta > 0, theta, 0.0)
    dual = datafit.dual_loss(y, kappa * (theta - shrink * part), c)
    return np.append(losses, dual)


def _leaves(dask, blocks, task, *args):
    return [dask.delayed(task, pure=True)(i, x, y, None if blocks.s is None else blocks.s[i],
                                          *args, blocks.columns)
            for i, (x, y) in enumerate(zip(blocks.x, blocks.y, strict=True))]


def fit_logistic(estimator, X, y, sample_weight=None, client=None):
    """``LogisticRegression.fit`` on dask input (two classes)."""
    from ..linear_model._logistic import make_penalty
    from ._blocks import Blocks

    dask = require_dask()
    estimator._validate_params()
    if estimator.penalize_intercept:
        raise NotImplementedError("penalize_intercept=True is not supported on dask input")
    blocks = Blocks(X, y, sample_weight)
    p = blocks.n_features
    # pass 0: classes, counts, weighted label totals
    counts = compute(client, *_leaves(dask, blocks, _labels_task))
    totals, n = {}, 0
    for per_label, rows in counts:
        n += rows
        for label, weight in per_label.items():
            totals[label] = totals.get(label, 0.0) + weight
    classes = np.array(sorted(totals))
    if classes.size != 2:
        raise NotImplementedError(
            f"{classes.size} classes: multinomial logistic regression is not supported on dask "
            "input yet (two classes are); fit it in memory, or one binary model per class on "
            "dask; its predictions on dask input work")
    weight_total = sum(totals.values())
    if not weight_total > 0:
        raise ValueError("sample_weight must have a positive sum")
    c_scale = 1.0 / weight_total  # c_i = s_i / sum(s): weights normalised to n, divided by n
    n_obs = n if sample_weight is None else weight_total
    alpha = estimator._alpha(n_obs)
    penalty = make_penalty(estimator.penalty, alpha, estimator.l1_ratio)
    l1, l2 = penalty.lower(p)
    if np.any((l1 == 0) & (l2 == 0)):
        raise NotImplementedError("unpenalized logistic regression is not supported on dask "
                                  "input (its certificate is a KKT rule, not a gap)")
    positive = penalty.positive
    datafit = Logistic()
    ybar = totals[classes[1]] / weight_total
    fit_intercept = estimator.fit_intercept
    b = float(logit(ybar)) if fit_intercept else 0.0
    null = float(datafit.loss(np.array([1.0, 0.0]), np.full(2, b)) @ np.array([ybar, 1 - ybar]))
    tol_abs = estimator.tol * null
    w = np.zeros(p)
    passes, n_iter = 1, 0
    ws = np.empty(0, dtype=np.intp)
    grad = None
    gap = np.inf
    while True:
        if grad is not None:
            violation = subdiff_distance(w, grad, l1, l2, positive)
            violation[ws] = -1.0
            grow = max(FIRST_WS_SIZE, 2 * np.count_nonzero(w))
            outside = np.flatnonzero(violation > 0)
            ws = np.union1d(ws, outside[np.argsort(-violation[outside])[:grow]]).astype(np.intp)
        args = [dask.delayed(a) for a in (w, ws)]
        result = compute(client, _tree(dask, _leaves(dask, blocks, _newton_task, classes[1],
                                                     c_scale, args[0], b, args[1],
                                                     fit_intercept), _add))[0]
        passes += 1
        grad = result.grad
        primal = result.loss + penalty_value(w, l1, l2)
        if ws.size == 0:  # the first pass only measured the violations at (0, b0)
            continue
        # the balanced dual point (solve_prox_newton's duality_gap)
        total = float(np.sum(result.theta_parts))
        shrink, sign, corr = 0.0, 1.0, -grad
        if fit_intercept and total != 0.0:
            k = 0 if total > 0 else 1
            sign = 1.0 if total > 0 else -1.0
            shrink = total / result.theta_parts[k]
            corr = -grad - shrink * result.x_parts[:, k]
        drive = corr if positive else np.abs(corr)
        pure_l1 = (l2 == 0) & (l1 > 0)
        kappa = 1.0
        if np.any(pure_l1):
            worst = float(np.max(drive[pure_l1] / l1[pure_l1]))
            if worst > 1.0:
                kappa = 1.0 / worst
        # the Newton model on ws: weighted least squares, solved by the Gram-mode solver
        design = GramDesign(result.model, fit_intercept)
        scale = result.model.weight  # sum_i c_i h_i: the model is scale x (GramDesign's)
        model = solve_enet(design, l1[ws] / scale, l2[ws] / scale, positive, coef_init=w[ws],
                           max_iter=10000, tol=1e-14, warn=False, precompute=True)
        n_iter += 1
        dw = np.zeros(p)
        dw[ws] = model.coef - w[ws]
        db = (float(design.intercept(model.coef)) - b) if fit_intercept else 0.0
        out = compute(client, _tree(dask, _leaves(dask, blocks, _step_task, classes[1], c_scale,
                                                  dask.delayed(w), b, dask.delayed(dw), db,
                                                  shrink, kappa, sign), _add))[0]
        passes += 1
        dual = -out[-1] - penalty_conjugate(kappa * corr, l1, l2, positive)
        gap = primal - dual
        if gap <= tol_abs or n_iter >= estimator.max_iter:
            break
        decrease = float(grad @ dw + result.g_sum * db) + penalty_value(model.coef, l1[ws],
                                                                         l2[ws]) - penalty_value(
            w[ws], l1[ws], l2[ws])
        for m in range(N_STEPS):
            t = 0.5**m
            value = out[m] + penalty_value(w + t * dw, l1, l2)
            if value <= primal + ARMIJO * t * decrease + 1e-15 * abs(primal):
                w, b = w + t * dw, b + t * db
                break
        else:
            break  # no decrease along the step: (w, b) is as good as float64 allows
    estimator.classes_ = classes
    estimator.alpha_ = alpha
    estimator.coef_ = w[None, :]
    estimator.intercept_ = np.array([b if fit_intercept else 0.0])
    estimator.dual_gap_ = float(gap)
    estimator.n_iter_ = np.array([n_iter])
    estimator.penalty_ = penalty
    estimator.n_passes_ = passes
    estimator.n_features_in_ = p
    if blocks.columns is not None and blocks.string_columns:
        estimator.feature_names_in_ = np.asarray(blocks.columns, dtype=object)
    return estimator


def _add(a, b):
    return a + b

