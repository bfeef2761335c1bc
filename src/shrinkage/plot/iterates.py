"""Coefficients over the iterations of an optimiser: one line per coefficient."""

import numpy as np

from ._common import new_axes


def plot_iterates(history, *, labels=None, reference=None, title=None, ax=None):
    """Draw ``history[t, j]`` (coefficient j after iteration t) against t.

    Parameters
    ----------
    history : ndarray of shape (n_iter + 1, n_features)
        Row 0 is the starting point.
    labels : list of str, optional
    reference : ndarray of shape (n_features,), optional
        The solution the iterates should reach, drawn as dotted horizontal lines.
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    history = np.asarray(history, dtype=np.float64)
    ax = new_axes(ax)
    steps = np.arange(history.shape[0])
    for j in range(history.shape[1]):
        line, = ax.plot(steps, history[:, j], linewidth=1.5,
                        label=None if labels is None else labels[j])
        if reference is not None:
            ax.axhline(reference[j], color=line.get_color(), linestyle=":", linewidth=1)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_xlabel("iteration")
    ax.set_ylabel("weight")
    if title:
        ax.set_title(title)
    if labels is not None:
        ax.legend(fontsize="small", frameon=False)
    return ax.figure
