"""``shrinkage demo updates``: L1's constant step against L2's proportional decay.

The second seed's point, as iterations. A gradient step on ``(α/2)||w||²`` multiplies every weight
by ``1 − ηα`` (weight decay): weights shrink geometrically and never reach zero. L1's step moves
every weight by the constant ``ηα`` towards zero; taken as the proximal step (soft-thresholding,
:meth:`shrinkage.penalties.L1.prox`, the lasso kernel's own prox) it stops *exactly* at zero.

Top row: the penalty alone, from ``W0``. Bottom row: with a least-squares datafit
``(1/2n)||y − Xw||²`` — proximal gradient (ISTA) for L1 reaches the ``Lasso`` solution, exact zeros
included; gradient descent with weight decay reaches the ``Ridge`` solution, with no zeros.
"""

import numpy as np

from ..linear_model import Lasso, Ridge
from ..penalties import L1

TITLE = "gradient steps: L1 subtracts a constant and stops at zero, L2 decays proportionally"
W0 = (1.96, 1.17, 0.37, -1.53)
STEP = 0.1       # η
ALPHA = 0.5      # α: each L1 step moves a weight by η α = 0.05, each L2 step scales it by 0.95
N_ITER = 60
DATA_ALPHA = 0.3
DATA_ITER = 300
TRUE_W = (2.0, 0.0, -1.0, 0.0)


def penalty_only(w0=W0, step=STEP, alpha=ALPHA, n_iter=N_ITER):
    """Iterates of the L1 proximal step and of the L2 gradient step on the penalty alone."""
    l1 = L1(alpha)
    h1, h2 = [np.asarray(w0, dtype=np.float64)], [np.asarray(w0, dtype=np.float64)]
    for _ in range(n_iter):
        h1.append(l1.prox(h1[-1], step))          # sign(w) max(|w| − ηα, 0)
        w = h2[-1]
        h2.append(w - step * alpha * w)           # w − η ∇(α/2)||w||² = (1 − ηα) w
    return np.array(h1), np.array(h2)


def make_data(seed=0, n_samples=50):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, len(TRUE_W)))
    return X, X @ np.asarray(TRUE_W) + 0.5 * rng.standard_normal(n_samples)


def with_data(alpha=DATA_ALPHA, n_iter=DATA_ITER, seed=0):
    """ISTA (L1) and gradient descent with weight decay (L2) on ``(1/2n)||y − Xw||²``."""
    X, y = make_data(seed)
    n = X.shape[0]
    step = 1.0 / np.linalg.eigvalsh(X.T @ X / n)[-1]    # 1 / Lipschitz constant of the datafit
    l1 = L1(alpha)
    h1, h2 = [np.zeros(X.shape[1])], [np.zeros(X.shape[1])]
    for _ in range(n_iter):
        w = h1[-1]
        h1.append(l1.prox(w - step * X.T @ (X @ w - y) / n, step))
        w = h2[-1]
        h2.append(w - step * (X.T @ (X @ w - y) / n + alpha * w))
    return np.array(h1), np.array(h2), X, y, step


def compute():
    h1, h2 = penalty_only()
    zero_at = [int(np.argmax(h1[:, j] == 0.0)) if np.any(h1[:, j] == 0.0) else None
               for j in range(h1.shape[1])]
    d1, d2, X, y, step = with_data()
    lasso = Lasso(alpha=DATA_ALPHA, fit_intercept=False, tol=1e-12).fit(X, y)
    ridge = Ridge(alpha=DATA_ALPHA, fit_intercept=False).fit(X, y)
    return {
        "w0": list(W0), "step": STEP, "alpha": ALPHA, "n_iter": N_ITER,
        "penalty_only": {
            "l1_history": h1.tolist(), "l2_history": h2.tolist(),
            "l1_zero_at_iteration": zero_at, "l1_final": h1[-1].tolist(),
            "l2_final": h2[-1].tolist(), "l2_n_zero": int(np.sum(h2[-1] == 0.0)),
        },
        "with_data": {
            "alpha": DATA_ALPHA, "n_iter": DATA_ITER, "step": float(step), "true_w": list(TRUE_W),
            "l1_history": d1.tolist(), "l2_history": d2.tolist(),
            "ista_final": d1[-1].tolist(), "lasso_coef": lasso.coef_.tolist(),
            "ista_n_zero": int(np.sum(d1[-1] == 0.0)), "lasso_n_zero": int(np.sum(lasso.coef_ == 0)),
            "gd_final": d2[-1].tolist(), "ridge_coef": ridge.coef_.tolist(),
            "gd_n_zero": int(np.sum(d2[-1] == 0.0)),
        },
    }


def figures(result):
    from ..plot import plot_iterates
    from ..plot._common import new_figure

    figure = new_figure((11.0, 8.0))
    axes = figure.subplots(2, 2)
    labels = [f"w{j + 1}" for j in range(len(result["w0"]))]
    p, d = result["penalty_only"], result["with_data"]
    eta_alpha = result["step"] * result["alpha"]
    plot_iterates(p["l1_history"], labels=labels, ax=axes[0, 0],
                  title=f"L1 alone: w ← sign(w)·max(|w| − {eta_alpha:g}, 0)")
    plot_iterates(p["l2_history"], labels=labels, ax=axes[0, 1],
                  title=f"L2 alone: w ← (1 − {eta_alpha:g})·w")
    plot_iterates(d["l1_history"], labels=labels, ax=axes[1, 0], reference=d["lasso_coef"],
                  title=f"least squares + L1 (ISTA), α = {d['alpha']:g}; dotted: Lasso")
    plot_iterates(d["l2_history"], labels=labels, ax=axes[1, 1], reference=d["ridge_coef"],
                  title=f"least squares + L2 (weight decay), α = {d['alpha']:g}; dotted: Ridge")
    for ax in axes[1]:
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(0, d["n_iter"])
    return {"updates.png": figure}


def summary(result):
    from . import vector

    p, d = result["penalty_only"], result["with_data"]
    eta_alpha = result["step"] * result["alpha"]
    lines = [result["title"],
             f"penalty alone from w0 = {vector(result['w0'])}, η = {result['step']:g}, "
             f"α = {result['alpha']:g}, {result['n_iter']} iterations",
             f"  L1 (prox, constant step {eta_alpha:g}): exactly zero at iterations "
             f"{p['l1_zero_at_iteration']}; final {vector(p['l1_final'])}",
             f"  L2 (decay ×{1 - eta_alpha:g}): final {vector(p['l2_final'], '{: .6f}')}; "
             f"exact zeros {p['l2_n_zero']}",
             f"least squares, 50 samples, true w = {vector(d['true_w'])}, α = {d['alpha']:g}, "
             f"step 1/L = {d['step']:.4f}, {d['n_iter']} iterations",
             f"  ISTA final   {vector(d['ista_final'], '{: .6f}')}  exact zeros {d['ista_n_zero']}",
             f"  Lasso        {vector(d['lasso_coef'], '{: .6f}')}  exact zeros {d['lasso_n_zero']}",
             f"  GD+decay     {vector(d['gd_final'], '{: .6f}')}  exact zeros {d['gd_n_zero']}",
             f"  Ridge        {vector(d['ridge_coef'], '{: .6f}')}"]
    return "\n".join(lines)
