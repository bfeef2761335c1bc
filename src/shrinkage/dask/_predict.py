"""Predictions on dask input: one block of output per row block of X, computed lazily.

The fitted estimator is the local one (NumPy ``coef_``), so a prediction is a blockwise map of
``X w + b`` (and, for classifiers, of the estimator's own transform of the scores); nothing is
computed until the caller asks.
"""

import numpy as np

from ._blocks import require_dask


def row_blocks(X, n_features):
    """``X`` (dask array or DataFrame) as a dask array whose blocks hold whole rows."""
    require_dask()
    if hasattr(X, "columns"):
        if len(X.columns) != n_features:
            raise ValueError(f"X has {len(X.columns)} features, the model {n_features}")
        X = X.to_dask_array()
    elif X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"X has shape {X.shape}, the model expects {n_features} features")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def map_rows(X, func, n_out=None, dtype=np.float64):
    """``func`` on every block of the dask array ``X``; a 1-d result when ``n_out`` is None,
    else ``n_out`` columns."""
    if n_out is None:
        return X.map_blocks(func, drop_axis=1, dtype=dtype) if X.ndim == 2 else X.map_blocks(
            func, dtype=dtype)
    if X.ndim == 1:
        return X.map_blocks(func, new_axis=1, chunks=(X.chunks[0], (n_out,)), dtype=dtype)
    return X.map_blocks(func, chunks=(X.chunks[0], (n_out,)), dtype=dtype)


def _scores(estimator, X):
    """``X coef' + intercept`` per block: 1-d for one row of ``coef_`` (or a 1-d ``coef_``)."""
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64)
    X = row_blocks(X, coef.shape[-1])
    single = coef.ndim == 1 or coef.shape[0] == 1
    w, b = (coef.ravel(), intercept.ravel()[0] if intercept.ndim else float(intercept)) \
        if single else (coef.T, intercept)

    def block(values):
        return np.asarray(values, dtype=np.float64) @ w + b

    return map_rows(X, block, None if single else coef.shape[0])


def predict_dask(estimator, X):
    """A linear model's ``X w + b`` as a dask array (one block per row block of X)."""
    coef = np.asarray(estimator.coef_)
    if coef.ndim == 1:
        return _scores(estimator, X)
    X = row_blocks(X, coef.shape[1])
    w = coef.astype(np.float64).T
    b = np.asarray(estimator.intercept_, dtype=np.float64)
    return map_rows(X, lambda values: np.asarray(values, dtype=np.float64) @ w + b, coef.shape[0])


def decision_function_dask(estimator, X):
    """A linear classifier's scores: 1-d for two classes, (n, K) otherwise (as scikit-learn)."""
    return _scores(estimator, X)


def predict_labels_dask(estimator, X):
    """Class labels, mapped blockwise from the scores (``classes_`` keeps its dtype)."""
    classes = np.asarray(estimator.classes_)
    scores = _scores(estimator, X)

    def labels(z):
        return classes[(z > 0).astype(np.intp) if z.ndim == 1 else np.argmax(z, axis=1)]

    return map_rows(scores, labels, None, dtype=classes.dtype)


def map_scores(scores, transform, n_out):
    """``transform`` of a classifier's score blocks (probabilities: ``n_out`` columns)."""
    return map_rows(scores, transform, n_out)
