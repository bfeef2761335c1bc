"""``shrinkage fit DATA... --dask``: the in-memory command's numbers, computed on a dask cluster.

The reference is the NumPy route: the estimators on the standardised table, with the folds the
dask route uses (contiguous groups of partitions).
"""

import itertools
import json
import sys

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import shrinkage as sh  # noqa: E402
from shrinkage.cli import main  # noqa: E402
from shrinkage.cli.fit import summary_text  # noqa: E402

N, P = 4000, 8
PARTS = 4


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1",
                                  silence_logs=50) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A table of 4000 rows as 4 Parquet files (uncentred, unequally scaled columns)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, P)) * rng.uniform(0.5, 3, P) + rng.uniform(-5, 5, P)
    y = X[:, :4] @ np.array([1.0, -2.0, 0.5, 0.3]) + rng.standard_normal(N) + 3.0
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(P)])
    frame["y"] = y
    directory = tmp_path_factory.mktemp("cli") / "data"
    directory.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(N), PARTS)):
        frame.iloc[rows].to_parquet(directory / f"part{k}.parquet", index=False)
    return directory, frame


def _block_folds(sizes):
    """The dask route's folds: partition k of ``sizes`` is fold k (as many folds as partitions)."""
    edges = np.cumsum([0, *sizes])
    n = edges[-1]
    return [(np.setdiff1d(np.arange(n), np.arange(a, b)), np.arange(a, b))
            for a, b in itertools.pairwise(edges)]


def _standardize(X):
    mean, scale = X.mean(axis=0), X.std(axis=0)
    return (X - mean) / scale, mean, scale


def _check_against_numpy(result, X, y, folds, l1_ratio):
    Z, _, scale = _standardize(X)
    grid = np.array(result["cv"]["lambda"])
    Zc = Z - Z.mean(axis=0)
    assert grid[0] == pytest.approx(np.max(np.abs(Zc.T @ (y - y.mean()))) / (len(y) * l1_ratio),
                                    rel=1e-10)
    cv = sh.ElasticNetCV(l1_ratio=l1_ratio, alphas=grid, cv=folds, tol=1e-10,
                         max_iter=100_000).fit(Z, y)
    assert result["lambda_min"] == pytest.approx(cv.alpha_min_, rel=1e-12)
    assert result["lambda_1se"] == pytest.approx(cv.alpha_1se_, rel=1e-12)
    np.testing.assert_allclose(result["cv"]["mse"], cv.mse_path_.mean(axis=1), rtol=1e-7)
    np.testing.assert_allclose(result["cv"]["mse_se"], cv.mse_std_, rtol=1e-5)
    names = [f"x{j}" for j in range(P)]
    null = 0.5 * np.var(y)
    for key in ("lambda_min", "lambda_1se"):
        ref = sh.ElasticNet(alpha=result[key], l1_ratio=l1_ratio, tol=1e-12,
                            max_iter=100_000).fit(Z, y)
        coefs = result["coefficients"][key]
        beta = np.array([coefs[name] for name in names])
        np.testing.assert_allclose(beta, ref.coef_ / scale, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(X @ beta + coefs["(intercept)"], ref.predict(Z), rtol=1e-6)
        assert -1e-14 * null <= result["dual_gap"][key] <= 1e-8 * null  # round-off may go < 0


def test_dask_fit_equals_the_in_memory_estimators(client, table, tmp_path, capsys):
    """Four Parquet files given one by one (the shell's glob), an existing scheduler, 4 folds:
    lambda.min / lambda.1se, the CV curve and both fits as the NumPy estimators on the same
    folds; 5 passes; the summary and the files."""
    directory, frame = table
    files = sorted(str(f) for f in directory.glob("*.parquet"))
    out = tmp_path / "out"
    assert main(["fit", *files, "--target", "y", "--dask", "--scheduler",
                 client.scheduler.address, "--cv", "4", "--json", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    X, y = frame.drop(columns="y").to_numpy(), frame["y"].to_numpy()
    _check_against_numpy(result, X, y, _block_folds([N // PARTS] * PARTS), 1.0)
    assert result["dask"]["n_passes"] == 5 and result["dask"]["n_partitions"] == PARTS
    assert result["data"]["n_rows"] == N and result["data"]["features"] == list(frame)[:-1]
    for name in ("coefficients.csv", "path.png", "cv.png", "report.html"):
        assert (out / name).stat().st_size > 0
    assert "unshuffled" in (out / "report.html").read_text(encoding="utf-8")
    text = summary_text(result)  # what main prints without --json
    assert f"lambda.min = {result['lambda_min']:.6g}" in text
    assert "5 passes over the data" in text


def test_local_cluster_glob_dropna_and_more_folds_than_files(table, tmp_path, capsys):
    """The default local cluster, a quoted glob, rows with missing values dropped and 5 folds
    over 4 files (repartitioned into 5): the elastic net of the NumPy estimators on the same
    5 partitions."""
    _, frame = table
    frame = frame.copy()
    frame.iloc[[3, 1500, 3999], [2, 0, 8]] = np.nan
    holes = tmp_path / "holes"
    holes.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(N), PARTS)):
        frame.iloc[rows].to_parquet(holes / f"part{k}.parquet", index=False)
    assert main(["fit", str(holes / "*.parquet"), "--dask", "--penalty", "elasticnet",
                 "--l1-ratio", "0.6", "--cv", "5", "--dropna", "--n-lambda", "40", "--json",
                 "--out", str(tmp_path / "out")]) == 0
    result = json.loads(capsys.readouterr().out)
    kept = frame.dropna()
    assert result["data"]["n_rows"] == N - 3 and result["data"]["n_rows_dropped"] == 3
    assert result["data"]["target"] == "y"  # the last column by default
    assert result["dask"]["scheduler"] == "local" and result["dask"]["n_workers"] == 2
    # the partitions the route fitted on: the same lazy repartition, sized here without a cluster
    sizes = (dd.read_parquet(holes).dropna().repartition(npartitions=5)
             .map_partitions(len).compute(scheduler="sync"))
    assert sum(sizes) == N - 3
    _check_against_numpy(result, kept.drop(columns="y").to_numpy(), kept["y"].to_numpy(),
                         _block_folds(list(sizes)), 0.6)


def _bad(tmp_path, capsys, argv, *words):
    code = main(["fit", *argv, "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shrinkage fit: error: "), captured.err
    for word in words:
        assert word in lines[0]
    assert captured.out == ""


def test_usage_errors_before_any_cluster(table, tmp_path, capsys, monkeypatch):
    directory, _ = table
    data = str(directory)
    _bad(tmp_path, capsys, [data, "--scheduler", "tcp://127.0.0.1:1"], "--scheduler", "--dask")
    _bad(tmp_path, capsys, [data, data], "2 DATA files", "--dask")
    _bad(tmp_path, capsys, [data, "--dask", "--target", "price"], "'price'", "'x0'")
    _bad(tmp_path, capsys, [data, "--dask", "--penalty", "l2"], "l2", "--dask")
    _bad(tmp_path, capsys, ["--dask"], "--dask needs DATA")
    _bad(tmp_path, capsys, [str(tmp_path / "none*.parquet"), "--dask"], "no file matches")
    text = tmp_path / "text.parquet"
    pd.DataFrame({"a": [1.0, 2.0], "c": ["u", "v"], "y": [0.0, 1.0]}).to_parquet(text)
    _bad(tmp_path, capsys, [str(text), "--dask"], "'c'", "one-hot")
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    _bad(tmp_path, capsys, [data, "--dask"], "shrinkage[dask]")


def test_bad_values_found_in_the_moments_pass(client, tmp_path, capsys):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.standard_normal((60, 3)), columns=["a", "b", "y"])
    address = ["--dask", "--scheduler", client.scheduler.address, "--cv", "3"]
    for name, column, value, words in (("nan", "b", np.nan, ["missing values", "'b' (1 rows)"]),
                                       ("inf", "a", np.inf, ["infinite", "'a'"]),
                                       ("const", "b", None, ["constant", "'b'"])):
        bad = frame.copy()
        if value is None:
            bad[column] = 7.0
        else:
            bad.loc[40, column] = value
        path = tmp_path / f"{name}.parquet"
        bad.to_parquet(path)
        _bad(tmp_path, capsys, [str(path), *address], *words)
