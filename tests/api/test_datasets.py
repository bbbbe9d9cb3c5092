"""Tests for fastnn.datasets: shapes, dtypes, label ranges, splits and determinism by seed."""
import numpy as np
import pytest

from fastnn import datasets

# (function, keyword arguments that keep it small, n_features, label dtype, number of classes or
# None for regression)
SMALL = [
    (datasets.seed_task, dict(n_samples=500), 8, np.float32, 2),
    (datasets.spirals, dict(n_samples=300, n_classes=4), 2, np.int64, 4),
    (datasets.moons, dict(n_samples=300), 2, np.int64, 2),
    (datasets.blobs, dict(n_samples=300, n_features=5, n_classes=6), 5, np.int64, 6),
    (datasets.classification, dict(n_samples=400, n_features=30, n_classes=7), 30, np.int64, 7),
    (datasets.regression, dict(n_samples=300, n_features=6), 6, np.float32, None),
]
IDS = [case[0].__name__ for case in SMALL]


def _all(split):
    (x_train, y_train), (x_test, y_test) = split
    return np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])


@pytest.mark.parametrize("fn, kwargs, n_features, label_dtype, n_classes", SMALL, ids=IDS)
def test_shapes_dtypes_and_labels(fn, kwargs, n_features, label_dtype, n_classes):
    (x_train, y_train), (x_test, y_test) = fn(**kwargs, seed=3)
    n = kwargs["n_samples"]
    n_test = int(round(n * 0.2))
    assert x_train.shape == (n - n_test, n_features)
    assert x_test.shape == (n_test, n_features)
    assert y_train.shape == (n - n_test,)
    assert y_test.shape == (n_test,)
    for x in (x_train, x_test):
        assert x.dtype == np.float32
        assert x.flags.c_contiguous
        assert np.isfinite(x).all()
    for y in (y_train, y_test):
        assert y.dtype == label_dtype
        assert np.isfinite(y).all()
    if n_classes is not None:
        _, y = _all(((x_train, y_train), (x_test, y_test)))
        assert set(np.unique(y).tolist()) == set(range(n_classes))


@pytest.mark.parametrize("fn, kwargs, n_features, label_dtype, n_classes", SMALL, ids=IDS)
def test_same_seed_same_arrays_and_different_seed_differs(fn, kwargs, n_features, label_dtype,
                                                          n_classes):
    a = fn(**kwargs, seed=11)
    b = fn(**kwargs, seed=11)
    c = fn(**kwargs, seed=12)
    for part_a, part_b in zip(a, b):
        for arr_a, arr_b in zip(part_a, part_b):
            np.testing.assert_array_equal(arr_a, arr_b)
    assert not np.array_equal(a[0][0], c[0][0])


@pytest.mark.parametrize("fn, kwargs, n_features, label_dtype, n_classes", SMALL, ids=IDS)
@pytest.mark.parametrize("test_split", [0.0, 0.1, 0.5])
def test_split_sizes(fn, kwargs, n_features, label_dtype, n_classes, test_split):
    (x_train, y_train), (x_test, y_test) = fn(**kwargs, test_split=test_split)
    n = kwargs["n_samples"]
    assert len(x_test) == len(y_test) == int(round(n * test_split))
    assert len(x_train) == len(y_train) == n - len(x_test)


@pytest.mark.parametrize("fn", [case[0] for case in SMALL], ids=IDS)
def test_default_call_works(fn):
    if fn is datasets.classification:
        (x_train, _), (x_test, _) = fn(n_samples=1000)  # the 784-feature default shape
        assert x_train.shape[1] == 784
    else:
        (x_train, _), (x_test, _) = fn()
    assert len(x_train) > len(x_test) > 0


@pytest.mark.parametrize("bad", [dict(n_samples=0), dict(test_split=1.0), dict(test_split=-0.1),
                                 dict(seed=-1), dict(seed=1.5), dict(n_samples=2.0)])
def test_bad_arguments_are_rejected(bad):
    with pytest.raises((ValueError, TypeError)):
        datasets.seed_task(**bad)


def test_seed_task_labels_binary_and_balanced():
    x, y = _all(datasets.seed_task(n_samples=20000, seed=0))
    assert set(np.unique(y).tolist()) == {0.0, 1.0}
    assert 0.4 < y.mean() < 0.6


def test_seed_task_features_standardised():
    x, _ = _all(datasets.seed_task(n_samples=20000, seed=1))
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=1e-3)


def test_seed_task_not_linearly_separable():
    # A least-squares linear classifier trained on the training rows stays well below what a
    # small MLP reaches (about 0.97): the rule is nonlinear.
    (x, y), (xt, yt) = datasets.seed_task(n_samples=20000, seed=2)
    design = np.hstack([x, np.ones((len(x), 1), np.float32)])
    w, *_ = np.linalg.lstsq(design, 2.0 * y - 1.0, rcond=None)
    pred = np.hstack([xt, np.ones((len(xt), 1), np.float32)]) @ w > 0
    accuracy = (pred == (yt > 0.5)).mean()
    assert 0.6 < accuracy < 0.88


def test_seed_task_scales_to_100k_rows():
    (x, y), (xt, yt) = datasets.seed_task(n_samples=100000, test_split=0.0)
    assert x.shape == (100000, 8) and y.shape == (100000,)
    assert xt.shape == (0, 8) and yt.shape == (0,)


def test_classes_balanced_within_one():
    for fn, kwargs in [(datasets.spirals, dict(n_samples=301, n_classes=3)),
                       (datasets.moons, dict(n_samples=301)),
                       (datasets.classification, dict(n_samples=1001, n_features=20))]:
        _, y = _all(fn(**kwargs))
        counts = np.bincount(y)
        assert counts.max() - counts.min() <= 1


def test_classification_mnist_shape():
    (x, y), (xt, yt) = datasets.classification(n_samples=6000, test_split=0.0)
    assert x.shape == (6000, 784) and y.shape == (6000,)
    assert abs(float(x.mean())) < 0.05
    assert 0.9 < float(x.std()) < 1.2
    assert y.min() == 0 and y.max() == 9


def test_regression_targets_standardised_and_multi_output():
    _, y = _all(datasets.regression(n_samples=50000, noise=0.0, seed=4))
    assert abs(float(y.mean())) < 0.05
    assert 0.95 < float(y.std()) < 1.05
    (x, y), _ = datasets.regression(n_samples=100, n_features=5, n_targets=3)
    assert x.shape == (80, 5) and y.shape == (80, 3) and y.dtype == np.float32


def test_regression_noise_adds_variance():
    _, clean = _all(datasets.regression(n_samples=20000, noise=0.0, seed=5))
    _, noisy = _all(datasets.regression(n_samples=20000, noise=0.5, seed=5))
    assert float(noisy.var()) > float(clean.var()) + 0.15


def test_spirals_and_moons_lie_in_expected_box():
    x, _ = _all(datasets.spirals(noise=0.0))
    assert np.abs(x).max() <= 1.0 + 1e-6
    x, _ = _all(datasets.moons(noise=0.0))
    assert x[:, 0].min() >= -1.0 - 1e-6 and x[:, 0].max() <= 2.0 + 1e-6
    assert x[:, 1].min() >= -0.5 - 1e-6 and x[:, 1].max() <= 1.0 + 1e-6
