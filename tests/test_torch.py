"""shrinkage.torch: the proximal optimizers against the convex solvers, the conventions table by hand."""

import importlib
import io
import math
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.linear_model import MultiTaskLasso  # noqa: E402
from torch.optim.optimizer import register_optimizer_step_post_hook  # noqa: E402

import shrinkage.torch._prox as _prox  # noqa: E402
import shrinkage.torch._steps as _steps  # noqa: E402
from conftest import assert_rounded, check_half_precision_prox  # noqa: E402
from shrinkage.linear_model import ElasticNet as EnetEstimator  # noqa: E402
from shrinkage.linear_model import Lasso  # noqa: E402
from shrinkage.penalties import L1, L2, ElasticNet, GroupLasso  # noqa: E402
from shrinkage.torch import Proximal, penalty_loss, prox_, prune  # noqa: E402
from shrinkage.torch._prox import Metric  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_missing_torch_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "shrinkage.torch" or m.startswith("shrinkage.torch.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"shrinkage\[torch\]"):
        importlib.import_module("shrinkage.torch")


# ---------------------------------------------------------------- one definition of the operator

SEPARABLE = [L1(0.3), L2(0.7), ElasticNet(0.5, l1_ratio=0.3), L1(0.2, positive=True),
             ElasticNet(0.4, l1_ratio=0.6, weights=np.linspace(0.0, 2.0, 20), positive=True),
             L1(0.25, weights=np.r_[np.zeros(5), np.ones(15)])]


@pytest.mark.parametrize("penalty", SEPARABLE, ids=repr)
def test_torch_prox_is_the_penalty_objects_prox(penalty):
    rng = np.random.default_rng(0)
    for _ in range(5):
        w = rng.standard_normal(20)
        step = float(rng.uniform(0.1, 2.0))
        expected = penalty.prox(w, step)
        got = prox_(torch.tensor(w), penalty, step).numpy()
        np.testing.assert_array_equal(got, expected)                 # float64: bit for bit
        got32 = prox_(torch.tensor(w, dtype=torch.float32), penalty, step).numpy()
        np.testing.assert_allclose(got32, expected, rtol=1e-6, atol=1e-6)
        # per-coordinate steps (Adam's metric): coordinate j is the prox with scalar step t_j
        steps = rng.uniform(0.1, 2.0, 20)
        expected = [penalty.prox(w, t)[j] for j, t in enumerate(steps)]
        got = prox_(torch.tensor(w), penalty, torch.tensor(steps)).numpy()
        np.testing.assert_array_equal(got, expected)
        # ... and as the optimizers pass it, t_j = scale / denom_j (rounding differs by an ulp)
        denom = rng.uniform(0.5, 2.0, 20)
        expected = [penalty.prox(w, t)[j] for j, t in enumerate(0.7 / denom)]
        got = prox_(torch.tensor(w), penalty, Metric(0.7, torch.tensor(denom))).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)
        np.testing.assert_array_equal(got == 0, np.asarray(expected) == 0)


@pytest.mark.parametrize("shape, dim", [((6, 9), 0), ((6, 9), 1), ((6, 9), -1), ((4, 3, 2, 2), 0),
                                        ((7,), 0)])
def test_group_prox_is_the_penalty_objects_prox(shape, dim):
    rng = np.random.default_rng(1)
    scale = np.geomspace(0.05, 1.0, shape[dim]).reshape([-1 if a == dim % len(shape) else 1
                                                          for a in range(len(shape))])
    w = rng.standard_normal(shape) * scale
    penalty = GroupLasso(0.8, dim=dim, weights=rng.uniform(0.5, 1.5, shape[dim]))
    expected = penalty.prox(w, 0.9)
    assert np.any(np.all(np.moveaxis(expected, dim, 0).reshape(shape[dim], -1) == 0, axis=1))
    got = prox_(torch.tensor(w), penalty, 0.9).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    assert np.array_equal(got == 0, expected == 0)
    if len(shape) == 1:   # one coefficient per group: the L1 prox
        np.testing.assert_allclose(got, L1(0.8, weights=penalty.weights).prox(w, 0.9), rtol=1e-14)
    # non-contiguous tensor: the result is written back into it
    t = torch.tensor(w.T.copy()).T if len(shape) == 2 else torch.tensor(w)
    np.testing.assert_allclose(prox_(t, penalty, 0.9).numpy(), expected, rtol=1e-13, atol=1e-15)


def test_group_prox_in_a_diagonal_metric_solves_its_problem():
    rng = np.random.default_rng(2)
    v = rng.standard_normal((40, 6)) * rng.uniform(0.1, 3.0, (40, 1))
    t = rng.uniform(0.01, 5.0, (40, 6)) ** 2            # steps spread over 5 decades
    lam = 1.0
    x = prox_(torch.tensor(v), GroupLasso(lam, dim=0), torch.tensor(t)).numpy()
    zero = np.all(x == 0, axis=1)
    assert 5 < zero.sum() < 35
    # optimality: x = 0 iff ||v / t|| <= lam; otherwise (x - v) / t + lam x / ||x|| = 0
    np.testing.assert_array_equal(zero, np.linalg.norm(v / t, axis=1) <= lam)
    xs, vs, ts = x[~zero], v[~zero], t[~zero]
    residual = (xs - vs) / ts + lam * xs / np.linalg.norm(xs, axis=1, keepdims=True)
    assert np.abs(residual).max() < 1e-10 * max(1.0, np.abs(vs / ts).max())
    # every group alive (the Newton loop on all rows at once) and a few groups with wide steps
    big = v * 50
    x = prox_(torch.tensor(big), GroupLasso(lam, dim=0), torch.tensor(t)).numpy()
    assert not np.any(np.all(x == 0, axis=1))
    residual = (x - big) / t + lam * x / np.linalg.norm(x, axis=1, keepdims=True)
    assert np.abs(residual).max() < 1e-10 * np.abs(big / t).max()
    # equal steps within a group: block soft-thresholding
    same = np.repeat(t[:, :1], 6, axis=1)
    x = prox_(torch.tensor(v), GroupLasso(lam, dim=0), torch.tensor(same)).numpy()
    expected = np.vstack([GroupLasso(lam).prox(v[g:g + 1], same[g, 0]) for g in range(40)])
    np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("penalty", [L1(0.3), ElasticNet(0.4, l1_ratio=0.6), L1(0.2, positive=True),
                                     ElasticNet(0.4, l1_ratio=0.3, weights=np.linspace(0.0, 2.0, 20))],
                         ids=repr)
@pytest.mark.parametrize("kernels", [True, False], ids=["fused kernel", "tensor operations"])
def test_prox_in_a_metric_is_the_formula(monkeypatch, penalty, kernels):
    # the fused CPU kernel (contiguous float32/float64) and the tensor operations (any other layout,
    # or KERNELS off) both give S(w d, s l1) / (d + s l2), d = sqrt(v) + eps, i.e. the penalty's
    # prox with step t_j = s / d_j; the optimizer's state v is left alone
    monkeypatch.setattr(_prox, "KERNELS", kernels)
    rng = np.random.default_rng(7)
    w = rng.standard_normal((37, 20))
    v = rng.uniform(0.0, 2.0, (37, 20)) ** 4
    s, eps = 0.3, 1e-3
    d = np.sqrt(v) + eps
    l1, l2 = penalty.lower(20)
    z = w * d
    shrunk = (np.maximum(z - s * l1, 0.0) if penalty.positive
              else np.sign(z) * np.maximum(np.abs(z) - s * l1, 0.0))
    expected = shrunk / (d + s * l2)
    for layout in ("contiguous", "transposed"):
        wt, vt = torch.tensor(w), torch.tensor(v)
        if layout == "transposed":            # non-contiguous: the tensor operations
            wt, vt = torch.tensor(w.T.copy()).T, torch.tensor(v.T.copy()).T
        got = prox_(wt, penalty, Metric(s, vt, owned=False, root=True, eps=eps))
        assert got is wt
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-13, atol=1e-300)
        np.testing.assert_array_equal(got.numpy() == 0, expected == 0)
        np.testing.assert_array_equal(vt.numpy(), v)
    # without the square root (Adamax, ...), and float32
    got = prox_(torch.tensor(w), penalty, Metric(s, torch.tensor(d), owned=False, root=False, eps=0.0))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-13, atol=1e-300)
    got32 = prox_(torch.tensor(w, dtype=torch.float32), penalty,
                  Metric(s, torch.tensor(v, dtype=torch.float32), owned=False, root=True, eps=eps))
    np.testing.assert_allclose(got32.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dim", [0, 1])
def test_fused_group_prox_equals_the_tensor_operations(monkeypatch, dim):
    rng = np.random.default_rng(8)
    w = rng.standard_normal((37, 20)) * rng.uniform(0.05, 1.0, (37, 1)) * rng.uniform(0.05, 1.0, 20)
    v = rng.uniform(0.1, 2.0, (37, 20)) ** 4
    penalty = GroupLasso(4.0, dim=dim, weights=rng.uniform(0.5, 1.5, w.shape[dim]))
    results = {}
    for kernels in (True, False):
        monkeypatch.setattr(_prox, "KERNELS", kernels)
        metric = prox_(torch.tensor(w), penalty,
                       Metric(0.3, torch.tensor(v), owned=False, root=True, eps=1e-3))
        scalar = prox_(torch.tensor(w), penalty, 0.4)
        results[kernels] = metric.numpy(), scalar.numpy()
    for fused, ops in zip(results[True], results[False], strict=True):
        np.testing.assert_allclose(fused, ops, rtol=1e-13, atol=1e-300)
        np.testing.assert_array_equal(fused == 0, ops == 0)
    # the metric prox is the one of the explicit per-coordinate steps t = s / (sqrt(v) + eps)
    steps = 0.3 / (np.sqrt(v) + 1e-3)
    explicit = prox_(torch.tensor(w), penalty, torch.tensor(steps)).numpy()
    np.testing.assert_allclose(results[True][0], explicit, rtol=1e-12, atol=1e-15)
    assert np.any(np.all(np.moveaxis(explicit, dim, 0) == 0, axis=1))          # some groups die
    assert not np.all(explicit == 0)
    # float32 in the kernel (sums in float64) against the float64 answer
    metric32 = prox_(torch.tensor(w, dtype=torch.float32), penalty,
                     Metric(0.3, torch.tensor(v, dtype=torch.float32), owned=False, root=True, eps=1e-3))
    np.testing.assert_allclose(metric32.numpy(), results[True][0], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("penalty", [L1(0.05), GroupLasso(0.05, dim=1)], ids=repr)
def test_proximal_adam_fused_equals_tensor_operations(monkeypatch, penalty):
    X, Y = _problem(n=40, p=37, k=20, seed=4)
    runs = []
    for kernels in (True, False):
        monkeypatch.setattr(_prox, "KERNELS", kernels)
        runs.append(_train(X, Y, penalty, lambda g: torch.optim.Adam(g, lr=0.05), 5))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(runs[0] == 0, runs[1] == 0)
    assert not np.all(runs[0] == 0)


HALF = [torch.bfloat16, torch.float16]


@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("penalty", [L1(0.3), L1(0.2, positive=True),
                                     ElasticNet(0.3, l1_ratio=0.5, weights=np.linspace(0.0, 2.0, 300)),
                                     GroupLasso(0.3, dim=0), GroupLasso(0.3, dim=1)], ids=repr)
def test_half_precision_prox_is_the_float64_prox_rounded(penalty, dtype):
    # CPU: bfloat16/float16 take the tensor operations, in float32 (in a metric the separable prox
    # S(w d, s l1) / (d + s l2) in half precision rounds w d before the threshold comes off:
    # relative errors of 40% near the threshold in bfloat16)
    check_half_precision_prox("cpu", dtype, penalty)


@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("penalty", [L1(0.5), GroupLasso(2.0, dim=1)], ids=repr)
def test_proximal_adam_step_in_half_precision(penalty, dtype):
    # one Proximal(Adam) step on bfloat16/float16 weights is PyTorch's own Adam step on them,
    # then the prox in Adam's metric (from the same state) computed in float64 and rounded
    # (eps = 1e-4: PyTorch's default 1e-8 is zero in float16, and its own step overflows)
    X, Y = _problem(n=40, p=37, k=20, seed=4)
    torch.manual_seed(0)
    layers = [torch.nn.Linear(37, 20, bias=False).to(dtype) for _ in range(2)]
    layers[1].load_state_dict(layers[0].state_dict())
    Xt, Yt = (torch.as_tensor(a, dtype=dtype) for a in (X, Y))
    plain = torch.optim.Adam(layers[0].parameters(), lr=0.05, eps=1e-4)
    prox = Proximal(torch.optim.Adam([{"params": layers[1].parameters(), "penalty": penalty}], lr=0.05,
                                     eps=1e-4))
    for layer, opt in zip(layers, (plain, prox), strict=True):
        opt.zero_grad()
        (0.5 * ((Yt - layer(Xt)) ** 2).sum() / 40).backward()
        opt.step()
    v = plain.state[layers[0].weight]["exp_avg_sq"].double()
    # lr / (sqrt(v / b) + eps) at step 1, b = 1 - beta2 = 0.001
    root_b = math.sqrt(1 - 0.999)
    exact = prox_(layers[0].weight.detach().double(), penalty,
                  Metric(0.05 * root_b, v, owned=False, root=True, eps=1e-4 * root_b))
    assert 0 < int((exact == 0).sum()) < exact.numel()
    assert_rounded(layers[1].weight.detach(), exact, dtype, 2.0)


# ---------------------------------------------------------------- the NN view equals the convex view

def _problem(n=50, p=10, k=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = np.zeros((k, p))
    W[:, :4] = rng.uniform(1, 2, (k, 4)) * rng.choice([-1, 1], (k, 4))
    Y = X @ W.T + 0.5 * rng.standard_normal((n, k))
    return X, Y


def _train(X, Y, penalty, make_opt, n_iter, device="cpu", dtype=torch.float64, schedule=None):
    """Full-batch training of a bias-free nn.Linear on (1/2n)||Y - X W'||_F^2."""
    torch.manual_seed(0)
    n, p = X.shape
    layer = torch.nn.Linear(p, Y.shape[1], bias=False).to(device=device, dtype=dtype)
    Xt, Yt = (torch.as_tensor(a, dtype=dtype, device=device) for a in (X, Y))
    opt = Proximal(make_opt([{"params": [layer.weight], "penalty": penalty}]))
    sched = schedule(opt) if schedule else None
    for _ in range(n_iter):
        opt.zero_grad()
        loss = 0.5 * ((Yt - layer(Xt)) ** 2).sum() / n
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    return layer.weight.detach().cpu().double().numpy()


def _lipschitz_step(X):
    return 1.0 / np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1]


def _assert_same(w, ref, rtol):
    assert np.abs(w - ref).max() <= rtol * np.abs(ref).max(), np.abs(w - ref).max()
    np.testing.assert_array_equal(w == 0, ref == 0)


@pytest.mark.parametrize("device", DEVICES)
def test_proximal_sgd_with_l1_is_the_lasso(device):
    X, y = _problem()
    alpha = 0.15
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14).fit(X, y.ravel()).coef_
    assert 0 < np.sum(ref == 0) < ref.size
    step = _lipschitz_step(X)
    w = _train(X, y, L1(alpha), lambda g: torch.optim.SGD(g, lr=step), 300, device)[0]
    _assert_same(w, ref, 1e-6)


@pytest.mark.parametrize("nesterov, dampening", [(False, 0.0), (True, 0.0), (False, 0.3)])
def test_proximal_sgd_with_momentum_minimises_the_stated_objective(nesterov, dampening):
    # the prox step follows the momentum's effective step: the limit is Lasso(alpha), not
    # Lasso((1 - momentum) alpha)
    X, y = _problem()
    ref = Lasso(alpha=0.15, fit_intercept=False, tol=1e-14).fit(X, y.ravel()).coef_
    step = 0.2 * _lipschitz_step(X)
    w = _train(X, y, L1(0.15), lambda g: torch.optim.SGD(g, lr=step, momentum=0.8, nesterov=nesterov,
                                                         dampening=dampening), 400)[0]
    _assert_same(w, ref, 1e-6)


def test_proximal_sgd_with_elastic_net_is_the_elastic_net():
    X, y = _problem(seed=3)
    ref = EnetEstimator(alpha=0.3, l1_ratio=0.4, fit_intercept=False, tol=1e-14).fit(X, y.ravel()).coef_
    assert 0 < np.sum(ref == 0) < ref.size
    step = _lipschitz_step(X)
    w = _train(X, y, ElasticNet(0.3, l1_ratio=0.4), lambda g: torch.optim.SGD(g, lr=step), 300)[0]
    _assert_same(w, ref, 1e-6)


def test_proximal_sgd_with_group_lasso_over_inputs_is_multitask_lasso():
    X, Y = _problem(k=3, seed=1)
    alpha = 0.25
    ref = MultiTaskLasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, Y).coef_
    zero_cols = np.all(ref == 0, axis=0)
    assert 0 < zero_cols.sum() < X.shape[1]
    step = _lipschitz_step(X)
    w = _train(X, Y, GroupLasso(alpha, dim=1), lambda g: torch.optim.SGD(g, lr=step), 300)
    _assert_same(w, ref, 1e-6)
    np.testing.assert_array_equal(np.all(w == 0, axis=0), zero_cols)


def _adam_schedule(opt):
    return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.99)


@pytest.mark.parametrize("penalty, optimizer", [
    (L1(0.15), torch.optim.Adam), (ElasticNet(0.3, l1_ratio=0.4), torch.optim.Adam),
    (L1(0.15), torch.optim.AdamW), (L1(0.15), torch.optim.RMSprop), (L1(0.15), torch.optim.NAdam),
])
def test_proximal_adam_reaches_the_same_limit(penalty, optimizer):
    X, y = _problem(seed=0 if isinstance(penalty, L1) else 3)
    ref = EnetEstimator(alpha=penalty.alpha, l1_ratio=penalty.l1_ratio, fit_intercept=False,
                        tol=1e-14).fit(X, y.ravel()).coef_
    w = _train(X, y, penalty, lambda g: optimizer(g, lr=0.1, weight_decay=0.0), 500,
               schedule=_adam_schedule)[0]
    _assert_same(w, ref, 1e-4)


@pytest.mark.parametrize("make_opt", [
    lambda g: torch.optim.SGD(g, lr=0.3), lambda g: torch.optim.Adam(g, lr=0.1),
    lambda g: torch.optim.Adam(g, lr=0.1, amsgrad=True),
    lambda g: torch.optim.AdamW(g, lr=0.1, weight_decay=0),
    lambda g: torch.optim.Adamax(g, lr=0.1), lambda g: torch.optim.RAdam(g, lr=0.1),
    lambda g: torch.optim.RMSprop(g, lr=0.05), lambda g: torch.optim.Adagrad(g, lr=0.5),
    lambda g: torch.optim.SparseAdam(g, lr=0.1), lambda g: torch.optim.Adafactor(g, lr=0.1),
], ids=["SGD", "Adam", "Adam-amsgrad", "AdamW", "Adamax", "RAdam", "RMSprop", "Adagrad", "SparseAdam",
        "Adafactor"])
@pytest.mark.parametrize("penalty", [ElasticNet(0.3, l1_ratio=0.4), GroupLasso(0.2, dim=0)], ids=repr)
def test_the_solution_is_a_fixed_point_of_each_optimizers_proximal_step(make_opt, penalty):
    # w = prox_T(w - T grad) holds at the minimiser only when the prox uses the metric T of the
    # optimizer's own step: three steps from the solution must stay there (to rounding)
    X, y = _problem(seed=3)
    Y = np.c_[y.ravel(), 0.05 * X[:, 4] + 0.1 * X[:, 5]]
    if isinstance(penalty, GroupLasso):     # one group per output row: the weak second output dies
        ref = _solve_group_rows(X, Y, penalty)
    else:
        ref = np.vstack([EnetEstimator(alpha=penalty.alpha, l1_ratio=penalty.l1_ratio, fit_intercept=False,
                                       tol=1e-15).fit(X, col).coef_ for col in Y.T])
    assert np.any(ref == 0) and np.any(ref != 0)
    layer = torch.nn.Linear(X.shape[1], 2, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(ref))
    opt = Proximal(make_opt([{"params": [layer.weight], "penalty": penalty}]))
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    for _ in range(3):
        opt.zero_grad()
        (0.5 * ((Yt - layer(Xt)) ** 2).sum() / X.shape[0]).backward()
        if isinstance(opt.optimizer, torch.optim.SparseAdam):      # (it takes sparse gradients only)
            layer.weight.grad = layer.weight.grad.to_sparse()
        opt.step()
    w = layer.weight.detach().numpy()
    np.testing.assert_array_equal(w == 0, ref == 0)
    assert np.abs(w - ref).max() < 1e-9 * np.abs(ref).max()


def test_settled_adadelta_keeps_the_solution_fixed_with_the_prox_at_lr():
    # Adadelta steps by lr sqrt(u + eps) / sqrt(v + eps) g; once its averages have settled at a
    # fixed point (v = u = g^2) that is lr g: the prox at lr keeps the minimiser in place
    X, y = _problem(seed=3)
    penalty = ElasticNet(0.3, l1_ratio=0.4)
    ref = EnetEstimator(alpha=0.3, l1_ratio=0.4, fit_intercept=False, tol=1e-15).fit(X, y.ravel()).coef_
    w = torch.nn.Parameter(torch.tensor(ref[None]))
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def gradient():
        w.grad = None
        (0.5 * ((yt - Xt @ w.T) ** 2).sum() / X.shape[0]).backward()
        return w.grad

    inner = torch.optim.Adadelta([{"params": [w], "penalty": penalty}], lr=1.0)
    opt = Proximal(inner)
    g2 = gradient().detach() ** 2
    inner.state[w] = {"step": torch.tensor(50.0), "square_avg": g2.clone(), "acc_delta": g2.clone()}
    for _ in range(3):
        gradient()
        opt.step()
    got = w.detach().numpy().ravel()
    np.testing.assert_array_equal(got == 0, ref == 0)
    assert np.abs(got - ref).max() < 1e-9 * np.abs(ref).max()


def test_asgd_prox_step_is_the_eta_of_the_step_taken():
    # ASGD's state holds the next step's eta once it has stepped; the prox must use the one it used
    w = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.float64))
    inner = torch.optim.ASGD([{"params": [w], "penalty": L1(0.1)}], lr=0.2, lambd=0.5, alpha=0.75)
    opt = Proximal(inner)
    first = float(torch.as_tensor(0.2, dtype=torch.get_default_dtype()))     # (a tensor of its scalar dtype)
    for k in range(5):
        used = float(inner.state[w]["eta"]) if k else first
        w.grad = torch.randn(4, 3, dtype=torch.float64)
        inner.step()
        assert _steps._step_size(inner, inner.param_groups[0], w) == pytest.approx(used, rel=1e-12)
        opt.apply_prox()


@pytest.mark.parametrize("make_opt", [lambda g: torch.optim.Rprop(g, lr=0.01),
                                      lambda g: torch.optim.LBFGS(g, lr=0.01),
                                      lambda g: _PlainDescent(g, lr=0.01)], ids=["Rprop", "LBFGS", "custom"])
def test_an_optimizer_whose_step_is_not_known_warns_once(make_opt):
    w = torch.nn.Parameter(torch.randn(3, 2))
    b = torch.nn.Parameter(torch.randn(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt = Proximal(make_opt([{"params": [b]}]))      # no penalty: nothing to warn about
    with pytest.warns(UserWarning, match="uses the group's lr as its step") as record:
        opt.add_param_group({"params": [w], "penalty": L1(0.1)})
        opt.add_param_group({"params": [torch.nn.Parameter(torch.randn(2))], "penalty": L1(0.1)})
    assert len(record) == 1


def test_known_optimizers_and_their_subclasses_do_not_warn():
    w = torch.nn.Parameter(torch.randn(3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for make in (torch.optim.SGD, torch.optim.Adadelta, torch.optim.ASGD, torch.optim.Adafactor,
                     lambda g, lr: type("MyAdam", (torch.optim.Adam,), {})(g, lr=lr)):
            Proximal(make([{"params": [w], "penalty": L1(0.1)}], lr=0.01))


class _PlainDescent(torch.optim.Optimizer):
    def __init__(self, params, lr):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(group["lr"] * p.grad)


def _solve_group_rows(X, Y, penalty):
    """Group lasso over output rows by proximal gradient to machine precision (the penalty's prox)."""
    key = (penalty.alpha, X.tobytes(), Y.tobytes())
    if key not in _GROUP_SOLUTIONS:
        n = X.shape[0]
        step = _lipschitz_step(X)
        W = np.zeros((Y.shape[1], X.shape[1]))
        for _ in range(5000):
            new = penalty.prox(W - step * ((X @ W.T - Y).T @ X) / n, step)
            done = np.abs(new - W).max() <= 1e-16 * np.abs(new).max()
            W = new
            if done:
                break
        _GROUP_SOLUTIONS[key] = W
    return _GROUP_SOLUTIONS[key]


_GROUP_SOLUTIONS = {}


def test_proximal_adam_with_group_lasso_is_multitask_lasso():
    X, Y = _problem(k=3, seed=1)
    ref = MultiTaskLasso(alpha=0.25, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, Y).coef_
    w = _train(X, Y, GroupLasso(0.25, dim=1), lambda g: torch.optim.Adam(g, lr=0.1), 500,
               schedule=_adam_schedule)
    _assert_same(w, ref, 1e-4)


def test_float32_reaches_the_lasso_to_single_precision():
    X, y = _problem()
    ref = Lasso(alpha=0.15, fit_intercept=False, tol=1e-14).fit(X, y.ravel()).coef_
    w = _train(X, y, L1(0.15), lambda g: torch.optim.SGD(g, lr=_lipschitz_step(X)), 300,
               dtype=torch.float32)[0]
    _assert_same(w, ref, 1e-5)


# ---------------------------------------------------------------- the conventions table, row by row

def _setup(seed=4, n=8, p=5):
    rng = np.random.default_rng(seed)
    X, y, w0 = rng.standard_normal((n, p)), rng.standard_normal(n), rng.standard_normal(p)

    def grad(w):       # gradient of the datafit (1/2n)||y - Xw||^2, by hand
        return X.T @ (X @ w - y) / n

    return X, y, w0, grad


def _torch_steps(X, y, w0, make_opt, n_steps=1, penalty_term=None, proximal_penalty=None):
    w = torch.tensor(w0, requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    group = {"params": [w]}
    if proximal_penalty is not None:
        group["penalty"] = proximal_penalty
    opt = make_opt([group])
    opt = Proximal(opt) if proximal_penalty is not None else opt
    for _ in range(n_steps):
        opt.zero_grad()
        loss = 0.5 * ((yt - Xt @ w) ** 2).mean()
        if penalty_term is not None:
            loss = loss + penalty_loss(w, penalty_term)
        loss.backward()
        opt.step()
    return w.detach().numpy()


def _adam_by_hand(w0, grad, lr, n_steps, betas=(0.9, 0.999), eps=1e-8, coupled_l2=0.0, decoupled=0.0,
                  l1_prox=0.0):
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for k in range(1, n_steps + 1):
        g = grad(w) + coupled_l2 * w
        w = w * (1 - lr * decoupled)
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        denom = np.sqrt(v) / math.sqrt(1 - betas[1] ** k) + eps
        w = w - lr * (m / (1 - betas[0] ** k)) / denom
        t = lr * l1_prox / denom                       # the prox in Adam's metric
        w = np.sign(w) * np.maximum(np.abs(w) - t, 0)
    return w


def test_row_sgd_weight_decay_is_the_gradient_of_half_wd_sum_w2():
    X, y, w0, grad = _setup()
    lr, wd = 0.1, 0.3
    hand = w0 - lr * (grad(w0) + wd * w0)
    got = _torch_steps(X, y, w0, lambda g: torch.optim.SGD(g, lr=lr, weight_decay=wd))
    np.testing.assert_allclose(got, hand, rtol=1e-14)
    # = SGD on loss + shrinkage's L2(alpha=wd) as a loss term: alpha * sum w^2 / 2
    term = _torch_steps(X, y, w0, lambda g: torch.optim.SGD(g, lr=lr), penalty_term=L2(wd))
    np.testing.assert_allclose(term, hand, rtol=1e-14)
    assert float(penalty_loss(torch.tensor(w0), L2(wd))) == pytest.approx(wd * np.sum(w0**2) / 2, rel=1e-14)


def test_row_adam_weight_decay_is_coupled_l2():
    X, y, w0, grad = _setup()
    lr, wd = 0.01, 0.5
    hand = _adam_by_hand(w0, grad, lr, 3, coupled_l2=wd)
    got = _torch_steps(X, y, w0, lambda g: torch.optim.Adam(g, lr=lr, weight_decay=wd), n_steps=3)
    np.testing.assert_allclose(got, hand, rtol=1e-12)
    term = _torch_steps(X, y, w0, lambda g: torch.optim.Adam(g, lr=lr), n_steps=3, penalty_term=L2(wd))
    np.testing.assert_allclose(term, hand, rtol=1e-12)


def test_row_adamw_is_decoupled_decay_not_an_l2_penalty():
    X, y, w0, grad = _setup()
    lr, wd = 0.01, 0.5
    hand = _adam_by_hand(w0, grad, lr, 3, decoupled=wd)
    got = _torch_steps(X, y, w0, lambda g: torch.optim.AdamW(g, lr=lr, weight_decay=wd), n_steps=3)
    np.testing.assert_allclose(got, hand, rtol=1e-12)
    coupled = _torch_steps(X, y, w0, lambda g: torch.optim.Adam(g, lr=lr), n_steps=3, penalty_term=L2(wd))
    assert np.abs(got - coupled).max() > 1e-4


def test_row_shrinkage_l2_proximal_is_implicit_decay():
    X, y, w0, grad = _setup()
    lr, alpha = 0.1, 0.3
    hand = (w0 - lr * grad(w0)) / (1 + lr * alpha)         # prox of lr * alpha ||w||^2 / 2
    got = _torch_steps(X, y, w0, lambda g: torch.optim.SGD(g, lr=lr), proximal_penalty=L2(alpha))
    np.testing.assert_allclose(got, hand, rtol=1e-14)


def test_row_l1_proximal_vs_l1_loss_term():
    X, y, w0, grad = _setup()
    lr, alpha = 0.1, 4.0
    z = w0 - lr * grad(w0)
    hand = np.sign(z) * np.maximum(np.abs(z) - lr * alpha, 0)
    assert np.any(hand == 0)
    got = _torch_steps(X, y, w0, lambda g: torch.optim.SGD(g, lr=lr), proximal_penalty=L1(alpha))
    np.testing.assert_array_equal(got, hand)
    sub = w0 - lr * (grad(w0) + alpha * np.sign(w0))         # the subgradient step of the loss term
    term = _torch_steps(X, y, w0, lambda g: torch.optim.SGD(g, lr=lr), penalty_term=L1(alpha))
    np.testing.assert_allclose(term, sub, rtol=1e-14)
    many = _torch_steps(X, y, w0, lambda g: torch.optim.SGD(g, lr=lr), 200, penalty_term=L1(alpha))
    assert not np.any(many == 0)                              # small, oscillating, never zero
    prox_many = _torch_steps(X, y, w0, lambda g: torch.optim.SGD(g, lr=lr), 200, proximal_penalty=L1(alpha))
    assert np.sum(prox_many == 0) >= 2


def test_row_l1_proximal_adam_thresholds_in_adams_metric():
    X, y, w0, grad = _setup()
    lr, alpha = 0.05, 0.4
    hand = _adam_by_hand(w0, grad, lr, 4, l1_prox=alpha)
    got = _torch_steps(X, y, w0, lambda g: torch.optim.Adam(g, lr=lr), n_steps=4, proximal_penalty=L1(alpha))
    np.testing.assert_allclose(got, hand, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(got == 0, hand == 0)


@pytest.mark.parametrize("make_opt", [lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9),
                                      lambda g: torch.optim.Adam(g, lr=0.05),
                                      lambda g: torch.optim.Adam(g, lr=0.05, fused=True)],
                         ids=["sgd-momentum", "adam", "adam-fused"])
@pytest.mark.parametrize("penalty", [L1(0.05), GroupLasso(0.2, dim=0)], ids=repr)
def test_grad_scaler_steps_and_skips_the_prox_with_the_optimizer(make_opt, penalty):
    # mixed-precision training: GradScaler unscales the gradients (a power of two: exactly) and
    # skips the whole step, prox included, when a gradient is not finite
    def run(scaled):
        torch.manual_seed(0)
        layer = torch.nn.Linear(6, 4)
        opt = Proximal(make_opt([{"params": [layer.weight], "penalty": penalty}, {"params": [layer.bias]}]))
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10) if scaled else None
        x, y = torch.randn(32, 6), torch.randn(32, 4)
        for k in range(6):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(layer(x), y)
            if not scaled:
                if k != 3:
                    loss.backward()
                    opt.step()
                continue
            scaler.scale(loss).backward()
            if k == 3:
                layer.weight.grad[0, 0] = float("inf")
            before = layer.weight.detach().clone()
            scaler.step(opt)
            scaler.update()
            assert torch.equal(layer.weight.detach(), before) == (k == 3)
        return layer.weight.detach().numpy()

    plain = run(False)
    np.testing.assert_array_equal(run(True), plain)
    assert 0 < np.mean(plain == 0) < 1


def test_lr_scheduler_drives_the_prox():
    X, y, w0, grad = _setup()
    lr, alpha = 0.1, 0.5
    w = torch.tensor(w0, requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    opt = Proximal(torch.optim.SGD([{"params": [w], "penalty": L1(alpha)}], lr=lr))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)   # on the wrapper itself
    hand = w0.copy()
    for k in range(3):
        opt.zero_grad()
        (0.5 * ((yt - Xt @ w) ** 2).mean()).backward()
        opt.step()
        sched.step()
        step = lr * 0.5**k
        z = hand - step * grad(hand)
        hand = np.sign(z) * np.maximum(np.abs(z) - step * alpha, 0)
    np.testing.assert_allclose(w.detach().numpy(), hand, rtol=1e-14)
    assert opt.param_groups[0]["lr"] == opt.optimizer.param_groups[0]["lr"] == lr / 8


@pytest.mark.parametrize("make_opt", [lambda g: torch.optim.Adam(g, lr=0.05),
                                      lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9)])
def test_state_dict_round_trip_continues_identically(make_opt):
    X, y = _problem(n=30, p=6, k=2, seed=5)
    Xt, Yt = torch.tensor(X), torch.tensor(y)

    def build():
        torch.manual_seed(0)
        net = torch.nn.Linear(6, 2).double()
        opt = Proximal(make_opt([{"params": [net.weight], "penalty": ElasticNet(0.1, l1_ratio=0.7)},
                                 {"params": [net.bias], "penalty": GroupLasso(0.05, dim=0)}]))
        return net, opt

    def train(net, opt, n):
        for _ in range(n):
            opt.zero_grad()
            (0.5 * ((Yt - net(Xt)) ** 2).mean()).backward()
            opt.step()

    net, opt = build()
    train(net, opt, 5)
    buffer = io.BytesIO()
    torch.save({"net": net.state_dict(), "opt": opt.state_dict()}, buffer)
    train(net, opt, 5)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)               # plain data: no pickled classes
    net2, opt2 = build()
    net2.load_state_dict(saved["net"])
    opt2.load_state_dict(saved["opt"])
    assert isinstance(opt2.param_groups[0]["penalty"], ElasticNet)
    assert opt2.param_groups[0]["penalty"].l1_ratio == 0.7
    train(net2, opt2, 5)
    for a, b in zip(net.parameters(), net2.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_unpenalized_group_and_parameters_without_gradient_are_untouched():
    a = torch.nn.Parameter(torch.tensor([0.01, -2.0], dtype=torch.float64))
    b = torch.nn.Parameter(torch.tensor([0.01, -2.0], dtype=torch.float64))
    c = torch.nn.Parameter(torch.tensor([0.01, -2.0], dtype=torch.float64))
    opt = Proximal(torch.optim.SGD([{"params": [a], "penalty": L1(1.0)}, {"params": [b]},
                                    {"params": [c], "penalty": L1(1.0)}], lr=0.1))
    (a.sum() + b.sum()).backward()           # c gets no gradient
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.0, -2.0])
    np.testing.assert_allclose(b.detach().numpy(), [-0.09, -2.1])
    np.testing.assert_allclose(c.detach().numpy(), [0.01, -2.0])


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize("make_opt", [lambda g: torch.optim.SGD(g, lr=0.1, momentum=0.5),
                                      lambda g: torch.optim.Adam(g, lr=0.1),
                                      lambda g: torch.optim.RMSprop(g, lr=0.01)],
                         ids=["sgd", "adam", "rmsprop"])
@pytest.mark.parametrize("penalty", [L1(0.3), GroupLasso(0.5, dim=0), GroupLasso(0.5, dim=1),
                                     ElasticNet(0.3, l1_ratio=0.5, weights=np.linspace(0.5, 1.5, 5))],
                         ids=repr)
def test_empty_parameters_in_a_group_change_nothing(penalty, make_opt, fuse):
    # layers of zero units (0 x 5, 4 x 0 weights) among the group's parameters: no error, and the
    # other parameter steps exactly as it does alone
    def run(with_empty):
        torch.manual_seed(0)
        w = torch.nn.Parameter(torch.randn(4, 5, dtype=torch.float64))
        # (per-feature weights apply along the last dimension: 5 there)
        second = (4, 0) if getattr(penalty, "weights", None) is None else (3, 0, 5)
        empty = [torch.nn.Parameter(torch.zeros(s, dtype=torch.float64)) for s in ((0, 5), second)]
        empty = empty if with_empty else []
        opt = Proximal(make_opt([{"params": [*empty, w], "penalty": penalty}]), fuse_step=fuse)
        for _ in range(3):
            opt.zero_grad()
            (sum(e.sum() for e in empty) + (w ** 3).sum()).backward()
            opt.step()
        return w.detach().numpy()

    alone = run(False)
    np.testing.assert_array_equal(run(True), alone)
    assert 0 < np.mean(alone == 0) < 1 or isinstance(penalty, GroupLasso)


# ---------------------------------------------------------------- penalty_loss

def test_penalty_loss_values_match_the_penalty_objects():
    rng = np.random.default_rng(6)
    W = rng.standard_normal((4, 7))
    tensors = [torch.tensor(W, requires_grad=True), torch.tensor(W[0])]
    f = rng.uniform(0, 2, 7)
    for penalty in [L1(0.3), L2(0.7), ElasticNet(0.5, l1_ratio=0.2, weights=f)]:
        expected = sum(penalty.value(row) for row in W) + penalty.value(W[0])
        assert float(penalty_loss(tensors, penalty).detach()) == pytest.approx(expected, rel=1e-13)
    for dim in (0, 1):
        penalty = GroupLasso(0.4, dim=dim)
        assert float(penalty_loss(tensors[0], penalty).detach()) == pytest.approx(penalty.value(W), rel=1e-13)
    w = torch.tensor(W, requires_grad=True)
    penalty_loss(w, ElasticNet(0.5, l1_ratio=0.2, weights=f)).backward()
    np.testing.assert_allclose(w.grad.numpy(), 0.5 * f * (0.2 * np.sign(W) + 0.8 * W), rtol=1e-13)


# ---------------------------------------------------------------- prune

def _sparse_mlp(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(8, 12), torch.nn.Tanh(), torch.nn.Linear(12, 10),
                              torch.nn.GELU(), torch.nn.Dropout(0.1), torch.nn.Linear(10, 3)).double()
    with torch.no_grad():
        net[0].weight[[1, 4, 7]] = 0          # dead units of layer 1 (their bias feeds layer 2)
        net[0].weight[:, [2, 5]] = 0          # inputs 2 and 5 reach nothing
        net[0].bias[4] = 0.7
        net[2].weight[:, 9] = 0               # unit 9 of layer 1 reaches nothing
        net[2].weight[[3, 6]] = 0             # units 3, 6 of layer 2 are dead
        net[5].weight[:, 9] = 0               # unit 9 of layer 2 reaches nothing
    return net.eval()


def test_prune_removes_dead_units_with_identical_outputs():
    net = _sparse_mlp()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    result = prune(net)
    small = result.model
    assert result.kept_units == [[0, 2, 3, 5, 6, 8, 10, 11], [0, 1, 2, 4, 5, 7, 8]]
    assert result.unused_inputs == [2, 5]
    assert result.n_params_after < result.n_params_before == sum(p.numel() for p in net.parameters())
    assert result.n_params_after == sum(p.numel() for p in small.parameters())
    x = torch.randn(64, 8, dtype=torch.float64)
    torch.testing.assert_close(small(x), net(x), rtol=1e-6, atol=1e-6)
    for k, v in net.state_dict().items():     # the original is untouched
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_prune_without_biases_and_with_prelu():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(5, 6, bias=False), torch.nn.PReLU(), torch.nn.Linear(6, 4),
                              torch.nn.Sigmoid(), torch.nn.Linear(4, 2, bias=False)).double().eval()
    with torch.no_grad():
        net[0].weight[[0, 3]] = 0          # dead, no bias: constant PReLU(0) = 0
        net[2].weight[1] = 0               # dead with a bias: sigmoid(b) folded into a new bias
    result = prune(net)
    assert result.kept_units == [[1, 2, 4, 5], [0, 2, 3]]
    assert result.model[4].bias is not None and result.model[0].bias is None
    x = torch.randn(32, 5, dtype=torch.float64)
    torch.testing.assert_close(result.model(x), net(x), rtol=1e-12, atol=1e-12)


def test_prune_after_proximal_group_lasso_training():
    rng = np.random.default_rng(7)
    X = torch.tensor(rng.standard_normal((100, 6)), dtype=torch.float32)
    y = (X[:, :2] ** 2).sum(dim=1, keepdim=True)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    opt = Proximal(torch.optim.Adam([{"params": [net[0].weight], "penalty": GroupLasso(0.02, dim=0)},
                                     {"params": [net[0].bias, *net[2].parameters()]}], lr=0.02))
    for _ in range(150):
        opt.zero_grad()
        ((net(X) - y) ** 2).mean().backward()
        opt.step()
    result = prune(net)
    assert result.n_params_after < result.n_params_before
    torch.testing.assert_close(result.model(X), net(X), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("model, message", [
    (torch.nn.Linear(3, 2), "nn.Sequential"),
    (torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Softmax(dim=1), torch.nn.Linear(2, 1)), "Softmax"),
    (torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 1)), "before the first Linear"),
])
def test_prune_rejects_what_it_cannot_prune(model, message):
    with pytest.raises((TypeError, ValueError), match=message):
        prune(model)


# ---------------------------------------------------------------- bad input

def test_bad_input_errors():
    layer = torch.nn.Linear(4, 3)
    with pytest.raises(TypeError, match="floating-point"):
        Proximal(torch.optim.SGD([{"params": [torch.zeros(3, dtype=torch.int64)], "penalty": L1(0.1)}],
                                 lr=0.1))
    with pytest.raises(ValueError, match="non-negative"):
        L1(-0.1)
    bad = L1(0.1)
    bad.alpha = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        Proximal(torch.optim.SGD([{"params": [layer.weight], "penalty": bad}], lr=0.1))
    with pytest.raises(ValueError, match="dim=2 does not exist"):
        Proximal(torch.optim.SGD([{"params": [layer.weight], "penalty": GroupLasso(0.1, dim=2)}], lr=0.1))
    with pytest.raises(TypeError, match=r"torch\.optim\.Optimizer"):
        Proximal(layer)
    with pytest.raises(TypeError, match="shrinkage penalty"):
        Proximal(torch.optim.SGD([{"params": [layer.weight], "penalty": 0.1}], lr=0.1))
    with pytest.raises(ValueError, match="weights"):
        Proximal(torch.optim.SGD([{"params": [layer.weight], "penalty": L1(0.1, weights=np.ones(3))}],
                                 lr=0.1))
    opt = Proximal(torch.optim.SGD([{"params": [layer.bias]}], lr=0.1))
    with pytest.raises(ValueError, match="dim=1 does not exist"):
        opt.add_param_group({"params": [layer.weight[0].detach().requires_grad_()],
                             "penalty": GroupLasso(0.1, dim=1)})
    with pytest.raises(TypeError, match="floating-point"):
        penalty_loss(torch.ones(3, dtype=torch.int32), L2(0.1))


def test_step_hooks_and_the_profiler_see_the_wrappers_step():
    # Proximal.step skips PyTorch's hook/profiler wrapper while nobody looks; once a hook or a
    # profiler is there, it runs as any optimizer's step does
    w = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = Proximal(torch.optim.SGD([{"params": [w], "penalty": L1(0.5)}], lr=0.1))
    seen = []
    w.grad = torch.zeros(3, dtype=torch.float64)
    opt.step()
    handles = [opt.register_step_pre_hook(lambda o, a, k: seen.append(("pre", w.detach().clone()))),
               opt.register_step_post_hook(lambda o, a, k: seen.append(("post", w.detach().clone()))),
               register_optimizer_step_post_hook(lambda o, a, k: seen.append(("global",)))]
    opt.step()
    # (a global hook sees the wrapped optimizer's step too)
    assert [s[0] for s in seen] == ["pre", "global", "post", "global"]
    torch.testing.assert_close(seen[0][1], torch.full((3,), 0.95, dtype=torch.float64))
    torch.testing.assert_close(seen[2][1], torch.full((3,), 0.9, dtype=torch.float64))   # after the prox
    for h in handles:
        h.remove()
    opt.fuse_step = False       # (fused, SGD's own step() does not run)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        opt.step()
    names = {e.name for e in prof.events()}
    assert "Optimizer.step#Proximal.step" in names and "Optimizer.step#SGD.step" in names
    opt.step()
    assert len(seen) == 4
