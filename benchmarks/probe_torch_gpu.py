"""Where a GPU training step's time goes with shrinkage.torch.Proximal (CUDA only; diagnostics).

Usage::

    python benchmarks/probe_torch_gpu.py

Same network as ``bench_torch.py`` (1024-2048-2048-2048-10, float32, batch 256, the penalty on
the weights, biases in a group of their own). Two probes:

1. **Host, wall and GPU time per call** of each piece (forward + backward, the optimizer's
   ``step()``, ``Proximal.step`` with the fused launch on and off, whole training steps), over
   100 calls queued back to back: host time from a timer around the loop before synchronising,
   wall time after it, GPU time from CUDA events. Where the three agree the step is bound by the
   host (every microsecond of Python is wall time); where GPU time is larger, by the GPU.
2. **Plans made and address tables uploaded per training step** by the fused step
   (``shrinkage.torch._fused_gpu``): both should happen only while warming up; a table uploaded
   every step means the gradients moved to new addresses (each upload is host time).

Not a benchmark to quote: single runs, no pairing. ``bench_torch.py`` gives the numbers.
"""

import itertools
import time

import torch

from shrinkage.penalties import L1, GroupLasso
from shrinkage.torch import Proximal, _fused, _fused_gpu, _prox

WIDTHS = (1024, 2048, 2048, 2048, 10)
DEVICE = "cuda"
OPTIMIZERS = {
    "SGD": lambda g: torch.optim.SGD(g, lr=1e-3, momentum=0.9),
    "Adam": lambda g: torch.optim.Adam(g, lr=1e-4),
    "SGD fused=True": lambda g: torch.optim.SGD(g, lr=1e-3, momentum=0.9, fused=True),
    "Adam fused=True": lambda g: torch.optim.Adam(g, lr=1e-4, fused=True),
}


def network(penalty, make):
    layers = []
    for a, b in itertools.pairwise(WIDTHS):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1]).to(DEVICE)
    weights = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
    biases = [m.bias for m in net if isinstance(m, torch.nn.Linear)]
    opt = Proximal(make([{"params": weights, "penalty": penalty}, {"params": biases}]))
    x = torch.randn(256, WIDTHS[0], device=DEVICE)
    y = torch.randint(0, WIDTHS[-1], (256,), device=DEVICE)

    def forward_backward():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(x), y).backward()

    return opt, forward_backward


def per_call_us(fn, n=100):
    """(host, wall, GPU) microseconds per call of ``fn`` over ``n`` calls queued back to back."""
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    t0 = time.perf_counter()
    start.record()
    for _ in range(n):
        fn()
    host = (time.perf_counter() - t0) / n
    end.record()
    torch.cuda.synchronize()
    wall = (time.perf_counter() - t0) / n
    return host * 1e6, wall * 1e6, start.elapsed_time(end) * 1e3 / n


def time_the_pieces(name, make, penalty):
    opt, forward_backward = network(penalty, make)
    forward_backward()
    opt.step()

    def train_with_proximal():
        forward_backward()
        opt.step()

    def train_alone():
        forward_backward()
        opt.optimizer.step()

    rows = {"forward + backward": per_call_us(forward_backward),
            f"{name} step()": per_call_us(opt.optimizer.step)}
    for fused in (True, False):
        _fused.GPU = fused
        tag = "fused" if fused else "unfused"
        rows[f"Proximal.step, {tag}"] = per_call_us(opt.step)
        rows[f"train, Proximal {tag}"] = per_call_us(train_with_proximal)
    _fused.GPU = True
    rows[f"train, {name} alone"] = per_call_us(train_alone)
    print(f"== {name}, {penalty!r}: host | wall | GPU, us per call")
    for piece, (host, wall, gpu) in rows.items():
        print(f"   {piece:34s} {host:8.1f} {wall:8.1f} {gpu:8.1f}")


def count_plans_and_uploads(kernels, steps=60, warm=10):
    counts = {"plans": 0, "uploads": 0}
    make_plan, upload = _fused_gpu._make_plan, kernels._upload

    def counted_plan(optimizer):
        counts["plans"] += 1
        return make_plan(optimizer)

    def counted_upload(*args, **kwargs):
        counts["uploads"] += 1
        return upload(*args, **kwargs)

    _fused_gpu._make_plan, kernels._upload = counted_plan, counted_upload
    try:
        for name, make in OPTIMIZERS.items():
            opt, forward_backward = network(L1(1e-4), make)
            for k in range(steps):
                if k == warm:
                    before = dict(counts)
                forward_backward()
                opt.step()
            torch.cuda.synchronize()
            print(f"{name}: in training steps {warm}-{steps - 1}, plans made "
                  f"{counts['plans'] - before['plans']}, address tables uploaded "
                  f"{counts['uploads'] - before['uploads']}")
    finally:
        _fused_gpu._make_plan, kernels._upload = make_plan, upload


def main():
    kernels = _prox._triton()
    if not torch.cuda.is_available() or kernels is None:
        raise SystemExit("probe_torch_gpu.py needs a CUDA device and Triton")
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    for name, make in OPTIMIZERS.items():
        for penalty in (L1(1e-4), GroupLasso(1e-4, dim=0)):
            time_the_pieces(name, make, penalty)
    count_plans_and_uploads(kernels)


if __name__ == "__main__":
    main()
