"""Data-parallel training over MPI (mpi4py) or torch.distributed, with the same bits as one process.

    import fastnn
    with fastnn.distributed.DataParallel():
        model.fit(x, y, batch_size=128, epochs=5)

Launch with `mpiexec -n 4 python train.py` or `torchrun --nproc-per-node 4 train.py`; see
docs/DISTRIBUTED.md. Nothing here imports mpi4py or torch until a communicator of that kind is made.
"""
from .communicator import (
    DEFAULT_TIMEOUT,
    Communicator,
    LocalCommunicator,
    get_communicator,
    launched_by,
)
from .data_parallel import DataParallel, current

__all__ = [
    "DEFAULT_TIMEOUT",
    "Communicator",
    "DataParallel",
    "LocalCommunicator",
    "MPICommunicator",
    "TorchCommunicator",
    "current",
    "get_communicator",
    "launched_by",
]


def __getattr__(name):
    if name == "MPICommunicator":
        from .mpi import MPICommunicator
        return MPICommunicator
    if name == "TorchCommunicator":
        from .torch_dist import TorchCommunicator
        return TorchCommunicator
    raise AttributeError(f"module 'fastnn.distributed' has no attribute {name!r}")
