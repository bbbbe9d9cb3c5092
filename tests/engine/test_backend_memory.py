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
