"""The proximal steps of :mod:`shrinkage.torch._prox` as Triton kernels, for CUDA tensors.

On a GPU a training step of a mid-sized network takes about a millisecond, and the tensor-operation
prox in Adam's metric (five element-wise kernels, each a pass over memory) or the group prox
(Newton's iterations as dozens of small kernels) costs a sizeable share of it. Here each prox is
one kernel: the separable one reads the weights and the optimizer's second moments once and writes
the weights once; the group one runs one program per group, whose Newton iterations re-read the
group from cache. The formulas are those of ``_prox`` (and of ``shrinkage._kernels.prox_metric``,
their CPU kernels); ``tests/test_torch_cuda.py`` checks a CUDA run against a CPU run.

The ``*_many`` kernels take a whole parameter group in one launch (tables of the tensors'
addresses); the SGD and Adam ones (``_fused_gpu``) also do the optimizer's update, as
``shrinkage._kernels.sgd_prox`` / ``adaptive_prox`` do on CPU, before the prox.
``tests/test_torch_triton_compile.py`` compiles every variant for a GPU without one.

Used only for CUDA tensors and only when Triton imports (it ships with PyTorch's CUDA builds);
scalars are passed in float64 and the arithmetic runs in float64 for float64 tensors, in float32
otherwise.
"""

import contextlib

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
def _bias_corrected(scale, eps, k, step_table, beta2, STEP_ON_DEVICE: tl.constexpr, STEP_DTYPE: tl.constexpr):
    # (scale, eps) of tensor k: as given, or (STEP_ON_DEVICE) Adam's lr and eps times sqrt(1 -
    # beta2^n), n the step count the optimizer keeps on the GPU (fused/capturable): read here, the
    # host never waits for it
    if STEP_ON_DEVICE:
        count = tl.load(tl.load(step_table + k).to(tl.pointer_type(STEP_DTYPE))).to(tl.float64)
        root_b = tl.sqrt(1.0 - tl.exp(count * tl.log(beta2)))
        scale = scale * root_b
        eps = eps * root_b
    return scale, eps


@triton.jit
def _enet_many_kernel(w_table, v_table, tensor_of_block, start_of_block, sizes, step_table,
                      scale: tl.float64, eps: tl.float64, beta2: tl.float64, l1: tl.float64, l2: tl.float64,
                      METRIC: tl.constexpr, ROOT: tl.constexpr, POSITIVE: tl.constexpr,
                      STEP_ON_DEVICE: tl.constexpr, STEP_DTYPE: tl.constexpr, DTYPE: tl.constexpr,
                      COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
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
        scale, eps = _bias_corrected(scale, eps, k, step_table, beta2, STEP_ON_DEVICE, STEP_DTYPE)
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
                       lam_ptr, step_table, scale: tl.float64, eps: tl.float64, beta2: tl.float64,
                       tol: tl.float64, METRIC: tl.constexpr, ROOT: tl.constexpr, MAX_NEWTON: tl.constexpr,
                       STEP_ON_DEVICE: tl.constexpr, STEP_DTYPE: tl.constexpr, DTYPE: tl.constexpr,
                       COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    # _group_kernel over the groups of several tensors in one launch: program p works on row
    # row_of_group[p] of tensor tensor_of_group[p] (addresses in the tables; sizes and strides
    # per tensor), with strength lam_ptr[p]
    p = tl.program_id(0)
    k = tl.load(tensor_of_group + p)
    if METRIC:
        scale, eps = _bias_corrected(scale, eps, k, step_table, beta2, STEP_ON_DEVICE, STEP_DTYPE)
    w_ptr = tl.load(w_table + k).to(tl.pointer_type(DTYPE))
    v_ptr = tl.load(v_table + k).to(tl.pointer_type(DTYPE))
    base = tl.load(row_of_group + p) * tl.load(strides_group + k)
    bound = tl.cast(scale, COMPUTE) * tl.load(lam_ptr + p).to(COMPUTE)
    _group_row(w_ptr, v_ptr, base, tl.load(sizes + k), tl.load(strides_elem + k), bound,
               tl.cast(eps, COMPUTE), tl.cast(tol, COMPUTE), METRIC, ROOT, MAX_NEWTON, COMPUTE, BLOCK)


@triton.jit
def _shrink(x, t, threshold, shift, KIND: tl.constexpr, SHRINK: tl.constexpr):
    # the separable prox with step t: S(x, t threshold) / (1 + t shift), KIND 0 none, 1 soft, 2 positive
    if KIND == 1:
        x = _soft_threshold(x, t * threshold, False)
    elif KIND == 2:
        x = _soft_threshold(x, t * threshold, True)
    if SHRINK:
        if x.dtype == tl.float32:
            x = tl.div_rn(x, 1.0 + t * shift)       # (correctly rounded, as on CPU)
        else:
            x = x / (1.0 + t * shift)
    return x


@triton.jit
def _sgd_at(w_ptr, g_ptr, buf_ptr, at, mask, sign, wd, mu, fresh, lr, MOMENTUM: tl.constexpr,
            NESTEROV: tl.constexpr, COMPUTE: tl.constexpr):
    # PyTorch's SGD on the elements `at`: g <- sign g + wd w; buf <- mu buf + (1 - dampening) g;
    # g <- g + mu buf (Nesterov) or buf; w <- w - lr g. The buffer is written (with MOMENTUM);
    # the new w is returned, for the caller's prox. The numbers are float64 scalars.
    w = tl.load(w_ptr + at, mask=mask, other=0.0).to(COMPUTE)
    g = tl.load(g_ptr + at, mask=mask, other=0.0).to(COMPUTE)
    grad = tl.cast(sign, COMPUTE) * g + tl.cast(wd, COMPUTE) * w
    if MOMENTUM:
        buf = tl.load(buf_ptr + at, mask=mask, other=0.0).to(COMPUTE)
        buf = tl.cast(mu, COMPUTE) * buf + tl.cast(fresh, COMPUTE) * grad
        tl.store(buf_ptr + at, buf.to(buf_ptr.dtype.element_ty), mask=mask)
        if NESTEROV:
            grad = grad + tl.cast(mu, COMPUTE) * buf
        else:
            grad = buf
    return w - tl.cast(lr, COMPUTE) * grad


@triton.jit
def _adam_at(w_ptr, g_ptr, m_ptr, v_ptr, vmax_ptr, at, mask, sign, wd, decay, lerp, beta2, fresh, step_size,
             root_b, eps_b, AMSGRAD: tl.constexpr, COMPUTE: tl.constexpr):
    # PyTorch's Adam/AdamW on the elements `at` (shrinkage._kernels.adaptive_prox._update): m, v and,
    # with AMSGRAD, vmax written; returns (w, inv), the new w (for the caller's prox) and
    # inv = sqrt(b) / (sqrt(vq) + eps sqrt(b)), the step per unit of lr (vq: max(vmax, v) with
    # amsgrad, else v). The numbers are float64 scalars.
    w = tl.load(w_ptr + at, mask=mask, other=0.0).to(COMPUTE) * tl.cast(decay, COMPUTE)
    g = tl.load(g_ptr + at, mask=mask, other=0.0).to(COMPUTE)
    m = tl.load(m_ptr + at, mask=mask, other=0.0).to(COMPUTE)
    v = tl.load(v_ptr + at, mask=mask, other=0.0).to(COMPUTE)
    grad = tl.cast(sign, COMPUTE) * g + tl.cast(wd, COMPUTE) * w
    m = m + tl.cast(lerp, COMPUTE) * (grad - m)
    v = tl.cast(beta2, COMPUTE) * v + tl.cast(fresh, COMPUTE) * grad * grad
    tl.store(m_ptr + at, m.to(m_ptr.dtype.element_ty), mask=mask)
    tl.store(v_ptr + at, v.to(v_ptr.dtype.element_ty), mask=mask)
    if AMSGRAD:
        vq = tl.maximum(tl.load(vmax_ptr + at, mask=mask, other=0.0).to(COMPUTE), v)
        tl.store(vmax_ptr + at, vq.to(vmax_ptr.dtype.element_ty), mask=mask)
    else:
        vq = v
    if COMPUTE == tl.float32:
        # correctly rounded, as PyTorch's kernels (Triton's float32 sqrt and division are approximate)
        inv = tl.div_rn(tl.cast(root_b, COMPUTE), tl.sqrt_rn(vq) + tl.cast(eps_b, COMPUTE))
    else:
        inv = tl.cast(root_b, COMPUTE) / (tl.sqrt(vq) + tl.cast(eps_b, COMPUTE))
    return w - tl.cast(step_size, COMPUTE) * m * inv, inv


@triton.jit
def _adam_numbers(step_size, root_b, eps_b, k, step_table, beta1, beta2, STEP_ON_DEVICE: tl.constexpr,
                  STEP_DTYPE: tl.constexpr):
    # _adam_at's (step_size, root_b, eps_b) as given (step counts on the host), or, with
    # STEP_ON_DEVICE (fused=True Adam keeps its counts on the GPU: the host never waits for them),
    # from tensor k's count n, given step_size = lr and eps_b = eps: lr / (1 - beta1^n),
    # sqrt(1 - beta2^n) and eps sqrt(1 - beta2^n), in float64
    if STEP_ON_DEVICE:
        n = tl.load(tl.load(step_table + k).to(tl.pointer_type(STEP_DTYPE))).to(tl.float64)
        step_size = step_size / (1.0 - tl.exp(n * tl.log(beta1)))
        root_b = tl.sqrt(1.0 - tl.exp(n * tl.log(beta2)))
        eps_b = eps_b * root_b
    return step_size, root_b, eps_b


@triton.jit
def _fused_block(tensor_of_block, start_of_block, sizes, w_table, g_table, DTYPE: tl.constexpr,
                 BLOCK: tl.constexpr):
    # a block program's tensor k, its elements and the addresses of that tensor's w and g
    pid = tl.program_id(0)
    k = tl.load(tensor_of_block + pid)
    offs = tl.load(start_of_block + pid) + tl.arange(0, BLOCK)
    mask = offs < tl.load(sizes + k)
    w_ptr = tl.load(w_table + k).to(tl.pointer_type(DTYPE))
    g_ptr = tl.load(g_table + k).to(tl.pointer_type(DTYPE))
    return k, offs, mask, w_ptr, g_ptr


@triton.jit
def _sgd_many_kernel(w_table, g_table, buf_table, tensor_of_block, start_of_block, sizes, sign: tl.float64,
                     wd: tl.float64, mu: tl.float64, fresh: tl.float64, lr: tl.float64,
                     threshold: tl.float64, shift: tl.float64, MOMENTUM: tl.constexpr, NESTEROV: tl.constexpr,
                     KIND: tl.constexpr, SHRINK: tl.constexpr, DTYPE: tl.constexpr, COMPUTE: tl.constexpr,
                     BLOCK: tl.constexpr):
    # SGD's update and the separable prox (threshold = t l1, shift = t l2 for the prox's step t),
    # over the blocks of several tensors (tables as in _enet_many_kernel); buf_table is read only
    # with MOMENTUM
    k, offs, mask, w_ptr, g_ptr = _fused_block(tensor_of_block, start_of_block, sizes, w_table, g_table,
                                               DTYPE, BLOCK)
    buf_ptr = tl.load(buf_table + k).to(tl.pointer_type(DTYPE))
    w = _sgd_at(w_ptr, g_ptr, buf_ptr, offs, mask, sign, wd, mu, fresh, lr, MOMENTUM, NESTEROV, COMPUTE)
    x = _shrink(w, tl.cast(1.0, COMPUTE), tl.cast(threshold, COMPUTE), tl.cast(shift, COMPUTE), KIND, SHRINK)
    tl.store(w_ptr + offs, x.to(DTYPE), mask=mask)


@triton.jit
def _adam_many_kernel(w_table, g_table, m_table, v_table, vmax_table, tensor_of_block, start_of_block, sizes,
                      step_table, sign: tl.float64, wd: tl.float64, decay: tl.float64, lerp: tl.float64,
                      beta1: tl.float64, beta2: tl.float64, fresh: tl.float64, step_size: tl.float64,
                      root_b: tl.float64, eps_b: tl.float64, threshold: tl.float64, shift: tl.float64,
                      AMSGRAD: tl.constexpr, STEP_ON_DEVICE: tl.constexpr, STEP_DTYPE: tl.constexpr,
                      KIND: tl.constexpr, SHRINK: tl.constexpr, DTYPE: tl.constexpr, COMPUTE: tl.constexpr,
                      BLOCK: tl.constexpr):
    # Adam's update and the separable prox in its metric, t_j = lr inv_j (threshold = lr l1, shift
    # = lr l2), over the blocks of several tensors; vmax_table is read only with AMSGRAD, step_table
    # (the step counts' addresses) with STEP_ON_DEVICE
    k, offs, mask, w_ptr, g_ptr = _fused_block(tensor_of_block, start_of_block, sizes, w_table, g_table,
                                               DTYPE, BLOCK)
    step_size, root_b, eps_b = _adam_numbers(step_size, root_b, eps_b, k, step_table, beta1, beta2,
                                             STEP_ON_DEVICE, STEP_DTYPE)
    m_ptr = tl.load(m_table + k).to(tl.pointer_type(DTYPE))
    v_ptr = tl.load(v_table + k).to(tl.pointer_type(DTYPE))
    vmax_ptr = tl.load(vmax_table + k).to(tl.pointer_type(DTYPE))
    w, inv = _adam_at(w_ptr, g_ptr, m_ptr, v_ptr, vmax_ptr, offs, mask, sign, wd, decay, lerp, beta2, fresh,
                      step_size, root_b, eps_b, AMSGRAD, COMPUTE)
    x = _shrink(w, inv, tl.cast(threshold, COMPUTE), tl.cast(shift, COMPUTE), KIND, SHRINK)
    tl.store(w_ptr + offs, x.to(DTYPE), mask=mask)


@triton.jit
def _fused_group(tensor_of_group, row_of_group, sizes, strides_group, strides_elem, w_table, g_table,
                 DTYPE: tl.constexpr):
    # a group program's tensor k, its row (base, size, stride_elem) and that tensor's w and g
    p = tl.program_id(0)
    k = tl.load(tensor_of_group + p)
    base = tl.load(row_of_group + p) * tl.load(strides_group + k)
    w_ptr = tl.load(w_table + k).to(tl.pointer_type(DTYPE))
    g_ptr = tl.load(g_table + k).to(tl.pointer_type(DTYPE))
    return p, k, base, tl.load(sizes + k), tl.load(strides_elem + k), w_ptr, g_ptr


@triton.jit
def _sgd_group_many_kernel(w_table, g_table, buf_table, tensor_of_group, row_of_group, sizes, strides_group,
                           strides_elem, lam_ptr, sign: tl.float64, wd: tl.float64, mu: tl.float64,
                           fresh: tl.float64, lr: tl.float64, step: tl.float64, MOMENTUM: tl.constexpr,
                           NESTEROV: tl.constexpr, DTYPE: tl.constexpr, COMPUTE: tl.constexpr,
                           BLOCK: tl.constexpr):
    # SGD's update of one group (a row of a strided view, as in _group_many_kernel), then its block
    # soft-thresholding at step lam_ptr[p]
    p, k, base, size, stride_elem, w_ptr, g_ptr = _fused_group(
        tensor_of_group, row_of_group, sizes, strides_group, strides_elem, w_table, g_table, DTYPE)
    buf_ptr = tl.load(buf_table + k).to(tl.pointer_type(DTYPE))
    for start in range(0, size, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        mask = offs < size
        at = base + offs * stride_elem
        w = _sgd_at(w_ptr, g_ptr, buf_ptr, at, mask, sign, wd, mu, fresh, lr, MOMENTUM, NESTEROV, COMPUTE)
        tl.store(w_ptr + at, w.to(DTYPE), mask=mask)
    # the row's new values, written by this program's threads, are read back by its threads
    tl.debug_barrier()
    bound = tl.cast(step, COMPUTE) * tl.load(lam_ptr + p).to(COMPUTE)
    zero = tl.cast(0.0, COMPUTE)
    _group_row(w_ptr, w_ptr, base, size, stride_elem, bound, zero, zero, False, False, 0, COMPUTE, BLOCK)


@triton.jit
def _adam_group_many_kernel(w_table, g_table, m_table, v_table, vmax_table, tensor_of_group, row_of_group,
                            sizes, strides_group, strides_elem, lam_ptr, step_table, sign: tl.float64,
                            wd: tl.float64, decay: tl.float64, lerp: tl.float64, beta1: tl.float64,
                            beta2: tl.float64, fresh: tl.float64, step_size: tl.float64, root_b: tl.float64,
                            eps_b: tl.float64, lr: tl.float64, tol: tl.float64, AMSGRAD: tl.constexpr,
                            STEP_ON_DEVICE: tl.constexpr, STEP_DTYPE: tl.constexpr, MAX_NEWTON: tl.constexpr,
                            DTYPE: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    # Adam's update of one group, then its prox in Adam's metric (_group_row with scale lr sqrt(b),
    # d = sqrt(vq) + eps sqrt(b): t_j = lr inv_j); step counts as in _adam_many_kernel
    p, k, base, size, stride_elem, w_ptr, g_ptr = _fused_group(
        tensor_of_group, row_of_group, sizes, strides_group, strides_elem, w_table, g_table, DTYPE)
    step_size, root_b, eps_b = _adam_numbers(step_size, root_b, eps_b, k, step_table, beta1, beta2,
                                             STEP_ON_DEVICE, STEP_DTYPE)
    m_ptr = tl.load(m_table + k).to(tl.pointer_type(DTYPE))
    v_ptr = tl.load(v_table + k).to(tl.pointer_type(DTYPE))
    vmax_ptr = tl.load(vmax_table + k).to(tl.pointer_type(DTYPE))
    for start in range(0, size, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        mask = offs < size
        at = base + offs * stride_elem
        w, _ = _adam_at(w_ptr, g_ptr, m_ptr, v_ptr, vmax_ptr, at, mask, sign, wd, decay, lerp, beta2, fresh,
                        step_size, root_b, eps_b, AMSGRAD, COMPUTE)
        tl.store(w_ptr + at, w.to(DTYPE), mask=mask)
    if AMSGRAD:
        q_ptr = vmax_ptr
    else:
        q_ptr = v_ptr
    tl.debug_barrier()
    bound = tl.cast(lr * root_b, COMPUTE) * tl.load(lam_ptr + p).to(COMPUTE)
    _group_row(w_ptr, q_ptr, base, size, stride_elem, bound, tl.cast(eps_b, COMPUTE),
               tl.cast(tol, COMPUTE), True, True, MAX_NEWTON, COMPUTE, BLOCK)


def _compute_dtype(tensor):
    return tl.float64 if tensor.dtype == torch.float64 else tl.float32


def _on(device):
    """A context making ``device`` the current CUDA device where it is not: Triton launches on the
    current device, whereas PyTorch's operations run on their tensors' (``model.to("cuda:1")``
    leaves the current device at 0)."""
    if device.type == "cuda" and device.index != torch.cuda.current_device():
        return torch.cuda.device(device)
    return contextlib.nullcontext()


def enet_metric_(param, denom, scale, eps, root, l1, l2, positive):
    """In place, ``param`` and ``denom`` contiguous CUDA tensors of one shape; ``l1, l2`` numbers or
    float64 tensors of length ``param.shape[-1]`` on the same device."""
    n = param.numel()
    per_feature = isinstance(l1, torch.Tensor)
    width = param.shape[-1] if param.dim() else 1
    a, b = (l1, l2) if per_feature else (param, param)      # unused pointers when scalar
    with _on(param.device):
        _enet_metric_kernel[(triton.cdiv(n, _BLOCK),)](
            param, denom, a, b, n, width, scale, eps, 0.0 if per_feature else l1, 0.0 if per_feature else l2,
            ROOT=root, PER_FEATURE=per_feature, POSITIVE=positive, COMPUTE=_compute_dtype(param),
            BLOCK=_BLOCK)
    return param


_TL_TYPES = {torch.float32: tl.float32, torch.float64: tl.float64, torch.float16: tl.float16,
             torch.bfloat16: tl.bfloat16}
# Tables of the tensor lists seen (their addresses; their layout), keyed by what they hold: a
# network's parameters and optimizer state stay in place from step to step, so a table is built
# once and reused. Gradients are new tensors after every ``zero_grad()``, but PyTorch's caching
# allocator hands a backward pass the blocks the previous one freed, so their tables repeat too.
_TABLES = {}


def _cached_table(key, build):
    table = _TABLES.get(key)
    if table is None:
        if len(_TABLES) > 64:
            _TABLES.clear()     # (a table still read by a queued launch stays alive: stream-ordered frees)
        table = _TABLES[key] = build()
    return table


def _upload(values, device, dtype=torch.int64):
    # from pinned memory without waiting: a copy from pageable memory to a GPU waits for the kernels
    # queued before it (PyTorch's host allocator keeps the pinned block until the copy is done)
    host = torch.tensor(values, dtype=dtype, pin_memory=device.type == "cuda")
    return host.to(device, non_blocking=True)


def address_table(tensors):
    """A device tensor of the tensors' addresses (int64), one upload per new list of addresses."""
    device = tensors[0].device
    addresses = tuple(t.data_ptr() for t in tensors)
    return _cached_table(("addresses", device, addresses), lambda: _upload(addresses, device))


def _block_layout(params):
    # (tensor_of_block, start_of_block, sizes): program p works on elements start_of_block[p] + [0,
    # _BLOCK) of tensor tensor_of_block[p]
    device = params[0].device
    sizes = tuple(p.numel() for p in params)

    def build():
        blocks = [triton.cdiv(n, _BLOCK) for n in sizes]
        tensor_of_block = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(blocks))
        first_block = torch.cumsum(torch.tensor([0, *blocks[:-1]]), 0)
        start_of_block = (torch.arange(len(tensor_of_block)) - first_block[tensor_of_block]) * _BLOCK
        return (_upload(tensor_of_block.tolist(), device, torch.int32),
                _upload(start_of_block.tolist(), device), _upload(sizes, device))

    return _cached_table(("blocks", device, sizes), build)


def _row_layout(rows):
    # (tensor_of_group, row_of_group, sizes, strides_group, strides_elem) of (n_groups, size) views:
    # program p works on row row_of_group[p] of tensor tensor_of_group[p]
    device = rows[0].device
    shapes = tuple((*r.shape, *r.stride()) for r in rows)

    def build():
        counts = [r.shape[0] for r in rows]
        tensor_of_group = torch.repeat_interleave(torch.arange(len(rows)), torch.tensor(counts))
        row_of_group = torch.cat([torch.arange(n) for n in counts])
        return (_upload(tensor_of_group.tolist(), device, torch.int32),
                _upload(row_of_group.tolist(), device),
                *(_upload([s[i] for s in shapes], device) for i in (1, 2, 3)))

    return _cached_table(("rows", device, shapes), build)


class Launch:
    """A kernel launch planned once and repeated with a new step size ``(scale, eps)``: the
    tensors' tables, the grid and the other arguments are made once, when the plan is made."""

    __slots__ = ("_args", "_device", "_kernel", "grid")

    def __init__(self, kernel, grid, **args):
        self._kernel = kernel
        self.grid = (grid,)
        self._args = args
        self._device = args["w_table"].device

    def __call__(self, scale, eps):
        self.run(scale=float(scale), eps=float(eps))

    def run(self, **changing):
        """Launch with the planned arguments and ``changing`` (those that change between steps)."""
        if self.grid[0]:
            with _on(self._device):
                self._kernel[self.grid](**self._args, **changing)


def _step_counts(counts, fallback, **on_host):
    # the arguments that read Adam's step counts on the GPU (``counts``: the step tensors, one per
    # tensor of the launch), or that say there are none (plus ``on_host``: what the kernel then
    # takes in their place)
    if counts is None:
        return {"step_table": fallback, "STEP_ON_DEVICE": False, "STEP_DTYPE": tl.float32, **on_host}
    return {"step_table": address_table(counts), "STEP_ON_DEVICE": True,
            "STEP_DTYPE": _TL_TYPES[counts[0].dtype]}


def plan_enet_many(params, denoms, root, l1, l2, positive, counts=None):
    """A :class:`Launch` of the separable prox on a list of contiguous CUDA tensors of one dtype
    (their addresses fixed), called with ``(scale, eps)``: in Adam's metric as :func:`enet_metric_`
    (``denoms`` the optimizer's state, of the same dtype and shapes), or with the scalar step
    ``scale`` (``denoms`` None, ``eps`` unused); ``l1, l2`` numbers. With ``counts`` (Adam's step
    counts, tensors on the GPU) it is run with ``scale=lr, eps=eps, beta2=beta2`` and applies the
    bias correction of each tensor's count itself."""
    tensor_of_block, start_of_block, sizes = _block_layout(params)
    w_table = address_table(params)
    v_table = w_table if denoms is None else address_table(denoms)
    return Launch(_enet_many_kernel, tensor_of_block.numel(), w_table=w_table, v_table=v_table,
                  tensor_of_block=tensor_of_block, start_of_block=start_of_block, sizes=sizes,
                  l1=float(l1), l2=float(l2), METRIC=denoms is not None, ROOT=root, POSITIVE=positive,
                  DTYPE=_TL_TYPES[params[0].dtype], COMPUTE=_compute_dtype(params[0]), BLOCK=_BLOCK,
                  **_step_counts(counts, w_table, beta2=0.0))


def plan_group_many(rows, denoms, lam, root, tol, counts=None):
    """A :class:`Launch` of the group prox over the rows of several strided 2-D views at once.

    ``rows``: ``(n_groups, size)`` views of CUDA tensors of one dtype (the parameters' groups);
    ``denoms``: views of the optimizer's state with the same shapes and strides (a metric), or
    None (a scalar step, passed as ``scale``); ``lam``: a float64 CUDA tensor of the strengths of
    all the groups, tensor after tensor. The launch is called with ``(scale, eps)``; with
    ``counts`` as :func:`plan_enet_many`'s.
    """
    tensor_of_group, row_of_group, sizes, strides_group, strides_elem = _row_layout(rows)
    w_table = address_table(rows)
    v_table = w_table if denoms is None else address_table(denoms)
    largest = max(r.shape[1] for r in rows)
    return Launch(_group_many_kernel, tensor_of_group.numel(), w_table=w_table, v_table=v_table,
                  tensor_of_group=tensor_of_group, row_of_group=row_of_group, sizes=sizes,
                  strides_group=strides_group, strides_elem=strides_elem, lam_ptr=lam, tol=float(tol),
                  METRIC=denoms is not None, ROOT=root, MAX_NEWTON=_MAX_NEWTON,
                  DTYPE=_TL_TYPES[rows[0].dtype], COMPUTE=_compute_dtype(rows[0]),
                  BLOCK=min(_GROUP_BLOCK, triton.next_power_of_2(largest)),
                  **_step_counts(counts, w_table, beta2=0.0))


def group_(groups, denom, lam, scale, eps, root, metric, tol):
    """In place over the rows of the 2-D view ``groups`` (``denom`` a view with the same strides,
    or None without a metric); ``lam`` a float64 CUDA tensor of per-group strengths."""
    n_groups, size = groups.shape
    with _on(groups.device):
        _group_kernel[(n_groups,)](
            groups, groups if denom is None else denom, lam, SIZE=size, stride_group=groups.stride(0),
            stride_elem=groups.stride(1), scale=scale, eps=eps, tol=tol,
            METRIC=metric, ROOT=root, MAX_NEWTON=_MAX_NEWTON,
            COMPUTE=_compute_dtype(groups), BLOCK=min(_GROUP_BLOCK, triton.next_power_of_2(size)))
    return groups


# The optimizer's update and the prox in one launch per parameter group (shrinkage.torch._fused_gpu).
# Each plan is a Launch run with the gradients' table (``g_table``, see :func:`address_table`)
# and the step's numbers: SGD ``sign, wd, mu, fresh, lr`` (``_fused.sgd_hyper``), Adam ``sign,
# wd, decay, lerp, beta2, fresh, step_size, root_b, eps_b`` (``_fused.adam_hyper``); the
# separable ones ``threshold, shift`` (``t l1, t l2``, ``t`` the prox's step: SGD's scalar step,
# Adam's lr), the group ones the prox's ``step`` (SGD) or ``lr`` (Adam). ``kind``: 0 no prox, 1
# soft-thresholding, 2 its one-sided form; ``shrink``: divide by ``1 + t shift``.


def _table_or(tensors, fallback):
    return fallback if tensors is None else address_table(tensors)


def plan_sgd_flat(params, buffers, nesterov, kind, shrink):
    """SGD (``buffers`` its momentum buffers, or None without momentum) and a separable prox over
    contiguous CUDA tensors of one dtype."""
    tensor_of_block, start_of_block, sizes = _block_layout(params)
    w_table = address_table(params)
    return Launch(_sgd_many_kernel, tensor_of_block.numel(), w_table=w_table,
                  buf_table=_table_or(buffers, w_table), tensor_of_block=tensor_of_block,
                  start_of_block=start_of_block, sizes=sizes, MOMENTUM=buffers is not None, NESTEROV=nesterov,
                  KIND=kind, SHRINK=shrink, DTYPE=_TL_TYPES[params[0].dtype],
                  COMPUTE=_compute_dtype(params[0]), BLOCK=_BLOCK)


def plan_adam_flat(params, exp_avg, exp_avg_sq, max_exp_avg_sq, kind, shrink, counts=None):
    """Adam/AdamW (``max_exp_avg_sq`` None without amsgrad) and a separable prox in its metric;
    with ``counts`` (fused=True Adam's step counts, on the GPU) run with ``step_size=lr`` and
    ``eps_b=eps``: the kernel applies each tensor's bias correction."""
    tensor_of_block, start_of_block, sizes = _block_layout(params)
    w_table, v_table = address_table(params), address_table(exp_avg_sq)
    return Launch(_adam_many_kernel, tensor_of_block.numel(), w_table=w_table,
                  m_table=address_table(exp_avg), v_table=v_table,
                  vmax_table=_table_or(max_exp_avg_sq, v_table), tensor_of_block=tensor_of_block,
                  start_of_block=start_of_block, sizes=sizes, AMSGRAD=max_exp_avg_sq is not None, KIND=kind,
                  SHRINK=shrink, DTYPE=_TL_TYPES[params[0].dtype], COMPUTE=_compute_dtype(params[0]),
                  BLOCK=_BLOCK, **_step_counts(counts, w_table))


def _rows_block(rows):
    return min(_GROUP_BLOCK, triton.next_power_of_2(max(1, *(r.shape[1] for r in rows))))


def plan_sgd_rows(rows, buffers, lam, nesterov):
    """SGD and the group lasso over the rows of ``(n_groups, size)`` views (``buffers``: views of
    the momentum buffers with the same strides, or None); ``lam`` a float64 CUDA tensor of the
    strengths of all the groups, tensor after tensor."""
    tensor_of_group, row_of_group, sizes, strides_group, strides_elem = _row_layout(rows)
    w_table = address_table(rows)
    return Launch(_sgd_group_many_kernel, tensor_of_group.numel(), w_table=w_table,
                  buf_table=_table_or(buffers, w_table), tensor_of_group=tensor_of_group,
                  row_of_group=row_of_group, sizes=sizes, strides_group=strides_group,
                  strides_elem=strides_elem, lam_ptr=lam, MOMENTUM=buffers is not None, NESTEROV=nesterov,
                  DTYPE=_TL_TYPES[rows[0].dtype], COMPUTE=_compute_dtype(rows[0]), BLOCK=_rows_block(rows))


def plan_adam_rows(rows, exp_avg, exp_avg_sq, max_exp_avg_sq, lam, tol, counts=None):
    """Adam/AdamW and the group lasso in its metric over the rows of ``(n_groups, size)`` views
    (the state as views with the same strides; ``max_exp_avg_sq`` None without amsgrad); ``counts``
    as :func:`plan_adam_flat`'s."""
    tensor_of_group, row_of_group, sizes, strides_group, strides_elem = _row_layout(rows)
    w_table, v_table = address_table(rows), address_table(exp_avg_sq)
    return Launch(_adam_group_many_kernel, tensor_of_group.numel(), w_table=w_table,
                  m_table=address_table(exp_avg), v_table=v_table,
                  vmax_table=_table_or(max_exp_avg_sq, v_table), tensor_of_group=tensor_of_group,
                  row_of_group=row_of_group, sizes=sizes, strides_group=strides_group,
                  strides_elem=strides_elem, lam_ptr=lam, tol=float(tol), AMSGRAD=max_exp_avg_sq is not None,
                  MAX_NEWTON=_MAX_NEWTON, DTYPE=_TL_TYPES[rows[0].dtype], COMPUTE=_compute_dtype(rows[0]),
                  BLOCK=_rows_block(rows), **_step_counts(counts, w_table))
