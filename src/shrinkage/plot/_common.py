"""Shared pieces of the figures: a headless figure and glmnet's top axis of nonzero counts."""

import numpy as np


def new_axes(ax, figsize=(7.5, 4.8)):
    """``ax`` itself, or the axes of a new headless figure (no pyplot, no global state)."""
    if ax is not None:
        return ax
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("shrinkage.plot needs matplotlib: pip install 'shrinkage[plot]'") from err
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def top_axis_counts(ax, log_alphas, counts, n_ticks=8):
    """Label the top axis with ``counts`` at about ``n_ticks`` of the ``log_alphas``, as glmnet."""
    if counts is None:
        return None
    counts = np.asarray(counts)
    idx = np.unique(np.linspace(0, len(log_alphas) - 1, min(n_ticks, len(log_alphas))).round()
                    .astype(int))
    top = ax.secondary_xaxis("top")
    top.set_xticks(np.asarray(log_alphas)[idx], labels=[str(int(c)) for c in counts[idx]])
    top.set_xlabel("nonzero coefficients")
    return top


def mark_alphas(ax, marks):
    """Vertical dotted lines at the named alphas (``{"λ.min": 0.1, ...}``)."""
    styles = ["k:", "k--"]
    for (name, value), style in zip(marks.items(), styles * len(marks), strict=False):
        if value is not None:
            ax.axvline(np.log(value), color=style[0], linestyle=style[1:], linewidth=1,
                       label=f"{name} = {value:.4g}")


def new_figure(figsize=(11.0, 4.6)):
    """A new headless figure (no pyplot, no global state), laid out by matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("shrinkage.plot needs matplotlib: pip install 'shrinkage[plot]'") from err
    return Figure(figsize=figsize, layout="constrained")
