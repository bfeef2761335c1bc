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

Binned data: ``binned[i, j]`` in ``0 .. n_bins[j] - 1``; ``missing_bin`` (one index shared by all
features, past the largest ``n_bins``) holds NaN. A split ``(j, b)`` sends ``bin <= b`` left and
the missing bin to the side learned for the node.
"""

import numpy as np
from numba import njit

from .prox import prox_enet_1d, soft_threshold

# XGBoost's kRtEps: a split must gain more than this
SPLIT_EPS = 1e-6
# gains within this relative distance of the best are ties (kept: lowest feature, then bin);
# equal partitions reached through different features then tie whatever the summation order
TIE_RTOL = 1e-10
# hessian floor of the logistic and softmax losses (XGBoost's eps)
HESS_FLOOR = 1e-16


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


# ---------------------------------------------------------------- gradients
@njit(cache=True, inline="always")
def _f32(v):
    """Round to float32 (XGBoost's gradient precision), back in float64."""
    return np.float64(np.float32(v))


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
    lowest feature and bin. ``feature = -1`` when no candidate has a positive gain.
    """
    parent = node_score(G, H, reg_alpha, reg_lambda, max_delta_step, min_child_weight)
    best_gain = 0.0
    best_feature = -1
    best_bin = -1
    best_left = False
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
    return best_gain, best_feature, best_bin, best_left


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


@njit(cache=True)
def grow_tree(binned, g, h, rows, features, n_bins, missing_bin, hists, reg_alpha, reg_lambda,
              max_delta_step, min_child_weight, gamma, learning_rate, max_depth, max_leaves,
              lossguide):
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
        cand_gain[0], cand_feature[0], cand_bin[0], cand_left[0] = best_split(
            hists[slot[0]], features, n_bins, missing_bin, G, H, reg_alpha, reg_lambda,
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
            ok = (cand_feature[node] >= 0 and cand_gain[node] > SPLIT_EPS
                  and cand_gain[node] >= gamma
                  and (max_depth == 0 or depth[node] < max_depth)
                  and (max_leaves == 0 or n_leaves < max_leaves))
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
            small, large = (lc, rc) if n_left <= end[node] - start[node] - n_left else (rc, lc)
            n_free -= 1
            slot[small] = free[n_free]
            build_histogram(binned, g, h, rows, start[small], end[small], features,
                            hists[slot[small]])
            subtract_histogram(hists[parent_slot], hists[slot[small]], features)
            slot[large] = parent_slot
            for c in (lc, rc):
                cand_gain[c], cand_feature[c], cand_bin[c], cand_left[c] = best_split(
                    hists[slot[c]], features, n_bins, missing_bin, sum_g[c], cover[c],
                    reg_alpha, reg_lambda, max_delta_step, min_child_weight)
                open_nodes[n_open] = c
                n_open += 1
    for node in range(n_nodes):
        value[node] = learning_rate * leaf_weight(sum_g[node], cover[node], reg_alpha, reg_lambda,
                                          max_delta_step, min_child_weight)
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
def add_leaf_values(leaves, value, margin):
    for i in range(leaves.shape[0]):
        margin[i] += value[leaves[i]]


@njit(cache=True)
def add_leaf_values_partitioned(rows, feature, start, end, value, margin):
    """``margin[row] += value[leaf]`` for the rows the tree was grown on, from its partition."""
    for node in range(feature.shape[0]):
        if feature[node] < 0:
            v = value[node]
            for k in range(start[node], end[node]):
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
