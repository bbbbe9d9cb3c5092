"""Tests of fastnn.metrics against float64 references written from the formulas
(and scikit-learn where it is installed)."""

import numpy as np
import pytest

from fastnn import metrics as M

EPS = 1e-7


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def wmean(values, w=None):
    values = np.asarray(values, dtype=np.float64)
    if w is None:
        return float(values.mean())
    w = np.asarray(w, dtype=np.float64)
    return float((values * w).sum() / w.sum())


# ---------------------------------------------------------------------------
# Mean / Sum / wrapper
# ---------------------------------------------------------------------------
def test_mean_and_sum_weighted(rng):
    v = rng.normal(size=50)
    w = rng.random(50)
    m = M.Mean()
    assert m.result() == 0.0
    m.update_state(v[:20], w[:20])
    m.update_state(v[20:], w[20:])
    assert m.result() == pytest.approx(wmean(v, w), rel=1e-12)
    assert isinstance(m.result(), float)
    m.reset_state()
    assert m.result() == 0.0
    assert m(v) == pytest.approx(v.mean())
    s = M.Sum()
    s.update_state(v, w)
    assert s.result() == pytest.approx(float((v * w).sum()))
    assert M.Mean().name == "mean" and M.Sum().name == "sum"


def test_mean_reduces_extra_axes_before_weighting(rng):
    v = rng.normal(size=(30, 4))
    w = rng.random(30)
    m = M.Mean()
    m.update_state(v, w)
    assert m.result() == pytest.approx(wmean(v.mean(axis=1), w), rel=1e-12)
    m2 = M.Mean()
    m2.update_state(v, w[:, None])  # (n, 1) weights behave like (n,)
    assert m2.result() == pytest.approx(m.result(), rel=1e-12)


def test_mean_zero_weights_gives_zero():
    m = M.Mean()
    m.update_state([1.0, 2.0], [0.0, 0.0])
    assert m.result() == 0.0


def test_mean_metric_wrapper_custom_function(rng):
    def my_error(y_true, y_pred):
        return np.abs(y_true - y_pred).max(axis=-1)

    yt, yp = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    w = rng.random(40)
    m = M.MeanMetricWrapper(my_error)
    assert m.name == "my_error"
    m.update_state(yt, yp, w)
    assert m.result() == pytest.approx(wmean(np.abs(yt - yp).max(axis=1), w))
    m2 = M.MeanMetricWrapper(lambda a, b, scale: scale * np.abs(a - b).mean(-1), name="s", scale=2.0)
    m2.update_state(yt, yp)
    assert m2.result() == pytest.approx(2 * np.abs(yt - yp).mean())


# ---------------------------------------------------------------------------
# Accuracy family
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("label_shape", ["flat", "column"])
def test_binary_accuracy(rng, label_shape):
    n = 200
    y = rng.integers(0, 2, n).astype(np.float32)
    p = rng.random((n, 1)).astype(np.float32)
    w = rng.random(n)
    labels = y if label_shape == "flat" else y[:, None]
    ref = ((p[:, 0] > 0.5) == (y == 1)).astype(np.float64)
    m = M.BinaryAccuracy()
    assert m.name == "binary_accuracy"
    m.update_state(labels, p)
    assert m.result() == pytest.approx(ref.mean())
    m.reset_state()
    m.update_state(labels, p, sample_weight=w)
    assert m.result() == pytest.approx(wmean(ref, w))
    m = M.BinaryAccuracy(threshold=0.7)
    m.update_state(labels, p)
    assert m.result() == pytest.approx(((p[:, 0] > 0.7) == (y == 1)).mean())
    # the threshold is strict: a prediction equal to it is negative
    assert M.BinaryAccuracy()([[1.0], [0.0]], [[0.5], [0.5]]) == pytest.approx(0.5)


def test_binary_accuracy_multi_column_averages_per_sample(rng):
    y = rng.integers(0, 2, (50, 3))
    p = rng.random((50, 3))
    per_sample = ((p > 0.5) == (y == 1)).mean(axis=1)
    np.testing.assert_allclose(M.binary_accuracy(y, p), per_sample)
    w = rng.random(50)
    m = M.BinaryAccuracy()
    m.update_state(y, p, w)
    assert m.result() == pytest.approx(wmean(per_sample, w))


def test_categorical_and_sparse_accuracy(rng):
    n, c = 300, 5
    labels = rng.integers(0, c, n)
    onehot = np.eye(c, dtype=np.float32)[labels]
    p = rng.random((n, c)).astype(np.float32)
    w = rng.random(n)
    ref = (p.argmax(1) == labels).astype(np.float64)
    for metric, yt in (
        (M.CategoricalAccuracy(), onehot),
        (M.SparseCategoricalAccuracy(), labels),
        (M.SparseCategoricalAccuracy(), labels[:, None]),
        (M.SparseCategoricalAccuracy(), labels.astype(np.float32)),
    ):
        metric.update_state(yt, p, sample_weight=w)
        assert metric.result() == pytest.approx(wmean(ref, w))
    np.testing.assert_array_equal(M.categorical_accuracy(onehot, p), ref)
    np.testing.assert_array_equal(M.sparse_categorical_accuracy(labels[:, None], p), ref)
    assert M.sparse_categorical_accuracy(labels[:, None], p).shape == (n,)


def _topk_reference(labels, p, k):
    out = np.zeros(len(labels))
    for i, t in enumerate(labels):
        # inside the top k unless k or more classes score strictly higher
        out[i] = float((p[i] > p[i, t]).sum() < k)
    return out


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_top_k_accuracy(rng, k):
    n, c = 120, 6
    labels = rng.integers(0, c, n)
    p = rng.random((n, c))
    p[::7, :] = np.round(p[::7, :], 1)  # ties across the boundary count as inside
    ref = _topk_reference(labels, p, k)
    np.testing.assert_array_equal(M.top_k_categorical_accuracy(np.eye(c)[labels], p, k=k), ref)
    np.testing.assert_array_equal(M.sparse_top_k_categorical_accuracy(labels, p, k=k), ref)
    np.testing.assert_array_equal(M.sparse_top_k_categorical_accuracy(labels[:, None], p, k=k), ref)
    w = rng.random(n)
    m = M.TopKCategoricalAccuracy(k=k)
    m.update_state(np.eye(c)[labels], p, w)
    assert m.result() == pytest.approx(wmean(ref, w))
    m = M.SparseTopKCategoricalAccuracy(k=k)
    m.update_state(labels, p, w)
    assert m.result() == pytest.approx(wmean(ref, w))
    assert M.TopKCategoricalAccuracy().name == "top_k_categorical_accuracy"
    assert M.SparseTopKCategoricalAccuracy().name == "sparse_top_k_categorical_accuracy"


def test_top_k_equals_categorical_accuracy_for_k1(rng):
    labels = rng.integers(0, 4, 100)
    p = rng.random((100, 4))
    np.testing.assert_array_equal(
        M.sparse_top_k_categorical_accuracy(labels, p, k=1), M.sparse_categorical_accuracy(labels, p)
    )


def test_sparse_top_k_from_sorted_ids():
    ids = np.array([[2, 0, 1], [1, 2, 0]])
    np.testing.assert_array_equal(
        M.sparse_top_k_categorical_accuracy([0, 0], ids, k=2, from_sorted_ids=True), [1.0, 0.0]
    )


def test_accuracy_exact_equality():
    m = M.Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert m.result() == pytest.approx(0.75)
    assert m.name == "accuracy"


# ---------------------------------------------------------------------------
# Regression metrics
# ---------------------------------------------------------------------------
def _regression_refs(yt, yp):
    return {
        M.MeanSquaredError: ((yp - yt) ** 2).mean(axis=1),
        M.MeanAbsoluteError: np.abs(yp - yt).mean(axis=1),
        M.MeanAbsolutePercentageError: 100 * (np.abs(yt - yp) / np.maximum(np.abs(yt), EPS)).mean(axis=1),
        M.MeanSquaredLogarithmicError: (
            (np.log1p(np.maximum(yp, EPS)) - np.log1p(np.maximum(yt, EPS))) ** 2
        ).mean(axis=1),
    }


def test_regression_metrics(rng):
    yt = rng.random((80, 3)) * 2
    yp = (yt + rng.normal(scale=0.3, size=yt.shape)).astype(np.float32)
    w = rng.random(80)
    yp64 = yp.astype(np.float64)
    for cls, per_sample in _regression_refs(yt, yp64).items():
        m = cls()
        m.update_state(yt, yp)
        assert m.result() == pytest.approx(per_sample.mean(), rel=1e-9), cls.__name__
        m = cls()
        m.update_state(yt, yp, sample_weight=w)
        assert m.result() == pytest.approx(wmean(per_sample, w), rel=1e-9), cls.__name__
    rmse = M.RootMeanSquaredError()
    rmse.update_state(yt, yp, w)
    assert rmse.result() == pytest.approx(np.sqrt(wmean(((yp64 - yt) ** 2).mean(1), w)), rel=1e-9)
    names = [cls().name for cls in _regression_refs(yt, yp64)] + [rmse.name]
    assert names == [
        "mean_squared_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error",
        "root_mean_squared_error",
    ]


def test_regression_label_rank_alignment(rng):
    y = rng.normal(size=60)
    p = rng.normal(size=(60, 1))
    m = M.MeanSquaredError()
    m.update_state(y, p)
    assert m.result() == pytest.approx(((p[:, 0] - y) ** 2).mean())


# ---------------------------------------------------------------------------
# Crossentropy metrics
# ---------------------------------------------------------------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_binary_crossentropy(rng):
    n = 100
    y = rng.integers(0, 2, (n, 1)).astype(np.float64)
    logits = rng.normal(scale=2, size=(n, 1))
    p = _sigmoid(logits)
    w = rng.random(n)
    ref = -(y * np.log(np.clip(p, EPS, 1 - EPS)) + (1 - y) * np.log(np.clip(1 - p, EPS, 1 - EPS)))[:, 0]
    m = M.BinaryCrossentropy()
    m.update_state(y[:, 0], p.astype(np.float32), w)
    assert m.result() == pytest.approx(wmean(ref, w), rel=1e-5)
    m = M.BinaryCrossentropy(from_logits=True)
    m.update_state(y, logits, w)
    assert m.result() == pytest.approx(wmean(ref, w), rel=1e-9)
    ls = 0.2
    ys = y * (1 - ls) + 0.5 * ls
    ref_ls = -(ys * np.log(p) + (1 - ys) * np.log(1 - p))[:, 0]
    m = M.BinaryCrossentropy(label_smoothing=ls)
    m.update_state(y, p)
    assert m.result() == pytest.approx(ref_ls.mean(), rel=1e-9)
    # clipping keeps confident mistakes finite
    assert np.isfinite(M.BinaryCrossentropy()([[1.0]], [[0.0]]))


def test_categorical_crossentropies(rng):
    n, c = 90, 4
    labels = rng.integers(0, c, n)
    onehot = np.eye(c)[labels]
    logits = rng.normal(size=(n, c))
    p = _softmax(logits)
    w = rng.random(n)
    ref = -np.log(p[np.arange(n), labels])
    for metric, yt, yp in (
        (M.CategoricalCrossentropy(), onehot, p),
        (M.CategoricalCrossentropy(from_logits=True), onehot, logits),
        (M.SparseCategoricalCrossentropy(), labels, p),
        (M.SparseCategoricalCrossentropy(), labels[:, None], p.astype(np.float32)),
        (M.SparseCategoricalCrossentropy(from_logits=True), labels, logits),
    ):
        metric.update_state(yt, yp, w)
        assert metric.result() == pytest.approx(wmean(ref, w), rel=1e-5)
    ls = 0.1
    smooth = onehot * (1 - ls) + ls / c
    m = M.CategoricalCrossentropy(label_smoothing=ls)
    m.update_state(onehot, p)
    assert m.result() == pytest.approx((-(smooth * np.log(p)).sum(1)).mean(), rel=1e-9)
    # un-normalised probabilities are renormalised, as in Keras
    m = M.CategoricalCrossentropy()
    m.update_state(onehot, 3 * p)
    assert m.result() == pytest.approx(ref.mean(), rel=1e-9)


# ---------------------------------------------------------------------------
# AUC
# ---------------------------------------------------------------------------
def _auc_reference(y, p, w, thresholds, curve, method):
    """Float64 reference from direct threshold comparisons (pred > t)."""
    y = np.asarray(y, dtype=bool).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    w = np.ones_like(p) if w is None else np.asarray(w, dtype=np.float64).ravel()
    tp = np.array([w[(p > t) & y].sum() for t in thresholds])
    fp = np.array([w[(p > t) & ~y].sum() for t in thresholds])
    fn = np.array([w[(p <= t) & y].sum() for t in thresholds])
    tn = np.array([w[(p <= t) & ~y].sum() for t in thresholds])

    def div(a, b):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)

    if curve == "PR" and method == "interpolation":
        dtp = tp[:-1] - tp[1:]
        pp = tp + fp
        dp = pp[:-1] - pp[1:]
        slope = div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * pp[1:]
        ratio = np.where((pp[:-1] > 0) & (pp[1:] > 0), div(pp[:-1], np.maximum(pp[1:], 0)), 1.0)
        return float(div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)).sum())
    if curve == "ROC":
        x, yv = div(fp, fp + tn), div(tp, tp + fn)
    else:
        x, yv = div(tp, tp + fn), div(tp, tp + fp)
    if method == "interpolation":
        h = (yv[:-1] + yv[1:]) / 2
    elif method == "minoring":
        h = np.minimum(yv[:-1], yv[1:])
    else:
        h = np.maximum(yv[:-1], yv[1:])
    return float(((x[:-1] - x[1:]) * h).sum())


def _keras_thresholds(num):
    return [-EPS] + [(i + 1) / (num - 1) for i in range(num - 2)] + [1 + EPS]


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_matches_reference(rng, curve, method, weighted):
    n = 500
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + rng.random(n) * 0.8, 0, 1).astype(np.float32)
    w = rng.random(n) if weighted else None
    m = M.AUC(num_thresholds=50, curve=curve, summation_method=method)
    m.update_state(y, p[:, None], sample_weight=w)
    ref = _auc_reference(y, p, w, _keras_thresholds(50), curve, method)
    assert m.result() == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_auc_thresholds_and_endpoints():
    m = M.AUC(num_thresholds=3)
    assert m.thresholds == pytest.approx([-EPS, 0.5, 1 + EPS])
    assert M.AUC().num_thresholds == 200 and M.AUC().name == "auc"
    # predictions of exactly 0 and 1 fall inside the threshold range
    m = M.AUC(num_thresholds=11)
    m.update_state([0, 1, 0, 1], [0.0, 1.0, 0.0, 1.0])
    assert m.result() == pytest.approx(1.0)
    np.testing.assert_allclose(m.true_positives[0], 2.0)
    np.testing.assert_allclose(m.true_positives[-1], 0.0)


def test_auc_close_to_sklearn(rng):
    sk = pytest.importorskip("sklearn.metrics")
    n = 2000
    y = rng.integers(0, 2, n)
    p = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
    w = rng.random(n) + 0.1
    m = M.AUC(num_thresholds=5000)
    m.update_state(y, p)
    assert m.result() == pytest.approx(sk.roc_auc_score(y, p), abs=1e-3)
    m = M.AUC(num_thresholds=5000)
    m.update_state(y, p, sample_weight=w)
    assert m.result() == pytest.approx(sk.roc_auc_score(y, p, sample_weight=w), abs=1e-3)
    m = M.AUC(num_thresholds=5000, curve="PR")
    m.update_state(y, p)
    assert m.result() == pytest.approx(sk.average_precision_score(y, p), abs=1e-2)


def test_auc_explicit_thresholds(rng):
    y = rng.integers(0, 2, 300)
    p = rng.random(300)
    thr = [0.1, 0.35, 0.5, 0.77]
    m = M.AUC(thresholds=thr)
    assert m.num_thresholds == 6
    m.update_state(y, p)
    ref = _auc_reference(y, p, None, [-EPS] + thr + [1 + EPS], "ROC", "interpolation")
    assert m.result() == pytest.approx(ref, rel=1e-12)
    # evenly spaced explicit thresholds give the same result as num_thresholds
    even = M.AUC(thresholds=[0.25, 0.5, 0.75])
    even.update_state(y, p)
    default = M.AUC(num_thresholds=5)
    default.update_state(y, p)
    assert even.result() == pytest.approx(default.result(), rel=1e-12)


def test_auc_from_logits(rng):
    y = rng.integers(0, 2, 200)
    logits = rng.normal(size=200) * 3
    a = M.AUC(from_logits=True)
    a.update_state(y, logits)
    b = M.AUC()
    b.update_state(y, _sigmoid(logits))
    assert a.result() == pytest.approx(b.result(), rel=1e-12)


def test_auc_multi_label_and_label_weights(rng):
    n, L = 400, 3
    y = rng.integers(0, 2, (n, L))
    p = np.clip(0.25 * y + rng.random((n, L)) * 0.75, 0, 1)
    thr = _keras_thresholds(30)
    per_label = [_auc_reference(y[:, j], p[:, j], None, thr, "ROC", "interpolation") for j in range(L)]
    m = M.AUC(num_thresholds=30, multi_label=True)
    m.update_state(y, p)
    assert m.result() == pytest.approx(np.mean(per_label), rel=1e-9)
    lw = np.array([1.0, 2.0, 0.5])
    m = M.AUC(num_thresholds=30, multi_label=True, label_weights=lw)
    m.update_state(y, p)
    assert m.result() == pytest.approx(float((np.array(per_label) * lw).sum() / lw.sum()), rel=1e-9)
    # pooled (multi_label=False) with label weights weighs each column's entries
    m = M.AUC(num_thresholds=30, label_weights=lw)
    m.update_state(y, p)
    ref = _auc_reference(y, p, np.broadcast_to(lw, (n, L)), thr, "ROC", "interpolation")
    assert m.result() == pytest.approx(ref, rel=1e-9)


def test_auc_invalid_arguments():
    with pytest.raises(ValueError, match="num_thresholds"):
        M.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        M.AUC(curve="XYZ")
    with pytest.raises(ValueError, match="summation"):
        M.AUC(summation_method="riemann")


# ---------------------------------------------------------------------------
# Precision / Recall / F-scores
# ---------------------------------------------------------------------------
def test_precision_recall_against_sklearn(rng):
    sk = pytest.importorskip("sklearn.metrics")
    n = 500
    y = rng.integers(0, 2, n)
    p = rng.random((n, 1)).astype(np.float32)
    w = rng.random(n)
    pred = (p[:, 0] > 0.5).astype(int)
    pr, rc = M.Precision(), M.Recall()
    pr.update_state(y, p, w)
    rc.update_state(y, p, w)
    assert pr.result() == pytest.approx(sk.precision_score(y, pred, sample_weight=w), rel=1e-9)
    assert rc.result() == pytest.approx(sk.recall_score(y, pred, sample_weight=w), rel=1e-9)
    assert (pr.name, rc.name) == ("precision", "recall")
    thr = [0.2, 0.5, 0.8]
    pr = M.Precision(thresholds=thr)
    pr.update_state(y, p)
    expected = [sk.precision_score(y, (p[:, 0] > t).astype(int)) for t in thr]
    np.testing.assert_allclose(pr.result(), expected, rtol=1e-9)
    rc = M.Recall(thresholds=0.3)
    rc.update_state(y, p)
    assert rc.result() == pytest.approx(sk.recall_score(y, (p[:, 0] > 0.3).astype(int)))


def test_precision_recall_many_thresholds_use_same_counts(rng):
    y = rng.integers(0, 2, 300)
    p = rng.random(300)
    thr = list(np.linspace(0.05, 0.95, 19))
    many = M.Recall(thresholds=thr)
    many.update_state(y, p)
    for t, value in zip(thr, many.result()):
        one = M.Recall(thresholds=float(t))
        one.update_state(y, p)
        assert one.result() == pytest.approx(value, rel=1e-12)


def test_precision_class_id_and_top_k():
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]])
    p = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.9], [0.1, 0.2, 0.8], [0.9, 0.55, 0.4]])
    m = M.Precision(class_id=1)
    m.update_state(y, p)
    # column 1: predicted positive rows 0 and 3, both labelled 1
    assert m.result() == pytest.approx(1.0)
    r = M.Recall(class_id=0)
    r.update_state(y, p)
    assert r.result() == pytest.approx(1.0)
    m = M.Precision(top_k=1)
    m.update_state(y, p)
    # top-1 picks: col1 (right), col2 (wrong), col2 (right), col0 (wrong)
    assert m.result() == pytest.approx(0.5)


def test_precision_empty_and_invalid():
    assert M.Precision().result() == 0.0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        M.Precision(thresholds=1.5)


def _onehot_predictions(p):
    out = np.zeros_like(p, dtype=int)
    out[np.arange(len(p)), p.argmax(1)] = 1
    return out


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_against_sklearn(rng, average):
    sk = pytest.importorskip("sklearn.metrics")
    n, c = 400, 4
    labels = rng.integers(0, c, n)
    onehot = np.eye(c)[labels]
    p = rng.random((n, c)).astype(np.float32)
    w = rng.random(n)
    # threshold None: the row maximum is the positive prediction
    m = M.F1Score(average=average)
    m.update_state(onehot, p, sample_weight=w)
    ref = sk.f1_score(onehot, _onehot_predictions(p), average=average, sample_weight=w, zero_division=0)
    np.testing.assert_allclose(m.result(), ref, atol=1e-5)
    # multi-label with a threshold
    y_ml = rng.integers(0, 2, (n, c))
    m = M.F1Score(average=average, threshold=0.4)
    m.update_state(y_ml, p)
    ref = sk.f1_score(y_ml, (p > 0.4).astype(int), average=average, zero_division=0)
    np.testing.assert_allclose(m.result(), ref, atol=1e-5)
    fb = M.FBetaScore(average=average, beta=2.0, threshold=0.4)
    fb.update_state(y_ml, p)
    ref = sk.fbeta_score(y_ml, (p > 0.4).astype(int), beta=2.0, average=average, zero_division=0)
    np.testing.assert_allclose(fb.result(), ref, atol=1e-5)
    if average is None:
        assert isinstance(m.result(), np.ndarray) and m.result().shape == (c,)
    else:
        assert isinstance(m.result(), float)


def test_f1_names_config_and_errors():
    assert M.F1Score().name == "f1_score"
    assert M.FBetaScore().name == "fbeta_score"
    cfg = M.F1Score(average="macro", threshold=0.3).get_config()
    assert "beta" not in cfg and cfg["average"] == "macro"
    assert M.F1Score.from_config(cfg).threshold == 0.3
    with pytest.raises(ValueError):
        M.F1Score(average="samples")
    with pytest.raises(ValueError):
        M.FBetaScore(beta=0)
    with pytest.raises(ValueError):
        M.F1Score(threshold=1.5)


def test_f1_binary_single_column(rng):
    sk = pytest.importorskip("sklearn.metrics")
    y = rng.integers(0, 2, 200)
    p = rng.random((200, 1))
    m = M.F1Score(threshold=0.5)
    m.update_state(y, p)
    assert m.result()[0] == pytest.approx(sk.f1_score(y, (p[:, 0] > 0.5).astype(int)), abs=1e-5)


# ---------------------------------------------------------------------------
# Accumulation, reset, configs
# ---------------------------------------------------------------------------
def _all_metric_cases(rng):
    n, c = 240, 4
    labels = rng.integers(0, c, n)
    onehot = np.eye(c)[labels]
    probs = _softmax(rng.normal(size=(n, c))).astype(np.float32)
    yb = rng.integers(0, 2, (n, 1))
    pb = rng.random((n, 1)).astype(np.float32)
    yr = rng.random((n, 2))
    pr = (yr + rng.normal(scale=0.2, size=(n, 2))).astype(np.float32)
    return [
        (M.BinaryAccuracy(), yb, pb),
        (M.CategoricalAccuracy(), onehot, probs),
        (M.SparseCategoricalAccuracy(), labels, probs),
        (M.TopKCategoricalAccuracy(k=2), onehot, probs),
        (M.SparseTopKCategoricalAccuracy(k=2), labels, probs),
        (M.MeanSquaredError(), yr, pr),
        (M.MeanAbsoluteError(), yr, pr),
        (M.RootMeanSquaredError(), yr, pr),
        (M.MeanAbsolutePercentageError(), yr, pr),
        (M.MeanSquaredLogarithmicError(), yr, np.abs(pr)),
        (M.BinaryCrossentropy(), yb, pb),
        (M.CategoricalCrossentropy(), onehot, probs),
        (M.SparseCategoricalCrossentropy(), labels, probs),
        (M.AUC(), yb, pb),
        (M.AUC(curve="PR"), yb, pb),
        (M.AUC(thresholds=[0.3, 0.6]), yb, pb),
        (M.Precision(), yb, pb),
        (M.Recall(thresholds=[0.2, 0.4, 0.6, 0.8, 0.9]), yb, pb),
        (M.F1Score(average="macro"), onehot, probs),
        (M.FBetaScore(beta=0.5, threshold=0.3), onehot, probs),
        (M.Accuracy(), labels, probs.argmax(1)),
    ]


def test_chunked_updates_equal_one_shot(rng):
    w = rng.random(240)
    for metric, yt, yp in _all_metric_cases(rng):
        cfg = metric.get_config()
        one_shot = type(metric).from_config(cfg)
        one_shot.update_state(yt, yp, sample_weight=w)
        for lo, hi in ((0, 17), (17, 100), (100, 101), (101, 240)):
            metric.update_state(yt[lo:hi], yp[lo:hi], sample_weight=w[lo:hi])
        np.testing.assert_allclose(metric.result(), one_shot.result(), rtol=1e-9, atol=1e-12,
                                   err_msg=metric.name)
        metric.reset_state()
        metric.update_state(yt[:50], yp[:50])
        fresh = type(metric).from_config(cfg)
        fresh.update_state(yt[:50], yp[:50])
        np.testing.assert_allclose(metric.result(), fresh.result(), rtol=1e-12, err_msg=metric.name)


def test_call_updates_and_returns_result(rng):
    m = M.MeanAbsoluteError()
    a = m([[1.0], [2.0]], [[1.5], [2.0]])
    assert a == pytest.approx(0.25)
    b = m([[0.0]], [[1.0]])
    assert b == pytest.approx((0.5 + 0 + 1) / 3)


def test_config_round_trip_keeps_arguments():
    m = M.AUC(num_thresholds=33, curve="PR", name="pr_auc", from_logits=True)
    m2 = M.AUC.from_config(m.get_config())
    assert (m2.num_thresholds, m2.curve, m2.name, m2._from_logits) == (33, "PR", "pr_auc", True)
    b = M.BinaryAccuracy.from_config(M.BinaryAccuracy(threshold=0.3, name="ba").get_config())
    assert (b.threshold, b.name) == (0.3, "ba")
    p = M.Precision.from_config(M.Precision(thresholds=[0.2, 0.4], class_id=1).get_config())
    assert p.thresholds == [0.2, 0.4] and p.class_id == 1


def test_directions():
    assert M.BinaryAccuracy()._direction == "up"
    assert M.AUC()._direction == "up"
    assert M.MeanSquaredError()._direction == "down"
    assert M.BinaryCrossentropy()._direction == "down"


# ---------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss, out_dim, expected",
    [
        ("binary_crossentropy", 1, "BinaryAccuracy"),
        ("binary_crossentropy", 3, "BinaryAccuracy"),
        ("mse", 1, "BinaryAccuracy"),
        ("sparse_categorical_crossentropy", 10, "SparseCategoricalAccuracy"),
        ("categorical_crossentropy", 10, "CategoricalAccuracy"),
        ("mse", 4, "CategoricalAccuracy"),
        (None, 4, "CategoricalAccuracy"),
        ("BinaryCrossentropy", 5, "BinaryAccuracy"),
        ("SparseCategoricalCrossentropy", 5, "SparseCategoricalAccuracy"),
    ],
)
def test_resolve_accuracy_rule(loss, out_dim, expected):
    for ident in ("accuracy", "acc"):
        m = M.resolve_accuracy(ident, loss, out_dim)
        assert type(m).__name__ == expected
        assert m.name == ident


def test_resolve_accuracy_with_loss_objects_and_shapes():
    class BinaryCrossentropy:  # stands in for a loss object of another module
        name = "binary_crossentropy"

    assert isinstance(M.resolve_accuracy("accuracy", BinaryCrossentropy(), 4), M.BinaryAccuracy)

    def sparse_categorical_crossentropy(y_true, y_pred):
        return 0.0

    assert isinstance(
        M.resolve_accuracy("acc", sparse_categorical_crossentropy, 4), M.SparseCategoricalAccuracy
    )
    # with an unrelated loss, integer-like label shapes select the sparse variant
    m = M.resolve_accuracy("accuracy", "mse", 4, y_true_shape=(100,))
    assert isinstance(m, M.SparseCategoricalAccuracy)
    m = M.resolve_accuracy("accuracy", "mse", 4, y_true_shape=(100, 4))
    assert isinstance(m, M.CategoricalAccuracy)
    m = M.resolve_accuracy("Accuracy", "binary_crossentropy", 1, from_logits=True)
    assert isinstance(m, M.BinaryAccuracy) and m.threshold == 0.0 and m.name == "Accuracy"


def test_resolve_crossentropy_rule():
    m = M.resolve_accuracy("crossentropy", "binary_crossentropy", 1)
    assert isinstance(m, M.BinaryCrossentropy) and m.name == "crossentropy"
    m = M.resolve_accuracy("ce", "sparse_categorical_crossentropy", 3)
    assert isinstance(m, M.SparseCategoricalCrossentropy) and m.name == "ce"
    m = M.resolve_accuracy("ce", "categorical_crossentropy", 3)
    assert isinstance(m, M.CategoricalCrossentropy)


def test_resolve_other_identifiers_keep_user_string():
    m = M.resolve_accuracy("mae", "mse", 1)
    assert isinstance(m, M.MeanAbsoluteError) and m.name == "mae"
    inst = M.AUC(name="my_auc")
    assert M.resolve_accuracy(inst, "binary_crossentropy", 1) is inst


def test_get_identifiers():
    assert M.get(None) is None
    assert isinstance(M.get("mse"), M.MeanSquaredError)
    assert M.get("mse").name == "mean_squared_error"
    assert isinstance(M.get("MAE"), M.MeanAbsoluteError)
    assert isinstance(M.get("AUC"), M.AUC) and M.get("auc").name == "auc"
    assert isinstance(M.get("binary_accuracy"), M.BinaryAccuracy)
    assert isinstance(M.get("BinaryAccuracy"), M.BinaryAccuracy)
    assert isinstance(M.get("top_k_categorical_accuracy"), M.TopKCategoricalAccuracy)
    assert isinstance(M.get("f1_score"), M.F1Score)
    assert isinstance(M.get("fbeta_score"), M.FBetaScore)
    assert isinstance(M.get("root_mean_squared_error"), M.RootMeanSquaredError)
    assert isinstance(M.get(M.Precision), M.Precision)
    inst = M.Recall()
    assert M.get(inst) is inst
    cfg = M.get({"class_name": "AUC", "config": {"num_thresholds": 10}})
    assert isinstance(cfg, M.AUC) and cfg.num_thresholds == 10

    def hit_rate(y_true, y_pred):
        return (np.asarray(y_true) == np.round(y_pred)).mean(axis=-1)

    wrapped = M.get(hit_rate)
    assert isinstance(wrapped, M.MeanMetricWrapper) and wrapped.name == "hit_rate"
    wrapped.update_state([[1.0], [0.0]], [[0.9], [0.8]])
    assert wrapped.result() == pytest.approx(0.5)


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        M.get("accurcy")
    msg = str(info.value)
    assert "accurcy" in msg
    for name in ("binary_accuracy", "auc", "precision", "recall", "mse", "root_mean_squared_error"):
        assert name in msg
    with pytest.raises(ValueError):
        M.get(42)


def test_custom_metric_with_keras_style_variables(rng):
    class TruePositiveRate(M.Metric):
        _direction = "up"

        def __init__(self, name="tpr", **kwargs):
            super().__init__(name=name, **kwargs)
            self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")
            self.pos = self.add_weight(name="pos")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = np.asarray(y_true).reshape(-1)
            hit = (np.asarray(y_pred).reshape(-1) > 0.5) & (y_true == 1)
            self.tp.assign_add(hit.sum())
            self.pos.assign_add((y_true == 1).sum())

        def result(self):
            return self.tp / self.pos if float(self.pos) else 0.0

    y = rng.integers(0, 2, 100)
    p = rng.random(100)
    m = TruePositiveRate()
    m.update_state(y[:40], p[:40])
    m.update_state(y[40:], p[40:])
    assert float(m.result()) == pytest.approx(((p > 0.5) & (y == 1)).sum() / (y == 1).sum())
    assert [v.name for v in m.variables] == ["tp", "pos"]
    m.reset_state()  # the default reset zeroes the variables
    assert float(m.tp) == 0.0 and m.result() == 0.0
    v = M.MetricVariable(shape=(3,), initializer="ones")
    v.assign_sub([0.5, 0.5, 0.5])
    np.testing.assert_allclose(np.asarray(v) * 2, [1.0, 1.0, 1.0])
    assert M.get(m) is m


# ---------------------------------------------------------------------------
# Comparison with Keras 3 (skipped when Keras is not installed)
# ---------------------------------------------------------------------------
def _keras_cases():
    rng = np.random.default_rng(3)
    n, c = 300, 4
    lab = rng.integers(0, c, n)
    oh = np.eye(c, dtype=np.float32)[lab]
    logits = rng.normal(size=(n, c)).astype(np.float32)
    probs = _softmax(logits).astype(np.float32)
    yb = rng.integers(0, 2, (n, 1)).astype(np.float32)
    pb = rng.random((n, 1)).astype(np.float32)
    lb = rng.normal(size=(n, 1)).astype(np.float32)
    yml = rng.integers(0, 2, (n, c)).astype(np.float32)
    yr = rng.random((n, 3)).astype(np.float32)
    pr = (yr + rng.normal(scale=0.3, size=yr.shape)).astype(np.float32)
    return [
        ("BinaryAccuracy", {}, yb, pb),
        ("BinaryAccuracy", {"threshold": 0.7}, yb[:, 0], pb),
        ("CategoricalAccuracy", {}, oh, probs),
        ("SparseCategoricalAccuracy", {}, lab[:, None], probs),
        ("TopKCategoricalAccuracy", {"k": 2}, oh, probs),
        ("SparseTopKCategoricalAccuracy", {"k": 2}, lab, probs),
        ("MeanSquaredError", {}, yr, pr),
        ("MeanAbsoluteError", {}, yr, pr),
        ("RootMeanSquaredError", {}, yr, pr),
        ("MeanAbsolutePercentageError", {}, yr, pr),
        ("MeanSquaredLogarithmicError", {}, yr, np.abs(pr)),
        ("BinaryCrossentropy", {}, yb, pb),
        ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, yb, lb),
        ("CategoricalCrossentropy", {}, oh, probs),
        ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, oh, logits),
        ("SparseCategoricalCrossentropy", {}, lab, probs),
        ("SparseCategoricalCrossentropy", {"from_logits": True}, lab, logits),
        ("AUC", {}, yb, pb),
        ("AUC", {"curve": "PR"}, yb, pb),
        ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}, yb, pb),
        ("AUC", {"num_thresholds": 9, "summation_method": "majoring", "curve": "PR"}, yb, pb),
        ("AUC", {"from_logits": True}, yb, lb),
        ("AUC", {"thresholds": [0.1, 0.4, 0.45, 0.9]}, yb, pb),
        ("AUC", {"multi_label": True, "label_weights": [1, 2, 3, 4]}, yml, probs),
        ("AUC", {"label_weights": [1, 2, 3, 4]}, yml, probs),
        ("AUC", {"curve": "PR", "multi_label": True}, yml, probs),
        ("Precision", {}, yb, pb),
        ("Recall", {"thresholds": [0.2, 0.5, 0.9]}, yb, pb),
        ("Recall", {"top_k": 2}, yml, probs),
        ("Precision", {"top_k": 1, "class_id": 1}, yml, probs),
        ("F1Score", {}, oh, probs),
        ("F1Score", {"average": "weighted", "threshold": 0.3}, yml, probs),
        ("F1Score", {"average": "micro"}, oh, probs),
        ("FBetaScore", {"beta": 2.0, "average": "macro", "threshold": 0.2}, yml, probs),
    ]


def test_metrics_match_keras(keras_module):
    keras = keras_module
    w = np.random.default_rng(5).random(300).astype(np.float32)
    for name, kwargs, yt, yp in _keras_cases():
        for sw in (None, w):
            ours = getattr(M, name)(**kwargs)
            theirs = getattr(keras.metrics, name)(**kwargs)
            for lo, hi in ((0, 120), (120, 300)):
                part = None if sw is None else sw[lo:hi]
                ours.update_state(yt[lo:hi], yp[lo:hi], sample_weight=part)
                theirs.update_state(yt[lo:hi], yp[lo:hi], sample_weight=part)
            expected = np.asarray(keras.ops.convert_to_numpy(theirs.result()), dtype=np.float64)
            np.testing.assert_allclose(
                ours.result(), expected, rtol=2e-5, atol=2e-6,
                err_msg=f"{name}({kwargs}) weighted={sw is not None}",
            )


def test_default_names_match_keras(keras_module):
    keras = keras_module
    for name in (
        "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
        "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
        "MeanAbsoluteError", "RootMeanSquaredError", "MeanAbsolutePercentageError",
        "MeanSquaredLogarithmicError", "BinaryCrossentropy", "CategoricalCrossentropy",
        "SparseCategoricalCrossentropy", "F1Score", "FBetaScore", "Accuracy", "Mean", "Sum",
    ):
        assert getattr(M, name)().name == getattr(keras.metrics, name)().name, name
    # Keras numbers repeated auto-named instances (auc, auc_1...); fastnn keeps the base name
    for name in ("AUC", "Precision", "Recall"):
        assert getattr(keras.metrics, name)().name.startswith(getattr(M, name)().name)
