"""The proximal steps of :mod:`shrinkage.torch._prox` as Triton kernels, for CUDA tensors.

On a GPU a training step of a mid-sized network takes about a millisecond, and the tensor-operation
prox in Adam's metric (five element-wise kernels, each a pass over memory) or the group prox
(Newton's iterations as dozens of small kernels) costs a sizeable share of it. Here each prox is
one kernel: the separable one reads the weights and the optimizer's second moments once and writes
the weights once; the group one runs one program per group, whose Newton iterations re-read the
group from cache. The formulas are those of ``_prox`` (and of ``shrinkage._kernels.prox_metric``,
their CPU kernels); ``tests/test_torch_cuda.py`` checks a CUDA run against a CPU run.

Used only for CUDA tensors and only when Triton imports (it ships with PyTorch's CUDA builds);
scalars are passed in float64 and the arithmetic runs in float64 for float64 tensors, in float32
otherwise.
"""

import torch
import triton
import triton.language as tl

_BLOCK = 1024
_GROUP_BLOCK = 1024
_MAX_NEWTON = 50


@triton.jit
def _soft_threshold(z, threshold, POSITIVE: tl.constexpr):
    if POSITIVE:
        out = tl.maximum(z - threshold, 0.0)
    else:
        out = tl.where(z > threshold, z - threshold, tl.where(z < -threshold, z + threshold, 0.0))
    return out


@triton.jit
def _denominator(v, eps, ROOT: tl.constexpr, COMPUTE: tl.constexpr):
    # Adam's d = sqrt(v) + eps from its second moment (ROOT), or v + eps from a state that is one
    if ROOT:
        d = tl.sqrt(v) + tl.cast(eps, COMPUTE)
    else:
        d = v + tl.cast(eps, COMPUTE)
    return d


@triton.jit
def _enet_metric_kernel(w_ptr, v_ptr, l1_ptr, l2_ptr, n, width, scale: tl.float64, eps: tl.float64,
                        l1: tl.float64, l2: tl.float64, ROOT: tl.constexpr, PER_FEATURE: tl.constexpr,
                        POSITIVE: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    # w <- S(w, t l1) / (1 + t l2), t = scale / d, d = sqrt(v) + eps (ROOT) or v + eps
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    w = tl.load(w_ptr + offs, mask=mask, other=0.0).to(COMPUTE)
    v = tl.load(v_ptr + offs, mask=mask, other=1.0).to(COMPUTE)
    d = _denominator(v, eps, ROOT, COMPUTE)
    if PER_FEATURE:
        col = offs % width
        a = tl.load(l1_ptr + col, mask=mask, other=0.0).to(COMPUTE)
        b = tl.load(l2_ptr + col, mask=mask, other=0.0).to(COMPUTE)
    else:
        a = tl.cast(l1, COMPUTE)
        b = tl.cast(l2, COMPUTE)
    t = tl.cast(scale, COMPUTE) / d
    x = _soft_threshold(w, t * a, POSITIVE) / (1.0 + t * b)
    tl.store(w_ptr + offs, x.to(w_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _enet_many_kernel(w_table, v_table, tensor_of_block, start_of_block, sizes, scale: tl.float64,
                      eps: tl.float64, l1: tl.float64, l2: tl.float64, METRIC: tl.constexpr,
                      ROOT: tl.constexpr, POSITIVE: tl.constexpr, DTYPE: tl.constexpr, COMPUTE: tl.constexpr,
                      BLOCK: tl.constexpr):
    # _enet_metric_kernel over several tensors in one launch: program p works on block
    # start_of_block[p] of tensor tensor_of_block[p], whose addresses are in the two tables; without
    # METRIC the step is the number scale (and v_table is not read)
    pid = tl.program_id(0)
    k = tl.load(tensor_of_block + pid)
    offs = tl.load(start_of_block + pid) + tl.arange(0, BLOCK)
    mask = offs < tl.load(sizes + k)
    w_ptr = tl.load(w_table + k).to(tl.pointer_type(DTYPE))
    w = tl.load(w_ptr + offs, mask=mask, other=0.0).to(COMPUTE)
    if METRIC:
        v_ptr = tl.load(v_table + k).to(tl.pointer_type(DTYPE))
        v = tl.load(v_ptr + offs, mask=mask, other=1.0).to(COMPUTE)
        t = tl.cast(scale, COMPUTE) / _denominator(v, eps, ROOT, COMPUTE)
    else:
        t = tl.cast(scale, COMPUTE)
    x = _soft_threshold(w, t * tl.cast(l1, COMPUTE), POSITIVE) / (1.0 + t * tl.cast(l2, COMPUTE))
    tl.store(w_ptr + offs, x.to(DTYPE), mask=mask)


@triton.jit
def _group_row(w_ptr, v_ptr, base, size, stride_elem, bound, eps, tol, METRIC: tl.constexpr,
               ROOT: tl.constexpr, MAX_NEWTON: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    # The prox of one group, in place: the elements base + j stride_elem, j < size, of w (and of the
    # optimizer's state v with a metric), bound = scale lam_g. Scalar step (METRIC false, scale = the
    # step): block soft-thresholding. Metric t_j = scale / d_j: x = 0 iff ||v d|| <= scale lam, else
    # x_j = v_j r / (r + c_j) with c_j = t_j lam and r the root of ||v / (r + c)|| = 1 (Newton from
    # below; see _prox).
    zero = tl.zeros([BLOCK], dtype=COMPUTE)
    acc_norm = zero
    acc_scaled = zero
    acc_weighted = zero
    for start in range(0, size, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        mask = offs < size
        v = tl.load(w_ptr + base + offs * stride_elem, mask=mask, other=0.0).to(COMPUTE)
        acc_norm += v * v
        if METRIC:
            s = tl.load(v_ptr + base + offs * stride_elem, mask=mask, other=1.0).to(COMPUTE)
            d = _denominator(s, eps, ROOT, COMPUTE)
            acc_scaled += (v * d) * (v * d)
            acc_weighted += v * v * (bound / d)
    norm2 = tl.sum(acc_norm, axis=0)
    if METRIC:
        alive = tl.sqrt(tl.sum(acc_scaled, axis=0)) > bound
        r = tl.maximum(tl.sqrt(norm2) - tl.sum(acc_weighted, axis=0) / norm2, 0.0)
        r = tl.where(alive, r, 0.0)
        it = 0
        going = alive
        while going:
            acc_y2 = zero
            acc_slope = zero
            for start in range(0, size, BLOCK):
                offs = start + tl.arange(0, BLOCK)
                mask = offs < size
                v = tl.load(w_ptr + base + offs * stride_elem, mask=mask, other=0.0).to(COMPUTE)
                s = tl.load(v_ptr + base + offs * stride_elem, mask=mask, other=1.0).to(COMPUTE)
                d = _denominator(s, eps, ROOT, COMPUTE)
                shifted = r + bound / d
                y2 = (v / shifted) * (v / shifted)
                acc_y2 += y2
                acc_slope += y2 / shifted
            y2_sum = tl.sum(acc_y2, axis=0)
            slope = tl.sum(acc_slope, axis=0)
            below = y2_sum > 1.0
            new = tl.where(below, r + (y2_sum * tl.sqrt(y2_sum) - y2_sum) / slope, r)
            moved = new - r
            r = new
            it += 1
            going = below & (moved > tol * tl.abs(new)) & (it < MAX_NEWTON)
    else:
        norm = tl.sqrt(norm2)
        alive = norm > bound
        factor = tl.where(alive, 1.0 - bound / norm, 0.0)
    for start in range(0, size, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        mask = offs < size
        ptrs = w_ptr + base + offs * stride_elem
        v = tl.load(ptrs, mask=mask, other=0.0).to(COMPUTE)
        if METRIC:
            s = tl.load(v_ptr + base + offs * stride_elem, mask=mask, other=1.0).to(COMPUTE)
            d = _denominator(s, eps, ROOT, COMPUTE)
            x = tl.where(alive, v * (r / (r + bound / d)), 0.0)
        else:
            x = v * factor
        tl.store(ptrs, x.to(w_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _group_kernel(w_ptr, v_ptr, lam_ptr, SIZE: tl.constexpr, stride_group, stride_elem, scale: tl.float64,
                  eps: tl.float64, tol: tl.float64, METRIC: tl.constexpr, ROOT: tl.constexpr,
                  MAX_NEWTON: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    # one program per group g (a row of the strided 2-D view)
    g = tl.program_id(0).to(tl.int64)
    bound = tl.cast(scale, COMPUTE) * tl.load(lam_ptr + g).to(COMPUTE)
    _group_row(w_ptr, v_ptr, g * stride_group, SIZE, stride_elem, bound, tl.cast(eps, COMPUTE),
               tl.cast(tol, COMPUTE), METRIC, ROOT, MAX_NEWTON, COMPUTE, BLOCK)


@triton.jit
def _group_many_kernel(w_table, v_table, tensor_of_group, row_of_group, sizes, strides_group, strides_elem,
                       lam_ptr, scale: tl.float64, eps: tl.float64, tol: tl.float64, METRIC: tl.constexpr,
                       ROOT: tl.constexpr, MAX_NEWTON: tl.constexpr, DTYPE: tl.constexpr,
                       COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    # _group_kernel over the groups of several tensors in one launch: program p works on row
    # row_of_group[p] of tensor tensor_of_group[p] (addresses in the tables; sizes and strides
    # per tensor), with strength lam_ptr[p]
    p = tl.program_id(0)
    k = tl.load(tensor_of_group + p)
    w_ptr = tl.load(w_table + k).to(tl.pointer_type(DTYPE))
    v_ptr = tl.load(v_table + k).to(tl.pointer_type(DTYPE))
    base = tl.load(row_of_group + p) * tl.load(strides_group + k)
    bound = tl.cast(scale, COMPUTE) * tl.load(lam_ptr + p).to(COMPUTE)
    _group_row(w_ptr, v_ptr, base, tl.load(sizes + k), tl.load(strides_elem + k), bound,
               tl.cast(eps, COMPUTE), tl.cast(tol, COMPUTE), METRIC, ROOT, MAX_NEWTON, COMPUTE, BLOCK)


def _compute_dtype(tensor):
    return tl.float64 if tensor.dtype == torch.float64 else tl.float32


def enet_metric_(param, denom, scale, eps, root, l1, l2, positive):
    """In place, ``param`` and ``denom`` contiguous CUDA tensors of one shape; ``l1, l2`` numbers or
    float64 tensors of length ``param.shape[-1]`` on the same device."""
    n = param.numel()
    per_feature = isinstance(l1, torch.Tensor)
    width = param.shape[-1] if param.dim() else 1
    a, b = (l1, l2) if per_feature else (param, param)      # unused pointers when scalar
    _enet_metric_kernel[(triton.cdiv(n, _BLOCK),)](
        param, denom, a, b, n, width, scale, eps, 0.0 if per_feature else l1, 0.0 if per_feature else l2,
        ROOT=root, PER_FEATURE=per_feature, POSITIVE=positive, COMPUTE=_compute_dtype(param),
        BLOCK=_BLOCK)
    return param


_TL_TYPES = {torch.float32: tl.float32, torch.float64: tl.float64, torch.float16: tl.float16,
             torch.bfloat16: tl.bfloat16}
# tables of the tensor lists seen, keyed by their addresses, shapes and strides (a network's
# parameters and optimizer state stay in place from step to step, so a table is built once, with
# one copy to the device, and reused)
_TABLES = {}


def _cached_table(key, build):
    table = _TABLES.get(key)
    if table is None:
        if len(_TABLES) > 64:
            _TABLES.clear()
        table = _TABLES[key] = build()
    return table


def _block_table(params, denoms):
    # denoms: the optimizer's state, tensors of the params' shapes, or None (no metric)
    sources = params if denoms is None else denoms

    def build():
        device = params[0].device
        blocks = [triton.cdiv(p.numel(), _BLOCK) for p in params]
        tensor_of_block = torch.repeat_interleave(torch.arange(len(params)), torch.tensor(blocks))
        first_block = torch.cumsum(torch.tensor([0, *blocks[:-1]]), 0)
        start_of_block = (torch.arange(len(tensor_of_block)) - first_block[tensor_of_block]) * _BLOCK
        return tuple(t.to(device) for t in (
            torch.tensor([p.data_ptr() for p in params], dtype=torch.int64),
            torch.tensor([v.data_ptr() for v in sources], dtype=torch.int64),
            tensor_of_block.to(torch.int32), start_of_block.to(torch.int64),
            torch.tensor([p.numel() for p in params], dtype=torch.int64)))

    key = ("blocks", *((p.data_ptr(), v.data_ptr(), p.numel()) for p, v in zip(params, sources, strict=True)))
    return _cached_table(key, build)


def _row_table(rows, denoms):
    # rows: (n_groups, size) strided views; denoms: views with the same shapes and strides, or None
    def build():
        device = rows[0].device
        counts = torch.tensor([r.shape[0] for r in rows])
        return tuple(t.to(device) for t in (
            torch.tensor([r.data_ptr() for r in rows], dtype=torch.int64),
            torch.tensor([v.data_ptr() for v in sources], dtype=torch.int64),
            torch.repeat_interleave(torch.arange(len(rows)), counts).to(torch.int32),
            torch.cat([torch.arange(n) for n in counts.tolist()]).to(torch.int64),
            torch.tensor([r.shape[1] for r in rows], dtype=torch.int64),
            torch.tensor([r.stride(0) for r in rows], dtype=torch.int64),
            torch.tensor([r.stride(1) for r in rows], dtype=torch.int64)))

    sources = rows if denoms is None else denoms
    key = ("rows", *((r.data_ptr(), v.data_ptr(), *r.shape, *r.stride())
                     for r, v in zip(rows, sources, strict=True)))
    return _cached_table(key, build)


class Launch:
    """A kernel launch planned once and repeated with a new step size ``(scale, eps)``: the
    tensors' tables, the grid and the other arguments are made once, when the plan is made."""

    __slots__ = ("_args", "_kernel", "grid")

    def __init__(self, kernel, grid, **args):
        self._kernel = kernel
        self.grid = (grid,)
        self._args = args

    def __call__(self, scale, eps):
        self._kernel[self.grid](scale=float(scale), eps=float(eps), **self._args)


def plan_enet_many(params, denoms, root, l1, l2, positive):
    """A :class:`Launch` of the separable prox on a list of contiguous CUDA tensors of one dtype
    (their addresses fixed), called with ``(scale, eps)``: in Adam's metric as :func:`enet_metric_`
    (``denoms`` the optimizer's state, of the same dtype and shapes), or with the scalar step
    ``scale`` (``denoms`` None, ``eps`` unused); ``l1, l2`` numbers."""
    w_table, v_table, tensor_of_block, start_of_block, sizes = _block_table(params, denoms)
    return Launch(_enet_many_kernel, tensor_of_block.numel(), w_table=w_table, v_table=v_table,
                  tensor_of_block=tensor_of_block, start_of_block=start_of_block, sizes=sizes,
                  l1=float(l1), l2=float(l2), METRIC=denoms is not None, ROOT=root, POSITIVE=positive,
                  DTYPE=_TL_TYPES[params[0].dtype], COMPUTE=_compute_dtype(params[0]), BLOCK=_BLOCK)


def plan_group_many(rows, denoms, lam, root, tol):
    """A :class:`Launch` of the group prox over the rows of several strided 2-D views at once.

    ``rows``: ``(n_groups, size)`` views of CUDA tensors of one dtype (the parameters' groups);
    ``denoms``: views of the optimizer's state with the same shapes and strides (a metric), or
    None (a scalar step, passed as ``scale``); ``lam``: a float64 CUDA tensor of the strengths of
    all the groups, tensor after tensor. The launch is called with ``(scale, eps)``.
    """
    (w_table, v_table, tensor_of_group, row_of_group, sizes, strides_group,
     strides_elem) = _row_table(rows, denoms)
    largest = max(r.shape[1] for r in rows)
    return Launch(_group_many_kernel, tensor_of_group.numel(), w_table=w_table, v_table=v_table,
                  tensor_of_group=tensor_of_group, row_of_group=row_of_group, sizes=sizes,
                  strides_group=strides_group, strides_elem=strides_elem, lam_ptr=lam, tol=float(tol),
                  METRIC=denoms is not None, ROOT=root, MAX_NEWTON=_MAX_NEWTON,
                  DTYPE=_TL_TYPES[rows[0].dtype], COMPUTE=_compute_dtype(rows[0]),
                  BLOCK=min(_GROUP_BLOCK, triton.next_power_of_2(largest)))


def group_(groups, denom, lam, scale, eps, root, metric, tol):
    """In place over the rows of the 2-D view ``groups`` (``denom`` a view with the same strides,
    or None without a metric); ``lam`` a float64 CUDA tensor of per-group strengths."""
    n_groups, size = groups.shape
    _group_kernel[(n_groups,)](
        groups, groups if denom is None else denom, lam, SIZE=size, stride_group=groups.stride(0),
        stride_elem=groups.stride(1), scale=scale, eps=eps, tol=tol,
        METRIC=metric, ROOT=root, MAX_NEWTON=_MAX_NEWTON,
        COMPUTE=_compute_dtype(groups), BLOCK=min(_GROUP_BLOCK, triton.next_power_of_2(size)))
    return groups
