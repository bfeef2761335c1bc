"""The Triton kernels of ``shrinkage.torch._triton`` compile for a GPU, on a machine without one.

Triton compiles ahead of time for a named target (MLIR to PTX, then NVIDIA's ``ptxas``, shipped
with Triton): a kernel that does not type-check, or a loop whose variables change type, fails here
rather than at a user's first step. Every variant the launches use is compiled for sm_90
(H100/H200), in float32 and float64 (the prox alone also in float16 and bfloat16), and the
per-tensor prox kernels too; the float32 Adam update is checked to use correctly rounded
square roots and divisions (as PyTorch's kernels; Triton's defaults are approximate), and the
fused group kernels to have the barrier between a group's update and its prox. Skipped where
Triton does not import (PyTorch's CPU builds, CI); ``tests/test_torch_cuda.py`` runs the kernels.
"""

import inspect
import itertools
import re

import pytest

pytest.importorskip("torch")
triton = pytest.importorskip("triton")

try:
    import triton.language as tl
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from shrinkage.torch import _triton as kernels
except ImportError as exc:     # another Triton version's layout
    pytest.skip(f"Triton's ahead-of-time compiler is not importable: {exc}", allow_module_level=True)

TARGET = GPUTarget("cuda", 90, 32)
_POINTERS = {"tensor_of_block": "*i32", "tensor_of_group": "*i32", "lam_ptr": "*fp64"}


# the per-tensor kernels' arguments: the tensors' own pointers, per-feature and per-group
# strengths float64, sizes and strides int64 numbers
_DATA = {"w_ptr", "v_ptr"}
_NUMBERS = {"n", "width", "stride_group", "stride_elem"}
_SHORT = {tl.float16: "fp16", tl.bfloat16: "bf16", tl.float32: "fp32", tl.float64: "fp64"}


def _signature(fn, constexprs, data):
    """Argument types as the launches pass them: tables and layouts int64 pointers (the tensor
    index int32), float64 numbers; the per-tensor kernels' data pointers of type ``data``."""
    signature = {}
    for name, param in inspect.signature(fn.fn).parameters.items():
        if name in constexprs:
            signature[name] = "constexpr"
        elif param.annotation == tl.float64:
            signature[name] = "fp64"
        elif name in _DATA:
            signature[name] = "*" + _SHORT[data]
        elif name in _NUMBERS:
            signature[name] = "i64"
        elif name in ("l1_ptr", "l2_ptr"):
            signature[name] = "*fp64"
        else:
            signature[name] = _POINTERS.get(name, "*i64")
    return signature


def _compile(fn, data=None, **constexprs):
    names = list(inspect.signature(fn.fn).parameters)
    source = ASTSource(fn=fn, signature=_signature(fn, constexprs, data),
                       constexprs={(names.index(k),): v for k, v in constexprs.items()})
    return triton.compile(source, target=TARGET)


def _variants():
    for dtype in (tl.float32, tl.float64):
        kinds = {"DTYPE": dtype, "COMPUTE": dtype}
        for momentum, nesterov in ((False, False), (True, False), (True, True)):
            for kind in (0, 1, 2):
                for shrink in (False, True):
                    yield "_sgd_many_kernel", {**kinds, "MOMENTUM": momentum, "NESTEROV": nesterov,
                                               "KIND": kind, "SHRINK": shrink, "BLOCK": 1024}
            yield "_sgd_group_many_kernel", {**kinds, "MOMENTUM": momentum, "NESTEROV": nesterov,
                                             "BLOCK": 1024}
        # (step counts from the host, or read on the device: fused=True Adam's, float32)
        for amsgrad, counts in itertools.product((False, True), (None, tl.float32)):
            steps = {"STEP_ON_DEVICE": counts is not None, "STEP_DTYPE": counts or tl.float32}
            for kind in (0, 1, 2):
                for shrink in (False, True):
                    yield "_adam_many_kernel", {**kinds, **steps, "AMSGRAD": amsgrad, "KIND": kind,
                                                "SHRINK": shrink, "BLOCK": 1024}
            yield "_adam_group_many_kernel", {**kinds, **steps, "AMSGRAD": amsgrad, "MAX_NEWTON": 50,
                                              "BLOCK": 256}
    # the prox alone: planned (one launch per group) and per tensor; half precision computed in
    # float32, as ``_triton._compute_dtype`` picks
    for dtype in (tl.float32, tl.float64, tl.float16, tl.bfloat16):
        compute = tl.float64 if dtype == tl.float64 else tl.float32
        # (Adam's step counts read on the GPU — fused/capturable Adam — with a metric only)
        for metric, counts in ((False, None), (True, None), (True, tl.float32), (True, tl.float64)):
            common = {"DTYPE": dtype, "COMPUTE": compute, "METRIC": metric, "ROOT": True,
                      "STEP_ON_DEVICE": counts is not None, "STEP_DTYPE": counts or tl.float32}
            yield "_enet_many_kernel", {**common, "POSITIVE": False, "BLOCK": 1024}
            yield "_group_many_kernel", {**common, "MAX_NEWTON": 50, "BLOCK": 256}
        for metric in (False, True):
            yield "_group_kernel", {"data": dtype, "SIZE": 300, "METRIC": metric, "ROOT": True,
                                    "MAX_NEWTON": 50, "COMPUTE": compute, "BLOCK": 256}
        for per_feature in (False, True):
            yield "_enet_metric_kernel", {"data": dtype, "ROOT": True, "PER_FEATURE": per_feature,
                                          "POSITIVE": per_feature, "COMPUTE": compute, "BLOCK": 1024}


VARIANTS = list(_variants())


@pytest.mark.parametrize(("name", "constexprs"), VARIANTS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)])
def test_every_kernel_variant_compiles_for_sm90(name, constexprs):
    compiled = _compile(getattr(kernels, name), **constexprs)
    ptx = compiled.asm["ptx"]
    assert compiled.asm["cubin"]
    if "group_many" in name and name != "_group_many_kernel":
        assert "bar.sync" in ptx            # the group's update is visible to the whole program
    if name.startswith("_adam") and constexprs["DTYPE"] == tl.float32:
        ops = set(re.findall(r"\b(?:sqrt|div)\.[a-z0-9.]+", ptx))
        assert {"sqrt.rn.f32", "div.rn.f32"} <= ops
