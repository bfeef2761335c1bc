"""Embedded default data: nothing is downloaded."""

import numpy as np


def load_diabetes():
    """scikit-learn's diabetes data (442 patients, 10 baseline variables, disease progression).

    Returns ``(X, y, feature_names)`` with X as shipped by scikit-learn (each column centred and
    scaled to unit Euclidean norm) and y the progression one year after baseline.
    """
    from sklearn.datasets import load_diabetes as _load

    data = _load()
    return np.asarray(data.data), np.asarray(data.target, dtype=np.float64), list(
        data.feature_names
    )


def standardize(X):
    """Columns centred to mean 0 and scaled to standard deviation 1 (population), as glmnet."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    return (X - mean) / scale
