"""``shrinkage demo boosting``: L1/L2 on the leaves of boosted trees, and a lasso that prunes them.

Friedman's first problem (scikit-learn's ``make_friedman1``, noise 1; 2 000 rows to train, 2 000
to test). Three pictures of one idea, each leaf a one-dimensional elastic net
``w = -S(G, alpha) / (H + lambda)``:

1. leaf-value histograms over a grid of ``reg_alpha`` x ``reg_lambda`` (50 trees, depth 3): as
   ``reg_alpha`` grows a spike of leaves sits at exactly zero (``|G| <= alpha``); ``reg_lambda``
   only shrinks them toward zero;
2. test error against the number of trees of a 300-tree ensemble (learning rate 0.1);
3. the same ensemble compressed by the leaf lasso (:func:`shrinkage.boosting.compress`): its
   test error against the number of trees it keeps, along the lasso path.
"""

import numpy as np

from ..boosting import GradientBoostingRegressor, compress

TITLE = "boosted trees: L1 zeros the leaves (|G| <= alpha), a leaf lasso prunes the ensemble"
N_TRAIN = N_TEST = 2000
ALPHAS = (0.0, 1.0, 5.0, 20.0)
LAMBDAS = (0.0, 1.0, 10.0)
GRID_TREES = 50
N_TREES = 300
SEED = 0


def make_data():
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=N_TRAIN, noise=1.0, random_state=SEED)
    Xt, yt = make_friedman1(n_samples=N_TEST, noise=1.0, random_state=SEED + 1)
    return X, y, Xt, yt


def compute():
    X, y, Xt, yt = make_data()
    grid = []
    for lam in LAMBDAS:
        for alpha in ALPHAS:
            model = GradientBoostingRegressor(n_estimators=GRID_TREES, learning_rate=0.3,
                                              max_depth=3, reg_alpha=alpha, reg_lambda=lam)
            model.fit(X, y)
            values = np.concatenate(model.leaf_values_)
            grid.append({"reg_alpha": alpha, "reg_lambda": lam, "n_leaves": int(values.size),
                         "n_zero": model.n_zero_leaves_,
                         "zero_share": float(model.zero_leaf_share_),
                         "leaf_values": values.tolist(),
                         "test_mse": float(np.mean((model.predict(Xt) - yt) ** 2))})
    model = GradientBoostingRegressor(n_estimators=N_TREES, learning_rate=0.1, max_depth=3)
    model.fit(X, y)
    staged = [float(np.mean((p - yt) ** 2)) for p in model.staged_predict(Xt)]
    small, path = compress(model, X, y, alphas=25, X_test=Xt, y_test=yt)
    k = path.smallest_within(0.02)
    return {
        "n_train": N_TRAIN, "n_test": N_TEST, "grid_trees": GRID_TREES, "n_trees": N_TREES,
        "grid": grid,
        "staged_test_mse": staged,
        "full_test_mse": float(path.full_test_error),
        "compressed": {"alphas": path.alphas.tolist(), "n_trees": path.n_trees.tolist(),
                       "n_leaves": path.n_leaves.tolist(),
                       "test_mse": path.test_error.tolist(),
                       "chosen_alpha": float(path.alphas[k]),
                       "chosen_n_trees": int(path.n_trees[k]),
                       "chosen_test_mse": float(path.test_error[k]),
                       "kept_trees": len(small.trees_)},
    }


def figures(result):
    from ..plot._common import new_figure

    leaves = new_figure((12.0, 7.5))
    axes = leaves.subplots(len(LAMBDAS), len(ALPHAS), sharex=True)
    everything = np.concatenate([cell["leaf_values"] for cell in result["grid"]])
    edges = np.linspace(np.quantile(everything, 0.005), np.quantile(everything, 0.995), 61)
    for cell, ax in zip(result["grid"], axes.ravel(), strict=True):
        values = np.asarray(cell["leaf_values"])
        ax.hist(values[values != 0], bins=edges, color="tab:blue", alpha=0.8)
        if cell["n_zero"]:
            ax.bar(0.0, cell["n_zero"], width=edges[1] - edges[0], color="tab:red")
        ax.set_title(f"α={cell['reg_alpha']:g}, λ={cell['reg_lambda']:g}: "
                     f"{100 * cell['zero_share']:.0f}% zero", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("leaf value (learning rate included)")
    leaves.suptitle("leaf values of 50 trees; red: exactly zero (|G| ≤ α)")

    trees = new_figure((8.0, 5.0))
    ax = trees.add_subplot()
    staged = result["staged_test_mse"]
    ax.plot(np.arange(1, len(staged) + 1), staged, label="boosting: first m trees")
    c = result["compressed"]
    ax.plot(c["n_trees"][1:], c["test_mse"][1:], "o-", ms=3,
            label="leaf lasso: trees kept along the path")
    ax.axhline(1.02 * result["full_test_mse"], color="gray", ls=":",
               label="2% above the full model")
    ax.plot([c["chosen_n_trees"]], [c["chosen_test_mse"]], "r*", ms=12,
            label=f"fewest trees within 2%: {c['chosen_n_trees']}")
    ax.set_xlabel("number of trees")
    ax.set_ylabel("test mean squared error")
    ax.set_yscale("log")
    ax.legend()
    return {"boosting_leaves.png": leaves, "boosting_trees.png": trees}


def summary(result):
    lines = [result["title"],
             f"friedman1, {result['n_train']} rows to train, {result['n_test']} to test",
             f"leaf values of {result['grid_trees']} trees (depth 3, learning rate 0.3):",
             "  reg_alpha  reg_lambda  leaves  exact zeros  test MSE"]
    for cell in result["grid"]:
        lines.append(f"  {cell['reg_alpha']:9g}  {cell['reg_lambda']:10g}  {cell['n_leaves']:6d}  "
                     f"{cell['n_zero']:5d} ({100 * cell['zero_share']:3.0f}%)  "
                     f"{cell['test_mse']:8.4f}")
    staged = result["staged_test_mse"]
    best = int(np.argmin(staged))
    c = result["compressed"]
    change = 100 * (c["chosen_test_mse"] / result["full_test_mse"] - 1)
    lines += [f"{result['n_trees']} trees (learning rate 0.1): test MSE {staged[-1]:.4f} "
              f"(best {staged[best]:.4f} at {best + 1} trees)",
              f"leaf lasso: {c['chosen_n_trees']} of {result['n_trees']} trees kept, test MSE "
              f"{c['chosen_test_mse']:.4f} ({change:+.1f}% vs the full model), "
              f"alpha {c['chosen_alpha']:.3g}",
              "  trees  test MSE"]
    lines += [f"  {t:5d}  {e:8.4f}" for t, e in zip(c["n_trees"], c["test_mse"], strict=True)]
    return "\n".join(lines)
