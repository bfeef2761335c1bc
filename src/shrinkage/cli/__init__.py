"""The ``shrinkage`` command line.

``shrinkage`` alone fits OLS, ridge, lasso and elastic net side by side on the embedded diabetes
data (:mod:`.compare`); ``shrinkage fit [DATA]`` fits a table with cross-validation along the
regularization path and writes a report (:mod:`.fit`); ``shrinkage demo NAME`` runs one of the
teaching demos of :mod:`shrinkage.demos`, printing its numbers and writing its figures
(:mod:`.demo`). Exit status 0 on success, 2 on bad usage or bad input (one line on stderr, no
traceback).
"""

import sys

__all__ = ["main"]

COMMANDS = ("fit", "demo")


def main(argv=None):
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "fit":
        from .fit import main as fit_main

        return fit_main(argv[1:])
    if argv and argv[0] == "demo":
        from .demo import main as demo_main

        return demo_main(argv[1:])
    from .compare import main as compare_main

    return compare_main(argv)
