"""Quickstart: a small classifier on a generated task, trained, evaluated and used for predictions.

    python examples/quickstart.py
"""
import os

import numpy as np

import fastnn as fn

EPOCHS = int(os.environ.get("FASTNN_EXAMPLE_EPOCHS", "10"))

fn.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = fn.datasets.moons(n_samples=2000, noise=0.15)

model = fn.Sequential([
    fn.layers.Input(shape=(2,)),
    fn.layers.Dense(32, activation="relu"),
    fn.layers.Dense(32, activation="relu"),
    fn.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.summary()
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_split=0.1, verbose=2)

loss, acc = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {loss:.4f}, test accuracy {acc:.4f}")
probs = model.predict(x_test[:5], verbose=0)           # numpy in, numpy out: shape (5, 1)
print("first predictions:", np.round(probs.ravel(), 3), "labels:", y_test[:5])
