"""Small dense problems: the numba-free exact homotopy, the exact finish of coordinate descent, and
the lazy numba import behind them (``shrinkage._kernels._jit``)."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso as SkLasso

import shrinkage as sh
from conftest import alpha_max, lasso_objective, make_problem
from shrinkage._kernels import _jit
from shrinkage._kernels.cd_gram import enet_gap_gram
from shrinkage.solvers import homotopy, make_design
from shrinkage.solvers.cd import solve_enet


@pytest.fixture
def route(monkeypatch):
    """Force small problems through one route: ``route("homotopy")`` or ``route("cd")``."""

    def force(name):
        monkeypatch.setattr(homotopy, "prefer_homotopy", lambda: name == "homotopy")

    return force


def lowered(p, alpha, l1_ratio, factor=None):
    f = np.ones(p) if factor is None else np.asarray(factor, dtype=float)
    return alpha * l1_ratio * f, alpha * (1 - l1_ratio) * f


@pytest.mark.parametrize("shape", [(60, 30), (25, 60), (100, 100)])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.1])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("fraction", [0.5, 0.05, 0.002])
def test_homotopy_is_the_exact_minimiser(shape, l1_ratio, positive, fraction, route):
    route("homotopy")
    X, y = make_problem(*shape, seed=sum(shape))
    alpha = fraction * alpha_max(X, y) / l1_ratio
    ours = sh.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive).fit(X, y)
    ref = SkElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive, tol=1e-15,
                       max_iter=200_000).fit(X, y)
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-8 * scale)
    # exact zeros where the reference has them (its zeros are exact: coordinate descent)
    assert np.array_equal(ours.coef_ == 0, np.abs(ref.coef_) <= 1e-10 * scale)
    null = 0.5 * np.var(y)
    assert ours.dual_gap_ <= 1e-12 * null
    assert lasso_objective(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio) <= (
        lasso_objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio) + 1e-12 * null)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 60), p=st.integers(1, 40),
       fraction=st.floats(1e-3, 1.5), l1_ratio=st.sampled_from([1.0, 0.7, 0.2]),
       positive=st.booleans(), weighted=st.booleans(), intercept=st.booleans(),
       unpenalized=st.booleans())
def test_homotopy_meets_the_kkt_conditions(seed, n, p, fraction, l1_ratio, positive, weighted,
                                           intercept, unpenalized):
    """Whatever the data (p > n included, unpenalized features, weights), the homotopy either hands
    over (None) or returns a point whose gap and KKT violations vanish to rounding."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 3, p)
    y = X[:, : min(p, 3)] @ rng.standard_normal(min(p, 3)) + rng.standard_normal(n)
    sw = rng.uniform(0.2, 2, n) if weighted else None
    design = make_design(X, y, sw, intercept)
    corr = np.abs(design.rmatvec(design.y)) / n
    alpha = fraction * max(float(corr.max()), 1e-3)
    factor = np.ones(p)
    if unpenalized:
        factor[0] = 0.0
    l1, l2 = lowered(p, alpha, l1_ratio, factor)
    out = homotopy.solve_enet_homotopy(design, l1, l2, positive, 10_000)
    if out is None:  # a singular face (p > n without L2, collinear, unpenalized + positive)
        return
    w, _, gap, _ = out
    G, b, yy = homotopy.scaled_gram(design)
    null = 0.5 * yy
    assert gap <= 1e-9 * max(null, 1e-300)
    c = b - (G + np.diag(l2)) @ w
    scale = max(float(np.max(np.abs(b))), 1e-300)
    if positive:
        assert np.all(w >= 0)
        assert np.all(c <= l1 + 1e-8 * scale)
        on = w > 0
        np.testing.assert_allclose(c[on], l1[on], atol=1e-8 * scale)
    else:
        assert np.all(np.abs(c) <= l1 + 1e-8 * scale)
        on = w != 0
        np.testing.assert_allclose(c[on], l1[on] * np.sign(w[on]), atol=1e-8 * scale)


def test_gram_gap_is_the_kernel_gap():
    """The NumPy certificate agrees with numba's Gram kernel on arbitrary (non-optimal) points,
    unpenalized and positive cases included."""
    X, y = make_problem(50, 20, seed=3)
    design = make_design(X, y)
    G, b, y_sq = design.gram
    n = design.n_samples
    rng = np.random.default_rng(0)
    for positive in (False, True):
        l1, l2 = lowered(20, 0.05, 0.6, rng.choice([0.0, 1.0, 2.0], 20))
        for _ in range(5):
            w = rng.standard_normal(20) * (rng.uniform(size=20) < 0.4)
            if positive:
                w = np.abs(w)
            ours = homotopy.gram_gap(G / n, b / n, y_sq / n, w, l1, l2, positive)
            kernel = enet_gap_gram(G, b, y_sq, n, w, l1, l2, positive, np.arange(20))
            assert ours[0] == pytest.approx(kernel[0], rel=1e-12)
            assert ours[1] == pytest.approx(max(kernel[1], 0.0), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("positive", [False, True])
def test_both_routes_give_one_answer(l1_ratio, positive, route):
    """Homotopy (before numba is loaded) and coordinate descent with the exact finish (after)
    agree to rounding, far below ``tol``: a refit does not change with the process's history."""
    X, y = make_problem(80, 40, seed=7)
    sw = np.random.default_rng(1).uniform(0.5, 2, 80)
    alpha = 0.03 * alpha_max(X, y, sw) / l1_ratio
    fits = {}
    for name in ("homotopy", "cd"):
        route(name)
        fits[name] = sh.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive).fit(
            X, y, sample_weight=sw)
    np.testing.assert_allclose(fits["homotopy"].coef_, fits["cd"].coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(fits["homotopy"].coef_ == 0, fits["cd"].coef_ == 0)
    assert fits["homotopy"].intercept_ == pytest.approx(fits["cd"].intercept_, rel=1e-10)


def test_exact_finish_repairs_a_wrong_support():
    """From a point with a spurious coefficient and a missing one, the face iteration still ends
    at the minimiser."""
    X, y = make_problem(60, 30, seed=11)
    design = make_design(X, y)
    l1, l2 = lowered(30, 0.05 * alpha_max(X, y), 1.0)
    w, *_ = homotopy.solve_enet_homotopy(design, l1, l2, False, 10_000)
    start = w.copy()
    support = np.flatnonzero(w)
    start[support[0]] = 0.0  # one feature missing
    start[np.flatnonzero(w == 0)[0]] = 1e-3  # one spurious
    exact = homotopy.exact_on_support(design, start, l1, l2, False)
    assert exact is not None
    np.testing.assert_allclose(exact[0], w, rtol=0, atol=1e-12 * np.max(np.abs(w)))


def test_singular_faces_hand_over_to_coordinate_descent(route):
    """Duplicated columns without an L2 part: the path is not unique, the homotopy declines, and
    coordinate descent solves it to the documented tolerance."""
    route("homotopy")
    X, y = make_problem(40, 10, seed=5)
    X = np.hstack([X, X[:, :3]])
    design = make_design(X, y)
    l1, l2 = lowered(13, 0.001 * alpha_max(X, y), 1.0)
    assert homotopy.solve_enet_homotopy(design, l1, l2, False, 10_000) is None
    fit = sh.Lasso(alpha=0.001 * alpha_max(X, y), tol=1e-10).fit(X, y)
    assert fit.dual_gap_ <= 1e-10 * 0.5 * np.var(y)


def test_stalled_coordinate_descent_falls_back_on_the_homotopy(route):
    """p > n at a tiny alpha: coordinate descent does not reach the tolerance in 1000 passes, the
    homotopy is exact; the numba route hands over to it, so both routes agree."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 40)), rng.standard_normal(10)
    fits = {}
    for name in ("homotopy", "cd"):
        route(name)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            fits[name] = sh.Lasso(alpha=1e-4).fit(X, y)
    np.testing.assert_allclose(fits["cd"].coef_, fits["homotopy"].coef_, atol=1e-10)
    assert np.count_nonzero(fits["cd"].coef_) <= 9  # rank of the centred design
    assert fits["cd"].dual_gap_ <= 1e-12


def test_max_iter_bounds_the_homotopy(route):
    route("homotopy")
    X, y = make_problem(60, 30, seed=2)
    with pytest.warns(ConvergenceWarning, match="duality gap"):
        fit = sh.Lasso(alpha=1e-3 * alpha_max(X, y), max_iter=3).fit(X, y)
    assert fit.n_iter_ == 3 and np.count_nonzero(fit.coef_) <= 3


def test_path_and_solver_options_keep_coordinate_descent(route):
    """Paths (warm starts, per-alpha rule) and ``working_set=False`` stay on coordinate descent:
    the homotopy serves single fits only."""
    route("homotopy")
    X, y = make_problem(60, 30, seed=4)
    design = make_design(X, y)
    l1, l2 = lowered(30, 0.05 * alpha_max(X, y), 1.0)
    calls = []
    original = homotopy.timed_homotopy
    homotopy.timed_homotopy = lambda *a: calls.append(a) or original(*a)
    try:
        solve_enet(design, l1, l2, working_set=False, tol=1e-10)
        solve_enet(design, l1, l2, relative_to="start", tol=1e-10)
        assert not calls
        solve_enet(design, l1, l2, tol=1e-10)
        assert len(calls) == 1
    finally:
        homotopy.timed_homotopy = original


def _run(code, env_extra=None):
    import os

    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


FRESH = """
import sys, warnings
import numpy as np
import shrinkage as sh
from shrinkage.solvers import homotopy
homotopy.HANDOVER_SECONDS = {handover}
print("numba" in sys.modules)
rng = np.random.default_rng(0)
X = rng.standard_normal((100, 50)); y = X[:, 0] + 0.1 * rng.standard_normal(100)
for _ in range({fits}):
    sh.Lasso(alpha=0.01).fit(X, y)
    sh.Ridge(alpha=1.0).fit(X, y)
print("numba" in sys.modules)
"""


def test_a_fresh_process_fits_small_problems_without_numba():
    """``import shrinkage`` and small dense fits leave numba unimported (the cold-start target of
    issue 3); once the homotopy has spent ``HANDOVER_SECONDS``, numba is loaded."""
    assert _run(FRESH.format(handover=0.5, fits=2)) == ["False", "False"]
    assert _run(FRESH.format(handover=0.0, fits=2)) == ["False", "True"]


def test_lazy_kernels_become_dispatchers():
    """After the first kernel call, the kernel modules' globals are numba dispatchers, so kernels
    calling kernels compile against dispatchers; the proxies held elsewhere forward to them."""
    from shrinkage._kernels import cd_dense, prox_metric
    from shrinkage.solvers import cd

    cd_dense.column_sq_norms_dense(np.ones((3, 2)))  # any kernel call activates numba
    assert _jit.is_active()
    import numba

    assert isinstance(cd_dense._col_dot, numba.core.registry.CPUDispatcher)
    assert prox_metric.prange is numba.prange
    np.testing.assert_array_equal(cd.residual_dense(np.eye(2, order="F"), np.ones(2),
                                                    np.array([1.0, 0.0])), [0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _jit.activate() is numba  # idempotent


KERNEL_MODULES_AROUND_ACTIVATION = """
import importlib, pkgutil
import numpy as np
import shrinkage._kernels as kernels
from shrinkage._kernels import _jit
names = [info.name for info in pkgutil.iter_modules(kernels.__path__) if info.name != "_jit"]
modules = [importlib.import_module("shrinkage._kernels." + name) for name in names[:{before}]]
from shrinkage._kernels import cd_dense
cd_dense.column_sq_norms_dense(np.ones((3, 2)))  # activates numba
modules += [importlib.import_module("shrinkage._kernels." + name) for name in names[{before}:]]
for module in modules:
    for name, value in vars(module).items():
        assert not isinstance(value, (_jit.LazyKernel, _jit._LazyNumbaName)), (module, name)
from shrinkage._kernels import prox_metric
w = np.array([3.0, -0.5, 1.0])  # compiled here: the test runs it with an empty numba cache
prox_metric.prox_enet_metric_flat(w, np.ones(3), 0.0, False, 1.0, 1.0, False)
print(*w)
g = np.array([[3.0, 4.0], [0.1, 0.0]])  # prange and the thread id (per-thread scratch)
import numba
scratch = np.empty((numba.config.NUMBA_NUM_THREADS, 2, 2))
prox_metric.group_prox_metric(g, np.ones((2, 2)), 1.0, 0.0, False, np.ones(2), 1e-15, 50, scratch)
print(*g.ravel())
"""


@pytest.mark.parametrize("before", [0, 99])
def test_kernel_modules_hold_numba_objects_once_active(before, tmp_path):
    """Every kernel module holds dispatchers and numba's ``prange`` (and thread id) once numba
    is active, whether it was imported before the activation (rebound) or after (given them
    directly); an installed package imports them in whatever order its users call them."""
    out = _run(KERNEL_MODULES_AROUND_ACTIVATION.format(before=before),
               {"NUMBA_CACHE_DIR": str(tmp_path)})
    values = [float(v) for v in out]
    assert values[:3] == [1.0, 0.0, 0.0]
    # the group [3, 4] (norm 5) shrunk by 1 to norm 4; [0.1, 0] (norm < 1) to zero
    np.testing.assert_allclose(values[3:], [2.4, 3.2, 0.0, 0.0], rtol=1e-12)


def test_lasso_fit_is_idempotent_across_routes(route):
    """scikit-learn's ``check_fit_idempotent`` at its own tolerance, across the two routes."""
    X, y = make_problem(50, 20, seed=9)
    route("homotopy")
    first = sh.Lasso(alpha=0.01).fit(X, y).predict(X)
    route("cd")
    second = sh.Lasso(alpha=0.01).fit(X, y).predict(X)
    np.testing.assert_allclose(first, second, rtol=1e-7, atol=1e-9)
    ref = SkLasso(alpha=0.01, tol=1e-14, max_iter=100_000).fit(X, y).predict(X)
    np.testing.assert_allclose(first, ref, rtol=1e-9)


def test_lazy_kernels_pickle_by_reference():
    """A kernel proxy held somewhere (a closure, a task graph) pickles as a reference to the
    module's kernel, whether numba is imported yet or not."""
    import pickle

    code = """
import pickle, numpy as np
from shrinkage._kernels import cd_dense, _jit
proxy = cd_dense.column_sq_norms_dense
before = pickle.loads(pickle.dumps(proxy))
print(before is proxy, _jit.is_active())
print(float(before(np.ones((3, 2))).sum()), _jit.is_active())
after = pickle.loads(pickle.dumps(proxy))  # the proxy again, now that numba is imported
print(after is cd_dense.column_sq_norms_dense, float(after(np.ones((2, 2))).sum()))
"""
    assert _run(code) == ["True", "False", "6.0", "True", "True", "4.0"]
    assert pickle.loads(pickle.dumps(cd_dense_kernel())) is cd_dense_kernel()


def cd_dense_kernel():
    from shrinkage._kernels import cd_dense

    return cd_dense.column_sq_norms_dense
