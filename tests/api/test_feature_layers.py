"""Keras's per-feature layers on the engine (Normalization with adapt(), Rescaling, GaussianNoise,
GaussianDropout, AlphaDropout, UnitNormalization, PReLU): outputs against Keras's formulas in
numpy float64 and against Keras itself where installed, gradients against finite differences,
training-only noise statistics, and save/load round trips."""
import importlib.util

import numpy as np
import pytest

import fastnn
from fastnn import layers

HAS_KERAS = importlib.util.find_spec("keras") is not None
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _x(n=32, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * np.arange(1, d + 1) + np.arange(d)


def _model(*ls, d=5, seed=0, dtype="float64"):
    return fastnn.Sequential([layers.Input(shape=(d,)), *ls], seed=seed, dtype=dtype)


# ---------------------------------------------------------------------------------------- formulas
def _unit64(x):
    x = np.asarray(x, np.float64)
    with np.errstate(divide="ignore"):
        return x * np.minimum(1 / np.sqrt((x * x).sum(axis=1, keepdims=True)), 1e12)


def test_normalization_adapt_computes_float64_mean_and_variance_and_standardizes():
    x = _x().astype(np.float32)
    norm = layers.Normalization()
    norm.adapt(x)
    x64 = x.astype(np.float64)
    np.testing.assert_array_equal(norm.mean, x64.mean(axis=0))
    np.testing.assert_array_equal(norm.variance, x64.var(axis=0))
    m = _model(norm)
    np.testing.assert_allclose(m.predict(x64, verbose=0), (x64 - x64.mean(0)) / np.sqrt(x64.var(0)), rtol=1e-12)
    np.testing.assert_array_equal(m.get_weights()[2], [32.0])
    assert [v.name for v in m.non_trainable_weights] == ["normalization/mean", "normalization/variance",
                                                          "normalization/count"] or \
        all(not v.trainable for v in m.weights)


def test_normalization_given_mean_and_variance_and_invert():
    x = _x()
    mean, var = np.arange(5.0), np.array([1.0, 4.0, 0.0, 9.0, 2.0])
    m = _model(layers.Normalization(mean=mean, variance=var))
    np.testing.assert_allclose(m.predict(x, verbose=0), (x - mean) / np.maximum(np.sqrt(var), 1e-7), rtol=1e-12)
    inv = _model(layers.Normalization(mean=3.0, variance=2.0, invert=True))
    np.testing.assert_allclose(inv.predict(x, verbose=0), 3.0 + x * np.sqrt(2.0), rtol=1e-12)
    adapted_later = layers.Normalization()
    m2 = _model(adapted_later)
    adapted_later.adapt(x)
    np.testing.assert_allclose(m2.predict(x, verbose=0), (x - x.mean(0)) / x.std(0), rtol=1e-12)


def test_normalization_refuses_bad_arguments():
    with pytest.raises(ValueError, match="both mean and variance"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="negative"):
        layers.Normalization(mean=0.0, variance=-1.0)
    with pytest.raises(NotImplementedError, match="axis"):
        layers.Normalization(axis=0)
    with pytest.raises(ValueError, match="NaN"):
        layers.Normalization().adapt(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="features"):
        n = layers.Normalization(input_shape=(3,))
        n.adapt(np.zeros((4, 2)))


def test_rescaling_unit_normalization_and_prelu_formulas():
    x = _x()
    np.testing.assert_allclose(_model(layers.Rescaling(1 / 255, offset=-0.5)).predict(x, verbose=0),
                               x / 255 - 0.5, rtol=1e-12)
    xz = np.vstack([x, np.zeros((1, 5))])
    np.testing.assert_allclose(_model(layers.UnitNormalization()).predict(xz, verbose=0), _unit64(xz),
                               rtol=1e-12, atol=0)
    alpha = np.array([0.1, -0.2, 0.3, 0.0, 1.5])
    p = _model(layers.PReLU())
    np.testing.assert_array_equal(p.predict(x, verbose=0), np.maximum(x, 0))   # Keras's alpha starts at 0
    p.layers[0].alpha.assign(alpha)
    np.testing.assert_allclose(p.predict(x, verbose=0), np.where(x > 0, x, alpha * x), rtol=1e-15)


@pytest.mark.parametrize("layer", [layers.GaussianNoise(0.5), layers.GaussianDropout(0.3), layers.AlphaDropout(0.2)],
                         ids=lambda l: type(l).__name__)
def test_noise_layers_are_the_identity_in_inference(layer):
    x = _x()
    m = _model(layer)
    np.testing.assert_array_equal(m.predict(x, verbose=0), x)
    np.testing.assert_array_equal(m(x).numpy(), x)


def test_noise_layers_in_training_follow_keras_distributions():
    n = 200_000
    x = np.ones((n, 1))
    noisy = _model(layers.GaussianNoise(0.5), d=1, seed=1)(x, training=True).numpy() - 1
    assert abs(noisy.mean()) < 0.01 and abs(noisy.std() - 0.5) < 0.01
    mult = _model(layers.GaussianDropout(0.3), d=1, seed=2)(x, training=True).numpy()
    assert abs(mult.mean() - 1) < 0.01 and abs(mult.var() - 0.3 / 0.7) < 0.01
    z = np.random.default_rng(3).normal(size=(n, 1))
    rate = 0.2
    out = _model(layers.AlphaDropout(rate), d=1, seed=4)(z, training=True).numpy()
    alpha_p = -SELU_ALPHA * SELU_SCALE
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    dropped = np.isclose(out, a * alpha_p + b, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - rate) < 0.01
    np.testing.assert_allclose(out[~dropped], a * z[~dropped] + b, rtol=1e-12)
    assert abs(out.mean()) < 0.01 and abs(out.var() - 1) < 0.02   # SELU's fixed point kept
    same = _model(layers.AlphaDropout(rate), d=1, seed=4)(z, training=True).numpy()
    np.testing.assert_array_equal(out, same)                        # the model's seeded generator


# ---------------------------------------------------------------------------------------- gradients
def _fd_check(model, x, y, loss=None, eps=1e-6):
    """Parameter and input gradients of the manual loop against central finite differences."""
    loss = loss or fastnn.losses.MeanSquaredError()
    model.compile("sgd", loss)
    model.optimizer.build(model.parameters())
    model.optimizer.zero_grad()
    lv = loss(y, model(x, training=True))
    lv.backward()

    def value():
        return float(loss(y, model.predict(x, verbose=0)))

    for v in model.trainable_weights:
        g, w0 = np.asarray(v.grad), v.numpy()
        num = np.zeros_like(w0)
        for idx in np.ndindex(w0.shape):
            for sgn in (1, -1):
                w = w0.copy()
                w[idx] += sgn * eps
                v.assign(w)
                num[idx] += sgn * value() / (2 * eps)
            v.assign(w0)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8, err_msg=v.name)
    wout = np.random.default_rng(9).normal(size=(x.shape[0], model.output_shape[1]))
    dx = model._engine.input_gradient(np.ascontiguousarray(x), np.ascontiguousarray(wout))
    num = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        for sgn in (1, -1):
            xp = x.copy()
            xp[idx] += sgn * eps
            num[idx] += sgn * float((model.predict(xp, verbose=0) * wout).sum()) / (2 * eps)
    np.testing.assert_allclose(dx, num, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("make", [
    lambda: layers.Normalization(mean=[0.5, -1, 2, 0, 1], variance=[2.0, 0.5, 3.0, 1.0, 4.0]),
    lambda: layers.Normalization(mean=1.0, variance=3.0, invert=True),
    lambda: layers.Rescaling(0.7, offset=0.2),
    lambda: layers.UnitNormalization(),
    lambda: layers.PReLU(alpha_initializer=fastnn.initializers.RandomUniform(-0.5, 0.5, seed=1)),
], ids=["normalization", "normalization_invert", "rescaling", "unit_normalization", "prelu"])
def test_gradients_against_finite_differences(make):
    x = _x(8, 5, seed=5)
    y = np.random.default_rng(6).normal(size=(8, 2))
    model = _model(layers.Dense(5, activation="tanh"), make(), layers.Dense(2), seed=7)
    _fd_check(model, x, y)


@pytest.mark.parametrize("layer", [layers.GaussianNoise(0.4), layers.GaussianDropout(0.3), layers.AlphaDropout(0.25)],
                         ids=lambda l: type(l).__name__)
def test_noise_layers_backpropagate_their_training_draws(layer):
    """Last layer = the noise: out = m * z + c per element; MSE to 0 gives dL/dW = x^T (dL/dout * m)."""
    x = _x(16, 5, seed=8)
    model = _model(layers.Dense(3, use_bias=False), layer, seed=9)
    model.compile("sgd", "mse")
    model.optimizer.build(model.parameters())
    model.optimizer.zero_grad()
    out = model(x, training=True)
    z = x @ model.layers[0].kernel.numpy()
    o = out.numpy()
    if isinstance(layer, layers.GaussianNoise):
        m = np.ones_like(o)
    elif isinstance(layer, layers.GaussianDropout):
        m = o / z
    else:
        alpha_p = -SELU_ALPHA * SELU_SCALE
        a = ((1 - layer.rate) * (1 + layer.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * layer.rate
        m = np.where(np.isclose(o, a * alpha_p + b, rtol=0, atol=1e-12), 0.0, a)
    fastnn.losses.MeanSquaredError()(np.zeros_like(o), out).backward()
    dout = 2 * o / o.size
    np.testing.assert_allclose(model.layers[0].kernel.grad, x.T @ (dout * m), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------------------- saving
def test_save_load_round_trip_keeps_every_layer_and_adapted_statistics(tmp_path):
    x = _x().astype(np.float32)
    norm = layers.Normalization()
    norm.adapt(x)
    model = fastnn.Sequential([norm, layers.Rescaling(0.5, 0.1), layers.Dense(6), layers.PReLU(),
                               layers.UnitNormalization(), layers.GaussianNoise(0.1), layers.GaussianDropout(0.1),
                               layers.AlphaDropout(0.1), layers.Dense(1)], seed=3)
    model.compile("adam", "mse")
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    path = str(tmp_path / "m.keras")
    with pytest.warns(UserWarning):
        model.save(path)
    back = fastnn.models.load_model(path)
    assert [type(l).__name__ for l in back.layers] == [type(l).__name__ for l in model.layers]
    for a, b in zip(model.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    h1 = model.fit(x, x[:, :1], epochs=1, verbose=0, shuffle=False)
    h2 = back.fit(x, x[:, :1], epochs=1, verbose=0, shuffle=False)
    assert h1.history == h2.history        # noise draws resume from the saved generator
    spec = back.spec()
    kinds = [ls.kind for ls in spec.layers]
    assert kinds[:2] == ["normalization", "rescaling"] and "prelu" in kinds
    assert [(v.name, v.shape, v.trainable) for v in spec.layers[0].variables] == \
        [("mean", (5,), False), ("variance", (5,), False), ("count", (1,), False)]
    clone = fastnn.models.clone_model(model)
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]


def test_exporters_refuse_kinds_they_do_not_know_by_name(tmp_path):
    model = _model(layers.GaussianDropout(0.2), layers.Dense(1), dtype="float32")
    pytest.importorskip("torch")
    from fastnn.interop import torch as tinterop
    with pytest.raises(ValueError, match="gaussian_dropout"):
        tinterop.to_torch(model)


# ---------------------------------------------------------------------------------------- Keras
@pytest.mark.skipif(not HAS_KERAS, reason="keras is not installed")
def test_against_keras(keras_module):
    keras = keras_module

    x = _x(20, 5, seed=11).astype(np.float32)
    kn = keras.layers.Normalization()
    kn.adapt(x)
    fn = layers.Normalization()
    fn.adapt(x)
    np.testing.assert_allclose(fn.mean, np.asarray(kn.mean).ravel(), rtol=1e-6)
    np.testing.assert_allclose(fn.variance, np.asarray(kn.variance).ravel(), rtol=1e-5)
    np.testing.assert_allclose(_model(fn, dtype="float32").predict(x, verbose=0),
                               keras.ops.convert_to_numpy(kn(x)), rtol=1e-5, atol=1e-6)
    cases = [(keras.layers.Rescaling(0.25, offset=1.0), layers.Rescaling(0.25, offset=1.0)),
             (keras.layers.UnitNormalization(), layers.UnitNormalization()),
             (keras.layers.Normalization(mean=2.0, variance=3.0, invert=True),
              layers.Normalization(mean=2.0, variance=3.0, invert=True))]
    for k, f in cases:
        np.testing.assert_allclose(_model(f, dtype="float32").predict(x, verbose=0),
                                   keras.ops.convert_to_numpy(k(x)), rtol=1e-5, atol=1e-6, err_msg=type(f).__name__)
    kp = keras.layers.PReLU()
    kp.build((None, 5))
    alpha = np.linspace(-0.5, 0.5, 5).astype(np.float32)
    kp.alpha.assign(alpha)
    fp = _model(layers.PReLU(), dtype="float32")
    fp.layers[0].alpha.assign(alpha)
    np.testing.assert_allclose(fp.predict(x, verbose=0), keras.ops.convert_to_numpy(kp(x)), rtol=1e-6)
    for k, f in [(keras.layers.GaussianNoise(0.3), layers.GaussianNoise(0.3)),
                 (keras.layers.GaussianDropout(0.3), layers.GaussianDropout(0.3)),
                 (keras.layers.AlphaDropout(0.3), layers.AlphaDropout(0.3))]:
        np.testing.assert_array_equal(_model(f, dtype="float32").predict(x, verbose=0),
                                      keras.ops.convert_to_numpy(k(x, training=False)))
    for name in ("Normalization", "Rescaling", "UnitNormalization", "PReLU", "GaussianNoise", "AlphaDropout"):
        assert getattr(fastnn.keras.layers, name) is getattr(layers, name)
    assert fastnn.layers.PReLU().name.startswith("p_re_lu")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_onnx_export_matches_predict(tmp_path, dtype):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    x = _x(16, 5, seed=12)
    norm = layers.Normalization()
    norm.adapt(x)
    inv = layers.Normalization(mean=1.0, variance=4.0, invert=True)
    prelu = layers.PReLU(alpha_initializer=fastnn.initializers.RandomUniform(-1, 1, seed=2))
    model = _model(norm, layers.Rescaling(0.5, offset=0.25), layers.Dense(6), prelu, layers.GaussianNoise(0.2),
                   layers.AlphaDropout(0.1), layers.UnitNormalization(), inv, layers.Dense(2), dtype=dtype)
    path = str(tmp_path / "m.onnx")
    model.export(path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    xin = x.astype(dtype)
    got = sess.run(None, {"input": xin})[0]
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, model.predict(xin, verbose=0), rtol=tol, atol=tol)
