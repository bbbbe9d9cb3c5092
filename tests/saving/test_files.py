"""Model files: atomic saving (an exception or a kill in the middle leaves the old file intact), and
loading that refuses anything that is not an intact fastnn file with fastnn.saving.FileFormatError
(a ValueError) — never another exception type, never executing code."""
from __future__ import annotations

import copy
import glob
import json
import math
import os
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import zlib

import numpy as np
import pytest

import fastnn
from fastnn import layers, saving
from fastnn.saving import FileFormatError

_PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


def _child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = _PKG_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("FASTNN_NUM_THREADS", "2")
    return env


def _model(seed=0, compiled=True, dtype="float32"):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(5, activation="relu"),
                           layers.BatchNormalization(), layers.Dropout(0.1),
                           layers.Dense(3, activation="softmax")], dtype=dtype)
    if compiled:
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        x = np.random.default_rng(seed).random((32, 4))
        m.fit(x, np.arange(32) % 3, epochs=1, verbose=0)
    return m


X = np.random.default_rng(123).random((16, 4)).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# file surgery: parse a file, change it, write it back with a valid checksum
# ------------------------------------------------------------------------------------------------
def _parse(data):
    version, hlen = struct.unpack("<IQ", data[8:20])
    return data[:8], version, json.loads(data[20:20 + hlen]), data[20 + hlen:-4]


def _build(header, payload, magic=saving.MAGIC_MODEL, version=saving.FORMAT_VERSION, hlen=None):
    hb = header if isinstance(header, bytes) else json.dumps(header).encode("utf-8")
    body = magic + struct.pack("<IQ", version, len(hb) if hlen is None else hlen) + hb + payload
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def _modified(data, change):
    magic, version, header, payload = _parse(data)
    header = copy.deepcopy(header)
    change(header)
    return _build(header, payload, magic, version)


def _refused(data, loader=saving.from_bytes):
    """The data must be refused with a FileFormatError (any other exception fails the test)."""
    with pytest.raises(FileFormatError) as ei:
        loader(data)
    assert str(ei.value)
    return str(ei.value)


def _v1_bytes(model):
    """The model as a version-1 file (the engine's parameter arena as one "params" array, the
    architecture as a Keras config): version-1 files still load, so their refusals stay tested."""
    snap = model._engine.snapshot(len(model.weights), with_optimizer=model.compiled)
    header = {"format": "fastnn", "kind": "model", "dtype": model.dtype, "config": model.get_config(),
              "compile": model._compile_config if model.compiled else None,
              "state": {"iterations": snap["iterations"], "optimizer_scalar": snap["optimizer_scalar"],
                        "rng": snap["rng"], "trainable": [bool(l.trainable) for l in model.layers]}}
    arrays = {"params": np.concatenate([w.ravel() for w in snap["weights"]])}
    if model.compiled:
        arrays["optimizer_state"] = snap["optimizer_state"]
    body = saving._pack(saving.MAGIC_MODEL, header, arrays)
    body = body[:8] + struct.pack("<I", 1) + body[12:-4]
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


@pytest.fixture(scope="module")
def good():
    return _v1_bytes(_model())


# ------------------------------------------------------------------------------------------------
# round trip (the baseline the refusals are measured against)
# ------------------------------------------------------------------------------------------------
def test_round_trip(tmp_path, good):
    m = _model()
    path = tmp_path / "m.fastnn"
    m.save(path)
    m2 = fastnn.load_model(path)
    np.testing.assert_array_equal(m.predict(X, verbose=0), m2.predict(X, verbose=0))
    assert m2.optimizer.iterations == m.optimizer.iterations
    assert issubclass(FileFormatError, ValueError)
    m3 = saving.from_bytes(good)
    assert m3.count_params() == m.count_params()


def test_model_without_weights_round_trip(tmp_path):
    """An empty parameter arena (only parameter-free layers) saves, loads and pickles."""
    import pickle

    m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Activation("tanh"), layers.Dropout(0.5)])
    m.compile(optimizer="sgd", loss="mse")
    assert m.count_params() == 0 and m.get_weights() == []
    ref = m.predict(X, verbose=0)
    np.testing.assert_allclose(ref, np.tanh(X), rtol=1e-6)
    m.save(tmp_path / "empty.fastnn")
    for m2 in (fastnn.load_model(tmp_path / "empty.fastnn"), pickle.loads(pickle.dumps(m))):
        np.testing.assert_array_equal(m2.predict(X, verbose=0), ref)
    m.save_weights(tmp_path / "w.fastnn")
    m.load_weights(tmp_path / "w.fastnn")


# ------------------------------------------------------------------------------------------------
# atomic writes
# ------------------------------------------------------------------------------------------------
def test_save_writes_a_temp_file_in_the_same_folder_and_renames(tmp_path, monkeypatch):
    calls = []
    real = os.replace

    def spy(src, dst):
        calls.append((os.fspath(src), os.fspath(dst), os.path.getsize(src)))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    path = tmp_path / "m.fastnn"
    _model().save(path)
    assert len(calls) == 1
    src, dst, size = calls[0]
    assert os.path.dirname(os.path.abspath(src)) == os.path.dirname(os.path.abspath(dst)) == str(tmp_path)
    assert os.path.basename(src).startswith(".fastnn-") and dst == str(path)
    assert size == os.path.getsize(path)  # the temp file was complete before the rename
    assert not os.path.exists(src)


@pytest.mark.parametrize("where, exc", [("replace", OSError), ("fsync", OSError), ("fsync", KeyboardInterrupt),
                                        ("write", OSError)])
def test_exception_while_saving_keeps_the_old_file(tmp_path, monkeypatch, where, exc):
    path = tmp_path / "m.fastnn"
    old = _model(seed=1)
    old.save(path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise exc("injected failure")

    if where == "replace":
        monkeypatch.setattr(os, "replace", boom)
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync", boom)
    else:
        real_fdopen = os.fdopen

        class Half:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *a):
                return self.f.__exit__(*a)

            def write(self, data):
                self.f.write(data[: len(data) // 2])
                raise exc("disk full")

            def __getattr__(self, name):
                return getattr(self.f, name)

        monkeypatch.setattr(os, "fdopen", lambda *a, **k: Half(real_fdopen(*a, **k)))
    new = _model(seed=2)
    with pytest.raises(exc, match="injected failure|disk full"):
        new.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(fastnn.load_model(path).predict(X, verbose=0), old.predict(X, verbose=0))
    assert glob.glob(str(tmp_path / ".fastnn-*")) == []  # no temp file left behind


def test_overwrite_false(tmp_path):
    path = tmp_path / "m.fastnn"
    _model(seed=1).save(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=False"):
        _model(seed=2).save(path, overwrite=False)
    assert path.read_bytes() == before
    with pytest.raises(FileNotFoundError, match="does not exist"):
        _model().save(tmp_path / "no" / "such" / "m.fastnn")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_saved_file_mode(tmp_path):
    path = tmp_path / "m.fastnn"
    old = os.umask(0o022)
    try:
        _model().save(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # as open() would create it, not mkstemp's 0600
    os.chmod(path, 0o640)
    _model().save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640  # the replaced file's mode is kept


_SAVER = textwrap.dedent("""
    import sys
    import fastnn
    from fastnn import layers
    m = fastnn.Sequential([layers.Input(shape=(1500,)), layers.Dense(2500), layers.Dense(3)])
    m.compile(optimizer="adam", loss="mse")
    print("ready", flush=True)
    while True:
        m.save(sys.argv[1])
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_while_saving_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.fastnn"
    old = _model(seed=3)
    old.save(path)
    ref = old.predict(X, verbose=0)
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    mid_save = 0
    for attempt in range(3):
        p = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, env=_child_env())
        try:
            assert p.stdout.readline().strip() == b"ready"
            deadline = time.monotonic() + 30
            # wait until a save is under way (its temp file exists and has data), then kill
            while time.monotonic() < deadline:
                tmps = [t for t in glob.glob(str(tmp_path / ".fastnn-*.tmp")) if os.path.getsize(t) > 0]
                if tmps:
                    break
                time.sleep(0.002)
            time.sleep(0.01 * attempt)
            p.send_signal(signal.SIGKILL)
        finally:
            p.wait(timeout=30)
            p.stdout.close()
        assert p.returncode == -signal.SIGKILL
        leftovers = glob.glob(str(tmp_path / ".fastnn-*.tmp"))
        mid_save += bool(leftovers)
        for t in leftovers:
            os.unlink(t)
        loaded = fastnn.load_model(path)  # old or new: always a whole file
        if loaded.count_params() == old.count_params():
            np.testing.assert_array_equal(loaded.predict(X, verbose=0), ref)
        else:
            assert loaded.count_params() == 1500 * 2500 + 2500 + 2500 * 3 + 3
    assert mid_save >= 1  # at least one kill landed in the middle of a save


# ------------------------------------------------------------------------------------------------
# truncation and corruption
# ------------------------------------------------------------------------------------------------
def test_every_short_truncation_is_refused(good):
    assert len(good) > 400
    cuts = list(range(0, 400)) + [len(good) // 2, len(good) - 5, len(good) - 4, len(good) - 1]
    for n in cuts:
        _refused(good[:n])


def test_truncated_file_on_disk(tmp_path, good):
    path = tmp_path / "t.fastnn"
    for n in (0, 7, 24, 100, len(good) - 1):
        path.write_bytes(good[:n])
        _refused(path, fastnn.load_model)
        _refused(path, lambda p: _model().load_weights(p))


def test_single_byte_corruptions_are_refused(good):
    positions = sorted(set(range(0, len(good), max(1, len(good) // 400))) | set(range(0, 64)) |
                       set(range(len(good) - 16, len(good))))
    for pos in positions:
        for flip in (0x01, 0x80, 0xFF):
            bad = bytearray(good)
            bad[pos] ^= flip
            _refused(bytes(bad))


def test_appended_garbage_is_refused(good):
    _refused(good + b"\x00")
    _refused(good + good)


@pytest.mark.parametrize("data", [b"", b"\x00" * 100, b"PK\x03\x04" + b"\x00" * 60,
                                  b"\x89HDF\r\n\x1a\n" + b"\x00" * 60, b"\x80\x04\x95" + b"\x00" * 60,
                                  b"FASTNN\x00X" + b"\x00" * 60], ids=["empty", "zeros", "zip", "hdf5", "pickle", "magic"])
def test_not_a_fastnn_file(data):
    msg = _refused(data)
    assert "not a fastnn file" in msg


def test_weights_and_model_files_are_told_apart(tmp_path):
    m = _model()
    m.save_weights(tmp_path / "w.fastnn")
    msg = _refused(tmp_path / "w.fastnn", fastnn.load_model)
    assert "weights file" in msg and "load_weights" in msg


def test_wrong_version(good):
    _, _, header, payload = _parse(good)
    for v in (0, 3, 2**31, 2**32 - 1):
        msg = _refused(_build(header, payload, version=v))
        assert f"unsupported format version {v}" in msg


# ------------------------------------------------------------------------------------------------
# hostile headers (valid checksum)
# ------------------------------------------------------------------------------------------------
def _arr(h, name="params"):
    return next(e for e in h["arrays"] if e["name"] == name)


_HOSTILE = {
    "huge-header-length": lambda d: _build(_parse(d)[2], _parse(d)[3], hlen=2**63),
    "header-length-past-end": lambda d: _build(_parse(d)[2], _parse(d)[3], hlen=len(d)),
    "header-length-zero": lambda d: _build(_parse(d)[2], _parse(d)[3], hlen=0),
    "header-not-json": lambda d: _build(b"{not json", _parse(d)[3]),
    "header-not-utf8": lambda d: _build(b"\xff\xfe\xfd", _parse(d)[3]),
    "header-a-list": lambda d: _build(b"[1, 2, 3]", _parse(d)[3]),
    "header-deep-nesting": lambda d: _build(b'{"a":' * 50000 + b"1" + b"}" * 50000, _parse(d)[3]),
    "header-huge-int": lambda d: _build(b'{"format": "fastnn", "x": ' + b"9" * 6000 + b"}", _parse(d)[3]),
    "format-missing": lambda d: _modified(d, lambda h: h.pop("format")),
    "arrays-missing": lambda d: _modified(d, lambda h: h.pop("arrays")),
    "arrays-a-dict": lambda d: _modified(d, lambda h: h.update(arrays={"params": 1})),
    "array-entry-a-list": lambda d: _modified(d, lambda h: h.update(arrays=[[1, 2]])),
    "array-name-int": lambda d: _modified(d, lambda h: _arr(h).update(name=5)),
    "array-duplicate": lambda d: _modified(d, lambda h: h["arrays"].append(dict(_arr(h)))),
    "shape-negative": lambda d: _modified(d, lambda h: _arr(h).update(shape=[-1])),
    "shape-huge": lambda d: _modified(d, lambda h: _arr(h).update(shape=[10**30])),
    "shape-wraps-to-zero": lambda d: _modified(d, lambda h: _arr(h).update(shape=[2**32, 2**32], nbytes=0)),
    "shape-wraps-int64": lambda d: _modified(d, lambda h: _arr(h).update(shape=[2**62, 4], nbytes=0)),
    "shape-float": lambda d: _modified(d, lambda h: _arr(h).update(shape=[3.5])),
    "shape-bool": lambda d: _modified(d, lambda h: _arr(h).update(shape=[True] * 3)),
    "shape-string": lambda d: _modified(d, lambda h: _arr(h).update(shape="12")),
    "shape-many-dims": lambda d: _modified(d, lambda h: _arr(h).update(shape=[1] * 10000)),
    "nbytes-mismatch": lambda d: _modified(d, lambda h: _arr(h).update(nbytes=_arr(h)["nbytes"] - 4)),
    "offset-past-end": lambda d: _modified(d, lambda h: _arr(h).update(offset=10**6)),
    "offset-negative": lambda d: _modified(d, lambda h: _arr(h).update(offset=-4)),
    "offset-huge": lambda d: _modified(d, lambda h: _arr(h).update(offset=2**64 + 1)),
    "offset-float": lambda d: _modified(d, lambda h: _arr(h).update(offset=0.5)),
    "dtype-object": lambda d: _modified(d, lambda h: _arr(h).update(dtype="object")),
    "dtype-unicode": lambda d: _modified(d, lambda h: _arr(h).update(dtype="<U10")),
    "dtype-int64": lambda d: _modified(d, lambda h: _arr(h).update(dtype="int64")),
    "dtype-list": lambda d: _modified(d, lambda h: _arr(h).update(dtype=["float32"])),
    "dtype-pickle": lambda d: _modified(d, lambda h: _arr(h).update(dtype="O")),
    "params-missing": lambda d: _modified(d, lambda h: h.update(arrays=[e for e in h["arrays"] if e["name"] != "params"])),
    "params-float64-in-float32-model": lambda d: _modified(
        d, lambda h: _arr(h).update(dtype="float64", shape=[_arr(h)["shape"][0] // 2])),
    "model-dtype-list": lambda d: _modified(d, lambda h: h.update(dtype=["float32"])),
    "model-dtype-int": lambda d: _modified(d, lambda h: h.update(dtype="int32")),
    "config-missing": lambda d: _modified(d, lambda h: h.pop("config")),
    "config-a-string": lambda d: _modified(d, lambda h: h.update(config="Sequential")),
    "layers-not-a-list": lambda d: _modified(d, lambda h: h["config"].update(layers={"a": 1})),
    "layer-an-int": lambda d: _modified(d, lambda h: h["config"]["layers"].insert(1, 7)),
    "layer-config-a-list": lambda d: _modified(d, lambda h: h["config"]["layers"][1].update(config=[1, 2])),
    "layer-nested-garbage": lambda d: _modified(
        d, lambda h: h["config"]["layers"][1]["config"].update(activation={"name": {"x": [[[{}]]]}})),
    "layer-unknown-class": lambda d: _modified(d, lambda h: h["config"]["layers"][1].update(class_name="Conv2D")),
    "layer-class-os-system": lambda d: _modified(d, lambda h: h["config"]["layers"][1].update(class_name="os.system")),
    "layer-class-dunder": lambda d: _modified(d, lambda h: h["config"]["layers"][1].update(class_name="__class__")),
    "layer-class-eval": lambda d: _modified(d, lambda h: h["config"]["layers"][1].update(class_name="builtins.eval")),
    "layer-class-not-str": lambda d: _modified(d, lambda h: h["config"]["layers"][1].update(class_name=["Dense"])),
    "units-huge": lambda d: _modified(d, lambda h: h["config"]["layers"][1]["config"].update(units=10**12)),
    "units-bigint": lambda d: _modified(d, lambda h: h["config"]["layers"][1]["config"].update(units=10**40)),
    "units-string": lambda d: _modified(d, lambda h: h["config"]["layers"][1]["config"].update(units="5")),
    "units-negative": lambda d: _modified(d, lambda h: h["config"]["layers"][1]["config"].update(units=-5)),
    "input-huge": lambda d: _modified(d, lambda h: h["config"]["layers"][0]["config"].update(shape=[10**11])),
    "input-negative": lambda d: _modified(d, lambda h: h["config"]["layers"][0]["config"].update(shape=[-4])),
    "input-missing": lambda d: _modified(d, lambda h: h["config"]["layers"].pop(0)),
    "activation-os-system": lambda d: _modified(
        d, lambda h: h["config"]["layers"][1]["config"].update(activation="os.system")),
    "initializer-seed-huge": lambda d: _modified(d, lambda h: h["config"]["layers"][1]["config"].update(
        kernel_initializer={"class_name": "GlorotUniform", "config": {"seed": 2**70}})),
    "regularizer-class-eval": lambda d: _modified(d, lambda h: h["config"]["layers"][1]["config"].update(
        kernel_regularizer={"class_name": "eval", "config": {}})),
    "dropout-rate-2": lambda d: _modified(d, lambda h: h["config"]["layers"][3]["config"].update(rate=2)),
    "bn-momentum-string": lambda d: _modified(d, lambda h: h["config"]["layers"][2]["config"].update(momentum="x")),
    "model-name-int": lambda d: _modified(d, lambda h: h["config"].update(name=5)),
    "state-a-list": lambda d: _modified(d, lambda h: h.update(state=[1])),
    "iterations-huge": lambda d: _modified(d, lambda h: h["state"].update(iterations=2**70)),
    "iterations-negative": lambda d: _modified(d, lambda h: h["state"].update(iterations=-1)),
    "iterations-string": lambda d: _modified(d, lambda h: h["state"].update(iterations="1")),
    "scalar-nan": lambda d: _modified(d, lambda h: h["state"].update(optimizer_scalar=float("nan"))),
    "rng-garbage": lambda d: _modified(d, lambda h: h["state"].update(rng=[-1, "x", None, 2**70])),
    "trainable-garbage": lambda d: _modified(d, lambda h: h["state"].update(trainable=[{}, [], "x"])),
    "compile-optimizer-a-list": lambda d: _modified(d, lambda h: h.update(compile={"optimizer": [1], "loss": "mse"})),
    "compile-no-loss": lambda d: _modified(d, lambda h: h["compile"].pop("loss")),
    "optimizer-class-os-system": lambda d: _modified(
        d, lambda h: h["compile"]["optimizer"].update(class_name="os.system")),
    "optimizer-config-garbage": lambda d: _modified(
        d, lambda h: h["compile"]["optimizer"].update(config={"learning_rate": {"x": [1]}, "beta_1": "y"})),
    "optimizer-config-a-list": lambda d: _modified(d, lambda h: h["compile"]["optimizer"].update(config=[1])),
    "loss-class-subprocess": lambda d: _modified(
        d, lambda h: h["compile"].update(loss={"class_name": "subprocess.Popen", "config": {}})),
    "loss-weights-string": lambda d: _modified(d, lambda h: h["compile"].update(loss_weights="x")),
    "optimizer-state-wrong-size": lambda d: _modified(
        d, lambda h: _arr(h, "optimizer_state").update(shape=[_arr(h, "optimizer_state")["shape"][0] - 1],
                                                        nbytes=_arr(h, "optimizer_state")["nbytes"] - 4)),
}


@pytest.mark.parametrize("case", sorted(_HOSTILE))
def test_hostile_header_is_refused(case, good, monkeypatch):
    called = []
    for mod, name in ((os, "system"), (os, "popen"), (subprocess, "Popen"), (os, "execv")):
        monkeypatch.setattr(mod, name, lambda *a, _n=name, **k: called.append(_n))
    data = _HOSTILE[case](good)
    _refused(data)
    assert called == []  # no code from the file ran


def test_config_values_of_every_wrong_type(good):
    """Every value in the stored configuration replaced by garbage of every kind: the file loads (the
    value was acceptable) or is refused with FileFormatError — no other outcome."""
    _, _, header, _ = _parse(good)
    garbage = [None, "x", -1, 0, 10**30, 1e308, float("nan"), True, [], {}, [[{}]], {"class_name": "os.system"}]
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])
        if path and path[0] in ("config", "compile", "state"):
            paths.append(path)

    walk(header, [])
    assert len(paths) > 50
    loaded = refused = 0
    for path in paths:
        for g in garbage:
            def change(h, path=path, g=g):
                node = h
                for p in path[:-1]:
                    node = node[p]
                node[path[-1]] = g
            data = _modified(good, change)
            try:
                m = saving.from_bytes(data)
            except FileFormatError:
                refused += 1
            else:
                loaded += 1
                assert m.predict(X, verbose=0).shape == (len(X), 3)  # what loads also runs
    assert refused > 0 and loaded > 0


def test_shapes_cannot_overflow_into_small_sizes(good):
    _, _, header, payload = _parse(good)
    for shape in ([2**32, 2**32], [2**63, 2], [2**31] * 4, [0, 2**70]):
        h = copy.deepcopy(header)
        _arr(h).update(shape=shape, nbytes=math.prod(shape) * 4 % 2**64)
        _refused(_build(h, payload))


def test_load_weights_refusals(tmp_path):
    m = _model()
    path = tmp_path / "w.fastnn"
    m.save_weights(path)
    good = path.read_bytes()
    for n in (0, 10, 30, len(good) - 1):
        path.write_bytes(good[:n])
        _refused(path, lambda p: _model().load_weights(p))
    path.write_bytes(good)
    other = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"load_weights: the file holds \d+ weights, the model has 10"):
        other.load_weights(path)
    w0 = other.get_weights()
    for a, b in zip(w0, other.get_weights()):
        np.testing.assert_array_equal(a, b)
