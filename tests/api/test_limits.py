"""Sizes, counts and integers at fastnn's doors (fastnn._limits, docs/LIMITS.md): each bound is refused
with a message that names the argument, what was expected and what was received, before anything is
allocated; a crash is possible where the engine would have been reached, so those cases run in a
subprocess."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest

import fastnn
from fastnn import _limits, layers, saving


def _run(code, mem_mb=3000, timeout=120):
    """Runs code in a fresh interpreter under an address-space limit; returns (status, output)."""
    import fastnn as f

    root = os.path.dirname(os.path.dirname(os.path.abspath(f.__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""),
               FASTNN_NUM_THREADS="2")
    prelude = (f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({mem_mb << 20}, {mem_mb << 20}))\n"
               if "libasan" not in open("/proc/self/maps").read() else "")
    p = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                       env=env, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


# ------------------------------------------------------------------------------------------ sizes
@pytest.mark.parametrize("make, pattern", [
    ("layers.Dense(2**62)", r"units: expected a positive int <= 2147483647, got 4611686018427387904"),
    ("layers.Dense(2**64)", r"units: expected a positive int <= 2147483647, got 18446744073709551616"),
    ("layers.Input(shape=(2**40,))", r"input_shape: expected a positive int <= 2147483647, got 1099511627776"),
    ("fastnn.Sequential([layers.Input(shape=(2**16, 2**16)), layers.Flatten(), layers.Dense(1)])",
     r"build: expected inputs of at most 2147483647 values per sample, got shape \(65536, 65536\)"),
    # (2**31 - 1) x 2**31 weights (kernel and bias): far above the model limit, refused before the engine
    ("fastnn.Sequential([layers.Input(shape=(2**31 - 1,)), layers.Dense(2**31 - 1)])",
     r"build: expected at most 1099511627776 weights in a model, got 4611686016279904256 by layer"),
    ("fastnn.Sequential([layers.Input(shape=(2**20,)), layers.Dense(2**20), layers.Dense(2**20)])",
     r"build: expected at most 1099511627776 weights in a model, got 1099512676352 by layer"),
])
def test_oversized_models_are_refused_before_the_engine(make, pattern):
    code = f"""
    import fastnn
    from fastnn import layers
    try:
        {make}
    except ValueError as e:
        print("ValueError:", e)
    """
    rc, out = _run(code)
    assert rc == 0, out
    assert "ValueError:" in out, out
    import re
    assert re.search(pattern, out), out


def test_engine_refuses_a_weight_count_that_overflows():
    """The engine's own check (the binding's layer factory reached without the Python door): a Dense
    of 2**33 units after 2**31 inputs is 2**64 weights, which wraps to 0 in size_t; the engine must
    raise, not build an empty arena that fit then overruns."""
    code = """
    from fastnn import _core, _engine, layers
    attrs = layers.Dense(4)._native(lambda v: 1)[1]
    attrs["units"] = 2**33
    net = _core.NetworkF32(2**31, 0)
    try:
        _engine._add_layer(net, "dense", attrs)
        net.build()
        print("BUILT", net.arena_size())
    except (ValueError, MemoryError) as e:
        print(type(e).__name__ + ":", e)
    """
    rc, out = _run(code)
    assert rc == 0, out
    assert "BUILT" not in out, out
    assert "overflows" in out or "MemoryError" in out, out


def test_memory_error_of_a_large_model_is_fastnns():
    """A model within the limits that the machine cannot hold: a MemoryError that says what was asked."""
    if "libasan" in open("/proc/self/maps").read():
        pytest.skip("AddressSanitizer aborts on an operator new it cannot serve (out-of-memory), even with "
                    "allocator_may_return_null=1")
    code = """
    import fastnn
    from fastnn import layers
    try:
        fastnn.Sequential([layers.Input(shape=(2**20,)), layers.Dense(2**18)])  # 2**38 weights, 1 TiB
    except MemoryError as e:
        print("MemoryError:", e)
    """
    rc, out = _run(code, mem_mb=2000)
    assert rc == 0, out
    assert "MemoryError: build: expected memory for the model's 274878169088 weights" in out, out


# ------------------------------------------------------------------------------------------ integers
def test_out_of_range_integers_get_fastnns_words():
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    m.compile("adam", "mse")
    x, y = np.zeros((4, 3)), np.zeros((4, 2))
    # a batch larger than the data is the data (Keras), whatever its size
    for bs in (10**12, 2**64, 2**100):
        m.fit(x, y, batch_size=bs, verbose=0)
    with pytest.raises(ValueError, match=r"seed: expected an int in \[0, 2\*\*64\) or None, got 1180591620717411303424"):
        fastnn.initializers.GlorotUniform(seed=2**70)
    sched = fastnn.schedules.ExponentialDecay(0.1, 10, 0.5)
    with pytest.raises(ValueError, match=r"step: expected a number in \[0, 2\*\*63\), got 18446744073709551616"):
        sched(2**64)
    with pytest.raises(ValueError, match=r"step: expected a number in \[0, 2\*\*63\), got -1"):
        sched(-1)
    assert sched(3) == pytest.approx(0.1 * 0.5 ** 0.3)


def test_no_pybind_wording_reaches_the_caller():
    """A sweep of huge, negative and odd integers through the public arguments that reach the
    bindings: each is accepted or refused in fastnn's words, never pybind11's."""
    bad = [2**31, 2**32, 2**63, 2**64, 2**100, -1, -(2**63) - 1]
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    m.compile("adam", "mse")
    x, y = np.zeros((4, 3)), np.zeros((4, 2))
    calls = [
        lambda v: m.fit(x, y, batch_size=v, verbose=0),
        lambda v: m.fit(x, y, steps_per_epoch=v, verbose=0),
        lambda v: m.predict(x, batch_size=v, verbose=0),
        lambda v: m.evaluate(x, y, batch_size=v, verbose=0),
        lambda v: layers.Dense(v),
        lambda v: layers.Input(shape=(v,)),
        lambda v: fastnn.initializers.HeNormal(seed=v),
        lambda v: fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(2)], seed=v),
        lambda v: fastnn.set_num_threads(v),
        lambda v: fastnn.schedules.ExponentialDecay(0.1, 10, 0.5)(v),
        lambda v: fastnn.metrics.AUC(num_thresholds=v),
        lambda v: fastnn.utils.to_categorical([0, 1], num_classes=v),
    ]
    before = fastnn.get_num_threads()
    try:
        for call in calls:
            for v in bad:
                try:
                    call(v)
                except (ValueError, TypeError, MemoryError) as e:
                    text = str(e)
                    assert "incompatible" not in text and "Unable to cast" not in text, text
                    assert "max_size()" not in text and "std::" not in text, text
                    assert ":" in text and "expected" in text, text
    finally:
        fastnn.set_num_threads(before)


# ------------------------------------------------------------------------------------------ build and load
def _count_builds(monkeypatch):
    from fastnn import _engine

    calls = []
    real = _engine.NativeNet.build

    def counting(self, *a, **k):
        calls.append(1)
        return real(self, *a, **k)

    monkeypatch.setattr(_engine.NativeNet, "build", counting)
    return calls


def test_a_deep_model_with_input_is_built_once(monkeypatch):
    """Sequential([Input, ...n layers]) builds the native network once (it used to rebuild it after
    every layer: quadratic work, 100 s for 2,000 layers); so do Model(inputs, outputs),
    from_config and loading a file."""
    calls = _count_builds(monkeypatch)
    stack = [layers.Input(shape=(4,))] + [layers.Dropout(0.1) if i % 2 else layers.Dense(4) for i in range(2000)]
    m = fastnn.Sequential(stack)
    assert m.built and len(m.layers) == 2000 and len(calls) == 1
    # the weights are those of a model built layer by layer (per-position seeds)
    small = [layers.Input(shape=(4,)), layers.Dense(3), layers.Dense(2)]
    one = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(3), layers.Dense(2)], seed=5)
    inc = fastnn.Sequential(seed=5)
    for l in small:
        inc.add(l)
    for a, b in zip(one.get_weights(), inc.get_weights()):
        np.testing.assert_array_equal(a, b)
    del calls[:]
    fastnn.Sequential.from_config(m.get_config())
    assert len(calls) == 1
    del calls[:]
    data = saving.to_bytes(m)
    back = saving.from_bytes(data)
    assert len(calls) == 1 and len(back.layers) == 2000
    inputs = layers.Input(shape=(4,))
    h = inputs
    for _ in range(50):
        h = layers.Dense(4)(h)
    del calls[:]
    fastnn.Model(inputs, h)
    assert len(calls) == 1


def test_a_failed_build_frees_the_layers():
    dense = layers.Dense(3)
    with pytest.raises(ValueError, match="expected a flat input"):
        fastnn.Sequential([layers.Input(shape=(2, 2)), dense])
    m = fastnn.Sequential([layers.Input(shape=(4,)), dense])  # the layer can join another model
    assert m.built
    with pytest.raises(ValueError, match="already belongs to another model"):
        fastnn.Sequential([layers.Input(shape=(4,)), dense])
    twice = layers.Dense(2)
    with pytest.raises(ValueError, match="is already in the model"):
        fastnn.Sequential([layers.Input(shape=(4,)), twice, twice])
    with pytest.raises(ValueError, match="a layer named 'x' is already in the model"):
        fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(2, name="x"), layers.Dense(2, name="x")])


def _v2_file(mutate):
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    good = saving.to_bytes(m)
    hlen = struct.unpack("<Q", good[12:20])[0]
    header = json.loads(good[20:20 + hlen])
    payload = good[20 + hlen:-4]
    mutate(header)
    hb = json.dumps(header).encode()
    body = saving.MAGIC_MODEL + struct.pack("<IQ", saving.FORMAT_VERSION, len(hb)) + hb + payload
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


@pytest.mark.parametrize("mutate, pattern", [
    (lambda h: h["spec"]["layers"].extend([dict(h["spec"]["layers"][-1])] * 10_001),
     r"ModelSpec.layers: expected at most 10000 layers"),
    (lambda h: h["spec"]["layers"][0].update(name="n" * 5000),
     r"expected a string of at most 1024 characters, got 5000"),
    (lambda h: h["config"].update(extra=json.loads("[" * 40 + "]" * 40)),
     r"expected values nested at most 32 deep"),
    (lambda h: h["config"].update({"k" * 2000: 1}), r"expected keys of at most 1024 characters"),
    (lambda h: h.update(junk=[0] * 200_000), r"expected a list of at most 160000 entries, got 200000"),
    (lambda h: h.update(compile={"optimizer": "adam", "loss": "mse", "metrics": ["mae"] * 100}),
     r"expected at most 64 metrics, got 100"),
])
def test_file_configuration_values_are_bounded(mutate, pattern):
    data = _v2_file(mutate)
    with pytest.raises(saving.FileFormatError, match=pattern):
        saving.from_bytes(data)


def test_a_file_of_many_layers_loads_in_proportion():
    """A file of 1,500 Dropout layers (it took 5-12 s): loaded with one native build."""
    m = fastnn.Sequential([layers.Input(shape=(3,))] + [layers.Dropout(0.1) for _ in range(1500)])
    back = saving.from_bytes(saving.to_bytes(m))
    assert len(back.layers) == 1500
    np.testing.assert_array_equal(back.predict(np.ones((2, 3)), verbose=0), np.ones((2, 3)))


# ------------------------------------------------------------------------------------------ class_weight
def test_class_weight_with_regression_targets_is_refused():
    m = fastnn.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
    m.compile("sgd", "mse")
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"class_weight: y must hold class indices in \[0, 2\) for a model with 2 "
                                         r"classes, got values in \[0, 3e\+09\]"):
        m.fit(x, np.array([0.0, 1.0, 3e9]), class_weight={0: 1.0, 1: 2.0}, verbose=0)
    # class targets keep working, weighting as sample weights would
    y = np.array([0.0, 1.0, 1.0])
    a = fastnn.Sequential([layers.Input(shape=(2,)), layers.Dense(1)], seed=1)
    b = fastnn.Sequential([layers.Input(shape=(2,)), layers.Dense(1)], seed=1)
    for mm in (a, b):
        mm.compile("sgd", "mse")
    xs = np.random.default_rng(0).random((3, 2))
    a.fit(xs, y, class_weight={0: 3.0}, shuffle=False, verbose=0)
    b.fit(xs, y, sample_weight=np.array([3.0, 1.0, 1.0]), shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_class_weight_of_sparse_labels_is_bounded_by_the_output():
    m = fastnn.Sequential([layers.Input(shape=(2,)), layers.Dense(3)])
    m.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"class_weight: classes \[5\] are unknown: the model outputs 3 classes"):
        m.fit(np.zeros((2, 2)), np.array([0, 2]), class_weight={5: 1.0}, verbose=0)
    m.fit(np.zeros((2, 2)), np.array([0, 2]), class_weight={2: 2.0}, verbose=0)


# ------------------------------------------------------------------------------------------ threads
def test_set_num_threads_refuses_above_its_maximum(restore_threads):
    top = _limits.max_threads()
    assert top == max(1, min(1024, 4 * (os.cpu_count() or 1)))
    for bad in (top + 1, 10**6, 2**64, 0, -1, 2.0, True, "4"):
        with pytest.raises(ValueError, match=rf"set_num_threads: expected an int in \[1, {top}\] .*got "):
            fastnn.set_num_threads(bad)
    assert fastnn.get_num_threads() == restore_threads  # a refusal changes nothing
    fastnn.set_num_threads(top)
    assert fastnn.get_num_threads() == top
    # the binding keeps its own bound (it used to cap silently at 1,024)
    with pytest.raises(ValueError, match=r"set_num_threads: expected an int in \[1, 1024\], got 1025"):
        fastnn._core.set_num_threads(1025)


def test_an_oversized_pool_gives_the_same_results(restore_threads):
    """More threads than CPUs run as many workers as CPUs (so a tiny fit is never slowed by wake-ups
    of idle threads); the results are the ones of one thread."""
    rng = np.random.default_rng(0)
    x, y = rng.random((300, 64)), rng.random((300, 8))

    def train(threads):
        fastnn.set_num_threads(threads)
        m = fastnn.Sequential([layers.Input(shape=(64,)), layers.Dense(96, activation="relu"), layers.Dense(8)],
                              seed=3)
        m.compile("adam", "mse")
        m.fit(x, y, epochs=2, batch_size=100, verbose=0)
        return m.get_weights()

    for a, b in zip(train(1), train(_limits.max_threads())):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------------------ messages
def test_popping_every_layer_in_a_callback_says_fit_is_running():
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(4), layers.Dense(2)])
    m.compile("adam", "mse")
    seen = []

    class Popper(fastnn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            try:
                while self.model.layers:
                    self.model.pop()
            except RuntimeError as e:
                seen.append(str(e))

    m.fit(np.zeros((4, 3)), np.zeros((4, 2)), epochs=2, verbose=0, callbacks=[Popper()])
    assert seen and all(s.startswith("pop: fit() is running on this model (pop was called in a callback of it)")
                        for s in seen), seen
    assert len(m.layers) == 2 and m.predict(np.zeros((1, 3)), verbose=0).shape == (1, 2)


def test_saving_onto_a_directory_names_the_target(tmp_path):
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    target = tmp_path / "out"
    target.mkdir()
    for save in (m.save, m.save_weights):
        with pytest.raises(IsADirectoryError) as info:
            save(target)
        text = str(info.value)
        assert text == f"filepath: expected the path of a file, got {str(target)!r}, which is a directory"
    assert os.listdir(tmp_path) == ["out"] and os.listdir(target) == []  # no temporary file left


@pytest.mark.parametrize("nbytes", [2**40, 2**63, 10**30])
def test_a_file_declaring_huge_arrays_is_refused_without_reading_them(tmp_path, nbytes):
    """Found by the mutation fuzzer: a (checksummed) table entry declaring 2**40 bytes made load
    ask for that much memory at once, and 2**63 raised OverflowError. Reading now grows with the
    bytes really in the file, and a table declaring more than any model holds is refused first."""
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    path = tmp_path / "w.fastnn"
    m.save_weights(path)
    good = path.read_bytes()
    hlen = struct.unpack("<Q", good[12:20])[0]
    header = json.loads(good[20:20 + hlen])
    header["arrays"][0]["nbytes"] = nbytes
    hb = json.dumps(header).encode()
    body = saving.MAGIC_WEIGHTS + struct.pack("<IQ", saving.FORMAT_VERSION, len(hb)) + hb + good[20 + hlen:-4]
    path.write_bytes(body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))
    with pytest.raises(saving.FileFormatError):
        m.load_weights(path)
