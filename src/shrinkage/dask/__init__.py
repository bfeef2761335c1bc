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


_LAZY = {"enet_path": ("_fit", "enet_path_dask"), "lasso_path": ("_fit", "lasso_path_dask"),
         "predict": ("_predict", "predict_dask"),
         "decision_function": ("_predict", "decision_function_dask"),
         "predict_labels": ("_predict", "predict_labels_dask"),
         "map_scores": ("_predict", "map_scores")}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(name)


__all__ = ["decision_function", "enet_path", "fit", "is_dask_collection", "lasso_path",
           "map_scores", "predict", "predict_labels"]
