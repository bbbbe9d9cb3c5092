"""Activation functions of the native engine: forward values and derivatives against float64 numpy
formulas (Keras 3 definitions), against central finite differences, and at extreme inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fastnn
from fastnn import _core
from fastnn.activations import Activation

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf, otypes=[np.float64])


# ------------------------------------------------------------------------------------------------
# float64 references: (forward, derivative, kinks). Derivatives are only compared away from kinks.
# ------------------------------------------------------------------------------------------------
def _sigmoid(x):
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _softplus(x):
    return np.logaddexp(0.0, x)


def _keras_relu(negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras 3 ReLU.static_call, literally."""

    def f(x):
        if negative_slope != 0.0 and max_value is None and threshold == 0:
            return np.where(x >= 0, x, negative_slope * x)
        if negative_slope != 0.0:
            neg = np.maximum(-x + threshold, 0.0)
        if threshold != 0:
            y = x * (x > threshold)
        else:
            y = np.maximum(x, 0.0)
        if max_value is not None:
            y = np.clip(y, 0.0, max_value)
        if negative_slope != 0.0:
            y = y - negative_slope * neg
        return y

    def d(x):
        above = x > threshold
        if max_value is None:
            g = above * 1.0
        else:
            g = (above & (x > 0) & (x < max_value)) * 1.0
        if negative_slope != 0.0:
            g = g + negative_slope * (x < threshold)
        return g

    kinks = [threshold, 0.0] + ([max_value] if max_value is not None else [])
    return f, d, kinks


def _gelu_tanh(x):
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
    return 0.5 * x * (1 + np.tanh(u))


def _gelu_tanh_d(x):
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
    t = np.tanh(u)
    du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x ** 2)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du


def _mish_d(x):
    t = np.tanh(_softplus(x))
    return t + x * (1 - t * t) * _sigmoid(x)


def _elu(alpha):
    return (lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
            lambda x: np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))), [0.0])


def _hard_sigmoid(x):
    return np.clip(x / 6 + 0.5, 0, 1)


ELEMENTWISE = {
    "linear": (Activation("linear"), lambda x: x, lambda x: np.ones_like(x), []),
    "relu": (Activation("relu"), *_keras_relu()),
    "relu_slope": (Activation("relu", negative_slope=0.1), *_keras_relu(0.1)),
    "relu_max": (Activation("relu", max_value=2.5), *_keras_relu(max_value=2.5)),
    "relu_max6": (Activation("relu", max_value=6.0), *_keras_relu(max_value=6.0)),
    "relu_threshold": (Activation("relu", threshold=0.7), *_keras_relu(threshold=0.7)),
    "relu_neg_threshold": (Activation("relu", threshold=-0.8), *_keras_relu(threshold=-0.8)),
    "relu_slope_max": (Activation("relu", negative_slope=0.2, max_value=3.0),
                       *_keras_relu(0.2, 3.0)),
    "relu_slope_threshold": (Activation("relu", negative_slope=0.3, threshold=0.5),
                             *_keras_relu(0.3, None, 0.5)),
    "relu_all": (Activation("relu", negative_slope=0.05, max_value=4.0, threshold=1.0),
                 *_keras_relu(0.05, 4.0, 1.0)),
    "leaky_relu": (Activation("leaky_relu"),
                   lambda x: np.where(x >= 0, x, 0.2 * x), lambda x: np.where(x >= 0, 1.0, 0.2), [0.0]),
    "leaky_relu_0.01": (Activation("leaky_relu", negative_slope=0.01),
                        lambda x: np.where(x >= 0, x, 0.01 * x), lambda x: np.where(x >= 0, 1.0, 0.01),
                        [0.0]),
    "relu6": (Activation("relu6"), lambda x: np.clip(x, 0, 6),
              lambda x: ((x > 0) & (x < 6)) * 1.0, [0.0, 6.0]),
    "elu": (Activation("elu"), *_elu(1.0)),
    "elu_0.5": (Activation("elu", alpha=0.5), *_elu(0.5)),
    "selu": (Activation("selu"),
             lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
             lambda x: SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0))), [0.0]),
    "gelu": (Activation("gelu"), lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
             lambda x: 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi),
             []),
    "gelu_approximate": (Activation("gelu", approximate=True), _gelu_tanh, _gelu_tanh_d, []),
    "silu": (Activation("silu"), lambda x: x * _sigmoid(x),
             lambda x: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))), []),
    "swish": (fastnn.activations.get("swish"), lambda x: x * _sigmoid(x),
              lambda x: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))), []),
    "mish": (Activation("mish"), lambda x: x * np.tanh(_softplus(x)), _mish_d, []),
    "softplus": (Activation("softplus"), _softplus, _sigmoid, []),
    "softsign": (Activation("softsign"), lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2,
                 []),
    "sigmoid": (Activation("sigmoid"), _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)), []),
    "hard_sigmoid": (Activation("hard_sigmoid"), _hard_sigmoid,
                     lambda x: ((x > -3) & (x < 3)) / 6.0, [-3.0, 3.0]),
    "hard_silu": (Activation("hard_silu"), lambda x: x * _hard_sigmoid(x),
                  lambda x: np.where(x <= -3, 0.0, np.where(x >= 3, 1.0, x / 3 + 0.5)), [-3.0, 3.0]),
    "hard_swish": (fastnn.activations.get("hard_swish"), lambda x: x * _hard_sigmoid(x),
                   lambda x: np.where(x <= -3, 0.0, np.where(x >= 3, 1.0, x / 3 + 0.5)), [-3.0, 3.0]),
    "tanh": (Activation("tanh"), np.tanh, lambda x: 1 - np.tanh(x) ** 2, []),
    "exponential": (Activation("exponential"), np.exp, np.exp, []),
}


def _log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def _softmax(z):
    return np.exp(_log_softmax(z))


ROWWISE = {"softmax": _softmax, "log_softmax": _log_softmax}
DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-6, atol=2e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}


def _inputs(kinks, dtype, seed=0, margin=1e-2):
    """Random inputs spread over [-8, 8] plus a few grid points, away from the kinks."""
    rng = np.random.default_rng(seed)
    z = np.concatenate([rng.normal(0, 3, 150), rng.uniform(-8, 8, 100), np.linspace(-7.3, 7.1, 30)])
    for k in kinks:
        z = z[np.abs(z - k) > margin]
    z = z[: (z.size // 10) * 10].reshape(-1, 10)
    return z.astype(dtype)


def _fwd(act, z):
    return _core.activation_forward(act.spec(), z)


def _bwd(act, z, da):
    return _core.activation_backward(act.spec(), z, da)


# ------------------------------------------------------------------------------------------------
# elementwise
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_forward(name, dtype):
    act, f, _d, kinks = ELEMENTWISE[name]
    z = _inputs(kinks, dtype)
    got = _fwd(act, z)
    assert got.dtype == dtype and got.shape == z.shape
    want = f(z.astype(np.float64))
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_derivative(name, dtype):
    act, _f, d, kinks = ELEMENTWISE[name]
    z = _inputs(kinks, dtype, seed=1)
    da = np.random.default_rng(2).uniform(0.5, 2.0, z.shape).astype(dtype)
    got = _bwd(act, z, da)
    assert got.dtype == dtype
    want = da.astype(np.float64) * d(z.astype(np.float64))
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_derivative_finite_differences(name):
    act, _f, _d, kinks = ELEMENTWISE[name]
    z = _inputs(kinks, np.float64, seed=3, margin=1e-3)
    h = 1e-6 * np.maximum(1.0, np.abs(z))
    fd = (_fwd(act, z + h) - _fwd(act, z - h)) / (2 * h)
    got = _bwd(act, z, np.ones_like(z))
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)


def test_every_native_activation_is_covered():
    kinds = {ELEMENTWISE[k][0].spec()[0] for k in ELEMENTWISE}
    kinds |= {fastnn.activations.get(k).spec()[0] for k in ROWWISE}
    assert kinds == set(fastnn.activations._KIND.values())


def test_relu_variants_differ():
    """The relu arguments really reach the engine (guards against a spec that drops them)."""
    z = np.linspace(-5, 8, 27).reshape(3, 9)
    outs = [_fwd(ELEMENTWISE[k][0], z) for k in ("relu", "relu_slope", "relu_max", "relu_threshold",
                                                  "relu_all")]
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            assert not np.array_equal(outs[i], outs[j])


def test_module_functions_match_native():
    z = np.random.default_rng(4).normal(0, 2, (5, 6))
    np.testing.assert_array_equal(fastnn.activations.relu(z, max_value=1.5),
                                  _fwd(Activation("relu", max_value=1.5), z))
    np.testing.assert_allclose(fastnn.activations.gelu(z, approximate=True), _gelu_tanh(z), rtol=1e-13,
                               atol=1e-15)
    np.testing.assert_allclose(fastnn.activations.softmax(z), _softmax(z), rtol=1e-13)
    np.testing.assert_allclose(fastnn.activations.sigmoid(z.astype(np.float32)), _sigmoid(z), rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# extremes
# ------------------------------------------------------------------------------------------------
EXTREMES = np.array([[-1e4, -50.0, -20.0, -1e-30, 0.0, 1e-30, 20.0, 50.0, 1e4]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_extremes(name, dtype):
    act, f, d, kinks = ELEMENTWISE[name]
    z = EXTREMES.astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        want = f(z.astype(np.float64)).astype(dtype).astype(np.float64)
    got = _fwd(act, z)
    assert not np.isnan(got).any(), got
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-30)
    assert np.array_equal(np.isinf(got), ~finite)
    # derivative: never NaN where the function is finite
    grad = _bwd(act, z, np.ones_like(z))
    assert not np.isnan(grad[finite]).any(), grad
    off_kink = finite & np.all([np.abs(z.astype(np.float64) - k) > 1e-3 for k in kinks] or [True], axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        dwant = d(z.astype(np.float64))
    # a derivative computed from the output (sigmoid, tanh) loses values below the output's ulp
    np.testing.assert_allclose(grad[off_kink], dwant[off_kink], rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-7 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_saturates(dtype):
    z = np.array([[-1e4, -200.0, -50.0, 0.0, 50.0, 200.0, 1e4]], dtype=dtype)
    s = _fwd(Activation("sigmoid"), z)
    assert np.all((s >= 0) & (s <= 1))
    assert s[0, 0] == 0.0 and s[0, -1] == 1.0
    assert s[0, 3] == 0.5
    assert s[0, 2] > 0  # exp(-50) is representable in both precisions
    ds = _bwd(Activation("sigmoid"), z, np.ones_like(z))
    assert np.all(np.isfinite(ds)) and np.all(ds >= 0) and ds[0, 3] == 0.25


# ------------------------------------------------------------------------------------------------
# row-wise: softmax and log_softmax
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ROWWISE))
def test_rowwise_forward(name, dtype):
    z = np.random.default_rng(5).normal(0, 4, (9, 7)).astype(dtype)
    got = _fwd(fastnn.activations.get(name), z)
    want = ROWWISE[name](z.astype(np.float64))
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ROWWISE))
def test_rowwise_derivative(name, dtype):
    rng = np.random.default_rng(6)
    z = rng.normal(0, 2, (6, 5)).astype(dtype)
    da = rng.normal(0, 1, (6, 5)).astype(dtype)
    got = _bwd(fastnn.activations.get(name), z, da)
    z64, da64 = z.astype(np.float64), da.astype(np.float64)
    s = _softmax(z64)
    if name == "softmax":
        want = s * (da64 - (da64 * s).sum(axis=1, keepdims=True))
    else:
        want = da64 - s * da64.sum(axis=1, keepdims=True)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("name", sorted(ROWWISE))
def test_rowwise_derivative_finite_differences(name, numeric_grad):
    rng = np.random.default_rng(7)
    act = fastnn.activations.get(name)
    z = rng.normal(0, 2, (4, 5))
    da = rng.normal(0, 1, (4, 5))
    fd = numeric_grad(lambda zz: float(np.sum(da * _fwd(act, zz))), z.copy())
    np.testing.assert_allclose(_bwd(act, z, da), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_huge_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0, 9990.0],
                  [-1e4, -1e4 + 1, -1e4 + 2, -1e4 + 3],
                  [50.0, 50.0, 50.0, 50.0],
                  [3e4, 3e4, -3e4, 0.0]], dtype=dtype)
    s = _fwd(fastnn.activations.get("softmax"), z)
    assert np.all(np.isfinite(s)) and np.all(s >= 0)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_allclose(s, _softmax(z.astype(np.float64)), rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-30)
    ls = _fwd(fastnn.activations.get("log_softmax"), z)
    assert np.all(np.isfinite(ls)) and np.all(ls <= 0)
    # loose bound (a few ulps of the largest logit); the accurate bound is test_log_softmax_precision
    ulp = np.finfo(dtype).eps * np.abs(z).max(axis=1, keepdims=True).astype(np.float64)
    assert np.all(np.abs(ls - _log_softmax(z.astype(np.float64))) <= 4 * ulp)
    for name in ("softmax", "log_softmax"):
        g = _bwd(fastnn.activations.get(name), z, np.ones_like(z))
        assert np.all(np.isfinite(g))


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_precision(dtype):
    """log_softmax keeps full precision for large logits (as Keras's z - max - log(sum(exp(z - max))))."""
    z = np.array([[1000.5, 1000.25, 1000.0, 999.0],
                  [3e4, 3e4, -3e4, 0.0],
                  [1e4, -1e4, 0.0, 9990.0]], dtype=dtype)
    got = _fwd(fastnn.activations.get("log_softmax"), z)
    want = _log_softmax(z.astype(np.float64))
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(got, want, rtol=16 * eps, atol=16 * eps)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # numpy 2 notices from Keras
def test_activation_values_match_keras(keras_module):
    """A few activations against keras.activations itself (float32)."""
    keras = keras_module
    z = np.random.default_rng(8).normal(0, 3, (4, 8)).astype(np.float32)
    cases = {
        "relu": (keras.activations.relu, {}, Activation("relu")),
        "relu_args": (keras.activations.relu, dict(negative_slope=0.1, max_value=4.0, threshold=0.5),
                      Activation("relu", negative_slope=0.1, max_value=4.0, threshold=0.5)),
        "leaky_relu": (keras.activations.leaky_relu, {}, Activation("leaky_relu")),
        "elu": (keras.activations.elu, dict(alpha=0.7), Activation("elu", alpha=0.7)),
        "selu": (keras.activations.selu, {}, Activation("selu")),
        "gelu": (keras.activations.gelu, {}, Activation("gelu")),
        "gelu_tanh": (keras.activations.gelu, dict(approximate=True), Activation("gelu", approximate=True)),
        "mish": (keras.activations.mish, {}, Activation("mish")),
        "hard_sigmoid": (keras.activations.hard_sigmoid, {}, Activation("hard_sigmoid")),
        "hard_silu": (keras.activations.hard_silu, {}, Activation("hard_silu")),
        "softsign": (keras.activations.softsign, {}, Activation("softsign")),
        "softmax": (keras.activations.softmax, {}, Activation("softmax")),
        "log_softmax": (keras.activations.log_softmax, {}, Activation("log_softmax")),
    }
    for name, (kfn, kw, act) in cases.items():
        want = keras.ops.convert_to_numpy(kfn(z, **kw))
        np.testing.assert_allclose(_fwd(act, z), want, rtol=1e-5, atol=1e-6, err_msg=name)
