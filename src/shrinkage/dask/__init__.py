"""Dask input for the least-squares estimators: exact fits from reduced statistics.

The estimators (``Lasso``, ``ElasticNet``, ``Ridge``, ``LassoCV``, ``ElasticNetCV``, ``lasso_path``,
``enet_path``) accept a dask array or dask DataFrame and route it here. One tree-reduced pass over
the row blocks builds the centred Gram statistics (:mod:`shrinkage.solvers.gram_design`), the
unchanged covariance-mode solvers run on the client, and a second pass computes the exact residual
for a true duality-gap certificate: two passes whatever the number of alphas.

This module imports nothing heavy: dask itself is imported on first use, and its absence raises an
ImportError that names the extra ``shrinkage[dask]``.
"""


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection (array, DataFrame, Series), without importing dask."""
    return type(obj).__module__.startswith("dask") and hasattr(obj, "__dask_graph__")


def fit(estimator, X, y, sample_weight=None, client=None):
    """Fit ``estimator`` on dask input, optionally on a given ``distributed.Client``.

    The estimators' own ``fit`` does the same with the active client (or dask's default
    scheduler); this entry point takes an explicit one.
    """
    from ._fit import fit_estimator

    return fit_estimator(estimator, X, y, sample_weight, client=client)


def __getattr__(name):
    if name in ("enet_path", "lasso_path", "predict"):
        from . import _fit

        return getattr(_fit, {"enet_path": "enet_path_dask", "lasso_path": "lasso_path_dask",
                              "predict": "predict_dask"}[name])
    raise AttributeError(name)


__all__ = ["enet_path", "fit", "is_dask_collection", "lasso_path", "predict"]
