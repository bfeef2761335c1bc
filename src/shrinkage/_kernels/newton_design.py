"""Building the proximal-Newton subproblem's sparse design in one pass: gather the working-set
columns of a CSC matrix and row-scale them (scipy's column slicing and ``diags(v) @ X`` go through
format conversions, which cost more than the subproblem on text-like data)."""

import numpy as np

from ._jit import njit


@njit(cache=True)
def csc_columns_scaled(data, indices, indptr, cols, v, weights, n):
    """Columns ``cols`` of a CSC matrix with row i scaled by ``v[i]`` (float64), and the weighted
    means ``sum_i weights_i x_ij / n`` of the unscaled columns: ``(data, indices, indptr,
    means)``. The row-scaled source of a sparse :class:`~shrinkage.solvers.design.Design` in one
    pass."""
    k = cols.shape[0]
    new_indptr = np.zeros(k + 1, dtype=np.int64)
    for c in range(k):
        j = cols[c]
        new_indptr[c + 1] = new_indptr[c] + indptr[j + 1] - indptr[j]
    nnz = new_indptr[k]
    new_data = np.empty(nnz, dtype=np.float64)
    new_indices = np.empty(nnz, dtype=indices.dtype)
    means = np.zeros(k)
    for c in range(k):
        j = cols[c]
        out = new_indptr[c]
        total = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            i = indices[t]
            new_indices[out] = i
            new_data[out] = data[t] * v[i]
            total += weights[i] * data[t]
            out += 1
        means[c] = total / n
    return new_data, new_indices, new_indptr, means


@njit(cache=True)
def csc_matvec_columns(data, indices, indptr, cols, values, n):
    """``X[:, cols] @ values`` for a CSC matrix, touching only those columns."""
    out = np.zeros(n)
    for c in range(cols.shape[0]):
        j = cols[c]
        value = values[c]
        for t in range(indptr[j], indptr[j + 1]):
            out[indices[t]] += data[t] * value
    return out


@njit(cache=True)
def csc_rmatvec2(data, indices, indptr, a, b):
    """``(X' a, X' b)`` for a CSC matrix in one pass over its nonzeros (float64 sums)."""
    p = indptr.shape[0] - 1
    out_a = np.empty(p)
    out_b = np.empty(p)
    for j in range(p):
        sa = 0.0
        sb = 0.0
        for t in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
            i = np.uint64(indices[t])
            x = float(data[t])
            sa += x * a[i]
            sb += x * b[i]
        out_a[j] = sa
        out_b[j] = sb
    return out_a, out_b
