"""``shrinkage fit DATA... --dask``: the same fit as ``shrinkage fit``, the rows on a dask cluster.

The table is read lazily with ``dask.dataframe`` (Parquet files, directories or globs; CSV files)
and never gathered on the client. The computation is ``shrinkage fit``'s, through the estimators'
dask route (:mod:`shrinkage.dask`):

1. one pass over the data for the column moments (row counts, missing values, means, population
   standard deviations, minima and maxima: the checks of :func:`.table.prepare` and the
   standardisation ``z = (x - m) / s``, applied lazily block by block);
2. :class:`~shrinkage.LassoCV` / :class:`~shrinkage.ElasticNetCV` on ``z``: the fold errors along
   the path and the λ.min refit (two passes, the folds being contiguous groups of partitions, as
   the dask route defines them; the data are repartitioned when they have fewer partitions than
   folds);
3. :func:`~shrinkage.enet_path` on ``z`` over the CV grid: the full path for the plot and the
   λ.1se solution, each with its certified duality gap (two passes).

Five passes in all, whatever the number of λ and folds. The cluster is a local one (two worker
processes of one thread each, on loopback) unless ``--scheduler`` names an existing scheduler.
"""

import contextlib
import glob
import importlib.util
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..linear_model import ElasticNetCV, LassoCV, enet_path, one_standard_error_alpha
from ._errors import InputError
from .table import PARQUET_SUFFIXES, _quote, split_columns

LOCAL_WORKERS = 2
CONNECT_TIMEOUT = "10s"


@dataclass
class DaskTable:
    """What ``shrinkage fit`` reports about a table it never holds (see :class:`.table.Table`)."""

    feature_names: list
    target: str
    source: str
    n_rows: int
    n_rows_read: int
    n_rows_dropped: int = 0
    encoded: dict = field(default_factory=dict)


@dataclass
class PathPoint:
    """One certified point of a dask path, read like a fitted estimator by the report."""

    coef_: np.ndarray
    intercept_: float
    dual_gap_: float


def _dask():
    """``dask.dataframe`` and ``distributed``, or an :class:`InputError` naming the extra."""
    try:
        import dask.dataframe as dd
        import distributed
    except ImportError as err:
        raise InputError(f"--dask needs dask and distributed ({err.name} is missing): "
                         "pip install 'shrinkage[dask]'") from err
    return dd, distributed


def check_args(args):
    """The ``--dask`` specific usage errors (before anything is read)."""
    if not args.data:
        raise InputError("--dask needs DATA: Parquet files, a directory of them or a glob")
    if args.penalty == "l2":
        raise InputError("--penalty l2 is not available with --dask (ridge's cross-validation "
                         "needs the rows); use l1 or elasticnet, or drop --dask")


def _expand(paths):
    """The files and directories named by ``paths`` (globs expanded, in order)."""
    found = []
    for name in paths:
        if Path(name).exists():
            found.append(Path(name))
            continue
        matches = sorted(glob.glob(name)) if glob.has_magic(name) else []
        if not matches:
            raise InputError(f"no such file: {name}" if not glob.has_magic(name)
                             else f"no file matches {name}")
        found.extend(Path(m) for m in matches)
    return found


def read_frame(paths, sep=","):
    """A lazy dask DataFrame over ``paths`` and a name for it in messages."""
    dd, _ = _dask()
    files = _expand(paths)
    source = paths[0] if len(paths) == 1 else f"{paths[0]} and {len(paths) - 1} more"
    parquet = [f.is_dir() or f.suffix.lower() in PARQUET_SUFFIXES for f in files]
    try:
        if all(parquet):
            if importlib.util.find_spec("pyarrow") is None:
                raise InputError("reading Parquet needs pyarrow: pip install 'shrinkage[dask]'")
            if len(files) == 1:
                frame = dd.read_parquet(str(files[0]))
            else:  # several directories or files: one list of files, in order
                listed = []
                for f in files:
                    listed += (sorted(str(g) for g in f.rglob("*") if g.suffix.lower()
                                      in PARQUET_SUFFIXES) if f.is_dir() else [str(f)])
                frame = dd.read_parquet(listed)
        elif not any(parquet):
            frame = dd.read_csv([str(f) for f in files], sep=sep)
        else:
            raise InputError("DATA mixes Parquet and CSV files; give one kind")
    except InputError:
        raise
    except Exception as err:  # pyarrow / pandas raise their own types for unreadable files
        raise InputError(f"cannot read {source}: {err}") from err
    return frame, source


def _is_text(dtype):
    import pandas as pd

    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


def select_columns(frame, target, source):
    """``(features, target)``: column checks on the frame's metadata (no pass over the data)."""
    columns = [str(c) for c in frame.columns]
    if list(frame.columns) != columns:
        frame = frame.rename(columns=dict(zip(frame.columns, columns, strict=True)))
    target, features = split_columns(columns, target, source)
    if _is_text(frame.dtypes[target]):
        raise InputError(f"target column '{target}' is not numeric "
                         f"({frame.dtypes[target]}); shrinkage fit does least-squares regression")
    text = [c for c in features if _is_text(frame.dtypes[c])]
    if text:
        raise InputError(f"text column(s) {_quote(text)} in {source}: one-hot encoding is not "
                         "available with --dask; encode or remove them")
    return frame, features, target


def moments(frame, features, target, source, dropna):
    """One pass: the checks of :func:`.table.prepare` and the standardisation's ``(m, s)``.

    Returns ``(frame, table, mean, scale)`` with ``frame`` the rows kept (``--dropna``).
    """
    import dask

    frame = frame[[*features, target]]
    kept = frame.dropna() if dropna else frame
    try:
        n_read, n, missing, mean, std, low, high = dask.compute(
            frame.shape[0], kept.shape[0], frame.isna().sum(), kept.mean(), kept.std(ddof=0),
            kept.min(), kept.max())
    except Exception as err:  # a file that cannot be read shows up here, in the first pass
        raise InputError(f"cannot read {source}: {err}") from err
    holes = [c for c in missing.index if missing[c] > 0]
    if holes and not dropna:
        counts = ", ".join(f"'{c}' ({int(missing[c])} rows)" for c in holes[:6])
        more = f" and {len(holes) - 6} more columns" if len(holes) > 6 else ""
        raise InputError(f"missing values in {source}: {counts}{more}; pass --dropna to drop "
                         "those rows, or fill them in")
    if n == 0:
        raise InputError(f"{source} has no data rows" if n_read == 0 else
                         f"every row of {source} has a missing value: nothing is left after "
                         "--dropna")
    # a finite column has a finite mean and spread; anything else holds an infinity
    infinite = [c for c in [*features, target]
                if not (np.isfinite(mean[c]) and np.isfinite(std[c]))]
    if target in infinite:
        raise InputError(f"target column '{target}' has infinite values")
    if infinite:
        raise InputError(f"infinite values in column(s) {_quote(infinite)} of {source}")
    if low[target] == high[target]:
        raise InputError(f"target column '{target}' is constant ({low[target]:g}): there is "
                         "nothing to predict")
    constant = [c for c in features if low[c] == high[c]]
    if constant:
        raise InputError(f"constant column(s) {_quote(constant)} in {source}: a single value "
                         "carries nothing to fit; remove them")
    table = DaskTable(feature_names=features, target=target, source=source, n_rows=int(n),
                      n_rows_read=int(n_read), n_rows_dropped=int(n_read - n))
    return kept, table, mean[features].to_numpy(np.float64), std[features].to_numpy(np.float64)


@contextlib.contextmanager
def open_client(scheduler):
    """A ``distributed.Client`` on ``scheduler``, or on a local loopback cluster of
    ``LOCAL_WORKERS`` single-threaded worker processes; it is the active client inside."""
    _, distributed = _dask()
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as err:
            raise InputError(f"cannot connect to the dask scheduler at {scheduler}: {err}") from err
        with client:
            yield client
        return
    with warnings.catch_warnings():
        # no dashboard; its HTTP server (metrics) moving off a busy port 8787 is no news
        warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
        cluster = distributed.LocalCluster(n_workers=LOCAL_WORKERS, threads_per_worker=1,
                                           processes=True, host="127.0.0.1",
                                           dashboard_address=None, silence_logs=logging.ERROR)
    with cluster, distributed.Client(cluster) as client:
        yield client


def cross_validate(frame, table, mean, scale, *, penalty, l1_ratio, n_folds, n_alphas,
                   min_ratio, advance):
    """``fit.cross_validate`` on dask input; returns ``(CVFit, passes, n_partitions)``,
    ``passes`` the passes over the data of each step."""
    from .fit import REFIT_TOL, CVFit

    features, target = table.feature_names, table.target
    n, p = table.n_rows, len(features)
    if n_folds > n:
        raise InputError(f"--cv {n_folds} needs at least {n_folds} rows; {table.source} has {n}")
    if frame.npartitions < n_folds:  # the dask route's folds are groups of whole partitions
        frame = frame.repartition(npartitions=n_folds)
    if min_ratio is None:
        min_ratio = 1e-4 if n > p else 1e-2
    Z = (frame[features] - mean) / scale  # standardised lazily, block by block
    y = frame[target]
    settings = dict(alphas=n_alphas, eps=min_ratio, cv=n_folds, tol=REFIT_TOL, max_iter=100_000)
    cv = (LassoCV(**settings) if penalty == "l1"
          else ElasticNetCV(l1_ratio=l1_ratio, **settings)).fit(Z, y)
    advance()
    alphas = np.asarray(cv.alphas_, dtype=np.float64)
    path = enet_path(Z, y, l1_ratio=l1_ratio, alphas=alphas, tol=REFIT_TOL, max_iter=100_000)
    advance()
    alpha_min, alpha_1se, cvm, cvsd = one_standard_error_alpha(alphas, cv.mse_path_)
    k = int(np.flatnonzero(alphas == alpha_1se)[0])
    models = {"lambda_min": cv,
              "lambda_1se": PathPoint(path.coefs[:, k].copy(), float(path.intercepts[k]),
                                      float(path.dual_gaps[k]))}
    fit = CVFit(alphas, path.coefs, np.count_nonzero(path.coefs, axis=0), cv.mse_path_, cvm,
                cvsd, alpha_min, alpha_1se, models)
    return fit, {"moments": 1, "cross_validation": int(cv.n_passes_),
                 "path": int(path.n_passes)}, frame.npartitions


def run(args):
    """``shrinkage fit --dask``: read, check, fit on the cluster; returns what ``fit.run`` needs:
    ``(table, fit, mean, scale, dask_summary)``."""
    from .fit import _progress

    check_args(args)
    frame, source = read_frame(args.data, sep=args.sep)
    frame, features, target = select_columns(frame, args.target, source)
    l1_ratio = 1.0 if args.penalty == "l1" else (args.l1_ratio or 0.5)
    with open_client(args.scheduler) as client:
        with _progress(not (args.quiet or args.json), 3) as advance:
            kept, table, mean, scale = moments(frame, features, target, source, args.dropna)
            advance()
            fit, passes, partitions = cross_validate(
                kept, table, mean, scale, penalty=args.penalty, l1_ratio=l1_ratio,
                n_folds=args.cv, n_alphas=args.n_lambda, min_ratio=args.lambda_min_ratio,
                advance=advance)
        workers = len(client.scheduler_info().get("workers", {}))
        summary = {"scheduler": client.scheduler.address if args.scheduler else "local",
                   "n_workers": workers, "n_partitions": int(partitions),
                   "n_passes": sum(passes.values()), "passes": passes,
                   "folds": f"unshuffled: contiguous groups of the {partitions} partitions"}
    return table, fit, l1_ratio, mean, scale, summary
