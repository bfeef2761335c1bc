"""What the proximal step costs: shrinkage.torch.Proximal on a 10M-parameter MLP, batch 256.

Usage::

    python benchmarks/bench_torch.py                # CPU (and CUDA when available), 15 repeats
    python benchmarks/bench_torch.py --repeats 5 --quick   # smoke test: a 1M-parameter MLP
    python benchmarks/bench_torch.py --optimizer RMSprop --optimizer Adagrad   # others (default: SGD, Adam)

Model: ``Linear(1024, 2048) - ReLU - Linear(2048, 2048) - ReLU - Linear(2048, 2048) - ReLU -
Linear(2048, 10)``, 10.5M parameters, float32, cross-entropy on random data (batch 256). The
penalty acts on the four weight matrices (10.5M of the parameters); the biases are unpenalized.

For each optimizer (by default SGD with momentum 0.9 and Adam; ``--optimizer`` adds AdamW, NAdam,
RAdam, Adamax, RMSprop, Adagrad, Adafactor, ASGD, Adadelta, with their default hyperparameters but
the learning rate) and
penalty (``L1``: soft-thresholding at ``lr alpha`` resp. at ``t_j alpha`` in the optimizer's
metric, Adam's ``t_j = lr / (sqrt(v_hat) + eps)``; ``GroupLasso(dim=0)`` over output neurons:
block soft-thresholding resp. Newton on the secular equation in that metric) it times,
interleaved in every repeat so that machine noise hits all alike:

- ``step``: the wrapped optimizer's own ``step()``;
- ``prox``: ``Proximal.apply_prox()`` alone (what the wrapper adds);
- ``train``: forward + backward + ``step()`` (no prox);
- ``Proximal.step``: the wrapper's ``step()`` — the update and the prox fused into one pass
  (``fuse_step``; on CPU numba, all eight optimizers; on CUDA one Triton launch per group, SGD,
  Adam, AdamW), elsewhere ``step`` then ``prox`` — and the same with the group's penalty taken
  away; their difference over ``train`` is what the penalty adds to a training step through the
  wrapper (paired within each repeat, then the median);
- ``fused=True step``: PyTorch's own one-pass kernel of the optimizer (``fused=True``: SGD, Adam,
  AdamW, Adagrad) over the same two groups, the fastest step PyTorch has, for scale;
- on CUDA (with Triton), ``unfused step``: ``Proximal.step`` with the fused launch switched off
  (``shrinkage.torch._fused.GPU = False``: PyTorch's step, then the prox as one launch per group),
  its penalty over ``train`` as above, and the training step through it as a whole: what fusing
  saves;
- ``train+prox``: forward + backward + ``Proximal.step()``, reported as ``(train+prox) / train - 1``:
  the training step through the wrapper against the one with the optimizer alone, measured as a
  whole (paired; negative where the fused step is faster than PyTorch's default step);
- ``loss term``: the peer, the same penalty as an autograd term (``penalty_loss``): forward +
  backward + step with the term, minus ``train``;
- ``with fused=True``: the training step with ``Proximal`` around PyTorch's ``fused=True``
  optimizer against that optimizer alone, ``(train+prox)/train - 1`` again (on CUDA Adam's step
  counts live on the GPU: the fused step's kernel reads them there, no wait per step).

Medians over the repeats; the ratios ``prox / step`` and ``prox / train`` are the numbers that
matter on a shared machine. Single-threaded on CPU (torch.set_num_threads(1), OMP etc. = 1). On
CUDA each timing is 20 calls queued back to back and synchronised once (per call: the total / 20),
so that launch latency overlaps the GPU's work as it does in training.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from shrinkage.penalties import L1, GroupLasso  # noqa: E402
from shrinkage.torch import Proximal, _fused, _prox, penalty_loss  # noqa: E402

CUDA_CALLS = 20     # calls per CUDA timing, queued back to back
OPTIMIZERS = {      # name -> (class, hyperparameters)
    "SGD": (torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    "Adam": (torch.optim.Adam, {"lr": 1e-4}),
    "AdamW": (torch.optim.AdamW, {"lr": 1e-4}),
    "NAdam": (torch.optim.NAdam, {"lr": 1e-4}),
    "RAdam": (torch.optim.RAdam, {"lr": 1e-4}),
    "Adamax": (torch.optim.Adamax, {"lr": 1e-4}),
    "RMSprop": (torch.optim.RMSprop, {"lr": 1e-4}),
    "Adagrad": (torch.optim.Adagrad, {"lr": 1e-3}),
    # (no fused step: PyTorch's step, then the prox as a pass of its own)
    "Adafactor": (torch.optim.Adafactor, {"lr": 1e-2}),
    "ASGD": (torch.optim.ASGD, {"lr": 1e-3}),
    "Adadelta": (torch.optim.Adadelta, {"lr": 1.0}),
}
FUSED = ("SGD", "Adam", "AdamW", "Adagrad")     # the ones with a PyTorch fused=True kernel


def make_optimizer(name, params, **options):
    cls, hyper = OPTIMIZERS[name]
    return cls(params, **hyper, **options)


def make_model(widths, device):
    layers = []
    for a, b in itertools.pairwise(widths):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1]).to(device)


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, calls):
    """Seconds per call of ``fn``, over ``calls`` calls in a row. On CUDA the calls are queued
    back to back and synchronised once, so that a call's time is what it adds to a stream of
    training steps (launches overlap the GPU's work), not one synchronisation's latency."""
    sync(device)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    sync(device)
    return (time.perf_counter() - start) / calls


def bench(device, widths, batch, repeats, optimizer_name, penalty):
    torch.manual_seed(0)
    model = make_model(widths, device)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    biases = [m.bias for m in model if isinstance(m, torch.nn.Linear)]
    groups = [{"params": weights, "penalty": penalty}, {"params": biases}]
    inner = make_optimizer(optimizer_name, groups)
    opt = Proximal(inner)
    x = torch.randn(batch, widths[0], device=device)
    y = torch.randint(0, widths[-1], (batch,), device=device)

    def forward_backward(term=False):
        inner.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        if term:
            loss = loss + penalty_loss(weights, penalty)
        loss.backward()

    def train():
        forward_backward()
        inner.step()

    def train_with_term():
        forward_backward(term=True)
        inner.step()

    def train_with_prox():
        forward_backward()
        opt.step()

    def proximal_step_without_penalty():
        groups[0]["penalty"] = None
        try:
            opt.step()
        finally:
            groups[0]["penalty"] = penalty

    def unfused(fn):
        # fn with the CUDA update + prox launch (shrinkage.torch._fused_gpu) switched off
        def run():
            _fused.GPU = False
            try:
                fn()
            finally:
                _fused.GPU = True
        return run

    # PyTorch's one-pass kernel of the same optimizer over the same parameters in the same two
    # groups (its own state), alone and inside Proximal
    has_fused = optimizer_name in FUSED
    torch_fused = (make_optimizer(optimizer_name, [{"params": weights}, {"params": biases}], fused=True)
                   if has_fused else None)
    opt_fused = (Proximal(make_optimizer(optimizer_name, [{"params": weights, "penalty": penalty},
                                                          {"params": biases}], fused=True))
                 if has_fused else None)

    def train_fused():
        forward_backward()
        torch_fused.step()

    def train_fused_with_prox():
        forward_backward()
        opt_fused.step()
    with_triton = device == "cuda" and _prox._triton() is not None and _fused.GPU

    for _ in range(3):      # warm-up: optimizer state, allocator, Newton's path, Triton's compilation
        forward_backward()
        opt.step()
        proximal_step_without_penalty()
        if has_fused:
            torch_fused.step()
            opt_fused.step()
        if with_triton:
            unfused(opt.step)()
            unfused(proximal_step_without_penalty)()
    calls = CUDA_CALLS if device == "cuda" else 1
    rows = {k: [] for k in ("step", "prox", "train", "train_prox", "train_term", "proximal", "proximal_free",
                            "torch_fused", "unfused", "unfused_free", "train_unfused", "train_fused",
                            "train_fused_prox")}
    for _ in range(repeats):
        forward_backward()
        rows["step"].append(timed(inner.step, device, calls))
        rows["prox"].append(timed(opt.apply_prox, device, calls))
        rows["proximal"].append(timed(opt.step, device, calls))
        rows["proximal_free"].append(timed(proximal_step_without_penalty, device, calls))
        if has_fused:
            rows["torch_fused"].append(timed(torch_fused.step, device, calls))
        if with_triton:
            rows["unfused"].append(timed(unfused(opt.step), device, calls))
            rows["unfused_free"].append(timed(unfused(proximal_step_without_penalty), device, calls))
        rows["train"].append(timed(train, device, calls))
        rows["train_prox"].append(timed(train_with_prox, device, calls))
        if with_triton:
            rows["train_unfused"].append(timed(unfused(train_with_prox), device, calls))
        rows["train_term"].append(timed(train_with_term, device, calls))
        if has_fused:
            rows["train_fused"].append(timed(train_fused, device, calls))
            rows["train_fused_prox"].append(timed(train_fused_with_prox, device, calls))
    med = {k: statistics.median(v) if v else None for k, v in rows.items()}

    def paired(numerator, base, over):
        # the median over repeats of each repeat's own (numerator - base) / over
        if not rows[numerator]:
            return None
        return statistics.median((a - b) / t for a, b, t in zip(rows[numerator], rows[base], rows[over],
                                                                   strict=True))

    n_params = sum(p.numel() for p in model.parameters())
    return {
        "device": device, "optimizer": optimizer_name, "penalty": repr(penalty), "n_params": n_params,
        "batch": batch, "repeats": repeats,
        "median_s": med,
        "prox_over_step": med["prox"] / med["step"],
        "prox_over_train": med["prox"] / med["train"],
        "penalty_in_proximal_step_over_train": paired("proximal", "proximal_free", "train"),
        # paired: the difference within each repeat, then the median (drift between repeats cancels)
        "proximal_step_over_train": paired("train_prox", "train", "train"),
        "penalty_in_unfused_step_over_train": paired("unfused", "unfused_free", "train"),
        "unfused_step_over_train": paired("train_unfused", "train", "train"),
        "loss_term_over_train": (med["train_term"] - med["train"]) / med["train"],
        "fused_optimizer_proximal_step_over_train": paired("train_fused_prox", "train_fused", "train_fused"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a 1M-parameter model")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--device", choices=("cpu", "cuda"), action="append",
                        help="device(s) to run on (default: CPU, and CUDA when available)")
    parser.add_argument("--penalty", choices=("L1", "GroupLasso"), action="append",
                        help="penalties to time (default: both)")
    parser.add_argument("--optimizer", choices=tuple(OPTIMIZERS), action="append",
                        help="optimizers to time (default: SGD and Adam)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    widths = (256, 512, 512, 1024, 10) if args.quick else (1024, 2048, 2048, 2048, 10)
    devices = args.device or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = []
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} thread(s); CUDA available: {torch.cuda.is_available()}")
    print("| device | optimizer | penalty | step ms | prox ms | train ms | prox/step | prox/train "
          "| Proximal.step ms | its penalty/train | fused=True step ms | (train+prox)/train - 1 "
          "| loss term/train | unfused step ms | its penalty/train | (train+unfused step)/train - 1 "
          "| with fused=True: (train+prox)/train - 1 |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def percent(x):
        return "—" if x is None else f"{100 * x:.1f}%"

    for device in devices:
        for optimizer_name in args.optimizer or ("SGD", "Adam"):
            for penalty in [p for p in (L1(1e-4), GroupLasso(1e-4, dim=0))
                            if args.penalty is None or type(p).__name__ in args.penalty]:
                r = bench(device, widths, 256, args.repeats, optimizer_name, penalty)
                results.append(r)
                m = r["median_s"]
                digits = 3 if device == "cuda" else 1
                step, prox, train, proximal, torch_fused, unfused = (
                    "—" if m[k] is None else f"{1e3 * m[k]:.{digits}f}"
                    for k in ("step", "prox", "train", "proximal", "torch_fused", "unfused"))
                print(f"| {device} | {optimizer_name} | {r['penalty']} | {step} | {prox} | {train} | "
                      f"{r['prox_over_step']:.2f} | {percent(r['prox_over_train'])} | {proximal} | "
                      f"{percent(r['penalty_in_proximal_step_over_train'])} | {torch_fused} | "
                      f"{percent(r['proximal_step_over_train'])} | {percent(r['loss_term_over_train'])} | "
                      f"{unfused} | {percent(r['penalty_in_unfused_step_over_train'])} | "
                      f"{percent(r['unfused_step_over_train'])} | "
                      f"{percent(r['fused_optimizer_proximal_step_over_train'])} |",
                      flush=True)
    print(f"parameters: {results[0]['n_params']:,}, batch 256, medians of {args.repeats} repeats")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
