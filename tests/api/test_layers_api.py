"""Layers: variables (Keras layout, numpy access), configs, and the numbers of BatchNormalization and
LayerNormalization against float64 numpy formulas and, when it is importable, Keras 3."""
import os

import numpy as np
import pytest

import fastnn
from fastnn import layers


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")     # quiet TensorFlow if it is Keras's backend


def _np(keras, t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def _norm_model(norm, d=5, units=4, dtype="float64", seed=0):
    fastnn.utils.set_random_seed(seed)
    return fastnn.Sequential([layers.Input(shape=(d,)), layers.Dense(units), norm], dtype=dtype)


# ------------------------------------------------------------------------------------ variables
def test_variables_read_write_like_numpy():
    fastnn.utils.set_random_seed(0)
    d = layers.Dense(3, name="d")
    m = fastnn.Sequential([layers.Input(shape=(2,)), d])
    k = d.kernel
    assert k.shape == (2, 3) and k.dtype == np.float32 and k.name == "d/kernel"
    assert d.bias.name == "d/bias" and [v.name for v in m.weights] == ["d/kernel", "d/bias"]
    arr = np.asarray(k)
    np.testing.assert_array_equal(arr, k.numpy())
    np.testing.assert_array_equal(k * 2, arr * 2)
    np.testing.assert_array_equal(np.sum(k), arr.sum())
    assert k[0, 1] == arr[0, 1] and len(k) == 2 and k.ndim == 2
    k.assign(np.ones((2, 3)))
    np.testing.assert_array_equal(d.get_weights()[0], np.ones((2, 3)))
    d.bias.assign_add(np.full(3, 0.5))
    np.testing.assert_array_equal(np.asarray(d.bias), np.full(3, 0.5))
    np.testing.assert_array_equal(m.predict(np.ones((1, 2)), verbose=0), [[2.5, 2.5, 2.5]])
    with pytest.raises(ValueError, match="expected shape"):
        k.assign(np.ones((3, 2)))
    assert layers.Dense(2, use_bias=False).use_bias is False


def test_unbuilt_layer_has_no_weights():
    d = layers.Dense(3)
    assert d.weights == [] and d.get_weights() == []
    with pytest.raises(ValueError, match="not built"):
        d.kernel


def test_trainable_flags_on_variables():
    m = _norm_model(layers.BatchNormalization(), dtype="float32")
    names = [v.name.split("/")[1] for v in m.trainable_weights]
    assert names == ["kernel", "bias", "gamma", "beta"]
    assert [v.name.split("/")[1] for v in m.non_trainable_weights] == ["moving_mean", "moving_variance"]
    m.layers[1].trainable = False
    assert [v.name.split("/")[1] for v in m.trainable_weights] == ["kernel", "bias"]
    assert len(m.layers[1].non_trainable_weights) == 4


@pytest.mark.parametrize("layer", [
    layers.Dense(7, activation="relu", use_bias=False, kernel_initializer="he_normal",
                 kernel_regularizer=fastnn.regularizers.l2(0.01)),
    layers.Dropout(0.3, seed=4),
    layers.Activation("tanh"),
    layers.BatchNormalization(momentum=0.9, epsilon=1e-4, center=False),
    layers.LayerNormalization(epsilon=1e-5, scale=False),
    layers.Flatten(),
])
def test_layer_config_round_trip(layer):
    cfg = layer.get_config()
    clone = type(layer).from_config(cfg)
    assert clone.get_config() == cfg
    assert layers.deserialize(layers.serialize(layer)).get_config() == cfg


def test_layer_argument_errors_and_out_of_scope_names():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)
    with pytest.raises(TypeError, match="unexpected"):
        layers.Dense(3, bogus=1)
    with pytest.raises(NotImplementedError, match="Conv2D"):
        layers.Conv2D
    with pytest.raises(NotImplementedError, match="LSTM"):
        layers.LSTM
    with pytest.raises(AttributeError):
        layers.NoSuchLayer


def test_input_dim_and_input_shape_arguments():
    m = fastnn.Sequential([layers.Dense(4, input_dim=3), layers.Dense(1)])
    assert m.built and m.input_shape == (None, 3)
    m = fastnn.Sequential([layers.Dense(4, input_shape=(5,))])
    assert m.built and m.count_params() == 24


# ------------------------------------------------------------------------------------ normalization vs numpy
def _manual_grads(m, x, t):
    opt = fastnn.optimizers.SGD(0.0)
    opt.build(m.parameters())
    opt.zero_grad()
    out = m(x, training=True)
    fastnn.losses.MeanSquaredError()(t, out).backward()
    return np.asarray(out), [v.grad for v in m.weights]


def _norm_reference(x, W, b, g, be, t, axis):
    z = x @ W + b
    mu = z.mean(axis, keepdims=True)
    var = z.var(axis, keepdims=True)
    xh = (z - mu) / np.sqrt(var + 1e-3)
    y = xh * g + be
    dy = 2 * (y - t) / t.size
    dxh = dy * g
    dz = (dxh - dxh.mean(axis, keepdims=True) - xh * (dxh * xh).mean(axis, keepdims=True)) / np.sqrt(var + 1e-3)
    return y, [x.T @ dz, dz.sum(0), (dy * xh).sum(0), dy.sum(0)], mu, var


@pytest.mark.parametrize("kind", ["batch", "layer"])
def test_normalization_forward_backward_vs_numpy_float64(kind):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 5)) * 2 + 0.5
    t = rng.normal(size=(12, 4))
    norm = layers.BatchNormalization() if kind == "batch" else layers.LayerNormalization()
    assert norm.epsilon == 1e-3
    m = _norm_model(norm)
    g, be = rng.normal(size=4), rng.normal(size=4)
    ws = norm.get_weights()
    ws[0], ws[1] = g, be
    norm.set_weights(ws)
    W, b = m.layers[0].get_weights()
    out, grads = _manual_grads(m, x, t)
    ref, ref_grads, mu, var = _norm_reference(x, W, b, g, be, t, 0 if kind == "batch" else 1)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, ref_grads):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    if kind == "batch":
        assert norm.momentum == 0.99
        mm, mv = norm.get_weights()[2:]
        np.testing.assert_allclose(mm, 0.01 * mu.ravel(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(mv, 0.99 + 0.01 * var.ravel(), rtol=1e-12)
        z = x @ W + b
        np.testing.assert_allclose(m.predict(x, verbose=0), (z - mm) / np.sqrt(mv + 1e-3) * g + be, rtol=1e-12)
    else:
        np.testing.assert_array_equal(m.predict(x, verbose=0), out)   # no batch dependence


def test_batchnorm_moving_stats_in_fit_and_frozen_batchnorm_uses_them():
    rng = np.random.default_rng(2)
    x = (rng.normal(size=(64, 5)) * 3 + 2).astype(np.float32)
    y = rng.normal(size=(64, 4)).astype(np.float32)
    bn = layers.BatchNormalization(momentum=0.5)
    m = _norm_model(bn, dtype="float32")
    m.compile(fastnn.optimizers.SGD(0.0), "mse")
    m.fit(x, y, batch_size=64, epochs=30, verbose=0)
    z = x @ m.layers[0].get_weights()[0] + m.layers[0].get_weights()[1]
    mm, mv = bn.get_weights()[2:]
    np.testing.assert_allclose(mm, z.mean(0), rtol=1e-4, atol=1e-5)   # converged to the batch stats
    np.testing.assert_allclose(mv, z.var(0), rtol=1e-4)
    bn.trainable = False
    ws = bn.get_weights()
    ws[2] = ws[2] + 1.0
    bn.set_weights(ws)
    m.compile(fastnn.optimizers.SGD(0.1), "mse")
    before = bn.get_weights()
    np.testing.assert_array_equal(np.asarray(m(x, training=True)), m.predict(x, verbose=0))
    m.fit(x, y, epochs=1, verbose=0)
    assert all(np.array_equal(a, c) for a, c in zip(before, bn.get_weights()))


# ------------------------------------------------------------------------------------ vs Keras 3
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_batchnorm_matches_keras(keras_module):
    keras = keras_module
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(16, 6)) * 2 + 1).astype(np.float32)
    fastnn.utils.set_random_seed(0)
    bn = layers.BatchNormalization()
    m = fastnn.Sequential([layers.Input(shape=(6,)), bn])
    kb = keras.layers.BatchNormalization()
    kb.build((None, 6))
    ws = [rng.normal(size=6).astype(np.float32), rng.normal(size=6).astype(np.float32),
          rng.normal(size=6).astype(np.float32), rng.uniform(0.5, 2, size=6).astype(np.float32)]
    bn.set_weights(ws)
    kb.set_weights(ws)
    np.testing.assert_allclose(m.predict(x, verbose=0), _np(keras, kb(x, training=False)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(m(x, training=True)), _np(keras, kb(x, training=True)),
                               rtol=1e-4, atol=1e-4)
    for a, b in zip(bn.get_weights(), kb.get_weights()):   # moving statistics updated the same way
        np.testing.assert_allclose(a, _np(keras, b), rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_layernorm_matches_keras(keras_module):
    keras = keras_module
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(10, 7)) * 3).astype(np.float32)
    fastnn.utils.set_random_seed(0)
    ln = layers.LayerNormalization()
    m = fastnn.Sequential([layers.Input(shape=(7,)), ln])
    kl = keras.layers.LayerNormalization()
    kl.build((None, 7))
    ws = [rng.normal(size=7).astype(np.float32), rng.normal(size=7).astype(np.float32)]
    ln.set_weights(ws)
    kl.set_weights(ws)
    np.testing.assert_allclose(m.predict(x, verbose=0), _np(keras, kl(x)), rtol=1e-4, atol=1e-5)


def test_variables_compare_by_identity():
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(4), layers.Dense(2)])
    ws = m.trainable_weights
    assert ws[2] in ws and ws[2] != ws[0] and len(set(ws)) == 4
    assert m.layers[1].kernel is ws[2]
    np.testing.assert_array_equal(ws[0] > 10, np.zeros((3, 4), bool))   # other comparisons are elementwise
