"""The small tf.* surface MLP scripts touch around the model, for `import fastnn as tf`:
tf.version, tf.random, tf.config, tf.nn, tf.math, tf.constant / tf.convert_to_tensor / tf.cast,
the dtypes (tf.float32 is numpy's float32) and a few reductions. Everything here works on numpy;
results are numpy arrays of the Tensor subclass, whose only addition is TensorFlow's .numpy().
"""
from __future__ import annotations

import numpy as np

from . import utils as _utils
from ._mirror import Namespace
from .keras import ops as _ops

class Tensor(np.ndarray):
    """A numpy array with TensorFlow's .numpy(), what fastnn's tf.* functions return (so
    `tf.nn.softmax(logits).numpy()` and `tf.reduce_mean(x).numpy()` work as in TensorFlow)."""

    def numpy(self):
        """The plain numpy value (a numpy scalar for a 0-d result, as in TensorFlow)."""
        a = self.view(np.ndarray)
        return a[()] if a.ndim == 0 else a


def _as_tensor(v):
    if isinstance(v, tuple):
        return tuple(_as_tensor(x) for x in v)
    if isinstance(v, (np.ndarray, np.generic)):
        return np.asarray(v).view(Tensor)
    return v


def _returns_tensors(fn):
    def wrapped(*args, **kwargs):
        return _as_tensor(fn(*args, **kwargs))

    wrapped.__name__ = getattr(fn, "__name__", "function")
    wrapped.__doc__ = getattr(fn, "__doc__", None)
    wrapped.__wrapped__ = fn
    return wrapped


def _tensor_namespace(ns: Namespace) -> Namespace:
    for k, v in list(vars(ns).items()):
        if callable(v) and not isinstance(v, type) and not k.startswith("_"):
            setattr(ns, k, _returns_tensors(v))
    return ns


def _version_namespace(version: str) -> Namespace:
    return Namespace("fastnn.version", "What `tf.version` holds, for fastnn.",
                     VERSION=f"{version}+fastnn", GIT_VERSION=f"fastnn-{version}",
                     COMPILER_VERSION="see fastnn.show_config()")


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _reduce(fn, tf_name):
    def reduce(input_tensor, axis=None, keepdims=False, name=None):
        return fn(np.asarray(input_tensor), axis=_axis(axis), keepdims=keepdims)

    reduce.__name__ = f"reduce_{tf_name}"
    reduce.__doc__ = f"numpy's {tf_name} over `axis` (all axes when None), as tf.reduce_{tf_name}."
    return reduce


def _arg(fn):
    def arg(input, axis=None, output_type="int64", name=None):
        # tf.math.argmax reduces axis 0 when no axis is given.
        return fn(np.asarray(input), axis=0 if axis is None else axis).astype(output_type)

    arg.__name__ = fn.__name__
    arg.__doc__ = f"numpy's {fn.__name__} (axis 0 when None, as in TensorFlow)."
    return arg


def constant(value, dtype=None, shape=None, name=None):
    """A numpy array of `value` (tf.constant: Python floats become float32, Python ints int32)."""
    a = _ops.convert_to_tensor(value, dtype=dtype)
    if shape is not None:
        a = np.broadcast_to(a, tuple(shape)).copy() if a.size == 1 else a.reshape(tuple(shape))
    return a


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    return _ops.convert_to_tensor(value, dtype=dtype or None)


def cast(x, dtype, name=None):
    return _ops.cast(x, dtype)


def one_hot(indices, depth, on_value=1.0, off_value=0.0, axis=-1, dtype="float32", name=None):
    hot = _ops.one_hot(np.asarray(indices), depth, axis=axis, dtype="float64")
    return (hot * (on_value - off_value) + off_value).astype(_ops._dtype(dtype))


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    return np.clip(t, clip_value_min, clip_value_max)


def linspace(start, stop, num, name=None, axis=0):
    """`num` evenly spaced values from `start` to `stop`, both included (tf.linspace).

    Parameters
    ----------
    start, stop : number or array
        The first and last values; arrays give one sequence per element along `axis`.
    num : int
        How many values, at least 1.
    name : str, optional
        Ignored (TensorFlow's op name).
    axis : int, default 0
        Where the new axis goes when start and stop are arrays.

    Returns
    -------
    Tensor
        The dtype of start (float32 for a Python float, as tf.constant makes it); float64 when
        start is an integer.
    """
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"linspace: num must be a positive int, got {num!r}")
    a, b = constant(start), constant(stop)
    # stop takes start's dtype (tf.linspace(0.0, 250, 251) is float32); integers give float64
    dtype = a.dtype if a.dtype.kind == "f" else np.result_type(b.dtype, np.float64)
    return np.linspace(a.astype(dtype), b.astype(dtype), int(num), axis=axis).astype(dtype)


def add_n(inputs, name=None):
    """The element-wise sum of a list of arrays of one shape (tf.add_n; no broadcasting).

    Parameters
    ----------
    inputs : list of arrays or numbers
        At least one; all of the same shape.
    name : str, optional
        Ignored (TensorFlow's op name).

    Returns
    -------
    Tensor
        The sum, in the inputs' common dtype.
    """
    if isinstance(inputs, (np.ndarray, Tensor)) or not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError(f"add_n: inputs must be a non-empty list of arrays, got {type(inputs).__name__}"
                         + (" (empty)" if isinstance(inputs, (list, tuple)) else ""))
    arrays = [np.asarray(v) for v in inputs]
    for i, v in enumerate(arrays):
        if v.shape != arrays[0].shape:
            raise ValueError(f"add_n: inputs must all have one shape, got {arrays[0].shape} and {v.shape} "
                             f"(input {i})")
    total = arrays[0].copy()
    for v in arrays[1:]:
        total = total + v
    return np.asarray(total)


def _unary(name, fn):
    def op(x, name=None):
        return fn(x)

    op.__name__ = name
    return op


def l2_normalize(x, axis=None, epsilon=1e-12, name=None):
    """x / sqrt(max(sum(x**2), epsilon)) along `axis` (all axes when None)."""
    a = _ops._float(x)
    return a / np.sqrt(np.maximum(np.sum(a * a, axis=_axis(axis), keepdims=True), epsilon))


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype="int32", name=None):
    """Rows are true labels, columns predictions (tf.math.confusion_matrix)."""
    y, p = np.asarray(labels).ravel(), np.asarray(predictions).ravel()
    if y.shape != p.shape:
        raise ValueError(f"confusion_matrix: labels and predictions differ in size, {y.size} vs {p.size}")
    for what, v in (("labels", y), ("predictions", p)):
        if v.size and (v.dtype.kind not in "iu" or v.min() < 0):
            raise ValueError(f"confusion_matrix: {what} must be non-negative integers")
    n = int(num_classes) if num_classes is not None else int(max(y.max(initial=-1), p.max(initial=-1)) + 1)
    if y.size and max(y.max(), p.max()) >= n:
        raise ValueError(f"confusion_matrix: a label is out of range for num_classes={n}")
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    out = np.zeros((n, n), dtype=np.float64)
    np.add.at(out, (y, p), w)
    return out.astype(_ops._dtype(dtype))


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """max(z, 0) - z * y + log(1 + exp(-|z|)), element-wise (stable for any logit)."""
    z, y = _ops._float(logits), np.asarray(labels, dtype=_ops._float(logits).dtype)
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def softmax_cross_entropy_with_logits(labels=None, logits=None, axis=-1, name=None):
    """-sum(labels * log_softmax(logits)) along `axis`."""
    return -np.sum(np.asarray(labels) * _ops.log_softmax(logits, axis=axis), axis=axis)


nn = Namespace(
    "fastnn.nn", "tf.nn's element-wise activations and losses on numpy arrays.",
    relu=_unary("relu", _ops.relu), relu6=_unary("relu6", _ops.relu6), selu=_unary("selu", _ops.selu),
    elu=_unary("elu", _ops.elu), sigmoid=_unary("sigmoid", _ops.sigmoid), tanh=_unary("tanh", _ops.tanh),
    softplus=_unary("softplus", _ops.softplus), softsign=_unary("softsign", _ops.softsign),
    silu=lambda features, beta=1.0, name=None: (_ops.silu(features) if beta == 1.0
                                               else _ops._float(features) * _ops.sigmoid(beta * _ops._float(features))),
    leaky_relu=lambda features, alpha=0.2, name=None: _ops.leaky_relu(features, negative_slope=alpha),
    gelu=lambda features, approximate=False, name=None: _ops.gelu(features, approximate=approximate),
    softmax=lambda logits, axis=None, name=None: _ops.softmax(logits, axis=-1 if axis is None else axis),
    log_softmax=lambda logits, axis=None, name=None: _ops.log_softmax(logits, axis=-1 if axis is None else axis),
    l2_normalize=l2_normalize, moments=lambda x, axes, keepdims=False, name=None: _ops.moments(x, axes, keepdims),
    sigmoid_cross_entropy_with_logits=sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits=softmax_cross_entropy_with_logits,
)
setattr(nn, "swish", nn.silu)   # Namespace attributes are dynamic; setattr says so to type checkers
_tensor_namespace(nn)

# Named here, not from fn.__name__: numpy 1.x calls np.max "amax" and np.min "amin".
_REDUCTIONS = {f"reduce_{name}": _reduce(fn, name) for name, fn in (
    ("mean", np.mean), ("sum", np.sum), ("max", np.max), ("min", np.min), ("prod", np.prod),
    ("std", np.std), ("variance", np.var), ("all", np.all), ("any", np.any))}
_ELEMENTWISE = {name: getattr(np, name) for name in (
    "exp", "log", "log1p", "expm1", "sqrt", "square", "abs", "sign", "floor", "ceil", "round", "add",
    "subtract", "multiply", "divide", "maximum", "minimum", "equal", "not_equal", "greater", "greater_equal",
    "less", "less_equal", "logical_and", "logical_or", "logical_not", "cumsum", "sin", "cos")}
_ELEMENTWISE.update(pow=np.power, negative=np.negative, is_nan=np.isnan, is_finite=np.isfinite,
                    is_inf=np.isinf, count_nonzero=np.count_nonzero, reciprocal=np.reciprocal,
                    truediv=np.true_divide, floordiv=np.floor_divide)

math = Namespace(
    "fastnn.math", "tf.math's element-wise basics and reductions on numpy arrays.",
    **_ELEMENTWISE, **_REDUCTIONS, argmax=_arg(np.argmax), argmin=_arg(np.argmin),
    sigmoid=nn.sigmoid, tanh=nn.tanh, softplus=nn.softplus, l2_normalize=l2_normalize,
    confusion_matrix=confusion_matrix, add_n=add_n, top_k=lambda input, k=1, sorted=True, name=None: _ops.top_k(input, k),
)
_tensor_namespace(math)


class PhysicalDevice:
    """One device fastnn computes on (tf.config.PhysicalDevice's fields)."""

    def __init__(self, name, device_type):
        self.name, self.device_type = name, device_type

    def __repr__(self):
        return f"PhysicalDevice(name={self.name!r}, device_type={self.device_type!r})"

    def __eq__(self, other):
        return isinstance(other, PhysicalDevice) and (self.name, self.device_type) == (other.name, other.device_type)

    def __hash__(self):
        return hash((self.name, self.device_type))


def list_physical_devices(device_type=None):
    """The CPU; GPUs appear here once fastnn is built with CUDA (fastnn.show_config() says whether)."""
    if device_type is not None and not isinstance(device_type, str):
        raise TypeError(f"list_physical_devices: device_type must be a str or None, got {device_type!r}")
    devices = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    return [d for d in devices if device_type is None or d.device_type == device_type.upper()]


def _set_memory_growth(device, enable):
    """Nothing to set: fastnn sizes its workspaces once per model."""
    if not isinstance(device, PhysicalDevice):
        raise TypeError(f"set_memory_growth: expected a PhysicalDevice, got {type(device).__name__}")


def _set_threads(n):
    """tf.config.threading.set_*_op_parallelism_threads: fastnn has one pool; 0 keeps its size."""
    from . import set_num_threads

    if n:
        set_num_threads(n)


def _get_threads():
    from . import get_num_threads

    return get_num_threads()


config = Namespace(
    "fastnn.config", "tf.config's device and thread queries.",
    list_physical_devices=list_physical_devices, list_logical_devices=list_physical_devices,
    PhysicalDevice=PhysicalDevice,
    experimental=Namespace("fastnn.config.experimental", "", set_memory_growth=_set_memory_growth,
                           list_physical_devices=list_physical_devices),
    threading=Namespace("fastnn.config.threading", "", set_intra_op_parallelism_threads=_set_threads,
                        set_inter_op_parallelism_threads=_set_threads,
                        get_intra_op_parallelism_threads=_get_threads,
                        get_inter_op_parallelism_threads=_get_threads),
)


def _generator(seed):
    # Unseeded draws follow numpy's global generator, which tf.random.set_seed seeds.
    return np.random.default_rng(seed if seed is not None else np.random.randint(2**31 - 1))


def _normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None):
    return _generator(seed).normal(mean, stddev, size=tuple(shape)).astype(_ops._dtype(dtype))


def _uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None):
    dt = _ops._dtype(dtype)
    if dt.kind in "iu":
        if maxval is None:
            raise ValueError("random.uniform: maxval is required for integer dtypes")
        return _generator(seed).integers(minval, maxval, size=tuple(shape)).astype(dt)
    return _generator(seed).uniform(minval, 1.0 if maxval is None else maxval, size=tuple(shape)).astype(dt)


def set_seed(seed):
    """Seeds fastnn (initializers, shuffling, dropout of models built afterwards) and numpy's global
    generator, as tf.random.set_seed with keras.utils.set_random_seed."""
    _utils.set_random_seed(seed)


random = Namespace("fastnn.random", "tf.random's seed and the draws scripts make data with (numpy).",
                   set_seed=set_seed, normal=_returns_tensors(_normal), uniform=_returns_tensors(_uniform))

DTYPES = {n: np.dtype(n).type for n in ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                                        "uint8", "uint16", "uint32", "uint64", "bool")}
DTYPES["double"] = np.float64
DTYPES["half"] = np.float16

# What `fastnn.<name>` resolves to for tf.* names (looked up lazily by fastnn.__getattr__).
TOP_LEVEL = {
    "nn": nn, "math": math, "config": config, "constant": constant, "convert_to_tensor": convert_to_tensor,
    "cast": cast, "one_hot": one_hot, "clip_by_value": clip_by_value, **_REDUCTIONS,
    "argmax": math.argmax, "argmin": math.argmin, "reshape": np.reshape, "transpose": np.transpose,
    "expand_dims": np.expand_dims, "squeeze": np.squeeze, "stack": np.stack,
    "concat": lambda values, axis, name=None: np.concatenate(values, axis=axis),
    "zeros": np.zeros, "ones": np.ones, "zeros_like": np.zeros_like, "ones_like": np.ones_like,
    "matmul": np.matmul, "where": np.where, "exp": np.exp, "sqrt": np.sqrt, "square": np.square,
    "abs": np.abs, "add": np.add, "add_n": add_n, "linspace": linspace, "multiply": np.multiply, "maximum": np.maximum, "minimum": np.minimum,
    "Tensor": Tensor,
}
TOP_LEVEL = {k: v if isinstance(v, (type, Namespace)) or v in (math.argmax, math.argmin)
             else _returns_tensors(v) for k, v in TOP_LEVEL.items()}
TOP_LEVEL.update(DTYPES)


def _data_namespace():
    from . import _tf_data

    return Namespace("fastnn.data", "tf.data for in-memory data: Dataset.from_tensor_slices and the common "
                     "transformations (see fastnn._tf_data).", Dataset=_tf_data.Dataset, AUTOTUNE=_tf_data.AUTOTUNE,
                     INFINITE_CARDINALITY=_tf_data.INFINITE_CARDINALITY,
                     UNKNOWN_CARDINALITY=_tf_data.UNKNOWN_CARDINALITY,
                     experimental=Namespace("fastnn.data.experimental", "", AUTOTUNE=_tf_data.AUTOTUNE,
                                            INFINITE_CARDINALITY=_tf_data.INFINITE_CARDINALITY,
                                            UNKNOWN_CARDINALITY=_tf_data.UNKNOWN_CARDINALITY))


TOP_LEVEL["data"] = _data_namespace()
