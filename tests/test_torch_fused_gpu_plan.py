"""The host side of the fused CUDA step (``shrinkage.torch._fused_gpu``), run without a GPU.

The Triton kernels need a GPU (or Triton's interpreter, which CI does not have), but what decides
and feeds them is plain Python: which groups are planned, when a plan is made again or given up,
which tensors go into which table, which numbers each launch gets under which name, and the step
counts. Here the kernels are replaced by the CPU path's numba kernels (``_kernels.sgd_prox``,
``adaptive_prox``: the same update and prox, checked against PyTorch by ``test_torch_fused.py``),
reached through the same plan functions and argument names as the Triton kernels (checked against
their signatures in ``_triton.py``), so the whole host path runs on CPU tensors and must give what
the optimizer's step followed by the prox gives. ``tests/test_torch_cuda.py`` runs the same cases
with the real kernels on a GPU.
"""

import ast
import itertools
import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from shrinkage._kernels import adaptive_prox, sgd_prox  # noqa: E402
from shrinkage.penalties import L1, GroupLasso  # noqa: E402
from shrinkage.torch import _fused, _optim, _prox  # noqa: E402
from test_torch_cuda import FUSED_OPTIMIZERS, FUSED_PENALTIES, assert_fused_equal, fused_run  # noqa: E402


def _kernel_numbers():
    """Each fused Triton kernel's per-step arguments: its float64 parameters (the planned ``tol``
    aside) and the gradients' table, read from the kernels' source."""
    source = (pathlib.Path(_prox.__file__).parent / "_triton.py").read_text()
    numbers = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in (
                "_sgd_many_kernel", "_adam_many_kernel", "_sgd_group_many_kernel", "_adam_group_many_kernel"):
            floats = {a.arg for a in node.args.args
                      if a.annotation is not None and ast.unparse(a.annotation) == "tl.float64"}
            numbers[node.name] = (floats - {"tol"}) | {"g_table"}
    return numbers


KERNEL_NUMBERS = _kernel_numbers()


def _typed(x, like):
    return like.dtype.type(x)


class _Launch:
    """A planned launch whose run() applies the CPU kernels to the tables' tensors."""

    def __init__(self, kernel, apply):
        self.kernel = kernel
        self.apply = apply

    def run(self, **changing):
        assert set(changing) == KERNEL_NUMBERS[self.kernel], self.kernel
        self.apply(changing)


def _np(t):
    return t.detach().numpy()


def _group_views(rows, lam):
    # each row view's slice of the strengths of all the groups (tensor after tensor)
    starts = np.cumsum([0] + [r.shape[0] for r in rows])
    return [lam.numpy()[a:b] for a, b in itertools.pairwise(starts)]


class _CpuKernels:
    """The plan functions of ``_triton`` for the fused step, on CPU tensors."""

    _TL_TYPES = {}      # (the prox-only planned launches are not emulated: they take the CPU path)

    @staticmethod
    def address_table(tensors):
        return list(tensors)

    @staticmethod
    def plan_sgd_flat(params, buffers, nesterov, kind, shrink):
        def apply(c):
            for i, (w, g) in enumerate(zip(params, c["g_table"], strict=True)):
                w_, g_ = _np(w).reshape(-1), _np(g).reshape(-1)
                buf = w_ if buffers is None else _np(buffers[i]).reshape(-1)
                hyper = tuple(_typed(c[k], w_) for k in ("sign", "wd", "mu", "fresh", "lr"))
                threshold, divisor = _typed(c["threshold"], w_), _typed(1.0 + c["shift"], w_)
                sgd_prox.sgd_prox_flat(w_, g_, buf, hyper, threshold, divisor, buffers is not None, nesterov,
                                       kind, shrink)
        return _Launch("_sgd_many_kernel", apply)

    @staticmethod
    def plan_adam_flat(params, exp_avg, exp_avg_sq, max_exp_avg_sq, kind, shrink, counts=None):
        def apply(c):
            for i, (w, g) in enumerate(zip(params, c["g_table"], strict=True)):
                m, v = _np(exp_avg[i]).reshape(-1), _np(exp_avg_sq[i]).reshape(-1)
                vmax = v if max_exp_avg_sq is None else _np(max_exp_avg_sq[i]).reshape(-1)
                w_ = _np(w).reshape(-1)
                hyper = _adam_hyper(c, w_, counts, i)
                adaptive_prox.adam_prox_flat(w_, _np(g).reshape(-1), m, v, vmax, hyper,
                                             _typed(c["threshold"], w_), _typed(c["shift"], w_),
                                             max_exp_avg_sq is not None, False, kind, shrink)
        return _Launch("_adam_many_kernel", apply)

    @staticmethod
    def plan_sgd_rows(rows, buffers, lam, nesterov):
        def apply(c):
            for i, (w, lam_i) in enumerate(zip(rows, _group_views(rows, lam), strict=True)):
                g = c["g_table"][i].as_strided(w.shape, w.stride())
                w_ = _np(w)
                buf = w_ if buffers is None else _np(buffers[i])
                hyper = tuple(_typed(c[k], w_) for k in ("sign", "wd", "mu", "fresh", "lr"))
                sgd_prox.sgd_group_prox_rows(w_, _np(g), buf, hyper, float(c["step"]), lam_i,
                                             buffers is not None, nesterov)
        return _Launch("_sgd_group_many_kernel", apply)

    @staticmethod
    def plan_adam_rows(rows, exp_avg, exp_avg_sq, max_exp_avg_sq, lam, tol, counts=None):
        def apply(c):
            for i, (w, lam_i) in enumerate(zip(rows, _group_views(rows, lam), strict=True)):
                g = c["g_table"][i].as_strided(w.shape, w.stride())
                w_ = _np(w)
                v = _np(exp_avg_sq[i])
                vmax = v if max_exp_avg_sq is None else _np(max_exp_avg_sq[i])
                amsgrad = max_exp_avg_sq is not None
                hyper = _adam_hyper(c, w_, counts, i)
                adaptive_prox.adam_group_prox_rows(w_, _np(g), _np(exp_avg[i]), v, vmax, hyper,
                                                   _typed(c["lr"], w_), lam_i.astype(w_.dtype),
                                                   _typed(tol, w_), _prox._MAX_NEWTON, amsgrad, False,
                                                   _prox.newton_scratch(w_))
        return _Launch("_adam_group_many_kernel", apply)


def _adam_hyper(c, like, counts=None, i=None):
    """The CPU kernel's Adam numbers from a launch's; with ``counts`` (read on the device by the
    Triton kernel) corrected by tensor i's count as the kernel does."""
    c = dict(c)
    if counts is not None:
        n = counts[i].item()
        root_b = np.sqrt(1.0 - c["beta2"] ** n)
        c.update(step_size=c["step_size"] / (1.0 - c["beta1"] ** n), root_b=root_b, eps_b=c["eps_b"] * root_b)
    names = ("sign", "wd", "decay", "lerp", "beta2", "fresh", "step_size", "root_b", "eps_b")
    return (*(_typed(c[k], like) for k in names), _typed(0.0, like))     # (10th: NAdam's)


@pytest.fixture
def cpu_planned(monkeypatch, torch_one_thread):
    """The fused CUDA path on CPU tensors with the CPU kernels in Triton's place; yields the list
    of planned_step's answers. The reference runs (fuse_step=False) get the ordinary CPU prox."""
    monkeypatch.setattr(_fused, "GPU", True)
    monkeypatch.setattr(_prox, "_triton", lambda: _CpuKernels)
    monkeypatch.setattr(_prox, "TRITON_DEVICE", "cpu")
    taken = []
    planned = _optim.planned_step
    monkeypatch.setattr(_optim, "planned_step", lambda *a: taken.append(planned(*a)) or taken[-1])

    def run(*args, fuse, **kwargs):
        # fuse_step=False: PyTorch's step and the prox by the CPU code (no planned Triton prox)
        monkeypatch.setattr(_prox, "TRITON_DEVICE", "cpu" if fuse else "cuda")
        return fused_run("cpu", *args, fuse, **kwargs)

    return taken, run


def test_the_kernel_signatures_were_read():
    assert KERNEL_NUMBERS["_sgd_many_kernel"] == {
        "g_table", "sign", "wd", "mu", "fresh", "lr", "threshold", "shift"}
    assert KERNEL_NUMBERS["_adam_group_many_kernel"] == {
        "g_table", "sign", "wd", "decay", "lerp", "beta1", "beta2", "fresh", "step_size", "root_b", "eps_b",
        "lr"}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("penalty", FUSED_PENALTIES, ids=repr)
@pytest.mark.parametrize("name", list(FUSED_OPTIMIZERS))
def test_planned_steps_equal_the_optimizers_step_and_the_prox(cpu_planned, name, penalty, dtype):
    taken, run = cpu_planned
    got = run(dtype, FUSED_OPTIMIZERS[name], penalty, fuse=True)
    assert taken[1:] == [True] * 5      # (the first step: PyTorch's, it makes the state)
    ref = run(dtype, FUSED_OPTIMIZERS[name], penalty, fuse=False)
    assert_fused_equal(got, ref, dtype)


@pytest.mark.parametrize("case", [{"no_grad_at": 2}, {"moved_at": 2}], ids=["no-grad", "moved"])
@pytest.mark.parametrize("penalty", [L1(0.01), GroupLasso(0.05, dim=0)], ids=repr)
@pytest.mark.parametrize("name", ["sgd-momentum", "adam", "adam-fused"])
def test_planned_steps_plan_again_or_fall_back(cpu_planned, name, penalty, case):
    taken, run = cpu_planned
    got = run(torch.float64, FUSED_OPTIMIZERS[name], penalty, fuse=True, **case)
    # a weight without a gradient: planned without it; Adam's step counts then differ, and
    # PyTorch's step takes over (fused Adam's are read per tensor); new storage: planned again
    assert taken[1:] == ([True, True, False, False, False] if name == "adam" and "no_grad_at" in case
                         else [True] * 5)
    ref = run(torch.float64, FUSED_OPTIMIZERS[name], penalty, fuse=False, **case)
    assert_fused_equal(got, ref, torch.float64)


def test_what_is_not_planned(cpu_planned, monkeypatch):
    """Per-feature weights, a first Adam step (no state yet), and a group whose parameters differ in
    dtype: PyTorch's step and the prox, every time."""
    taken, _ = cpu_planned
    weighted = L1(0.01, weights=np.linspace(0.5, 2.0, 37))

    def run(fuse):
        monkeypatch.setattr(_prox, "TRITON_DEVICE", "cpu" if fuse else "cuda")
        torch.manual_seed(0)
        layer = torch.nn.Linear(37, 5).double()
        opt = _optim.Proximal(torch.optim.Adam([{"params": [layer.weight], "penalty": weighted},
                                                {"params": [layer.bias]}], lr=0.02), fuse_step=fuse)
        x = torch.randn(16, 37, dtype=torch.float64)
        for _ in range(4):
            opt.zero_grad()
            layer(x).square().mean().backward()
            opt.step()
        return layer.weight.detach()

    torch.testing.assert_close(run(True), run(False), rtol=1e-12, atol=1e-14)
    assert taken and not any(taken)

    taken.clear()
    monkeypatch.setattr(_prox, "TRITON_DEVICE", "cpu")
    a = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.float64))
    b = torch.nn.Parameter(torch.randn(5, dtype=torch.float32))
    opt = _optim.Proximal(torch.optim.SGD([{"params": [a, b], "penalty": L1(0.1)}], lr=0.1))
    for _ in range(2):
        a.grad, b.grad = torch.ones_like(a), torch.ones_like(b)
        opt.step()
    assert taken == [False, False]


def test_a_grad_at_a_new_address_gets_its_own_table(cpu_planned):
    """Gradients replaced by new tensors (other addresses) are read, not the old ones."""
    taken, _ = cpu_planned
    torch.manual_seed(0)
    w = [torch.nn.Parameter(torch.randn(6, 4, dtype=torch.float64)) for _ in range(2)]
    ref = [torch.nn.Parameter(p.detach().clone()) for p in w]
    opt = _optim.Proximal(torch.optim.SGD([{"params": w, "penalty": L1(0.05)}], lr=0.1))
    ref_opt = _optim.Proximal(torch.optim.SGD([{"params": ref, "penalty": L1(0.05)}], lr=0.1),
                              fuse_step=False)
    keep = []
    for k in range(4):
        grads = [torch.sin((k + 1) * torch.arange(24.0, dtype=torch.float64)).reshape(6, 4) + i
                 for i in range(2)]
        keep.append(grads)      # (kept alive: every step's gradients at new addresses)
        for p, q, g in zip(w, ref, grads, strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        ref_opt.step()
    assert taken == [True] * 4
    for p, q in zip(w, ref, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["sgd", "sgd-momentum", "adam", "adam-fused"])
def test_a_plan_is_made_once_and_kept(cpu_planned, monkeypatch, name):
    """Steps with the same tensors reuse the plan (plain SGD keeps no state: its plan must not
    expect a state dict)."""
    from shrinkage.torch import _fused_gpu

    made = []
    make = _fused_gpu._make_plan
    monkeypatch.setattr(_fused_gpu, "_make_plan", lambda opt: made.append(1) or make(opt))
    taken, run = cpu_planned
    run(torch.float64, FUSED_OPTIMIZERS[name], L1(0.01), fuse=True)
    assert taken[1:] == [True] * 5
    assert len(made) == (1 if name == "sgd" else 2)     # (Adam, momentum: none before the state exists)
