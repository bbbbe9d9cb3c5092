"""The Communicator interface data parallelism runs on, the one-process communicator, and the choice
of a communicator from how the script was launched.

A communicator knows its rank and the number of ranks and runs four collectives over numpy buffers:
all_gather, all_reduce (sum), broadcast and barrier. Every collective is bounded by `timeout`
seconds: a rank that died or raised makes its peers fail with a TimeoutError (or the library's own
error) instead of waiting forever. The training loop calls only `_exchange` (an all-gather of the
engine's bytes, timed so benchmarks can report the communication per step).
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

DEFAULT_TIMEOUT = 300.0  # seconds; generous for slow networks, finite so a dead peer ends the job


def _timeout(value):
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"timeout: expected a positive number of seconds, got {value!r}")
    return float(value)


def _buffer(name, buf, writable=False):
    if not isinstance(buf, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(buf).__name__}")
    if not buf.flags.c_contiguous:
        raise ValueError(f"{name}: expected a C-contiguous array")
    if writable and not buf.flags.writeable:
        raise ValueError(f"{name}: expected a writable array")
    return buf


class Communicator:
    """A group of `size` processes; this one is `rank` (0 ... size - 1).

    Subclasses implement _all_gather, _all_reduce, _broadcast and _barrier; the public methods
    check the buffers and keep the timing counters (`comm_seconds`, `comm_calls`, `comm_bytes`:
    what the training loop's exchanges cost, for benchmarks). With one rank the collectives are
    done locally and the subclass is never called.

    Parameters
    ----------
    rank : int
        This process's rank, in [0, size).
    size : int
        The number of processes in the group.
    timeout : float, optional
        Seconds any collective may wait for the other ranks before raising TimeoutError; a positive
        number, DEFAULT_TIMEOUT (300) when None. Anything else raises ValueError.
    """

    backend = "base"

    def __init__(self, rank, size, timeout=None):
        self.rank = int(rank)
        self.size = int(size)
        self.timeout = _timeout(timeout)
        self.comm_seconds = 0.0
        self.comm_calls = 0
        self.comm_bytes = 0

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, size={self.size}, timeout={self.timeout:g})"

    # ------------------------------------------------------------------------------ collectives
    def all_gather(self, send, recv=None):
        """Every rank's `send`, stacked in rank order.

        Parameters
        ----------
        send : array_like
            This rank's contribution; the same shape and dtype on every rank (made C-contiguous
            if it is not).
        recv : numpy.ndarray, optional
            Where to write the result: writable, C-contiguous, send's dtype and size * send.size
            values (ValueError otherwise). A new array when None.

        Returns
        -------
        numpy.ndarray
            recv, of shape (size,) + send.shape when it was made here; row r is rank r's send.
        """
        send = _buffer("send", np.ascontiguousarray(send))
        if recv is None:
            recv = np.empty((self.size,) + send.shape, dtype=send.dtype)
        _buffer("recv", recv, writable=True)
        if recv.dtype != send.dtype or recv.size != send.size * self.size:
            raise ValueError(f"recv: expected {self.size} x {send.size} values of {send.dtype}, got "
                             f"{recv.size} of {recv.dtype}")
        if self.size == 1:
            recv.reshape(-1)[...] = send.reshape(-1)
        else:
            self._all_gather(send, recv)
        return recv

    def all_reduce(self, buf):
        """Sums `buf` over the ranks, in place.

        The summation order is the library's: not bitwise reproducible across rank counts
        (training never uses it for gradients).

        Parameters
        ----------
        buf : numpy.ndarray
            A writable, C-contiguous array of the same shape and dtype on every rank; anything
            else raises TypeError or ValueError.

        Returns
        -------
        numpy.ndarray
            buf itself, now holding the sum over the ranks.
        """
        _buffer("buf", buf, writable=True)
        if self.size > 1:
            self._all_reduce(buf)
        return buf

    def broadcast(self, buf, root=0):
        """Copies rank `root`'s buf into buf on every rank.

        Parameters
        ----------
        buf : numpy.ndarray
            A writable, C-contiguous array of the same shape and dtype on every rank.
        root : int, default 0
            The rank whose values are sent, in [0, size) (ValueError otherwise).

        Returns
        -------
        numpy.ndarray
            buf itself, now holding root's values.
        """
        _buffer("buf", buf, writable=True)
        if not 0 <= int(root) < self.size:
            raise ValueError(f"root: expected a rank in [0, {self.size}), got {root!r}")
        if self.size > 1:
            self._broadcast(buf, int(root))
        return buf

    def barrier(self):
        """Waits until every rank has reached this call (at most `timeout` seconds)."""
        if self.size > 1:
            self._barrier()

    def _exchange(self, send, recv):
        """The training loop's one collective per step (the engine's bytes, zero-copy views that
        must not be kept)."""
        t0 = time.perf_counter()
        self._all_gather(send, recv)
        self.comm_seconds += time.perf_counter() - t0
        self.comm_calls += 1
        self.comm_bytes += recv.size

    def _deadline_error(self, what):
        return TimeoutError(f"{self.backend} {what}: rank {self.rank} of {self.size} waited more than "
                            f"{self.timeout:g} s for its peers; another rank has probably failed or "
                            "stopped (its own error is in its output)")

    # ------------------------------------------------------------------------------ implementations
    def _all_gather(self, send, recv):
        raise NotImplementedError

    def _all_reduce(self, buf):
        raise NotImplementedError

    def _broadcast(self, buf, root):
        raise NotImplementedError

    def _barrier(self):
        raise NotImplementedError


class LocalCommunicator(Communicator):
    """One process (rank 0 of 1): the reference that N ranks reproduce bit for bit.

    Parameters
    ----------
    timeout : float, optional
        Seconds any collective may wait for the other ranks before raising TimeoutError; a positive
        number, DEFAULT_TIMEOUT (300) when None. Anything else raises ValueError.
        Kept for symmetry with the other communicators: one rank never waits.
    """

    backend = "local"

    def __init__(self, timeout=None):
        super().__init__(0, 1, timeout)


_MPI_VARS = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE",
             "MPI_LOCALNRANKS")
_TORCH_VARS = ("TORCHELASTIC_RUN_ID",)


def launched_by():
    """Which launcher started this process, from the environment alone (nothing is imported).

    Returns
    -------
    str or None
        "torch" (torchrun, RANK/WORLD_SIZE/MASTER_ADDR set, or a torch.distributed group already
        initialized), "mpi" (mpiexec / mpirun / srun with PMI variables) or None (a plain process).
    """
    env = os.environ
    tdist = sys.modules.get("torch.distributed")
    if tdist is not None and tdist.is_available() and tdist.is_initialized():
        return "torch"
    if any(v in env for v in _TORCH_VARS) or all(v in env for v in ("RANK", "WORLD_SIZE", "MASTER_ADDR")):
        return "torch"
    if any(v in env for v in _MPI_VARS):
        return "mpi"
    return None


def get_communicator(kind=None, timeout=None):
    """Makes the communicator of a given kind, or of the way the script was launched.

    Parameters
    ----------
    kind : {None, "mpi", "torch", "local"} or Communicator, default None
        None chooses from the launch (torchrun -> torch.distributed, mpiexec -> MPI, otherwise one
        process); a Communicator is returned as is. Any other value raises ValueError.
    timeout : float, optional
        Seconds each collective may wait (DEFAULT_TIMEOUT when None); not applied to a
        Communicator given as kind.

    Returns
    -------
    Communicator
        A LocalCommunicator, MPICommunicator or TorchCommunicator (the last two import mpi4py or
        torch, with an ImportError naming what to install when it is missing).
    """
    if isinstance(kind, Communicator):
        return kind
    if kind is None:
        kind = launched_by() or "local"
    if kind == "mpi":
        from .mpi import MPICommunicator
        return MPICommunicator(timeout=timeout)
    if kind == "torch":
        from .torch_dist import TorchCommunicator
        return TorchCommunicator(timeout=timeout)
    if kind == "local":
        return LocalCommunicator(timeout=timeout)
    raise ValueError(f"communicator: expected None, 'mpi', 'torch', 'local' or a Communicator, got {kind!r}")
