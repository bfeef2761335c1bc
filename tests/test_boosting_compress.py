"""Leaf lasso: the leaf-indicator matrix reproduces the ensemble, the path is the linear side's
lasso, and on friedman1 (n = 20 000, noise 1, 500 trees) it keeps <= 30% of the trees within 2%
of the full model's test error."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.model_selection import train_test_split

from shrinkage import lasso_path
from shrinkage.boosting import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    compress,
    leaf_indicator_matrix,
)


@pytest.fixture(scope="module")
def small():
    X, y = make_friedman1(n_samples=1500, noise=1.0, random_state=0)
    Xt, yt = make_friedman1(n_samples=1500, noise=1.0, random_state=1)
    model = GradientBoostingRegressor(n_estimators=60, learning_rate=0.1, max_depth=3).fit(X, y)
    return model, X, y, Xt, yt


def test_leaf_indicator_matrix_reproduces_the_ensemble(small):
    model, X, _, Xt, _ = small
    for data in (X, Xt):
        Z, columns = leaf_indicator_matrix(model, data)
        assert Z.format == "csc" and Z.shape == (data.shape[0], model.n_leaves_)
        np.testing.assert_array_equal(Z.sum(axis=1).A1, len(model.trees_))  # one leaf per tree
        theta = np.concatenate(model.leaf_values_)
        np.testing.assert_allclose(Z @ theta + model.base_margin_[0], model.predict(data),
                                   rtol=1e-12, atol=1e-12)
        assert sum(np.count_nonzero(c >= 0) for c in columns) == Z.shape[1]


def test_compress_is_the_lasso_path_and_drops_empty_trees(small):
    model, X, y, Xt, yt = small
    compressed, path = compress(model, X, y, alphas=8, adaptive=0.0, X_test=Xt, y_test=yt,
                                alpha=None)
    Z, _ = leaf_indicator_matrix(model, X)
    reference = lasso_path(Z, y, alphas=path.alphas)  # the linear side, called directly
    np.testing.assert_allclose(path.coefs, reference.coefs, atol=1e-10)
    # the returned model is the fewest-tree point within 2% of the full test error
    k = path.smallest_within(0.02)
    assert compressed.compression_alpha_ == pytest.approx(path.alphas[k])
    assert len(compressed.trees_) == path.n_trees[k]
    np.testing.assert_allclose(compressed.predict(X),
                               Z @ path.coefs[:, k] + path.intercepts[k], rtol=1e-10, atol=1e-10)
    assert np.mean((compressed.predict(Xt) - yt) ** 2) == pytest.approx(path.test_error[k])
    assert all(np.any(t.leaf_values != 0) for t in compressed.trees_)
    # fewer nonzero leaves as alpha grows; at alpha_max nothing is left
    assert np.all(np.diff(path.n_leaves) >= 0) and path.n_trees[0] == 0


def test_compress_with_cross_validation_and_a_classifier(small):
    model, X, y, _, _ = small
    compressed, path = compress(model, X, y, alphas=6, cv=3)
    assert path.cv_alpha in path.alphas and compressed.compression_alpha_ == path.cv_alpha
    Xc, yc = X, (y > np.median(y)).astype(int)
    clf = GradientBoostingClassifier(n_estimators=30, max_depth=3).fit(Xc, yc)
    small_clf, _ = compress(clf, Xc, alphas=6)
    assert np.mean(small_clf.predict(Xc) == clf.predict(Xc)) > 0.95  # distilled log-odds
    multi = GradientBoostingClassifier(n_estimators=2).fit(X[:300], np.arange(300) % 3)
    with pytest.raises(ValueError, match="binary"):
        compress(multi, X[:300])


@pytest.mark.slow  # about 25 s on 2 cores: the lasso path on a 20 000 x ~4 000 CSC matrix
def test_friedman1_keeps_at_most_30_percent_of_trees_within_2_percent():
    X, y = make_friedman1(n_samples=20_000, noise=1.0, random_state=0)
    Xt, yt = make_friedman1(n_samples=10_000, noise=1.0, random_state=1)
    model = GradientBoostingRegressor(n_estimators=500, learning_rate=0.1, max_depth=3).fit(X, y)
    compressed, _ = compress(model, X, y, alphas=10, tol=1e-3, X_test=Xt, y_test=yt)
    full = np.mean((model.predict(Xt) - yt) ** 2)
    test = np.mean((compressed.predict(Xt) - yt) ** 2)
    assert len(compressed.trees_) <= 0.30 * 500
    assert test <= 1.02 * full


def test_diabetes_keeps_at_most_30_percent_of_trees_within_2_percent():
    X, y = load_diabetes(return_X_y=True)
    X, Xt, y, yt = train_test_split(X, y, test_size=0.3, random_state=0)
    model = GradientBoostingRegressor(n_estimators=500, learning_rate=0.05, max_depth=2).fit(X, y)
    compressed, path = compress(model, X, y, alphas=30, X_test=Xt, y_test=yt)
    assert len(compressed.trees_) <= 0.30 * 500
    assert np.mean((compressed.predict(Xt) - yt) ** 2) <= 1.02 * path.full_test_error
