"""``shrinkage demo nn-sparsity``: an MLP on digits trained four ways; only the proximal L1 gives zeros.

A ``64 → 256 → 10`` ReLU network on scikit-learn's digits (8×8 images, 70/30 stratified split),
cross-entropy, Adam with a cosine learning-rate schedule, the same seed and batches for every run:

- ``none``: no penalty;
- ``L2 decay``: ``Adam(weight_decay=λ₂)`` on both weight matrices, the coupled L2 penalty
  ``λ₂ Σw²/2`` (shrinkage's ``L2(λ₂)``, see the conventions table in ``docs/torch.md``);
- ``L1 loss term``: ``loss + penalty_loss(W₁, L1(λ))`` — autograd's subgradient ``λ sign(w)``;
- ``L1 proximal``: ``Proximal(Adam)`` with ``L1(λ)`` on ``W₁`` — soft-thresholding in Adam's metric
  after every step.

Both L1 runs minimise the same objective ``mean cross-entropy + λ Σ|W₁|``. The subgradient run
leaves the weights small and jittering around zero; the proximal run sets most of them exactly to
zero (``prune`` then reports the input pixels the network no longer reads). A curve over λ shows
the price in accuracy of each level of sparsity.
"""

from contextlib import contextmanager
from importlib import import_module

import numpy as np

TITLE = "neural network on digits: L1 as a proximal step gives exact zeros, as a loss term it does not"
HIDDEN = 256
EPOCHS = 40
BATCH = 128
LR = 1e-2
LAMBDA = 1e-3            # L1 strength on the first layer's weights
L2_DECAY = 1e-3          # weight_decay of the L2 run
CURVE = (3e-4, 1e-3, 3e-3, 1e-2)
SEED = 0
METHODS = ("none", "l2-decay", "l1-loss-term", "l1-proximal")
LABELS = {"none": "none", "l2-decay": f"L2 decay (weight_decay={L2_DECAY:g})",
          "l1-loss-term": f"L1 loss term (λ={LAMBDA:g})", "l1-proximal": f"L1 proximal (λ={LAMBDA:g})"}
HIST_EDGES = tuple(np.linspace(-9.0, 0.5, 39))     # log10 |w|
SMALL = 1e-3


def _torch():
    """PyTorch, through shrinkage.torch so that a missing torch names the extra to install."""
    import_module("shrinkage.torch")
    return import_module("torch")


def load():
    """Digits scaled to [0, 1], 70/30 stratified split (fixed seed)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=SEED, stratify=y)


def train(method, lam=LAMBDA, data=None, epochs=EPOCHS):
    """Train the network one way; returns ``(net, (X_test, y_test))`` (a torch model, numpy test data)."""
    torch = _torch()

    from ..penalties import L1
    from ..torch import Proximal, penalty_loss

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    X_train, X_test, y_train, y_test = load() if data is None else data
    Xt = torch.tensor(X_train, dtype=torch.float32)
    yt = torch.tensor(y_train)
    torch.manual_seed(SEED)
    net = torch.nn.Sequential(torch.nn.Linear(64, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10))
    first = net[0].weight
    others = [net[0].bias, *net[2].parameters()]
    if method == "l1-proximal":
        opt = Proximal(torch.optim.Adam([{"params": [first], "penalty": L1(lam)}, {"params": others}], lr=LR))
    elif method == "l2-decay":
        opt = torch.optim.Adam([{"params": [first, net[2].weight], "weight_decay": L2_DECAY},
                                {"params": [net[0].bias, net[2].bias]}], lr=LR)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=LR)
    n = len(yt)
    steps_per_epoch = -(-n // BATCH)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(SEED + 1)
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, BATCH):
            batch = order[start:start + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(Xt[batch]), yt[batch])
            if method == "l1-loss-term":
                loss = loss + penalty_loss(first, L1(lam))
            loss.backward()
            opt.step()
            schedule.step()
    return net.eval(), (X_test, y_test)


def evaluate(net, X_test, y_test):
    """Test accuracy (%), exact zeros and ``|w| < 1e-3`` in the first layer, histogram of log10 |w|."""
    torch = _torch()

    with torch.no_grad():
        predicted = net(torch.tensor(X_test, dtype=torch.float32)).argmax(dim=1).numpy()
    w = net[0].weight.detach().double().numpy().ravel()
    nonzero = np.abs(w[w != 0])
    counts, _ = np.histogram(np.log10(nonzero), bins=HIST_EDGES)
    below = int(np.sum(np.log10(nonzero) < HIST_EDGES[0]))
    return {
        "accuracy": float(100.0 * np.mean(predicted == y_test)),
        "n_weights": int(w.size), "n_zero": int(np.sum(w == 0)),
        "zero_fraction": float(np.mean(w == 0)), "small_fraction": float(np.mean(np.abs(w) < SMALL)),
        "hist_counts": counts.tolist(), "n_below_histogram": below,
        "nonzero_per_pixel": np.sum(net[0].weight.detach().numpy() != 0, axis=0).tolist(),
    }


@contextmanager
def one_thread():
    """Run torch on one thread (small matrices: fastest, and reproducible), then restore."""
    torch = _torch()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_all(data=None, epochs=EPOCHS):
    """The four trainings at ``LAMBDA``: ``(data, {method: net})``."""
    data = load() if data is None else data
    return data, {method: train(method, data=data, epochs=epochs)[0] for method in METHODS}


def report(nets, data, curve_nets=None):
    """The JSON-ready numbers of trained networks (``curve_nets``: ``{lambda: L1-proximal net}``)."""
    torch = _torch()

    from ..torch import prune

    X_test, y_test = data[1], data[3]
    runs = {m: {"label": LABELS[m], **evaluate(nets[m], X_test, y_test)} for m in METHODS}
    curve = {"lambda": [], "accuracy": [], "zero_fraction": []}
    for lam, net in sorted((curve_nets or {}).items()):
        r = evaluate(net, X_test, y_test)
        curve["lambda"].append(lam)
        curve["accuracy"].append(r["accuracy"])
        curve["zero_fraction"].append(r["zero_fraction"])
    pruned = prune(nets["l1-proximal"])
    with torch.no_grad():
        X = torch.tensor(X_test, dtype=torch.float32)
        prune_error = float((pruned.model(X) - nets["l1-proximal"](X)).abs().max())
    return {
        "hidden": HIDDEN, "epochs": EPOCHS, "batch": BATCH, "lr": LR, "lambda": LAMBDA, "l2_decay": L2_DECAY,
        "n_train": len(data[2]), "n_test": len(y_test),
        "methods": list(METHODS), "runs": runs, "hist_edges": list(HIST_EDGES), "small": SMALL,
        "curve": curve,
        "prune": {"n_params_before": pruned.n_params_before, "n_params_after": pruned.n_params_after,
                  "hidden_kept": len(pruned.kept_units[0]), "unused_pixels": pruned.unused_inputs,
                  "max_output_difference": prune_error},
    }


def compute(curve=CURVE, epochs=EPOCHS):
    """Four trainings at ``LAMBDA`` and the proximal L1 curve over ``curve``."""
    with one_thread():
        data, nets = train_all(epochs=epochs)
        curve_nets = {lam: nets["l1-proximal"] if lam == LAMBDA
                      else train("l1-proximal", lam, data, epochs)[0] for lam in curve}
        result = report(nets, data, curve_nets)
    result["epochs"] = epochs
    return result


def figures(result):
    from ..plot._common import new_figure

    figure = new_figure((12.0, 8.0))
    axes = figure.subplots(2, 2)
    runs = result["runs"]
    edges = np.asarray(result["hist_edges"])
    centers = 0.5 * (edges[1:] + edges[:-1])
    zero_x = edges[0] - 1.5
    ax = axes[0, 0]
    colors = {"none": "0.45", "l2-decay": "tab:blue", "l1-loss-term": "tab:orange", "l1-proximal": "tab:red"}
    for method in result["methods"]:
        r = runs[method]
        ax.step(centers, r["hist_counts"], where="mid", color=colors[method], label=r["label"])
        if r["n_zero"]:
            ax.bar(zero_x, r["n_zero"], width=1.2, color=colors[method], alpha=0.8)
    ax.set_yscale("log")
    ax.set_ylim(0.8, None)
    ax.set_xticks([zero_x, *range(-9, 1, 2)], labels=["exactly 0", *[f"1e{k}" for k in range(-9, 1, 2)]])
    ax.set_xlabel("|w| of the first layer's weights (log scale)")
    ax.set_ylabel("number of weights")
    ax.set_title("weight magnitudes: only the proximal step reaches exactly 0")
    ax.legend(fontsize=8, loc="upper left")

    ax = axes[0, 1]
    c = result["curve"]
    base = runs["none"]["accuracy"]
    ax.plot(100 * np.asarray(c["zero_fraction"]), c["accuracy"], "o-", color="tab:red", label="L1 proximal")
    for i, (lam, x, y) in enumerate(zip(c["lambda"], c["zero_fraction"], c["accuracy"], strict=True)):
        ax.annotate(f"λ={lam:g}", (100 * x, y), textcoords="offset points",
                    xytext=(-40, 6) if i % 2 else (6, -12), fontsize=8)
    lt = runs["l1-loss-term"]
    ax.plot(100 * lt["zero_fraction"], lt["accuracy"], "s", color="tab:orange",
            label=f"L1 loss term, λ={result['lambda']:g}")
    ax.axhline(base, color="0.45", linestyle="--", label="no penalty")
    ax.axhspan(base - 1.5, base, color="0.85", alpha=0.5, label="within 1.5 points")
    ax.set_xlabel("exactly-zero weights in the first layer (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("accuracy against sparsity over λ")
    ax.legend(fontsize=8, loc="lower left")

    ax = axes[1, 0]
    ax.axis("off")
    rows = [[r["label"], f"{r['accuracy']:.2f}", f"{100 * r['zero_fraction']:.1f}",
             f"{100 * r['small_fraction']:.1f}"] for r in (runs[m] for m in result["methods"])]
    table = ax.table(cellText=rows, colLabels=["training", "accuracy %", "exact zeros %",
                                               f"|w|<{result['small']:g} %"], loc="center",
                     colWidths=[0.46, 0.18, 0.18, 0.18])
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.6)
    p = result["prune"]
    ax.set_title(f"first layer, {runs['none']['n_weights']} weights; prune(L1 proximal): "
                 f"{p['n_params_before']} → {p['n_params_after']} parameters", fontsize=10)

    ax = axes[1, 1]
    counts = np.asarray(runs["l1-proximal"]["nonzero_per_pixel"]).reshape(8, 8)
    image = ax.imshow(counts, cmap="viridis", vmin=0)
    figure.colorbar(image, ax=ax, label=f"nonzero weights from the pixel (of {result['hidden']})")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"L1 proximal: weights per input pixel; {len(p['unused_pixels'])} of 64 pixels unused")
    return {"nn-sparsity.png": figure}


def summary(result):
    runs = result["runs"]
    lines = [result["title"],
             f"digits: {result['n_train']} train / {result['n_test']} test images; "
             f"MLP 64-{result['hidden']}-10, Adam lr {result['lr']:g} (cosine), {result['epochs']} epochs, "
             f"batch {result['batch']}",
             f"{'training':<32} {'test acc %':>10} {'exact zeros %':>14} {'|w|<1e-3 %':>12}"]
    for method in result["methods"]:
        r = runs[method]
        lines.append(f"{r['label']:<32} {r['accuracy']:>10.2f} {100 * r['zero_fraction']:>14.1f} "
                     f"{100 * r['small_fraction']:>12.1f}")
    c = result["curve"]
    lines.append("L1 proximal over λ: " + ", ".join(
        f"λ={lam:g}: {acc:.2f}% acc, {100 * z:.1f}% zeros"
        for lam, acc, z in zip(c["lambda"], c["accuracy"], c["zero_fraction"], strict=True)))
    p = result["prune"]
    lines.append(f"prune(L1 proximal): {p['n_params_before']} → {p['n_params_after']} parameters, "
                 f"{p['hidden_kept']} of {result['hidden']} hidden units kept, "
                 f"{len(p['unused_pixels'])} of 64 input pixels unused, max output change "
                 f"{p['max_output_difference']:.1e}")
    return "\n".join(lines)
