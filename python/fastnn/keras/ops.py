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
    """x as a numpy array (fastnn model outputs and variables included)."""
    return np.asarray(x)


def convert_to_tensor(x, dtype=None, sparse=None):
    """x as a numpy array of `dtype` (Python floats become float32, Python ints int32, as in Keras)."""
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
    """x converted to `dtype` (a name such as "float32" or a numpy dtype)."""
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
    return _native("relu", x)


def relu6(x):
    return _native("relu6", x)


def leaky_relu(x, negative_slope=0.2):
    return _native("leaky_relu", x, negative_slope=float(negative_slope))


def elu(x, alpha=1.0):
    return _native("elu", x, alpha=float(alpha))


def selu(x):
    return _native("selu", x)


def gelu(x, approximate=True):
    """GELU; Keras's ops.gelu defaults to the tanh approximation (layers' "gelu" does not)."""
    return _native("gelu", x, approximate=bool(approximate))


def silu(x):
    return _native("silu", x)


swish = silu


def hard_sigmoid(x):
    return _native("hard_sigmoid", x)


def hard_silu(x):
    return _native("hard_silu", x)


hard_swish = hard_silu


def sigmoid(x):
    return _native("sigmoid", x)


def tanh(x):
    return _native("tanh", x)


def softplus(x):
    return _native("softplus", x)


def softsign(x):
    return _native("softsign", x)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (computed with the maximum subtracted)."""
    return _native("softmax", x, axis=axis)


def log_softmax(x, axis=-1):
    return _native("log_softmax", x, axis=axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot rows (float32 unless `dtype`) for integer labels x; labels outside [0, num_classes)
    give rows of zeros, as in Keras."""
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
    """(values, indices) of the k largest entries along the last axis, largest first."""
    a = np.asarray(x)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= a.shape[-1]:
        raise ValueError(f"top_k: k must be an int in [1, {a.shape[-1]}], got {k!r}")
    idx = np.argsort(-a, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(a, idx, axis=-1), idx


def shape(x):
    return tuple(np.shape(x))


def size(x):
    return int(np.size(x))


def ndim(x):
    return int(np.ndim(x))


def clip(x, x_min, x_max):
    return np.clip(x, x_min, x_max)


def moments(x, axes, keepdims=False):
    """(mean, variance) over `axes`."""
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
