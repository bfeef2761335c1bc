"""``shrinkage fit``: numbers against the estimators, files, report in Chromium, bad input."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold

import shrinkage as sh
from shrinkage.cli import main
from shrinkage.datasets import load_diabetes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _standardize(X):
    mean, scale = X.mean(axis=0), X.std(axis=0)
    return (X - mean) / scale, mean, scale


@pytest.fixture(scope="module")
def lasso_run(tmp_path_factory):
    """One default run (embedded diabetes, lasso, 5 folds), its JSON and its printed table."""
    out = tmp_path_factory.mktemp("lasso")
    assert main(["fit", "--cv", "5", "--json", "--out", str(out)]) == 0
    text_out = tmp_path_factory.mktemp("lasso_text")
    return out, text_out


@pytest.fixture(scope="module")
def lasso_result(lasso_run):
    out, _ = lasso_run
    return json.loads((out / "coefficients.json").read_text(encoding="utf-8"))


def test_lasso_cv_matches_lasso_cv_estimator(lasso_result):
    X, y, names = load_diabetes(scaled=False)
    Z, _mean, _scale = _standardize(X)
    grid = np.array(lasso_result["cv"]["lambda"])
    cv = sh.LassoCV(alphas=grid, cv=KFold(5, shuffle=True, random_state=0), tol=1e-6).fit(Z, y)
    assert lasso_result["lambda_min"] == pytest.approx(cv.alpha_min_, rel=1e-12)
    assert lasso_result["lambda_1se"] == pytest.approx(cv.alpha_1se_, rel=1e-12)
    np.testing.assert_allclose(lasso_result["cv"]["mse"], cv.mse_path_.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(lasso_result["cv"]["mse_se"], cv.mse_std_, rtol=1e-4)
    # the grid is glmnet's: from the smallest alpha with all coefficients zero, ratio 1e-4 (n > p)
    Zc = Z - Z.mean(axis=0)
    assert grid[0] == pytest.approx(np.max(np.abs(Zc.T @ (y - y.mean()))) / len(y), rel=1e-12)
    assert grid[-1] / grid[0] == pytest.approx(1e-4)
    assert lasso_result["data"]["features"] == names
    assert 0 < lasso_result["n_nonzero"]["lambda_1se"] <= lasso_result["n_nonzero"]["lambda_min"]


def test_original_scale_coefficients_match_the_lasso(lasso_result):
    X, y, names = load_diabetes(scaled=False)
    Z, _mean, scale = _standardize(X)
    for key in ("lambda_min", "lambda_1se"):
        lasso = sh.Lasso(alpha=lasso_result[key], tol=1e-10, max_iter=100_000).fit(Z, y)
        coefs = lasso_result["coefficients"][key]
        beta = np.array([coefs[name] for name in names])
        np.testing.assert_allclose(beta, lasso.coef_ / scale, rtol=1e-5, atol=1e-9)
        # the same predictions on the original features as the fit on standardised ones
        std = lasso_result["coefficients_standardized"][key]
        w = np.array([std[name] for name in names])
        np.testing.assert_allclose(X @ beta + coefs["(intercept)"], Z @ w + std["(intercept)"],
                                   rtol=1e-12)
        np.testing.assert_allclose(X @ beta + coefs["(intercept)"], lasso.predict(Z), rtol=1e-6)
        assert np.count_nonzero(beta) == lasso_result["n_nonzero"][key]
        assert lasso_result["dual_gap"][key] >= 0


def test_printed_table_matches_json(lasso_result, capsys, tmp_path):
    assert main(["fit", "--cv", "5", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"lambda.min = {lasso_result['lambda_min']:.6g}" in out
    assert f"lambda.1se = {lasso_result['lambda_1se']:.6g}" in out
    table = out.split("original scale of the features:\n")[1].split("\n\n")[0].splitlines()[1:]
    assert len(table) == 11
    for line in table:
        name, at_min, at_1se = line.split()
        for printed, key in ((at_min, "lambda_min"), (at_1se, "lambda_1se")):
            value = lasso_result["coefficients"][key][name]
            if printed == ".":
                assert value == 0.0
            else:
                assert float(printed) == pytest.approx(value, rel=1e-5)
    assert "age" in out and "(intercept)" in out


def test_files_are_valid(lasso_run, lasso_result):
    out, _ = lasso_run
    for name in ("path.png", "cv.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE
        assert len(data) > 10_000  # a drawn figure, not an empty canvas
    table = pd.read_csv(out / "coefficients.csv").set_index("feature")
    assert list(table.index) == ["(intercept)", *lasso_result["data"]["features"]]
    for key in ("lambda_min", "lambda_1se"):
        np.testing.assert_allclose(table[key].to_numpy(),
                                   list(lasso_result["coefficients"][key].values()), rtol=1e-15)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count('src="data:image/png;base64,') == 2
    assert "λ Σⱼ |wⱼ|" in report and "10 nonzero" not in report


def test_ridge_cv_matches_folds_of_ridge(tmp_path, capsys):
    assert main(["fit", "--penalty", "l2", "--cv", "4", "--seed", "3", "--n-lambda", "30",
                 "--json", "--out", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    X, y, names = load_diabetes(scaled=False)
    Z, _mean, scale = _standardize(X)
    grid = np.array(result["cv"]["lambda"])
    errors = np.zeros((grid.size, 4))
    for k, (train, test) in enumerate(KFold(4, shuffle=True, random_state=3).split(Z)):
        for i, alpha in enumerate(grid):
            ridge = sh.Ridge(alpha=alpha).fit(Z[train], y[train])
            errors[i, k] = np.mean((ridge.predict(Z[test]) - y[test]) ** 2)
    np.testing.assert_allclose(result["cv"]["mse"], errors.mean(axis=1), rtol=1e-8)
    best = int(np.argmin(errors.mean(axis=1)))
    assert result["lambda_min"] == pytest.approx(grid[best], rel=1e-12)
    ridge = sh.Ridge(alpha=result["lambda_min"]).fit(Z, y)
    beta = np.array([result["coefficients"]["lambda_min"][name] for name in names])
    np.testing.assert_allclose(beta, ridge.coef_ / scale, rtol=1e-8)
    assert result["n_nonzero"]["lambda_min"] == 10
    # the grid spans effective degrees of freedom from ~0 to ~p
    eig = np.linalg.svd(Z - Z.mean(axis=0), compute_uv=False) ** 2 / len(y)
    df = [np.sum(eig / (eig + a)) for a in (grid[0], grid[-1])]
    assert df[0] < 0.01 and df[1] > 9.99


def test_elasticnet_csv_with_text_column_is_one_hot_encoded(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 120
    color = rng.choice(["red", "green", "blue"], size=n)
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n) * 10 + 50
    y = 3 * x1 + 0.2 * x2 + 4 * (color == "red") + rng.standard_normal(n)
    frame = pd.DataFrame({"x1": x1, "color": color, "x2": x2, "y": y})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    assert main(["fit", str(path), "--penalty", "elasticnet", "--l1-ratio", "0.7", "--cv", "3",
                 "--json", "--out", str(tmp_path / "out")]) == 0
    result = json.loads(capsys.readouterr().out)
    names = ["x1", "color=blue", "color=green", "color=red", "x2"]
    assert result["data"]["features"] == names
    assert result["data"]["one_hot"] == {"color": ["blue", "green", "red"]}
    assert result["settings"]["l1_ratio"] == 0.7
    design = np.column_stack([x1, color == "blue", color == "green", color == "red", x2]).astype(
        float)
    Z, _mean, scale = _standardize(design)
    enet = sh.ElasticNet(alpha=result["lambda_min"], l1_ratio=0.7, tol=1e-10,
                         max_iter=100_000).fit(Z, y)
    coefs = result["coefficients"]["lambda_min"]
    beta = np.array([coefs[name] for name in names])
    np.testing.assert_allclose(beta, enet.coef_ / scale, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(design @ beta + coefs["(intercept)"], enet.predict(Z), rtol=1e-6)
    assert coefs["x1"] == pytest.approx(3, abs=0.3)  # it finds the signal, in original units
    assert coefs["color=red"] - coefs["color=blue"] == pytest.approx(4, abs=1.0)


def test_dropna_drops_the_rows_with_missing_values(tmp_path, capsys):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.standard_normal((60, 3)), columns=["a", "b", "y"])
    frame.loc[[3, 10, 11], "a"] = np.nan
    frame.loc[[10, 20], "y"] = np.nan
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    assert main(["fit", str(path), "--dropna", "--cv", "3", "--json", "--out",
                 str(tmp_path / "o")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["data"]["n_rows_dropped"] == 4
    assert result["data"]["n_rows"] == 56 and result["data"]["n_rows_read"] == 60


def test_parquet_is_read_or_refused_clearly(tmp_path, capsys):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.standard_normal((40, 3)), columns=["a", "b", "y"])
    path = tmp_path / "data.parquet"
    if importlib.util.find_spec("pyarrow") is None:
        path.write_bytes(b"PAR1")
        assert main(["fit", str(path), "--out", str(tmp_path / "o")]) == 2
        assert "needs pyarrow" in capsys.readouterr().err
    else:
        frame.to_parquet(path)
        assert main(["fit", str(path), "--cv", "3", "--json", "--out", str(tmp_path / "o")]) == 0
        assert json.loads(capsys.readouterr().out)["data"]["n_rows"] == 40


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


BAD_INPUTS = {
    # name: (file contents or None, extra args, words the one line must contain)
    "malformed": ("a,b,y\n1,2,3\n4,5,6,7,8\n", [], ["cannot parse", "line 3"]),
    "missing_target": ("a,b,y\n1,2,3\n4,5,6\n", ["--target", "price"], ["'price'", "'a', 'b'"]),
    "text_no_onehot": ("a,color,y\n1,red,3\n2,blue,4\n3,red,5\n", ["--no-onehot"],
                       ["'color'", "--no-onehot"]),
    "empty": ("", [], ["is empty"]),
    "header_only": ("a,b,y\n", [], ["no data rows"]),
    "constant_column": ("a,b,y\n1,7,3\n2,7,4\n3,7,9\n", [], ["constant", "'b'"]),
    "constant_target": ("a,b,y\n1,2,3\n2,5,3\n3,1,3\n", [], ["target", "constant"]),
    "nans": ("a,b,y\n1,,3\n2,5,4\n,1,5\n", [], ["missing values", "'a' (1 rows)", "--dropna"]),
    "text_target": ("a,b,y\n1,2,x\n2,5,y\n3,1,z\n", [], ["not numeric"]),
    "typo_in_numbers": ("a,b,y\n" + "".join(f"{i},{i % 3},{i}\n" for i in range(20))
                        + "1o,1,4\n", [], ["'a'", "'1o'"]),
    "too_many_folds": ("a,b,y\n1,2,3\n2,5,4\n3,1,6\n", ["--cv", "5"], ["--cv 5"]),
    "no_file": (None, ["does-not-exist.csv"], ["no such file"]),
    "bad_l1_ratio": (None, ["--penalty", "elasticnet", "--l1-ratio", "1.5"], ["--l1-ratio"]),
    "l1_ratio_with_lasso": (None, ["--l1-ratio", "0.5"], ["elasticnet"]),
    "bad_penalty": (None, ["--penalty", "l3"], ["--penalty"]),
}


def _check_one_line(code, out, err, name):
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("shrinkage fit: error: ")
    for word in BAD_INPUTS[name][2]:
        assert word in lines[0]
    assert out == ""


def _bad_args(tmp_path, name):
    text, extra, _ = BAD_INPUTS[name]
    args = [] if text is None else [_write(tmp_path, f"{name}.csv", text)]
    return ["fit", *args, *extra, "--out", str(tmp_path / f"out_{name}")]


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_clear_line(tmp_path, capsys, name):
    try:
        code = main(_bad_args(tmp_path, name))
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    captured = capsys.readouterr()
    _check_one_line(code, captured.out, captured.err, name)
    assert not (tmp_path / f"out_{name}").exists()  # nothing written on bad input


SUBPROCESS_CASES = ["malformed", "nans", "text_no_onehot", "bad_penalty"]


def test_bad_input_as_a_user_runs_it(tmp_path):
    """The same through a real process (no traceback reaches the terminal), run in parallel."""
    procs = {name: subprocess.Popen([sys.executable, "-m", "shrinkage.cli",
                                     *_bad_args(tmp_path, name)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in SUBPROCESS_CASES}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        _check_one_line(proc.returncode, out, err, name)


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.setAttribute("data-probe", ok + "/" + imgs.length);
});
</script></body>"""


def test_report_renders_in_headless_chromium(lasso_run, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); .ci/run "
                    "installs it where it can")
    out, _ = lasso_run
    report = out / "report.html"
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    env = {**os.environ, "HOME": str(tmp_path)}
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1000,2400",
                    report.as_uri()], capture_output=True, timeout=120, env=env, check=False)
    data = shot.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 10_000
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 10  # text and figures, not a blank page
    # every image decoded: a copy of the page with a probe script reports naturalWidth > 0
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE),
                     encoding="utf-8")
    dom = subprocess.run([*flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True,
                         timeout=120, env=env, check=False).stdout
    assert 'data-probe="2/2"' in dom
