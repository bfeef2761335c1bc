"""shrinkage.torch on CUDA: every optimizer family and penalty gives the CPU run's parameters.

The CPU and CUDA proximal steps are computed by different code (numba kernels or tensor
operations on CPU, Triton kernels on CUDA: one launch per tensor, or one per parameter group where
the group qualifies), so agreeing step for step checks both. Skipped without a CUDA device (CI has
none).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

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
    """Three penalised weight matrices in one group (the one-launch path on CUDA), a scheduler,
    and optionally one step where a weight gets no gradient (its step count falls behind)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(300, 200), torch.nn.Tanh(), torch.nn.Linear(200, 100),
                              torch.nn.Tanh(), torch.nn.Linear(100, 3)).to(device=device, dtype=torch.float64)
    weights = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
    biases = [m.bias for m in net if isinstance(m, torch.nn.Linear)]
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 300, generator=gen, dtype=torch.float64).to(device)
    y = torch.randn(64, 3, generator=gen, dtype=torch.float64).to(device)
    opt = Proximal(make_opt([{"params": weights, "penalty": penalty}, {"params": biases}]))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for k in range(n_steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        if k == skip_grad_at:
            weights[1].grad = None
        opt.step()
        sched.step()
    return [w.detach().cpu().numpy() for w in weights]


# strengths at which each optimizer's 8 steps zero some weights (or groups) and keep others
GROUP_PENALTIES = {
    "sgd-momentum": [L1(0.003), GroupLasso(0.3, dim=0), GroupLasso(0.1, dim=1)],
    "adam": [L1(0.001), GroupLasso(0.03, dim=0), GroupLasso(0.03, dim=1)],
}
GROUP_PENALTIES["adamw-amsgrad"] = GROUP_PENALTIES["adam"]


@pytest.mark.parametrize("skip_grad_at", [None, 3])
@pytest.mark.parametrize("kind", range(3), ids=["L1", "GroupLasso-dim0", "GroupLasso-dim1"])
@pytest.mark.parametrize("name", list(GROUP_PENALTIES))
def test_one_launch_for_a_group_equals_cpu(monkeypatch, name, kind, skip_grad_at):
    import shrinkage.torch._triton as kernels

    penalty = GROUP_PENALTIES[name][kind]
    launches = []
    call = kernels.Launch.__call__
    monkeypatch.setattr(kernels.Launch, "__call__", lambda self, *a: launches.append(1) or call(self, *a))
    gpu = _run_group("cuda", OPTIMIZERS[name], penalty, skip_grad_at)
    cpu = _run_group("cpu", OPTIMIZERS[name], penalty, skip_grad_at)
    assert len(launches) >= 3          # the planned launch ran (until Adam's step counts diverged)
    for g, c in zip(gpu, cpu, strict=True):
        np.testing.assert_allclose(g, c, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(g == 0, c == 0)
    zero = np.mean(np.concatenate([c.ravel() for c in cpu]) == 0)
    assert 0 < zero < 1


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
        torch.manual_seed(0)
        weights = [torch.nn.Parameter(torch.randn(50, 40, dtype=torch.float64, device=device))
                   for _ in range(3)]
        opt = Proximal(OPTIMIZERS[name]([{"params": weights, "penalty": penalty}]))
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
