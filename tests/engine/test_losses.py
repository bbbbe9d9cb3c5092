"""Losses of the native engine: values and gradients against float64 numpy formulas (Keras 3
definitions and "sum_over_batch_size" reduction), finite differences, extremes and Keras itself."""
from __future__ import annotations

import numpy as np
import pytest

import fastnn
from fastnn import _core
from fastnn import losses as L

EPS = 1e-7  # Keras's backend epsilon


# ------------------------------------------------------------------------------------------------
# float64 references: each returns (per-sample loss (N,), d loss_i / d pred (N, C))
# ------------------------------------------------------------------------------------------------
def _sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def _log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return (z - m) - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def ref_mse(y, p):
    c = p.shape[1]
    return ((p - y) ** 2).mean(1), 2 * (p - y) / c


def ref_mae(y, p):
    c = p.shape[1]
    return np.abs(p - y).mean(1), np.sign(p - y) / c


def ref_mape(y, p):
    c = p.shape[1]
    den = np.maximum(np.abs(y), EPS)
    return 100 * (np.abs(y - p) / den).mean(1), 100 * np.sign(p - y) / den / c


def ref_msle(y, p):
    c = p.shape[1]
    e = np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)
    return (e ** 2).mean(1), np.where(p > EPS, 2 * e / (np.maximum(p, EPS) + 1), 0.0) / c


def ref_huber(y, p, delta=1.0):
    c = p.shape[1]
    e = p - y
    a = np.abs(e)
    v = np.where(a <= delta, 0.5 * e * e, delta * a - 0.5 * delta * delta)
    return v.mean(1), np.where(a <= delta, e, delta * np.sign(e)) / c


def ref_log_cosh(y, p):
    c = p.shape[1]
    x = p - y
    # log(cosh x) = |x| + log1p(exp(-2|x|)) - log 2, exact for any |x|
    v = np.abs(x) + np.log1p(np.exp(-2 * np.abs(x))) - np.log(2.0)
    return v.mean(1), np.tanh(x) / c


def ref_bce(y, p, from_logits=False, label_smoothing=0.0):
    c = p.shape[1]
    t = y * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        v = np.logaddexp(0, p) - p * t
        return v.mean(1), (_sigmoid(p) - t) / c
    q = np.clip(p, EPS, 1 - EPS)
    v = -(t * np.log(q) + (1 - t) * np.log(1 - q))
    inside = (p > EPS) & (p < 1 - EPS)
    return v.mean(1), np.where(inside, (q - t) / (q * (1 - q)), 0.0) / c


def ref_cce(y, p, from_logits=False, label_smoothing=0.0):
    c = p.shape[1]
    t = y * (1 - label_smoothing) + label_smoothing / c
    if from_logits:
        ls = _log_softmax(p)
        v = -(t * ls).sum(1)
        return v, np.exp(ls) * t.sum(1, keepdims=True) - t
    s = p.sum(1, keepdims=True)
    q = p / s
    qc = np.clip(q, EPS, 1 - EPS)
    v = -(t * np.log(qc)).sum(1)
    inside = (q > EPS) & (q < 1 - EPS)
    # d/dp_k of -sum_j t_j log q_j (clipped entries are constant), q_j = p_j / s
    dq = np.where(inside, -t / np.where(inside, q, 1.0), 0.0)  # d loss / d q_j
    g = (dq - (dq * q).sum(1, keepdims=True)) / s
    return v, g


def ref_scce(labels, p, from_logits=False):
    n, c = p.shape
    onehot = np.eye(c)[labels.astype(int).reshape(-1)]
    if from_logits:
        ls = _log_softmax(p)
        return -(onehot * ls).sum(1), np.exp(ls) - onehot
    s = p.sum(1, keepdims=True)
    q = p / s
    qk = (q * onehot).sum(1)
    v = -np.log(np.clip(qk, EPS, 1 - EPS))
    inside = ((qk > EPS) & (qk < 1 - EPS))[:, None]
    dq = -onehot / np.where(onehot > 0, q, 1.0)
    g = np.where(inside, (dq - (dq * q).sum(1, keepdims=True)) / s, 0.0)
    return v, g


def _hinge_labels(y):
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


def ref_hinge(y, p):
    c = p.shape[1]
    t = _hinge_labels(y)
    m = 1 - t * p
    return np.maximum(m, 0).mean(1), np.where(m > 0, -t, 0.0) / c


def ref_squared_hinge(y, p):
    c = p.shape[1]
    t = _hinge_labels(y)
    h = np.maximum(1 - t * p, 0)
    return (h * h).mean(1), -2 * h * t / c


def ref_categorical_hinge(y, p):
    pos = (y * p).sum(1)
    negs = (1 - y) * p
    neg = negs.max(1)
    v = np.maximum(neg - pos + 1, 0)
    arg = negs.argmax(1)
    g = -y.copy()
    g[np.arange(len(p)), arg] += (1 - y)[np.arange(len(p)), arg]
    return v, np.where((v > 0)[:, None], g, 0.0)


def ref_kld(y, p):
    yc = np.clip(y, EPS, 1)
    pc = np.clip(p, EPS, 1)
    return (yc * np.log(yc / pc)).sum(1), np.where((p > EPS) & (p < 1), -yc / pc, 0.0)


def ref_poisson(y, p):
    c = p.shape[1]
    return (p - y * np.log(p + EPS)).mean(1), (1 - y / (p + EPS)) / c


def ref_cosine(y, p):
    ny = np.sqrt((y * y).sum(1, keepdims=True))
    np_ = np.sqrt((p * p).sum(1, keepdims=True))
    yn, pn = y / ny, p / np_
    v = -(yn * pn).sum(1)
    # d/dp of -(yn . p) / |p| = -(yn - pn (yn . pn)) / |p|
    g = -(yn - pn * (yn * pn).sum(1, keepdims=True)) / np_
    return v, g


# ------------------------------------------------------------------------------------------------
# cases: (loss object, reference, data generator (rng, n, c) -> (y, p))
# ------------------------------------------------------------------------------------------------
def _reg(rng, n, c):
    return rng.normal(0, 1, (n, c)), rng.normal(0, 1, (n, c))


def _pos(rng, n, c):
    return rng.uniform(0.05, 3, (n, c)), rng.uniform(0.05, 3, (n, c))


def _mape_data(rng, n, c):
    y = rng.uniform(0.2, 2, (n, c)) * rng.choice([-1, 1], (n, c))
    return y, rng.normal(0, 2, (n, c))


def _binary(rng, n, c):
    return rng.integers(0, 2, (n, c)).astype(float), rng.uniform(0.02, 0.98, (n, c))


def _soft_binary(rng, n, c):
    return rng.uniform(0, 1, (n, c)), rng.uniform(0.02, 0.98, (n, c))


def _binary_logits(rng, n, c):
    return rng.integers(0, 2, (n, c)).astype(float), rng.normal(0, 3, (n, c))


def _onehot_probs(rng, n, c):
    y = np.eye(c)[rng.integers(0, c, n)]
    p = rng.uniform(0.05, 1, (n, c))
    return y, p  # not normalised: the loss normalises (Keras)


def _onehot_logits(rng, n, c):
    return np.eye(c)[rng.integers(0, c, n)], rng.normal(0, 3, (n, c))


def _soft_targets_logits(rng, n, c):
    t = rng.uniform(0, 1, (n, c))
    return t / t.sum(1, keepdims=True), rng.normal(0, 3, (n, c))


def _sparse_probs(rng, n, c):
    return rng.integers(0, c, (n, 1)).astype(float), rng.uniform(0.05, 1, (n, c))


def _sparse_logits(rng, n, c):
    return rng.integers(0, c, (n, 1)).astype(float), rng.normal(0, 3, (n, c))


def _pm1(rng, n, c):
    return rng.choice([-1.0, 1.0], (n, c)), rng.normal(0, 1.5, (n, c))


def _onehot_any(rng, n, c):
    return np.eye(c)[rng.integers(0, c, n)], rng.normal(0, 1.5, (n, c))


def _prob_rows(rng, n, c):
    a, b = rng.uniform(0.05, 1, (n, c)), rng.uniform(0.05, 1, (n, c))
    return a / a.sum(1, keepdims=True), b / b.sum(1, keepdims=True)


def _counts(rng, n, c):
    return rng.poisson(2.0, (n, c)).astype(float), rng.uniform(0.1, 4, (n, c))


CASES = {
    "mse": (L.MeanSquaredError(), ref_mse, _reg),
    "mae": (L.MeanAbsoluteError(), ref_mae, _reg),
    "mape": (L.MeanAbsolutePercentageError(), ref_mape, _mape_data),
    "msle": (L.MeanSquaredLogarithmicError(), ref_msle, _pos),
    "huber": (L.Huber(), ref_huber, lambda r, n, c: (r.normal(0, 1, (n, c)), r.normal(0, 2, (n, c)))),
    "huber_delta0.3": (L.Huber(delta=0.3), lambda y, p: ref_huber(y, p, 0.3), _reg),
    "log_cosh": (L.LogCosh(), ref_log_cosh, lambda r, n, c: (r.normal(0, 1, (n, c)), r.normal(0, 3, (n, c)))),
    "bce": (L.BinaryCrossentropy(), ref_bce, _binary),
    "bce_soft": (L.BinaryCrossentropy(), ref_bce, _soft_binary),
    "bce_smooth": (L.BinaryCrossentropy(label_smoothing=0.2),
                   lambda y, p: ref_bce(y, p, label_smoothing=0.2), _binary),
    "bce_logits": (L.BinaryCrossentropy(from_logits=True), lambda y, p: ref_bce(y, p, True), _binary_logits),
    "bce_logits_smooth": (L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                          lambda y, p: ref_bce(y, p, True, 0.1), _binary_logits),
    "cce": (L.CategoricalCrossentropy(), ref_cce, _onehot_probs),
    "cce_smooth": (L.CategoricalCrossentropy(label_smoothing=0.1),
                   lambda y, p: ref_cce(y, p, label_smoothing=0.1), _onehot_probs),
    "cce_logits": (L.CategoricalCrossentropy(from_logits=True), lambda y, p: ref_cce(y, p, True),
                   _onehot_logits),
    "cce_logits_soft": (L.CategoricalCrossentropy(from_logits=True), lambda y, p: ref_cce(y, p, True),
                        _soft_targets_logits),
    "cce_logits_smooth": (L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.15),
                          lambda y, p: ref_cce(y, p, True, 0.15), _onehot_logits),
    "scce": (L.SparseCategoricalCrossentropy(), ref_scce, _sparse_probs),
    "scce_logits": (L.SparseCategoricalCrossentropy(from_logits=True), lambda y, p: ref_scce(y, p, True),
                    _sparse_logits),
    "hinge": (L.Hinge(), ref_hinge, _pm1),
    "hinge01": (L.Hinge(), ref_hinge, lambda r, n, c: (r.integers(0, 2, (n, c)).astype(float),
                                                      r.normal(0, 1.5, (n, c)))),
    "squared_hinge": (L.SquaredHinge(), ref_squared_hinge, _pm1),
    "squared_hinge01": (L.SquaredHinge(), ref_squared_hinge,
                        lambda r, n, c: (r.integers(0, 2, (n, c)).astype(float), r.normal(0, 1.5, (n, c)))),
    "categorical_hinge": (L.CategoricalHinge(), ref_categorical_hinge, _onehot_any),
    "kl_divergence": (L.KLDivergence(), ref_kld, _prob_rows),
    "poisson": (L.Poisson(), ref_poisson, _counts),
    "cosine_similarity": (L.CosineSimilarity(), ref_cosine, _reg),
}
N, C = 7, 4


def _data(name, seed=0, dtype=np.float64):
    loss, ref, gen = CASES[name]
    rng = np.random.default_rng(seed + sum(map(ord, name)))
    y, p = gen(rng, N, C)
    return loss, ref, np.ascontiguousarray(y, dtype), np.ascontiguousarray(p, dtype)


def _native(loss, p, y, w=None):
    fn = _core.loss_f64 if p.dtype == np.float64 else _core.loss_f32
    return fn(loss.spec(), p, y, w)


def _expected(ref, y, p, w):
    l, g = ref(y.astype(np.float64), p.astype(np.float64))
    ww = np.ones(len(p)) if w is None else w.astype(np.float64)
    n = len(p)
    return (ww * l).sum() / n, ww[:, None] * g / n, ww * l


# ------------------------------------------------------------------------------------------------
# values and gradients against the formulas
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradient(name, dtype, weighted):
    loss, ref, y, p = _data(name, dtype=dtype)
    w = np.random.default_rng(1).uniform(0.2, 2.0, N).astype(dtype) if weighted else None
    if weighted:
        w[2] = 0.0
    total, grad, per = _native(loss, p, y, w)
    value, g_want, per_want = _expected(ref, y, p, w)
    if dtype == np.float64:
        tol = dict(rtol=1e-12, atol=1e-13)
    else:
        tol = dict(rtol=2e-5, atol=2e-5 * max(1.0, np.abs(per_want).max()))
    np.testing.assert_allclose(total / N, value, **tol)
    np.testing.assert_allclose(per, per_want, **tol)
    np.testing.assert_allclose(grad, g_want, rtol=tol["rtol"],
                               atol=tol["atol"] if dtype == np.float64 else 2e-5 * np.abs(g_want).max())
    if weighted:
        assert np.all(grad[2] == 0) and per[2] == 0
    # the Python object gives the same numbers
    v2, g2, _ = loss.value_and_grad(y, p, w)
    assert v2 == pytest.approx(total / N, rel=1e-12, abs=1e-300)
    np.testing.assert_array_equal(g2, grad)
    assert float(loss(y, p, sample_weight=w)) == pytest.approx(total / N, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_finite_differences(name, numeric_grad):
    loss, _ref, y, p = _data(name, seed=5)
    w = np.random.default_rng(2).uniform(0.2, 2.0, N)
    _, grad, _ = _native(loss, p, y, w)
    fd = numeric_grad(lambda pp: _native(loss, pp, y, w)[0] / N, p.copy())
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8 * max(1.0, np.abs(fd).max()))


def test_reduction_modes():
    loss = L.MeanSquaredError(reduction="none")
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(loss(y, p), ((p - y) ** 2).mean(1), rtol=1e-13)
    assert float(L.MeanSquaredError(reduction="sum")(y, p)) == pytest.approx(((p - y) ** 2).mean(1).sum(),
                                                                              rel=1e-13)
    np.testing.assert_allclose(fastnn.losses.mse(y, p), ((p - y) ** 2).mean(1), rtol=1e-13)


def test_hinge_label_mapping_is_batchwise():
    """0/1 labels map to -1/1 only when every label of the batch is 0 or 1 (Keras)."""
    p = np.array([[0.3, -0.2], [1.5, 0.1]])
    y01 = np.array([[0.0, 1.0], [1.0, 0.0]])
    got01 = _native(L.Hinge(), p, y01)[0] / 2
    assert got01 == pytest.approx(ref_hinge(y01, p)[0].mean(), rel=1e-13)
    ymix = np.array([[0.0, 1.0], [1.0, -1.0]])  # a -1 label: no mapping (0 stays 0)
    gotmix = _native(L.Hinge(), p, ymix)[0] / 2
    want = np.maximum(1 - ymix * p, 0).mean(1).mean()
    assert gotmix == pytest.approx(want, rel=1e-13)
    assert got01 != pytest.approx(gotmix)


# ------------------------------------------------------------------------------------------------
# extremes
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_probabilities_at_0_and_1(dtype):
    p = np.array([[0.0, 1.0, 0.0, 1.0, 1e-9, 1 - 1e-9]], dtype=dtype)
    y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]], dtype=dtype)
    total, grad, per = _native(L.BinaryCrossentropy(), p, y)
    assert np.isfinite(total) and np.all(np.isfinite(grad))
    # perfect predictions cost about -log(1 - 1e-7); the wrong ones -log(1e-7) = 16.118
    # the clip bounds are those of the dtype (1 - 1e-7 rounds to 1 - 2^-23 in float32, as in Keras)
    q = np.clip(p, dtype(EPS), dtype(1 - EPS)).astype(np.float64)
    want = -(y * np.log(q) + (1 - y) * np.log(1 - q)).mean()
    assert total == pytest.approx(want, rel=1e-5 if dtype == np.float32 else 1e-12)
    assert 4 * 15.9 / 6 < total < 4 * 16.2 / 6
    # clipped predictions get no gradient (as the gradient of Keras's clip)
    assert np.all(grad == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_from_logits_extremes(dtype):
    z = np.array([[50.0, -50.0, 1e4, -1e4, 50.0, -50.0, 1e4, -1e4]], dtype=dtype)
    y = np.array([[1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]], dtype=dtype)
    total, grad, _ = _native(L.BinaryCrossentropy(from_logits=True), z, y)
    assert np.isfinite(total) and np.all(np.isfinite(grad))
    # right with huge confidence: ~0; wrong: |z|
    per_elem = np.array([0.0, 0.0, 0.0, 0.0, 50.0, 50.0, 1e4, 1e4])
    per_elem[:2] = np.log1p(np.exp(-50.0))
    assert total == pytest.approx(per_elem.mean(), rel=1e-6 if dtype == np.float32 else 1e-13)
    want_g = np.array([0, 0, 0, 0, 1, -1, 1, -1]) / 8.0
    np.testing.assert_allclose(grad[0], want_g, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True], ids=["categorical", "sparse"])
def test_cce_from_logits_extremes(dtype, sparse):
    z = np.array([[1e4, -1e4, 0.0], [50.0, -50.0, 0.0], [-1e4, 1e4, 9990.0], [50.0, 50.0, -50.0]], dtype=dtype)
    labels = np.array([0, 1, 2, 0])
    y = labels.reshape(-1, 1).astype(dtype) if sparse else np.eye(3, dtype=dtype)[labels]
    loss = (L.SparseCategoricalCrossentropy if sparse else L.CategoricalCrossentropy)(from_logits=True)
    total, grad, per = _native(loss, z, y)
    assert np.isfinite(total) and np.all(np.isfinite(grad)) and np.all(np.isfinite(per))
    want, want_g = ref_cce(np.eye(3)[labels], z.astype(np.float64), from_logits=True)
    np.testing.assert_allclose(per, want, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, want_g / 4, atol=1e-7 if dtype == np.float32 else 1e-15)
    assert per[0] == pytest.approx(0.0, abs=1e-12) and per[1] == pytest.approx(100.0, rel=1e-6)
    assert per[2] == pytest.approx(10.0, rel=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cce_probabilities_with_zeros(dtype):
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], dtype=dtype)
    y = np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 0, 1.0]], dtype=dtype)
    total, grad, per = _native(L.CategoricalCrossentropy(), p, y)
    assert np.isfinite(total) and np.all(np.isfinite(grad))
    hi, lo = float(dtype(1 - EPS)), float(dtype(EPS))
    np.testing.assert_allclose(per, [-np.log(hi), -np.log(lo), -np.log(lo)],
                               rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_cosine_similarity_small_norm_keras3():
    y = np.array([[1.0, 0.0], [0.0, 2.0]])
    p = np.array([[3e-7, 4e-7], [1e-7, 5e-7]])  # norms 5e-7 and 5.1e-7
    per = _native(L.CosineSimilarity(), p, y)[2]
    yn = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), EPS)
    pn = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), EPS)
    np.testing.assert_allclose(per, -(yn * pn).sum(1), rtol=1e-12)  # [-0.6, -0.98058]


# ------------------------------------------------------------------------------------------------
# Keras itself
# ------------------------------------------------------------------------------------------------
KERAS_CLASS = {
    "mse": ("MeanSquaredError", {}), "mae": ("MeanAbsoluteError", {}),
    "mape": ("MeanAbsolutePercentageError", {}), "msle": ("MeanSquaredLogarithmicError", {}),
    "huber": ("Huber", {}), "huber_delta0.3": ("Huber", dict(delta=0.3)), "log_cosh": ("LogCosh", {}),
    "bce": ("BinaryCrossentropy", {}), "bce_soft": ("BinaryCrossentropy", {}),
    "bce_smooth": ("BinaryCrossentropy", dict(label_smoothing=0.2)),
    "bce_logits": ("BinaryCrossentropy", dict(from_logits=True)),
    "bce_logits_smooth": ("BinaryCrossentropy", dict(from_logits=True, label_smoothing=0.1)),
    "cce": ("CategoricalCrossentropy", {}),
    "cce_smooth": ("CategoricalCrossentropy", dict(label_smoothing=0.1)),
    "cce_logits": ("CategoricalCrossentropy", dict(from_logits=True)),
    "cce_logits_soft": ("CategoricalCrossentropy", dict(from_logits=True)),
    "cce_logits_smooth": ("CategoricalCrossentropy", dict(from_logits=True, label_smoothing=0.15)),
    "scce": ("SparseCategoricalCrossentropy", {}),
    "scce_logits": ("SparseCategoricalCrossentropy", dict(from_logits=True)),
    "hinge": ("Hinge", {}), "hinge01": ("Hinge", {}), "squared_hinge": ("SquaredHinge", {}),
    "squared_hinge01": ("SquaredHinge", {}), "categorical_hinge": ("CategoricalHinge", {}),
    "kl_divergence": ("KLDivergence", {}), "poisson": ("Poisson", {}),
    "cosine_similarity": ("CosineSimilarity", {}),
}


def test_all_cases_have_a_keras_counterpart():
    assert set(KERAS_CLASS) == set(CASES)
    assert {type(c[0]).kind for c in CASES.values()} == set(L._CLASSES)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # numpy 2 notices from Keras
def test_values_match_keras(keras_module):
    keras = keras_module
    rng = np.random.default_rng(11)
    for name in sorted(CASES):
        loss, _ref, y, p = _data(name, seed=9)
        cls_name, kw = KERAS_CLASS[name]
        kloss = getattr(keras.losses, cls_name)(**kw)
        w = rng.uniform(0.2, 2.0, N)
        for weights in (None, w):
            yk = y.reshape(-1).astype(np.int64) if name.startswith("scce") else y
            want = float(keras.ops.convert_to_numpy(
                kloss(yk.astype(np.float32) if not name.startswith("scce") else yk, p.astype(np.float32),
                      sample_weight=None if weights is None else weights.astype(np.float32))))
            got = _native(loss, p, y, weights)[0] / N
            assert got == pytest.approx(want, rel=1e-5, abs=1e-5), (name, weights is not None)


def test_every_loss_on_rows_of_zero_columns_returns(tmp_path):
    # Rows of no columns once divided by zero in the engine (SIGFPE): run in a child so a crash
    # fails this test instead of ending the run. Element-wise losses are a mean over no values
    # (NaN, as numpy's and Keras's mean over an empty axis).
    import subprocess
    import sys
    code = (
        "import numpy as np, fastnn\n"
        "for name in ['mean_squared_error', 'mean_absolute_error', 'poisson', 'huber', 'log_cosh',\n"
        "             'binary_crossentropy', 'hinge', 'squared_hinge', 'mean_squared_logarithmic_error',\n"
        "             'mean_absolute_percentage_error', 'categorical_crossentropy', 'kl_divergence']:\n"
        "    for dt in (np.float32, np.float64):\n"
        "        v = fastnn.losses.get(name)(np.zeros((2, 0), dt), np.zeros((2, 0), dt))\n"
        "        v = float(v)\n"
        "        if name not in ('categorical_crossentropy', 'kl_divergence'):\n"
        "            assert np.isnan(v), (name, v)\n"
        "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
