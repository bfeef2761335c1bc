"""The regularization path: glmnet's ``plot(fit)``."""

import numpy as np

from ._common import mark_alphas, new_axes, top_axis_counts


def plot_path(alphas, coefs=None, *, feature_names=None, marks=None, ax=None, max_legend=20):
    """Coefficients against log λ, with the number of nonzero coefficients on the top axis.

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,) or RegularizationPath
        The grid; a :class:`~shrinkage.linear_model._path.RegularizationPath` (from
        :func:`~shrinkage.lasso_path` or :func:`~shrinkage.enet_path`) brings its own ``coefs``.
    coefs : ndarray of shape (n_features, n_alphas), optional
        One column per alpha, as ``enet_path`` returns them.
    feature_names : list of str, optional
        Legend entries (shown for at most ``max_legend`` features).
    marks : dict of str to float, optional
        Alphas to mark with vertical lines, e.g. ``{"λ.min": cv.alpha_min_, "λ.1se": ...}``.
    ax : matplotlib Axes, optional
        Drawn into a new figure when absent.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if coefs is None:
        alphas, coefs = alphas.alphas, alphas.coefs
    alphas = np.asarray(alphas, dtype=np.float64)
    coefs = np.asarray(coefs, dtype=np.float64)
    if coefs.ndim != 2 or coefs.shape[1] != alphas.size:
        raise ValueError(f"coefs must have shape (n_features, {alphas.size}), got {coefs.shape}")
    if np.any(alphas <= 0):
        raise ValueError("alphas must be positive to be drawn on a log scale")
    ax = new_axes(ax)
    log_alphas = np.log(alphas)
    order = np.argsort(log_alphas)
    for j, row in enumerate(coefs):
        label = feature_names[j] if feature_names is not None else None
        ax.plot(log_alphas[order], row[order], linewidth=1.2, label=label)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    mark_alphas(ax, marks or {})
    ax.set_xlabel("log(λ)")
    ax.set_ylabel("coefficient")
    top_axis_counts(ax, log_alphas[order], np.count_nonzero(coefs, axis=0)[order])
    if feature_names is not None and len(feature_names) <= max_legend:
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax.figure
