"""The founding program, Keras style: 8 features -> Dense 10 relu -> Dense 10 relu -> Dense 1 sigmoid,
Adam, binary cross-entropy, batch 32, on the built-in seed task.

    python examples/founding_keras.py
"""
import os
import time

import fastnn as fn

EPOCHS = int(os.environ.get("FASTNN_EXAMPLE_EPOCHS", "10"))

fn.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = fn.datasets.seed_task(n_samples=10000)

model = fn.Sequential([
    fn.layers.Dense(10, activation="relu", input_shape=(8,)),
    fn.layers.Dense(10, activation="relu"),
    fn.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

start = time.perf_counter()
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_split=0.1, verbose=2)
seconds = time.perf_counter() - start

loss, acc = model.evaluate(x_test, y_test, verbose=0)
print(f"{EPOCHS} epochs in {seconds:.2f} s; test loss {loss:.4f}, test accuracy {acc:.4f}")
