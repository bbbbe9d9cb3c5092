"""keras.ops on numpy arrays: what MLP scripts compute around a model (softmax of logits, argmax of
predictions, means of losses). Activations whose names fastnn's native activations share run the
native formulas (the ones the engine trains with); the rest are numpy.

`from keras import ops` ports as `from fastnn.keras import ops`; results are numpy arrays.
"""
from __future__ import annotations

import numpy as np

from .. import activations as _act
from .._mirror import mirror as _mirror


def convert_to_numpy(x):
    """x as a numpy array (fastnn model outputs and variables included).

    Parameters
    ----------
    x : array-like
        An array, a nested list, a scalar, a model output or a variable.

    Returns
    -------
    numpy.ndarray
        ``numpy.asarray(x)``: no copy when ``x`` already is an array.
    """
    return np.asarray(x)


def convert_to_tensor(x, dtype=None, sparse=None):
    """x as a numpy array of `dtype` (Python floats become float32, Python ints int32, as in Keras).

    fastnn has no tensor type: the "tensor" is a numpy array.

    Parameters
    ----------
    x : array-like
        Values to convert. Arrays and objects with ``__array__`` keep their dtype; Python
        numbers and lists get Keras's defaults (float32, int32).
    dtype : str or numpy dtype, optional
        Target dtype (a name such as ``"float32"`` or a numpy dtype); ``None`` (default) applies
        the rule above. An unknown dtype raises a TypeError.
    sparse : bool, optional
        True raises NotImplementedError: fastnn has no sparse tensors. ``None`` (default) or
        False give a dense array.

    Returns
    -------
    numpy.ndarray
        The converted array.
    """
    if sparse:
        raise NotImplementedError("convert_to_tensor(sparse=True): fastnn has no sparse tensors")
    if dtype is not None:
        return np.asarray(x, dtype=_dtype(dtype))
    if isinstance(x, np.ndarray) or hasattr(x, "__array__"):
        return np.asarray(x)
    a = np.asarray(x)
    if a.dtype == np.float64:
        return a.astype(np.float32)
    if a.dtype == np.int64:
        return a.astype(np.int32)
    return a


def _dtype(dtype):
    name = getattr(dtype, "name", dtype)
    try:
        return np.dtype(name)
    except TypeError:
        raise TypeError(f"dtype: expected a numpy dtype or a name such as 'float32', got {dtype!r}") from None


def cast(x, dtype):
    """x converted to `dtype` (a name such as "float32" or a numpy dtype).

    Parameters
    ----------
    x : array-like
        Values to convert.
    dtype : str or numpy dtype
        Target dtype; an unknown one raises a TypeError.

    Returns
    -------
    numpy.ndarray
        A new array of ``dtype`` (numpy's casting rules: floats to ints truncate).
    """
    return np.asarray(x).astype(_dtype(dtype))


def _float(x):
    a = np.asarray(x)
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float32)


def _native(name, x, axis=-1, **kwargs):
    """Applies fastnn's native activation `name` to x (any shape; softmax-like ones over `axis`)."""
    a = _float(x)
    if a.size == 0:
        return a.copy()
    moved = a.ndim > 1 and axis not in (-1, a.ndim - 1)
    if moved:
        a = np.moveaxis(a, axis, -1)
    out = _act.Activation(name, **kwargs)(np.ascontiguousarray(a))
    return np.moveaxis(out, -1, axis) if moved else out


def relu(x):
    """Rectified linear unit, ``max(x, 0)``, by fastnn's native formula.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("relu", x)


def relu6(x):
    """ReLU capped at 6, ``min(max(x, 0), 6)``.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("relu6", x)


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: ``x`` for positive x, ``negative_slope * x`` otherwise.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.
    negative_slope : float, optional
        Slope for negative inputs (default 0.2, Keras's).

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("leaky_relu", x, negative_slope=float(negative_slope))


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for positive x, ``alpha * (exp(x) - 1)`` otherwise.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.
    alpha : float, optional
        Scale of the negative part (default 1.0).

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("elu", x, alpha=float(alpha))


def selu(x):
    """Scaled exponential linear unit (Keras's fixed alpha and scale).

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("selu", x)


def gelu(x, approximate=True):
    """GELU; Keras's ops.gelu defaults to the tanh approximation (layers' "gelu" does not).

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.
    approximate : bool, optional
        True (default, as Keras's ``ops.gelu``): the tanh approximation; False: the exact
        ``x * Phi(x)`` with the normal CDF.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("gelu", x, approximate=bool(approximate))


def silu(x):
    """SiLU (swish), ``x * sigmoid(x)``.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("silu", x)


swish = silu


def hard_sigmoid(x):
    """Piecewise-linear sigmoid, ``clip(x / 6 + 0.5, 0, 1)`` (Keras 3's definition).

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("hard_sigmoid", x)


def hard_silu(x):
    """Hard SiLU (hard swish), ``x * hard_sigmoid(x)``.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("hard_silu", x)


hard_swish = hard_silu


def sigmoid(x):
    """Logistic sigmoid, ``1 / (1 + exp(-x))``.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("sigmoid", x)


def tanh(x):
    """Hyperbolic tangent.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("tanh", x)


def softplus(x):
    """Softplus, ``log(1 + exp(x))``, computed without overflow for large x.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("softplus", x)


def softsign(x):
    """Softsign, ``x / (1 + |x|)``.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("softsign", x)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (computed with the maximum subtracted).

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.
    axis : int, optional
        The axis that sums to 1 (default -1, the last).

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("softmax", x, axis=axis)


def log_softmax(x, axis=-1):
    """Logarithm of softmax along `axis`, ``x - logsumexp(x)``, stable for large values.

    Parameters
    ----------
    x : array-like
        Input values; float32 and float64 keep their dtype, anything else (ints, bools) is
        computed in float32.
    axis : int, optional
        The axis normalised over (default -1, the last).

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape and float dtype.
    """
    return _native("log_softmax", x, axis=axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot rows (float32 unless `dtype`) for integer labels x.

    Labels outside ``[0, num_classes)`` (negative ones included) give rows of zeros, as in Keras.

    Parameters
    ----------
    x : array-like of int
        Integer class ids, any shape; a float or other dtype raises a TypeError.
    num_classes : int
        Number of classes, a positive int (a ValueError otherwise).
    axis : int, optional
        Where the new class axis goes (default -1, appended last).
    dtype : str or numpy dtype, optional
        Dtype of the result; ``None`` (default) is float32.
    sparse : bool, optional
        True raises NotImplementedError (no sparse tensors); default False.

    Returns
    -------
    numpy.ndarray
        Shape ``x.shape`` with an axis of ``num_classes`` inserted at ``axis``.
    """
    if sparse:
        raise NotImplementedError("one_hot(sparse=True): fastnn has no sparse tensors")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    labels = np.asarray(x)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: x must hold integer labels, got dtype {labels.dtype}")
    out = (labels[..., None] == np.arange(num_classes)).astype(_dtype(dtype or "float32"))
    return np.moveaxis(out, -1, axis) if axis != -1 else out


def top_k(x, k, sorted=True):
    """(values, indices) of the k largest entries along the last axis, largest first.

    Parameters
    ----------
    x : array-like
        Input of at least one dimension.
    k : int
        How many entries to take, an int in ``[1, x.shape[-1]]`` (a ValueError otherwise).
    sorted : bool, optional
        Accepted for Keras compatibility; the result is always sorted, largest first, equal
        values in index order.

    Returns
    -------
    values : numpy.ndarray
        The ``k`` largest entries of each row, shape ``x.shape[:-1] + (k,)``.
    indices : numpy.ndarray
        Their positions along the last axis (int64).
    """
    a = np.asarray(x)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= a.shape[-1]:
        raise ValueError(f"top_k: k must be an int in [1, {a.shape[-1]}], got {k!r}")
    idx = np.argsort(-a, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(a, idx, axis=-1), idx


def shape(x):
    """Return the shape of x as a tuple of ints.

    Parameters
    ----------
    x : array-like
        An array, a nested list or a scalar.

    Returns
    -------
    tuple of int
        ``numpy.shape(x)``; a scalar gives ``()``.
    """
    return tuple(np.shape(x))


def size(x):
    """Return the number of entries of x.

    Parameters
    ----------
    x : array-like
        An array, a nested list or a scalar.

    Returns
    -------
    int
        The product of the shape (1 for a scalar).
    """
    return int(np.size(x))


def ndim(x):
    """Return the number of dimensions of x.

    Parameters
    ----------
    x : array-like
        An array, a nested list or a scalar.

    Returns
    -------
    int
        The rank (0 for a scalar).
    """
    return int(np.ndim(x))


def clip(x, x_min, x_max):
    """Limit the values of x to ``[x_min, x_max]``.

    Parameters
    ----------
    x : array-like
        Values to clip.
    x_min, x_max : number or array-like
        Lower and upper bounds, broadcast against ``x``.

    Returns
    -------
    numpy.ndarray
        ``numpy.clip(x, x_min, x_max)``, in numpy's result dtype.
    """
    return np.clip(x, x_min, x_max)


def moments(x, axes, keepdims=False):
    """(mean, variance) over `axes`.

    Parameters
    ----------
    x : array-like
        Input values; integers are computed in float32.
    axes : int or list of int
        Axes to reduce.
    keepdims : bool, optional
        Keep the reduced axes with size 1 (default False).

    Returns
    -------
    mean, variance : numpy.ndarray
        The mean and the population variance (divided by n, as Keras) over ``axes``.
    """
    a = _float(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    return np.mean(a, axis=axes, keepdims=keepdims), np.var(a, axis=axes, keepdims=keepdims)


# The numpy functions keras.ops shares in name and meaning.
_NUMPY = ("abs", "absolute", "add", "all", "any", "arange", "argmax", "argmin", "argsort", "ceil",
          "concatenate", "cos", "cumsum", "cumprod", "diag", "divide", "dot", "equal", "exp", "expand_dims",
          "expm1", "eye", "flip", "floor", "full", "full_like", "greater", "greater_equal", "hstack",
          "isfinite", "isinf", "isnan", "less", "less_equal", "linspace", "log", "log1p", "log2", "log10",
          "logical_and", "logical_not", "logical_or", "logical_xor", "matmul", "max", "maximum", "mean",
          "median", "min", "minimum", "mod", "multiply", "negative", "not_equal", "ones", "ones_like",
          "power", "prod", "repeat", "reshape", "round", "sign", "sin", "sort", "sqrt", "square", "squeeze",
          "stack", "std", "subtract", "sum", "swapaxes", "take", "take_along_axis", "tile", "transpose",
          "tril", "triu", "true_divide", "var", "vstack", "where", "zeros", "zeros_like")
for _name in _NUMPY:
    globals()[_name] = getattr(np, _name)
del _name
norm = np.linalg.norm

__getattr__ = _mirror(globals())
