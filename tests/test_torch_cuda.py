"""shrinkage.torch on CUDA: every optimizer family and penalty gives the CPU run's parameters.

The CPU and CUDA proximal steps are computed by different code (numba kernels or tensor
operations on CPU, Triton kernels on CUDA: one launch per tensor, or one per parameter group where
the group qualifies), so agreeing step for step checks both. Skipped without a CUDA device (CI has
none).
"""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import check_half_precision_prox  # noqa: E402
from shrinkage.penalties import L1, ElasticNet, GroupLasso  # noqa: E402
from shrinkage.torch import Proximal, prune  # noqa: E402

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

OPTIMIZERS = {
    "sgd-momentum": lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9),
    "adam": lambda g: torch.optim.Adam(g, lr=0.02),
    "adamw-amsgrad": lambda g: torch.optim.AdamW(g, lr=0.02, amsgrad=True, weight_decay=0.01),
    "rmsprop": lambda g: torch.optim.RMSprop(g, lr=0.01),
    "adagrad": lambda g: torch.optim.Adagrad(g, lr=0.05),
    "adamax": lambda g: torch.optim.Adamax(g, lr=0.02),
}
PENALTIES = [L1(0.02), ElasticNet(0.03, l1_ratio=0.5, weights=np.linspace(0.0, 2.0, 300)),
             GroupLasso(0.05, dim=0), GroupLasso(0.05, dim=1)]


def _run(device, dtype, make_opt, penalty, n_steps=8):
    """A two-layer MLP (300 inputs: large enough for the CPU's blocked code) trained n_steps."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(300, 400), torch.nn.Tanh(), torch.nn.Linear(400, 3))
    net = net.to(device=device, dtype=dtype)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 300, generator=gen, dtype=dtype).to(device)
    y = torch.randn(64, 3, generator=gen, dtype=dtype).to(device)
    opt = Proximal(make_opt([{"params": [net[0].weight], "penalty": penalty},
                             {"params": [net[0].bias, net[2].weight, net[2].bias]}]))
    for _ in range(n_steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        opt.step()
    return net[0].weight.detach().cpu().double().numpy()


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_cuda_steps_equal_cpu_steps(name, penalty):
    cpu = _run("cpu", torch.float64, OPTIMIZERS[name], penalty)
    gpu = _run("cuda", torch.float64, OPTIMIZERS[name], penalty)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(gpu == 0, cpu == 0)
    # float32: two steps (adaptive optimizers amplify rounding where a gradient is near zero,
    # and cuBLAS and the CPU's BLAS round differently), nearly every weight the same
    cpu32 = _run("cpu", torch.float32, OPTIMIZERS[name], penalty, n_steps=2)
    gpu32 = _run("cuda", torch.float32, OPTIMIZERS[name], penalty, n_steps=2)
    assert np.mean(np.abs(gpu32 - cpu32) <= 1e-5 + 1e-4 * np.abs(cpu32)) > 0.999
    assert np.mean((gpu32 == 0) == (cpu32 == 0)) > 0.999


def test_prune_a_cuda_network():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)).cuda().double()
    with torch.no_grad():
        net[0].weight[[1, 4]] = 0.0
    result = prune(net)
    assert result.kept_units == [[0, 2, 3, 5, 6, 7]]
    x = torch.randn(32, 6, dtype=torch.float64, device="cuda")
    torch.testing.assert_close(result.model(x), net(x), rtol=1e-6, atol=1e-6)


def _run_group(device, make_opt, penalty, skip_grad_at=None, n_steps=8):
    """Three penalised weight matrices in one group (on CUDA the prox's one launch after the
    optimizer's step: ``fuse_step=False``; the fused step has its own tests below), a scheduler,
    and optionally one step where a weight gets no gradient (its step count falls behind)."""
    net, _ = _train(device, torch.float64, (300, 200, 100, 3), 64, make_opt, penalty, n_steps,
                    fuse=False, no_grad_at=skip_grad_at)
    return [m.weight.detach().cpu().numpy() for m in net if isinstance(m, torch.nn.Linear)]


def _train(device, dtype, widths, batch, make_opt, penalty, n_steps, fuse=True, no_grad_at=None,
           moved_at=None):
    """An MLP (Linear and Tanh layers of ``widths``), its weights in one penalised group and its
    biases in another, trained ``n_steps`` full-batch on MSE with a StepLR scheduler; optionally a
    step where the second weight gets no gradient, or one after which the first gets new storage.
    Returns the network and the optimizer."""
    torch.manual_seed(0)
    layers = []
    for a, b in itertools.pairwise(widths):
        layers += [torch.nn.Linear(a, b), torch.nn.Tanh()]
    net = torch.nn.Sequential(*layers[:-1]).to(device=device, dtype=dtype)
    weights = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
    biases = [m.bias for m in net if isinstance(m, torch.nn.Linear)]
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(batch, widths[0], generator=gen, dtype=dtype).to(device)
    y = torch.randn(batch, widths[-1], generator=gen, dtype=dtype).to(device)
    opt = Proximal(make_opt([{"params": weights, "penalty": penalty}, {"params": biases}]), fuse_step=fuse)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for k in range(n_steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        if k == no_grad_at:
            weights[1].grad = None
        opt.step()
        sched.step()
        if k == moved_at:
            weights[0].data = weights[0].data.clone()
    return net, opt


# strengths at which each optimizer's 8 steps zero some weights (or groups) and keep others
GROUP_PENALTIES = {
    "sgd-momentum": [L1(0.003), GroupLasso(0.3, dim=0), GroupLasso(0.1, dim=1)],
    "adam": [L1(0.001), GroupLasso(0.03, dim=0), GroupLasso(0.03, dim=1)],
}
GROUP_PENALTIES["adamw-amsgrad"] = GROUP_PENALTIES["adam"]
# Adam keeping its step counts on the GPU (the planned launch reads them there). Capturable is
# CUDA-only, and its step is not the CPU's: it computes 1 - beta2^n from float32 counts (~1e-5
# relative off at n = 8): its reference is the same optimizer on the GPU, the prox through the
# general path (no planned launch).
GROUP_PENALTIES["adam-fused"] = GROUP_PENALTIES["adamw-capturable"] = GROUP_PENALTIES["adam"]
OPTIMIZERS["adam-fused"] = lambda g: torch.optim.Adam(g, lr=0.02, fused=True)
OPTIMIZERS["adamw-capturable"] = lambda g: torch.optim.AdamW(g, lr=0.02, weight_decay=0.01, capturable=True)
COUNTS_ON_GPU = ("adam-fused", "adamw-capturable")


@pytest.mark.parametrize("skip_grad_at", [None, 3])
@pytest.mark.parametrize("kind", range(3), ids=["L1", "GroupLasso-dim0", "GroupLasso-dim1"])
@pytest.mark.parametrize("name", list(GROUP_PENALTIES))
def test_one_launch_for_a_group_equals_cpu(monkeypatch, name, kind, skip_grad_at):
    import shrinkage.torch._triton as kernels

    penalty = GROUP_PENALTIES[name][kind]
    launches = []
    run = kernels.Launch.run
    monkeypatch.setattr(kernels.Launch, "run", lambda self, **a: launches.append(1) or run(self, **a))
    gpu = _run_group("cuda", OPTIMIZERS[name], penalty, skip_grad_at)
    # the planned launch ran: with the step counts on the host until they diverged, with them on
    # the GPU at every step but the one where a weight had no gradient
    assert len(launches) >= (7 if name in COUNTS_ON_GPU else 3)
    if name == "adamw-capturable":
        monkeypatch.setattr(Proximal, "_launch_planned", lambda self, group, penalty: False)
        ref = _run_group("cuda", OPTIMIZERS[name], penalty, skip_grad_at)
    else:
        ref = _run_group("cpu", OPTIMIZERS[name], penalty, skip_grad_at)
    for g, c in zip(gpu, ref, strict=True):
        np.testing.assert_allclose(g, c, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(g == 0, c == 0)
    zero = np.mean(np.concatenate([c.ravel() for c in ref]) == 0)
    assert 0 < zero < 1


@pytest.mark.parametrize("penalty", [L1(0.001), GroupLasso(0.03, dim=0)], ids=repr)
@pytest.mark.parametrize("name", ["adam-fused", "adamw-capturable"])
def test_step_counts_on_the_gpu_are_never_waited_for(name, penalty):
    """fused/capturable Adam keeps its step counts on the GPU; reading them with ``.item()`` would
    make every step wait for the GPU. Once planned, a step synchronises nothing (PyTorch's sync
    debug mode raises on any synchronising call)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(300, 200), torch.nn.Tanh(), torch.nn.Linear(200, 3)).cuda()
    weights = [net[0].weight, net[2].weight]
    opt = Proximal(OPTIMIZERS[name]([{"params": weights, "penalty": penalty},
                                     {"params": [net[0].bias, net[2].bias]}]))
    x, y = torch.randn(64, 300, device="cuda"), torch.randn(64, 3, device="cuda")
    for k in range(5):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        if k >= 2:
            torch.cuda.set_sync_debug_mode("error")
        try:
            opt.step()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    assert bool((net[0].weight == 0).any())


# (strengths at which the six steps below zero some weights or rows and keep others)
MOVED_PENALTIES = {"sgd-momentum": [L1(0.05), GroupLasso(2.0, dim=0)],
                   "adam": [L1(0.05), GroupLasso(35.0, dim=0)]}


@pytest.mark.parametrize("kind", range(2), ids=["L1", "GroupLasso"])
@pytest.mark.parametrize("name", list(MOVED_PENALTIES))
def test_a_parameter_moved_in_storage_is_planned_again(name, kind):
    """A planned launch's tables hold the tensors' addresses: a parameter given new storage
    (``.data =``, as moving a module does) gets a new plan, not a write through the old address."""
    penalty = MOVED_PENALTIES[name][kind]
    runs = []
    for device in ("cuda", "cpu"):
        torch.manual_seed(0)        # (drawn on the CPU: CUDA's generator draws other numbers)
        weights = [torch.nn.Parameter(torch.randn(50, 40, dtype=torch.float64).to(device))
                   for _ in range(3)]
        opt = Proximal(OPTIMIZERS[name]([{"params": weights, "penalty": penalty}]), fuse_step=False)
        for k in range(6):
            for w in weights:
                w.grad = torch.sin(w.detach() * (k + 1))
            opt.step()
            if k == 2:
                weights[1].data = weights[1].data.clone()
        runs.append([w.detach().cpu().numpy() for w in weights])
    for g, c in zip(*runs, strict=True):
        np.testing.assert_allclose(g, c, rtol=1e-9, atol=1e-12)
    assert 0 < np.mean(np.concatenate([c.ravel() for c in runs[1]]) == 0) < 1


# --- the optimizer's update and the prox in one launch per group (shrinkage.torch._fused_gpu) ---

FUSED_OPTIMIZERS = {
    "sgd": lambda g: torch.optim.SGD(g, lr=0.05),
    "sgd-momentum": lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9),
    "sgd-momentum-fused": lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, fused=True),
    "sgd-nesterov-wd-maximize": lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.8, nesterov=True,
                                                          weight_decay=0.01, maximize=True),
    "sgd-dampening-wd": lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.02),
    "adam": lambda g: torch.optim.Adam(g, lr=0.02),
    "adam-wd-amsgrad": lambda g: torch.optim.Adam(g, lr=0.02, weight_decay=0.01, amsgrad=True),
    "adamw": lambda g: torch.optim.AdamW(g, lr=0.02, weight_decay=0.05),
    "adamw-amsgrad-maximize": lambda g: torch.optim.AdamW(g, lr=0.02, amsgrad=True, maximize=True,
                                                          betas=(0.8, 0.9)),
    # (step counts on the device, read there by the kernels)
    "adam-fused": lambda g: torch.optim.Adam(g, lr=0.02, fused=True),
    "adamw-fused-amsgrad": lambda g: torch.optim.AdamW(g, lr=0.02, weight_decay=0.05, amsgrad=True,
                                                       fused=True),
}
FUSED_PENALTIES = [None, L1(0.01), ElasticNet(0.02, l1_ratio=0.5, positive=True),
                   ElasticNet(0.1, l1_ratio=0.0), GroupLasso(0.05, dim=0), GroupLasso(0.05, dim=1)]


def _planned_steps(monkeypatch):
    """Turn the fused CUDA path on and count the steps it took."""
    import shrinkage.torch._fused as fused
    import shrinkage.torch._optim as optim

    monkeypatch.setattr(fused, "GPU", True)
    taken = []
    planned = optim.planned_step
    monkeypatch.setattr(optim, "planned_step", lambda *a: taken.append(planned(*a)) or taken[-1])
    return taken


def fused_run(device, dtype, make_opt, penalty, fuse, n_steps=6, no_grad_at=None, moved_at=None):
    """Three layers (weights penalised, biases not) trained n_steps with a scheduler (``_train``);
    returns the parameters and the optimizer's state tensors."""
    net, opt = _train(device, dtype, (37, 21, 11, 3), 16, make_opt, penalty, n_steps, fuse, no_grad_at,
                      moved_at)
    state = [t for p in net.parameters() for t in opt.state[p].values() if isinstance(t, torch.Tensor)]
    return [t.detach().cpu().double().numpy() for t in [*net.parameters(), *state]]


def assert_fused_equal(got, ref, dtype):
    rtol, atol = (1e-12, 1e-14) if dtype == torch.float64 else (2e-5, 1e-6)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert all(np.array_equal(a == 0, b == 0) for a, b in zip(got[:6], ref[:6], strict=True))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("penalty", FUSED_PENALTIES, ids=repr)
@pytest.mark.parametrize("name", list(FUSED_OPTIMIZERS))
def test_fused_cuda_step_equals_the_optimizers_step_and_the_prox(monkeypatch, name, penalty, dtype):
    taken = _planned_steps(monkeypatch)
    got = fused_run("cuda", dtype, FUSED_OPTIMIZERS[name], penalty, True)
    ref = fused_run("cuda", dtype, FUSED_OPTIMIZERS[name], penalty, False)
    # the first step makes the state (PyTorch's), every later one is the planned launch
    assert taken[1:] == [True] * 5
    assert_fused_equal(got, ref, dtype)


@pytest.mark.parametrize("case", [{"no_grad_at": 2}, {"moved_at": 2}], ids=["no-grad", "moved"])
@pytest.mark.parametrize("penalty", [L1(0.01), GroupLasso(0.05, dim=0)], ids=repr)
@pytest.mark.parametrize("name", ["sgd-momentum", "adam", "adam-fused"])
def test_fused_cuda_step_plans_again_or_falls_back(monkeypatch, name, penalty, case):
    """A weight without a gradient in one step (Adam's step counts then differ: PyTorch's step from
    there on, unless the kernels read them on the device), or given new storage (planned again):
    the same numbers as without fusing."""
    taken = _planned_steps(monkeypatch)
    got = fused_run("cuda", torch.float64, FUSED_OPTIMIZERS[name], penalty, True, **case)
    ref = fused_run("cuda", torch.float64, FUSED_OPTIMIZERS[name], penalty, False, **case)
    assert_fused_equal(got, ref, torch.float64)
    assert taken[1:] == ([True, True, False, False, False] if name == "adam" and "no_grad_at" in case
                         else [True] * 5)


def test_fused_cuda_step_leaves_per_feature_weights_to_the_general_path(monkeypatch):
    taken = _planned_steps(monkeypatch)
    penalty = L1(0.01, weights=np.linspace(0.5, 2.0, 37))
    make = FUSED_OPTIMIZERS["adam"]

    def run(fuse):
        torch.manual_seed(0)
        layer = torch.nn.Linear(37, 5).to("cuda", torch.float64)
        opt = Proximal(make([{"params": [layer.weight], "penalty": penalty}, {"params": [layer.bias]}]),
                       fuse_step=fuse)
        x = torch.randn(16, 37, dtype=torch.float64, device="cuda")
        for _ in range(4):
            opt.zero_grad()
            layer(x).square().mean().backward()
            opt.step()
        return layer.weight.detach().cpu().numpy()

    np.testing.assert_allclose(run(True), run(False), rtol=1e-12, atol=1e-14)
    assert not any(taken)


HALF_PENALTIES = [L1(0.3), L1(0.2, positive=True),
                  ElasticNet(0.3, l1_ratio=0.5, weights=np.linspace(0.0, 2.0, 300)),
                  GroupLasso(0.3, dim=0), GroupLasso(0.3, dim=1)]


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("penalty", HALF_PENALTIES, ids=repr)
def test_half_precision_prox_on_cuda_is_the_float64_prox_rounded(penalty, dtype):
    check_half_precision_prox("cuda", dtype, penalty)
