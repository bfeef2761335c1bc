"""``shrinkage demo NAME [--out DIR] [--json]``: the seeds' pictures, with the numbers they show.

Each demo (:mod:`shrinkage.demos`) computes its numbers with shrinkage, prints them (or the JSON
of them with ``--json``) and writes its PNG figures to ``--out``. ``all`` runs every demo.
Exit status 0 on success, 2 on bad usage (one line on stderr).
"""

import json
import os
import sys
from pathlib import Path

from ._errors import InputError, OneLineParser, report_and_exit_code

PROG = "shrinkage demo"


def _parser():
    from ..demos import DEMOS

    parser = OneLineParser(
        prog=PROG,
        description="Run a teaching demo: print the numbers it computes and write its figure(s). "
        "overfit: degree-15 polynomial without/with ridge; priors: Laplace vs Gaussian and "
        "penalties as negative log-priors; geometry: L1 diamond and L2 disc against loss "
        "contours; updates: L1's constant step vs L2's decay; distance: Goodfellow et al. "
        "eqs. 7.13 and 7.23 against Ridge/Lasso fits; nn-sparsity: an MLP on digits with L1 as "
        "a loss term vs L1 by proximal steps (needs shrinkage[torch]); boosting: L1/L2 on "
        "leaf weights and the leaf lasso.",
    )
    parser.add_argument("name", choices=(*DEMOS, "all"), help="which demo (or all)")
    parser.add_argument("--out", default="shrinkage-demo", metavar="DIR",
                        help="folder for the PNG files (default: ./shrinkage-demo)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    return parser


def run(name, out):
    """Run one demo (or all) and return the list of results."""
    from ..demos import DEMOS
    from ..demos import run as run_demo

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    results = []
    for demo in DEMOS if name == "all" else (name,):
        try:
            results.append(run_demo(demo, out))
        except ImportError as err:  # an optional dependency (torch for nn-sparsity): say which
            if name != "all":
                raise InputError(str(err)) from err
            print(f"{PROG}: skipping {demo}: {err}", file=sys.stderr)
        except OSError as err:
            raise InputError(f"cannot write to --out {out}: {err.strerror}") from err
    return results


def main(argv=None):
    """``shrinkage demo``; returns the exit status."""
    from ..demos import summary

    args = _parser().parse_args(argv)
    try:
        results = run(args.name, args.out)
    except InputError as err:
        return report_and_exit_code(PROG, err)
    try:
        if args.json:
            print(json.dumps(results[0] if len(results) == 1 else results, indent=2,
                             ensure_ascii=False))
        else:
            for result in results:
                print(summary(result))
                print(f"\nWrote {', '.join(Path(p).name for p in result['files'].values())} "
                      f"to {Path(args.out)}/\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `shrinkage demo ... | head`: the reader left, which is fine
        sys.stdout = open(os.devnull, "w")
    return 0


if __name__ == "__main__":
    sys.exit(main())
