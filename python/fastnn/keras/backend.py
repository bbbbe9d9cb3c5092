"""tf.keras.backend / keras.backend: the few process-level queries MLP scripts make."""
from __future__ import annotations

import numpy as np

from .._mirror import mirror as _mirror

_EPSILON = 1e-7


def clear_session(free_memory=True):
    """Nothing to clear: fastnn keeps no global graph; each model owns its native network.

    Kept so that ported scripts run unchanged. A model's native memory is freed when the model
    object is garbage-collected; layer-name counters are not reset (Keras resets them).

    Parameters
    ----------
    free_memory : bool, optional
        Accepted for Keras compatibility and ignored (default True).
    """


def floatx():
    """The default float type of fastnn models ("float32"; Model(dtype="float64") per model).

    Returns
    -------
    str
        Always ``"float32"``.
    """
    return "float32"


def set_floatx(value):
    """Only "float32" is a process default in fastnn; use Sequential(..., dtype="float64") per model.

    Parameters
    ----------
    value : str
        ``"float32"`` is accepted (and changes nothing); any other value raises
        NotImplementedError naming the per-model ``dtype`` argument to use instead.
    """
    if value != "float32":
        raise NotImplementedError(
            f"set_floatx({value!r}): fastnn has no process-wide float type; pass dtype={value!r} to "
            "Sequential(...) or Model(...) instead")


def epsilon():
    """The fuzz factor Keras adds to denominators (1e-7).

    Returns
    -------
    float
        ``1e-7``, the value fastnn's losses and metrics use.
    """
    return _EPSILON


def set_epsilon(value):
    """fastnn's losses and metrics use Keras's 1e-7 fixed in the engine; other values are refused.

    Parameters
    ----------
    value : float
        ``1e-7`` is accepted (and changes nothing); any other number raises
        NotImplementedError, a non-number the TypeError or ValueError of ``float(value)``.
    """
    if float(value) != _EPSILON:
        raise NotImplementedError(f"set_epsilon({value!r}): fastnn's epsilon is fixed at 1e-7")


def backend():
    """The name of the computing backend ("fastnn").

    Returns
    -------
    str
        ``"fastnn"`` (Keras answers ``"tensorflow"``, ``"jax"`` or ``"torch"``).
    """
    return "fastnn"


def image_data_format():
    """The image layout convention, for scripts that query it.

    Returns
    -------
    str
        ``"channels_last"``, Keras's default; fastnn's layers are dense, with no image layout of
        their own.
    """
    return "channels_last"


def get_value(x):
    """The value of a variable or array, as numpy.

    Parameters
    ----------
    x : array-like
        A fastnn Variable, a model output, an array or a scalar.

    Returns
    -------
    numpy.ndarray
        ``numpy.asarray(x)``.
    """
    return np.asarray(x)


def set_value(x, value):
    """Assigns `value` to a fastnn Variable (x.assign).

    Parameters
    ----------
    x : Variable
        The variable to update; an object without ``assign`` (a plain array) raises a TypeError.
    value : array-like
        The new value, of the variable's shape and finite (``assign`` raises a ValueError
        otherwise).
    """
    if not hasattr(x, "assign"):
        raise TypeError(f"set_value: expected a fastnn Variable, got {type(x).__name__}")
    x.assign(value)


def int_shape(x):
    """The shape of an array, variable or symbolic tensor as a tuple.

    Parameters
    ----------
    x : array, Variable or symbolic tensor
        Anything with a ``shape`` attribute (a plain list has none: an AttributeError).

    Returns
    -------
    tuple
        The shape; a symbolic tensor (``keras.Input``) has ``None`` for its batch axis.
    """
    return tuple(x.shape)


def count_params(x):
    """The number of scalars in an array or variable.

    Parameters
    ----------
    x : array-like
        An array, a Variable or anything ``numpy.shape`` reads.

    Returns
    -------
    int
        The product of its shape (1 for a scalar).
    """
    return int(np.prod(np.shape(x)))


__getattr__ = _mirror(globals())
