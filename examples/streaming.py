"""Streaming data into fit: a generator yields (x, y) batches that are made on the fly (here a
synthetic two-moons-like task; in real code, rows read from files or a database), so the whole
dataset never sits in memory. fastnn reads the generator in a background thread and trains runs
of batches in one native call each.

    python examples/streaming.py
"""
import os

import numpy as np

import fastnn
from fastnn import layers

BATCH = 64
STEPS = 50  # batches per epoch: a generator that never ends needs steps_per_epoch
EPOCHS = int(os.environ.get("FASTNN_EXAMPLE_EPOCHS", "20"))


def batches(seed):
    """An endless stream of labelled batches: is the point inside the ring 0.5 < r < 1?"""
    rng = np.random.default_rng(seed)
    while True:
        x = rng.uniform(-1.5, 1.5, size=(BATCH, 2)).astype(np.float32)
        r = np.hypot(x[:, 0], x[:, 1])
        y = ((r > 0.5) & (r < 1.0)).astype(np.float32)
        yield x, y


def main():
    fastnn.utils.set_random_seed(0)
    model = fastnn.Sequential([
        layers.Input(shape=(2,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(batches(seed=1), steps_per_epoch=STEPS, epochs=EPOCHS, verbose=0,
                        validation_data=batches(seed=2), validation_steps=10)
    loss, acc = model.evaluate(batches(seed=3), steps=20, verbose=0)
    print(f"epochs: {len(history.history['loss'])}, final training loss {history.history['loss'][-1]:.3f}, "
          f"held-out accuracy {acc:.3f}")
    return acc


if __name__ == "__main__":
    main()
