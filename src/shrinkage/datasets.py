"""Embedded default data: nothing is downloaded."""

import numpy as np


def load_diabetes(*, scaled=True):
    """scikit-learn's diabetes data (442 patients, 10 baseline variables, disease progression).

    Parameters
    ----------
    scaled : bool, default=True
        True: X as scikit-learn ships it by default (each column centred and scaled to unit
        Euclidean norm). False: the original units (age in years, sex coded 1/2, BMI in kg/m²,
        blood pressure in mm Hg, six blood serum measurements).

    Returns
    -------
    X : ndarray of shape (442, 10)
    y : ndarray of shape (442,)
        Disease progression one year after baseline.
    feature_names : list of str
    """
    from sklearn.datasets import load_diabetes as _load

    data = _load(scaled=scaled)
    return np.asarray(data.data), np.asarray(data.target, dtype=np.float64), list(
        data.feature_names
    )


def standardize(X):
    """Columns centred to mean 0 and scaled to standard deviation 1 (population), as glmnet."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    return (X - mean) / scale
