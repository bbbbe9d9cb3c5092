"""Confusion-count metrics (TruePositives, FalsePositives, TrueNegatives, FalseNegatives) against
counts taken directly in numpy and by scikit-learn, the bounds on thresholds and AUC state, and
metrics whose result is an array in compile."""

import time

import numpy as np
import pytest

import fastnn
from fastnn import layers
from fastnn import metrics as M

COUNTS = {"TruePositives": 0, "FalsePositives": 1, "TrueNegatives": 2, "FalseNegatives": 3}


def _counts(y, p, w, t):
    """(tp, fp, tn, fn) at threshold t by direct comparison, in float64."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y).astype(bool).reshape(p.shape).ravel()
    if w is None:
        w = np.ones(p.shape)
    else:  # one weight per sample (row)
        w = np.asarray(w, dtype=np.float64).reshape((p.shape[0],) + (1,) * (p.ndim - 1))
    w = np.broadcast_to(w, p.shape).ravel()
    p = p.ravel()
    above = p > t
    return (w[above & y].sum(), w[above & ~y].sum(), w[~above & ~y].sum(), w[~above & y].sum())


@pytest.fixture
def binary():
    rng = np.random.default_rng(42)
    y = rng.integers(0, 2, 400)
    p = rng.random((400, 1)).astype(np.float32)
    p[::9, 0] = 0.5  # on the default threshold: negative
    return y, p, rng.random(400)


@pytest.mark.parametrize("name", list(COUNTS))
def test_counts_default_threshold_against_numpy(binary, name):
    y, p, w = binary
    cell = COUNTS[name]
    m = getattr(M, name)()
    m.update_state(y, p)
    assert isinstance(m.result(), float)
    assert m.result() == _counts(y, p, None, 0.5)[cell]
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(y[:150], p[:150], sample_weight=w[:150])
    m.update_state(y[150:], p[150:], sample_weight=w[150:])
    assert m.result() == pytest.approx(_counts(y, p, w, 0.5)[cell], rel=1e-12)


@pytest.mark.parametrize("name", list(COUNTS))
def test_counts_several_thresholds_and_multi_label(name):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, (120, 3))
    p = rng.random((120, 3))
    thr = [0.0, 0.25, 0.5, 0.9, 1.0]
    m = getattr(M, name)(thresholds=thr)
    m.update_state(y, p, sample_weight=rng.random(120))
    assert isinstance(m.result(), np.ndarray) and m.result().shape == (5,)
    m2 = getattr(M, name)(thresholds=thr)
    w = rng.random(120)
    m2.update_state(y, p, sample_weight=w)
    expected = [_counts(y, p, w, t)[COUNTS[name]] for t in thr]
    np.testing.assert_allclose(m2.result(), expected, rtol=1e-12)


def test_counts_match_sklearn_confusion_matrix(binary):
    sk = pytest.importorskip("sklearn.metrics")
    y, p, w = binary
    for t in (0.3, 0.5, 0.7):
        tn, fp, fn, tp = sk.confusion_matrix(y, (p[:, 0] > t).astype(int), sample_weight=w).ravel()
        got = []
        for name in ("TrueNegatives", "FalsePositives", "FalseNegatives", "TruePositives"):
            m = getattr(M, name)(thresholds=t)
            m.update_state(y, p, sample_weight=w)
            got.append(m.result())
        np.testing.assert_allclose(got, [tn, fp, fn, tp], rtol=1e-12)


def test_counts_names_config_registry():
    for name, default in (("TruePositives", "true_positives"), ("FalsePositives", "false_positives"),
                          ("TrueNegatives", "true_negatives"), ("FalseNegatives", "false_negatives")):
        cls = getattr(M, name)
        assert cls().name == default
        assert isinstance(M.get(default), cls) and isinstance(M.get(name), cls)
        m = cls.from_config(cls(thresholds=[0.2, 0.8], name="x").get_config())
        assert m.thresholds == [0.2, 0.8] and m.name == "x"
        assert type(M.deserialize(M.serialize(m))) is cls
    assert M.TruePositives()._direction == "up" and M.FalseNegatives()._direction == "down"


def test_counts_match_keras(keras_module):
    keras = keras_module
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, (300, 2)).astype(np.float32)
    p = rng.random((300, 2)).astype(np.float32)
    w = rng.random(300).astype(np.float32)
    for name in COUNTS:
        for kwargs in ({}, {"thresholds": [0.1, 0.5, 0.8]}):
            for sw in (None, w):
                ours, theirs = getattr(M, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
                ours.update_state(y, p, sample_weight=sw)
                theirs.update_state(y, p, sample_weight=sw)
                np.testing.assert_allclose(ours.result(), keras.ops.convert_to_numpy(theirs.result()),
                                           rtol=1e-5, err_msg=f"{name} {kwargs}")


def test_counts_in_fit_logs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    fastnn.utils.set_random_seed(0)
    model = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=[M.TruePositives(), "false_negatives"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    tp, _fp, _tn, fn = _counts(y, p, None, 0.5)
    assert logs["true_positives"] == tp and logs["false_negatives"] == fn


# ---------------------------------------------------------------------------------------------
# Bounds and clear errors
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [M.Precision, M.Recall, M.TruePositives, M.FalseNegatives])
def test_threshold_values_are_checked(cls):
    for bad in (1.5, -0.1, float("nan"), [0.2, float("inf")], "0.5", [[0.1], ["a"]], True, []):
        with pytest.raises(ValueError, match="thresholds: "):
            cls(thresholds=bad)
    with pytest.raises(ValueError, match=r"thresholds: expected at most 1000000 thresholds, got 1000001"):
        cls(thresholds=np.zeros(M.MAX_THRESHOLDS + 1))


def test_precision_top_k_and_class_id_are_checked():
    with pytest.raises(ValueError, match=r"top_k: expected a positive int or None, got 0"):
        M.Precision(top_k=0)
    with pytest.raises(ValueError, match=r"class_id: expected a non-negative int or None, got -1"):
        M.Recall(class_id=-1)
    with pytest.raises(ValueError, match=r"class_id: expected a non-negative int or None, got 1.5"):
        M.Recall(class_id=1.5)


def test_auc_num_thresholds_is_bounded_and_cheap_to_refuse():
    for bad in (1, 0, -5, 2.5, True, None, M.MAX_THRESHOLDS + 1, 10**8, 10**18):
        with pytest.raises(ValueError, match=r"num_thresholds: expected an int in \[2, 1000000\]"):
            M.AUC(num_thresholds=bad)
    # what a model file can carry: the configuration is refused before anything is allocated
    start = time.process_time()
    with pytest.raises(ValueError, match="num_thresholds"):
        M.get({"class_name": "AUC", "config": {"num_thresholds": 10**8}})
    assert time.process_time() - start < 1.0
    # the largest accepted value builds its thresholds in one vectorised step
    m = M.AUC(num_thresholds=M.MAX_THRESHOLDS)
    assert len(m.thresholds) == M.MAX_THRESHOLDS and m.true_positives.shape == (M.MAX_THRESHOLDS,)
    # the same thresholds as Keras's formula (i + 1) * 1.0 / (n - 1)
    m = M.AUC(num_thresholds=1001)
    np.testing.assert_array_equal(m.thresholds[1:-1], [(i + 1) * 1.0 / 1000 for i in range(999)])


def test_auc_state_size_is_bounded():
    with pytest.raises(ValueError, match=r"num_labels: expected a positive int"):
        M.AUC(num_thresholds=1000, multi_label=True, num_labels=10**9)
    with pytest.raises(ValueError, match="label_weights"):
        M.AUC(label_weights=[1.0, float("nan")])
    m = M.AUC(num_thresholds=10**6, multi_label=True)
    with pytest.raises(ValueError, match="num_labels"):
        m.update_state(np.zeros((2, 11)), np.zeros((2, 11)))


def test_load_model_refuses_a_huge_auc_from_a_file(tmp_path):
    from fastnn import saving

    fastnn.utils.set_random_seed(0)
    model = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=[M.AUC(num_thresholds=7)])
    comp = dict(model._compile_config)
    comp["metrics"] = [{"class_name": "AUC", "config": {"num_thresholds": 10**8}}]
    with pytest.raises(Exception, match="num_thresholds"):
        saving._compile_from_config(model, comp)


@pytest.mark.parametrize("metric", [
    lambda: M.Precision(thresholds=[0, 1]),
    lambda: M.Recall(thresholds=[0.2, 0.4]),
    lambda: M.TruePositives(thresholds=[0.1, 0.9]),
    lambda: M.F1Score(),
])
def test_array_valued_metric_in_compile_gives_a_clear_error(metric):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    fastnn.utils.set_random_seed(0)
    model = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match=r"metrics: .* cannot be logged: .*gives \d+ values|one value per class"):
        model.compile("adam", "binary_crossentropy", metrics=[metric()])
        model.fit(x, y, epochs=1, verbose=0)
    # one threshold each works, with the values of the metric used on its own
    model = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=[M.Precision(thresholds=0.0, name="p0"), M.Precision(thresholds=1.0, name="p1")])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    ref = M.Precision(thresholds=[0, 1])
    ref.update_state(y, model.predict(x, verbose=0))
    np.testing.assert_allclose([logs["p0"], logs["p1"]], ref.result(), rtol=1e-6)
