"""One rank of the data-parallel tests (run under mpiexec, by torch.distributed's test, or alone).

    python job.py OUT.npz --comm mpi|torch|local [--opt sgd|adam] [--fail-rank R]

Trains a small network with shuffling, sample weights, dropout and an L2 regularizer under
DataParallel and writes the weights and History (rank 0 writes OUT; other ranks OUT.rankR).
--fail-rank R: rank R raises inside fit (from a callback) to check that the job ends.
"""
import argparse
import sys

import fastnn
import numpy as np
from fastnn.distributed import DataParallel


class Fail(fastnn.callbacks.Callback):
    def __init__(self, rank):
        super().__init__()
        self.rank = rank

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise RuntimeError(f"rank {self.rank} failed on purpose")


def train(dp, opt="adam", fail_rank=-1):
    """Weights and History (a dict of arrays) of the test network trained under `dp`."""
    comm = dp.communicator
    rng = np.random.default_rng(0)
    X = rng.normal(size=(230, 12)).astype(np.float32)
    y = (X[:, :3].sum(1) > 0).astype(np.int64) + (X[:, 3] > 0.5)
    sw = rng.uniform(0.5, 2.0, size=230)
    # Ranks other than 0 start from other weights: the broadcast from rank 0 must overwrite them.
    model = fastnn.Sequential([
        fastnn.layers.Input((12,)),
        fastnn.layers.Dense(24, activation="relu", kernel_regularizer=fastnn.regularizers.L2(1e-3)),
        fastnn.layers.Dropout(0.25),
        fastnn.layers.Dense(3, activation="softmax"),
    ], seed=7 + 1000 * comm.rank)
    optimizer = fastnn.optimizers.Adam(1e-2) if opt == "adam" else fastnn.optimizers.SGD(0.05, momentum=0.9)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    cbs = [Fail(comm.rank)] if comm.rank == fail_rank else []
    hist = model.fit(X, y, batch_size=64, epochs=3, sample_weight=sw, shuffle=True, verbose=0,
                     validation_split=0.1, callbacks=cbs, distribution=dp)
    arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    arrays.update({f"h_{k}": np.array(v) for k, v in hist.history.items()})
    return arrays


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--comm", default=None)
    p.add_argument("--opt", default="adam")
    p.add_argument("--fail-rank", type=int, default=-1)
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    fastnn.set_num_threads(a.threads)
    dp = DataParallel(a.comm, shard_rows=16, timeout=a.timeout)
    arrays = train(dp, a.opt, a.fail_rank)
    rank = dp.communicator.rank
    np.savez(a.out if rank == 0 else f"{a.out}.rank{rank}.npz", **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main())
