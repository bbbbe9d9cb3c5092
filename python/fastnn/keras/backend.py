"""tf.keras.backend / keras.backend: the few process-level queries MLP scripts make."""
from __future__ import annotations

import numpy as np

from .._mirror import mirror as _mirror

_EPSILON = 1e-7


def clear_session(free_memory=True):
    """Nothing to clear: fastnn keeps no global graph; each model owns its native network."""


def floatx():
    """The default float type of fastnn models ("float32"; Model(dtype="float64") per model)."""
    return "float32"


def set_floatx(value):
    """Only "float32" is a process default in fastnn; use Sequential(..., dtype="float64") per model."""
    if value != "float32":
        raise NotImplementedError(
            f"set_floatx({value!r}): fastnn has no process-wide float type; pass dtype={value!r} to "
            "Sequential(...) or Model(...) instead")


def epsilon():
    """The fuzz factor Keras adds to denominators (1e-7)."""
    return _EPSILON


def set_epsilon(value):
    """fastnn's losses and metrics use Keras's 1e-7 fixed in the engine; other values are refused."""
    if float(value) != _EPSILON:
        raise NotImplementedError(f"set_epsilon({value!r}): fastnn's epsilon is fixed at 1e-7")


def backend():
    """The name of the computing backend ("fastnn")."""
    return "fastnn"


def image_data_format():
    return "channels_last"


def get_value(x):
    """The value of a variable or array, as numpy."""
    return np.asarray(x)


def set_value(x, value):
    """Assigns `value` to a fastnn Variable (x.assign)."""
    if not hasattr(x, "assign"):
        raise TypeError(f"set_value: expected a fastnn Variable, got {type(x).__name__}")
    x.assign(value)


def int_shape(x):
    """The shape of an array, variable or symbolic tensor as a tuple (None for the batch of
    symbolic tensors)."""
    return tuple(x.shape)


def count_params(x):
    return int(np.prod(np.shape(x)))


__getattr__ = _mirror(globals())
