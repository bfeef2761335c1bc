"""Shared problems: dense and sparse, n > p and p > n, with a sparse true coefficient vector."""

import os

import numpy as np
import pytest
import scipy.sparse as sp

# hypothesis and numba compile: keep test runs reproducible and single-threaded
os.environ.setdefault("NUMBA_NUM_THREADS", "1")


@pytest.fixture
def torch_one_thread():
    """PyTorch on one thread during the test (reproducible reductions, no thread pool to wake on a
    busy machine); restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_problem(n_samples=60, n_features=30, *, sparse=False, density=0.3, dtype=np.float64,
                 seed=0, n_informative=5, noise=0.5, n_targets=None):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n_samples, n_features, density=density, format="csc", random_state=seed,
                      data_rvs=rng.standard_normal)
        X = X + sp.random(n_samples, n_features, density=0.05, format="csc",
                          random_state=seed + 1) * 3.0  # positive offsets: non-zero column means
        X = sp.csc_matrix(X, dtype=dtype)
    else:
        X = (rng.standard_normal((n_samples, n_features)) + rng.uniform(-1, 1, n_features)).astype(
            dtype)
    w = np.zeros(n_features)
    w[rng.choice(n_features, min(n_informative, n_features), replace=False)] = rng.uniform(
        1, 3, min(n_informative, n_features)) * rng.choice([-1, 1], min(n_informative, n_features))
    Xd = X.toarray() if sp.issparse(X) else X
    y = Xd.astype(np.float64) @ w + 2.0 + noise * rng.standard_normal(n_samples)
    if n_targets is not None:
        y = np.column_stack([y + k * rng.standard_normal(n_samples) for k in range(n_targets)])
    return X, y


def alpha_max(X, y, sample_weight=None, fit_intercept=True):
    """``||Xc' s (yc)||_inf / n`` for the lasso (dense computation, for tests)."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n = Xd.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight * n / np.sum(sample_weight)
    if fit_intercept:
        Xd = Xd - s @ Xd / n
        y = y - s @ y / n
    return np.max(np.abs(Xd.T @ (s * y))) / n


def lasso_objective(X, y, coef, intercept, alpha, l1_ratio=1.0, sample_weight=None,
                    penalty_factor=None):
    """The objective shrinkage documents, computed independently of the package."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n = Xd.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight * n / np.sum(sample_weight)
    f = np.ones(Xd.shape[1]) if penalty_factor is None else np.asarray(penalty_factor)
    r = y - Xd @ coef - intercept
    return (0.5 * np.sum(s * r**2) / n + alpha * l1_ratio * np.sum(f * np.abs(coef))
            + 0.5 * alpha * (1 - l1_ratio) * np.sum(f * coef**2))


@pytest.fixture(params=["dense", "sparse"])
def layout(request):
    return request.param
