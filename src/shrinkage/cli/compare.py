"""``shrinkage`` with no command: four fits side by side.

``shrinkage`` on its own fits least squares, ridge, lasso and elastic net on the embedded diabetes
data (standardised features) and prints the coefficients side by side, with each fit's duality
gap. Exit status 0 on success, 2 on bad usage.
"""

import json

import numpy as np

from ..datasets import load_diabetes, standardize
from ..linear_model import ElasticNet, Lasso, MAPRegressor, Ridge
from ._errors import OneLineParser


def _parser():
    parser = OneLineParser(
        prog="shrinkage",
        description="Fit OLS, ridge, lasso and elastic net on the embedded diabetes data and "
        "print the coefficients side by side. Objective: (1/2n)||y - Xw - b||^2 + alpha P(w).",
        epilog="Commands: 'shrinkage fit [DATA]' fits a table with cross-validation along the "
        "path and writes a report (see 'shrinkage fit --help').",
    )
    parser.add_argument("--alpha", type=float, default=1.0,
                        help="penalty strength alpha (default 1.0; standardised features)")
    parser.add_argument("--l1-ratio", type=float, default=0.5,
                        help="elastic-net mixing in [0, 1] (default 0.5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def _fits(alpha, l1_ratio):
    X, y, names = load_diabetes()
    X = standardize(X)
    models = {
        "OLS (flat prior)": MAPRegressor(),
        f"Ridge a={alpha:g}": Ridge(alpha=alpha),
        f"Lasso a={alpha:g}": Lasso(alpha=alpha, tol=1e-10),
        f"ENet a={alpha:g} r={l1_ratio:g}": ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-10),
    }
    for model in models.values():
        model.fit(X, y)
    return names, models


def _table(names, models):
    labels = list(models)
    width = max(len(label) for label in labels) + 2
    lines = [f"{'feature':<10}" + "".join(f"{label:>{width}}" for label in labels)]
    rows = [("intercept", [m.intercept_ for m in models.values()])]
    rows += [(name, [m.coef_[j] for m in models.values()]) for j, name in enumerate(names)]
    for name, values in rows:
        lines.append(f"{name:<10}" + "".join(f"{v:>{width}.4f}" for v in values))
    lines.append(f"{'nonzero':<10}" + "".join(
        f"{int(np.count_nonzero(m.coef_)):>{width}d}" for m in models.values()))
    lines.append(f"{'dual gap':<10}" + "".join(
        f"{m.dual_gap_:>{width}.1e}" for m in models.values()))
    return "\n".join(lines)


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not np.isfinite(args.alpha) or args.alpha < 0:
        parser.exit(2, f"shrinkage: error: --alpha must be finite and >= 0, got {args.alpha}\n")
    if not 0.0 <= args.l1_ratio <= 1.0:
        parser.exit(2, f"shrinkage: error: --l1-ratio must be in [0, 1], got {args.l1_ratio}\n")
    names, models = _fits(args.alpha, args.l1_ratio)
    if args.json:
        out = {label: {"intercept": float(m.intercept_),
                       "coef": dict(zip(names, map(float, m.coef_), strict=True)),
                       "dual_gap": float(m.dual_gap_)} for label, m in models.items()}
        print(json.dumps(out, indent=2))
        return 0
    print("Diabetes data (442 x 10), standardised features. Each column minimises")
    print("(1/2n)||y - Xw - b||^2 + alpha * P(w):  OLS P=0,  ridge P=||w||^2/2,  lasso P=||w||_1,")
    print("elastic net P = r||w||_1 + (1-r)||w||^2/2.\n")
    print(_table(names, models))
    return 0


