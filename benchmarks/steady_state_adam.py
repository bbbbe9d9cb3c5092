"""Steady-state training rate of an 8-256-256-1 network (Adam, batch 32): steps/s of a fresh epoch
and of epochs 1 to N after it, and how many Adam state entries are subnormal at each point.

Adam's moments decay geometrically where a unit's gradient is zero (dead ReLUs), so after a few
epochs part of the state is subnormal; on x86 every arithmetic operation on a subnormal costs
about a hundred cycles unless flush-to-zero / denormals-are-zero is set. fastnn sets both for the
duration of its own native work, so the rate should stay flat.

Usage: python benchmarks/steady_state_adam.py [--threads 1] [--epochs 5] [--rows 32000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import fastnn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=32000)
    args = ap.parse_args()
    fastnn.set_num_threads(args.threads)
    (x, y), _ = fastnn.datasets.seed_task(n_samples=args.rows, test_split=0.0, seed=0)
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([fastnn.layers.Input(shape=(8,)), fastnn.layers.Dense(256, activation="relu"),
                           fastnn.layers.Dense(256, activation="relu"),
                           fastnn.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy")
    steps = -(-len(x) // 32)
    tiny = np.finfo(np.float32).tiny
    print(f"fastnn {fastnn.__version__}, kernel {fastnn.kernel_name()}, {args.threads} thread(s), "
          f"{steps} steps per epoch")
    for epoch in range(args.epochs + 1):
        t0 = time.perf_counter()
        m.fit(x, y, epochs=1, batch_size=32, verbose=0)
        dt = time.perf_counter() - t0
        state = m._engine.optimizer_state()
        sub = int(np.count_nonzero((state != 0) & (np.abs(state) < tiny)))
        label = "fresh" if epoch == 0 else f"after epoch {epoch}"
        print(f"{label:>15}: {steps / dt:8.0f} steps/s   subnormal Adam state entries: "
              f"{sub} of {state.size}")


if __name__ == "__main__":
    main()
