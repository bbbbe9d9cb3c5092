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
from . import _config, _tf
from ._config import logger, show_config
from ._mirror import missing as _missing


def set_num_threads(n: int) -> None:
    """Sets the number of threads of fastnn's native pool (a process setting, like BLAS's).

    Parameters
    ----------
    n : int
        From 1 to 4 per logical CPU (at most 1,024); more would only add wake-ups and is refused
        with a ValueError.
    """
    import numbers

    from ._limits import max_threads

    top = max_threads()
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= top:
        raise ValueError(f"set_num_threads: expected an int in [1, {top}] (4 per logical CPU, at most 1024), "
                         f"got {n!r}")
    _core.set_num_threads(int(n))


def get_num_threads() -> int:
    """The number of threads of fastnn's native pool.

    Returns
    -------
    int
        The pool's size (set_num_threads or the FASTNN_NUM_THREADS default).
    """
    return int(_core.get_num_threads())


def kernel_name() -> str:
    """The GEMM kernel chosen for this CPU at run time (the FASTNN_KERNEL variable forces one).

    Returns
    -------
    str
        The kernel's name, for example "avx512" or "avx2".
    """
    return _core.kernel_name()


def __getattr__(name):
    import importlib

    if name in ("datasets", "explain", "keras", "sklearn", "wrappers", "distributed", "dask"):
        return importlib.import_module(__name__ + "." + name)
    if name in _tf.TOP_LEVEL:
        return _tf.TOP_LEVEL[name]
    if name.startswith("_"):
        raise AttributeError(f"module 'fastnn' has no attribute {name!r}")
    raise _missing("fastnn", name)


__all__ = ["Sequential", "Model", "Input", "load_model", "layers", "activations", "losses",
           "optimizers", "metrics", "callbacks", "initializers", "regularizers", "schedules", "utils",
           "set_num_threads", "get_num_threads", "kernel_name", "mixed_precision", "show_config", "logger",
           "__version__"]

# tf.* names for scripts ported with `import fastnn as tf` (tf.random.set_seed, tf.version.VERSION;
# tf.nn, tf.math, tf.config, tf.constant, ... resolve lazily through __getattr__).
random = _tf.random
version = _tf._version_namespace(__version__)

_config.check_environment()
