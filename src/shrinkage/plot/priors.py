"""Priors and their penalties side by side: densities, and each penalty as a negative log-prior."""

import numpy as np

from ._common import new_figure


def plot_priors(priors, *, labels=None, grid=None, penalties=None, noise=1.0, n_samples=1):
    """Two panels: the densities of ``priors``, and ``-log p(w) + log p(0)`` for each.

    Parameters
    ----------
    priors : list of shrinkage.priors.Prior
        Scalar-scale priors (``Laplace``, ``Gaussian``, ``ElasticNetPrior`` ...).
    labels : list of str, optional
    grid : ndarray, optional
        Coefficient values to draw (default ``linspace(-3, 3, 601)``).
    penalties : list of shrinkage.penalties.Penalty, optional
        Drawn as markers on the right panel, scaled by ``n_samples / noise**2``: the penalty
        ``alpha P(w)`` of the objective ``(1/2n) ||y - Xw||^2 + alpha P(w)`` is the negative
        log-prior times ``noise^2 / n``, so the markers fall on the curves.

    Returns
    -------
    matplotlib.figure.Figure
    """
    grid = np.linspace(-3.0, 3.0, 601) if grid is None else np.asarray(grid, dtype=np.float64)
    labels = labels or [repr(prior) for prior in priors]
    figure = new_figure()
    density_ax, nlp_ax = figure.subplots(1, 2)
    colours = ["tab:red", "tab:blue", "tab:green", "tab:purple"]
    for k, (prior, label) in enumerate(zip(priors, labels, strict=True)):
        colour = colours[k % len(colours)]
        logpdf = prior.logpdf(grid)
        density_ax.plot(grid, np.exp(logpdf), color=colour, label=label)
        nlp_ax.plot(grid, -(logpdf - prior.logpdf(0.0)), color=colour, label=f"−log p(w), {label}")
        if penalties is not None:
            marks = grid[::40]
            scaled = [n_samples / noise**2 * penalties[k].value(np.array([w])) for w in marks]
            nlp_ax.plot(marks, scaled, "o", color=colour, markersize=4, fillstyle="none",
                        label=f"(n/σ²)·{penalties[k]!r}")
    density_ax.set_xlabel("w")
    density_ax.set_ylabel("density p(w)")
    density_ax.set_title("priors of equal variance")
    density_ax.legend(fontsize="small", frameon=False)
    nlp_ax.set_xlabel("w")
    nlp_ax.set_ylabel("−log p(w) + log p(0)")
    nlp_ax.set_title("each penalty is a negative log-prior")
    nlp_ax.legend(fontsize="small", frameon=False)
    return figure
