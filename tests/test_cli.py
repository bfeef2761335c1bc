"""The ``shrinkage`` command: the README's first command."""

import json
import subprocess
import sys

import numpy as np
import pytest

import shrinkage as sh
from shrinkage.cli import main
from shrinkage.datasets import load_diabetes, standardize


def test_default_run_prints_the_four_fits_side_by_side(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for label in ("OLS (flat prior)", "Ridge a=1", "Lasso a=1", "ENet a=1 r=0.5", "bmi", "s5",
                  "dual gap", "nonzero"):
        assert label in out


def test_json_output_matches_the_estimators(capsys):
    assert main(["--json", "--alpha", "2.5", "--l1-ratio", "0.3"]) == 0
    data = json.loads(capsys.readouterr().out)
    X, y, names = load_diabetes()
    lasso = sh.Lasso(alpha=2.5, tol=1e-10).fit(standardize(X), y)
    coef = data["Lasso a=2.5"]["coef"]
    np.testing.assert_allclose([coef[name] for name in names], lasso.coef_, rtol=1e-12)
    assert sum(v == 0 for v in coef.values()) > 0  # the lasso zeroes some features
    assert "ENet a=2.5 r=0.3" in data


@pytest.mark.parametrize("args", [["--alpha", "-1"], ["--l1-ratio", "2"], ["--bogus"],
                                  ["--alpha", "nan"]])
def test_bad_usage_exits_2_with_one_line(args):
    proc = subprocess.run([sys.executable, "-m", "shrinkage.cli", *args], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "error" in proc.stderr
