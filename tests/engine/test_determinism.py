"""Determinism: training is bitwise reproducible for a seed and independent of the thread count;
inference is row-independent; model construction follows fastnn.utils.set_random_seed."""
from __future__ import annotations

import numpy as np
import pytest

import fastnn
from fastnn import layers

datasets = fastnn.datasets


def _small(seed):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(8,)), layers.Dense(10, activation="relu"),
                           layers.Dense(10, activation="relu"), layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy")
    return m


def _wide(seed, dtype="float32"):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(64,)), layers.Dense(256, activation="relu"), layers.Dropout(0.2),
                           layers.Dense(256, activation="gelu"), layers.Dense(10, activation="softmax")],
                          dtype=dtype)
    m.compile(optimizer=fastnn.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy")
    return m


def _train(make, x, y, threads, seed=0, **fit_kw):
    fastnn.set_num_threads(threads)
    m = make(seed)
    hist = m.fit(x, y, verbose=0, **fit_kw)
    return m, hist.history["loss"]


def _assert_bitwise(a_list, b_list):
    assert len(a_list) == len(b_list)
    for a, b in zip(a_list, b_list):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b), f"max difference {np.abs(a.astype(np.float64) - b).max()}"


@pytest.fixture(scope="module")
def seed_data():
    return datasets.seed_task(n_samples=3000, seed=5)


@pytest.fixture(scope="module")
def wide_data():
    return datasets.classification(n_samples=2560, n_features=64, n_classes=10, class_sep=0.3, seed=1)


def test_small_network_same_weights_with_1_and_2_threads(seed_data, restore_threads):
    (x, y), _ = seed_data
    m1, h1 = _train(_small, x, y, 1, batch_size=32, epochs=3)
    m2, h2 = _train(_small, x, y, 2, batch_size=32, epochs=3)
    _assert_bitwise(m1.get_weights(), m2.get_weights())
    assert h1 == pytest.approx(h2, rel=1e-12)  # bitwise: see test_history_loss_does_not_depend_on_chunking
    m3, _ = _train(_small, x, y, 2, seed=1, batch_size=32, epochs=3)
    assert not np.array_equal(m1.get_weights()[0], m3.get_weights()[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_wide_network_same_weights_with_1_and_2_threads(wide_data, restore_threads, dtype):
    (x, y), _ = wide_data
    make = lambda seed: _wide(seed, dtype)  # noqa: E731
    m1, h1 = _train(make, x, y, 1, batch_size=256, epochs=2)
    m2, h2 = _train(make, x, y, 2, batch_size=256, epochs=2)
    _assert_bitwise(m1.get_weights(), m2.get_weights())
    assert h1 == pytest.approx(h2, rel=1e-12)
    assert h1[-1] < h1[0]  # it trained
    # optimizer state too: one more step from each gives the same weights again
    fastnn.set_num_threads(1)
    m1.train_on_batch(x[:256], y[:256])
    fastnn.set_num_threads(2)
    m2.train_on_batch(x[:256], y[:256])
    _assert_bitwise(m1.get_weights(), m2.get_weights())


def test_parallel_batch_gather_matches_serial(restore_threads):
    # Batches of 256 rows x 200 features (200 KB) are gathered by several threads when there are
    # several; one-hot labels and sample weights are gathered with them. 1 thread gathers alone.
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1024, 200)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 1024)]
    w = rng.uniform(0.5, 2.0, 1024)

    def make(seed):
        fastnn.utils.set_random_seed(seed)
        m = fastnn.Sequential([layers.Input(shape=(200,)), layers.Dense(64, activation="relu"),
                               layers.Dense(5, activation="softmax")])
        m.compile(optimizer="adam", loss="categorical_crossentropy")
        return m

    m1, h1 = _train(make, x, y, 1, batch_size=256, epochs=2, sample_weight=w)
    m2, h2 = _train(make, x, y, 2, batch_size=256, epochs=2, sample_weight=w)
    _assert_bitwise(m1.get_weights(), m2.get_weights())
    assert h1 == h2
    # and the weights matter: without them training goes elsewhere
    m3, _ = _train(make, x, y, 2, batch_size=256, epochs=2)
    assert not np.array_equal(m1.get_weights()[0], m3.get_weights()[0])


def test_same_seed_same_training(wide_data, restore_threads):
    (x, y), _ = wide_data
    a, ha = _train(_wide, x[:1024], y[:1024], 2, seed=3, batch_size=64, epochs=1)
    b, hb = _train(_wide, x[:1024], y[:1024], 2, seed=3, batch_size=64, epochs=1)
    _assert_bitwise(a.get_weights(), b.get_weights())
    assert ha == pytest.approx(hb, rel=1e-12)


def test_predict_rows_are_independent(wide_data, restore_threads):
    (x, y), (xt, _) = wide_data
    fastnn.set_num_threads(2)
    m = _wide(4)
    m.fit(x[:512], y[:512], batch_size=128, epochs=1, verbose=0)
    X = np.concatenate([x, xt])  # 2560 rows: several blocks, both threads busy
    full = m.predict(X, verbose=0)
    for i in (0, 1, 511, 512, 1023, 2047, len(X) - 1):
        assert np.array_equal(full[i], m.predict(X[i:i + 1], verbose=0)[0]), i
    for split in (1, 100, 513, 1500):
        parts = np.concatenate([m.predict(X[:split], verbose=0), m.predict(X[split:], verbose=0)])
        assert np.array_equal(full, parts), split
    assert np.array_equal(full, m.predict(X, batch_size=7, verbose=0))
    assert np.array_equal(full[::-1], m.predict(np.ascontiguousarray(X[::-1]), verbose=0))
    fastnn.set_num_threads(1)
    assert np.array_equal(full, m.predict(X, verbose=0))
    # inference mode: dropout is off, so predict is a pure function of the weights
    assert np.array_equal(full, m.predict(X, verbose=0))


def test_evaluate_is_independent_of_threads(wide_data, restore_threads):
    (x, y), _ = wide_data
    fastnn.set_num_threads(2)
    m = _wide(6)
    m.fit(x[:512], y[:512], batch_size=128, epochs=1, verbose=0)
    v2 = m.evaluate(x, y, verbose=0)
    fastnn.set_num_threads(1)
    v1 = m.evaluate(x, y, verbose=0)
    assert v1 == v2


def test_models_built_after_the_same_seed_are_identical():
    a = _wide(11).get_weights()
    b = _wide(11).get_weights()
    c = _wide(12).get_weights()
    _assert_bitwise(a, b)
    for wa, wc in zip(a, c):
        if np.any(wa != 0):  # biases start at zero for every seed
            assert not np.array_equal(wa, wc)
    s1 = _small(11).get_weights()
    s2 = _small(11).get_weights()
    _assert_bitwise(s1, s2)


def test_shuffle_order_follows_the_seed(seed_data):
    """Same seed: same shuffled batches (same training); fit without shuffle differs from fit with it."""
    (x, y), _ = seed_data
    a = _small(21)
    a.fit(x[:640], y[:640], batch_size=32, epochs=1, verbose=0)
    b = _small(21)
    b.fit(x[:640], y[:640], batch_size=32, epochs=1, verbose=0)
    c = _small(21)
    c.fit(x[:640], y[:640], batch_size=32, epochs=1, verbose=0, shuffle=False)
    _assert_bitwise(a.get_weights(), b.get_weights())
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


class _BatchHook(fastnn.callbacks.Callback):
    """Asks fit() to return to Python after every batch (no native chunks of several batches)."""

    def on_train_batch_end(self, batch, logs=None):
        pass


def test_history_loss_does_not_depend_on_chunking(wide_data):
    (x, y), _ = wide_data

    def run(callbacks):
        fastnn.utils.set_random_seed(0)
        m = fastnn.Sequential([layers.Input(shape=(64,)), layers.Dense(32, activation="relu"),
                               layers.Dense(10, activation="softmax")], dtype="float64")
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        h = m.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=callbacks)
        return m.get_weights(), h.history["loss"]

    wa, ha = run([])
    wb, hb = run([_BatchHook()])
    _assert_bitwise(wa, wb)  # the training itself is identical
    assert ha == pytest.approx(hb, rel=1e-13)
    assert ha == hb  # ... and so should be its reported loss
