"""Posterior estimators: BayesianRidge against scikit-learn, the Bayesian lasso's Gibbs sampler
against exact posteriors, Park & Casella's diabetes lambda, the MAP = Lasso link, diagnostics."""

import numpy as np
import pytest
from scipy import optimize
from sklearn.datasets import load_diabetes
from sklearn.linear_model import BayesianRidge as SkBayesianRidge
from sklearn.utils.estimator_checks import check_estimator

import shrinkage as sh
from shrinkage.bayes import BayesianLasso, BayesianRidge, effective_sample_size, split_rhat
from shrinkage.priors import Laplace


def _problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)
    y = X[:, :3] @ [2.0, -1.0, 0.5] + 1.0 + rng.standard_normal(n)
    return X, y, rng.uniform(0.2, 3.0, n)


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b))


# ------------------------------------------------------------------ BayesianRidge vs scikit-learn

@pytest.mark.parametrize("n, p, weighted", [(100, 10, False), (30, 80, False), (60, 20, True),
                                            (50, 50, True)])
@pytest.mark.parametrize("kwargs", [{}, {"compute_score": True, "tol": 1e-8},
                                    {"fit_intercept": False}], ids=["default", "score", "nointc"])
def test_bayesian_ridge_matches_sklearn(n, p, weighted, kwargs):
    X, y, sw = _problem(n, p)
    sw = sw if weighted else None
    ref = SkBayesianRidge(**kwargs).fit(X, y, sample_weight=sw)
    est = BayesianRidge(**kwargs).fit(X, y, sample_weight=sw)
    assert est.n_iter_ == ref.n_iter_
    assert _rel(est.coef_, ref.coef_) < 1e-6
    assert abs(est.alpha_ / ref.alpha_ - 1) < 1e-6
    assert abs(est.lambda_ / ref.lambda_ - 1) < 1e-6
    assert abs(est.intercept_ - ref.intercept_) <= 1e-6 * max(1.0, abs(ref.intercept_))
    assert _rel(est.sigma_, ref.sigma_) < 1e-6
    X_new = _problem(7, p, seed=1)[0]
    mean, std = est.predict(X_new, return_std=True)
    mean_ref, std_ref = ref.predict(X_new, return_std=True)
    assert _rel(mean, mean_ref) < 1e-6 and _rel(std, std_ref) < 1e-6
    if kwargs.get("compute_score"):
        assert _rel(est.scores_, ref.scores_) < 1e-6


def test_bayesian_ridge_mean_is_the_map_under_its_gaussian_prior():
    X, y, _ = _problem(80, 12)
    est = BayesianRidge().fit(X, y)
    assert isinstance(est.prior_, sh.Gaussian)
    mapped = sh.MAPRegressor(prior=est.prior_, noise=est.noise_).fit(X, y)
    np.testing.assert_allclose(mapped.coef_, est.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(mapped.alpha_, est.lambda_ / (est.alpha_ * len(y)), rtol=1e-12)


# ------------------------------------------------------------------ scikit-learn contract

@pytest.mark.parametrize("estimator", [
    BayesianRidge(),
    BayesianLasso(n_draws=40, burn_in=10, n_chains=2, random_state=0),
    BayesianLasso(lam_method="em", em_iter=3, em_sweeps=10, n_draws=20, burn_in=5, n_chains=2,
                  random_state=0),
    BayesianLasso(prior=Laplace(1.0), noise=1.0, n_draws=20, burn_in=5, random_state=0),
], ids=repr)
def test_check_estimator(estimator):
    # an MCMC fit with repeated rows is the same posterior, not the same draws (the sampler's
    # arrays differ in size and rounding): tested in distribution by test_frequency_weights_*
    expected = {} if isinstance(estimator, BayesianRidge) else {
        f"check_sample_weight_equivalence_on_{kind}_data": "equal in distribution, not draw by draw"
        for kind in ("dense", "sparse")}
    check_estimator(estimator, expected_failed_checks=expected)


# ------------------------------------------------------------------ the Gibbs sampler is exact

def _grid_posterior_mean(X, y, noise, prior, half_width=4.0, size=801):
    """Posterior mean of a 2-coefficient model (no intercept) by quadrature on a grid:
    log p(beta | y) = -||y - X beta||^2 / (2 noise^2) + sum_j prior.logpdf(beta_j) + const."""
    centre = np.linalg.lstsq(X, y, rcond=None)[0] if X.shape[0] >= 2 else np.zeros(2)
    axes = [np.linspace(c - half_width, c + half_width, size) for c in centre]
    b1, b2 = np.meshgrid(*axes, indexing="ij")
    resid = y[:, None, None] - X[:, :1, None] * b1 - X[:, 1:, None] * b2
    logp = -0.5 * np.sum(resid**2, axis=0) / noise**2 + prior.logpdf(b1) + prior.logpdf(b2)
    w = np.exp(logp - logp.max())
    w /= w.sum()
    return np.array([np.sum(w * b1), np.sum(w * b2)])


@pytest.mark.parametrize("n", [6, 1], ids=["cholesky n>p", "bhattacharya p>n"])
def test_gibbs_posterior_mean_matches_quadrature(n):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n, 2))
    y = X @ [1.0, -0.3] + 0.7 * rng.standard_normal(n)
    noise, prior = 0.7, Laplace(0.5)
    fit = BayesianLasso(prior=prior, noise=noise, n_draws=5000, burn_in=200, n_chains=4,
                        fit_intercept=False, random_state=0).fit(X, y)
    assert fit.lambda_ == pytest.approx(noise / 0.5)
    exact = _grid_posterior_mean(X, y, noise, prior, half_width=6.0 if n == 1 else 3.0)
    draws = fit.coef_samples_.reshape(-1, 2)
    mcse = draws.std(axis=0) / np.sqrt(fit.ess_)
    assert np.all(np.abs(fit.coef_ - exact) < 4 * mcse), (fit.coef_, exact, mcse)


# ------------------------------------------------------------------ Park & Casella's diabetes lambda

def test_monte_carlo_em_gives_park_casella_lambda_on_diabetes():
    """Park & Casella (2008) report lambda = 0.237 (Monte Carlo EM) for the diabetes data with the
    columns standardised as in Efron et al. (2004): centred, unit Euclidean norm — scikit-learn's
    default scaling (with columns of sd 1 the same fit gives 0.237 * sqrt(442))."""
    X, y = load_diabetes(return_X_y=True)
    y = y - y.mean()
    estimates, iterate_sd = [], []
    for seed in range(3):
        fit = BayesianLasso(lam_method="em", em_iter=50, em_sweeps=100, n_draws=20, burn_in=0,
                            random_state=seed).fit(X, y)
        estimates.append(fit.lambda_)
        iterate_sd.append(fit.lambda_path_[25:].std(ddof=1))
    estimate = np.mean(estimates)
    # Monte Carlo error of our estimate (spread over seeds) and of a single EM iterate (what a
    # published value is), plus the rounding of 0.237 to three digits
    mc_ours = np.std(estimates, ddof=1) / np.sqrt(len(estimates))
    mc_iterate = np.mean(iterate_sd)
    tolerance = 3 * np.sqrt(mc_ours**2 + mc_iterate**2) + 0.0005
    assert abs(estimate - 0.237) < tolerance, (estimate, mc_ours, mc_iterate)
    assert tolerance < 0.005  # the check is informative: lambda is pinned to ~2%


# ------------------------------------------------------------------ MAP view: mode = Lasso

def test_posterior_mode_at_fixed_sigma_is_the_lasso_and_mean_is_not_sparse():
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:200], y[:200]
    n = len(y)
    noise, scale = 55.0, 20.0                      # b = sigma / lambda
    prior = Laplace(scale)
    alpha = noise**2 / (n * scale)                 # the mapped lasso strength
    lasso = sh.Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    beta, c = lasso.coef_, lasso.intercept_
    assert np.sum(beta == 0) >= 2                  # the mode is sparse

    def neg_log_posterior(b, c=c):
        r = y - X @ b - c
        return 0.5 * r @ r / noise**2 - np.sum(prior.logpdf(b))

    # stationarity of the log posterior (subgradient of the Laplace log density contains 0)
    grad = X.T @ (y - X @ beta - c) / noise**2     # d/d beta of the log likelihood
    nz = beta != 0
    np.testing.assert_allclose(grad[nz], np.sign(beta[nz]) / scale, rtol=1e-6)
    assert np.all(np.abs(grad[~nz]) <= 1.0 / scale * (1 + 1e-8))
    # an independent maximiser of the log posterior (beta = u - v, u, v >= 0, smooth)
    p = X.shape[1]

    def split(uv):
        b = uv[:p] - uv[p:]
        r = y - X @ b - c
        g = -X.T @ r / noise**2
        value = 0.5 * r @ r / noise**2 + np.sum(uv) / scale + p * np.log(2 * scale)
        return value, np.concatenate([g + 1 / scale, -g + 1 / scale])

    res = optimize.minimize(split, np.zeros(2 * p), jac=True, method="L-BFGS-B",
                            bounds=[(0, None)] * (2 * p), options={"ftol": 1e-15, "gtol": 1e-10})
    mode = res.x[:p] - res.x[p:]
    assert neg_log_posterior(mode) == pytest.approx(neg_log_posterior(beta), rel=1e-9)
    np.testing.assert_allclose(mode, beta, atol=1e-3 * np.abs(beta).max())

    fit = BayesianLasso(prior=prior, noise=noise, n_draws=500, burn_in=100, random_state=0)
    fit.fit(X, y)
    assert fit.alpha_ == pytest.approx(alpha, rel=1e-12)
    assert fit.prior_.scale == pytest.approx(scale, rel=1e-12)
    np.testing.assert_allclose(fit.mode_estimator().fit(X, y).coef_, beta, atol=1e-6)
    assert np.all(fit.coef_ != 0) and np.all(fit.coef_median_ != 0)  # the mean is not sparse


# ------------------------------------------------------------------ diagnostics and summaries

def test_rhat_and_ess_on_known_chains():
    rng = np.random.default_rng(0)
    iid = rng.standard_normal((4, 2000, 1))
    assert abs(split_rhat(iid)[0] - 1) < 0.01
    assert effective_sample_size(iid)[0] == pytest.approx(8000, rel=0.1)
    rho = 0.8                                      # AR(1): ESS = N (1 - rho) / (1 + rho)
    ar = np.zeros((4, 5000, 1))
    for t in range(1, 5000):
        ar[:, t] = rho * ar[:, t - 1] + rng.standard_normal((4, 1))
    assert effective_sample_size(ar)[0] == pytest.approx(20000 * (1 - rho) / (1 + rho), rel=0.2)
    stuck = iid + np.arange(4)[:, None, None]      # chains at different places
    assert split_rhat(stuck)[0] > 1.5


def test_diabetes_chains_mix_and_summaries():
    X, y = load_diabetes(return_X_y=True)
    fit = BayesianLasso(n_draws=1000, burn_in=200, random_state=1).fit(X, y - y.mean())
    assert np.all(fit.rhat_ < 1.01) and fit.rhat_sigma2_ < 1.01
    assert np.all(fit.ess_ > 1000)
    assert fit.lambda_samples_.shape == (4, 1000)
    ci = fit.credible_interval(0.95)
    narrow = fit.credible_interval(0.5)
    assert ci.shape == (10, 2)
    assert np.all(ci[:, 0] < narrow[:, 0]) and np.all(narrow[:, 1] < ci[:, 1])
    assert np.all((ci[:, 0] < fit.coef_median_) & (fit.coef_median_ < ci[:, 1]))
    draws = fit.sample_posterior(50, random_state=0)
    assert draws.shape == (50, 10)
    assert np.isin(draws[:, 0], fit.coef_samples_[..., 0]).all()
    assert isinstance(fit.prior_, Laplace)
    assert fit.prior_.scale == pytest.approx(fit.noise_ / fit.lambda_)


def test_p_greater_than_n_with_sampled_sigma_mixes():
    X, y, _ = _problem(30, 100)
    fit = BayesianLasso(n_draws=500, burn_in=200, random_state=0).fit(X, y)
    assert fit.coef_samples_.shape == (4, 500, 100)
    assert np.all(fit.rhat_ < 1.05)
    assert np.argsort(-np.abs(fit.coef_))[:2].tolist() in ([0, 1], [1, 0])


def test_seeded_run_is_reproducible():
    X, y, _ = _problem(50, 8)
    a = BayesianLasso(n_draws=50, burn_in=10, random_state=7).fit(X, y)
    b = BayesianLasso(n_draws=50, burn_in=10, random_state=7).fit(X, y)
    c = BayesianLasso(n_draws=50, burn_in=10, random_state=8).fit(X, y)
    np.testing.assert_array_equal(a.coef_samples_, b.coef_samples_)
    np.testing.assert_array_equal(a.sigma2_samples_, b.sigma2_samples_)
    assert not np.array_equal(a.coef_samples_, c.coef_samples_)


def test_bad_parameters():
    X, y, _ = _problem(20, 3)
    with pytest.raises(ValueError, match="needs lam"):
        BayesianLasso(lam_method="fixed").fit(X, y)
    with pytest.raises(ValueError, match="needs noise"):
        BayesianLasso(prior=Laplace(1.0)).fit(X, y)
    with pytest.raises(ValueError, match="one finite scale"):
        BayesianLasso(prior=Laplace([1.0, 2.0, 3.0]), noise=1.0).fit(X, y)
    fit = BayesianLasso(n_draws=10, burn_in=0, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="level"):
        fit.credible_interval(1.5)


def test_plot_posterior_shows_both_views():
    pytest.importorskip("matplotlib")
    from shrinkage.plot import plot_posterior

    X, y = load_diabetes(return_X_y=True)
    fit = BayesianLasso(n_draws=200, burn_in=50, random_state=0).fit(X, y - y.mean())
    mode = fit.mode_estimator().fit(X, y - y.mean()).coef_
    figure = plot_posterior(fit, mode)
    left, right = figure.axes
    labels = [t.get_text() for t in left.get_legend().get_texts()]
    assert "MAP (lasso)" in labels and "posterior mean" in labels
    assert len(right.patches) > 0


# ------------------------------------------------------------------ frequency weights

def _moments_agree(a, b):
    """Largest standardised differences between two fits' posterior means and posterior standard
    deviations: ``|m_a - m_b| / sqrt(se_a^2 + se_b^2)`` with each Monte Carlo standard error from
    that fit's own effective sample size (for the sd: the ESS of the squared deviations, by the
    delta method ``se(sd) = se(var) / (2 sd)``)."""
    def summary(fit):
        draws = fit.coef_samples_
        sq = (draws - draws.mean(axis=(0, 1))) ** 2
        var, sd = sq.mean(axis=(0, 1)), np.sqrt(sq.mean(axis=(0, 1)))
        se_mean = sd / np.sqrt(fit.ess_)
        se_sd = sq.std(axis=(0, 1)) / np.sqrt(effective_sample_size(sq)) / (2 * sd)
        return fit.coef_, se_mean, np.sqrt(var), se_sd

    ma, sea, sda, se_sda = summary(a)
    mb, seb, sdb, se_sdb = summary(b)
    z_mean = np.abs(ma - mb) / np.hypot(sea, seb)
    z_sd = np.abs(sda - sdb) / np.hypot(se_sda, se_sdb)
    return z_mean.max(), z_sd.max()


@pytest.mark.parametrize("n, p", [(40, 4), (12, 20)], ids=["cholesky", "bhattacharya p>n"])
def test_frequency_weights_are_repeated_rows(n, p):
    """A weight-s row is the row s times (weight 0: dropped): the same posterior, checked in
    distribution against the fit on the repeated data (for p > n the weighted fit runs the
    O(n^2 p) draw and the repeated one, with more rows than columns, the Cholesky draw)."""
    X, y, _ = _problem(n, p, seed=4)
    sw = np.random.default_rng(5).integers(0, 4, n)
    sw[:2] = [0, 3]
    X_rep, y_rep = np.repeat(X, sw, axis=0), np.repeat(y, sw)
    # lambda sampled (Gamma hyperprior) when n > p; fixed when p > n, where y can be fitted
    # exactly and the hyperprior lets sigma and lambda drift to 0 together
    kw = dict(n_draws=1500, burn_in=200, random_state=0)
    kw.update({} if n > p else dict(lam=1.0, lam_method="fixed"))
    weighted = BayesianLasso(**kw).fit(X, y, sample_weight=sw)
    repeated = BayesianLasso(**{**kw, "random_state": 1}).fit(X_rep, y_rep)  # independent draws
    z_mean, z_sd = _moments_agree(weighted, repeated)
    assert z_mean < 4 and z_sd < 4, (z_mean, z_sd)
    # sigma^2 and lambda come from the same posterior too (N = sum of the weights)
    pairs = [(weighted.sigma2_samples_, repeated.sigma2_samples_)]
    if n > p:
        pairs.append((weighted.lambda_samples_, repeated.lambda_samples_))
    for draws_w, draws_r in pairs:
        se = np.sqrt(draws_w.var() / effective_sample_size(draws_w[..., None])[0]
                     + draws_r.var() / effective_sample_size(draws_r[..., None])[0])
        assert abs(draws_w.mean() - draws_r.mean()) < 4 * se
    assert abs(weighted.intercept_ - repeated.intercept_) < 0.1 * np.std(y)
    # the check has power: ignoring the weights moves the posterior far outside that band
    unweighted = BayesianLasso(**kw).fit(X, y)
    assert _moments_agree(unweighted, repeated)[0] > 8


def test_frequency_weights_map_mode_mapping():
    """With sigma fixed the mode of the weighted posterior is Lasso(alpha_ = sigma^2 / (N b)) on
    the repeated rows, N = sum of the weights: the same alpha_, prior_ and mode as the repeated
    fit."""
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:80], y[:80]
    sw = np.random.default_rng(1).integers(0, 4, len(y))
    X_rep, y_rep = np.repeat(X, sw, axis=0), np.repeat(y, sw)
    noise, prior = 55.0, Laplace(20.0)
    kw = dict(prior=prior, noise=noise, n_draws=50, burn_in=10, random_state=0)
    weighted = BayesianLasso(**kw).fit(X, y, sample_weight=sw)
    repeated = BayesianLasso(**kw).fit(X_rep, y_rep)
    assert weighted.alpha_ == pytest.approx(noise**2 / (sw.sum() * 20.0), rel=1e-12)
    assert weighted.alpha_ == pytest.approx(repeated.alpha_, rel=1e-12)
    assert weighted.prior_.scale == pytest.approx(repeated.prior_.scale, rel=1e-12)
    lasso = sh.Lasso(alpha=repeated.alpha_, tol=1e-12, max_iter=100_000).fit(X_rep, y_rep)
    mode = weighted.mode_estimator().fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(mode.coef_, lasso.coef_, atol=1e-6 * np.abs(lasso.coef_).max())
    assert mode.intercept_ == pytest.approx(lasso.intercept_, rel=1e-8)
    assert np.sum(lasso.coef_ == 0) >= 1 and np.all(weighted.coef_ != 0)
