"""Gathering the proximal-Newton subproblem's columns from a CSC matrix in one pass (scipy's
column slicing of CSC goes through two format conversions, which cost more than the subproblem
on text-like data)."""

import numpy as np
from numba import njit


@njit(cache=True)
def csc_columns(data, indices, indptr, cols):
    """Columns ``cols`` (in that order) of a CSC matrix: ``(data, indices, indptr)``."""
    k = cols.shape[0]
    new_indptr = np.zeros(k + 1, dtype=np.int64)
    for c in range(k):
        j = cols[c]
        new_indptr[c + 1] = new_indptr[c] + indptr[j + 1] - indptr[j]
    nnz = new_indptr[k]
    new_data = np.empty(nnz, dtype=data.dtype)
    new_indices = np.empty(nnz, dtype=indices.dtype)
    for c in range(k):
        j = cols[c]
        out = new_indptr[c]
        for t in range(indptr[j], indptr[j + 1]):
            new_indices[out] = indices[t]
            new_data[out] = data[t]
            out += 1
    return new_data, new_indices, new_indptr
