"""The Bayesian lasso's Gibbs sampler against PyMC's NUTS on the same model (optional, slow).

The model, written for PyMC in its marginal form (the tau_j^2 of Park & Casella's hierarchy
integrated out)::

    y_i | b0, beta, sigma^2 ~ N(b0 + x_i'beta, sigma^2)
    beta_j | sigma          ~ Laplace(0, sigma / lambda)     (lambda fixed)
    p(sigma^2) ∝ 1 / sigma^2     (a flat prior on log sigma^2)
    p(b0) ∝ 1                    (shrinkage integrates the flat intercept out by centring)

Agreement: ``|m_shrinkage - m_pymc| <= 3 sqrt(se_shrinkage^2 + se_pymc^2)`` for every posterior
mean (the coefficients and sigma^2), each Monte Carlo standard error from its own sampler's ESS
(shrinkage's ``ess_``, arviz's bulk ESS / ``az.mcse``). Seeds are fixed (shrinkage
``random_state=0``, PyMC ``random_seed=1``: largest standardised difference 1.15). Over 21 seed
pairs (s, s + 1) the largest was 2.64, and the same PyMC runs put shrinkage's posterior at a
lambda 1.5 times larger 6.5 to 10 standard errors away, so the band is informative (see
docs/bayes.md and ``benchmarks/bench_bayes.py --agreement-seeds``).
"""

import numpy as np
import pytest

pm = pytest.importorskip("pymc")
az = pytest.importorskip("arviz")

from shrinkage.bayes import BayesianLasso  # noqa: E402

LAM = 2.0


def _problem():
    """40 x 5, correlated columns scaled to sd 1, sparse truth, noise sd 1: small enough that the
    Laplace prior (scale sigma / 2) visibly shrinks the posterior."""
    rng = np.random.default_rng(0)
    n, p = 40, 5
    corr = 0.5 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(corr).T
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = 3.0 + X @ np.array([1.0, -0.5, 0.0, 0.0, 0.25]) + rng.standard_normal(n)
    return X, y


def _pymc_posterior(X, y, lam, seed):
    import pytensor.tensor as pt

    with pm.Model():
        log_sigma2 = pm.Flat("log_sigma2")
        sigma = pt.exp(0.5 * log_sigma2)
        beta = pm.Laplace("beta", mu=0.0, b=sigma / lam, shape=X.shape[1])
        intercept = pm.Flat("intercept")
        pm.Normal("y", mu=intercept + pt.dot(X, beta), sigma=sigma, observed=y)
        pm.Deterministic("sigma2", pt.exp(log_sigma2))
        return pm.sample(draws=1000, tune=700, chains=2, cores=1, random_seed=seed,
                         progressbar=False, compute_convergence_checks=False)


def _standardised_differences(fit, idata):
    """``|m1 - m2| / sqrt(se1^2 + se2^2)`` for beta_1..p and sigma^2."""
    draws = fit.coef_samples_.reshape(-1, fit.coef_samples_.shape[-1])
    se_ours = np.append(draws.std(axis=0) / np.sqrt(fit.ess_),
                        fit.sigma2_samples_.std() / np.sqrt(fit.ess_sigma2_))
    ours = np.append(fit.coef_, fit.sigma2_samples_.mean())
    post = idata.posterior
    theirs = np.append(post["beta"].mean(("chain", "draw")).values, post["sigma2"].mean().item())
    mcse = az.mcse(idata, var_names=["beta", "sigma2"], method="mean")
    se_theirs = np.append(mcse["beta"].values, mcse["sigma2"].item())
    return np.abs(ours - theirs) / np.hypot(se_ours, se_theirs)


@pytest.mark.slow
def test_posterior_means_agree_with_pymc_nuts():
    X, y = _problem()
    idata = _pymc_posterior(X, y, LAM, seed=1)
    assert az.rhat(idata, var_names=["beta"])["beta"].max() < 1.02
    kw = dict(lam_method="fixed", n_draws=2000, burn_in=300, random_state=0)
    fit = BayesianLasso(lam=LAM, **kw).fit(X, y)
    z = _standardised_differences(fit, idata)
    assert np.all(z <= 3.0), z
    # the band has power: the posterior at lambda x 1.5 is told apart from PyMC's at lambda
    other = BayesianLasso(lam=1.5 * LAM, **kw).fit(X, y)
    assert np.max(_standardised_differences(other, idata)) > 5.0
