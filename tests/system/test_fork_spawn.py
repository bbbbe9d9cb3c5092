"""Processes: a model keeps working in a child made by os.fork (the native thread pool is rebuilt
there), and travels to multiprocessing "spawn" children by pickling, arriving identical.

The forks happen inside a separate Python process (never inside pytest's own); each scenario prints
one JSON line of measurements and the assertions are made here."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastnn
from fastnn import layers

_PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


def _run_script(tmp_path, source, *args, timeout=180):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    env = dict(os.environ)
    env["PYTHONPATH"] = _PKG_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("FASTNN_NUM_THREADS", "2")
    p = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=env, cwd=str(tmp_path))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, p.stdout[-3000:] + p.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


_COMMON = """
    import json, os, signal, sys, threading, time
    import numpy as np
    import fastnn
    from fastnn import layers

    def make(seed=3):
        fastnn.utils.set_random_seed(seed)
        m = fastnn.Sequential([layers.Input(shape=(16,)), layers.Dense(128, activation="relu"),
                               layers.Dropout(0.1), layers.Dense(1)])
        m.compile(optimizer="adam", loss="mse")
        return m

    rng = np.random.default_rng(0)
    x = rng.random((4000, 16), dtype=np.float32)
    y = x.sum(axis=1, keepdims=True)

    def child_work(m, ref):
        # runs in a forked child: predict (equal to the parent's), train, predict again
        p = m.predict(x, verbose=0)
        ok = bool(np.array_equal(p, ref))
        h = m.fit(x, y, epochs=3, batch_size=64, verbose=0)
        loss = h.history["loss"]
        ok = ok and all(np.isfinite(loss)) and loss[-1] < loss[0]
        ok = ok and bool(np.isfinite(m.predict(x, verbose=0)).all())
        return ok

    def wait(pid):
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)
"""

_FORK = _COMMON + """
    out = {}
    m = make()
    m.fit(x, y, epochs=2, batch_size=64, verbose=0)   # the pool's workers exist now
    ref = m.predict(x, verbose=0)
    w_parent = [w.copy() for w in m.get_weights()]
    codes = []
    for k in range(3):
        pid = os.fork()
        if pid == 0:
            signal.alarm(60)
            try:
                ok = child_work(m, ref)
                if ok and k == 2:  # a grandchild: fork from a forked child
                    pid2 = os.fork()
                    if pid2 == 0:
                        signal.alarm(60)
                        os._exit(0 if child_work(m, m.predict(x, verbose=0)) else 3)
                    ok = wait(pid2) == 0
                os._exit(0 if ok else 3)
            except BaseException:
                import traceback
                traceback.print_exc()
                os._exit(4)
        codes.append(wait(pid))
    out["codes"] = codes
    # the parent is untouched by its children's training and still works
    out["parent_weights_same"] = all(np.array_equal(a, b) for a, b in zip(w_parent, m.get_weights()))
    out["parent_predict_same"] = bool(np.array_equal(m.predict(x, verbose=0), ref))
    h = m.fit(x, y, epochs=1, batch_size=64, verbose=0)
    out["parent_fit_ok"] = bool(np.isfinite(h.history["loss"][0]))
    print("RESULT " + json.dumps(out), flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_predicts_and_trains(tmp_path):
    r = _run_script(tmp_path, _FORK)
    assert r["codes"] == [0, 0, 0], r
    assert r["parent_weights_same"] and r["parent_predict_same"] and r["parent_fit_ok"], r


_FORK_BUSY = _COMMON + """
    # Forks while another thread of the parent is inside fit / predict on the same model.
    mode = sys.argv[1]
    m = make()
    ref_model = make()
    stop = threading.Event()
    def busy():
        while not stop.is_set():
            if mode == "fit":
                m.fit(x, y, epochs=1, batch_size=512, verbose=0)
            else:
                m.predict(x, verbose=0)
    t = threading.Thread(target=busy, daemon=True)
    t.start()
    time.sleep(0.2)
    pids = []
    for k in range(6):
        time.sleep(0.011)
        pid = os.fork()
        if pid == 0:
            signal.alarm(3)  # a deadlocked child dies of SIGALRM
            m.predict(x[:100], verbose=0)
            m.fit(x[:256], y[:256], epochs=1, verbose=0)
            os._exit(0)
        pids.append(pid)
    codes = [wait(p) for p in pids]
    stop.set()
    t.join(30)
    print("RESULT " + json.dumps({"codes": codes}), flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("mode", ["fit", "predict"])
def test_fork_while_another_thread_uses_the_model(tmp_path, mode):
    r = _run_script(tmp_path, _FORK_BUSY, mode)
    assert r["codes"] == [0] * 6, r


# ------------------------------------------------------------------------------------------------
# pickling and spawn
# ------------------------------------------------------------------------------------------------
def _model(seed=5):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(6,)), layers.Dense(16, activation="relu"), layers.Dropout(0.2),
                           layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_pickle_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    x, y = rng.random((300, 6)), rng.integers(0, 3, 300)
    m = _model()
    m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m.predict(x, verbose=0), m2.predict(x, verbose=0))
    assert m2.optimizer.iterations == m.optimizer.iterations
    # optimizer state, generator state (shuffling, dropout) and compile configuration travelled: one
    # more epoch on each gives identical weights
    h1 = m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    h2 = m2.fit(x, y, epochs=1, batch_size=16, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-12)
    for a, b in zip(m.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert m2.evaluate(x, y, verbose=0) == m.evaluate(x, y, verbose=0)


_SPAWN = """
    import json, multiprocessing as mp, pickle, sys
    import numpy as np
    import fastnn
    from fastnn import layers

    def work(blob, x, y):
        m = pickle.loads(blob)
        p = m.predict(x, verbose=0)
        m.fit(x, y, epochs=1, batch_size=16, verbose=0)
        return p, pickle.dumps(m), fastnn.get_num_threads()

    if __name__ == "__main__":
        fastnn.utils.set_random_seed(4)
        m = fastnn.Sequential([layers.Input(shape=(6,)), layers.Dense(16, activation="relu"),
                               layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        rng = np.random.default_rng(1)
        x, y = rng.random((300, 6)), rng.integers(0, 3, 300)
        m.fit(x, y, epochs=1, verbose=0)
        ref = m.predict(x, verbose=0)
        ctx = mp.get_context("spawn")
        with ctx.Pool(2) as pool:
            results = pool.starmap(work, [(pickle.dumps(m), x, y)] * 2)
        m.fit(x, y, epochs=1, batch_size=16, verbose=0)  # the same step, here
        out = {"predict_equal": [bool(np.array_equal(p, ref)) for p, _, _ in results]}
        trained = [pickle.loads(b) for _, b, _ in results]
        out["trained_equal"] = [all(np.array_equal(a, b) for a, b in zip(t.get_weights(), m.get_weights()))
                                for t in trained]
        out["threads"] = [t for _, _, t in results]
        print("RESULT " + json.dumps(out), flush=True)
"""


def test_spawn_child_gets_an_identical_model(tmp_path):
    r = _run_script(tmp_path, _SPAWN)
    assert r["predict_equal"] == [True, True], r
    assert r["trained_equal"] == [True, True], r
    assert all(t >= 1 for t in r["threads"]), r
