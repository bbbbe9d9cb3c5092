"""Writes the version-1 model file fixture (tests/saving/data/model_v1.fastnn, weights_v1.fastnn) and what
the original model did after it was saved (model_v1_expected.npz).

Run once with the fastnn that wrote format version 1 (before the version-2 format over ModelSpec):
    python tests/saving/data/make_v1_fixture.py
The files are committed; tests/saving/test_saving_v2.py checks that today's fastnn loads them and continues
training bitwise as the original model did.
"""
import os

import numpy as np

import fastnn
from fastnn import layers

HERE = os.path.dirname(os.path.abspath(__file__))


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 1).astype(np.int64)
    return x, y


if __name__ == "__main__":
    from fastnn import saving

    assert saving.FORMAT_VERSION == 1, "run this with the fastnn that writes format version 1"
    x, y = data()
    fastnn.utils.set_random_seed(1)
    model = fastnn.Sequential([
        layers.Input(shape=(6,)),
        layers.Dense(8, activation="relu", kernel_regularizer=fastnn.regularizers.L2(1e-3), name="hidden"),
        layers.BatchNormalization(name="bn"),
        layers.Dropout(0.25, name="drop"),
        layers.LayerNormalization(name="ln"),
        layers.Dense(3, activation="softmax", name="out"),
    ], name="v1_fixture")
    model.compile(optimizer=fastnn.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    model.save(os.path.join(HERE, "model_v1.fastnn"))
    model.save_weights(os.path.join(HERE, "weights_v1.fastnn"))
    saved = model.get_weights()
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    np.savez(os.path.join(HERE, "model_v1_expected.npz"), x=x, y=y,
             loss=np.asarray(history.history["loss"], dtype=np.float64),
             iterations=np.int64(model.optimizer.iterations),
             **{f"saved_{i}": w for i, w in enumerate(saved)},
             **{f"after_{i}": w for i, w in enumerate(model.get_weights())})
