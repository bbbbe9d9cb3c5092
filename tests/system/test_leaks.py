"""Memory: repeated use keeps the resident set flat, and large inputs are copied at most once.

RSS is read from /proc/self/statm in a fresh Python process (nothing else of the test session
allocates there): a warm-up first, then many more cycles, and the growth must stay within a few MB."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import fastnn
from fastnn import layers

_PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))
_GROWTH_MB = 8.0

_CHILD = textwrap.dedent(r"""
    import gc, json, os, sys
    import numpy as np
    import fastnn
    from fastnn import layers, saving

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    rng = np.random.default_rng(0)
    x = rng.random((256, 8), dtype=np.float32)
    y = (x.sum(axis=1) > 4).astype(np.float32)

    def make():
        m = fastnn.Sequential([layers.Input(shape=(8,)), layers.Dense(16, activation="relu"),
                               layers.Dropout(0.1), layers.Dense(1, activation="sigmoid")])
        m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        return m

    def cycle_train(i):
        m = make()
        m.fit(x, y, epochs=1, batch_size=32, verbose=0)
        m.predict(x, verbose=0)

    keep = make()
    keep.fit(x, y, epochs=1, verbose=0)
    blob = saving.to_bytes(keep)
    xbig = rng.random((20000, 8))  # float64: a fresh cast every call

    def cycle_io(i):
        m = saving.from_bytes(blob)
        saving.to_bytes(m)
        m.get_weights()
        m.set_weights(m.get_weights())

    def cycle_inference(i):
        keep.predict(xbig, verbose=0)
        keep.evaluate(xbig[:2000], np.ones(2000), verbose=0)
        keep.predict(x[: 1 + i % 200], verbose=0)

    def cycle_errors(i):
        for call in (lambda: keep.predict(np.full((3, 8), np.nan), verbose=0),
                     lambda: keep.fit(x, y * 3, verbose=0),
                     lambda: keep._engine.set_variable(0, np.zeros(3, np.float32)),
                     lambda: saving.from_bytes(blob[:-1]),
                     lambda: saving.from_bytes(blob[:100] + b"x" + blob[101:])):
            try:
                call()
            except (ValueError, TypeError, RuntimeError):
                pass
            else:
                raise AssertionError("expected an error")

    def cycle_manual(i):
        keep.optimizer.zero_grad()
        out = keep(x, training=True)
        keep.loss(y, out).backward()
        keep.optimizer.step()

    def measure(fn, warm, total):
        for i in range(warm):
            fn(i)
        gc.collect()
        r0 = rss_mb()
        for i in range(warm, total):
            fn(i)
        gc.collect()
        return rss_mb() - r0

    which = sys.argv[1]
    if which == "control":  # the measurement sees a real leak
        hoard = []
        res = measure(lambda i: hoard.append(bytearray(64 * 1024)) if i >= 100 else None, 100, 1000)
    else:
        fn, warm, total = {"train": (cycle_train, 100, 1000), "io": (cycle_io, 50, 500),
                           "inference": (cycle_inference, 20, 200), "errors": (cycle_errors, 100, 1000),
                           "manual": (cycle_manual, 100, 1000)}[which]
        res = measure(fn, warm, total)
    print("RESULT " + json.dumps({"growth_mb": res, "rss_mb": rss_mb()}), flush=True)
""")


def _growth(tmp_path, which):
    script = tmp_path / "leak.py"
    script.write_text(_CHILD)
    env = dict(os.environ)
    env["PYTHONPATH"] = _PKG_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("FASTNN_NUM_THREADS", "2")
    p = subprocess.run([sys.executable, str(script), which], capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def _sanitized():
    """True under AddressSanitizer (docs/SANITIZERS.md): its quarantine keeps freed memory resident, so
    RSS says nothing about leaks there (LeakSanitizer's own report is the tool for that)."""
    try:
        with open("/proc/self/maps") as f:
            return "libasan" in f.read()
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm (Linux)")
_skip_sanitized = pytest.mark.skipif(_sanitized(), reason="RSS is meaningless under AddressSanitizer")


@_skip_sanitized
def test_rss_measurement_detects_a_leak(tmp_path):
    r = _growth(tmp_path, "control")
    assert r["growth_mb"] > 40, r  # 900 x 64 KiB kept alive


@_skip_sanitized
@pytest.mark.parametrize("which", ["train", "io", "inference", "errors", "manual"])
def test_rss_stays_flat(tmp_path, which):
    r = _growth(tmp_path, which)
    assert r["growth_mb"] < _GROWTH_MB, r


# ------------------------------------------------------------------------------------------------
# copies of large inputs
# ------------------------------------------------------------------------------------------------
def _peak(fn):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("what", ["fit", "evaluate", "predict"])
def test_large_inputs_copied_at_most_once(what):
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(64,)), layers.Dense(8, activation="relu"),
                           layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x64 = np.random.default_rng(0).random((40000, 64))
    x32 = x64.astype(np.float32)
    y = (x64[:, 0] > 0.5).astype(np.float32)
    m.fit(x32[:64], y[:64], verbose=0)
    call = {"fit": lambda x: m.fit(x, y, epochs=1, batch_size=256, verbose=0),
            "evaluate": lambda x: m.evaluate(x, y, verbose=0),
            "predict": lambda x: m.predict(x, verbose=0)}[what]
    small = 3 << 20  # targets, shuffling order, metric buffers: small next to x
    # float32 C-contiguous: used in place (no copy of x at all)
    assert _peak(lambda: call(x32)) < small
    # float64: one cast to float32, nothing more of x's size
    assert _peak(lambda: call(x64)) < x32.nbytes + small
