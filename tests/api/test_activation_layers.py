"""ReLU, LeakyReLU, ELU, Softmax, Identity and Reshape layers: Keras 3's formulas, defaults and
argument checks, numerically against Keras where it is installed (KERAS_BACKEND=torch), config and
file round trips, and training through them equal to the fused Dense(activation=...) form."""

import numpy as np
import pytest

import fastnn
from fastnn import layers

X = np.random.default_rng(0).normal(scale=2.0, size=(16, 6)).astype(np.float32)


def _apply(layer, x=X):
    m = fastnn.Sequential([layers.Input(shape=x.shape[1:]), layer])
    return m.predict(x, verbose=0)


def _relu_ref(x, max_value=None, negative_slope=0.0, threshold=0.0):
    x = x.astype(np.float64)
    out = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return out if max_value is None else np.where(x >= max_value, max_value, out)


def _softmax_ref(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


CASES = [
    (lambda: layers.ReLU(), lambda x: _relu_ref(x)),
    (lambda: layers.ReLU(max_value=1.5), lambda x: _relu_ref(x, max_value=1.5)),
    (lambda: layers.ReLU(negative_slope=0.1), lambda x: _relu_ref(x, negative_slope=0.1)),
    (lambda: layers.ReLU(threshold=0.5), lambda x: _relu_ref(x, threshold=0.5)),
    (lambda: layers.ReLU(max_value=3.0, negative_slope=0.2, threshold=1.0),
     lambda x: _relu_ref(x, 3.0, 0.2, 1.0)),
    (lambda: layers.LeakyReLU(), lambda x: np.where(x >= 0, x, 0.3 * x)),
    (lambda: layers.LeakyReLU(negative_slope=0.05), lambda x: np.where(x >= 0, x, 0.05 * x)),
    (lambda: layers.ELU(), lambda x: np.where(x > 0, x, np.expm1(x.astype(np.float64)))),
    (lambda: layers.ELU(alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x.astype(np.float64)))),
    (lambda: layers.ELU(alpha=2.5), lambda x: np.where(x > 0, x, 2.5 * np.expm1(x.astype(np.float64)))),
    (lambda: layers.Softmax(), _softmax_ref),
    (lambda: layers.Softmax(axis=1), _softmax_ref),
    (lambda: layers.Identity(), lambda x: x),
]


@pytest.mark.parametrize("make,ref", CASES)
def test_against_keras_formula(make, ref):
    np.testing.assert_allclose(_apply(make()), ref(X.astype(np.float64)), rtol=1e-6, atol=1e-6)




@pytest.mark.parametrize("cls,kwargs", [
    ("ReLU", {}), ("ReLU", {"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.5}),
    ("ReLU", {"max_value": 6.0}), ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.01}),
    ("ELU", {}), ("ELU", {"alpha": 0.3}), ("Softmax", {}), ("Identity", {}),
])
def test_against_keras_numerically(cls, kwargs, keras_module):
    keras = keras_module
    ref = keras.ops.convert_to_numpy(getattr(keras.layers, cls)(**kwargs)(X))
    np.testing.assert_allclose(_apply(getattr(layers, cls)(**kwargs)), ref, rtol=1e-6, atol=1e-6)


def test_keras_defaults_and_config_keys_match_keras(keras_module):
    keras = keras_module
    for cls in ("ReLU", "LeakyReLU", "ELU", "Softmax", "Reshape"):
        args = ((4, 2),) if cls == "Reshape" else ()
        ours = getattr(layers, cls)(*args).get_config()
        theirs = getattr(keras.layers, cls)(*args).get_config()
        own_keys = {"name", "trainable", "dtype", "input_shape"}
        assert set(ours) - own_keys <= set(theirs), cls
        for k in set(ours) - own_keys:
            assert np.array_equal(np.asarray(ours[k], dtype=float), np.asarray(theirs[k], dtype=float)) \
                if ours[k] is not None else theirs[k] is None, (cls, k)


def test_automatic_names_follow_keras():
    assert layers.ReLU().name.startswith("re_lu")
    assert layers.LeakyReLU().name.startswith("leaky_re_lu")
    assert layers.ELU().name.startswith("elu")
    assert layers.Softmax().name.startswith("softmax")


@pytest.mark.parametrize("make,error", [
    (lambda: layers.ReLU(max_value=-1), "max_value cannot be negative"),
    (lambda: layers.ReLU(negative_slope=-0.1), "negative_slope cannot be negative"),
    (lambda: layers.ReLU(threshold=-1.0), "threshold cannot be negative"),
    (lambda: layers.ReLU(negative_slope=None), "negative_slope must be a finite number"),
    (lambda: layers.LeakyReLU(negative_slope=-0.3), "negative_slope cannot be negative"),
    (lambda: layers.ELU(alpha=float("nan")), "alpha must be a finite number"),
    (lambda: layers.ELU(alpha="1"), "alpha must be a finite number"),
    (lambda: layers.Softmax(axis=0), "axis must be -1"),
    (lambda: layers.Softmax(axis=True), "axis must be -1"),
    (lambda: layers.Reshape((2, -1, -1)), "at most one entry"),
    (lambda: layers.Reshape((0, 3)), "positive ints"),
    (lambda: layers.Reshape(()), "non-empty tuple"),
    (lambda: layers.Reshape("ab"), "non-empty tuple"),
])
def test_bad_arguments_raise_clear_errors(make, error):
    with pytest.raises(ValueError, match=error):
        make()


def test_leaky_relu_accepts_keras2_alpha_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1


def test_reshape_keeps_the_sample_size():
    m = fastnn.Sequential([layers.Input(shape=(12,)), layers.Reshape((3, 4)), layers.Flatten(),
                           layers.Reshape((-1,)), layers.Dense(2)])
    assert m.layers[0].output_shape == (3, 4) and m.layers[2].output_shape == (12,)
    x = np.random.default_rng(1).normal(size=(5, 12)).astype(np.float32)
    k, b = m.layers[3].get_weights()
    np.testing.assert_allclose(m.predict(x, verbose=0), x @ k + b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="keeps the size"):
        fastnn.Sequential([layers.Input(shape=(12,)), layers.Reshape((5, 2))])
    with pytest.raises(ValueError, match="cannot reshape"):
        fastnn.Sequential([layers.Input(shape=(12,)), layers.Reshape((5, -1))])
    with pytest.raises(ValueError, match="flat input"):
        fastnn.Sequential([layers.Input(shape=(12,)), layers.Reshape((3, 4)), layers.Dense(2)])


def test_functional_chain_and_softmax_on_non_flat_samples():
    inp = layers.Input(shape=(6,))
    h = layers.LeakyReLU()(layers.Dense(5)(inp))
    out = layers.Softmax()(layers.Dense(3)(layers.Identity()(h)))
    assert out.shape == (None, 3)
    m = fastnn.Model(inp, out)
    np.testing.assert_allclose(m.predict(X, verbose=0).sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="softmax needs flat inputs"):
        fastnn.Sequential([layers.Input(shape=(2, 3)), layers.Softmax()])


def _build(act_layers, dense_activation):
    fastnn.utils.set_random_seed(5)
    stack = [layers.Input(shape=(6,)), layers.Dense(8, activation=dense_activation)] + act_layers + \
        [layers.Dense(1)]
    m = fastnn.Sequential(stack)
    m.compile(optimizer=fastnn.optimizers.SGD(0.05), loss="mse")
    return m


@pytest.mark.parametrize("layer,activation", [
    (lambda: layers.ReLU(), "relu"), (lambda: layers.ELU(), "elu"),
    (lambda: layers.LeakyReLU(negative_slope=0.2), "leaky_relu"),
])
def test_training_through_the_layer_equals_the_fused_dense_activation(layer, activation):
    y = (X[:, :1] * 0.5 - X[:, 1:2]).astype(np.float32)
    a, b = _build([layer()], None), _build([], activation)
    b.set_weights(a.get_weights())
    a.fit(X, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    b.fit(X, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)


def test_config_and_file_round_trip(tmp_path):
    m = fastnn.Sequential([layers.Input(shape=(6,)), layers.Dense(12),
                           layers.ReLU(max_value=4.0, negative_slope=0.05, threshold=0.1),
                           layers.LeakyReLU(0.1), layers.ELU(alpha=0.7), layers.Identity(),
                           layers.Reshape((3, 4)), layers.Flatten(), layers.Dense(3), layers.Softmax()])
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    y = np.eye(3, dtype=np.float32)[np.arange(len(X)) % 3]
    m.fit(X, y, epochs=2, verbose=0)
    again = fastnn.Sequential.from_config(m.get_config())
    assert [type(l) for l in again.layers] == [type(l) for l in m.layers]
    assert [l.get_config() for l in again.layers] == [l.get_config() for l in m.layers]
    path = tmp_path / "act.fastnn"
    m.save(str(path))
    loaded = fastnn.models.load_model(str(path))
    assert [l.get_config() for l in loaded.layers] == [l.get_config() for l in m.layers]
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), m.predict(X, verbose=0))
    for l in m.layers:
        assert type(layers.deserialize(layers.serialize(l))) is type(l)


def test_exported_through_fastnn_keras_layers():
    from fastnn.keras.layers import ELU, Identity, LeakyReLU, ReLU, Reshape, Softmax

    assert (ReLU, LeakyReLU, ELU, Softmax, Identity, Reshape) == (
        layers.ReLU, layers.LeakyReLU, layers.ELU, layers.Softmax, layers.Identity, layers.Reshape)


def test_input_dtype_is_keras_float32():
    assert layers.Input(shape=(784,)).dtype == "float32"
    assert layers.Input(shape=(4,), dtype="float64").dtype == "float64"
    assert layers.Dense(3)(layers.Input(shape=(784,))).dtype == "float32"
