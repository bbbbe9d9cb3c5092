"""DataParallel: fit() on every rank of a communicator, with the same bits as one process.

    with fastnn.distributed.DataParallel():      # or model.fit(..., distribution=DataParallel())
        model.fit(x, y, batch_size=128, epochs=5)

Every rank runs the same script on the same data. At the start of fit, rank 0's weights, optimizer
state, step count and generator are broadcast, and the ranks check that they hold the same data
and batch size. Each step the engine cuts the global batch into shards of `shard_rows` rows, each
rank computes the gradients of its own aligned group of shards and sums them in a fixed binary
tree, one all-gather exchanges the group sums (with the shards' losses and outputs), and every
rank finishes the same tree and applies the same update: weights and History are bitwise equal on
every rank and to the same fit on one process with DataParallel (size 1). Dropout masks are drawn
per row of the global batch; BatchNormalization (statistics over the batch) is refused.
"""
from __future__ import annotations

import threading
import zlib
from contextlib import contextmanager

import numpy as np

from .communicator import Communicator, get_communicator

_scope = threading.local()

# Callbacks that write files or the terminal: rank 0 only.
_RANK0_ONLY = ("ModelCheckpoint", "CSVLogger", "ProgbarLogger", "BackupAndRestore", "TensorBoard")


def current():
    """The innermost active `with DataParallel():` scope of this thread.

    Returns
    -------
    DataParallel or None
        The scope fit() would use without a `distribution=` argument; None outside any scope.
    """
    stack = getattr(_scope, "stack", None)
    return stack[-1] if stack else None


class DataParallel:
    """Data-parallel training over a communicator.

    Use it as a context manager around fit (`with DataParallel(): model.fit(...)`) or pass it as
    fit's `distribution=`. Unlike PyTorch's DistributedDataParallel, every rank sees the whole
    data set and the global batch: the batch is split into shards inside each step.

    Parameters
    ----------
    communicator : {None, "mpi", "torch", "local"} or Communicator, default None
        None chooses from the launch (torchrun -> torch.distributed, mpiexec -> MPI, a plain
        process -> one rank); the communicator is made on first use. Another type raises TypeError.
    shard_rows : int, default 32
        Rows per shard, a positive int (ValueError otherwise). It fixes the summation tree, so
        results depend on it (and on the batch size), never on the number of ranks or threads. A
        batch of B rows keeps at most ceil(B / shard_rows) ranks busy.
    timeout : float, optional
        Seconds any collective may wait before failing (default 300), when the communicator is
        created here.
    """

    def __init__(self, communicator=None, shard_rows=32, timeout=None):
        if isinstance(shard_rows, bool) or not isinstance(shard_rows, (int, np.integer)) or shard_rows <= 0:
            raise ValueError(f"shard_rows: expected a positive int, got {shard_rows!r}")
        if communicator is not None and not isinstance(communicator, (str, Communicator)):
            raise TypeError("communicator: expected None, 'mpi', 'torch', 'local' or a Communicator, got "
                            f"{type(communicator).__name__}")
        self.shard_rows = int(shard_rows)
        self._spec = communicator
        self._timeout = timeout
        self._comm = communicator if isinstance(communicator, Communicator) else None

    @property
    def communicator(self):
        """The Communicator the training runs on (created on first access when given by kind)."""
        if self._comm is None:
            self._comm = get_communicator(self._spec, self._timeout)
        return self._comm

    @property
    def rank(self):
        """This process's rank in the communicator (0 on a single process)."""
        return self.communicator.rank

    @property
    def size(self):
        """The number of ranks the training is spread over."""
        return self.communicator.size

    def __repr__(self):
        return f"DataParallel(communicator={self._comm or self._spec!r}, shard_rows={self.shard_rows})"

    def __enter__(self):
        if not hasattr(_scope, "stack"):
            _scope.stack = []
        _scope.stack.append(self)
        return self

    def __exit__(self, *exc):
        _scope.stack.remove(self)
        return False

    # ------------------------------------------------------------------------------ fit's hooks
    def _check_model(self, model):
        for layer in getattr(model, "layers", []):
            if type(layer).__name__ == "BatchNormalization":
                raise ValueError(f"DataParallel: layer {layer.name!r} is a BatchNormalization, whose batch "
                                 "statistics would depend on how the batch is sharded; use "
                                 "LayerNormalization or train it without DataParallel")

    def _check_same(self, comm, what, values):
        mine = np.asarray(values, dtype=np.float64)
        allv = comm.all_gather(mine)
        for r in range(comm.size):
            if not np.array_equal(allv[r], allv[0]):
                raise ValueError(f"DataParallel: rank {r} has a different {what} than rank 0 "
                                 f"({allv[r].tolist()} vs {allv[0].tolist()}); every rank must call fit "
                                 "with the same data and arguments")

    def _prepare_fit(self, model, train, batch_size, epochs, callbacks, verbose):
        """Checks and broadcasts before the first step; returns fit's (callbacks, verbose)."""
        self._check_model(model)
        if not hasattr(train, "X") or getattr(train, "_order", None) is not None:
            raise ValueError("DataParallel: fit needs in-memory arrays (numpy, lists, pandas) under data "
                             "parallelism, the same on every rank; got a generator, dataset or loader")
        X, Y, W = train.X, train.Y, train.WL
        comm = self.communicator
        if comm.size > 1:
            n = X.shape[0]
            step = max(1, n // 256)

            def crc(a):
                return 0 if a is None else zlib.crc32(np.ascontiguousarray(a[::step]).tobytes())

            self._check_same(comm, "data or batch size",
                             [n, X.shape[1], Y.size, batch_size, epochs, crc(X), crc(Y), crc(W)])
            engine = model._engine
            arena, opt, it, scalar, rng = engine.training_state()
            comm.broadcast(arena)
            opt = np.ascontiguousarray(opt)
            comm.broadcast(opt)
            words = np.array(rng, dtype=np.uint64)
            comm.broadcast(words)
            scal = np.array([it, scalar], dtype=np.float64)
            comm.broadcast(scal)
            engine.set_training_state(arena, opt, int(scal[0]), float(scal[1]), [int(w) for w in words])
        if comm.rank != 0:
            from ..callbacks.callback_list import _flatten_callbacks
            callbacks = [c for c in _flatten_callbacks(callbacks) if type(c).__name__ not in _RANK0_ONLY]
            verbose = 0
        return callbacks, verbose

    @contextmanager
    def _sharded(self, engine):
        comm = self.communicator
        engine.set_sharding(self.shard_rows, comm if comm.size > 1 else None)
        try:
            yield
        finally:
            engine.set_sharding(0, None)


def resolve(distribution):
    """fit's `distribution=` argument, or the active scope."""
    if distribution is None:
        return current()
    if not isinstance(distribution, DataParallel):
        raise TypeError(f"distribution: expected a fastnn.distributed.DataParallel or None, got "
                        f"{type(distribution).__name__}")
    return distribution
