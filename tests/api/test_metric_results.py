"""metric.result() as tf.keras scripts read it: `.numpy()` and `float()` on every metric class, with
the value unchanged, numpy semantics kept, and results that pickle and compare as floats."""
import json
import pickle

import numpy as np
import pytest

from fastnn import metrics as M
from fastnn.metrics.metric import MetricResult, MetricResultArray


def _cases():
    rng = np.random.default_rng(3)
    n, c = 120, 3
    labels = rng.integers(0, c, n)
    onehot = np.eye(c)[labels]
    logits = rng.normal(size=(n, c))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    yb = rng.integers(0, 2, (n, 1)).astype(float)
    pb = rng.random((n, 1))
    yr = rng.random((n, 2))
    pr = yr + rng.normal(scale=0.2, size=(n, 2))
    yh = 2 * yb - 1
    return {
        M.Mean: ((rng.random(n),), {}), M.Sum: ((rng.random(n),), {}),
        M.Accuracy: ((labels, probs.argmax(1)), {}), M.BinaryAccuracy: ((yb, pb), {}),
        M.CategoricalAccuracy: ((onehot, probs), {}), M.SparseCategoricalAccuracy: ((labels, probs), {}),
        M.TopKCategoricalAccuracy: ((onehot, probs), {"k": 2}),
        M.SparseTopKCategoricalAccuracy: ((labels, probs), {"k": 2}),
        M.MeanSquaredError: ((yr, pr), {}), M.MeanAbsoluteError: ((yr, pr), {}),
        M.RootMeanSquaredError: ((yr, pr), {}), M.MeanAbsolutePercentageError: ((yr + 1, pr + 1), {}),
        M.MeanSquaredLogarithmicError: ((yr, np.abs(pr)), {}), M.LogCoshError: ((yr, pr), {}),
        M.CosineSimilarity: ((yr, pr), {}), M.BinaryCrossentropy: ((yb, pb), {}),
        M.CategoricalCrossentropy: ((onehot, probs), {}), M.SparseCategoricalCrossentropy: ((labels, probs), {}),
        M.KLDivergence: ((onehot * 0.9 + 0.1 / c, probs), {}), M.Poisson: ((yr, np.abs(pr)), {}),
        M.Hinge: ((yh, pb - 0.5), {}), M.SquaredHinge: ((yh, pb - 0.5), {}),
        M.CategoricalHinge: ((onehot, probs), {}),
        M.TruePositives: ((yb, pb), {}), M.FalsePositives: ((yb, pb), {}),
        M.TrueNegatives: ((yb, pb), {}), M.FalseNegatives: ((yb, pb), {}),
        M.AUC: ((yb, pb), {}), M.Precision: ((yb, pb), {}), M.Recall: ((yb, pb), {}),
        M.F1Score: ((onehot, probs), {"average": "macro"}),
        M.FBetaScore: ((onehot, probs), {"beta": 0.5, "average": "micro"}),
    }


def test_every_metric_class_has_a_case():
    assert set(M._METRIC_CLASSES) == set(_cases())


@pytest.mark.parametrize("cls", list(_cases()), ids=lambda c: c.__name__)
def test_result_numpy_and_float_as_tf_keras(cls):
    args, kwargs = _cases()[cls]
    m = cls(**kwargs)
    m.update_state(*args)
    r = m.result()
    value = r.numpy()
    # the plain numpy value, equal to the result itself and to float() of it
    assert type(value) is np.float64
    assert float(r) == float(value) and r == value and np.isfinite(value)
    assert isinstance(r, float) and isinstance(r, np.floating)
    back = pickle.loads(pickle.dumps(r))
    assert back == r and type(back) is type(r) and back.numpy() == value
    assert json.loads(json.dumps({"m": r}))["m"] == float(r)
    assert f"{r:.4f}" == f"{float(r):.4f}" and repr(r) == repr(float(r))
    # __call__ goes through result() too
    fresh = cls(**kwargs)
    assert fresh(*args).numpy() == value


def test_results_keep_numpy_semantics():
    m = M.Mean()
    m.update_state([1.0, 2.0])
    r = m.result()
    assert type(r) is MetricResult and r == 1.5 and hash(r) == hash(1.5)
    # arithmetic gives plain numpy values, with numpy's rules (no ZeroDivisionError)
    assert type(r * 2) is np.float64 and r * 2 == 3.0
    with np.errstate(divide="ignore"):
        assert np.isinf(r / np.float64(0.0))
    assert r.dtype == np.float64 and r.item() == 1.5 and np.asarray(r).shape == ()


def test_vector_results_have_numpy():
    m = M.Precision(thresholds=[0.3, 0.6])
    m.update_state([[1], [0], [1]], [[0.9], [0.4], [0.5]])
    r = m.result()
    assert isinstance(r, MetricResultArray) and r.shape == (2,)
    plain = r.numpy()
    assert type(plain) is np.ndarray
    np.testing.assert_array_equal(plain, [2 / 3, 1.0])
    back = pickle.loads(pickle.dumps(r))
    np.testing.assert_array_equal(back.numpy(), plain)
    f1 = M.F1Score(average=None)
    f1.update_state(np.eye(3), np.eye(3))
    np.testing.assert_allclose(f1.result().numpy(), [1.0, 1.0, 1.0], rtol=1e-6)


def test_custom_metric_results_get_numpy():
    class Last(M.Metric):
        def __init__(self):
            super().__init__(name="last")
            self.v = 0.0

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.v = float(np.mean(y_pred))

        def result(self):
            return self.v

    class Twice(Last):
        def result(self):
            return 2 * super().result()

    m = Twice()
    m.update_state(None, [1.0, 2.0])
    assert m.result().numpy() == 3.0 and float(m.result()) == 3.0

