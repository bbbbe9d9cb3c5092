"""End-to-end learning: small networks trained with fit() solve the generated data sets."""
from __future__ import annotations

import numpy as np
import pytest

import fastnn
from fastnn import layers

datasets = fastnn.datasets


def test_seed_network_learns_seed_task():
    """8 -> Dense(10, relu) -> Dense(10, relu) -> Dense(1, sigmoid), Adam, binary cross-entropy,
    batch 32, 10 epochs."""
    fastnn.utils.set_random_seed(0)
    (x, y), (xt, yt) = datasets.seed_task()
    model = fastnn.Sequential([layers.Input(shape=(8,)), layers.Dense(10, activation="relu"),
                               layers.Dense(10, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    before = model.evaluate(xt, yt, verbose=0)
    history = model.fit(x, y, batch_size=32, epochs=10, verbose=0)
    loss, acc = model.evaluate(xt, yt, verbose=0)
    assert acc >= 0.9
    pred_acc = float(np.mean((model.predict(xt, verbose=0)[:, 0] > 0.5) == (yt > 0.5)))
    assert pred_acc == pytest.approx(acc, abs=1e-9)
    losses = history.history["loss"]
    assert len(losses) == 10 and losses[-1] < losses[0] and loss < before[0]
    assert history.history["accuracy"][-1] >= 0.9


@pytest.mark.parametrize("name,epochs,threshold", [("moons", 30, 0.95), ("spirals", 60, 0.8)])
def test_softmax_classifier_learns_2d_sets(name, epochs, threshold):
    fastnn.utils.set_random_seed(0)
    (x, y), (xt, yt) = getattr(datasets, name)()
    k = int(y.max()) + 1
    model = fastnn.Sequential([layers.Input(shape=(2,)), layers.Dense(32, activation="relu"),
                               layers.Dense(32, activation="relu"), layers.Dense(k, activation="softmax")])
    model.compile(optimizer=fastnn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    _, acc = model.evaluate(xt, yt, verbose=0)
    assert acc > threshold  # chance is 1 / k
    proba = model.predict(xt, verbose=0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert float(np.mean(proba.argmax(axis=1) == yt)) == pytest.approx(acc, abs=1e-9)


def test_one_hot_classifier_learns_moons():
    fastnn.utils.set_random_seed(1)
    (x, y), (xt, yt) = datasets.moons(seed=1)
    model = fastnn.Sequential([layers.Input(shape=(2,)), layers.Dense(16, activation="tanh"),
                               layers.Dense(16, activation="tanh"), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=fastnn.optimizers.RMSprop(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, fastnn.utils.to_categorical(y, 2), batch_size=32, epochs=30, verbose=0)
    assert model.evaluate(xt, fastnn.utils.to_categorical(yt, 2), verbose=0)[1] > 0.95


def test_regressor_learns_regression():
    fastnn.utils.set_random_seed(0)
    (x, y), (xt, yt) = datasets.regression()
    model = fastnn.Sequential([layers.Input(shape=(8,)), layers.Dense(32, activation="tanh"),
                               layers.Dense(32, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer=fastnn.optimizers.Adam(0.005), loss="mse")
    model.fit(x, y, batch_size=32, epochs=10, verbose=0)
    mse = model.evaluate(xt, yt, verbose=0)
    assert mse < 0.3 * float(np.var(yt))
    pred = model.predict(xt, verbose=0)[:, 0]
    assert float(np.mean((pred - yt) ** 2)) == pytest.approx(mse, rel=1e-4)


def test_float64_model_learns_too():
    fastnn.utils.set_random_seed(2)
    (x, y), (xt, yt) = datasets.seed_task(seed=2)
    model = fastnn.Sequential([layers.Input(shape=(8,)), layers.Dense(16, activation="relu"),
                               layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")],
                              dtype="float64")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=10, verbose=0)
    assert model.get_weights()[0].dtype == np.float64
    assert model.evaluate(xt, yt, verbose=0)[1] >= 0.9
