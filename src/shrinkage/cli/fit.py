"""``shrinkage fit [DATA]``: a table in; the path, cross-validation, coefficients and a report out.

The features are standardised once on all rows (mean, population standard deviation, as glmnet's
``standardize=TRUE``) and the estimate minimises, over ``w`` and an unpenalized intercept ``b``::

    (1/2n) sum_i (y_i - b - z_i'w)^2 + λ P(w)

with ``z`` the standardised features and ``P`` the lasso's ``sum |w_j|``, ridge's
``sum w_j^2 / 2`` or the elastic net's ``sum rho |w_j| + (1 - rho) w_j^2 / 2`` (glmnet's
``lambda`` and ``alpha = rho``; shrinkage's ``alpha`` is λ). λ is chosen by K-fold
cross-validation along the path (shuffled folds, ``--seed``): λ.min minimises the mean held-out
squared error, λ.1se is the largest λ within one standard error of it (glmnet's rule,
:func:`~shrinkage.linear_model.one_standard_error_alpha`). Coefficients are reported on the
original scale of the features: ``beta_j = w_j / s_j`` and ``beta_0 = b - sum_j beta_j m_j``.

The lasso and elastic-net paths are :func:`~shrinkage.enet_path` on every fold (the same
computation as :class:`~shrinkage.LassoCV` / :class:`~shrinkage.ElasticNetCV` with these folds and
this grid, run fold by fold here so that a progress bar can follow it); ridge uses
:func:`~shrinkage.ridge_path` (one SVD per fold). Exit status 0 on success, 2 on bad usage or bad
input, with one line on stderr.
"""

import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

from ..linear_model import ElasticNet, Lasso, Ridge, enet_path, one_standard_error_alpha, ridge_path
from . import table as tables
from ._errors import InputError, OneLineParser, report_and_exit_code
from .fit_dask import LOCAL_WORKERS

PROG = "shrinkage fit"
PENALTIES = ("l1", "l2", "elasticnet")
INTERCEPT = "(intercept)"
OBJECTIVES = {
    "l1": "(1/2n) Σᵢ (yᵢ − b − zᵢᵀw)² + λ Σⱼ |wⱼ|",
    "l2": "(1/2n) Σᵢ (yᵢ − b − zᵢᵀw)² + λ Σⱼ wⱼ²/2",
    "elasticnet": "(1/2n) Σᵢ (yᵢ − b − zᵢᵀw)² + λ Σⱼ (ρ|wⱼ| + (1−ρ) wⱼ²/2)",
}
REFIT_TOL = 1e-8   # relative duality gap of the printed solutions
PATH_TOL = 1e-6    # relative duality gap along the paths


def _parser():
    parser = OneLineParser(
        prog=PROG,
        description="Fit a penalized linear regression on a table with K-fold cross-validation "
        "along the regularization path, as glmnet's cv.glmnet; print the coefficients at "
        "lambda.min and lambda.1se on the original scale and write coefficients, the path plot, "
        "the CV curve and report.html to --out. Without DATA: the embedded diabetes data.",
    )
    parser.add_argument("data", nargs="*", metavar="DATA",
                        help="CSV file (or .parquet with pyarrow installed); with --dask: "
                        "Parquet files, directories or globs (or CSV files)")
    parser.add_argument("--target", metavar="COL", help="column to predict (default: the last)")
    parser.add_argument("--penalty", choices=PENALTIES, default="l1",
                        help="l1 (lasso, default), l2 (ridge) or elasticnet")
    parser.add_argument("--l1-ratio", type=float, metavar="R",
                        help="elastic-net mixing rho in (0, 1] (glmnet's alpha; default 0.5)")
    parser.add_argument("--cv", type=int, default=10, metavar="K",
                        help="number of cross-validation folds (default 10, as cv.glmnet)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled folds (0)")
    parser.add_argument("--n-lambda", type=int, default=100, metavar="N",
                        help="number of λ on the path (default 100)")
    parser.add_argument("--lambda-min-ratio", type=float, metavar="EPS",
                        help="smallest λ / largest λ (default glmnet's: 1e-4 if n > p, else 1e-2;"
                        " ridge: the grid spans effective degrees of freedom from ~0 to the rank)")
    parser.add_argument("--out", default="shrinkage-fit", metavar="DIR",
                        help="output folder (default ./shrinkage-fit)")
    parser.add_argument("--sep", default=",", help="CSV field separator (default ',')")
    parser.add_argument("--no-onehot", action="store_true",
                        help="reject text columns instead of one-hot encoding them")
    parser.add_argument("--max-levels", type=int, default=50, metavar="N",
                        help="reject text columns with more distinct values (default 50)")
    parser.add_argument("--dropna", action="store_true",
                        help="drop rows with missing values (default: reject them)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--dask", action="store_true",
                        help="read DATA with dask.dataframe and fit on a dask cluster (the rows "
                        "never reach this process); needs shrinkage[dask]")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --dask: the address of an existing dask scheduler (default: "
                        f"a local cluster of {LOCAL_WORKERS} single-threaded worker processes)")
    return parser


def _check_args(args):
    if args.scheduler is not None and not args.dask:
        raise InputError("--scheduler applies to --dask only")
    if len(args.data) > 1 and not args.dask:
        raise InputError(f"{len(args.data)} DATA files given: one table at a time, or pass "
                         "--dask to read several Parquet files as one")
    if args.l1_ratio is not None:
        if args.penalty != "elasticnet":
            raise InputError("--l1-ratio applies to --penalty elasticnet only")
        if not (math.isfinite(args.l1_ratio) and 0 < args.l1_ratio <= 1):
            raise InputError(f"--l1-ratio must be in (0, 1], got {args.l1_ratio}")
    if args.cv < 2:
        raise InputError(f"--cv must be at least 2, got {args.cv}")
    if args.n_lambda < 2:
        raise InputError(f"--n-lambda must be at least 2, got {args.n_lambda}")
    if args.max_levels < 1:
        raise InputError(f"--max-levels must be at least 1, got {args.max_levels}")
    ratio = args.lambda_min_ratio
    if ratio is not None and not (math.isfinite(ratio) and 0 < ratio < 1):
        raise InputError(f"--lambda-min-ratio must be in (0, 1), got {ratio}")


@dataclass
class CVFit:
    """Everything ``shrinkage fit`` computed, on the standardised scale unless said otherwise."""

    alphas: np.ndarray          # (n_alphas,), decreasing
    path_coefs: np.ndarray      # (n_features, n_alphas), standardised scale
    n_nonzero: np.ndarray       # (n_alphas,)
    fold_mse: np.ndarray        # (n_alphas, n_folds)
    cvm: np.ndarray
    cvsd: np.ndarray
    alpha_min: float
    alpha_1se: float
    models: dict                # "lambda_min" / "lambda_1se" -> fitted estimator on z


def standardize(X):
    """``(Z, mean, scale)`` with population standard deviations, as glmnet."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    return (X - mean) / scale, mean, scale


def to_original_scale(coef, intercept, mean, scale):
    """Coefficients on standardised features mapped back: ``beta = w / s``, ``b - beta'm``."""
    beta = coef / scale
    return beta, float(intercept - beta @ mean)


def ridge_grid(Z, n_alphas, ratio=None):
    """λ grid for ridge on standardised ``Z``.

    With ``e`` the eigenvalues of ``Zc'Zc / n``, the effective degrees of freedom are
    ``sum e / (e + λ)``; the grid runs from ``1e3 max(e)`` (df ≈ 0) down to ``1e-3`` times the
    smallest positive eigenvalue (df ≈ the rank), or to ``ratio`` times its largest λ.
    """
    Zc = Z - Z.mean(axis=0)
    eig = np.linalg.svd(Zc, compute_uv=False) ** 2 / Z.shape[0]
    top = 1e3 * eig.max()
    bottom = 1e-3 * eig[eig > 1e-10 * eig.max()].min() if ratio is None else ratio * top
    return np.geomspace(top, bottom, n_alphas)


def _path(Z, y, penalty, l1_ratio, alphas):
    """Coefficients (n_features, n_alphas) and intercepts along ``alphas`` (an int: default grid)."""
    if penalty == "l2":
        coefs, intercepts = ridge_path(Z, y, alphas)
        return np.asarray(alphas, dtype=float), coefs.T, intercepts
    path = enet_path(Z, y, l1_ratio=l1_ratio, alphas=alphas, tol=PATH_TOL)
    return path.alphas, path.coefs, path.intercepts


def cross_validate(Z, y, *, penalty, l1_ratio, n_folds, seed, n_alphas, min_ratio, advance):
    """The full path, the fold errors along it, λ.min, λ.1se and the refits at both.

    ``advance()`` is called after the full path and after each fold (a progress bar).
    """
    n, p = Z.shape
    if min_ratio is None and penalty != "l2":
        min_ratio = 1e-4 if n > p else 1e-2
    if penalty == "l2":
        grid = ridge_grid(Z, n_alphas, min_ratio)
    else:
        lam_max = np.max(np.abs((Z - Z.mean(axis=0)).T @ (y - y.mean()))) / (n * l1_ratio)
        grid = np.geomspace(lam_max, lam_max * min_ratio, n_alphas)
    alphas, coefs, _ = _path(Z, y, penalty, l1_ratio, grid)
    advance()
    folds = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(Z)
    fold_mse = []
    for train, test in folds:
        _, fold_coefs, fold_intercepts = _path(Z[train], y[train], penalty, l1_ratio, alphas)
        residuals = Z[test] @ fold_coefs + fold_intercepts - y[test][:, None]
        fold_mse.append(np.mean(residuals**2, axis=0))
        advance()
    fold_mse = np.array(fold_mse).T
    alpha_min, alpha_1se, cvm, cvsd = one_standard_error_alpha(alphas, fold_mse)
    models = {name: _refit(Z, y, penalty, l1_ratio, alpha)
              for name, alpha in (("lambda_min", alpha_min), ("lambda_1se", alpha_1se))}
    return CVFit(alphas, coefs, np.count_nonzero(coefs, axis=0), fold_mse, cvm, cvsd, alpha_min,
                 alpha_1se, models)


def _refit(Z, y, penalty, l1_ratio, alpha):
    if penalty == "l2":
        model = Ridge(alpha=alpha)
    elif penalty == "l1":
        model = Lasso(alpha=alpha, tol=REFIT_TOL, max_iter=100_000)
    else:
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=REFIT_TOL, max_iter=100_000)
    return model.fit(Z, y)


def _progress(enabled, total):
    """A rich progress bar on stderr, or a no-op when disabled, rich is missing or not a TTY."""
    if enabled:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        except ImportError:
            enabled = False
        else:
            console = Console(stderr=True)
            enabled = console.is_terminal
    if not enabled:
        return _NoProgress()
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   console=console, transient=True)
    return _RichProgress(bar, total)


class _NoProgress:
    def __enter__(self):
        return lambda: None

    def __exit__(self, *exc):
        return False


class _RichProgress:
    def __init__(self, bar, total):
        self.bar, self.total = bar, total

    def __enter__(self):
        self.bar.__enter__()
        task = self.bar.add_task("path + cross-validation folds", total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)


def build_result(table, fit, args, l1_ratio, mean, scale):
    """The JSON-ready summary of a fit (also written to ``coefficients.json``)."""
    coefficients, standardized, gaps = {}, {}, {}
    for name, model in fit.models.items():
        beta, b0 = to_original_scale(model.coef_, model.intercept_, mean, scale)
        coefficients[name] = {INTERCEPT: b0, **dict(zip(table.feature_names, map(float, beta),
                                                         strict=True))}
        standardized[name] = {INTERCEPT: float(model.intercept_),
                              **dict(zip(table.feature_names, map(float, model.coef_), strict=True))}
        gaps[name] = float(model.dual_gap_)
    best = int(np.argmin(fit.cvm))
    one_se = int(np.flatnonzero(fit.alphas == fit.alpha_1se)[0])
    return {
        "data": {"source": table.source, "target": table.target,
                 "n_rows": int(getattr(table, "n_rows", None) or table.y.size),
                 "n_rows_read": table.n_rows_read, "n_rows_dropped": table.n_rows_dropped,
                 "features": table.feature_names, "one_hot": table.encoded},
        "settings": {"penalty": args.penalty, "l1_ratio": l1_ratio, "cv_folds": args.cv,
                     "seed": args.seed, "n_lambda": int(fit.alphas.size),
                     "lambda_max": float(fit.alphas[0]), "lambda_min_grid": float(fit.alphas[-1]),
                     "standardize": "mean 0, population standard deviation 1, on all rows",
                     "path_tol": PATH_TOL, "refit_tol": REFIT_TOL},
        "objective": OBJECTIVES[args.penalty] + "   (z: standardised features; ρ = l1_ratio)",
        "lambda_min": fit.alpha_min, "lambda_1se": fit.alpha_1se,
        "cv_mse": {"lambda_min": float(fit.cvm[best]), "lambda_1se": float(fit.cvm[one_se]),
                   "se_lambda_min": float(fit.cvsd[best]), "se_lambda_1se": float(fit.cvsd[one_se])},
        "n_nonzero": {name: int(np.count_nonzero(m.coef_)) for name, m in fit.models.items()},
        "coefficients": coefficients,
        "coefficients_standardized": standardized,
        "dual_gap": gaps,
        "cv": {"lambda": fit.alphas.tolist(), "mse": fit.cvm.tolist(), "mse_se": fit.cvsd.tolist(),
               "n_nonzero": fit.n_nonzero.tolist()},
    }


def _dask_lines(summary):
    if summary is None:
        return []
    passes = summary["passes"]
    where = ("a local cluster" if summary["scheduler"] == "local"
             else f"the scheduler at {summary['scheduler']}")
    return [f"dask: {summary['n_partitions']} partitions on {where} ({summary['n_workers']} "
            f"workers); {summary['n_passes']} passes over the data ({passes['moments']} for the "
            f"column moments, {passes['cross_validation']} for the cross-validation and the "
            f"λ.min refit, {passes['path']} for the path)"]


def _fmt(value):
    return "." if value == 0 else f"{value:.6g}"


def coefficient_table(result):
    """The coefficients at λ.min and λ.1se on the original scale, glmnet's ``.`` for zeros."""
    coefs = result["coefficients"]
    names = list(coefs["lambda_min"])
    width = max(12, *(len(name) for name in names)) + 2
    lines = [f"{'':<{width}}{'lambda.min':>14}{'lambda.1se':>14}"]
    lines += [f"{name:<{width}}{_fmt(coefs['lambda_min'][name]):>14}"
              f"{_fmt(coefs['lambda_1se'][name]):>14}" for name in names]
    return "\n".join(lines)


def summary_text(result):
    """The human-readable report printed by ``shrinkage fit``."""
    data, settings, mse = result["data"], result["settings"], result["cv_mse"]
    dropped = f", {data['n_rows_dropped']} rows with missing values dropped" if (
        data["n_rows_dropped"]) else ""
    name = {"l1": "lasso", "l2": "ridge", "elasticnet": f"elastic net (ρ = {settings['l1_ratio']:g})"}
    lines = [
        f"{data['source']}: {data['n_rows']} rows, {len(data['features'])} features{dropped}; "
        f"target '{data['target']}'",
        f"{name[settings['penalty']]}: minimises {result['objective']}",
        f"{settings['cv_folds']}-fold cross-validation ("
        f"{settings.get('folds') or 'seed ' + str(settings['seed'])}) over "
        f"{settings['n_lambda']} λ from {settings['lambda_max']:.4g} to "
        f"{settings['lambda_min_grid']:.4g}",
        f"lambda.min = {result['lambda_min']:.6g}   CV MSE {mse['lambda_min']:.6g} ± "
        f"{mse['se_lambda_min']:.3g}   {result['n_nonzero']['lambda_min']} nonzero",
        f"lambda.1se = {result['lambda_1se']:.6g}   CV MSE {mse['lambda_1se']:.6g} ± "
        f"{mse['se_lambda_1se']:.3g}   {result['n_nonzero']['lambda_1se']} nonzero",
        *_dask_lines(result.get("dask")),
        "",
        "Coefficients on the original scale of the features:",
        coefficient_table(result),
    ]
    return "\n".join(lines)


def write_outputs(out, result, fit, table):
    """coefficients.csv/.json, path.png, cv.png and report.html in ``out``; returns their paths."""
    from ..plot import plot_cv, plot_path
    from .report import write_report

    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / name for name in ("coefficients.csv", "coefficients.json", "path.png",
                                           "cv.png", "report.html")}
    rows = ["feature,lambda_min,lambda_1se,lambda_min_standardized,lambda_1se_standardized"]
    coefs, std = result["coefficients"], result["coefficients_standardized"]
    for name in coefs["lambda_min"]:
        cells = [coefs["lambda_min"][name], coefs["lambda_1se"][name],
                 std["lambda_min"][name], std["lambda_1se"][name]]
        quoted = '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n') else name
        rows.append(",".join([quoted, *(repr(float(c)) for c in cells)]))
    files["coefficients.csv"].write_text("\n".join(rows) + "\n", encoding="utf-8")
    marks = {"λ.min": fit.alpha_min, "λ.1se": fit.alpha_1se}
    figure = plot_path(fit.alphas, fit.path_coefs, feature_names=table.feature_names, marks=marks)
    label = {"l1": "lasso", "l2": "ridge", "elasticnet": "elastic net"}[result["settings"]["penalty"]]
    figure.axes[0].set_title(f"{label} path (standardised features)")
    figure.savefig(files["path.png"], dpi=110)
    figure = plot_cv(fit.alphas, fit.cvm, fit.cvsd, alpha_min=fit.alpha_min,
                     alpha_1se=fit.alpha_1se, n_nonzero=fit.n_nonzero)
    figure.axes[0].set_title(f"{result['settings']['cv_folds']}-fold cross-validation")
    figure.savefig(files["cv.png"], dpi=110)
    result["files"] = {name: str(path) for name, path in files.items()}
    files["coefficients.json"].write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    write_report(files["report.html"], result, files["path.png"], files["cv.png"],
                 coefficient_table(result))
    return files


def run(args):
    """Load, check, fit and write; returns the result dictionary."""
    _check_args(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    if args.dask:  # the same computation through the estimators' dask route
        from . import fit_dask

        table, fit, l1_ratio, mean, scale, dask_summary = fit_dask.run(args)
        result = build_result(table, fit, args, l1_ratio, mean, scale)
        result["settings"].update(seed=None, folds=dask_summary["folds"], path_tol=REFIT_TOL)
        result["dask"] = dask_summary
    else:
        table, fit, l1_ratio, mean, scale = _fit_in_memory(args)
        result = build_result(table, fit, args, l1_ratio, mean, scale)
    try:
        write_outputs(out, result, fit, table)
    except OSError as err:
        raise InputError(f"cannot write to --out {out}: {err.strerror}") from err
    return result


def _fit_in_memory(args):
    if not args.data:
        frame, source = tables.load_default(), "diabetes (embedded)"
        target = args.target or "progression"
    else:
        frame, source = tables.read_table(args.data[0], sep=args.sep), args.data[0]
        target = args.target
    table = tables.prepare(frame, target, source=source, onehot=not args.no_onehot,
                           max_levels=args.max_levels, dropna=args.dropna)
    n = table.y.size
    if args.cv > n:
        raise InputError(f"--cv {args.cv} needs at least {args.cv} rows; {source} has {n}")
    l1_ratio = {"l1": 1.0, "l2": 0.0}.get(args.penalty, args.l1_ratio or 0.5)
    Z, mean, scale = standardize(table.X)
    with _progress(not (args.quiet or args.json), args.cv + 1) as advance:
        fit = cross_validate(Z, table.y, penalty=args.penalty, l1_ratio=l1_ratio,
                             n_folds=args.cv, seed=args.seed, n_alphas=args.n_lambda,
                             min_ratio=args.lambda_min_ratio, advance=advance)
    return table, fit, l1_ratio, mean, scale


def main(argv=None):
    """``shrinkage fit``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        result = run(args)
    except InputError as err:
        return report_and_exit_code(PROG, err)
    try:
        if args.json:
            print(json.dumps(result, indent=2, ensure_ascii=False))
        elif not args.quiet:
            print(summary_text(result))
            print(f"\nWrote {', '.join(Path(p).name for p in result['files'].values())} to "
                  f"{Path(args.out)}/")
        sys.stdout.flush()
    except BrokenPipeError:  # `shrinkage fit | head`: the reader left, which is fine
        sys.stdout = open(os.devnull, "w")  # silence the flush at exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
