"""Native work runs with flush-to-zero / denormals-are-zero and leaves the caller's floating-point
mode as it found it.

Subnormal arithmetic is slow on x86 (Adam's state drifts into that range when a unit's gradient is
zero), so the engine flushes subnormals for the duration of each native call. These tests check the
behaviour, never the timing: results equal a numpy reference that flushes subnormals, and numpy's own
arithmetic in the calling thread still produces subnormals afterwards."""
from __future__ import annotations

import numpy as np
import pytest

import fastnn
from fastnn import _core, _testing, layers

TINY32 = np.finfo(np.float32).tiny
TINY64 = np.finfo(np.float64).tiny
needs_flush = pytest.mark.skipif(_testing.fp_flush_bits() == 0,
                                 reason="no flush-to-zero control on this CPU architecture")


def _caller_keeps_subnormals():
    """numpy arithmetic in this thread still makes and reads subnormals (no FTZ/DAZ leaked)."""
    a64 = np.array([1e-300]) * np.array([1e-10])
    b64 = np.array([5e-324]) + np.array([0.0])
    a32 = np.array([1e-30], np.float32) * np.array([1e-10], np.float32)
    return bool(a64[0] != 0 and b64[0] != 0 and a32[0] != 0)


def _model(dtype="float32", seed=0):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(16, activation="relu"),
                           layers.Dense(2)], dtype=dtype)
    m.compile(optimizer="adam", loss="mse")
    return m


def test_native_calls_leave_the_callers_mode_unchanged():
    assert _caller_keeps_subnormals()
    before = _testing.fp_control() & _testing.fp_flush_bits()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 4)).astype(np.float32), rng.normal(size=(256, 2)).astype(np.float32)
    m = _model()
    m.fit(x, y, epochs=2, batch_size=32, verbose=0)
    m.predict(x, verbose=0)
    m.evaluate(x, y, verbose=0)
    m.train_on_batch(x[:32], y[:32])
    opt = m.optimizer
    out = m(x[:8], training=True)
    fastnn.losses.MeanSquaredError()(y[:8], out).backward()
    opt.step()
    _core.gemm(x, x.T)
    assert _testing.fp_control() & _testing.fp_flush_bits() == before
    assert _caller_keeps_subnormals()


@needs_flush
def test_a_caller_that_flushes_keeps_flushing():
    saved = _testing.fp_control()
    try:
        _testing.set_fp_control(saved | _testing.fp_flush_bits())
        m = _model()
        m.predict(np.ones((4, 4), np.float32), verbose=0)
        assert _testing.fp_control() & _testing.fp_flush_bits() == _testing.fp_flush_bits()
    finally:
        _testing.set_fp_control(saved)
    assert _caller_keeps_subnormals()


@needs_flush
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_subnormal_inputs_read_as_zero_on_every_thread(dtype):
    """predict on subnormal inputs equals predict on zeros (a numpy reference that flushes its
    inputs), over enough rows that the pool's workers take part."""
    tiny = TINY32 if dtype == "float32" else TINY64
    m = _model(dtype)
    w = m.get_weights()
    m.set_weights([w[0] * 100, w[1] + 1.0, w[2], w[3]])  # every unit alive at x = 0
    x = np.full((20000, 4), tiny / 4, dtype=dtype)
    assert np.all(x != 0)  # subnormal, not zero
    old = fastnn.get_num_threads()
    try:
        for threads in (1, 2):
            fastnn.set_num_threads(threads)
            np.testing.assert_array_equal(m.predict(x, verbose=0), m.predict(np.zeros_like(x), verbose=0))
    finally:
        fastnn.set_num_threads(old)


@needs_flush
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_state_flushes_like_a_flushing_reference(dtype):
    """A linear model whose Adam moments are all subnormal: one step with gradients on one input
    column only. Entries with zero gradient flush to exactly 0 and keep their weight; the others
    follow Keras's Adam with the subnormal moments read as zero."""
    tiny = TINY32 if dtype == "float32" else TINY64
    fastnn.utils.set_random_seed(1)
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(2, use_bias=False)], dtype=dtype)
    opt = fastnn.optimizers.Adam(learning_rate=0.01)
    m.compile(optimizer=opt, loss="mse")
    rng = np.random.default_rng(2)
    x = np.zeros((8, 3), dtype)
    x[:, 0] = rng.normal(size=8)
    y = rng.normal(size=(8, 2)).astype(dtype)
    k0 = m.get_weights()[0].astype(np.float64)
    net = m._engine
    state = np.full(net.optimizer_state().size, tiny / 8, dtype=dtype)
    assert np.all(state != 0)
    net.set_optimizer_state(state, 0, 1.0)
    m.train_on_batch(x, y)
    k1 = m.get_weights()[0].astype(np.float64)
    s = net.optimizer_state().astype(np.float64).reshape(2, 3, 2)  # (m, v) x kernel (3, 2)

    # numpy reference in float64 with the flushed (zero) moments
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    g = x64.T @ (2 * (x64 @ k0 - y64) / y64.size)
    m_ref = 0.1 * g
    v_ref = 0.001 * g * g
    alpha = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)
    k_ref = k0 - alpha * m_ref / (np.sqrt(v_ref) + 1e-7)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_array_equal(s[0][1:], 0)  # zero gradient: the subnormal moment flushed
    np.testing.assert_array_equal(s[1][1:], 0)
    np.testing.assert_array_equal(k1[1:], k0[1:])
    np.testing.assert_allclose(s[0][0], m_ref[0], rtol=rtol)
    np.testing.assert_allclose(s[1][0], v_ref[0], rtol=rtol)
    np.testing.assert_allclose(k1[0], k_ref[0], rtol=rtol)
