"""Metrics that are losses take their per-sample values from the native losses: they agree with
fastnn.losses and with float64 numpy formulas written here from Keras's definitions."""

import numpy as np
import pytest

from fastnn import losses as L
from fastnn import metrics as M

EPS = 1e-7


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


def _wmean(v, w):
    return float((v * w).sum() / w.sum())


def _refs(rng):
    n, c = 150, 4
    yr = rng.normal(size=(n, c))
    pr = yr + rng.normal(scale=0.5, size=(n, c))
    ypos = rng.random((n, c)) + 0.01
    ppos = rng.random((n, c)) + 0.01
    y01 = rng.integers(0, 2, (n, c)).astype(np.float64)
    ypm = 2 * y01 - 1
    onehot = np.eye(c)[rng.integers(0, c, n)]

    def kl(y, p):
        yc, pc = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
        return (yc * np.log(yc / pc)).sum(1)

    def cos(y, p):
        yn = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), EPS)
        pn = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), EPS)
        return (yn * pn).sum(1)

    def cat_hinge(y, p):
        pos = (y * p).sum(1)
        neg = ((1 - y) * p).max(1)
        return np.maximum(neg - pos + 1, 0)

    return [
        (M.Hinge, L.Hinge, y01, pr, np.maximum(1 - ypm * pr, 0).mean(1)),
        (M.Hinge, L.Hinge, ypm, pr, np.maximum(1 - ypm * pr, 0).mean(1)),
        (M.SquaredHinge, L.SquaredHinge, y01, pr, (np.maximum(1 - ypm * pr, 0) ** 2).mean(1)),
        (M.CategoricalHinge, L.CategoricalHinge, onehot, pr, cat_hinge(onehot, pr)),
        (M.KLDivergence, L.KLDivergence, ypos / ypos.sum(1, keepdims=True), ppos / ppos.sum(1, keepdims=True),
         kl(ypos / ypos.sum(1, keepdims=True), ppos / ppos.sum(1, keepdims=True))),
        (M.Poisson, L.Poisson, ypos, ppos, (ppos - ypos * np.log(ppos + EPS)).mean(1)),
        (M.LogCoshError, L.LogCosh, yr, pr, np.log(np.cosh(pr - yr)).mean(1)),
        (M.CosineSimilarity, L.CosineSimilarity, yr, pr, cos(yr, pr)),
        (M.MeanSquaredError, L.MeanSquaredError, yr, pr, ((pr - yr) ** 2).mean(1)),
        (M.MeanAbsoluteError, L.MeanAbsoluteError, yr, pr, np.abs(pr - yr).mean(1)),
    ]


def test_loss_metrics_against_numpy_and_native_losses(rng):
    w = rng.random(150)
    for metric_cls, loss_cls, y, p, per_sample in _refs(rng):
        m = metric_cls()
        m.update_state(y[:70], p[:70], sample_weight=w[:70])
        m.update_state(y[70:], p[70:], sample_weight=w[70:])
        assert m.result() == pytest.approx(_wmean(per_sample, w), rel=1e-10), metric_cls.__name__
        # the native loss, reduced the same way ("sum_over_batch_size" of weighted samples)
        loss = loss_cls()(y, p, sample_weight=w)
        sign = -1.0 if metric_cls is M.CosineSimilarity else 1.0
        assert sign * float(loss) == pytest.approx(float((per_sample * w).sum() / len(w)), rel=1e-10)


def test_loss_metrics_names_directions_and_registry():
    for cls, name, direction in ((M.Hinge, "hinge", "down"), (M.SquaredHinge, "squared_hinge", "down"),
                                 (M.CategoricalHinge, "categorical_hinge", "down"),
                                 (M.KLDivergence, "kl_divergence", "down"), (M.Poisson, "poisson", "down"),
                                 (M.LogCoshError, "logcosh", "down"),
                                 (M.CosineSimilarity, "cosine_similarity", "up")):
        m = cls()
        assert m.name == name and m._direction == direction
        assert isinstance(M.get(name), cls) and isinstance(M.get(cls.__name__), cls)
        assert type(M.deserialize(M.serialize(m))) is cls
    assert isinstance(M.get("kld"), M.KLDivergence)


def test_metric_functions_follow_the_losses_on_float32(rng):
    """float32 predictions are evaluated in float64 (as the numpy metrics always were)."""
    y = rng.random((40, 3))
    p = (y + rng.normal(scale=0.1, size=y.shape)).astype(np.float32)
    p64 = p.astype(np.float64)
    np.testing.assert_allclose(M.mean_squared_error(y, p), ((p64 - y) ** 2).mean(1), rtol=1e-13)
    np.testing.assert_allclose(
        M.mean_squared_logarithmic_error(y, p),
        ((np.log(np.maximum(p64, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)) ** 2).mean(1), rtol=1e-12)
    yb = rng.integers(0, 2, (40, 3))
    logits = rng.normal(size=(40, 3)).astype(np.float32)
    z = logits.astype(np.float64)
    ref = (np.maximum(z, 0) - z * yb + np.log1p(np.exp(-np.abs(z)))).mean(1)
    np.testing.assert_allclose(M.binary_crossentropy(yb, logits, from_logits=True), ref, rtol=1e-12)


def test_higher_rank_inputs_and_axis(rng):
    y = rng.random((10, 5, 3))
    p = rng.random((10, 5, 3))
    np.testing.assert_allclose(M.mean_absolute_error(y, p), np.abs(p - y).mean(-1), rtol=1e-13)
    m = M.MeanAbsoluteError()
    m.update_state(y, p)
    assert m.result() == pytest.approx(np.abs(p - y).mean(), rel=1e-12)
    # categorical crossentropy over a middle axis equals moving that axis last
    lab = np.eye(5)[rng.integers(0, 5, (10, 3))].transpose(0, 2, 1)  # class axis 1
    probs = rng.random((10, 5, 3))
    probs /= probs.sum(1, keepdims=True)
    ref = -(lab * np.log(np.clip(probs, EPS, 1 - EPS))).sum(1)
    np.testing.assert_allclose(M.categorical_crossentropy(lab, probs, axis=1), ref, rtol=1e-10)
    with pytest.raises(ValueError, match=r"axis: expected an int in \[-3, 3\)"):
        M.categorical_crossentropy(lab, probs, axis=3)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy: labels must be integers"):
        M.SparseCategoricalCrossentropy()([[3]], [[0.2, 0.8]])
    with pytest.raises(ValueError, match="y_true: expected integer labels of shape"):
        M.sparse_categorical_crossentropy(np.zeros((4, 2)), np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match="y_true: expected a shape compatible"):
        M.mean_squared_error(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"label_smoothing: expected a number in \[0, 1\]"):
        M.BinaryCrossentropy(label_smoothing=2.0)
