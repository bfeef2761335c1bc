"""Quantile binning: each feature's values are mapped to at most ``max_bin`` ordered bins.

A feature with at most ``max_bin`` distinct (non-NaN) values gets one bin per value and the
thresholds are the midpoints between consecutive values; otherwise the thresholds are the
``k / max_bin`` quantiles (k = 1 .. max_bin - 1, midpoint interpolation, duplicates dropped) of
at most ``subsample`` rows. Bin ``b`` holds the values ``x`` with ``t[b-1] < x <= t[b]``, so a
split "bin <= b" on binned data is "x <= t[b]" on raw data. NaN goes to one extra bin shared by
all features, ``missing_bin``.
"""

import numpy as np

from .._kernels.boosting_tree import bin_matrix


class BinMapper:
    """Fit thresholds per feature, then map a float matrix to a C-ordered uint16 bin matrix."""

    def __init__(self, max_bin=256, subsample=200_000, random_state=None):
        self.max_bin = int(max_bin)
        self.subsample = subsample
        self.random_state = random_state

    def fit(self, X, sample_weight=None):
        """Thresholds from the rows of positive weight (a zero-weight row is no data)."""
        n, p = X.shape
        rows = None if sample_weight is None else np.flatnonzero(sample_weight > 0)
        if self.subsample is not None and (n if rows is None else rows.size) > self.subsample:
            rng = np.random.default_rng(self.random_state)
            pool = np.arange(n) if rows is None else rows
            rows = np.sort(rng.choice(pool, self.subsample, replace=False))
        self.thresholds_ = []
        sample = np.asfortranarray(X if rows is None else X[rows])  # contiguous columns
        for j in range(p):
            col = sample[:, j]
            col = np.sort(col[~np.isnan(col)])
            distinct = col[np.r_[True, col[1:] != col[:-1]]] if col.size else col
            if distinct.size == 0:
                t = np.empty(0)
            elif distinct.size <= self.max_bin:
                mid = 0.5 * (distinct[:-1] + distinct[1:])
                # adjacent floats: the midpoint may round up to the right value
                mid = np.where(mid >= distinct[1:], distinct[:-1], mid)
                t = mid
            else:
                # quantiles k / max_bin of the sorted sample, midpoint interpolation
                pos = np.arange(1, self.max_bin) / self.max_bin * (col.size - 1)
                t = 0.5 * (col[np.floor(pos).astype(np.int64)] + col[np.ceil(pos).astype(np.int64)])
                t = np.unique(t)
                # a threshold equal to the largest value would leave the last bin empty
                t = t[t < distinct[-1]]
            self.thresholds_.append(np.asarray(t, dtype=np.float64))
        self.n_bins_ = np.array([t.size + 1 for t in self.thresholds_], dtype=np.int64)
        self.missing_bin_ = int(self.n_bins_.max()) if p else 1
        # padded threshold table: row j, column b is the upper edge of bin b of feature j
        width = max(1, int(self.n_bins_.max()) - 1) if p else 1
        self.threshold_table_ = np.full((p, width), np.inf)
        for j, t in enumerate(self.thresholds_):
            self.threshold_table_[j, : t.size] = t
        return self

    def transform(self, X, has_nan=True):
        """Bins as uint8 when every bin index (and the NaN bin, if ``X`` has NaN) fits, else
        uint16 (a smaller matrix makes the histogram passes faster)."""
        n, p = X.shape
        top = int(self.n_bins_.max()) - 1 if p else 0
        small = top <= 255 and (self.missing_bin_ <= 255 or not has_nan)
        binned = np.empty((n, p), dtype=np.uint8 if small else np.uint16)
        bin_matrix(np.ascontiguousarray(X, dtype=np.float64), self.threshold_table_,
                   self.n_bins_ - 1, self.missing_bin_, binned)
        return binned
