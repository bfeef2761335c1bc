"""Penalties (value, prox, subdifferential, alpha_max) and priors (density, sampling, maps)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

import shrinkage as sh
from shrinkage.penalties import L1, L2, ElasticNet

PENALTIES = [
    L1(0.7),
    L1(0.7, positive=True),
    L2(1.3),
    L2(1.3, positive=True),
    ElasticNet(0.9, l1_ratio=0.3),
    ElasticNet(0.9, l1_ratio=0.3, weights=[0.0, 1.0, 2.5], positive=True),
    L1(0.5, weights=[1.0, 0.0, 3.0]),
]


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
@given(v=st.lists(st.floats(-5, 5), min_size=3, max_size=3), step=st.floats(0.01, 3))
@settings(max_examples=40, deadline=None)
def test_prox_is_the_minimiser(penalty, v, step):
    v = np.array(v)
    prox = penalty.prox(v, step)
    for j in range(3):
        def objective(x, j=j):
            w = np.zeros(3)
            w[j] = x
            return (x - v[j]) ** 2 / (2 * step) + penalty.value(w)
        lower = 0.0 if penalty.positive else -10.0
        ref = optimize.minimize_scalar(objective, bounds=(lower, 10.0), method="bounded",
                                       options=dict(xatol=1e-12))
        assert objective(prox[j]) <= ref.fun + 1e-9
        assert abs(prox[j] - ref.x) < 1e-5


def test_soft_thresholding_and_exact_zeros():
    np.testing.assert_array_equal(L1(1.0).prox(np.array([-3.0, -0.5, 0.0, 0.9, 2.0]), 1.0),
                                  [-2.0, 0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(L1(1.0, positive=True).prox(np.array([-3.0, 2.0]), 1.0),
                                  [0.0, 1.0])
    np.testing.assert_allclose(L2(1.0).prox(np.array([2.0]), 1.0), [1.0])  # 2 / (1 + 1)


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
def test_subdiff_distance_is_zero_exactly_at_the_prox_fixed_point(penalty):
    rng = np.random.default_rng(0)
    grad = rng.standard_normal(3) * 2
    # w = prox(-grad) minimises <grad, w> + ||w||^2 / 2 + penalty(w), whose smooth part has the
    # gradient grad + w: the subdifferential distance must vanish there and only there
    w = penalty.prox(-grad, 1.0)
    assert np.all(penalty.subdiff_distance(w, grad + w) < 1e-12)
    assert np.any(penalty.subdiff_distance(w + 0.1, grad + w + 0.1) > 1e-3)


def test_alpha_max_and_values():
    grad = np.array([0.5, -2.0, 1.0])
    assert L1(1.0).alpha_max(grad) == 2.0
    assert L1(1.0, positive=True).alpha_max(grad) == 2.0
    assert L1(1.0, weights=[1.0, 0.0, 0.5]).alpha_max(grad) == 2.0  # 1.0 / 0.5
    assert ElasticNet(1.0, l1_ratio=0.5).alpha_max(grad) == 4.0
    assert L2(1.0).alpha_max(grad) == np.inf
    w = np.array([1.0, -2.0, 0.0])
    assert L1(0.5).value(w) == 1.5
    assert L2(0.5).value(w) == pytest.approx(1.25)
    assert ElasticNet(1.0, 0.25).value(w) == pytest.approx(0.75 + 0.75 * 2.5)
    assert L1(0.5, positive=True).value(w) == np.inf


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf, "a"])
def test_penalty_rejects_bad_alpha(bad):
    with pytest.raises(ValueError, match="alpha"):
        L1(bad)


def test_penalty_rejects_bad_weights():
    with pytest.raises(ValueError, match="non-negative"):
        L1(1.0, weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="one entry per feature"):
        L1(1.0, weights=[1.0, 1.0]).lower(3)
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNet(1.0, l1_ratio=2.0)


PRIORS = [sh.Laplace(0.7), sh.Gaussian(1.3), sh.ElasticNetPrior(0.5, 0.8),
          sh.ElasticNetPrior(5.0, 0.1)]


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_prior_densities_integrate_to_one(prior):
    total, _ = integrate.quad(lambda x: np.exp(prior.logpdf(np.array([x]))[0]), -np.inf, np.inf,
                              epsabs=1e-12, epsrel=1e-12)
    assert total == pytest.approx(1.0, rel=1e-8)


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_prior_samples_follow_the_density(prior):
    draws = prior.sample(size=20_000, random_state=0)

    def cdf(x):
        return np.array([integrate.quad(lambda t: np.exp(prior.logpdf(np.array([t]))[0]),
                                        -np.inf, xi)[0] for xi in np.atleast_1d(x)])

    grid = np.quantile(draws, np.linspace(0.02, 0.98, 25))
    empirical = np.searchsorted(np.sort(draws), grid) / draws.size
    assert np.max(np.abs(empirical - cdf(grid))) < 0.015


def test_laplace_and_gaussian_match_scipy():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(sh.Laplace(0.7).logpdf(x), stats.laplace.logpdf(x, scale=0.7))
    np.testing.assert_allclose(sh.Gaussian(1.3).logpdf(x), stats.norm.logpdf(x, scale=1.3))
    assert sh.Flat().neg_log_density(x) == 0.0
    with pytest.raises(ValueError, match="improper"):
        sh.Flat().sample(3)


@given(noise=st.floats(0.01, 100), n=st.integers(1, 10_000), scale=st.floats(1e-3, 1e3))
@settings(max_examples=50, deadline=None)
def test_prior_penalty_round_trips(noise, n, scale):
    lap = sh.Laplace(scale)
    pen = lap.penalty(noise, n)
    assert isinstance(pen, L1)
    assert pen.alpha == pytest.approx(noise**2 / (n * scale), rel=1e-12)
    assert pen.prior(noise, n).scale == pytest.approx(scale, rel=1e-12)
    gauss = sh.Gaussian(scale)
    pen = gauss.penalty(noise, n)
    assert isinstance(pen, L2)
    assert pen.alpha == pytest.approx(noise**2 / (n * scale**2), rel=1e-12)
    assert pen.prior(noise, n).scale == pytest.approx(scale, rel=1e-12)
    enp = sh.ElasticNetPrior(scale, 2 * scale)
    pen = enp.penalty(noise, n)
    back = pen.prior(noise, n)
    assert back.l1_scale == pytest.approx(scale, rel=1e-10)
    assert back.l2_scale == pytest.approx(2 * scale, rel=1e-10)


def test_penalty_is_negative_log_prior_up_to_scaling():
    """penalty(w) = (noise^2 / n) * (-log p(w)) + const, for every w."""
    noise, n = 1.7, 40
    rng = np.random.default_rng(0)
    for penalty in [L1(0.3), L2(0.3), ElasticNet(0.3, 0.6)]:
        prior = penalty.prior(noise, n)
        ws = rng.standard_normal((5, 4))
        diffs = [penalty.value(w) - noise**2 / n * prior.neg_log_density(w) for w in ws]
        np.testing.assert_allclose(diffs, diffs[0], rtol=1e-10, atol=1e-12)


def test_per_feature_scales_are_penalty_factors():
    prior = sh.Laplace(np.array([1.0, 2.0, np.inf]))
    pen = prior.penalty(1.0, 10)
    np.testing.assert_allclose(pen.lower(3)[0], [0.1, 0.05, 0.0])
    assert prior.logpdf(np.array([0.0, 0.0, 5.0]))[2] == 0.0
    back = L1(0.1, weights=[1.0, 0.5, 0.0]).prior(1.0, 10)
    np.testing.assert_allclose(back.scale, [1.0, 2.0, np.inf])
