"""Proximal(SGD, Adam, AdamW, NAdam, RAdam, Adamax, RMSprop, Adagrad) on CPU, fused path: the same
parameters and state as PyTorch's step + the prox.

The reference is the same wrapper with ``fuse_step=False`` (PyTorch's own ``step()``, then
``apply_prox``), fed the same gradients; ``tests/test_torch.py`` checks that one against the convex
solvers and the conventions by hand (and, since the fused path is the default, those tests run it
too).
"""

import copy
import os
import subprocess
import sys
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from shrinkage.penalties import L1, ElasticNet, GroupLasso  # noqa: E402
from shrinkage.torch import Proximal, _optim  # noqa: E402

SHAPES = {"weight": (6, 5), "bias": (6,), "conv": (4, 3, 2, 2)}


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _params(dtype, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.nn.Parameter(torch.randn(s, generator=gen, dtype=dtype) * 0.3)
            for k, s in SHAPES.items()}


def _grads(dtype, n_steps, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return [{k: torch.randn(s, generator=gen, dtype=dtype) for k, s in SHAPES.items()}
            for _ in range(n_steps)]


def _make(opt_cls, options, penalty, dtype, fuse):
    params = _params(dtype)
    # per-feature weights act along the last dimension: the weight matrix's 5 columns, not the conv's
    conv_penalised = getattr(penalty, "weights", None) is None
    groups = [{"params": [params["weight"]] + [params["conv"]] * conv_penalised, "penalty": penalty},
              {"params": [params["bias"]] + [params["conv"]] * (not conv_penalised)}]
    opt = Proximal(opt_cls(groups, lr=0.05, **options), fuse_step=fuse)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    return params, opt, sched


def _run(opt_cls, options, penalty, dtype, fuse, n_steps=7):
    params, opt, sched = _make(opt_cls, options, penalty, dtype, fuse)
    for i, grads in enumerate(_grads(dtype, n_steps)):
        for k, p in params.items():
            # the bias misses a gradient once: its state must then stay as it is
            p.grad = None if (k == "bias" and i == 4) else grads[k].clone()
        opt.step()
        sched.step()
    return params, opt


PENALTIES = {
    "none": None,
    "L1": L1(0.4),
    "enet-positive": ElasticNet(0.5, l1_ratio=0.6, positive=True),
    "L2": ElasticNet(0.5, l1_ratio=0.0),
    "group-rows": GroupLasso(0.8, dim=0),
    "group-cols": GroupLasso(0.8, dim=1),         # a pass of its own after the fused update
    "L1-weighted": L1(0.4, weights=[1.0, 0.0, 2.0, 1.0, 0.5]),
}
OPTIONS = {"plain": {}, "amsgrad": {"amsgrad": True}, "maximize": {"maximize": True},
           "decay": {"weight_decay": 0.1}, "betas": {"betas": (0.3, 0.9), "eps": 1e-3}}
SGD_OPTIONS = {"plain": {}, "momentum": {"momentum": 0.9}, "dampening": {"momentum": 0.8, "dampening": 0.3},
               "nesterov": {"momentum": 0.9, "nesterov": True},
               "decay-maximize": {"momentum": 0.5, "weight_decay": 0.1, "maximize": True}}
# (RAdam: rectified from the 6th step with beta2 = 0.999, from the 7th with 0.8)
OTHER_OPTIONS = {
    torch.optim.NAdam: {"plain": {}, "decay": {"weight_decay": 0.1, "maximize": True},
                        "decoupled": {"weight_decay": 0.1, "decoupled_weight_decay": True},
                        "momentum_decay": {"momentum_decay": 0.01, "betas": (0.3, 0.9), "eps": 1e-3}},
    torch.optim.RAdam: {"plain": {}, "decay": {"weight_decay": 0.1, "maximize": True},
                        "decoupled": {"weight_decay": 0.1, "decoupled_weight_decay": True},
                        "betas": {"betas": (0.5, 0.8), "eps": 1e-3}},
    torch.optim.Adamax: {"plain": {}, "decay": {"weight_decay": 0.1}, "maximize": {"maximize": True},
                         "betas": {"betas": (0.3, 0.9), "eps": 1e-3}},
    torch.optim.RMSprop: {"plain": {}, "momentum": {"momentum": 0.9}, "centered": {"centered": True},
                          "centered-momentum-decay": {"centered": True, "momentum": 0.5, "weight_decay": 0.1},
                          "maximize": {"maximize": True, "alpha": 0.9, "eps": 1e-3}},
    torch.optim.Adagrad: {"plain": {}, "lr_decay": {"lr_decay": 0.1, "weight_decay": 0.1},
                          "maximize": {"maximize": True},
                          "initial": {"initial_accumulator_value": 0.5, "eps": 1e-3}},
    # (its relative step grows with rms(w); the update clipped from rms 1 on)
    torch.optim.Adafactor: {"plain": {}, "decay": {"weight_decay": 0.1, "maximize": True},
                            "clipped": {"d": 1.0, "beta2_decay": -0.5, "eps": (1e-3, 1e-2)}},
}
CASES = ([(torch.optim.SGD, o) for o in SGD_OPTIONS.values()]
         + [(c, o) for c in (torch.optim.Adam, torch.optim.AdamW) for o in OPTIONS.values()]
         + [(c, o) for c, options in OTHER_OPTIONS.items() for o in options.values()])
CASE_IDS = ([f"SGD-{k}" for k in SGD_OPTIONS] + [f"{c}-{k}" for c in ("Adam", "AdamW") for k in OPTIONS]
            + [f"{c.__name__}-{k}" for c, options in OTHER_OPTIONS.items() for k in options])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("penalty", list(PENALTIES.values()), ids=list(PENALTIES))
@pytest.mark.parametrize(("opt_cls", "options"), CASES, ids=CASE_IDS)
def test_fused_step_equals_the_optimizers_step_then_the_prox(opt_cls, options, penalty, dtype, monkeypatch):
    fused = _spy_fused_step(monkeypatch)
    got_params, got = _run(opt_cls, options, penalty, dtype, fuse=True)
    # the first step makes the state (momentum buffers, Adam's moments): PyTorch's own; SGD
    # without momentum has none, Adagrad makes its own when it is built
    stateless = (opt_cls is torch.optim.SGD and not options.get("momentum")) or opt_cls is torch.optim.Adagrad
    assert fused == [stateless] + [True] * 6
    ref_params, ref = _run(opt_cls, options, penalty, dtype, fuse=False)
    rtol, atol = (1e-12, 1e-14) if dtype == torch.float64 else (2e-5, 1e-6)
    for k in SHAPES:
        torch.testing.assert_close(got_params[k], ref_params[k], rtol=rtol, atol=atol)
        if dtype == torch.float64:
            assert torch.equal(got_params[k] == 0, ref_params[k] == 0)
        got_state, ref_state = got.state[got_params[k]], ref.state[ref_params[k]]
        assert set(got_state) == set(ref_state)
        for name in ref_state:
            torch.testing.assert_close(got_state[name], ref_state[name], rtol=rtol, atol=atol)
    too_few_steps = opt_cls in (torch.optim.SGD, torch.optim.RAdam, torch.optim.Adafactor)
    if getattr(penalty, "l1_ratio", 0) > 0 and not too_few_steps and not options:
        # the penalty acted (exact zeros; SGD's raw steps of this size outrun the threshold, and
        # RAdam's until it is rectified, at the 6th step; Adafactor's relative steps, lr rms(w),
        # need more than seven steps to reach zero)
        assert (got_params["weight"] == 0).any()


@pytest.mark.parametrize("dim", [0, 1])
def test_group_lasso_zeroes_whole_groups_on_the_fused_path(dim):
    # a steady gradient on three groups keeps them alive (Adam's normalised step ~ 1 per
    # coordinate: ||u / t|| ~ sqrt(size) > alpha); noise alone on the others does not
    gen = torch.Generator().manual_seed(5)
    w0 = torch.randn(6, 5, generator=gen, dtype=torch.float64) * 0.05
    grads = [torch.randn(6, 5, generator=gen, dtype=torch.float64) * 0.5 for _ in range(12)]
    for g in grads:
        g.narrow(dim, 0, 3).add_(1.0)
    out = []
    for fuse in (True, False):
        w = torch.nn.Parameter(w0.clone())
        opt = Proximal(torch.optim.Adam([{"params": [w], "penalty": GroupLasso(1.5, dim=dim)}], lr=0.05),
                       fuse_step=fuse)
        for g in grads:
            w.grad = g.clone()
            opt.step()
        out.append(w.detach())
    norms = torch.linalg.vector_norm(out[0], dim=1 - dim)
    assert torch.equal(norms == 0, torch.tensor([False] * 3 + [True] * (norms.numel() - 3)))
    torch.testing.assert_close(out[0], out[1], rtol=1e-12, atol=1e-15)


def _boom(*args, **kwargs):
    raise AssertionError("the optimizer's own step() ran")


@pytest.mark.parametrize("opt_cls", [torch.optim.SGD, *OTHER_OPTIONS, torch.optim.Adam, torch.optim.AdamW],
                         ids=lambda c: c.__name__)
def test_the_fused_path_replaces_the_optimizers_step_once_state_exists(opt_cls, monkeypatch):
    options = {"momentum": 0.9} if opt_cls in (torch.optim.SGD, torch.optim.RMSprop) else {}
    params, opt, _ = _make(opt_cls, options, L1(0.4), torch.float32, fuse=True)
    grads = _grads(torch.float32, 3)
    calls = []
    step = opt_cls.step
    monkeypatch.setattr(opt_cls, "step", lambda self, *a, **k: calls.append(1) or step(self, *a, **k))
    for k, p in params.items():
        p.grad = grads[0][k].clone()
    opt.step()
    # the first step makes the state: PyTorch's own (Adagrad makes it when it is built)
    assert calls == ([] if opt_cls is torch.optim.Adagrad else [1])
    monkeypatch.setattr(opt_cls, "step", _boom)
    for g in grads[1:]:
        for k, p in params.items():
            p.grad = g[k].clone()
        opt.step()
    state = opt.state[params["weight"]]
    assert int(state["step"]) == 3 if "step" in state else set(state) == {"momentum_buffer"}


def _ref_and_fused(make_opt, prepare=lambda opt: None, n_steps=4):
    """Run ``make_opt``'s optimizer, wrapped (fused allowed) and with ``fuse_step=False``; the
    parameters of both."""
    out = []
    for fuse in (True, False):
        params = _params(torch.float64)
        opt = Proximal(make_opt([{"params": [params["weight"], params["conv"]], "penalty": L1(0.3)},
                                 {"params": [params["bias"]]}]), fuse_step=fuse)
        prepare(opt)
        for g in _grads(torch.float64, n_steps):
            for k, p in params.items():
                p.grad = g[k].clone()
            opt.step()
        out.append(params)
    return out


class _MyAdam(torch.optim.Adam):
    pass


@pytest.mark.parametrize("case", ["subclass", "hook", "scheduler-on-inner", "fuse_step=False"])
def test_what_the_optimizers_step_must_see_gets_it(case, monkeypatch):
    calls, schedulers = [], []
    fused = _spy_fused_step(monkeypatch)

    def make(groups):
        return (_MyAdam if case == "subclass" else torch.optim.Adam)(groups, lr=0.05)

    def prepare(opt):
        inner = opt.optimizer
        if case == "hook":
            inner.register_step_post_hook(lambda *a: calls.append("hook"))
        elif case == "scheduler-on-inner":
            schedulers.append(torch.optim.lr_scheduler.ExponentialLR(inner, gamma=0.9))
        elif case == "fuse_step=False":
            opt.fuse_step = False

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got, ref = _ref_and_fused(make, prepare)
        for sched in schedulers:        # each saw its optimizer's step() called: no warning
            sched.step()
    for k in SHAPES:
        torch.testing.assert_close(got[k], ref[k], rtol=0, atol=0)     # the same code ran
    if case == "hook":
        assert calls.count("hook") == 8
    assert True not in fused


def _spy_fused_step(monkeypatch):
    """The list of what ``fused_step`` returns from now on."""
    returned = []
    real = _optim.fused_step
    monkeypatch.setattr(_optim, "fused_step", lambda inner: returned.append(real(inner)) or returned[-1])
    return returned


class _Subclass(torch.Tensor):
    pass


@pytest.mark.parametrize("kind", ["non-contiguous", "subclass", "negative-view grad"])
def test_a_parameter_the_kernel_cannot_take_sends_the_step_to_the_optimizer(kind, monkeypatch):
    fused = _spy_fused_step(monkeypatch)
    # the whole step is then PyTorch's
    base = torch.randn(5, 6, dtype=torch.float64)
    weight = torch.nn.Parameter(base.t() if kind == "non-contiguous" else
                                base.as_subclass(_Subclass) if kind == "subclass" else base)
    opt = Proximal(torch.optim.Adam([{"params": [weight], "penalty": L1(0.3)}], lr=0.05))
    reference = torch.nn.Parameter(weight.detach().clone())
    ref = Proximal(torch.optim.Adam([{"params": [reference], "penalty": L1(0.3)}], lr=0.05), fuse_step=False)
    for g in _grads(torch.float64, 3):
        grad = g["weight"] if kind == "non-contiguous" else g["weight"].t().contiguous()
        weight.grad = torch._neg_view(-grad) if kind == "negative-view grad" else grad.clone()
        reference.grad = grad.clone()
        opt.step()
        ref.step()
    torch.testing.assert_close(weight, reference, rtol=0, atol=0)
    assert fused == [False] * 3


def test_a_closure_is_evaluated_once_before_the_fused_update():
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(20, 5, generator=gen, dtype=torch.float64)
    y = torch.randn(20, generator=gen, dtype=torch.float64)
    results = []
    for fuse in (True, False):
        w = torch.nn.Parameter(torch.zeros(5, dtype=torch.float64))
        opt = Proximal(torch.optim.Adam([{"params": [w], "penalty": L1(0.05)}], lr=0.1), fuse_step=fuse)
        evaluations = []

        def closure(w=w, opt=opt, evaluations=evaluations):
            opt.zero_grad()
            loss = 0.5 * ((X @ w - y) ** 2).mean()
            loss.backward()
            evaluations.append(loss.item())
            return loss

        losses = [opt.step(closure).item() for _ in range(10)]
        assert len(evaluations) == 10 and losses == evaluations
        results.append(w.detach().clone())
    torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=1e-15)


def test_state_dict_round_trip_on_the_fused_path():
    grads = _grads(torch.float32, 6)
    params, opt, _ = _make(torch.optim.AdamW, {"amsgrad": True}, GroupLasso(0.5, dim=0), torch.float32, True)
    for i, g in enumerate(grads):
        if i == 3:      # a fresh wrapper from the saved state carries on
            saved = copy.deepcopy(opt.state_dict())    # (it holds the live state tensors)
            copies = {k: torch.nn.Parameter(p.detach().clone()) for k, p in params.items()}
            again = Proximal(torch.optim.AdamW(
                [{"params": [copies["weight"], copies["conv"]], "penalty": None},
                 {"params": [copies["bias"]]}], lr=1.0, amsgrad=True))
            again.load_state_dict(saved)
        for k, p in params.items():
            p.grad = g[k].clone()
        opt.step()
        if i >= 3:
            for k, p in copies.items():
                p.grad = g[k].clone()
            again.step()
    for k in SHAPES:
        torch.testing.assert_close(copies[k], params[k], rtol=0, atol=0)


SEVERAL_THREADS = """
import numba, torch
from shrinkage.penalties import L1, GroupLasso
from shrinkage.torch import Proximal
assert numba.config.NUMBA_NUM_THREADS == 2
torch.set_num_threads(2)
gen = torch.Generator().manual_seed(7)
w0 = torch.randn(1024, 1100, generator=gen) * torch.linspace(0.01, 0.1, 1024)[:, None]
grads = [torch.randn(1024, 1100, generator=gen) for _ in range(3)]
# (RMSprop's step is as large on every row: a steady drift, larger on later rows, keeps some alive)
drift = torch.linspace(0.0, 3.0, 1024)[:, None]
rmsprop = (torch.optim.RMSprop, {"momentum": 0.5, "centered": True})
cases = [(torch.optim.Adam, {}, L1(1.0), 0.0), (torch.optim.Adam, {}, GroupLasso(60.0, dim=0), 0.0),
         (*rmsprop, L1(0.6), drift), (*rmsprop, GroupLasso(30.0, dim=0), drift),
         (torch.optim.Adafactor, {}, L1(10.0), 0.0)]     # (its columns' sums: per thread, then added)
for opt_cls, options, penalty, shift in cases:
    out = []
    for fuse in (True, False):
        w = torch.nn.Parameter(w0.clone())
        opt = Proximal(opt_cls([{"params": [w], "penalty": penalty}], lr=0.01, **options), fuse_step=fuse)
        for g in grads:
            w.grad = g + shift
            opt.step()
        out.append(w.detach())
    zeros = float((out[0] == 0).float().mean())
    assert 0.05 < zeros < 0.95, zeros
    torch.testing.assert_close(out[0], out[1], rtol=2e-5, atol=1e-6)
    print(numba.get_num_threads(), zeros)
"""


def test_the_fused_kernels_on_several_threads():
    # a tensor past PARALLEL_MIN elements runs on torch.get_num_threads() numba threads (blocks
    # resp. rows in parallel, the Newton scratch per thread); the suite's numba has one thread
    # (conftest), so this runs in a process of its own with two
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", SEVERAL_THREADS], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert [line.split()[0] for line in out.stdout.splitlines()] == ["2"] * 5


def _one_tensor_runs(make_opt, seed, n_steps, scaled=True):
    """``(w, state)`` after ``n_steps`` steps of ``Proximal(make_opt([w]))`` on a 5x4 float64
    tensor, fused and with ``fuse_step=False`` (the same gradients, of mixed scales if ``scaled``)."""
    gen = torch.Generator().manual_seed(seed)
    w0 = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    scales = [10.0 ** float(k % 3 - 1) if scaled else 1.0 for k in range(n_steps)]
    grads = [torch.randn(5, 4, generator=gen, dtype=torch.float64) * c for c in scales]
    out = []
    for fuse in (True, False):
        w = torch.nn.Parameter(w0.clone())
        opt = Proximal(make_opt([w]), fuse_step=fuse)
        for g in grads:
            w.grad = g.clone()
            opt.step()
        out.append((w.detach(), opt.state[w]))
    return out


@settings(max_examples=40, deadline=None)
@given(lr=st.floats(1e-4, 0.5), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999),
       eps=st.floats(1e-10, 1e-2), wd=st.sampled_from([0.0, 1e-3, 0.3]), alpha=st.floats(0.0, 2.0),
       l1_ratio=st.sampled_from([1.0, 0.5, 0.0]), decoupled=st.booleans(), amsgrad=st.booleans(),
       group=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_step_property(lr, beta1, beta2, eps, wd, alpha, l1_ratio, decoupled, amsgrad, group, seed):
    # any hyperparameters: the fused float64 step equals PyTorch's step followed by the prox
    penalty = GroupLasso(alpha, dim=0) if group else ElasticNet(alpha, l1_ratio=l1_ratio)
    opt_cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    (got, _), (ref, _) = _one_tensor_runs(
        lambda params: opt_cls([{"params": params, "penalty": penalty}], lr=lr, betas=(beta1, beta2), eps=eps,
                               weight_decay=wd, amsgrad=amsgrad), seed, 4)
    torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(lr=st.floats(1e-4, 0.5), momentum=st.sampled_from([0.0, 0.5, 0.9]),
       dampening=st.sampled_from([0.0, 0.3]), nesterov=st.booleans(), wd=st.sampled_from([0.0, 1e-3, 0.3]),
       alpha=st.floats(0.0, 2.0),
       l1_ratio=st.sampled_from([1.0, 0.5, 0.0]), group=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_sgd_step_property(lr, momentum, dampening, nesterov, wd, alpha, l1_ratio, group, seed):
    nesterov = nesterov and momentum > 0 and dampening == 0      # (PyTorch's condition for Nesterov)
    penalty = GroupLasso(alpha, dim=0) if group else ElasticNet(alpha, l1_ratio=l1_ratio)
    (got, _), (ref, _) = _one_tensor_runs(
        lambda params: torch.optim.SGD([{"params": params, "penalty": penalty}], lr=lr, momentum=momentum,
                                       dampening=dampening, nesterov=nesterov, weight_decay=wd),
        seed, 4, scaled=False)
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-14)


_BETAS = st.tuples(st.floats(0.0, 0.99), st.floats(0.5, 0.9999))
_EPS = st.floats(1e-10, 1e-2)
_WD = st.sampled_from([0.0, 1e-3, 0.3])
_OTHER_STRATEGIES = {
    torch.optim.NAdam: st.fixed_dictionaries({
        "betas": _BETAS, "eps": _EPS, "weight_decay": _WD, "momentum_decay": st.floats(0.0, 0.01),
        "decoupled_weight_decay": st.booleans(), "maximize": st.booleans()}),
    torch.optim.RAdam: st.fixed_dictionaries({
        "betas": _BETAS, "eps": _EPS, "weight_decay": _WD, "decoupled_weight_decay": st.booleans(),
        "maximize": st.booleans()}),
    torch.optim.Adamax: st.fixed_dictionaries({
        "betas": _BETAS, "eps": _EPS, "weight_decay": _WD, "maximize": st.booleans()}),
    torch.optim.RMSprop: st.fixed_dictionaries({
        "alpha": st.floats(0.5, 0.999), "eps": _EPS, "weight_decay": _WD,
        "momentum": st.sampled_from([0.0, 0.5, 0.9]), "centered": st.booleans(), "maximize": st.booleans()}),
    torch.optim.Adagrad: st.fixed_dictionaries({
        "lr_decay": st.floats(0.0, 0.5), "eps": _EPS, "weight_decay": _WD,
        "initial_accumulator_value": st.floats(0.0, 1.0), "maximize": st.booleans()}),
    torch.optim.Adafactor: st.fixed_dictionaries({
        "beta2_decay": st.floats(-1.0, -0.1), "d": st.floats(1.0, 3.0), "weight_decay": _WD,
        "eps": st.tuples(st.sampled_from([None, 1e-30, 1e-3]), st.floats(1e-4, 1e-2)),
        "maximize": st.booleans()}),
}


@settings(max_examples=60, deadline=None)
@given(data=st.data(), opt_cls=st.sampled_from(list(_OTHER_STRATEGIES)), lr=st.floats(1e-4, 0.5),
       alpha=st.floats(0.0, 2.0), l1_ratio=st.sampled_from([1.0, 0.5, 0.0]), positive=st.booleans(),
       group=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_adaptive_step_property(data, opt_cls, lr, alpha, l1_ratio, positive, group, seed):
    # NAdam, RAdam (rectified from some step on, or never), Adamax, RMSprop, Adagrad, Adafactor with any
    # hyperparameters: the fused float64 step equals PyTorch's step followed by the prox
    options = data.draw(_OTHER_STRATEGIES[opt_cls])
    penalty = GroupLasso(alpha, dim=0) if group else ElasticNet(alpha, l1_ratio=l1_ratio, positive=positive)
    (got, got_state), (ref, ref_state) = _one_tensor_runs(
        lambda params: opt_cls([{"params": params, "penalty": penalty}], lr=lr, **options), seed, 8)
    torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12)
    for name in ref_state:
        torch.testing.assert_close(got_state[name], ref_state[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("opt_cls", "options"), [
    (torch.optim.SGD, {"momentum": 0.9}), (torch.optim.Adam, {}), (torch.optim.AdamW, {"amsgrad": True}),
    (torch.optim.Adagrad, {"lr_decay": 0.1})], ids=["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_step_equals_pytorchs_fused_kernel_then_the_prox(opt_cls, options, dtype, monkeypatch):
    # PyTorch's own one-pass CPU kernels (fused=True): the wrapper's fused step takes their place
    fused = _spy_fused_step(monkeypatch)
    options = {**options, "fused": True}
    got_params, got = _run(opt_cls, options, GroupLasso(0.8, dim=0), dtype, fuse=True)
    assert fused[1:] == [True] * 6
    ref_params, ref = _run(opt_cls, options, GroupLasso(0.8, dim=0), dtype, fuse=False)
    rtol, atol = (1e-12, 1e-14) if dtype == torch.float64 else (2e-5, 1e-6)
    for k in SHAPES:
        torch.testing.assert_close(got_params[k], ref_params[k], rtol=rtol, atol=atol)
        for name, value in ref.state[ref_params[k]].items():
            torch.testing.assert_close(got.state[got_params[k]][name], value, rtol=rtol, atol=atol)
