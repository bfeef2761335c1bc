"""Keras 3 (torch backend): the conventions row for Keras's L2 and the ProximalCallback."""

import math
import os
import warnings

import numpy as np
import pytest

pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":  # pragma: no cover
    pytest.skip("Keras was already loaded with another backend", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

from shrinkage.linear_model import Lasso  # noqa: E402
from shrinkage.penalties import L1, GroupLasso  # noqa: E402
from shrinkage.torch import penalty_loss  # noqa: E402
from shrinkage.torch.keras import ProximalCallback  # noqa: E402


def _kernel(model):
    return model.layers[0].kernel.value.detach().double().numpy().ravel()


def _data(n=40, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, :2] @ np.array([1.5, -1.0]) + 0.3 * rng.standard_normal(n)
    return X, y


def _linear(p, w0, regularizer=None):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((p,)), keras.layers.Dense(1, use_bias=False,
                                                                     kernel_regularizer=regularizer)])
    model.layers[0].kernel.assign(w0.reshape(p, 1))
    return model


def test_row_keras_l2_adds_l2_sum_w2():
    X, y = _data()
    n, p = X.shape
    w0 = np.random.default_rng(1).standard_normal(p)
    lr, l2 = 0.1, 0.05
    reg = keras.regularizers.L2(l2)
    assert float(reg(keras.ops.convert_to_tensor(w0))) == pytest.approx(l2 * np.sum(w0**2), rel=1e-6)
    # = shrinkage's L2(alpha = 2 l2) as a loss term (alpha * sum w^2 / 2)
    import torch

    from shrinkage.penalties import L2

    assert float(penalty_loss(torch.tensor(w0), L2(2 * l2))) == pytest.approx(l2 * np.sum(w0**2), rel=1e-14)
    model = _linear(p, w0, reg)
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    model.fit(X.astype("float32"), y.astype("float32"), batch_size=n, epochs=1, shuffle=False, verbose=0)
    # one step by hand: gradient of mean((Xw - y)^2) + l2 ||w||^2
    hand = w0 - lr * (2 * X.T @ (X @ w0 - y) / n + 2 * l2 * w0)
    np.testing.assert_allclose(_kernel(model), hand, rtol=1e-5, atol=1e-6)


def test_callback_with_sgd_reaches_the_lasso_with_exact_zeros():
    X, y = _data()
    n, p = X.shape
    alpha = 0.4
    # Keras's "mse" is twice (1/2n)||y - Xw||^2: mse + alpha ||w||_1 is minimised by Lasso(alpha / 2)
    ref = Lasso(alpha=alpha / 2, fit_intercept=False, tol=1e-12).fit(X, y).coef_
    assert 0 < np.sum(ref == 0) < p
    lr = 1.0 / (2 * np.linalg.eigvalsh(X.T @ X / n)[-1])
    model = _linear(p, np.zeros(p))
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    cb = ProximalCallback(L1(alpha), [model.layers[0].kernel])
    model.fit(X.astype("float32"), y.astype("float32"), batch_size=n, epochs=150, shuffle=False, verbose=0,
              callbacks=[cb])
    w = _kernel(model)
    np.testing.assert_array_equal(w == 0, ref == 0)
    np.testing.assert_allclose(w, ref, atol=1e-5 * np.abs(ref).max())


def test_callback_with_sgd_momentum_reaches_the_lasso():
    # heavy ball settles at lr / (1 - mu) along the gradient: thresholding at lr alpha would
    # minimise mse + (1 - mu) alpha ||w||_1 (a tenth of the penalty at mu = 0.9)
    X, y = _data()
    n, p = X.shape
    alpha = 0.4
    ref = Lasso(alpha=alpha / 2, fit_intercept=False, tol=1e-12).fit(X, y).coef_
    lr = 0.1 / (2 * np.linalg.eigvalsh(X.T @ X / n)[-1])
    for nesterov in (False, True):
        model = _linear(p, np.zeros(p))
        model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9, nesterov=nesterov), loss="mse")
        model.fit(X.astype("float32"), y.astype("float32"), batch_size=n, epochs=400, shuffle=False,
                  verbose=0, callbacks=[ProximalCallback(L1(alpha), [model.layers[0].kernel])])
        w = _kernel(model)
        np.testing.assert_array_equal(w == 0, ref == 0)
        np.testing.assert_allclose(w, ref, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("make_opt", [
    lambda: keras.optimizers.SGD(0.05), lambda: keras.optimizers.Adam(0.01),
    lambda: keras.optimizers.Adam(0.01, amsgrad=True), lambda: keras.optimizers.AdamW(0.01, weight_decay=0.0),
    lambda: keras.optimizers.RMSprop(0.01), lambda: keras.optimizers.RMSprop(0.01, centered=True),
    lambda: keras.optimizers.Adagrad(0.1), lambda: keras.optimizers.Adamax(0.01),
    lambda: keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.05, 1, 0.5)),
    lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.01, 1, 0.5)),
], ids=["SGD", "Adam", "Adam-amsgrad", "AdamW", "RMSprop", "RMSprop-centered", "Adagrad", "Adamax",
        "SGD-schedule", "Adam-schedule"])
@pytest.mark.parametrize("penalty", [L1(0.4), GroupLasso(0.3, dim=1)], ids=repr)
def test_the_solution_is_a_fixed_point_of_each_keras_optimizers_step(make_opt, penalty):
    # w = prox_T(w - T grad) at the minimiser only when the prox uses the metric T of the
    # optimizer's own step: from the solution, three batches must leave it there (to float32).
    # Two units (Keras's mse averages over them): mse + alpha P(W) is, unit by unit,
    # (1/2n)||y_k - X w_k||^2 + alpha P(w_k); GroupLasso(dim=1) groups a Dense kernel's units
    X, y = _data()
    n, p = X.shape
    Y = np.c_[y, 0.05 * X[:, 4]]          # the weak second unit dies under either penalty
    if isinstance(penalty, GroupLasso):
        ref = _solve_units(X, Y, penalty)
    else:
        ref = np.vstack([Lasso(alpha=penalty.alpha, fit_intercept=False, tol=1e-14).fit(X, col).coef_
                         for col in Y.T]).T
    assert np.any(ref == 0) and np.any(ref != 0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((p,)), keras.layers.Dense(2, use_bias=False)])
    model.layers[0].kernel.assign(ref.astype("float32"))
    model.compile(optimizer=make_opt(), loss="mse")
    model.fit(X.astype("float32"), Y.astype("float32"), batch_size=n, epochs=3, shuffle=False, verbose=0,
              callbacks=[ProximalCallback(penalty, [model.layers[0].kernel])])
    w = model.layers[0].kernel.value.detach().double().numpy()
    np.testing.assert_array_equal(w == 0, ref == 0)
    np.testing.assert_allclose(w, ref, atol=2e-5 * np.abs(ref).max())


def _solve_units(X, Y, penalty):
    """(1/2n)||Y - X W||_F^2 + penalty(W), W of shape (p, units), by proximal gradient to machine
    precision (the penalty's own prox)."""
    n = X.shape[0]
    step = n / np.linalg.eigvalsh(X.T @ X)[-1]
    W = np.zeros((X.shape[1], Y.shape[1]))
    for _ in range(20000):
        new = penalty.prox(W - step * X.T @ (X @ W - Y) / n, step)
        if np.abs(new - W).max() <= 1e-16 * np.abs(new).max():
            return new
        W = new
    return W


def _fit_lasso_layer(optimizer, epochs, alpha=0.4):
    X, y = _data()
    n, p = X.shape
    model = _linear(p, np.zeros(p))
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(X.astype("float32"), y.astype("float32"), batch_size=n, epochs=epochs, shuffle=False, verbose=0,
              callbacks=[ProximalCallback(L1(alpha), [model.layers[0].kernel])])
    return _kernel(model)


def test_callback_follows_the_steps_taken_accumulated_and_loss_scaled():
    # with gradient_accumulation_steps=2 the optimizer steps every other batch (full batches: the
    # averaged gradient is the batch's own), and the prox only then; a LossScaleOptimizer (Keras's
    # mixed precision) is seen through, to its optimizer's metric
    plain = _fit_lasso_layer(keras.optimizers.Adam(0.05), 20)
    assert 0 < np.mean(plain == 0) < 1
    accumulated = _fit_lasso_layer(keras.optimizers.Adam(0.05, gradient_accumulation_steps=2), 40)
    np.testing.assert_allclose(accumulated, plain, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(accumulated == 0, plain == 0)
    wrapped = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.05), initial_scale=4.0)
    scaled = _fit_lasso_layer(wrapped, 20)
    np.testing.assert_allclose(scaled, plain, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(scaled == 0, plain == 0)


def test_callback_with_adam_thresholds_in_keras_adams_metric():
    X, y = _data()
    n, p = X.shape
    w0 = np.random.default_rng(2).standard_normal(p) * 0.01
    lr, alpha, eps, b1, b2 = 0.01, 3.0, 1e-7, 0.9, 0.999
    model = _linear(p, w0)
    model.compile(optimizer=keras.optimizers.Adam(lr, epsilon=eps), loss="mse")
    model.fit(X.astype("float32"), y.astype("float32"), batch_size=n, epochs=2, shuffle=False, verbose=0,
              callbacks=[ProximalCallback(L1(alpha), [model.layers[0].kernel])])
    # two steps by hand of Keras's Adam (eps added to sqrt(v), then the bias corrections), each
    # followed by soft-thresholding at alpha times that step
    w, m, v = w0.copy(), np.zeros(p), np.zeros(p)
    for k in (1, 2):
        g = 2 * X.T @ (X @ w - y) / n
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        scale = lr * math.sqrt(1 - b2**k) / (1 - b1**k)
        w = w - scale * m / (np.sqrt(v) + eps)
        t = lr * math.sqrt(1 - b2**k) / (np.sqrt(v) + eps) * alpha
        w = np.sign(w) * np.maximum(np.abs(w) - t, 0)
    got = _kernel(model)
    np.testing.assert_array_equal(got == 0, w == 0)
    assert np.any(got == 0)
    np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-6)


def test_callback_bad_input():
    with pytest.raises(TypeError, match="shrinkage penalty"):
        ProximalCallback(0.1, [])
    with pytest.raises(ValueError, match="at least one"):
        ProximalCallback(L1(0.1), [])
    with pytest.raises(TypeError, match="keras Variables"):
        ProximalCallback(L1(0.1), [np.ones(3)])


@pytest.mark.parametrize(("make_opt", "warns"), [(lambda: keras.optimizers.Lion(0.01), True),
                                                 (lambda: keras.optimizers.Adadelta(1.0), False),
                                                 (lambda: keras.optimizers.Adam(0.01), False)],
                         ids=["Lion", "Adadelta", "Adam"])
def test_callback_warns_when_the_optimizers_step_is_not_known(make_opt, warns):
    X, y = _data()
    model = _linear(X.shape[1], np.zeros(X.shape[1]))
    model.compile(optimizer=make_opt(), loss="mse")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(X.astype("float32"), y.astype("float32"), batch_size=X.shape[0], epochs=2, verbose=0,
                  callbacks=[ProximalCallback(L1(0.1), [model.layers[0].kernel])])
    messages = [str(r.message) for r in record if "ProximalCallback" in str(r.message)]
    assert len(messages) == int(warns)
    if warns:
        assert "Lion is not one whose step shrinkage knows" in messages[0]
