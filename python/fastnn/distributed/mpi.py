"""The MPI communicator, through mpi4py (pip install fastnn[mpi]: mpi4py with the MPICH wheel).

Collectives are non-blocking MPI calls polled against a deadline (MPI's blocking calls cannot time
out). With abort_on_error (the default), an exception that reaches the top of any rank prints its
traceback, waits a second for mpiexec to forward it, and calls MPI_Abort, so mpiexec ends every rank at once (what `python -m mpi4py` does).
"""
from __future__ import annotations

import sys
import time

from .communicator import Communicator


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("fastnn.distributed: the MPI communicator needs mpi4py and an MPI library; "
                          "pip install 'fastnn[mpi]' (mpi4py and the mpich wheel)") from e
    return MPI


_hook_installed = False
_ABORT_GRACE_S = 1.0  # time for mpiexec to forward the failing rank's traceback before the abort


def _install_abort_hook(comm):
    global _hook_installed
    if _hook_installed:
        return
    previous = sys.excepthook

    def hook(kind, value, tb):
        try:
            previous(kind, value, tb)
            sys.stderr.flush()
            sys.stdout.flush()
            # MPI_Abort has mpiexec kill every rank, and the launcher stops forwarding a rank's
            # output when it kills it: without a pause the traceback just written may never reach
            # the terminal (seen on a loaded machine: only its first lines arrived).
            time.sleep(_ABORT_GRACE_S)
        finally:
            comm.Abort(1)

    sys.excepthook = hook
    _hook_installed = True


class MPICommunicator(Communicator):
    """A Communicator over MPI (mpi4py), collectives bounded by the timeout.

    Making one imports mpi4py (ImportError naming the package to install when it is missing).

    Parameters
    ----------
    comm : mpi4py.MPI.Comm, optional
        The MPI communicator to run on; MPI.COMM_WORLD when None. Its rank and size become this
        communicator's.
    timeout : float, optional
        Seconds any collective may wait for the other ranks before raising TimeoutError; a positive
        number, DEFAULT_TIMEOUT (300) when None.
    abort_on_error : bool, default True
        With more than one rank, installs a sys.excepthook that prints an uncaught exception's
        traceback and calls MPI_Abort, so mpiexec ends every rank instead of leaving them waiting.
    """

    backend = "mpi"

    def __init__(self, comm=None, timeout=None, abort_on_error=True):
        MPI = _mpi()
        self._MPI = MPI
        self._comm = MPI.COMM_WORLD if comm is None else comm
        super().__init__(self._comm.Get_rank(), self._comm.Get_size(), timeout)
        if abort_on_error and self.size > 1:
            _install_abort_hook(self._comm)

    def _wait(self, req, what):
        # A few quick polls (a step's exchange usually completes within microseconds of the
        # slowest rank), then sleeps that release the GIL and the core, growing to 1 ms.
        deadline = time.monotonic() + self.timeout
        for _ in range(64):
            if req.Test():
                return
        pause = 1e-5
        while not req.Test():
            if time.monotonic() > deadline:
                raise self._deadline_error(what)
            time.sleep(pause)
            pause = min(pause * 2, 1e-3)

    def _all_gather(self, send, recv):
        self._wait(self._comm.Iallgather(send, recv), "all_gather")

    def _all_reduce(self, buf):
        self._wait(self._comm.Iallreduce(self._MPI.IN_PLACE, buf, op=self._MPI.SUM), "all_reduce")

    def _broadcast(self, buf, root):
        self._wait(self._comm.Ibcast(buf, root=root), "broadcast")

    def _barrier(self):
        self._wait(self._comm.Ibarrier(), "barrier")
