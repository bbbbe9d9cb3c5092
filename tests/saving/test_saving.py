"""model.save / load_model, save_weights / load_weights and pickling: architecture, weights,
optimizer state, step count and compile configuration; training resumes bitwise."""
import copy
import json
import os
import pickle
import struct
import zlib

import numpy as np
import pytest

import fastnn
from fastnn import layers, saving


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float32)
    return x, y


def _model(seed=0, optimizer=None, dtype="float32"):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(5,)), layers.Dense(12, activation="relu"), layers.Dropout(0.2),
                           layers.BatchNormalization(), layers.Dense(1, activation="sigmoid")],
                          name="saved", dtype=dtype)
    m.compile(optimizer=optimizer or fastnn.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
              metrics=["accuracy", fastnn.metrics.Precision(name="prec")])
    return m


def _same(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(p, q) for p, q in zip(wa, wb))


@pytest.mark.parametrize("opt", [
    lambda: fastnn.optimizers.Adam(learning_rate=0.01),
    lambda: fastnn.optimizers.SGD(learning_rate=fastnn.optimizers.schedules.ExponentialDecay(0.1, 5, 0.5),
                                  momentum=0.9, nesterov=True),
    lambda: fastnn.optimizers.RMSprop(0.01, centered=True),
])
def test_loaded_model_continues_training_bitwise(tmp_path, opt):
    x, y = _data()
    a = _model(optimizer=opt())
    a.fit(x, y, batch_size=16, epochs=2, verbose=0)            # shuffled, with dropout
    path = tmp_path / "a.fnn"
    a.save(path)
    a.fit(x, y, batch_size=16, epochs=2, verbose=0)
    b = fastnn.models.load_model(path)
    assert b.optimizer.iterations == 12 and type(b.optimizer) is type(a.optimizer)
    b.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert _same(a, b)
    assert b.optimizer.iterations == a.optimizer.iterations == 24
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_pickle_and_deepcopy_round_trip():
    x, y = _data()
    a = _model()
    a.fit(x, y, batch_size=16, epochs=1, verbose=0)
    b = pickle.loads(pickle.dumps(a))
    c = copy.deepcopy(a)
    assert _same(a, b) and _same(a, c)
    assert b.layers[0]._model is b and b.optimizer._model is b
    for m in (a, b, c):
        m.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert _same(a, b) and _same(a, c)
    # Unbuilt and uncompiled models pickle too.
    u = fastnn.Sequential([layers.Dense(3), layers.Dense(1)], name="u")
    u.compile("sgd", "mse")
    v = pickle.loads(pickle.dumps(u))
    assert not v.built and v.compiled and v.name == "u" and [type(l) for l in v.layers] == [layers.Dense] * 2
    assert v.predict(np.ones((2, 4)), verbose=0).shape == (2, 1)


def test_compile_configuration_restored(tmp_path):
    x, y = _data()
    a = _model()
    a.compile(optimizer=fastnn.optimizers.Adam(learning_rate=0.003, beta_1=0.8),
              loss=fastnn.losses.BinaryCrossentropy(label_smoothing=0.1),
              metrics=["acc", fastnn.metrics.AUC(name="area", num_thresholds=50)],
              weighted_metrics=["accuracy"], loss_weights=2.0)
    a.fit(x, y, epochs=1, verbose=0)
    a.save(tmp_path / "m.fnn")
    b = fastnn.models.load_model(tmp_path / "m.fnn")
    assert b.compiled and b.metrics_names == a.metrics_names == ["loss", "acc", "area", "accuracy"]
    assert b.loss.label_smoothing == 0.1 and b._loss_weight == 2.0
    assert b.optimizer.beta_1 == 0.8 and b.optimizer.learning_rate == pytest.approx(0.003)
    assert b.metrics[1].num_thresholds == 50
    w = np.linspace(0, 1, 96)
    assert b.evaluate(x, y, sample_weight=w, verbose=0) == a.evaluate(x, y, sample_weight=w, verbose=0)
    c = fastnn.models.load_model(tmp_path / "m.fnn", compile=False)
    assert not c.compiled and _same(b, c)


def test_architecture_and_flags_restored(tmp_path):
    a = fastnn.Sequential([layers.Input(shape=(2, 3)), layers.Flatten(), layers.Dense(4, activation="elu"),
                           layers.LayerNormalization(), layers.Activation("softplus"), layers.Dense(2)],
                          dtype="float64")
    a.layers[1].trainable = False
    a.save(tmp_path / "arch.fnn")
    b = fastnn.models.load_model(tmp_path / "arch.fnn")
    assert b.get_config() == a.get_config() and not b.compiled and b.dtype == "float64"
    assert not b.layers[1].trainable and len(b.trainable_weights) == 4
    x = np.random.default_rng(0).normal(size=(7, 2, 3))
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_save_and_load_weights(tmp_path):
    x, y = _data()
    a = _model()
    a.fit(x, y, epochs=1, verbose=0)
    a.save_weights(tmp_path / "w.fnn")
    b = _model(seed=7)
    assert not _same(a, b)
    b.load_weights(tmp_path / "w.fnn")
    assert _same(a, b)
    a.save(tmp_path / "full.fnn")
    c = _model(seed=8)
    c.load_weights(tmp_path / "full.fnn")        # a whole-model file holds the weights too
    assert _same(a, c)
    small = fastnn.Sequential([layers.Input(shape=(5,)), layers.Dense(1)])
    with pytest.raises(ValueError, match="weights"):
        small.load_weights(tmp_path / "w.fnn")


def test_file_is_versioned_data_written_atomically(tmp_path):
    a = _model()
    path = tmp_path / "m.fnn"
    a.save(path)
    assert os.listdir(tmp_path) == ["m.fnn"]               # no temporary file left behind
    data = path.read_bytes()
    assert data[:8] == saving.MAGIC_MODEL
    version, hlen = struct.unpack("<IQ", data[8:20])
    assert version == saving.FORMAT_VERSION
    header = json.loads(data[20:20 + hlen])                 # the header is plain JSON
    assert header["config"]["name"] == "saved" and header["state"]["iterations"] == 0
    # Another version is refused, even with a valid checksum.
    bumped = data[:8] + struct.pack("<I", version + 1) + data[12:-4]
    bumped += struct.pack("<I", zlib.crc32(bumped) & 0xFFFFFFFF)
    path.write_bytes(bumped)
    with pytest.raises(saving.FileFormatError, match="version"):
        fastnn.models.load_model(path)
    path.write_bytes(data[:-10])
    with pytest.raises(saving.FileFormatError):
        fastnn.models.load_model(path)
    a.save(path)
    with pytest.raises(FileExistsError):
        a.save(path, overwrite=False)
    fastnn.models.load_model(path)


def test_saving_an_unbuilt_model_raises():
    m = fastnn.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        m.save("never-written.fnn")
    assert not os.path.exists("never-written.fnn")
