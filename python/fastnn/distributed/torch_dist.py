"""The torch.distributed communicator: any backend the process group has (gloo on the CPU, NCCL on
GPUs: buffers then travel through the current CUDA device).

Launched by torchrun (or with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set), it creates the
default group itself ("gloo" unless `backend` says otherwise) with the communicator's timeout; a
group created beforehand is used as it is. Every collective is asynchronous and waited for with
the timeout, so a failed peer raises here instead of hanging.
"""
from __future__ import annotations

import atexit

import datetime

import numpy as np

from .communicator import Communicator


def _dist():
    try:
        import torch
        import torch.distributed as dist
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("fastnn.distributed: the torch.distributed communicator needs PyTorch") from e
    if not dist.is_available():  # pragma: no cover
        raise ImportError("fastnn.distributed: this PyTorch build has no torch.distributed")
    return torch, dist


def _destroy_group(dist):
    if dist.is_initialized():
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - at exit there is no one to report to
            pass


class TorchCommunicator(Communicator):
    """A Communicator over torch.distributed (gloo on the CPU, NCCL through the current CUDA device).

    Making one imports torch (ImportError when it is missing). When no default process group exists
    yet, one is created from the launcher's environment (torchrun, or RANK, WORLD_SIZE, MASTER_ADDR
    and MASTER_PORT) and destroyed at exit; an existing group is used as it is.

    Parameters
    ----------
    group : torch.distributed.ProcessGroup, optional
        The group to run on; the default group when None. Its rank and size become this
        communicator's.
    timeout : float, optional
        Seconds any collective may wait for the other ranks before raising TimeoutError (also the
        timeout of a group created here); a positive number, DEFAULT_TIMEOUT (300) when None.
    backend : str, default "gloo"
        The backend of a group created here ("gloo", "nccl", "mpi"); ignored when a group already
        exists.
    """

    backend = "torch"

    def __init__(self, group=None, timeout=None, backend="gloo"):
        torch, dist = _dist()
        self._torch, self._dist, self._group = torch, dist, group
        super().__init__(0, 1, timeout)
        self._td = datetime.timedelta(seconds=self.timeout)
        if not dist.is_initialized():
            dist.init_process_group(backend=backend, timeout=self._td)
            # A group fastnn made is fastnn's to close: left open, gloo's threads can still be
            # running when the interpreter exits, and the process aborts ("terminate called").
            atexit.register(_destroy_group, dist)
        self.rank = dist.get_rank(group)
        self.size = dist.get_world_size(group)
        name = str(dist.get_backend(group)).lower()
        self._device = torch.device("cuda", torch.cuda.current_device()) if name == "nccl" else None
        self.backend = f"torch.distributed ({name})"

    def _tensor(self, a):
        t = self._torch.from_numpy(a)
        return t if self._device is None else t.to(self._device)

    def _back(self, t, a):
        if self._device is not None:
            a[...] = t.cpu().numpy().reshape(a.shape)

    def _wait(self, work, what):
        try:
            work.wait(self._td)
        except RuntimeError as e:
            kind = TimeoutError if "timed out" in str(e).lower() or "timeout" in str(e).lower() else RuntimeError
            raise kind(f"{self.backend} {what}: rank {self.rank} of {self.size} failed waiting for its "
                       f"peers; another rank has probably failed or stopped ({e})") from e

    # Gathers and broadcasts move bytes (exact for any dtype; gloo lacks unsigned 64-bit types).
    def _all_gather(self, send, recv):
        src = self._tensor(np.ascontiguousarray(send).reshape(-1).view(np.uint8))
        flat = recv.reshape(-1).view(np.uint8)
        dst = self._tensor(flat)
        gather = getattr(self._dist, "all_gather_single", None) or self._dist.all_gather_into_tensor
        self._wait(gather(dst, src, group=self._group, async_op=True),
                   "all_gather")
        self._back(dst, flat)

    def _all_reduce(self, buf):
        t = self._tensor(buf)
        self._wait(self._dist.all_reduce(t, group=self._group, async_op=True), "all_reduce")
        self._back(t, buf)

    def _broadcast(self, buf, root):
        buf = buf.reshape(-1).view(np.uint8)
        t = self._tensor(buf)
        self._wait(self._dist.broadcast(t, src=root, group=self._group, async_op=True), "broadcast")
        self._back(t, buf)

    def _barrier(self):
        t = self._tensor(np.zeros(1, np.float32))
        self._wait(self._dist.all_reduce(t, group=self._group, async_op=True), "barrier")
