"""The scikit-learn contract, bad input, warnings, warm starts and no mutation of the caller."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import check_estimator

import shrinkage as sh
from conftest import make_problem

ESTIMATORS = [
    sh.Lasso(alpha=0.1),
    sh.ElasticNet(alpha=0.1, l1_ratio=0.7),
    sh.Ridge(alpha=0.1),
    sh.Ridge(alpha=0.1, positive=True),
    sh.MAPRegressor(prior=sh.Laplace(1.0)),
    sh.MAPRegressor(prior=sh.Gaussian(1.0)),
    sh.MAPRegressor(),
]
# tight tol: the weighted and the repeated-rows fits must agree to 1e-7 in these checks
SELECTORS = [sh.LassoCV(cv=3, alphas=20, tol=1e-10, max_iter=100_000),
             sh.ElasticNetCV(cv=3, alphas=20, l1_ratio=[0.5, 1.0], tol=1e-10, max_iter=100_000),
             sh.LassoIC(alphas=20, noise_variance=1.0)]  # the checks include p > n


@pytest.mark.parametrize("estimator", ESTIMATORS + SELECTORS, ids=repr)
def test_check_estimator(estimator):
    check_estimator(estimator)


def _read_only(X, y):
    X, y = X.copy(), y.copy()
    if sp.issparse(X):
        for arr in (X.data, X.indices, X.indptr):
            arr.setflags(write=False)
    else:
        X.setflags(write=False)
    y.setflags(write=False)
    return X, y


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_caller_arrays_are_never_modified(estimator, layout):
    X, y = make_problem(40, 12, sparse=layout == "sparse")
    X_before = X.copy()
    y_before = y.copy()
    sw = np.linspace(0.5, 2.0, 40)
    sw_before = sw.copy()
    X_ro, y_ro = _read_only(X, y)
    sw.setflags(write=False)
    estimator.fit(X_ro, y_ro, sample_weight=sw)
    estimator.predict(X_ro)
    Xd = X_ro.toarray() if sp.issparse(X_ro) else X_ro
    Xb = X_before.toarray() if sp.issparse(X_before) else X_before
    np.testing.assert_array_equal(Xd, Xb)
    np.testing.assert_array_equal(y_ro, y_before)
    np.testing.assert_array_equal(sw, sw_before)


BAD_INPUTS = [
    ("NaN in X", lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y),
     "NaN"),
    ("inf in X", lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), y),
     "infinity"),
    ("NaN in y", lambda X, y: (X, np.where(np.arange(y.size) == 2, np.nan, y)), "NaN"),
    ("lengths", lambda X, y: (X, y[:-1]), "inconsistent numbers of samples"),
    ("1-d X", lambda X, y: (X[:, 0], y), "2D array"),
    ("3-d X", lambda X, y: (X[:, :, None], y), "dim"),
    ("empty", lambda X, y: (X[:0], y[:0]), "0 sample"),
    ("no features", lambda X, y: (X[:, :0], y), "0 feature"),
    ("strings", lambda X, y: (np.where(X > 0, "a", "b"), y), "non-numeric"),
]


@pytest.mark.parametrize(("what", "corrupt", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
@pytest.mark.parametrize("estimator", [sh.Lasso(), sh.Ridge(), sh.ElasticNet(), sh.MAPRegressor()],
                         ids=repr)
def test_bad_input_names_the_problem(estimator, what, corrupt, message):
    X, y = make_problem(20, 5)
    Xb, yb = corrupt(X, y)
    with pytest.raises(ValueError, match=message):
        estimator.fit(Xb, yb)


def test_non_numeric_dataframe_column_is_named():
    pd = pytest.importorskip("pandas")
    X, y = make_problem(20, 3)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["city"] = ["Paris", "Oslo"] * 10
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['city'\]"):
        sh.Lasso().fit(frame, y)


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (sh.Lasso(alpha=-1.0), "alpha"),
        (sh.Lasso(alpha=np.inf), "alpha"),
        (sh.Lasso(alpha=np.nan), "alpha"),
        (sh.Ridge(alpha=-0.5), "alpha"),
        (sh.ElasticNet(l1_ratio=1.5), "l1_ratio"),
        (sh.ElasticNet(l1_ratio=-0.1), "l1_ratio"),
        (sh.Lasso(penalty_factor=[1.0, 2.0]), "one entry per feature"),
        (sh.Lasso(penalty_factor=[1.0, -1.0, 1.0, 1.0, 1.0]), "non-negative"),
        (sh.Ridge(penalty_factor=[1.0, np.nan, 1.0, 1.0, 1.0]), "NaN"),
        (sh.MAPRegressor(noise=-1.0), "noise"),
        (sh.Lasso(tol=-1.0), "tol"),
        (sh.Lasso(max_iter=0), "max_iter"),
    ],
    ids=lambda v: v if isinstance(v, str) else repr(v),
)
def test_bad_parameters_raise_value_error(estimator, message):
    X, y = make_problem(20, 5)
    with pytest.raises(ValueError, match=message):
        estimator.fit(X, y)


def test_bad_sample_weight():
    X, y = make_problem(20, 5)
    with pytest.raises(ValueError, match="non-negative"):
        sh.Lasso().fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match=r"non-zero|positive sum"):
        sh.Lasso().fit(X, y, sample_weight=np.zeros(20))
    with pytest.raises(ValueError):
        sh.Lasso().fit(X, y, sample_weight=np.ones(19))


def test_convergence_warning_states_the_gap_and_tolerance(layout):
    X, y = make_problem(50, 200, sparse=layout == "sparse", seed=4)
    model = sh.Lasso(alpha=0.001, max_iter=2, tol=1e-12)
    with pytest.warns(ConvergenceWarning, match=r"duality gap .* > tolerance") as record:
        model.fit(X, y)
    gap_text = f"{model.dual_gap_:.3e}"
    assert gap_text in str(record[0].message)
    assert model.n_iter_ == 2


def test_no_warning_when_the_gap_is_within_tolerance(layout):
    X, y = make_problem(50, 80, sparse=layout == "sparse", seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = sh.Lasso(alpha=0.05, tol=1e-10).fit(X, y)
    yc = y - y.mean()
    assert 0 <= model.dual_gap_ <= 1e-10 * 0.5 * np.mean(yc**2)


def test_warm_start_resumes_from_the_previous_solution():
    X, y = make_problem(60, 100, seed=7)
    cold = sh.Lasso(alpha=0.05, tol=1e-10).fit(X, y)
    model = sh.Lasso(alpha=0.05, tol=1e-10, warm_start=True).fit(X, y)
    model.set_params(alpha=0.049)
    model.fit(X, y)
    fresh = sh.Lasso(alpha=0.049, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.coef_, fresh.coef_, atol=1e-6)
    assert model.n_iter_ < fresh.n_iter_
    # the same alpha again: starting at a certified solution costs no pass at all
    again = sh.Lasso(alpha=0.05, tol=1e-10, warm_start=True)
    again.coef_ = cold.coef_.copy()
    again.fit(X, y)
    assert again.n_iter_ == 0
    np.testing.assert_array_equal(again.coef_, cold.coef_)


def test_sample_weights_equal_repeated_rows(layout):
    X, y = make_problem(30, 10, sparse=layout == "sparse", seed=8)
    counts = np.random.default_rng(0).integers(1, 4, 30)
    rows = np.repeat(np.arange(30), counts)
    X_rep = X[rows]
    weighted = sh.ElasticNet(alpha=0.05, tol=1e-13, max_iter=10_000).fit(X, y, sample_weight=counts)
    repeated = sh.ElasticNet(alpha=0.05, tol=1e-13, max_iter=10_000).fit(X_rep, y[rows])
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-9)


def test_zero_response_gives_zero_coefficients():
    X, _ = make_problem(20, 5)
    model = sh.Lasso(alpha=0.1).fit(X, np.zeros(20))
    assert np.all(model.coef_ == 0) and model.dual_gap_ == 0 and model.n_iter_ == 1


def test_alpha_above_alpha_max_gives_zero_and_below_does_not(layout):
    X, y = make_problem(40, 30, sparse=layout == "sparse", seed=10)
    from conftest import alpha_max

    amax = alpha_max(X, y)
    assert np.all(sh.Lasso(alpha=amax * (1 + 1e-9)).fit(X, y).coef_ == 0)
    assert np.any(sh.Lasso(alpha=amax * (1 - 1e-3)).fit(X, y).coef_ != 0)
    grad0 = -(X.T @ (y - y.mean())) / 40
    assert sh.L1(1.0).alpha_max(np.asarray(grad0).ravel()) == pytest.approx(amax, rel=1e-12)
