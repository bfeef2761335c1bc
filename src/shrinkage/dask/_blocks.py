"""Row blocks of dask input, aligned, and the two passes over them.

Each pass is one ``compute`` of a graph whose leaves read one block of X, y (and the weights) and
reduce it to a few p x p / p x k sums; the sums are merged in a balanced tree on the workers, so
the client receives one p x p matrix (or one per fold) whatever the number of blocks.
"""

import operator

import numpy as np

from ..solvers.gram_design import block_residual_stats, block_stats, merge_stats


def require_dask():
    try:
        import dask
        import dask.array
    except ImportError as err:  # pragma: no cover - exercised without dask only
        raise ImportError("dask input needs dask: pip install 'shrinkage[dask]'") from err
    return dask


def _is_frame(obj):
    return type(obj).__module__.startswith("dask") and type(obj).__name__ == "DataFrame"


def _is_series(obj):
    return type(obj).__module__.startswith("dask") and type(obj).__name__ == "Series"


class Blocks:
    """Aligned delayed row blocks of ``X``, ``y`` and the weights (or ``None``).

    Attributes
    ----------
    x, y, s : list of Delayed (``s`` may be None)
    columns : list of str or None
        Column names of a DataFrame (for messages and ``feature_names_in_``).
    n_features : int
    dtype : numpy dtype of X (float32 is kept for ``coef_``)
    """

    def __init__(self, X, y, sample_weight=None):
        dask = require_dask()
        import dask.array as da

        from ..linear_model._base import check_numeric_columns

        self.columns = None
        if _is_frame(X):
            check_numeric_columns(X)
            self.columns = [str(c) for c in X.columns]
            self.string_columns = all(isinstance(c, str) for c in X.columns)
            self.n_features = len(X.columns)
            self.dtype = np.result_type(*[np.dtype(t) for t in X.dtypes]) if self.n_features \
                else np.dtype(np.float64)
            self.x = list(X.to_delayed())
            self._frame = X
            x_chunks = None
        elif hasattr(X, "chunks"):
            if X.ndim != 2:
                raise ValueError(f"X must be 2-d, got a dask array of shape {X.shape}")
            if not np.issubdtype(X.dtype, np.number) and X.dtype != np.bool_:
                raise ValueError(f"X has the non-numeric dtype {X.dtype}")
            self.string_columns = False
            self.n_features = int(X.shape[1])
            self.dtype = X.dtype
            if len(X.chunks[1]) > 1:  # one block holds whole rows; merged as part of the same pass
                X = X.rechunk({1: -1})
            self.x = list(X.to_delayed().ravel())
            x_chunks = X.chunks[0]
        else:
            raise TypeError(f"unsupported dask collection for X: {type(X).__name__}")
        if self.n_features == 0:
            raise ValueError("X has 0 features")
        self.y = self._align(y, "y", x_chunks, da, dask)
        self.s = None if sample_weight is None else self._align(sample_weight, "sample_weight",
                                                                 x_chunks, da, dask)
        if not self.x:
            raise ValueError("X has no blocks")

    def _align(self, v, name, x_chunks, da, dask):
        """Delayed blocks of ``v`` with the row blocks of X, or a ValueError saying why not."""
        if _is_frame(v):
            if len(v.columns) != 1:
                raise ValueError(f"{name} must have one column, got {len(v.columns)}")
            v = v[v.columns[0]]
        if hasattr(v, "chunks"):  # dask array
            if v.ndim == 2 and v.shape[1] == 1:
                v = v[:, 0]
            if v.ndim != 1:
                raise ValueError(f"{name} must be 1-d on dask input, got shape {v.shape}")
            known = x_chunks is not None and not any(np.isnan(x_chunks)) and not any(
                np.isnan(v.chunks[0]))
            if known and v.chunks[0] != x_chunks:
                if sum(v.chunks[0]) != sum(x_chunks):
                    raise ValueError(f"X has {sum(x_chunks)} rows but {name} has "
                                     f"{sum(v.chunks[0])}")
                v = v.rechunk((x_chunks,))
            blocks = list(v.to_delayed().ravel())
        elif _is_series(v):
            blocks = list(v.to_delayed())
            if len(blocks) != len(self.x) and getattr(self, "_frame", None) is not None:
                # the optimiser may merge the partitions of a narrow column (a Parquet column of
                # y read alone): take both unoptimised, so they keep the source's partitions
                blocks = list(v.to_delayed(optimize_graph=False))
                self.x = list(self._frame.to_delayed(optimize_graph=False))
        else:  # a local array: cut it along X's blocks (needs their sizes)
            v = np.asarray(v)
            if x_chunks is None or any(np.isnan(x_chunks)):
                raise ValueError(f"{name} is a local array but X's block sizes are unknown: pass "
                                 f"{name} as a dask collection partitioned like X, or call "
                                 "X.compute_chunk_sizes()")
            if v.shape[0] != sum(x_chunks):
                raise ValueError(f"X has {sum(x_chunks)} rows but {name} has {v.shape[0]}")
            blocks = list(da.from_array(v, chunks=(x_chunks, *v.shape[1:])).to_delayed().ravel())
        if len(blocks) != len(self.x):
            raise ValueError(
                f"X and {name} are partitioned differently: X has {len(self.x)} row blocks, "
                f"{name} has {len(blocks)}; repartition them alike (for data frames, take both "
                "from one frame)")
        return blocks


def _as_float(block, name, partition, columns):
    """The block as a float64 ndarray; NaN / inf raise a ValueError naming the column."""
    values = block.to_numpy(dtype=np.float64) if hasattr(block, "to_numpy") else np.asarray(
        block, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        if values.ndim == 2:
            j = int(np.flatnonzero(~finite.all(axis=0))[0])
            column = columns[j] if columns is not None else f"column {j}"
            raise ValueError(f"{name} contains NaN or infinity in {column!r} (partition "
                             f"{partition}); drop or impute those rows")
        raise ValueError(f"{name} contains NaN or infinity (partition {partition})")
    return values


def read_block(partition, X, y, s, columns):
    """The validated float64 arrays of one block."""
    X = _as_float(X, "X", partition, columns)
    y = _as_float(y, "y", partition, None).ravel()
    if X.ndim != 2:
        raise ValueError(f"X block {partition} is not 2-d")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"partition {partition}: X has {X.shape[0]} rows but y has "
                         f"{y.shape[0]}; X and y must be partitioned alike")
    if s is not None:
        s = _as_float(s, "sample_weight", partition, None).ravel()
        if s.shape[0] != X.shape[0]:
            raise ValueError(f"partition {partition}: X has {X.shape[0]} rows but sample_weight "
                             f"has {s.shape[0]}")
        if np.any(s < 0):
            raise ValueError(f"sample_weight must be non-negative (partition {partition})")
    return X, y, s


def stats_task(partition, X, y, s, centre, columns, diagonal=False):
    return block_stats(*read_block(partition, X, y, s, columns), centre, diagonal)


def residual_task(partition, X, y, s, coefs, intercepts, x_offset, y_offset):
    X, y, s = read_block(partition, X, y, s, None)
    return block_residual_stats(X, y, s, coefs, intercepts, x_offset, y_offset)


def _tree(dask, items, combine):
    items = list(items)
    while len(items) > 1:
        items = [dask.delayed(combine, pure=True)(*items[i:i + 2]) if i + 1 < len(items)
                 else items[i] for i in range(0, len(items), 2)]
    return items[0]


def compute(client, *objs):
    """Evaluate delayed objects on ``client`` (or the active/default scheduler)."""
    dask = require_dask()
    if client is not None:
        return tuple(client.compute(list(objs), sync=True))
    return dask.compute(*objs)


def stats_pass(blocks, centre, groups=None, client=None, diagonal=False):
    """Pass over the data: :class:`GramStats` of every group of blocks (default: all, one group);
    ``diagonal``: only the diagonal of the cross-products (wide data)."""
    dask = require_dask()
    leaves = [dask.delayed(stats_task, pure=True)(i, x, y, None if blocks.s is None
                                                   else blocks.s[i], centre, blocks.columns,
                                                   diagonal)
              for i, (x, y) in enumerate(zip(blocks.x, blocks.y, strict=True))]
    if groups is None:
        groups = [range(len(leaves))]
    return list(compute(client, *[_tree(dask, [leaves[i] for i in g], merge_stats)
                                  for g in groups]))


def residual_pass(blocks, coefs, intercepts, x_offset, y_offset, client=None):
    """Pass over the data: :class:`ResidualStats` of the exact residuals of ``coefs`` (p, k)."""
    dask = require_dask()
    args = [dask.delayed(np.asarray(a, dtype=np.float64)) for a in
            (coefs, np.atleast_1d(intercepts), x_offset)]
    leaves = [dask.delayed(residual_task, pure=True)(i, x, y, None if blocks.s is None
                                                     else blocks.s[i], *args, float(y_offset))
              for i, (x, y) in enumerate(zip(blocks.x, blocks.y, strict=True))]
    return compute(client, _tree(dask, leaves, operator.add))[0]
