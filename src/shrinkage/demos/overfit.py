"""``shrinkage demo overfit``: a degree-15 polynomial on 30 noisy points, without and with ridge.

The first seed's picture (scikit-learn's "underfitting vs overfitting" data): ``y = cos(1.5 π x)
+ noise`` on 30 points of [0, 1], the features ``x, x², …, x¹⁵`` and an unpenalized intercept.
Least squares (``Ridge(alpha=0)``, a flat prior) interpolates the noise with coefficients in the
billions; ridge (``Ridge(alpha=1e-3)``, i.e. scikit-learn's ``Ridge(alpha=n·1e-3)``) keeps them of
order one and follows the curve.
"""

import numpy as np

from ..linear_model import Ridge

TITLE = "degree-15 polynomial regression: least squares overfits, ridge does not"
DEGREE = 15
N_SAMPLES = 30
NOISE = 0.1
SEED = 3        # with this draw the least-squares coefficients reach ~7e9, as in the seed
ALPHA = 1e-3    # shrinkage's scaling: (1/2n)||y - Xw - b||^2 + (alpha/2)||w||^2


def true_function(x):
    return np.cos(1.5 * np.pi * x)


def make_data(seed=SEED, n_samples=N_SAMPLES, noise=NOISE):
    """Sorted ``x`` uniform on [0, 1] and ``y = cos(1.5 π x) + noise · N(0, 1)``."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.random(n_samples))
    return x, true_function(x) + noise * rng.standard_normal(n_samples)


def polynomial_features(x, degree=DEGREE):
    """Columns ``x, x², …, x^degree`` (the intercept is fitted, unpenalized, by the estimator)."""
    return np.asarray(x, dtype=np.float64)[:, None] ** np.arange(1, degree + 1)


def compute(seed=SEED, alpha=ALPHA):
    x, y = make_data(seed)
    X = polynomial_features(x)
    ols = Ridge(alpha=0.0).fit(X, y)
    ridge = Ridge(alpha=alpha).fit(X, y)
    grid = np.linspace(0.0, 1.0, 200)
    G = polynomial_features(grid)
    truth = true_function(grid)
    return {
        "degree": DEGREE, "n_samples": int(x.size), "seed": seed, "alpha": alpha,
        "sklearn_ridge_alpha": alpha * x.size,
        "x": x.tolist(), "y": y.tolist(),
        "ols": {"intercept": float(ols.intercept_), "coef": ols.coef_.tolist(),
                "max_abs_coef": float(np.max(np.abs(ols.coef_))),
                "train_mse": float(np.mean((ols.predict(X) - y) ** 2)),
                "grid_mse_to_truth": float(np.mean((ols.predict(G) - truth) ** 2))},
        "ridge": {"intercept": float(ridge.intercept_), "coef": ridge.coef_.tolist(),
                  "max_abs_coef": float(np.max(np.abs(ridge.coef_))),
                  "train_mse": float(np.mean((ridge.predict(X) - y) ** 2)),
                  "grid_mse_to_truth": float(np.mean((ridge.predict(G) - truth) ** 2))},
    }


def figures(result):
    from ..plot._common import new_figure

    x, y = np.asarray(result["x"]), np.asarray(result["y"])
    grid = np.linspace(0.0, 1.0, 400)
    G = polynomial_features(grid)
    figure = new_figure((11.0, 4.4))
    axes = figure.subplots(1, 2, sharey=True)
    for ax, key, title in ((axes[0], "ols", "without regularization (least squares)"),
                           (axes[1], "ridge", f"ridge, α = {result['alpha']:g}")):
        fit = result[key]
        ax.plot(grid, true_function(grid), color="0.5", linestyle="--", label="true function")
        ax.plot(grid, fit["intercept"] + G @ np.asarray(fit["coef"]), color="tab:blue",
                label=f"degree {result['degree']} fit")
        ax.scatter(x, y, s=18, color="tab:red", edgecolor="k", linewidth=0.5, zorder=3,
                   label="samples")
        ax.set_ylim(-2.0, 2.0)
        ax.set_xlabel("x")
        ax.set_title(f"{title}\nmax |coef| = {fit['max_abs_coef']:.3g}, "
                     f"MSE to truth = {fit['grid_mse_to_truth']:.3g}", fontsize="medium")
        ax.legend(fontsize="small", frameon=False, loc="lower left")
    axes[0].set_ylabel("y")
    return {"overfit.png": figure}


def summary(result):
    from . import vector

    lines = [result["title"],
             f"{result['n_samples']} samples of cos(1.5πx) + N(0, {NOISE}²), seed {result['seed']}; "
             f"features x … x^{result['degree']}, intercept unpenalized",
             ""]
    for key, label in (("ols", "least squares (Ridge(alpha=0), flat prior)"),
                       ("ridge", f"ridge (Ridge(alpha={result['alpha']:g}) = scikit-learn "
                                 f"Ridge(alpha={result['sklearn_ridge_alpha']:g}))")):
        fit = result[key]
        lines += [f"{label}:",
                  f"  intercept {fit['intercept']:.4g}",
                  f"  coef      {vector(fit['coef'], '{: .3e}' if key == 'ols' else '{: .3f}')}",
                  f"  max |coef| {fit['max_abs_coef']:.3g}   training MSE {fit['train_mse']:.3g}"
                  f"   MSE to the true curve {fit['grid_mse_to_truth']:.3g}", ""]
    return "\n".join(lines).rstrip()
