"""The founding program, PyTorch style: the same 8-10-10-1 network trained by a hand-written loop
(forward, loss, backward, optimizer step) on the same native core.

    python examples/founding_torch_style.py
"""
import os

import numpy as np

import fastnn as fn

EPOCHS = int(os.environ.get("FASTNN_EXAMPLE_EPOCHS", "10"))
BATCH = 32

fn.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = fn.datasets.seed_task(n_samples=10000)
# The datasets give labels of shape (N,); a one-output model gives (N, 1). Make them match, or a
# comparison such as (outputs >= 0.5) == y broadcasts to an (N, N) matrix.
y_train, y_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)

model = fn.Sequential([
    fn.layers.Input(shape=(8,)),
    fn.layers.Dense(10, activation="relu"),
    fn.layers.Dense(10, activation="relu"),
    fn.layers.Dense(1, activation="sigmoid"),
])
criterion = fn.losses.BinaryCrossentropy()
optimizer = fn.optimizers.Adam(learning_rate=0.001)
optimizer.build(model.parameters())

rng = np.random.default_rng(0)
for epoch in range(EPOCHS):
    order = rng.permutation(len(x_train))
    total = 0.0
    for start in range(0, len(order), BATCH):
        idx = order[start:start + BATCH]
        optimizer.zero_grad()
        outputs = model(x_train[idx], training=True)
        loss = criterion(y_train[idx], outputs)
        loss.backward()
        optimizer.step()
        total += float(loss) * len(idx)
    print(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(x_train):.4f}")

accuracy = float(((model(x_test) >= 0.5) == y_test).mean())
print(f"test accuracy {accuracy:.4f}")
