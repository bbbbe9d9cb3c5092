"""Parity with Keras 3 on CPU: the same small model trained from identical weights on the same batches
(shuffle=False) ends with the same weights, to float32 rounding. The Keras runs are skipped when keras
is not importable; they use whichever Keras backend the session loaded (the conftest's keras_module
fixture picks one), and only backend-independent Keras calls."""
import os

import numpy as np
import pytest

import fastnn
from fastnn import layers

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")     # quiet TensorFlow if it is the backend
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # numpy 2 notices from Keras


@pytest.fixture
def keras(keras_module):
    return keras_module


# Float32 training runs in both libraries with different summation orders, so results differ by
# rounding. The check is relative to each array's scale (max |difference| <= TOL * max |value|): an
# elementwise relative tolerance would fail on the weights that are nearly zero, where Adam's
# normalised step turns a rounding difference in a tiny gradient into a visible one.
TOL = 1e-5
# Adam: fastnn's float32 update currently forms (1 - beta_2) in float32 (see
# test_adam_first_step_matches_keras_formula), a persistent ~6e-6 relative excess in every step, while
# Keras rounds 1 - beta_2 ** t in float32 (an early-step deficit of the same size); after a few
# epochs the two differ by about 1.2e-5 of the weight scale.
TOL_ADAM = 5e-5


def _assert_close(ours, theirs, tol=TOL):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    assert ours.shape == theirs.shape
    err = np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-3)
    print(f"scaled error {err:.2e}")
    assert err <= tol, f"max |difference| / max |value| = {err:.2e} > {tol:.0e}"


def _data(kind, n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    if kind == "regression":
        y = np.stack([np.sin(x[:, 0]), x[:, 1] * x[:, 2]], axis=1).astype(np.float32)
    elif kind == "binary":
        y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.float32).reshape(-1, 1)
    else:
        y = np.digitize(x[:, 0] + 0.3 * x[:, 3], [-0.5, 0.5]).astype(np.int64)
    return x, y


CASES = {
    "sgd_mse": dict(kind="regression", out=2, act=None, loss="mse", tol=TOL,
                    opt=lambda m: m.optimizers.SGD(learning_rate=0.05)),
    "sgd_momentum_mse": dict(kind="regression", out=2, act=None, loss="mse", tol=TOL,
                             opt=lambda m: m.optimizers.SGD(learning_rate=0.02, momentum=0.9, nesterov=True)),
    "adam_bce": dict(kind="binary", out=1, act="sigmoid", loss="binary_crossentropy", tol=TOL_ADAM,
                     opt=lambda m: m.optimizers.Adam(learning_rate=0.01)),
    "adam_sparse_cce": dict(kind="sparse", out=3, act="softmax", loss="sparse_categorical_crossentropy",
                            tol=TOL_ADAM, opt=lambda m: m.optimizers.Adam(learning_rate=0.005)),
}


def _build(lib, case, batchnorm=False):
    L = lib.layers
    stack = [L.Input(shape=(5,)), L.Dense(16, activation="tanh")]
    if batchnorm:
        stack.append(L.BatchNormalization())
    stack += [L.Dense(8, activation="relu"), L.Dense(case["out"], activation=case["act"])]
    model = lib.Sequential(stack)
    model.compile(optimizer=case["opt"](lib), loss=case["loss"])
    return model


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_matches_keras(keras, name):
    case = CASES[name]
    x, y = _data(case["kind"])
    fastnn.utils.set_random_seed(0)
    ours = _build(fastnn, case)
    theirs = _build(keras, case)
    theirs.set_weights(ours.get_weights())
    h1 = ours.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    h2 = theirs.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        _assert_close(a, b, case["tol"])
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-5)
    _assert_close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), case["tol"])


def test_training_with_batchnorm_matches_keras(keras):
    case = CASES["sgd_mse"]
    x, y = _data(case["kind"])
    fastnn.utils.set_random_seed(1)
    ours = _build(fastnn, case, batchnorm=True)
    theirs = _build(keras, case, batchnorm=True)
    theirs.set_weights(ours.get_weights())
    ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    theirs.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):   # includes the moving statistics
        _assert_close(a, b)
    ev_ours = ours.evaluate(x, y, verbose=0)
    ev_theirs = theirs.evaluate(x, y, verbose=0)
    assert ev_ours == pytest.approx(float(ev_theirs), rel=1e-4)


def test_adam_first_step_matches_keras_formula():
    # First Adam step from zero biases: -bias == alpha * m / (sqrt(v) + eps) with m = (1 - b1) g,
    # v = (1 - b2) g^2, alpha = lr sqrt(1 - b2) / (1 - b1), evaluated in float64. Float32 rounding
    # alone stays within a few 1e-7.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5)).astype(np.float32)
    y = rng.normal(size=(16, 3)).astype(np.float32)
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(5,)), layers.Dense(3)])
    m.set_weights([rng.normal(size=(5, 3)).astype(np.float32), np.zeros(3, np.float32)])
    probe = fastnn.optimizers.SGD(0.0)
    probe.build(m.parameters())
    probe.zero_grad()
    fastnn.losses.MeanSquaredError()(y, m(x, training=True)).backward()
    g = m.weights[1].grad.astype(np.float64)
    m.compile(fastnn.optimizers.Adam(learning_rate=0.01), "mse")
    m.train_on_batch(x, y)
    step = -m.get_weights()[1].astype(np.float64)
    alpha = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)
    want = alpha * (0.1 * g) / (np.sqrt(0.001 * g * g) + 1e-7)
    rel = np.abs(step - want).max() / np.abs(want).max()
    assert rel < 1e-6, f"relative error of the first Adam step: {rel:.2e}"
