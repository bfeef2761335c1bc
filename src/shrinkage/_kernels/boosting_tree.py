"""Histogram gradient-boosted trees: gradients, histograms, split search, growth, prediction.

One leaf solves a one-dimensional elastic net. With ``G`` and ``H`` the sums of the gradients and
hessians of its rows::

    w* = argmin_w  G w + (H + lambda) w^2 / 2 + alpha |w|
       = prox_enet_1d(-G / H, 1 / H, alpha, lambda)        (a prox step 1/H from the Newton point)
       = -S(G, alpha) / (H + lambda)                         S = soft_threshold

and twice the objective decrease it buys is the node "score" ``S(G, alpha)^2 / (H + lambda)``.
With ``max_delta_step = d > 0`` the weight is clipped to ``[-d, d]`` and, as XGBoost's code does,
the score becomes ``-(2 G w + (H + lambda) w^2)`` at the clipped ``w`` (no ``alpha |w|`` term).
A split is worth ``score(left) + score(right) - score(parent)``: XGBoost's "loss_chg", which it
compares with ``gamma`` as is (not halved, unlike the formula in its documentation).

Gradients and hessians are float32 numbers (XGBoost's precision) times float32-rounded sample
weights, the products formed exactly in float64, so an integer weight k is k copies of a row.
Candidate splits whose gains agree to a relative 1e-10 are ties, kept in the order of the scan
(lowest feature, then lowest bin) as XGBoost's exact float32-sum ties are: two features that cut
a node into the same two sets of rows tie whatever the order of the summation.

``arithmetic="xgboost"`` (the ``xgb`` flag of the kernels below) replaces that exact arithmetic
by XGBoost 3.2's own, operation by operation (``*_xgb`` functions): gains and weights rounded to
float32 where XGBoost's hist evaluator rounds them, float32 margins and gradients, the node sums
of XGBoost's scans and its comparisons (no tie tolerance, ``loss_chg > 1e-6f``). That reproduces
even the splits XGBoost makes on the rounding noise of a gain that is exactly 0 in real
arithmetic. See docs/boosting.md, "Numerics".

Binned data: ``binned[i, j]`` in ``0 .. n_bins[j] - 1``; ``missing_bin`` (one index shared by all
features, past the largest ``n_bins``) holds NaN. A split ``(j, b)`` sends ``bin <= b`` left and
the missing bin to the side learned for the node.
"""

import math

import numpy as np

from ._jit import njit
from .prox import prox_enet_1d, soft_threshold

# XGBoost's kRtEps: a split must gain more than this
SPLIT_EPS = 1e-6
# gains within this relative distance of the best are ties (kept: lowest feature, then bin);
# equal partitions reached through different features then tie whatever the summation order
TIE_RTOL = 1e-10
# hessian floor of the logistic and softmax losses (XGBoost's eps)
HESS_FLOOR = 1e-16
# the same three as XGBoost's float32 constants (arithmetic="xgboost")
SPLIT_EPS_F32 = float(np.float32(1e-6))
HESS_FLOOR_F32 = float(np.float32(1e-16))
FLT_MIN = float(np.finfo(np.float32).tiny)  # XGBoost's softmax starts its max at FLT_MIN


# ---------------------------------------------------------------- leaf weight and node score
@njit(cache=True, inline="always")
def leaf_weight(G, H, reg_alpha, reg_lambda, max_delta_step, min_child_weight):
    """``argmin_w G w + (H + lambda) w^2 / 2 + alpha |w|``, clipped to ``max_delta_step``.

    Zero when ``H < min_child_weight`` or ``H <= 0`` (XGBoost's rule)."""
    if H < min_child_weight or H <= 0.0:
        return 0.0
    w = prox_enet_1d(-G / H, 1.0 / H, reg_alpha, reg_lambda, False)
    if max_delta_step != 0.0:
        if w > max_delta_step:
            w = max_delta_step
        elif w < -max_delta_step:
            w = -max_delta_step
    return w


@njit(cache=True, inline="always")
def node_score(G, H, reg_alpha, reg_lambda, max_delta_step, min_child_weight):
    """``-2 min_w (G w + (H + lambda) w^2 / 2 + alpha |w|) = S(G, alpha)^2 / (H + lambda)``.

    With ``max_delta_step`` it is XGBoost's ``-(2 G w + (H + lambda) w^2)`` at the clipped weight.
    """
    if H <= 0.0:
        return 0.0
    if max_delta_step == 0.0:
        t = soft_threshold(G, reg_alpha)
        return t * t / (H + reg_lambda)
    w = leaf_weight(G, H, reg_alpha, reg_lambda, max_delta_step, min_child_weight)
    return -(2.0 * G * w + (H + reg_lambda) * w * w)


@njit(cache=True, inline="always")
def split_gain(parent_score, gl, hl, gr, hr, reg_alpha, reg_lambda, max_delta_step,
               min_child_weight):
    """``score(L) + score(R) - score(parent)`` (float64: a split whose children get the same
    weight, say both clipped, gains 0 up to 1e-14, below the 1e-6 threshold; XGBoost, in
    float32, sometimes splits on that noise)."""
    return (node_score(gl, hl, reg_alpha, reg_lambda, max_delta_step, min_child_weight)
            + node_score(gr, hr, reg_alpha, reg_lambda, max_delta_step, min_child_weight)
            - parent_score)


@njit(cache=True, inline="always")
def _f32(v):
    """Round to float32, back in float64. One float64 operation on float32 operands followed by
    this rounding is the float32 operation itself (53 >= 2 * 24 + 2 bits: double rounding is
    innocuous), so the ``*_xgb`` functions below are XGBoost's float32 arithmetic exactly."""
    return np.float64(np.float32(v))


# ---------------------------------------------------------------- XGBoost's float32 arithmetic
# arithmetic="xgboost": the same weight and score, evaluated as XGBoost 3.2's hist updater does
# (src/tree/param.h CalcWeight, src/tree/split_evaluator.h CalcSplitGain / CalcGainGivenWeight,
# src/tree/hist/evaluate_splits.h). Node sums G, H are float64 (GradStats); the parameters are
# float32 numbers (TrainParam stores floats; the caller passes them rounded).
@njit(cache=True, inline="always")
def leaf_weight_xgb(G, H, reg_alpha, reg_lambda, max_delta_step, min_child_weight):
    """XGBoost's CalcWeight: ``-S(G, alpha) / (H + lambda)`` in float64 (the closed form of the
    prox, with the library's soft_threshold), clipped, then rounded to float32."""
    if H < min_child_weight or H <= 0.0:
        return 0.0
    w = -soft_threshold(G, reg_alpha) / (H + reg_lambda)
    if max_delta_step != 0.0 and abs(w) > max_delta_step:
        w = max_delta_step if w > 0.0 else -max_delta_step
    return _f32(w)


@njit(cache=True, inline="always")
def node_score_xgb(G, H, reg_alpha, reg_lambda, max_delta_step, min_child_weight):
    """XGBoost's CalcGainGivenWeight, a float32 number: ``f32(S(G, alpha)^2) / f32(H + lambda)``
    in float32 without clipping; with it, ``-(2 G w + (H + lambda) w^2)`` with every operand and
    operation in float32 (``w`` the float32 weight)."""
    if H <= 0.0:
        return 0.0
    if max_delta_step == 0.0:
        t = soft_threshold(G, reg_alpha)
        return _f32(_f32(t * t) / _f32(H + reg_lambda))
    w = leaf_weight_xgb(G, H, reg_alpha, reg_lambda, max_delta_step, min_child_weight)
    g = _f32(G)
    hl = _f32(_f32(H) + reg_lambda)
    return -_f32(_f32(_f32(2.0 * g) * w) + _f32(hl * _f32(w * w)))


@njit(cache=True, inline="always")
def split_gain_xgb(parent_score, gl, hl, gr, hr, reg_alpha, reg_lambda, max_delta_step,
                   min_child_weight):
    """XGBoost's loss_chg: ``f32(f32(score(L) + score(R)) - score(parent))``, all float32."""
    s = _f32(node_score_xgb(gl, hl, reg_alpha, reg_lambda, max_delta_step, min_child_weight)
             + node_score_xgb(gr, hr, reg_alpha, reg_lambda, max_delta_step, min_child_weight))
    return _f32(s - parent_score)


# ---------------------------------------------------------------- gradients
@njit(cache=True)
def gradients_squared(margin, y, weight, g, h):
    """``g = s (F - y)``, ``h = s`` for ``(1/2) s (y - F)^2``."""
    for i in range(margin.shape[0]):
        g[i] = weight[i] * _f32(margin[i] - y[i])
        h[i] = weight[i]


@njit(cache=True)
def gradients_logistic(margin, y, weight, g, h):
    """``g = s (p - y)``, ``h = s max(p (1 - p), 1e-16)``, ``p = sigmoid(F)``."""
    for i in range(margin.shape[0]):
        p = 1.0 / (1.0 + np.exp(-margin[i]))
        g[i] = weight[i] * _f32(p - y[i])
        h[i] = weight[i] * _f32(max(p * (1.0 - p), HESS_FLOOR))


@njit(cache=True)
def gradients_softmax(margin, y, weight, g, h):
    """Softmax cross-entropy, one row per class (``margin``, ``g``, ``h`` of shape (K, n)):
    ``g = s (p_k - [y = k])``, ``h = s max(2 p_k (1 - p_k), 1e-16)`` (XGBoost's factor 2)."""
    k, n = margin.shape
    p = np.empty(k)
    for i in range(n):
        top = margin[0, i]
        for c in range(1, k):
            top = max(top, margin[c, i])
        total = 0.0
        for c in range(k):
            p[c] = np.exp(margin[c, i] - top)
            total += p[c]
        for c in range(k):
            pc = p[c] / total
            g[c, i] = weight[i] * _f32(pc - (1.0 if y[i] == c else 0.0))
            h[c, i] = weight[i] * _f32(max(2.0 * pc * (1.0 - pc), HESS_FLOOR))


@njit(cache=True, inline="always")
def _expf(v):
    """float32 exp through the C library's expf (numba calls it for a float32 argument; XGBoost
    does too; NumPy's vectorised float32 exp differs from it in the last bit)."""
    return np.float64(math.exp(np.float32(v)))


@njit(cache=True)
def gradients_squared_xgb(margin, y, weight, g, h):
    """XGBoost's reg:squarederror gradients in float32: ``g = (F - y) w``, ``h = w``
    (``margin``, ``y``, ``weight`` hold float32 numbers)."""
    for i in range(margin.shape[0]):
        g[i] = _f32(_f32(margin[i] - y[i]) * weight[i])
        h[i] = weight[i]


@njit(cache=True)
def gradients_logistic_xgb(margin, y, weight, g, h):
    """XGBoost's binary:logistic gradients in float32: ``p = 1 / (expf(min(-F, 88.7)) + 1 +
    1e-16)``, ``g = (p - y) w``, ``h = max(p (1 - p), 1e-16) w``."""
    cap = _f32(88.7)
    for i in range(margin.shape[0]):
        e = _expf(min(-margin[i], cap))
        p = _f32(1.0 / _f32(_f32(e + 1.0) + HESS_FLOOR_F32))
        g[i] = _f32(_f32(p - y[i]) * weight[i])
        h[i] = _f32(max(_f32(p * _f32(1.0 - p)), HESS_FLOOR_F32) * weight[i])


@njit(cache=True)
def gradients_softmax_xgb(margin, y, weight, g, h):
    """XGBoost's multi:softprob gradients in float32 (its order of operations: the max starts
    at FLT_MIN, the sum of the float32 exponentials is float64, ``h = max(2 p (1 - p) w,
    1e-16)``, ``g = (p - [y = k]) w``)."""
    k, n = margin.shape
    for i in range(n):
        top = FLT_MIN
        for c in range(k):
            top = max(margin[c, i], top)
        total = 0.0
        for c in range(k):
            total += _expf(_f32(margin[c, i] - top))
        total32 = _f32(total)
        for c in range(k):
            pc = _f32(_expf(_f32(margin[c, i] - top)) / total32)
            h[c, i] = max(_f32(_f32(_f32(2.0 * pc) * _f32(1.0 - pc)) * weight[i]), HESS_FLOOR_F32)
            if y[i] == c:
                pc = _f32(pc - 1.0)
            g[c, i] = _f32(pc * weight[i])


@njit(cache=True)
def logit_xgb(p):
    """XGBoost's ProbToMargin of binary:logistic in float32: ``-logf(1 / p - 1)``, ``p`` clipped
    to ``[1e-6, 1 - 1e-6]``."""
    eps = SPLIT_EPS_F32
    p = min(max(_f32(p), eps), _f32(1.0 - eps))
    return -np.float64(math.log(np.float32(_f32(_f32(1.0 / p) - 1.0))))


# ---------------------------------------------------------------- histograms
@njit(cache=True)
def build_histogram(binned, g, h, rows, start, end, features, hist):
    """``hist[j, b] = (sum g, sum h)`` over ``rows[start:end]`` with ``binned[row, j] = b``,
    for the ``features`` given (sorted; the other rows of ``hist`` are left as they are)."""
    n_bins = hist.shape[1]
    flat = hist.reshape(-1)  # (feature, bin, g/h) in one run: index arithmetic, no 3-d lookups
    n_features = features.shape[0]
    for jj in range(n_features):
        hist[features[jj], :, :] = 0.0
    if n_features == binned.shape[1]:  # every feature (features = 0..p-1): no indirection
        for k in range(start, end):
            i = rows[k]
            gi = g[i]
            hi = h[i]
            row = binned[i]
            at0 = 0
            for j in range(n_features):
                at = (at0 + row[j]) * 2
                flat[at] += gi
                flat[at + 1] += hi
                at0 += n_bins
        return
    for k in range(start, end):
        i = rows[k]
        gi = g[i]
        hi = h[i]
        for jj in range(n_features):
            j = features[jj]
            at = (j * n_bins + binned[i, j]) * 2
            flat[at] += gi
            flat[at + 1] += hi


@njit(cache=True)
def subtract_histogram(parent, child, features):
    """``parent -= child`` on the given features: the sibling's histogram (subtraction trick)."""
    for jj in range(features.shape[0]):
        j = features[jj]
        for b in range(parent.shape[1]):
            parent[j, b, 0] -= child[j, b, 0]
            parent[j, b, 1] -= child[j, b, 1]


@njit(cache=True)
def best_split(hist, features, n_bins, missing_bin, G, H, reg_alpha, reg_lambda, max_delta_step,
               min_child_weight):
    """Best ``(gain, feature, bin, missing_left)`` of a node by a scan of its histogram.

    ``gain = score(L) + score(R) - score(parent)``; candidates need both hessian sums positive and
    ``>= min_child_weight``. Missing values first go right (forward scan); when the node has some,
    sending them left is tried too. Only a strictly larger gain replaces the best, so ties keep the
    lowest feature and bin. ``feature = -1`` when no candidate has a positive gain. Also returns
    the winner's child sums ``gl, hl, gr, hr``.
    """
    parent = node_score(G, H, reg_alpha, reg_lambda, max_delta_step, min_child_weight)
    best_gain = 0.0
    best_feature = -1
    best_bin = -1
    best_left = False
    best_gl = best_hl = 0.0
    for jj in range(features.shape[0]):
        j = features[jj]
        miss_g = hist[j, missing_bin, 0]
        miss_h = hist[j, missing_bin, 1]
        has_missing = miss_h > 0.0
        last = n_bins[j] - 1 + (1 if has_missing else 0)
        gl = 0.0
        hl = 0.0
        for b in range(last):
            if b < n_bins[j]:
                gl += hist[j, b, 0]
                hl += hist[j, b, 1]
            # missing values go right
            gr = G - gl
            hr = H - hl
            if hl >= min_child_weight and hr >= min_child_weight and hl > 0.0 and hr > 0.0:
                gain = split_gain(parent, gl, hl, gr, hr, reg_alpha, reg_lambda,
                                  max_delta_step, min_child_weight)
                if gain > best_gain + TIE_RTOL * best_gain:
                    best_gain, best_feature, best_bin, best_left = gain, j, b, False
                    best_gl, best_hl = gl, hl
        if has_missing:
            gl = miss_g
            hl = miss_h
            for b in range(n_bins[j] - 1):
                gl += hist[j, b, 0]
                hl += hist[j, b, 1]
                gr = G - gl
                hr = H - hl
                if hl >= min_child_weight and hr >= min_child_weight and hl > 0.0 and hr > 0.0:
                    gain = split_gain(parent, gl, hl, gr, hr, reg_alpha, reg_lambda,
                                      max_delta_step, min_child_weight)
                    if gain > best_gain + TIE_RTOL * best_gain:
                        best_gain, best_feature, best_bin, best_left = gain, j, b, True
                        best_gl, best_hl = gl, hl
    return (best_gain, best_feature, best_bin, best_left, best_gl, best_hl, G - best_gl,
            H - best_hl)


@njit(cache=True)
def best_split_xgb(hist, features, n_bins, G, H, reg_alpha, reg_lambda, max_delta_step,
                   min_child_weight):
    """:func:`best_split` as XGBoost's hist evaluator computes it (``EnumerateSplit``).

    Float32 gains (:func:`split_gain_xgb`); a candidate needs ``H_L, H_R >= min_child_weight``
    (IsValid; a zero side is refused later, when the node is split); only a strictly larger gain
    (and not an infinite one) replaces the best, with no tie tolerance. Per feature, a forward
    scan (missing values right) over every bin, the left sum accumulated bin by bin in float64
    and the right one ``parent - left``; then, when that full left sum differs from the node's
    in either component (XGBoost's test for missing values, which float64 rounding of the sums
    can also trigger), a backward scan (missing values left) from the top bin down, the right
    sum accumulated and the left one ``parent - right``; its last candidate sends only the
    missing values left (bin -1). Returns the winner's child sums as XGBoost stores them, which
    become the children's ``G, H``.
    """
    parent = node_score_xgb(G, H, reg_alpha, reg_lambda, max_delta_step, min_child_weight)
    best_gain = 0.0
    best_feature = -1
    best_bin = -1
    best_left = False
    best_gl = best_hl = best_gr = best_hr = 0.0
    for jj in range(features.shape[0]):
        j = features[jj]
        gl = 0.0
        hl = 0.0
        for b in range(n_bins[j]):
            gl += hist[j, b, 0]
            hl += hist[j, b, 1]
            gr = G - gl
            hr = H - hl
            if hl >= min_child_weight and hr >= min_child_weight:
                gain = split_gain_xgb(parent, gl, hl, gr, hr, reg_alpha, reg_lambda,
                                      max_delta_step, min_child_weight)
                if gain > best_gain and not np.isinf(gain):
                    best_gain, best_feature, best_bin, best_left = gain, j, b, False
                    best_gl, best_hl, best_gr, best_hr = gl, hl, gr, hr
        if gl != G or hl != H:
            gr = 0.0
            hr = 0.0
            for b in range(n_bins[j] - 1, -1, -1):
                gr += hist[j, b, 0]
                hr += hist[j, b, 1]
                gl = G - gr
                hl = H - hr
                if hr >= min_child_weight and hl >= min_child_weight:
                    gain = split_gain_xgb(parent, gl, hl, gr, hr, reg_alpha, reg_lambda,
                                          max_delta_step, min_child_weight)
                    if gain > best_gain and not np.isinf(gain):
                        best_gain, best_feature, best_bin, best_left = gain, j, b - 1, True
                        best_gl, best_hl, best_gr, best_hr = gl, hl, gr, hr
    return best_gain, best_feature, best_bin, best_left, best_gl, best_hl, best_gr, best_hr


# ---------------------------------------------------------------- growth
@njit(cache=True)
def _partition(binned, rows, buffer, start, end, feature, split_bin, missing_bin, missing_left,
               g, h):
    """Stable in-place partition of ``rows[start:end]``: left rows first. Returns the left count
    and the left sums of g and h."""
    n_left = 0
    n_right = 0
    gl = 0.0
    hl = 0.0
    for k in range(start, end):
        i = rows[k]
        b = binned[i, feature]
        go_left = missing_left if b == missing_bin else b <= split_bin
        if go_left:
            rows[start + n_left] = i
            n_left += 1
            gl += g[i]
            hl += h[i]
        else:
            buffer[n_right] = i
            n_right += 1
    for k in range(n_right):
        rows[start + n_left + k] = buffer[k]
    return n_left, gl, hl


@njit(cache=True, inline="always")
def _find_split(xgb, hist, features, n_bins, missing_bin, G, H, reg_alpha, reg_lambda,
                max_delta_step, min_child_weight):
    if xgb:
        return best_split_xgb(hist, features, n_bins, G, H, reg_alpha, reg_lambda,
                              max_delta_step, min_child_weight)
    return best_split(hist, features, n_bins, missing_bin, G, H, reg_alpha, reg_lambda,
                      max_delta_step, min_child_weight)


@njit(cache=True)
def grow_tree(binned, g, h, rows, features, n_bins, missing_bin, hists, reg_alpha, reg_lambda,
              max_delta_step, min_child_weight, gamma, learning_rate, max_depth, max_leaves,
              lossguide, xgb=False, dense=False):
    """Grow one tree on ``rows`` (reordered in place) from gradients ``g`` and hessians ``h``.

    Depth-wise (``lossguide=False``): every open node of the shallowest level is expanded, as
    XGBoost's ``grow_policy="depthwise"``; leaf-wise: the open node of largest gain, as
    ``"lossguide"`` / LightGBM. A node is split when its best gain is ``> 1e-6`` and ``>= gamma``,
    its depth ``< max_depth`` (0: no limit) and the tree has fewer than ``max_leaves`` leaves (0: no
    limit). The smaller child's histogram is built from its rows, the larger one's is the parent's
    minus it. ``hists`` (n_slots, n_features, n_bins_total, 2) is scratch space.

    Returns the node arrays ``feature`` (-1 at leaves), ``split_bin``, ``missing_left``, ``left``,
    ``right``, ``value`` (learning_rate times the node's weight), ``gain``, ``cover`` (hessian sum),
    ``depth``, and ``start``, ``end``: node k's rows are ``rows[start[k]:end[k]]`` (rows is left
    partitioned), all trimmed to the number of nodes.

    ``xgb``: XGBoost's arithmetic (the parameters must be float32 numbers): splits by
    :func:`best_split_xgb`, split when ``gain > 1e-6f`` and ``gain >= gamma`` and neither child's
    hessian sum is 0; a child's ``G, H`` are the sums of the winning scan (XGBoost's
    ``left_sum``/``right_sum``), not re-summed over its rows; the histogram is built for the
    child of smaller hessian sum (XGBoost's choice; the other is the difference); the root's
    sums are those of feature 0's histogram in bin order when the data have no missing value
    (``dense``; XGBoost's dense shortcut) and of the rows in order otherwise; leaf values
    ``f32(f32(w) learning_rate)`` (:func:`leaf_weight_xgb`).
    """
    n_rows = rows.shape[0]
    max_nodes = 2 * n_rows + 1
    if max_depth > 0:
        max_nodes = min(max_nodes, 2 ** (max_depth + 1) - 1)
    if max_leaves > 0:
        max_nodes = min(max_nodes, 2 * max_leaves - 1)
    feature = np.full(max_nodes, -1, dtype=np.int32)
    split_bin = np.full(max_nodes, -1, dtype=np.int32)
    missing_left = np.zeros(max_nodes, dtype=np.bool_)
    left = np.full(max_nodes, -1, dtype=np.int32)
    right = np.full(max_nodes, -1, dtype=np.int32)
    value = np.zeros(max_nodes)
    gain = np.zeros(max_nodes)
    cover = np.zeros(max_nodes)
    depth = np.zeros(max_nodes, dtype=np.int32)
    start = np.zeros(max_nodes, dtype=np.int64)
    end = np.zeros(max_nodes, dtype=np.int64)
    sum_g = np.zeros(max_nodes)
    slot = np.full(max_nodes, -1, dtype=np.int64)
    cand_gain = np.zeros(max_nodes)
    cand_feature = np.full(max_nodes, -1, dtype=np.int32)
    cand_bin = np.zeros(max_nodes, dtype=np.int32)
    cand_left = np.zeros(max_nodes, dtype=np.bool_)
    cand_sums = np.zeros((max_nodes, 4))  # the winner's gl, hl, gr, hr
    buffer = np.empty(n_rows, dtype=rows.dtype)
    n_slots = hists.shape[0]
    free = np.arange(n_slots)[::-1].copy()
    n_free = n_slots
    open_nodes = np.empty(max_nodes, dtype=np.int64)
    n_open = 0

    G = 0.0
    H = 0.0
    for k in range(n_rows):
        G += g[rows[k]]
        H += h[rows[k]]
    sum_g[0] = G
    cover[0] = H
    start[0] = 0
    end[0] = n_rows
    n_nodes = 1
    n_leaves = 1
    if max_leaves != 1:  # a one-leaf limit leaves nothing to split
        n_free -= 1
        slot[0] = free[n_free]
        build_histogram(binned, g, h, rows, 0, n_rows, features, hists[slot[0]])
        if xgb and dense and features[0] == 0:
            G = 0.0
            H = 0.0
            for b in range(n_bins[0]):
                G += hists[slot[0], 0, b, 0]
                H += hists[slot[0], 0, b, 1]
            sum_g[0] = G
            cover[0] = H
        (cand_gain[0], cand_feature[0], cand_bin[0], cand_left[0], cand_sums[0, 0],
         cand_sums[0, 1], cand_sums[0, 2], cand_sums[0, 3]) = _find_split(
            xgb, hists[slot[0]], features, n_bins, missing_bin, G, H, reg_alpha, reg_lambda,
            max_delta_step, min_child_weight)
        open_nodes[0] = 0
        n_open = 1

    batch = np.empty(max_nodes, dtype=np.int64)
    while n_open > 0:
        # choose the nodes to expand now
        n_batch = 0
        if lossguide:
            best = 0
            for k in range(1, n_open):
                if cand_gain[open_nodes[k]] > cand_gain[open_nodes[best]]:
                    best = k
            batch[0] = open_nodes[best]
            n_batch = 1
            for k in range(best, n_open - 1):
                open_nodes[k] = open_nodes[k + 1]
            n_open -= 1
        else:
            shallow = depth[open_nodes[0]]
            for k in range(1, n_open):
                shallow = min(shallow, depth[open_nodes[k]])
            kept = 0
            for k in range(n_open):
                node = open_nodes[k]
                if depth[node] == shallow:
                    batch[n_batch] = node
                    n_batch += 1
                else:
                    open_nodes[kept] = node
                    kept += 1
            n_open = kept
        for kb in range(n_batch):
            node = batch[kb]
            ok = (cand_feature[node] >= 0
                  and cand_gain[node] > (SPLIT_EPS_F32 if xgb else SPLIT_EPS)
                  and cand_gain[node] >= gamma
                  and (max_depth == 0 or depth[node] < max_depth)
                  and (max_leaves == 0 or n_leaves < max_leaves)
                  and not (xgb and (cand_sums[node, 1] == 0.0 or cand_sums[node, 3] == 0.0)))
            if not ok:
                if slot[node] >= 0:
                    free[n_free] = slot[node]
                    n_free += 1
                    slot[node] = -1
                continue
            f = cand_feature[node]
            n_left, gl, hl = _partition(binned, rows, buffer, start[node], end[node], f,
                                        cand_bin[node], missing_bin, cand_left[node], g, h)
            lc = n_nodes
            rc = n_nodes + 1
            n_nodes += 2
            n_leaves += 1
            feature[node] = f
            split_bin[node] = cand_bin[node]
            missing_left[node] = cand_left[node]
            gain[node] = cand_gain[node]
            left[node] = lc
            right[node] = rc
            start[lc] = start[node]
            end[lc] = start[node] + n_left
            start[rc] = start[node] + n_left
            end[rc] = end[node]
            if xgb:
                sum_g[lc], cover[lc], sum_g[rc], cover[rc] = (
                    cand_sums[node, 0], cand_sums[node, 1], cand_sums[node, 2], cand_sums[node, 3])
            else:
                sum_g[lc] = gl
                cover[lc] = hl
                sum_g[rc] = sum_g[node] - gl
                cover[rc] = cover[node] - hl
            depth[lc] = depth[node] + 1
            depth[rc] = depth[node] + 1
            # children that can never split need no histogram
            child_open = ((max_depth == 0 or depth[lc] < max_depth)
                          and (max_leaves == 0 or n_leaves < max_leaves))
            parent_slot = slot[node]
            slot[node] = -1
            if not child_open:
                free[n_free] = parent_slot
                n_free += 1
                continue
            if xgb:
                small, large = (rc, lc) if cover[rc] < cover[lc] else (lc, rc)
            else:
                small, large = (lc, rc) if n_left <= end[node] - start[node] - n_left else (rc, lc)
            n_free -= 1
            slot[small] = free[n_free]
            build_histogram(binned, g, h, rows, start[small], end[small], features,
                            hists[slot[small]])
            subtract_histogram(hists[parent_slot], hists[slot[small]], features)
            slot[large] = parent_slot
            for c in (lc, rc):
                (cand_gain[c], cand_feature[c], cand_bin[c], cand_left[c], cand_sums[c, 0],
                 cand_sums[c, 1], cand_sums[c, 2], cand_sums[c, 3]) = _find_split(
                    xgb, hists[slot[c]], features, n_bins, missing_bin, sum_g[c], cover[c],
                    reg_alpha, reg_lambda, max_delta_step, min_child_weight)
                open_nodes[n_open] = c
                n_open += 1
    for node in range(n_nodes):
        if xgb:
            value[node] = _f32(learning_rate * leaf_weight_xgb(
                sum_g[node], cover[node], reg_alpha, reg_lambda, max_delta_step, min_child_weight))
        else:
            value[node] = learning_rate * leaf_weight(sum_g[node], cover[node], reg_alpha,
                                                      reg_lambda, max_delta_step, min_child_weight)
    return (feature[:n_nodes].copy(), split_bin[:n_nodes].copy(), missing_left[:n_nodes].copy(),
            left[:n_nodes].copy(), right[:n_nodes].copy(), value[:n_nodes].copy(),
            gain[:n_nodes].copy(), cover[:n_nodes].copy(), depth[:n_nodes].copy(),
            start[:n_nodes].copy(), end[:n_nodes].copy())


# ---------------------------------------------------------------- prediction
@njit(cache=True)
def apply_binned(binned, missing_bin, feature, split_bin, missing_left, left, right, out):
    """``out[i]`` = the leaf (node index) that row ``i`` of the binned data reaches."""
    for i in range(binned.shape[0]):
        node = 0
        while feature[node] >= 0:
            b = binned[i, feature[node]]
            go_left = missing_left[node] if b == missing_bin else b <= split_bin[node]
            node = left[node] if go_left else right[node]
        out[i] = node


@njit(cache=True)
def add_leaf_values(leaves, value, margin, xgb=False):
    """``margin[i] += value[leaves[i]]`` (a float32 sum with ``xgb``, XGBoost's float32
    prediction cache)."""
    for i in range(leaves.shape[0]):
        if xgb:
            margin[i] = _f32(margin[i] + value[leaves[i]])
        else:
            margin[i] += value[leaves[i]]


@njit(cache=True)
def add_leaf_values_partitioned(rows, feature, start, end, value, margin, xgb=False):
    """``margin[row] += value[leaf]`` for the rows the tree was grown on, from its partition
    (float32 sums with ``xgb``)."""
    for node in range(feature.shape[0]):
        if feature[node] < 0:
            v = value[node]
            for k in range(start[node], end[node]):
                if xgb:
                    margin[rows[k]] = _f32(margin[rows[k]] + v)
                else:
                    margin[rows[k]] += v


@njit(cache=True)
def _leaf_raw(X, i, node, feature, threshold, missing_left, left, right):
    """The leaf that row ``i`` of raw ``X`` reaches from ``node``: ``x <= threshold`` goes left,
    NaN to the learned side."""
    while feature[node] >= 0:
        x = X[i, feature[node]]
        if np.isnan(x):
            go_left = missing_left[node]
        else:
            go_left = x <= threshold[node]
        node = left[node] if go_left else right[node]
    return node


@njit(cache=True)
def apply_raw(X, feature, threshold, missing_left, left, right, tree_start, out):
    """``out[i, t]`` = the (global) node index of the leaf row ``i`` of raw ``X`` reaches in tree
    ``t``; ``x <= threshold`` goes left, NaN goes to the learned side."""
    n_trees = tree_start.shape[0]
    for i in range(X.shape[0]):
        for t in range(n_trees):
            node = _leaf_raw(X, i, tree_start[t], feature, threshold, missing_left, left, right)
            out[i, t] = node


@njit(cache=True)
def predict_raw(X, feature, threshold, missing_left, left, right, value, tree_start,
                tree_output, margin):
    """Add each tree's leaf value to ``margin[i, tree_output[t]]`` (``left``/``right`` global)."""
    n_trees = tree_start.shape[0]
    for i in range(X.shape[0]):
        for t in range(n_trees):
            node = _leaf_raw(X, i, tree_start[t], feature, threshold, missing_left, left, right)
            margin[i, tree_output[t]] += value[node]


# ---------------------------------------------------------------- binning
@njit(cache=True)
def bin_matrix(X, table, n_thresholds, missing_bin, out):
    """``out[i, j]`` = the first ``b`` with ``table[j, b] >= X[i, j]`` (numpy's searchsorted,
    side="left", over the ``n_thresholds[j]`` thresholds of feature j); NaN → ``missing_bin``.

    Blocks of rows, one feature at a time, so that the feature's thresholds stay in L1 cache; a
    branch-free binary search (the comparison moves the base, it does not choose a path).
    """
    n, p = X.shape
    block = 256
    for first in range(0, n, block):
        last = min(first + block, n)
        for j in range(p):
            size0 = n_thresholds[j]
            for i in range(first, last):
                x = X[i, j]
                if np.isnan(x):
                    out[i, j] = missing_bin
                    continue
                if size0 == 0:
                    out[i, j] = 0
                    continue
                size = size0
                base = 0
                while size > 1:
                    half = size >> 1
                    base += half * (table[j, base + half - 1] < x)
                    size -= half
                out[i, j] = base + (table[j, base] < x)
