"""Tables for ``shrinkage fit``: a CSV or Parquet file in, a checked numeric design out.

Every problem a user can have with a table ends here as an :class:`InputError` with one line that
names the file, the column and, where it helps, the row (1-based data row, the header not counted).

Policy
------
- The target is ``--target`` or, without it, the last column.
- Text, categorical and boolean-like text columns are one-hot encoded with **every** level kept
  (``col=level``; no reference level: the penalty makes the fit identifiable and no level is
  privileged). ``--no-onehot`` rejects them instead. A text column with more distinct values than
  ``--max-levels`` is rejected (it is usually an identifier or free text), as is a text column whose
  values are mostly numbers (usually a typo or a missing-value marker such as ``n/a``).
- Missing values (empty cells, ``NA``, ``NaN``, ``null``) are rejected with the columns that hold
  them; ``--dropna`` drops those rows instead. Infinite values are always rejected.
- Constant columns (and a constant target) are rejected: they carry nothing to fit.
"""

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass
class Table:
    """A design ready to standardise: numeric ``X`` (after encoding) and ``y``.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    feature_names : list of str
        ``col=level`` for one-hot columns.
    target : str
    source : str
        The file, or ``"diabetes (embedded)"``.
    n_rows_read : int
    n_rows_dropped : int
        Rows dropped by ``--dropna``.
    encoded : dict of str to list of str
        Each one-hot encoded column and its levels.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list
    target: str
    source: str
    n_rows_read: int
    n_rows_dropped: int = 0
    encoded: dict = field(default_factory=dict)


def _pandas():
    try:
        import pandas as pd
    except ImportError as err:  # pragma: no cover - the cli extra installs it
        raise InputError("reading tables needs pandas: pip install 'shrinkage[cli]'") from err
    return pd


def read_table(path, sep=","):
    """Read ``path`` (CSV, or Parquet by its suffix) into a DataFrame; :class:`InputError` if not."""
    pd = _pandas()
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a data file")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        if importlib.util.find_spec("pyarrow") is None:
            raise InputError(f"reading Parquet ({path}) needs pyarrow: pip install pyarrow "
                             "(or save the table as CSV)")
        try:
            frame = pd.read_parquet(path)
        except Exception as err:  # pyarrow raises its own types for corrupt files
            raise InputError(f"cannot read {path} as Parquet: {err}") from err
    else:
        try:
            frame = pd.read_csv(path, sep=sep)
        except pd.errors.EmptyDataError as err:
            raise InputError(f"{path} is empty") from err
        except pd.errors.ParserError as err:
            detail = str(err).split("C error: ")[-1].strip()
            raise InputError(f"cannot parse {path} as CSV: {detail}") from err
        except UnicodeDecodeError as err:
            raise InputError(f"{path} is not UTF-8 text (is it a CSV file?): {err.reason} at "
                             f"byte {err.start}") from err
    if frame.shape[1] == 0:
        raise InputError(f"{path} has no columns")
    if frame.shape[0] == 0:
        raise InputError(f"{path} has a header but no data rows")
    return frame


def load_default():
    """The embedded default: the diabetes data in its original units, target ``progression``."""
    from ..datasets import load_diabetes

    pd = _pandas()
    X, y, names = load_diabetes(scaled=False)
    frame = pd.DataFrame(X, columns=names)
    frame["progression"] = y
    return frame


def _quote(names, limit=6):
    shown = ", ".join(f"'{name}'" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _is_text(series):
    pd = _pandas()
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def _first_bad_row(mask):
    return int(np.flatnonzero(np.asarray(mask))[0]) + 1


def split_columns(columns, target, source):
    """``(target, features)`` from a table's column names (strings), or an InputError naming the
    problem: duplicated names, a target not among them (default: the last column), no features."""
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise InputError(f"{source} has duplicated column names: {_quote(dupes)}")
    if target is None:
        target = columns[-1]
    elif target not in columns:
        raise InputError(f"target column '{target}' is not in {source}; its columns are "
                         f"{_quote(columns, 12)}")
    features = [c for c in columns if c != target]
    if not features:
        raise InputError(f"{source} has no feature columns besides the target '{target}'")
    return target, features


def prepare(frame, target=None, *, source, onehot=True, max_levels=50, dropna=False):
    """Check ``frame`` and turn it into a :class:`Table` (policy in the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
    target : str, optional
        The column to predict; the last column by default.
    source : str
        How to name the data in messages.
    onehot : bool, default=True
    max_levels : int, default=50
    dropna : bool, default=False

    Returns
    -------
    Table
    """
    pd = _pandas()
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    target, features = split_columns(columns, target, source)

    n_read = len(frame)
    missing = frame.isna()
    holes = [c for c in columns if missing[c].any()]
    n_dropped = 0
    if holes and not dropna:
        counts = ", ".join(f"'{c}' ({int(missing[c].sum())} rows)" for c in holes[:6])
        more = f" and {len(holes) - 6} more columns" if len(holes) > 6 else ""
        raise InputError(f"missing values in {source}: {counts}{more}; pass --dropna to drop "
                         "those rows, or fill them in")
    if holes:
        keep = ~missing.any(axis=1)
        n_dropped = int((~keep).sum())
        frame = frame.loc[keep].reset_index(drop=True)
        if len(frame) == 0:
            raise InputError(f"every row of {source} has a missing value: nothing is left "
                             "after --dropna")

    y_col = frame[target]
    if _is_text(y_col):
        numbers = pd.to_numeric(y_col, errors="coerce")
        row = _first_bad_row(numbers.isna())
        raise InputError(f"target column '{target}' is not numeric (row {row}: "
                         f"'{y_col.iloc[row - 1]}'); shrinkage fit does least-squares regression")
    y = y_col.to_numpy(dtype=np.float64)

    blocks, names, encoded = [], [], {}
    text_columns = [c for c in features if _is_text(frame[c])]
    if text_columns and not onehot:
        raise InputError(f"text column(s) {_quote(text_columns)} in {source}: drop --no-onehot "
                         "to one-hot encode them, or remove them")
    for column in features:
        series = frame[column]
        if column not in text_columns:
            blocks.append(series.to_numpy(dtype=np.float64)[:, None])
            names.append(column)
            continue
        numbers = pd.to_numeric(series, errors="coerce")
        if numbers.notna().mean() >= 0.9 and numbers.isna().any():
            row = _first_bad_row(numbers.isna())
            raise InputError(f"column '{column}' is mostly numbers but row {row} holds "
                             f"'{series.iloc[row - 1]}': fix that cell, or leave it empty and "
                             "pass --dropna")
        if isinstance(series.dtype, pd.CategoricalDtype):
            levels = [str(level) for level in series.cat.categories]
        else:
            levels = sorted({str(value) for value in series})
        if len(levels) > max_levels:
            raise InputError(f"text column '{column}' has {len(levels)} distinct values (more "
                             f"than --max-levels {max_levels}): remove it if it is an identifier, "
                             "or raise --max-levels")
        values = series.astype(str).to_numpy()
        blocks.append(np.stack([values == level for level in levels], axis=1).astype(np.float64))
        names.extend(f"{column}={level}" for level in levels)
        encoded[column] = levels
    X = np.hstack(blocks)

    if not np.all(np.isfinite(y)):
        raise InputError(f"target column '{target}' has infinite values "
                         f"(row {_first_bad_row(~np.isfinite(y))})")
    infinite = [name for name, col in zip(names, X.T, strict=True) if not np.all(np.isfinite(col))]
    if infinite:
        raise InputError(f"infinite values in column(s) {_quote(infinite)} of {source}")
    if np.ptp(y) == 0:
        raise InputError(f"target column '{target}' is constant ({y[0]:g}): there is nothing to "
                         "predict")
    constant = [c for c in features if c not in encoded and np.ptp(frame[c].to_numpy(float)) == 0]
    constant += [c for c, levels in encoded.items() if len(levels) == 1]
    if constant:
        raise InputError(f"constant column(s) {_quote(constant)} in {source}: a single value "
                         "carries nothing to fit; remove them")
    return Table(X=X, y=y, feature_names=names, target=target, source=source,
                 n_rows_read=n_read, n_rows_dropped=n_dropped, encoded=encoded)
