"""Weight initializers of the native engine: shapes, Keras 3 statistics, truncation, orthogonality,
constants and seeding."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fastnn
from fastnn import initializers as I
from fastnn import layers

TRUNC_CORRECTION = 0.87962566103423978  # std of a standard normal truncated at +-2


def _draw(init, shape, dtype="float64"):
    out = init(shape, dtype=dtype)
    assert out.shape == tuple(shape)
    assert out.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(out))
    return np.asarray(out, dtype=np.float64)


# name -> (initializer factory(seed), shape, fan used by Keras, scale, distribution)
VS = {
    "glorot_uniform": (I.GlorotUniform, (300, 500), 400.0, 1.0, "uniform"),
    "glorot_normal": (I.GlorotNormal, (300, 500), 400.0, 1.0, "truncated"),
    "he_uniform": (I.HeUniform, (400, 300), 400.0, 2.0, "uniform"),
    "he_normal": (I.HeNormal, (400, 300), 400.0, 2.0, "truncated"),
    "lecun_uniform": (I.LecunUniform, (250, 480), 250.0, 1.0, "uniform"),
    "lecun_normal": (I.LecunNormal, (250, 480), 250.0, 1.0, "truncated"),
    "vs_fan_out_untruncated": (lambda seed: I.VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=seed),
                               (500, 240), 240.0, 3.0, "normal"),
    "vs_fan_avg_uniform": (lambda seed: I.VarianceScaling(0.5, "fan_avg", "uniform", seed=seed),
                           (200, 600), 400.0, 0.5, "uniform"),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(VS))
def test_variance_scaling_statistics(name, dtype):
    make, shape, fan, scale, dist = VS[name]
    w = _draw(make(seed=3), shape, dtype)
    target_std = math.sqrt(scale / fan)
    n = w.size
    assert abs(w.mean()) < 4 * target_std / math.sqrt(n)
    assert w.std() == pytest.approx(target_std, rel=0.01)
    if dist == "uniform":
        limit = math.sqrt(3 * scale / fan)
        assert np.abs(w).max() <= limit * (1 + 1e-6)
        assert np.abs(w).max() > 0.999 * limit
        # flat histogram
        hist, _ = np.histogram(w, bins=10, range=(-limit, limit))
        assert hist.min() > 0.9 * n / 10
    elif dist == "truncated":
        sd = target_std / TRUNC_CORRECTION  # the normal before truncation
        assert np.abs(w).max() <= 2 * sd * (1 + 1e-6)
        assert np.abs(w).max() > 1.95 * sd
        # shape of a truncated normal: P(|x| < sd) = 0.6827 / 0.9545
        assert np.mean(np.abs(w) < sd) == pytest.approx(0.68269 / 0.95450, abs=0.01)
    else:
        assert np.abs(w).max() > 3.5 * target_std  # untruncated tails
        assert np.mean(np.abs(w) < target_std) == pytest.approx(0.68269, abs=0.01)


def test_glorot_uniform_limit_small_matrix():
    w = _draw(I.GlorotUniform(seed=0), (3, 5))
    assert np.all(np.abs(w) <= math.sqrt(6 / 8))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_normal_uniform_truncated(dtype):
    w = _draw(I.RandomNormal(mean=1.5, stddev=0.3, seed=1), (400, 500), dtype)
    assert w.mean() == pytest.approx(1.5, abs=0.003) and w.std() == pytest.approx(0.3, rel=0.01)
    u = _draw(I.RandomUniform(minval=-0.2, maxval=0.6, seed=2), (400, 500), dtype)
    assert u.min() >= -0.2 and u.max() <= 0.6
    assert u.min() < -0.199 and u.max() > 0.599
    assert u.mean() == pytest.approx(0.2, abs=0.003) and u.std() == pytest.approx(0.8 / math.sqrt(12), rel=0.01)
    t = _draw(I.TruncatedNormal(mean=-1.0, stddev=0.5, seed=3), (400, 500), dtype)
    assert np.all(np.abs(t + 1.0) <= 1.0 * (1 + 1e-6))  # within 2 stddev of the mean
    assert np.abs(t + 1.0).max() > 0.98
    assert t.mean() == pytest.approx(-1.0, abs=0.003)
    assert t.std() == pytest.approx(0.5 * TRUNC_CORRECTION, rel=0.01)


@pytest.mark.parametrize("gain", [1.0, 2.5])
@pytest.mark.parametrize("shape", [(60, 20), (20, 60), (32, 32)], ids=["tall", "wide", "square"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal(shape, gain, dtype):
    q = _draw(I.Orthogonal(gain=gain, seed=4), shape, dtype) / gain
    rows, cols = shape
    tol = 1e-5 if dtype == "float32" else 1e-12
    if rows >= cols:
        np.testing.assert_allclose(q.T @ q, np.eye(cols), atol=tol)
    if rows <= cols:
        np.testing.assert_allclose(q @ q.T, np.eye(rows), atol=tol)
    assert not np.allclose(np.abs(q), np.eye(rows, cols))  # random, not the identity


def test_orthogonal_differs_by_seed_and_repeats_with_seed():
    a = _draw(I.Orthogonal(seed=1), (10, 10))
    b = _draw(I.Orthogonal(seed=2), (10, 10))
    c = _draw(I.Orthogonal(seed=1), (10, 10))
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_constants_and_identity(dtype):
    np.testing.assert_array_equal(_draw(I.Zeros(), (3, 4), dtype), np.zeros((3, 4)))
    np.testing.assert_array_equal(_draw(I.Ones(), (5,), dtype), np.ones(5))
    np.testing.assert_array_equal(_draw(I.Constant(0.25), (2, 7), dtype), np.full((2, 7), 0.25))
    np.testing.assert_array_equal(_draw(I.Identity(), (4, 4), dtype), np.eye(4))
    np.testing.assert_array_equal(_draw(I.Identity(gain=3.0), (3, 5), dtype), 3 * np.eye(3, 5))
    np.testing.assert_array_equal(_draw(I.get("zeros"), (2, 2), dtype), np.zeros((2, 2)))


SEEDED = [I.GlorotUniform, I.GlorotNormal, I.HeNormal, I.HeUniform, I.LecunNormal, I.LecunUniform,
          I.RandomNormal, I.RandomUniform, I.TruncatedNormal, I.Orthogonal]


@pytest.mark.parametrize("cls", SEEDED, ids=lambda c: c.__name__)
def test_seeded_reproducibility(cls):
    a = _draw(cls(seed=7), (20, 30))
    b = _draw(cls(seed=7), (20, 30))
    c = _draw(cls(seed=8), (20, 30))
    np.testing.assert_array_equal(a, b)
    assert not np.any(a == c)
    # float32 is the float64 draw rounded
    np.testing.assert_array_equal(_draw(cls(seed=7), (20, 30), "float32"), a.astype(np.float32))


def test_unseeded_initializers_follow_the_global_seed():
    fastnn.utils.set_random_seed(123)
    a1, a2 = _draw(I.GlorotUniform(), (6, 6)), _draw(I.GlorotUniform(), (6, 6))
    fastnn.utils.set_random_seed(123)
    b1, b2 = _draw(I.GlorotUniform(), (6, 6)), _draw(I.GlorotUniform(), (6, 6))
    fastnn.utils.set_random_seed(124)
    c1 = _draw(I.GlorotUniform(), (6, 6))
    assert not np.allclose(a1, a2)  # successive draws differ
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.allclose(a1, c1)


def test_dense_layer_uses_its_initializers():
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(200,)),
                           layers.Dense(300, kernel_initializer="he_normal", bias_initializer=I.Constant(0.1)),
                           layers.Dense(50, kernel_initializer=I.Orthogonal(seed=5), bias_initializer="ones")],
                          dtype="float64")
    k1, b1, k2, b2 = m.get_weights()
    assert k1.shape == (200, 300) and k2.shape == (300, 50)
    assert k1.std() == pytest.approx(math.sqrt(2 / 200), rel=0.02)
    assert np.abs(k1).max() <= 2 * math.sqrt(2 / 200) / TRUNC_CORRECTION * (1 + 1e-9)
    np.testing.assert_array_equal(b1, np.full(300, 0.1))
    np.testing.assert_array_equal(b2, np.ones(50))
    np.testing.assert_allclose(k2.T @ k2, np.eye(50), atol=1e-12)
    np.testing.assert_array_equal(k2, I.Orthogonal(seed=5)((300, 50), dtype="float64"))


def test_kernel_with_one_input_row_uses_fan_in_one():
    w = _draw(I.HeNormal(seed=0), (1, 20000))
    assert w.std() == pytest.approx(math.sqrt(2.0), rel=0.02)  # Keras: fan_in = 1


def test_dense_on_one_feature_he_uniform_limit():
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(1,)), layers.Dense(4000, kernel_initializer="he_uniform")])
    k = m.get_weights()[0]
    assert np.abs(k).max() > 0.9 * math.sqrt(6.0)  # Keras: limit sqrt(6 / fan_in) with fan_in = 1


def test_one_dimensional_shape_fans():
    """A 1-D shape has fan_in = fan_out = its length (Keras compute_fans)."""
    w = _draw(I.GlorotUniform(seed=0), (5000,))
    limit = math.sqrt(6 / (5000 + 5000))
    assert np.abs(w).max() <= limit * (1 + 1e-6) and np.abs(w).max() > 0.99 * limit
