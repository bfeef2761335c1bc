"""``shrinkage demo``: every printed number against an independent computation; valid PNGs."""

import json
import math

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.linear_model import Lasso as SkLasso
from sklearn.linear_model import Ridge as SkRidge

from shrinkage import demos
from shrinkage.cli import main
from shrinkage.demos import distance, geometry, overfit, updates

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# the seeds' demos; nn-sparsity (needs torch) and boosting have their own test modules
SEED_DEMOS = ("overfit", "priors", "geometry", "updates", "distance")


def test_the_seed_demos_are_registered():
    assert set(SEED_DEMOS) <= set(demos.DEMOS)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("demos")
    return {name: demos.run(name, out) for name in SEED_DEMOS}


@pytest.mark.parametrize("name", SEED_DEMOS)
def test_each_demo_writes_valid_pngs_and_prints_its_numbers(results, name):
    result = results[name]
    assert result["files"]
    for path in result["files"].values():
        data = open(path, "rb").read()
        assert data[:8] == PNG_SIGNATURE and len(data) > 10_000
    text = demos.summary(result)
    assert result["title"] in text
    json.dumps(result)  # JSON-ready


def test_cli_demo_json_and_text(tmp_path, capsys):
    assert main(["demo", "priors", "--out", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["demo"] == "priors" and (tmp_path / "priors.png").stat().st_size > 10_000
    assert main(["demo", "geometry", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "exact zeros 1" in out and "geometry.png" in out


@pytest.mark.parametrize("args", [["demo"], ["demo", "bogus"], ["demo", "priors", "--bogus"]])
def test_cli_demo_bad_usage_exits_2(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_cli_demo_out_is_a_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["demo", "priors", "--out", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_overfit_numbers(results):
    r = results["overfit"]
    x, y = np.asarray(r["x"]), np.asarray(r["y"])
    assert r["degree"] == 15 and x.size == 30
    # the seed's picture: unregularised coefficients in the billions, ridge's of order one
    assert 1e9 <= r["ols"]["max_abs_coef"] < 1e10
    assert 0.1 < r["ridge"]["max_abs_coef"] < 10
    # least squares independently: Householder QR of [1, x, ..., x^15]
    A = np.c_[np.ones_like(x), overfit.polynomial_features(x)]
    q, rr = np.linalg.qr(A)
    exact = np.linalg.solve(rr, q.T @ y)
    np.testing.assert_allclose(r["ols"]["coef"], exact[1:], rtol=0, atol=1e-4 * np.abs(exact).max())
    np.testing.assert_allclose(r["ols"]["max_abs_coef"], np.abs(exact).max(), rtol=1e-4)
    # ridge: scikit-learn's Ridge(alpha = n * alpha)
    sk = SkRidge(alpha=x.size * r["alpha"], solver="svd").fit(overfit.polynomial_features(x), y)
    np.testing.assert_allclose(r["ridge"]["coef"], sk.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(r["ridge"]["intercept"], sk.intercept_, rtol=1e-8)
    X = overfit.polynomial_features(x)
    np.testing.assert_allclose(r["ridge"]["train_mse"], np.mean((sk.predict(X) - y) ** 2),
                               rtol=1e-6)
    # overfitting: least squares fits the samples better and the true curve far worse
    assert r["ols"]["train_mse"] < r["ridge"]["train_mse"]
    assert r["ols"]["grid_mse_to_truth"] > 20 * r["ridge"]["grid_mse_to_truth"]


def test_priors_numbers(results):
    r = results["priors"]
    n, sigma = r["n_samples"], r["noise"]
    lap, gau = r["priors"]["laplace"], r["priors"]["gaussian"]
    b, tau = math.sqrt(r["variance"] / 2), math.sqrt(r["variance"])
    assert lap["scale"] == pytest.approx(b) and gau["scale"] == pytest.approx(tau)
    for entry in (lap, gau):
        assert entry["variance"] == pytest.approx(r["variance"])
        assert entry["variance_by_integration"] == pytest.approx(r["variance"], rel=1e-7)
    laplace, normal = stats.laplace(scale=b), stats.norm(scale=tau)
    assert lap["density_at_0"] == pytest.approx(laplace.pdf(0))
    assert gau["density_at_0"] == pytest.approx(normal.pdf(0))
    assert lap["mass_within_0.1"] == pytest.approx(laplace.cdf(0.1) - laplace.cdf(-0.1), rel=1e-8)
    assert gau["mass_within_0.1"] == pytest.approx(normal.cdf(0.1) - normal.cdf(-0.1), rel=1e-8)
    assert lap["mass_beyond_3sd"] == pytest.approx(2 * laplace.sf(3.0), rel=1e-6)
    assert gau["mass_beyond_3sd"] == pytest.approx(2 * normal.sf(3.0), rel=1e-5)
    # the Laplace is both peakier and heavier-tailed
    assert lap["mass_within_0.1"] > gau["mass_within_0.1"]
    assert lap["mass_beyond_3sd"] > gau["mass_beyond_3sd"]
    # the conversions: alpha = sigma^2 / (n b) and sigma^2 / (n tau^2), and back
    assert lap["penalty_alpha"] == pytest.approx(sigma**2 / (n * b))
    assert gau["penalty_alpha"] == pytest.approx(sigma**2 / (n * tau**2))
    assert lap["prior_back_scale"] == pytest.approx(b) and gau["prior_back_scale"] == pytest.approx(tau)
    for w, value in lap["neg_log_prior"].items():
        assert value == pytest.approx(float(w) / b)
        assert lap["scaled_penalty"][w] == pytest.approx(float(w) / b)
    for w, value in gau["neg_log_prior"].items():
        assert value == pytest.approx(float(w) ** 2 / (2 * tau**2))
        assert gau["scaled_penalty"][w] == pytest.approx(float(w) ** 2 / (2 * tau**2))


def test_geometry_numbers(results):
    r = geometry
    res = results["geometry"]
    H, w_star, t = np.asarray(r.HESSIAN), np.asarray(r.W_STAR), res["radius"]

    def f(w):
        return 0.5 * (w - w_star) @ H @ (w - w_star)

    # the constrained problems solved independently by SLSQP (L1 split into w = u - v, u, v >= 0)
    l1 = optimize.minimize(lambda z: f(z[:2] - z[2:]), np.full(4, 0.1), method="SLSQP",
                           bounds=[(0, None)] * 4,
                           constraints=[{"type": "ineq", "fun": lambda z: t - z.sum()}],
                           options={"ftol": 1e-14, "maxiter": 500})
    l2 = optimize.minimize(f, np.zeros(2), method="SLSQP",
                           constraints=[{"type": "ineq", "fun": lambda w: t**2 - w @ w}],
                           options={"ftol": 1e-14, "maxiter": 500})
    np.testing.assert_allclose(res["l1"]["w"], l1.x[:2] - l1.x[2:], atol=1e-6)
    np.testing.assert_allclose(res["l2"]["w"], l2.x, atol=1e-6)
    assert res["l1"]["w"][1] == 0.0 and res["l1"]["n_zero"] == 1       # a corner of the diamond
    assert res["l1"]["w"][0] == pytest.approx(t, abs=1e-10)
    assert res["l2"]["n_zero"] == 0 and min(np.abs(res["l2"]["w"])) > 0.1
    # the multipliers: at the corner alpha = -grad_1; for L2, (H + alpha I) w = H w*
    grad = H @ (np.asarray(res["l1"]["w"]) - w_star)
    assert res["l1"]["alpha"] == pytest.approx(-grad[0], rel=1e-8) and abs(grad[1]) < -grad[0]
    w2 = np.linalg.solve(H + res["l2"]["alpha"] * np.eye(2), H @ w_star)
    np.testing.assert_allclose(res["l2"]["w"], w2, rtol=1e-10)
    assert res["l2"]["norm"] == pytest.approx(t, abs=1e-10)
    assert res["l1"]["loss"] == pytest.approx(f(np.asarray(res["l1"]["w"])))


def test_updates_numbers(results):
    res = results["updates"]
    p, d = res["penalty_only"], res["with_data"]
    w0, eta_alpha = np.asarray(res["w0"]), res["step"] * res["alpha"]
    # constant step: zero exactly after ceil(|w0| / (eta alpha)) steps; decay: (1 - eta alpha)^T
    assert p["l1_zero_at_iteration"] == [math.ceil(abs(w) / eta_alpha) for w in w0]
    assert p["l1_final"] == [0.0] * w0.size
    np.testing.assert_allclose(p["l2_final"], (1 - eta_alpha) ** res["n_iter"] * w0, rtol=1e-12)
    assert p["l2_n_zero"] == 0
    history = np.asarray(p["l1_history"])
    steps = np.abs(np.diff(history[:10, 0]))
    np.testing.assert_allclose(steps, eta_alpha, rtol=1e-12)          # a constant step
    # with data: ISTA reaches scikit-learn's Lasso, gradient descent with decay its Ridge
    X, y = updates.make_data()
    sk_lasso = SkLasso(alpha=d["alpha"], fit_intercept=False, tol=1e-12).fit(X, y).coef_
    sk_ridge = SkRidge(alpha=d["alpha"] * X.shape[0], fit_intercept=False).fit(X, y).coef_
    np.testing.assert_allclose(d["ista_final"], sk_lasso, atol=1e-8)
    np.testing.assert_allclose(d["lasso_coef"], sk_lasso, atol=1e-8)
    np.testing.assert_allclose(d["gd_final"], sk_ridge, atol=1e-8)
    np.testing.assert_allclose(d["ridge_coef"], sk_ridge, atol=1e-10)
    assert d["ista_n_zero"] == d["lasso_n_zero"] == int(np.sum(sk_lasso == 0)) == 2
    assert d["gd_n_zero"] == 0
    assert d["step"] == pytest.approx(1 / np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1])


def test_distance_numbers(results):
    res = results["distance"]
    l2, l1 = res["l2"], res["l1"]
    # L2 (eq. 7.13) against scikit-learn's Ridge with alpha = n * alpha
    X, y = distance.correlated_data()
    n = X.shape[0]
    w_star = np.linalg.lstsq(np.c_[np.ones(n), X], y, rcond=None)[0][1:]
    sk = SkRidge(alpha=n * l2["alpha"]).fit(X, y).coef_
    np.testing.assert_allclose(l2["w_star"], w_star, rtol=1e-9)
    np.testing.assert_allclose(l2["ridge"], sk, rtol=1e-9)
    np.testing.assert_allclose(l2["predicted"], sk, rtol=1e-9)
    lam = np.linalg.eigvalsh(np.cov(X.T, bias=True))
    np.testing.assert_allclose(l2["eigenvalues"], lam, rtol=1e-10)
    np.testing.assert_allclose(l2["factor"], lam / (lam + l2["alpha"]), rtol=1e-12)
    np.testing.assert_allclose(l2["observed_factor"], l2["factor"], rtol=1e-8)
    assert l2["offdiag_max"] > 0.5 and l2["max_abs_difference"] < 1e-10
    # L1 (eq. 7.23) on a diagonal Hessian against scikit-learn's Lasso
    Xo, yo = distance.orthogonal_data()
    Ho = np.cov(Xo.T, bias=True)
    np.testing.assert_allclose(l1["h_diag"], np.square(distance.COLUMN_SCALES), rtol=1e-10)
    assert np.max(np.abs(Ho - np.diag(np.diag(Ho)))) < 1e-10 and l1["offdiag_max"] < 1e-10
    sk1 = SkLasso(alpha=l1["alpha"], tol=1e-12, max_iter=100_000).fit(Xo, yo).coef_
    np.testing.assert_allclose(l1["lasso"], sk1, atol=1e-9)
    ws = np.linalg.lstsq(np.c_[np.ones(n), Xo], yo, rcond=None)[0][1:]
    thr = l1["alpha"] / np.diag(Ho)
    np.testing.assert_allclose(l1["threshold"], thr, rtol=1e-10)
    np.testing.assert_allclose(l1["predicted"], np.sign(ws) * np.maximum(np.abs(ws) - thr, 0),
                               atol=1e-10)
    assert l1["n_zero_lasso"] == l1["n_zero_predicted"] == int(np.sum(sk1 == 0)) >= 2


def test_cli_demo_names_a_missing_optional_dependency(tmp_path, capsys, monkeypatch):
    """Without torch, `demo nn-sparsity` exits 2 naming the extra; `demo all` skips it."""

    def run_without_torch(name, out=None, dpi=110):
        if name == "nn-sparsity":
            raise ImportError("shrinkage.torch needs PyTorch: pip install 'shrinkage[torch]'")
        return {"demo": name, "title": name, "files": {}}

    monkeypatch.setattr(demos, "run", run_without_torch)
    monkeypatch.setattr(demos, "summary", lambda result: result["title"])
    assert main(["demo", "nn-sparsity", "--out", str(tmp_path)]) == 2
    assert "shrinkage[torch]" in capsys.readouterr().err
    assert main(["demo", "all", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "skipping nn-sparsity" in captured.err and "boosting" in captured.out
