"""``shrinkage demo geometry``: loss contours meet the L1 diamond at a corner, the L2 disc not.

The loss is the quadratic ``L(w) = ½ (w − w*)ᵀ H (w − w*)``, written as least squares
``(1/2n) ||y − Xw||²`` with ``XᵀX / n = H`` and ``y = X w*``. The constrained problems
``min L(w) subject to ||w||₁ ≤ t`` (or ``||w||₂ ≤ t``) are the penalized ones at the Lagrange
multiplier α for which the constraint is active: the demo finds that α by root finding on the
fitted ``Lasso(alpha)`` / ``Ridge(alpha)`` norms, so the optima shown are shrinkage's solutions.
With this ``H`` and ``w*`` the L1 optimum sits on the corner ``(t, 0)`` — one coefficient exactly
zero — while the L2 optimum has both coefficients nonzero.
"""

import numpy as np
from scipy import optimize

from ..linear_model import Lasso, Ridge

TITLE = "constrained optima: a corner of the L1 diamond, a smooth point of the L2 disc"
W_STAR = (1.5, 0.6)                # the unconstrained optimum
HESSIAN = ((1.0, 0.3), (0.3, 0.5))  # the loss curvature
RADIUS = 1.0                       # t in ||w||_1 <= t and ||w||_2 <= t


def least_squares_form(hessian=HESSIAN, w_star=W_STAR):
    """``(X, y)`` with ``XᵀX / n = H`` and ``y = X w*`` (n = 2 rows, no intercept)."""
    H, w_star = np.asarray(hessian, dtype=np.float64), np.asarray(w_star, dtype=np.float64)
    R = np.linalg.cholesky(H).T        # H = Rᵀ R
    X = np.sqrt(2.0) * R               # XᵀX / 2 = H
    return X, X @ w_star


def loss(w, hessian=HESSIAN, w_star=W_STAR):
    d = np.asarray(w, dtype=np.float64) - np.asarray(w_star)
    return 0.5 * np.einsum("...i,ij,...j->...", d, np.asarray(hessian), d)


def constrained_optimum(kind, radius=RADIUS, hessian=HESSIAN, w_star=W_STAR):
    """The penalized solution whose ``kind`` ("l1" or "l2") norm equals ``radius``, and its α."""
    X, y = least_squares_form(hessian, w_star)

    def fit(alpha):
        if kind == "l1":
            return Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, y)
        return Ridge(alpha=alpha, fit_intercept=False).fit(X, y)

    def excess(alpha):
        return np.linalg.norm(fit(alpha).coef_, ord=1 if kind == "l1" else 2) - radius

    if excess(0.0) <= 0:               # the unconstrained optimum is feasible
        return np.asarray(w_star, dtype=np.float64), 0.0
    hi = 1.0
    while excess(hi) > 0:
        hi *= 2.0
    alpha = optimize.brentq(excess, 0.0, hi, xtol=1e-14, rtol=1e-14)
    return fit(alpha).coef_, alpha


def compute(radius=RADIUS):
    result = {"w_star": list(W_STAR), "hessian": [list(r) for r in HESSIAN], "radius": radius,
              "loss_at_w_star": float(loss(W_STAR))}
    for kind in ("l1", "l2"):
        w, alpha = constrained_optimum(kind, radius)
        result[kind] = {"w": w.tolist(), "alpha": float(alpha), "loss": float(loss(w)),
                        "norm": float(np.linalg.norm(w, ord=1 if kind == "l1" else 2)),
                        "n_zero": int(np.sum(w == 0.0))}
    return result


def figures(result):
    from ..plot._common import new_figure

    figure = new_figure((11.0, 5.2))
    axes = figure.subplots(1, 2)
    t = result["radius"]
    u = np.linspace(-1.6, 2.4, 300)
    W1, W2 = np.meshgrid(u, u)
    Z = loss(np.stack([W1, W2], axis=-1))
    w_star = np.asarray(result["w_star"])
    angle = np.linspace(0.0, 2.0 * np.pi, 400)
    regions = {"l1": (t * np.array([1, 0, -1, 0, 1]), t * np.array([0, 1, 0, -1, 0])),
               "l2": (t * np.cos(angle), t * np.sin(angle))}
    for ax, kind, name in ((axes[0], "l1", "L1: ||w||₁ ≤ t"), (axes[1], "l2", "L2: ||w||₂ ≤ t")):
        opt = result[kind]
        w = np.asarray(opt["w"])
        levels = np.sort(np.unique(np.r_[opt["loss"], np.linspace(0.02, 3.0, 9)]))
        ax.contour(W1, W2, Z, levels=levels, colors="0.55", linewidths=0.8)
        ax.contour(W1, W2, Z, levels=[opt["loss"]], colors="tab:blue", linewidths=1.6)
        ax.fill(*regions[kind], color="tab:orange", alpha=0.35, label=name)
        ax.plot(*w_star, "k*", markersize=11, label=f"w* = ({w_star[0]:g}, {w_star[1]:g})")
        ax.plot(*w, "o", color="tab:red", markersize=8,
                label=f"constrained optimum ({w[0]:.3f}, {w[1]:.3f}), α = {opt['alpha']:.3f}")
        ax.axhline(0, color="0.3", linewidth=0.6)
        ax.axvline(0, color="0.3", linewidth=0.6)
        ax.set_aspect("equal")
        ax.set_xlabel("w₁")
        ax.set_ylabel("w₂")
        ax.set_title(f"{name}, t = {t:g}")
        ax.legend(fontsize="small", loc="lower left", frameon=True)
    return {"geometry.png": figure}


def summary(result):
    from . import vector

    lines = [result["title"],
             f"loss ½(w − w*)ᵀH(w − w*), w* = {vector(result['w_star'])}, "
             f"H = {result['hessian']}, t = {result['radius']:g}", ""]
    for kind, name in (("l1", "L1 (||w||₁ ≤ t), Lasso"), ("l2", "L2 (||w||₂ ≤ t), Ridge")):
        opt = result[kind]
        lines.append(f"{name:24} optimum {vector(opt['w'], '{: .6f}')}  α = {opt['alpha']:.6f}  "
                     f"loss {opt['loss']:.6f}  norm {opt['norm']:.6f}  exact zeros {opt['n_zero']}")
    return "\n".join(lines)
