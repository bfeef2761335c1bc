"""The cross-validation curve: glmnet's ``plot(cv.glmnet(...))``."""

import numpy as np

from ._common import mark_alphas, new_axes, top_axis_counts


def plot_cv(alphas, mse_mean=None, mse_se=None, *, alpha_min=None, alpha_1se=None,
            n_nonzero=None, ax=None):
    """Mean cross-validated error against log λ, with one-standard-error bars and both λ lines.

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,) or fitted LassoCV / ElasticNetCV
        The grid; a fitted cross-validation estimator brings ``alphas_``, the mean of
        ``mse_path_``, ``mse_std_``, ``alpha_min_`` and ``alpha_1se_`` (a single ``l1_ratio``).
    mse_mean, mse_se : ndarray of shape (n_alphas,)
        Mean error over the folds and its standard error.
    alpha_min, alpha_1se : float, optional
        Marked by vertical lines.
    n_nonzero : ndarray of shape (n_alphas,), optional
        Number of nonzero coefficients at each alpha, shown on the top axis.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if mse_mean is None:
        cv = alphas
        if np.ndim(cv.alphas_) != 1:
            raise ValueError("plot_cv draws one l1_ratio's curve: pass its arrays")
        alphas, mse_mean, mse_se = cv.alphas_, cv.mse_path_.mean(axis=1), cv.mse_std_
        alpha_min, alpha_1se = cv.alpha_min_, cv.alpha_1se_
    alphas = np.asarray(alphas, dtype=np.float64)
    mse_mean = np.asarray(mse_mean, dtype=np.float64)
    mse_se = np.zeros_like(mse_mean) if mse_se is None else np.asarray(mse_se, dtype=np.float64)
    if not alphas.shape == mse_mean.shape == mse_se.shape:
        raise ValueError("alphas, mse_mean and mse_se must have the same shape")
    ax = new_axes(ax)
    log_alphas = np.log(alphas)
    ax.errorbar(log_alphas, mse_mean, yerr=mse_se, fmt="o", color="tab:red", markersize=3,
                ecolor="0.55", elinewidth=0.8, capsize=1.5)
    mark_alphas(ax, {"λ.min": alpha_min, "λ.1se": alpha_1se})
    ax.set_xlabel("log(λ)")
    ax.set_ylabel("mean-squared error (CV)")
    if n_nonzero is not None:
        order = np.argsort(log_alphas)
        top_axis_counts(ax, log_alphas[order], np.asarray(n_nonzero)[order])
    if alpha_min is not None or alpha_1se is not None:
        ax.legend(fontsize="small", frameon=False)
    return ax.figure
