"""The float32 exp and log(1 + e) of math/exp_log.h (sigmoid, softplus, softmax and the sigmoid
cross-entropy use them) against float64 numpy, over every float32 of the range that matters."""
import numpy as np
import pytest

from fastnn import _testing

F32 = np.finfo(np.float32)


def _ulps(got, exact):
    """Error in units of the last place of the float32 nearest to the exact (float64) value."""
    exact32 = exact.astype(np.float32)
    spacing = np.spacing(np.abs(exact32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


def _floats(lo, hi, step):
    """Every step-th float32 in [lo, hi] (both of one sign) and hi itself, in order of magnitude."""
    a, b = (int(v) for v in np.array([lo, hi], np.float32).view(np.int32))
    bits = np.append(np.arange(a, b, step, dtype=np.int32), np.int32(b))
    return bits.view(np.float32)


@pytest.mark.parametrize("lo,hi", [(0.0, 88.72283172607422), (-0.0, -87.33654022216797)])
def test_exp_within_two_ulp_of_every_float(lo, hi):
    # Every float of the range is 2.2 billion values; every 61st (18 million per sign) still covers
    # every exponent and both ends; the next test covers the points where the reduction switches.
    x = _floats(lo, hi, 61)
    got = _testing.exp_of(x)
    exact = np.exp(x.astype(np.float64))
    assert _ulps(got, exact).max() <= 2.0


def test_exp_around_every_change_of_n():
    # x / ln 2 near k + 1/2 is where range reduction switches n: test the neighbourhoods densely.
    k = np.arange(-126, 128, dtype=np.float64)
    centres = (k + 0.5) * np.log(2.0)
    x = (centres[:, None] + np.linspace(-1e-4, 1e-4, 2001)[None, :]).astype(np.float32).ravel()
    x = x[(x >= -87.33654022216797) & (x <= 88.72283172607422)]
    assert _ulps(_testing.exp_of(x), np.exp(x.astype(np.float64))).max() <= 2.0


def test_exp_specials():
    x = np.array([np.nan, np.inf, -np.inf, 89.0, 1e30, -88.0, -1e30, 0.0, -0.0], np.float32)
    got = _testing.exp_of(x)
    assert np.isnan(got[0])
    assert got[1] == np.inf and got[3] == np.inf and got[4] == np.inf
    # Below FLT_MIN the exact result is subnormal: flushed to zero, as under native work's FTZ.
    assert got[2] == 0.0 and got[5] == 0.0 and got[6] == 0.0
    assert got[7] == 1.0 and got[8] == 1.0
    # The top of the range stays finite (2^n is applied in two halves); the next float overflows.
    top = _testing.exp_of(np.array([88.72283172607422, 88.72283935546875], np.float32))
    assert np.isfinite(top[0]) and top[0] > 3.4e38 and top[1] == np.inf


def test_log1p_unit_within_two_ulp_on_zero_to_one():
    x = _floats(0.0, 1.0, 53)[1:]  # every 53rd float in (0, 1]: every exponent down to 1e-43
    got = _testing.log1p_unit(x)
    exact = np.log1p(x.astype(np.float64))
    ok = exact >= F32.tiny  # below FLT_MIN the result is x itself, subnormal
    assert _ulps(got[ok], exact[ok]).max() <= 2.0
    assert np.array_equal(got[~ok], x[~ok])


def test_log1p_unit_specials():
    got = _testing.log1p_unit(np.array([0.0, 1.0, np.nan, 1e-30], np.float32))
    assert got[0] == 0.0
    assert got[1] == np.float32(np.log(2.0))
    assert np.isnan(got[2])
    assert got[3] == np.float32(1e-30)
