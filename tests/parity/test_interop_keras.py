"""fastnn.interop and Keras 3: model objects both ways (where keras is installed), Keras's own files
read and written without Keras (h5py), and load_model / save on Keras file names."""
import json
import os
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import activations, interop, layers

h5py = pytest.importorskip("h5py", reason="Keras weight files need h5py (the 'keras' extra)")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # numpy 2 notices from Keras
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
KERAS_ACTIVATIONS = sorted(set(activations.ALL) - {"swish", "hard_swish"})


def _randomize(model, rng):
    model.set_weights([rng.uniform(0.5, 2.0, size=v.shape) if v.name.endswith("variance")
                       else rng.normal(size=v.shape) for v in model.weights])
    return model


def _all_kinds(dtype="float32", act="relu"):
    return fastnn.Sequential([
        layers.Input((2, 3)), layers.Flatten(), layers.Dense(6, activation=act, name="fc"),
        layers.BatchNormalization(momentum=0.8, epsilon=1e-2, name="bn"), layers.Activation({"name": "leaky_relu", "negative_slope": 0.1}),
        layers.Dropout(0.3), layers.LayerNormalization(epsilon=1e-4, center=False),
        layers.Dense(4, activation={"name": "elu", "alpha": 0.5}), layers.Dense(3, activation="softmax"),
    ], dtype=dtype, name="all_kinds")


# ------------------------------------------------------------------------------- without Keras
def test_committed_fixture_reads_without_keras():
    with open(os.path.join(FIXTURES, "tiny_keras_expected.json")) as f:
        expected = json.load(f)
    model = interop.load_keras(os.path.join(FIXTURES, "tiny.keras"))
    assert [type(l).__name__ for l in model.layers] == ["Flatten", "Dense", "BatchNormalization", "Activation",
                                                         "Dropout", "LayerNormalization", "Dense"]
    assert model.layers[2].momentum == 0.9 and model.layers[5].epsilon == 1e-4
    x = np.asarray(expected["x"], dtype=np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(expected["predictions"]), rtol=1e-5, atol=1e-6)


def test_weights_from_the_fixture_into_a_model_built_by_hand():
    model = fastnn.Sequential([layers.Input((2, 3)), layers.Flatten(), layers.Dense(5, activation="gelu"),
                               layers.BatchNormalization(momentum=0.9), layers.Activation("relu"),
                               layers.LayerNormalization(epsilon=1e-4), layers.Dense(3, activation="softmax")])
    interop.load_keras_weights(model, os.path.join(FIXTURES, "tiny.keras"))
    reference = interop.load_keras(os.path.join(FIXTURES, "tiny.keras"))
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_keras_then_load_keras(dtype, tmp_path):
    model = _randomize(_all_kinds(dtype), np.random.default_rng(0))
    path = tmp_path / "m.keras"
    interop.save_keras(model, path)
    back = interop.load_keras(path)
    assert back.dtype == dtype
    x = np.random.default_rng(1).normal(size=(9, 2, 3)).astype(dtype)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_file_errors(tmp_path):
    model = _all_kinds()
    with pytest.raises(ValueError, match=r"\.keras"):
        interop.save_keras(model, tmp_path / "m.zip")
    (tmp_path / "junk.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a zip"):
        interop.load_keras(tmp_path / "junk.keras")
    with h5py.File(tmp_path / "w.weights.h5", "w") as f:
        f.create_group("layers")
    with pytest.raises(ValueError, match="load_keras_weights"):
        interop.load_keras(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match="missing"):
        interop.load_keras_weights(model, tmp_path / "w.weights.h5")
    other = fastnn.Sequential([layers.Input((2, 3)), layers.Flatten(), layers.Dense(7), layers.Dense(3)])
    interop.save_keras(other, tmp_path / "other.keras")
    with pytest.raises(ValueError, match="shape"):
        interop.load_keras_weights(fastnn.Sequential([layers.Input((2, 3)), layers.Flatten(), layers.Dense(6),
                                                      layers.Dense(3)]), tmp_path / "other.keras")


def test_load_model_names_the_reader_of_foreign_files(tmp_path):
    with pytest.raises(ValueError, match=r"Keras \.keras archive.*fastnn\.interop\.load_keras"):
        fastnn.models.load_model(os.path.join(FIXTURES, "tiny.keras"))
    with h5py.File(tmp_path / "w.weights.h5", "w") as f:
        f.create_group("layers")
    with pytest.raises(ValueError, match="load_keras_weights"):
        fastnn.models.load_model(tmp_path / "w.weights.h5")
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "m.pt")
    with pytest.raises(ValueError, match="from_torch"):
        fastnn.models.load_model(tmp_path / "m.pt")
    (tmp_path / "x.bin").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match=r"bad magic\)$"):
        fastnn.models.load_model(tmp_path / "x.bin")


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.fastnn"])
def test_save_on_keras_names_warns_and_round_trips(name, tmp_path):
    model = _randomize(_all_kinds(), np.random.default_rng(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.save(tmp_path / name)
    msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    if name == "m.fastnn":
        assert not msgs
    else:
        assert len(msgs) == 1 and "fastnn's format" in msgs[0] and "save_keras" in msgs[0]
        assert caught[0].filename == __file__   # the warning points at the caller's save()
    back = fastnn.models.load_model(tmp_path / name)
    x = np.random.default_rng(3).normal(size=(5, 2, 3)).astype("float32")
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


# ------------------------------------------------------------------------------- with Keras
@pytest.fixture
def keras(keras_module):
    return keras_module


def _keras_all_kinds(keras, dtype, act):
    L = keras.layers
    return keras.Sequential([
        keras.Input((2, 3), dtype=dtype), L.Flatten(dtype=dtype), L.Dense(6, activation=act, dtype=dtype),
        L.BatchNormalization(momentum=0.7, epsilon=1e-2, dtype=dtype), L.ReLU(max_value=3.0, dtype=dtype),
        L.LeakyReLU(0.2, dtype=dtype), L.ELU(0.7, dtype=dtype), L.Dropout(0.5, dtype=dtype),
        L.LayerNormalization(scale=False, dtype=dtype), L.Dense(4, use_bias=False, dtype=dtype),
        L.Activation(act, dtype=dtype), L.Dense(3, dtype=dtype), L.Softmax(dtype=dtype),
    ])


def _keras_randomize(keras_model, rng):
    for v in keras_model.weights:
        shape = tuple(v.shape)
        v.assign(rng.uniform(0.5, 2.0, size=shape) if "variance" in v.path else rng.normal(size=shape))
    return keras_model


# Keras 3.15 on the torch backend computes a float64 Dense about 2e-7 (relative) away from numpy's
# float64 x @ kernel + bias, which fastnn matches to rounding; so float64 predictions are compared
# at 2e-6, and the converted weights are compared exactly.
TOL = {"float32": 2e-5, "float64": 2e-6}


def _inputs(rng, shape, dtype):
    # Keras's predict casts numpy inputs to its floatx (float32): float64 inputs that float32 holds
    # exactly keep the float64 comparison exact.
    return rng.normal(size=shape).astype(np.float32).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", KERAS_ACTIVATIONS)
def test_keras_objects_both_ways(keras, act, dtype):
    rng = np.random.default_rng(4)
    km = _keras_randomize(_keras_all_kinds(keras, dtype, act), rng)
    x = _inputs(rng, (17, 2, 3), dtype)
    expected = np.asarray(km.predict(x, verbose=0))
    ours = interop.from_keras(km)
    assert ours.dtype == dtype
    keras_weights = [np.asarray(w) for l in km.layers for w in l.get_weights()]
    assert len(keras_weights) == len(ours.weights)
    for a, b in zip(ours.get_weights(), keras_weights):
        np.testing.assert_array_equal(a, b)
    got = ours.predict(x, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=TOL[dtype], atol=TOL[dtype])
    back = interop.to_keras(ours)
    np.testing.assert_allclose(np.asarray(back.predict(x, verbose=0)), got, rtol=TOL[dtype], atol=TOL[dtype])


def test_fastnn_to_keras_keeps_names_and_settings(keras):
    model = _randomize(_all_kinds(), np.random.default_rng(5))
    km = interop.to_keras(model)
    bn = km.get_layer("bn")
    assert bn.momentum == 0.8 and bn.epsilon == 1e-2
    assert km.get_layer("fc").units == 6
    x = np.random.default_rng(6).normal(size=(8, 2, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(km.predict(x, verbose=0)), model.predict(x, verbose=0), rtol=2e-5, atol=2e-6)


def test_files_written_by_keras(keras, tmp_path):
    rng = np.random.default_rng(7)
    km = _keras_randomize(_keras_all_kinds(keras, "float32", "tanh"), rng)
    km.save(tmp_path / "k.keras")
    km.save_weights(tmp_path / "k.weights.h5")
    x = rng.normal(size=(11, 2, 3)).astype("float32")
    expected = np.asarray(km.predict(x, verbose=0))
    ours = interop.load_keras(tmp_path / "k.keras")
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=2e-5, atol=2e-6)
    fresh = fastnn.models.clone_model(ours)
    interop.load_keras_weights(fresh, tmp_path / "k.weights.h5")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_keras_reads_what_save_keras_writes(keras, dtype, tmp_path):
    model = _randomize(_all_kinds(dtype, act="gelu"), np.random.default_rng(8))
    interop.save_keras(model, tmp_path / "f.keras")
    km = keras.models.load_model(tmp_path / "f.keras")
    x = _inputs(np.random.default_rng(9), (6, 2, 3), dtype)
    np.testing.assert_allclose(np.asarray(km.predict(x, verbose=0)), model.predict(x, verbose=0),
                               rtol=TOL[dtype], atol=TOL[dtype])


def test_functional_chain_and_refusals(keras):
    inp = keras.Input((4,))
    h = keras.layers.Dense(3, activation="relu")(inp)
    out = keras.layers.Dense(2)(h)
    km = _keras_randomize(keras.Model(inp, out), np.random.default_rng(10))
    x = np.random.default_rng(11).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(interop.from_keras(km).predict(x, verbose=0), np.asarray(km.predict(x, verbose=0)),
                               rtol=2e-5, atol=2e-6)
    branch = keras.layers.Add()([keras.layers.Dense(4)(inp), inp])
    with pytest.raises(ValueError, match="Add"):
        interop.from_keras(keras.Model(inp, keras.layers.Dense(2)(branch)))
    with pytest.raises(ValueError, match="Conv1D"):
        interop.from_keras(keras.Sequential([keras.Input((8, 1)), keras.layers.Conv1D(2, 3)]))
    with pytest.raises(TypeError, match="keras.Model"):
        interop.from_keras(object())
    gelu_tanh = fastnn.Sequential([layers.Input((3,)), layers.Dense(2, activation={"name": "gelu", "approximate": True})])
    with pytest.raises(ValueError, match="gelu"):
        interop.to_keras(gelu_tanh)
