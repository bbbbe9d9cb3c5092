"""The engine's memory seam (Backend::allocate / copy / fill_zero / download) on the CPU backend:
the path a device backend's arenas and data set take, checked against the values put in."""
import numpy as np
import pytest

from fastnn import _testing


@pytest.mark.parametrize("n", [0, 1, 7, 4096])
def test_roundtrip_returns_the_values(n):
    x = np.random.default_rng(n).standard_normal(n)
    out, host, aligned = _testing.cpu_memory_roundtrip(x, 0)
    assert host is True and aligned is True
    np.testing.assert_array_equal(out, x)


def test_fill_zero_clears_only_the_prefix():
    x = np.arange(1.0, 11.0)
    out, _, _ = _testing.cpu_memory_roundtrip(x, 4)
    np.testing.assert_array_equal(out[:4], 0.0)
    np.testing.assert_array_equal(out[4:], x[4:])


def test_gradient_arena_round_trip():
    # set_arena(flat, grad=True) writes the gradient arena in arena(True)'s layout (the CUDA mirror
    # hands its gradients back this way), and leaves the parameters alone.
    import fastnn
    m = fastnn.Sequential([fastnn.layers.Input((3,)), fastnn.layers.Dense(4), fastnn.layers.Dense(2)], seed=0)
    h = m._engine._h
    params = h.arena(False).copy()
    g = np.arange(params.size, dtype=np.float32)
    h.set_arena(g, True)
    np.testing.assert_array_equal(h.arena(True), g)
    np.testing.assert_array_equal(h.arena(False), params)
    with pytest.raises(ValueError, match="gradient arena: size mismatch"):
        h.set_arena(g[:-1], True)
