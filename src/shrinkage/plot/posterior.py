"""The two views of one fitted Bayesian lasso side by side: the MAP point and the posterior."""

import numpy as np

from ._common import new_figure


def plot_posterior(model, map_coef=None, *, level=0.95, feature_names=None, n_densities=3):
    """Left: per coefficient the MAP point (lasso), posterior mean and median and the credible
    interval; right: the prior (``model.prior_``, a Laplace) and the posterior density (histogram of
    the draws) of the ``n_densities`` coefficients with the largest posterior |mean|.

    Parameters
    ----------
    model : fitted shrinkage.BayesianLasso
    map_coef : ndarray of shape (n_features,), optional
        The mode, e.g. ``model.mode_estimator().fit(X, y).coef_`` (the Lasso at ``model.alpha_``).
    level : float, default=0.95
    feature_names : list of str, optional
    n_densities : int, default=3

    Returns
    -------
    matplotlib.figure.Figure
    """
    p = model.coef_.shape[0]
    names = feature_names or [f"x{j}" for j in range(p)]
    ci = model.credible_interval(level)
    figure = new_figure()
    ax, dens = figure.subplots(1, 2)
    rows = np.arange(p)[::-1]
    ax.hlines(rows, ci[:, 0], ci[:, 1], color="tab:blue", label=f"{level:.0%} credible interval")
    ax.plot(model.coef_, rows, "o", color="tab:blue", label="posterior mean")
    ax.plot(model.coef_median_, rows, "|", color="k", markersize=10, label="posterior median")
    if map_coef is not None:
        ax.plot(map_coef, rows, "x", color="tab:red", label="MAP (lasso)")
    ax.axvline(0.0, color="0.7", linewidth=0.8)
    ax.set_yticks(rows, labels=names)
    ax.set_xlabel("coefficient")
    ax.legend(fontsize="small")
    draws = model.coef_samples_.reshape(-1, p)
    order = np.argsort(-np.abs(model.coef_))[:n_densities]
    lo, hi = draws[:, order].min(), draws[:, order].max()
    grid = np.linspace(min(lo, -hi), max(hi, -lo), 400)
    dens.plot(grid, np.exp(model.prior_.logpdf(grid)), "k--", label=repr(model.prior_))
    for j in order:
        dens.hist(draws[:, j], bins=50, density=True, alpha=0.5, label=f"posterior {names[j]}")
    dens.set_xlabel("coefficient")
    dens.set_ylabel("density")
    dens.legend(fontsize="small")
    return figure
