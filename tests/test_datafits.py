"""The Quadratic datafit: value, gradient, quadratic model and likelihood, checked independently."""

import numpy as np
from scipy import optimize, stats

from shrinkage.datafits import Quadratic, normalise_sample_weight


def test_value_and_gradient_match_the_formula_and_finite_differences():
    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((30, 5)), rng.standard_normal(30), rng.standard_normal(5)
    s = rng.uniform(0.5, 2.0, 30)
    datafit = Quadratic()
    s_norm = s * 30 / s.sum()
    assert datafit.value(y, X @ w, s) == np.sum(s_norm * (y - X @ w) ** 2) / 60

    def value(v):
        return datafit.value(y, X @ v, s)

    np.testing.assert_allclose(datafit.gradient(X, y, X @ w, s),
                               optimize.approx_fprime(w, value, 1e-7), rtol=1e-5, atol=1e-7)


def test_quadratic_model_is_exact():
    y, z = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -0.4])
    h, working = Quadratic().quadratic_model(y, z)
    np.testing.assert_array_equal(h, 1.0)
    np.testing.assert_allclose(working, y)


def test_log_likelihood_is_gaussian_with_frequency_weights():
    rng = np.random.default_rng(1)
    y, z = rng.standard_normal(20), rng.standard_normal(20)
    counts = rng.integers(0, 4, 20)
    got = Quadratic().log_likelihood(y, z, noise=0.7, sample_weight=counts)
    repeated = stats.norm.logpdf(np.repeat(y, counts), np.repeat(z, counts), 0.7).sum()
    assert np.isclose(got, repeated, rtol=1e-12)
    # and the datafit is its negative, scaled: -(N / noise^2) F - (N/2) log(2 pi noise^2)
    n_obs = counts.sum()
    value = Quadratic().value(y, z, counts)
    assert np.isclose(got, -(n_obs / 0.49) * value - n_obs / 2 * np.log(2 * np.pi * 0.49))


def test_normalised_weights_sum_to_n():
    np.testing.assert_allclose(normalise_sample_weight([1.0, 3.0], 2).sum(), 2.0)
    np.testing.assert_array_equal(normalise_sample_weight(None, 3), np.ones(3))
