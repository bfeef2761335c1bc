"""The fitted trees: node arrays per tree, one flat copy for prediction, and their text dump."""

from dataclasses import dataclass

import numpy as np

from .._kernels.boosting_tree import apply_raw, predict_raw


@dataclass
class Tree:
    """One tree's nodes (node 0 is the root; ``feature == -1`` marks a leaf).

    ``value`` is learning_rate × the node's weight (at leaves, what the tree adds to the margin);
    ``gain`` the split's ``score(L) + score(R) - score(parent)``; ``cover`` the hessian sum;
    a row goes left when ``x <= threshold`` (NaN: when ``missing_left``).
    """

    feature: np.ndarray
    threshold: np.ndarray
    split_bin: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    gain: np.ndarray
    cover: np.ndarray
    depth: np.ndarray
    output: int = 0  # the margin column (class) the tree adds to

    @property
    def is_leaf(self):
        return self.feature < 0

    @property
    def leaf_values(self):
        return self.value[self.is_leaf]

    def dump(self, feature_names=None, precision=6):
        """The tree as indented text, one node a line (XGBoost's ``get_dump`` layout)."""
        lines = []

        def name(j):
            return feature_names[j] if feature_names is not None else f"f{j}"

        def walk(node, indent):
            pad = "\t" * indent
            if self.feature[node] < 0:
                lines.append(f"{pad}{node}:leaf={self.value[node]:.{precision}g},"
                             f"cover={self.cover[node]:.{precision}g}")
                return
            missing = self.left[node] if self.missing_left[node] else self.right[node]
            lines.append(f"{pad}{node}:[{name(self.feature[node])}<="
                         f"{self.threshold[node]:.{precision}g}] yes={self.left[node]},"
                         f"no={self.right[node]},missing={missing},"
                         f"gain={self.gain[node]:.{precision}g},cover={self.cover[node]:.{precision}g}")
            walk(self.left[node], indent + 1)
            walk(self.right[node], indent + 1)

        walk(0, 0)
        return "\n".join(lines)


class FlatEnsemble:
    """All trees concatenated (child indices made global) for the prediction kernels."""

    def __init__(self, trees):
        sizes = np.array([t.feature.size for t in trees], dtype=np.int64)
        self.tree_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        if not trees:
            self.feature = np.full(1, -1, np.int32)
            empty = np.zeros(1)
            self.threshold, self.value = empty, empty
            self.missing_left = np.zeros(1, np.bool_)
            self.left = self.right = np.full(1, -1, np.int64)
            self.tree_output = np.zeros(0, np.int64)
            self.tree_start = np.zeros(0, np.int64)
            return
        self.feature = np.concatenate([t.feature for t in trees]).astype(np.int32)
        self.threshold = np.concatenate([t.threshold for t in trees]).astype(np.float64)
        self.missing_left = np.concatenate([t.missing_left for t in trees]).astype(np.bool_)
        self.value = np.concatenate([t.value for t in trees]).astype(np.float64)
        offset = np.repeat(self.tree_start, sizes)
        left = np.concatenate([t.left for t in trees]).astype(np.int64)
        right = np.concatenate([t.right for t in trees]).astype(np.int64)
        self.left = np.where(left >= 0, left + offset, -1)
        self.right = np.where(right >= 0, right + offset, -1)
        self.tree_output = np.array([t.output for t in trees], dtype=np.int64)

    def add_margin(self, X, margin):
        """``margin[i, k] += `` the leaf values of row i in the trees of output k."""
        predict_raw(X, self.feature, self.threshold, self.missing_left, self.left, self.right,
                    self.value, self.tree_start, self.tree_output, margin)
        return margin

    def apply(self, X):
        """Global leaf index of every row in every tree, shape (n_samples, n_trees)."""
        out = np.empty((X.shape[0], self.tree_start.size), dtype=np.int64)
        apply_raw(X, self.feature, self.threshold, self.missing_left, self.left, self.right,
                  self.tree_start, out)
        return out
