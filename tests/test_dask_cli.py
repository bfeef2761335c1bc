"""``shrinkage fit DATA... --dask``: reading, usage errors and the default cluster.

The end-to-end fits (the in-memory command's numbers, computed on a cluster) are in
``tests/test_dask.py``, on that module's warm 2-process cluster.
"""

import os
import sys

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from shrinkage.cli import fit_dask, main  # noqa: E402
from shrinkage.cli._errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A small table as 4 Parquet files in a directory."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((400, 4)), columns=["a", "b", "c", "y"])
    directory = tmp_path_factory.mktemp("cli") / "data"
    directory.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(400), 4)):
        frame.iloc[rows].to_parquet(directory / f"part{k}.parquet", index=False)
    return directory


def test_files_globs_and_directories_read_lazily(table):
    """The shell's expanded glob, a quoted glob and the directory give the same 4 partitions;
    nothing is computed."""
    files = sorted(str(f) for f in table.glob("*.parquet"))
    for paths in (files, [str(table / "*.parquet")], [str(table)], [str(table), files[0]]):
        frame, source = fit_dask.read_frame(paths)
        assert list(frame.columns) == ["a", "b", "c", "y"]
        assert frame.npartitions == (5 if len(paths) == 2 and paths[1] == files[0] else 4)
        assert source.startswith(paths[0])
    csv = table.parent / "t.csv"
    csv.write_text("a,y\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="mixes Parquet and CSV"):
        fit_dask.read_frame([files[0], str(csv)])


def test_default_cluster_is_local_two_single_threaded_processes():
    with fit_dask.open_client(None) as client:
        workers = client.scheduler_info()["workers"]
        pids = set(client.run(os.getpid).values())
        assert distributed.default_client() is client  # what the estimators use
    assert len(workers) == 2
    assert all(w["nthreads"] == 1 for w in workers.values())
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    assert len(pids) == 2 and os.getpid() not in pids  # two processes of their own


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
    data = str(table)
    _bad(tmp_path, capsys, [data, "--scheduler", "tcp://127.0.0.1:1"], "--scheduler", "--dask")
    _bad(tmp_path, capsys, [data, data], "2 DATA files", "--dask")
    _bad(tmp_path, capsys, [data, "--dask", "--target", "price"], "'price'", "'a'")
    _bad(tmp_path, capsys, [data, "--dask", "--penalty", "l2"], "l2", "--dask")
    _bad(tmp_path, capsys, ["--dask"], "--dask needs DATA")
    _bad(tmp_path, capsys, [str(tmp_path / "none*.parquet"), "--dask"], "no file matches")
    text = tmp_path / "text.parquet"
    pd.DataFrame({"a": [1.0, 2.0], "c": ["u", "v"], "y": [0.0, 1.0]}).to_parquet(text)
    _bad(tmp_path, capsys, [str(text), "--dask"], "'c'", "one-hot")
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    _bad(tmp_path, capsys, [data, "--dask"], "shrinkage[dask]")
