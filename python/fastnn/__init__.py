"""fastnn: fast multilayer perceptrons for Python.

A C++ engine (packed SIMD GEMM with fused epilogues, its own thread pool, a native training loop)
behind a Keras-like API: Sequential, Dense, compile / fit / evaluate / predict.
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import _core
from . import activations, callbacks, initializers, layers, losses, metrics, optimizers, regularizers
from . import mixed_precision, models, schedules, utils
from .models import Model, Sequential, load_model
from .layers import Input


def set_num_threads(n: int) -> None:
    """Sets the number of threads of fastnn's native pool (a process setting, like BLAS's): an int
    from 1 to 4 per logical CPU (at most 1,024); more only adds wake-ups and is refused."""
    import numbers

    from ._limits import max_threads

    top = max_threads()
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= top:
        raise ValueError(f"set_num_threads: expected an int in [1, {top}] (4 per logical CPU, at most 1024), "
                         f"got {n!r}")
    _core.set_num_threads(int(n))


def get_num_threads() -> int:
    return int(_core.get_num_threads())


def kernel_name() -> str:
    """The GEMM kernel chosen for this CPU (FASTNN_KERNEL forces one)."""
    return _core.kernel_name()


def __getattr__(name):
    if name == "datasets":
        import importlib

        return importlib.import_module(__name__ + ".datasets")
    if name == "keras":
        import importlib

        return importlib.import_module(__name__ + ".keras")
    raise AttributeError(f"module 'fastnn' has no attribute {name!r}")


__all__ = ["Sequential", "Model", "Input", "load_model", "layers", "activations", "losses",
           "optimizers", "metrics", "callbacks", "initializers", "regularizers", "schedules", "utils",
           "set_num_threads", "get_num_threads", "kernel_name", "mixed_precision", "__version__"]


class _RandomNamespace:
    """tf.random.set_seed for scripts ported with `import fastnn as tf`."""

    @staticmethod
    def set_seed(seed):
        utils.set_random_seed(seed)


random = _RandomNamespace()
