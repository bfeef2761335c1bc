"""Shared problems: dense and sparse, n > p and p > n, with a sparse true coefficient vector; and
the half-precision checks shared by the CPU and CUDA tests of shrinkage.torch."""

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


def assert_rounded(got, exact64, dtype, ulps=2.0):
    """``got`` (a half-precision tensor) is the float64 answer ``exact64`` rounded to ``dtype``:
    within ``ulps`` of the dtype's epsilon relative to it (and one step of float16's subnormal
    spacing, where rounding twice may tie the other way), with the same exact zeros."""
    import torch

    rounded = exact64.to(dtype).double()
    err = (got.cpu().double() - rounded).abs()
    info = torch.finfo(dtype)
    assert bool((err <= ulps * info.eps * rounded.abs() + info.smallest_normal * info.eps).all()), err.max()
    assert torch.equal(got.cpu() == 0, rounded == 0)


def check_half_precision_prox(device, dtype, penalty):
    """bfloat16/float16 weights and Adam-like state on ``device``: the prox of one tensor (scalar
    step and metric), and of a list of three (one launch where Triton takes it on CUDA), against
    the float64 prox of the same numbers rounded to ``dtype`` (:func:`assert_rounded`); the state
    is read, not written."""
    import torch

    from shrinkage.torch._prox import Metric, prox_, prox_params_

    gen = torch.Generator().manual_seed(5)
    ws = [torch.randn(64, 300, generator=gen, dtype=torch.float64).to(dtype) for _ in range(3)]
    vs = [(torch.rand(64, 300, generator=gen, dtype=torch.float64) ** 4).to(dtype) for _ in range(3)]

    def metric(v, on):
        return Metric(0.01, v.to(on), owned=False, root=True, eps=1e-4)

    states = [v.clone() for v in vs]
    for step in (0.5, "metric"):
        exact = [prox_(w.double(), penalty, step if step == 0.5 else metric(v.double(), "cpu"))
                 for w, v in zip(ws, vs, strict=True)]
        assert not torch.equal(exact[0], ws[0].double())      # (the penalty acts)
        one = prox_(ws[0].to(device, copy=True), penalty, step if step == 0.5 else metric(vs[0], device))
        many = [w.to(device, copy=True) for w in ws]
        pairs = [(w, step if step == 0.5 else metric(v, device)) for w, v in zip(many, vs, strict=True)]
        with torch.no_grad():
            prox_params_(pairs, penalty)
        for got, want in [(one, exact[0]), *zip(many, exact, strict=True)]:
            assert got.dtype == dtype
            assert_rounded(got, want, dtype)
    assert all(torch.equal(v, before) for v, before in zip(vs, states, strict=True))


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
