"""``shrinkage demo distance``: where the regularized optimum lands (Goodfellow et al., §7.1).

Around the unregularized optimum ``w*`` the least-squares loss is exactly
``½ (w − w*)ᵀ H (w − w*) + const`` with ``H = XcᵀXc / n`` (centred design). Then

- L2 (eq. 7.13): ``w̃ = Q (Λ + αI)⁻¹ Λ Qᵀ w*`` — the component of ``w*`` along each eigenvector
  of ``H`` is scaled by ``λᵢ / (λᵢ + α)``: kept where the curvature is large, shrunk where small;
- L1 with a diagonal ``H`` (eq. 7.23): ``w̃ᵢ = sign(w*ᵢ) max(|w*ᵢ| − α / Hᵢᵢ, 0)`` —
  soft-thresholding, exact zeros wherever ``|w*ᵢ| ≤ α / Hᵢᵢ``.

Both formulas are computed from ``w*`` and ``H`` and compared with the actual ``Ridge(alpha)`` and
``Lasso(alpha)`` fits (shrinkage's scaling, ``(1/2n)||y − Xw − b||² + α P(w)``, in which the
formulas hold with no extra factor).
"""

import numpy as np

from ..linear_model import Lasso, Ridge

TITLE = "distance to the unregularized optimum: L2 scales eigendirections, L1 soft-thresholds"
N_SAMPLES = 200
L2_ALPHA = 0.5
L1_ALPHA = 0.4
COLUMN_SCALES = (2.0, 1.5, 1.0, 0.7, 0.5)   # sqrt(H_ii) of the orthogonal design
L1_TRUE_W = (1.0, 0.1, -0.6, 0.9, 0.3)


def correlated_data(seed=0, n_samples=N_SAMPLES):
    """Correlated features (so ``H`` is not diagonal) with different scales."""
    rng = np.random.default_rng(seed)
    p = len(COLUMN_SCALES)
    X = rng.standard_normal((n_samples, p)) @ np.triu(np.full((p, p), 0.5) + 0.5 * np.eye(p))
    X *= np.asarray(COLUMN_SCALES)
    return X, X @ np.linspace(1.0, -1.0, p) + rng.standard_normal(n_samples)


def orthogonal_data(seed=1, n_samples=N_SAMPLES):
    """Centred, mutually orthogonal columns with ``XcᵀXc / n = diag(COLUMN_SCALES²)``."""
    rng = np.random.default_rng(seed)
    p = len(COLUMN_SCALES)
    Z = rng.standard_normal((n_samples, p))
    Z -= Z.mean(axis=0)
    Q, _ = np.linalg.qr(Z)                    # orthonormal columns, orthogonal to the ones
    X = np.sqrt(n_samples) * Q * np.asarray(COLUMN_SCALES) + 3.0   # an offset the intercept eats
    return X, X @ np.asarray(L1_TRUE_W) + 0.3 * rng.standard_normal(n_samples)


def hessian(X):
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / X.shape[0]


def compute(l2_alpha=L2_ALPHA, l1_alpha=L1_ALPHA):
    X, y = correlated_data()
    H = hessian(X)
    w_star = Ridge(alpha=0.0).fit(X, y).coef_
    ridge = Ridge(alpha=l2_alpha).fit(X, y).coef_
    eigenvalues, Q = np.linalg.eigh(H)
    factor = eigenvalues / (eigenvalues + l2_alpha)
    predicted = Q @ (factor * (Q.T @ w_star))                    # eq. 7.13
    observed_factor = (Q.T @ ridge) / (Q.T @ w_star)

    Xo, yo = orthogonal_data()
    Ho = hessian(Xo)
    w_star_o = Ridge(alpha=0.0).fit(Xo, yo).coef_
    lasso = Lasso(alpha=l1_alpha, tol=1e-14, max_iter=100_000).fit(Xo, yo).coef_
    threshold = l1_alpha / np.diag(Ho)
    soft = np.sign(w_star_o) * np.maximum(np.abs(w_star_o) - threshold, 0.0)   # eq. 7.23
    return {
        "l2": {"alpha": l2_alpha, "eigenvalues": eigenvalues.tolist(), "factor": factor.tolist(),
               "observed_factor": observed_factor.tolist(),
               "w_star": w_star.tolist(), "w_star_eigen": (Q.T @ w_star).tolist(),
               "ridge_eigen": (Q.T @ ridge).tolist(),
               "predicted": predicted.tolist(), "ridge": ridge.tolist(),
               "max_abs_difference": float(np.max(np.abs(predicted - ridge))),
               "offdiag_max": float(np.max(np.abs(H - np.diag(np.diag(H)))))},
        "l1": {"alpha": l1_alpha, "h_diag": np.diag(Ho).tolist(),
               "offdiag_max": float(np.max(np.abs(Ho - np.diag(np.diag(Ho))))),
               "w_star": w_star_o.tolist(), "threshold": threshold.tolist(),
               "predicted": soft.tolist(), "lasso": lasso.tolist(),
               "max_abs_difference": float(np.max(np.abs(soft - lasso))),
               "n_zero_predicted": int(np.sum(soft == 0.0)),
               "n_zero_lasso": int(np.sum(lasso == 0.0))},
    }


def figures(result):
    from ..plot._common import new_figure

    figure = new_figure((11.0, 4.6))
    left, right = figure.subplots(1, 2)
    l2, l1 = result["l2"], result["l1"]
    lam = np.asarray(l2["eigenvalues"])
    grid = np.geomspace(lam.min() / 3, lam.max() * 3, 200)
    left.plot(grid, grid / (grid + l2["alpha"]), color="tab:blue",
              label=f"λ/(λ + α), α = {l2['alpha']:g} (eq. 7.13)")
    left.plot(lam, l2["observed_factor"], "o", color="tab:red",
              label="(Qᵀw_ridge)ᵢ / (Qᵀw*)ᵢ, Ridge fit")
    left.set_xscale("log")
    left.set_ylim(0, 1.05)
    left.set_xlabel("eigenvalue λᵢ of H")
    left.set_ylabel("shrinkage factor")
    left.set_title("L2: each eigendirection scaled by λᵢ/(λᵢ + α)")
    left.legend(fontsize="small", frameon=False, loc="lower right")
    w_star = np.asarray(l1["w_star"])
    order = np.arange(w_star.size)
    right.bar(order - 0.2, w_star, width=0.4, color="0.7", label="w* (least squares)")
    right.bar(order + 0.2, l1["lasso"], width=0.4, color="tab:blue", label="Lasso fit")
    right.plot(order + 0.2, l1["predicted"], "_", color="tab:red", markersize=18, mew=2,
               label="sign(w*)·max(|w*| − α/Hᵢᵢ, 0) (eq. 7.23)")
    right.axhline(0, color="0.3", linewidth=0.6)
    right.set_xticks(order, [f"w{j + 1}\nα/H={t:.2f}" for j, t in enumerate(l1["threshold"])])
    right.set_title(f"L1, diagonal H: soft-thresholding at α/Hᵢᵢ, α = {l1['alpha']:g}")
    right.legend(fontsize="small", frameon=False, loc="lower right")
    return {"distance.png": figure}


def summary(result):
    from . import vector

    l2, l1 = result["l2"], result["l1"]
    lines = [result["title"],
             f"L2, α = {l2['alpha']:g}, correlated design (max |offdiag H| = "
             f"{l2['offdiag_max']:.3g}), n = {N_SAMPLES}:",
             f"  {'λᵢ':>10} {'λᵢ/(λᵢ+α)':>12} {'(Qᵀw*)ᵢ':>12} {'(Qᵀw_ridge)ᵢ':>13} {'ratio':>10}"]
    for row in zip(l2["eigenvalues"], l2["factor"], l2["w_star_eigen"], l2["ridge_eigen"],
                   l2["observed_factor"], strict=True):
        lines.append(f"  {row[0]:10.5f} {row[1]:12.6f} {row[2]:12.6f} {row[3]:13.6f} "
                     f"{row[4]:10.6f}")
    lines += [f"  eq. 7.13 {vector(l2['predicted'], '{: .6f}')}",
              f"  Ridge    {vector(l2['ridge'], '{: .6f}')}   max |difference| "
              f"{l2['max_abs_difference']:.2e}",
              f"L1, α = {l1['alpha']:g}, orthogonal design (H diagonal, max |offdiag H| = "
              f"{l1['offdiag_max']:.1e}):",
              f"  Hᵢᵢ      {vector(l1['h_diag'], '{: .6f}')}",
              f"  w*       {vector(l1['w_star'], '{: .6f}')}",
              f"  α/Hᵢᵢ    {vector(l1['threshold'], '{: .6f}')}",
              f"  eq. 7.23 {vector(l1['predicted'], '{: .6f}')}  zeros {l1['n_zero_predicted']}",
              f"  Lasso    {vector(l1['lasso'], '{: .6f}')}  zeros {l1['n_zero_lasso']}   "
              f"max |difference| {l1['max_abs_difference']:.2e}"]
    return "\n".join(lines)
