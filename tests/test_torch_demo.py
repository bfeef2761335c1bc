"""``shrinkage demo nn-sparsity``: exact zeros from the proximal step only, numbers checked independently."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.metrics import accuracy_score  # noqa: E402

from shrinkage.demos import nn_sparsity  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    """The demo's four trainings, in its full setting."""
    with nn_sparsity.one_thread():
        return nn_sparsity.train_all()


def _accuracy(net, X, y):
    with torch.no_grad():
        return 100 * accuracy_score(y, net(torch.tensor(X, dtype=torch.float32)).argmax(dim=1).numpy())


def _zero_fraction(net):
    return float(np.mean(net[0].weight.detach().numpy() == 0))


def test_proximal_l1_gives_exact_zeros_at_the_accuracy_of_the_unregularized_network(trained):
    data, nets = trained
    X_test, y_test = data[1], data[3]
    accuracy = {m: _accuracy(net, X_test, y_test) for m, net in nets.items()}
    assert _zero_fraction(nets["l1-proximal"]) >= 0.80
    assert accuracy["l1-proximal"] >= accuracy["none"] - 1.5
    # the same objective as a loss term: small weights, (almost) no exact zeros
    assert _zero_fraction(nets["l1-loss-term"]) <= 0.01
    assert np.mean(np.abs(nets["l1-loss-term"][0].weight.detach().numpy()) < 1e-3) > 0.5
    assert _zero_fraction(nets["l2-decay"]) == _zero_fraction(nets["none"]) == 0


def test_reported_numbers_recomputed_from_the_networks(trained, tmp_path):
    data, nets = trained
    result = nn_sparsity.report(nets, data, {nn_sparsity.LAMBDA: nets["l1-proximal"]})
    json.dumps(result)
    for method, net in nets.items():
        r = result["runs"][method]
        w = net[0].weight.detach().numpy()
        assert r["accuracy"] == pytest.approx(_accuracy(net, data[1], data[3]), abs=1e-9)
        assert r["n_zero"] == np.count_nonzero(w == 0) and r["n_weights"] == w.size
        assert sum(r["hist_counts"]) + r["n_below_histogram"] + r["n_zero"] <= w.size
        assert r["nonzero_per_pixel"] == np.count_nonzero(w, axis=0).tolist()
    w = nets["l1-proximal"][0].weight.detach().numpy()
    assert result["prune"]["unused_pixels"] == [j for j in range(64) if np.all(w[:, j] == 0)]
    assert result["prune"]["n_params_after"] < result["prune"]["n_params_before"]
    assert result["prune"]["max_output_difference"] < 1e-5
    result = {"title": nn_sparsity.TITLE, **result}
    path = tmp_path / "nn.png"
    nn_sparsity.figures(result)["nn-sparsity.png"].savefig(path, dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = nn_sparsity.summary(result)
    assert f"{result['runs']['l1-proximal']['accuracy']:.2f}" in text and "prune" in text
