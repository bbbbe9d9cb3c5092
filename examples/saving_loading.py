"""Saving and loading: the whole model (architecture, weights, optimizer state) in one file, weights
only, and training resumed from the file exactly where it stopped.

    python examples/saving_loading.py [folder]
"""
import os
import sys
import tempfile

import numpy as np

import fastnn as fn

EPOCHS = int(os.environ.get("FASTNN_EXAMPLE_EPOCHS", "10"))
folder = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()

fn.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = fn.datasets.seed_task(n_samples=4000)

model = fn.Sequential([fn.layers.Input(shape=(8,)), fn.layers.Dense(16, activation="relu"),
                       fn.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0)

path = os.path.join(folder, "model.fastnn")
model.save(path)
restored = fn.models.load_model(path)
same = np.array_equal(restored.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
print(f"saved to {path}; the loaded model predicts the same: {same}")

weights_path = os.path.join(folder, "model.weights.fastnn")
model.save_weights(weights_path)
twin = fn.Sequential([fn.layers.Input(shape=(8,)), fn.layers.Dense(16, activation="relu"),
                      fn.layers.Dense(1, activation="sigmoid")])
twin.load_weights(weights_path)
print("weights only, same predictions:",
      np.array_equal(twin.predict(x_test, verbose=0), model.predict(x_test, verbose=0)))

# One more epoch on the original and on the loaded copy (optimizer state included) agree exactly.
model.fit(x_train, y_train, epochs=1, batch_size=32, shuffle=False, verbose=0)
restored.fit(x_train, y_train, epochs=1, batch_size=32, shuffle=False, verbose=0)
resumed = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), restored.get_weights()))
print("training resumed from the file matches:", resumed)
print(f"test accuracy {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")
