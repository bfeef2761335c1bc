"""The seeds' pictures, one small module each, behind ``shrinkage demo NAME``.

Every demo module has the same four names:

- ``TITLE``: one line;
- ``compute()``: the numbers, computed by shrinkage's estimators, penalties and priors (a dict of
  plain floats and lists, JSON-ready);
- ``figures(result)``: ``{"file.png": matplotlib Figure}`` drawn from those numbers;
- ``summary(result)``: the numbers as text, as the command prints them.

:func:`run` computes a demo and writes its figures; the command line prints the result.
"""

from importlib import import_module
from pathlib import Path

DEMOS = ("overfit", "priors", "geometry", "updates", "distance", "nn-sparsity", "boosting")

__all__ = ["DEMOS", "get", "run"]


def get(name):
    """The module of demo ``name`` (one of :data:`DEMOS`)."""
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r}; choose from {', '.join(DEMOS)}")
    return import_module(f".{name.replace('-', '_')}", __name__)


def run(name, out=None, dpi=110):
    """Compute demo ``name``; with ``out``, write its PNGs there and list them in ``files``."""
    demo = get(name)
    result = {"demo": name, "title": demo.TITLE, **demo.compute()}
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = {}
        for filename, figure in demo.figures(result).items():
            figure.savefig(out / filename, dpi=dpi)
            files[filename] = str(out / filename)
        result["files"] = files
    return result


def summary(result):
    """The text that ``shrinkage demo NAME`` prints for ``result``."""
    return get(result["demo"]).summary(result)


def vector(values, fmt="{: .4g}"):
    """``[ 1.2, -3.4e+09, ...]``: a coefficient vector on one line."""
    return "[" + ", ".join(fmt.format(float(v)) for v in values) + "]"
