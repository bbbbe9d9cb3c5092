"""Threads: many Python threads using one model at once get the serial results; a thread training
while others predict crashes nothing, corrupts nothing and ends in the state a serial run reaches."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import fastnn
from fastnn import layers

THREADS = 8
_JOIN_S = 120


def _model(seed=0, metrics=(), dropout=0.0):
    fastnn.utils.set_random_seed(seed)
    stack = [layers.Input(shape=(24,)), layers.Dense(64, activation="relu")]
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack += [layers.Dense(32, activation="tanh"), layers.Dense(4, activation="softmax")]
    m = fastnn.Sequential(stack)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return m


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 24), dtype=np.float32), rng.integers(0, 4, n)


def _run_threads(fn, n=THREADS):
    """Runs fn(i) on n threads released together; returns the results; re-raises the first error."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def body(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as e:  # noqa: BLE001 - reported to the test
            errors.append(e)

    ths = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(_JOIN_S)
    assert not any(t.is_alive() for t in ths), "a thread hung"
    if errors:
        raise errors[0]
    return results


def test_parallel_predict_equals_serial():
    m = _model()
    x, _ = _data()
    xs = [x[i * 300:(i + 1) * 300 + 17 * i] for i in range(THREADS)]
    serial_shared = m.predict(x, verbose=0)
    serial_own = [m.predict(xi, verbose=0) for xi in xs]

    def work(i):
        out = []
        for k in range(6):
            out.append(("shared", m.predict(x, verbose=0)))
            out.append(("own", m.predict(xs[i], batch_size=7 + k, verbose=0)))
        return out

    for i, outs in enumerate(_run_threads(work)):
        for kind, p in outs:
            np.testing.assert_array_equal(p, serial_shared if kind == "shared" else serial_own[i])


@pytest.mark.parametrize("metrics", [(), ["accuracy"]], ids=["loss", "with_metrics"])
def test_parallel_evaluate_equals_serial(metrics):
    m = _model(metrics=metrics)
    x, y = _data()
    parts = [(x[i::THREADS], y[i::THREADS]) for i in range(THREADS)]
    serial = [m.evaluate(xi, yi, verbose=0) for xi, yi in parts]
    res = _run_threads(lambda i: [m.evaluate(*parts[i], verbose=0) for _ in range(5)])
    for i, vals in enumerate(res):
        assert vals == [serial[i]] * 5


@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_fit_while_other_threads_predict(dropout):
    x, y = _data()
    a, b = _model(seed=7, dropout=dropout), _model(seed=7, dropout=dropout)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    # The same row at both ends of a long batch: rows are independent, so both outputs must be
    # identical unless the weights changed in the middle of one predict call (a torn read).
    probe = x[:1024].copy()
    probe[-1] = probe[0]
    stop = threading.Event()
    seen = {"calls": 0, "torn": 0, "nonfinite": 0}
    errors = []

    def predictor():
        try:
            while not stop.is_set():
                p = a.predict(probe, verbose=0)
                seen["calls"] += 1
                if not np.isfinite(p).all():
                    seen["nonfinite"] += 1
                if not np.array_equal(p[0], p[-1]):
                    seen["torn"] += 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    ths = [threading.Thread(target=predictor, daemon=True) for _ in range(3)]
    for t in ths:
        t.start()
    try:
        ha = a.fit(x[:2000], y[:2000], epochs=2, batch_size=32, verbose=0)
    finally:
        stop.set()
        for t in ths:
            t.join(_JOIN_S)
    assert not any(t.is_alive() for t in ths)
    assert not errors, errors
    assert seen["calls"] > 0 and seen["torn"] == 0 and seen["nonfinite"] == 0, seen
    # predict changes no state: the result is exactly that of the same fit run alone
    hb = b.fit(x[:2000], y[:2000], epochs=2, batch_size=32, verbose=0)
    # (the epoch mean is summed per chunk, and chunk sizes follow the clock: last-bit differences only)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-12)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert np.isfinite(wa).all()
        np.testing.assert_array_equal(wa, wb)
    assert a.optimizer.iterations == b.optimizer.iterations


def test_two_models_trained_in_parallel_equal_serial():
    x, y = _data()
    serial = []
    for s in range(2):
        m = _model(seed=20 + s, dropout=0.1)
        m.fit(x, y, epochs=2, batch_size=64, verbose=0)
        serial.append(m.get_weights())
    models = [_model(seed=20 + s, dropout=0.1) for s in range(2)]
    _run_threads(lambda i: models[i].fit(x, y, epochs=2, batch_size=64, verbose=0), n=2)
    for m, ws in zip(models, serial):
        for a, b in zip(m.get_weights(), ws):
            np.testing.assert_array_equal(a, b)


def test_thread_count_changes_during_predict():
    m = _model()
    x, _ = _data(4000)
    ref = m.predict(x, verbose=0)
    before = fastnn.get_num_threads()
    stop = threading.Event()

    def toggler():
        k = 0
        while not stop.is_set():
            fastnn.set_num_threads(1 + k % 3)
            k += 1

    t = threading.Thread(target=toggler, daemon=True)
    t.start()
    try:
        outs = _run_threads(lambda i: [m.predict(x, verbose=0) for _ in range(4)], n=4)
    finally:
        stop.set()
        t.join(_JOIN_S)
        fastnn.set_num_threads(before)
    assert not t.is_alive()
    for per in outs:
        for p in per:
            np.testing.assert_array_equal(p, ref)  # results do not depend on the thread count


def test_reading_the_structure_beside_add_and_pop_in_another_thread():
    """Found by the fuzz test's several-thread target: spec() and output_shape while another thread
    popped a layer raised IndexError. spec, get_weights, to_bytes, save_weights, output_shape,
    count_params and summary read one structure (under the structure lock), so each sees the model
    before or after a change, never half of it."""
    import tempfile

    from fastnn import saving

    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(4), layers.Dense(2)])
    stop = threading.Event()
    errors = []

    def change():
        try:
            while not stop.is_set():
                m.add(layers.Dense(3))
                m.pop()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    path = tempfile.mktemp(suffix=".fastnn")
    t = threading.Thread(target=change, daemon=True)
    t.start()
    try:
        for _ in range(100):
            spec = m.spec()
            assert [v.shape for _i, v in spec.variables()][:2] == [(3, 4), (4,)]
            ws = m.get_weights()
            assert len(ws) in (4, 6) and ws[0].shape == (3, 4)
            back = saving.from_bytes(saving.to_bytes(m))
            assert len(back.layers) in (2, 3)
            m.save_weights(path)
            assert m.output_shape in ((None, 2), (None, 3))
            assert m.count_params() in (3 * 4 + 4 + 4 * 2 + 2, 3 * 4 + 4 + 4 * 2 + 2 + 2 * 3 + 3)
            m.summary(print_fn=lambda line: None)
    finally:
        stop.set()
        t.join(_JOIN_S)
        if os.path.exists(path):
            os.unlink(path)
    assert not t.is_alive() and not errors, errors
