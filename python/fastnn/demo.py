"""The main job: trains the founding network (8 -> Dense 10 relu -> Dense 10 relu -> Dense 1 sigmoid,
Adam, binary cross-entropy, batch 32, 10 epochs) on the built-in seed task and reports test loss and
accuracy. Run with `python -m fastnn.demo`."""
from __future__ import annotations

import argparse
import time

import fastnn as fn


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--samples", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=1)
    args = p.parse_args(argv)

    fn.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = fn.datasets.seed_task(n_samples=args.samples, seed=args.seed)
    model = fn.Sequential([
        fn.layers.Dense(10, activation="relu", input_shape=(8,)),
        fn.layers.Dense(10, activation="relu"),
        fn.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.summary()
    t0 = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, validation_split=0.1, verbose=args.verbose)
    dt = time.perf_counter() - t0
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    n_seen = int(len(x_train) * 0.9) * args.epochs
    print(f"trained {args.epochs} epochs in {dt:.3f} s ({n_seen / dt:,.0f} samples/s, "
          f"{fn.get_num_threads()} threads, kernel {fn.kernel_name()})")
    print(f"test loss: {loss:.4f} - test accuracy: {acc:.4f}")
    return loss, acc


if __name__ == "__main__":
    main()
