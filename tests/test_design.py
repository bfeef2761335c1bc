"""The solvers' view of the data (solvers/design.py): centring, weights, the Gram matrix."""

import numpy as np
import pytest
import scipy.sparse as sp

from shrinkage.solvers.design import make_design


def explicit_centred(X, y, sample_weight, fit_intercept):
    """Xc and yc written out from the definition, in float64."""
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight * n / sample_weight.sum()
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    m = s @ X / n if fit_intercept else np.zeros(X.shape[1])
    ybar = s @ y / n if fit_intercept else 0.0
    v = np.sqrt(s)
    return v[:, None] * (X - m), v * (y - ybar)


@pytest.mark.parametrize("offset", [0.0, 1e4])  # 1e4: means far above the spread
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("layout", ["dense", "float32", "sparse"])
def test_gram_equals_centred_products(offset, weighted, fit_intercept, layout):
    rng = np.random.default_rng(0)
    n, p = 3000, 7  # n > one Gram row block, so the blocked route crosses block edges
    X = rng.standard_normal((n, p)) + offset * rng.uniform(0.5, 1.0, p)
    if layout == "sparse":
        X = sp.random(n, p, density=0.3, format="csc", random_state=1) * 3.0 + 0.0
        X.data += offset
    elif layout == "float32":
        X = X.astype(np.float32)
    y = rng.standard_normal(n) + offset
    sw = rng.uniform(0.1, 3.0, n) if weighted else None
    X_before = X.copy()
    design = make_design(X, y, sw, fit_intercept)
    G, b, y_sq = design.gram
    Xc, yc = explicit_centred(X, y, sw, fit_intercept)
    scale = np.linalg.norm(Xc, axis=0)
    rtol = 1e-6 if layout == "float32" else 1e-10
    np.testing.assert_allclose(G / np.outer(scale, scale), Xc.T @ Xc / np.outer(scale, scale),
                               atol=rtol)
    np.testing.assert_allclose(b / (scale * np.linalg.norm(yc)), Xc.T @ yc /
                               (scale * np.linalg.norm(yc)), atol=rtol)
    assert y_sq == pytest.approx(yc @ yc, rel=1e-12)
    # the caller's array is untouched, and the kernels' centred copy agrees with the definition
    after = X.toarray() if sp.issparse(X) else X
    np.testing.assert_array_equal(after, X_before.toarray() if sp.issparse(X) else X_before)
    if layout != "sparse":
        np.testing.assert_allclose(design.X, Xc, rtol=1e-6 if layout == "float32" else 1e-12,
                                   atol=1e-6 * (1 + offset) if layout == "float32" else 1e-9)


def test_gram_without_centred_copy_on_tall_dense():
    """Covariance mode on a tall dense design never builds the n x p centred copy."""
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.standard_normal((2000, 5)) + 0.3)
    design = make_design(X, rng.standard_normal(2000), None, True)
    G, _, _ = design.gram
    assert G.shape == (5, 5)
    assert "X" not in design.__dict__


@pytest.mark.parametrize("layout", ["dense", "sparse", "gram"])
def test_gram_block_grows_and_matches(layout):
    """Design.gram_block: the support's Gram block, kept and extended column by column."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((120, 40)) + 0.5
    if layout == "sparse":
        X = sp.random(120, 40, density=0.4, format="csc", random_state=2)
    sw = rng.uniform(0.5, 2.0, 120)
    design = make_design(X, rng.standard_normal(120), sw, True)
    if layout == "gram":
        _ = design.gram
    Xc, _ = explicit_centred(X, np.zeros(120), sw, True)
    for features in ([3, 7], [7, 3, 11, 0], [39, 3], np.arange(40)):
        features = np.asarray(features)
        np.testing.assert_allclose(design.gram_block(features), Xc[:, features].T @ Xc[:, features],
                                   rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_large_dense_design_is_centred_by_the_kernel_as_by_numpy(weighted, dtype, monkeypatch):
    """Above KERNEL_COPY_MIN_SIZE a column-major design is centred (and row-scaled) by one numba
    pass: the same array, bit for bit, as NumPy's copy-and-subtract, and the caller's untouched."""
    from shrinkage.solvers import design as design_module

    rng = np.random.default_rng(4)
    X = np.asfortranarray(rng.standard_normal((90, 700)) + 3.0, dtype=dtype)
    before = X.copy()
    y = rng.standard_normal(90)
    sw = rng.uniform(0.5, 2.0, 90) if weighted else None
    by_kernel = make_design(X, y, sw, True).X
    monkeypatch.setattr(design_module, "KERNEL_COPY_MIN_SIZE", X.size)  # NumPy's route
    by_numpy = make_design(X, y, sw, True).X
    assert by_kernel.dtype == dtype and by_kernel.flags.f_contiguous
    np.testing.assert_array_equal(by_kernel, by_numpy)
    np.testing.assert_array_equal(X, before)
    close = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(by_kernel, explicit_centred(X, y, sw, True)[0], rtol=close,
                               atol=close)
