"""Stateful metrics with Keras 3 names and semantics, computed in numpy.

Every metric accumulates its state in float64 and exposes the Keras metric
protocol::

    m = BinaryAccuracy()
    m.update_state(y_true, y_pred, sample_weight=None)
    m.result()        # python float (numpy array for vector-valued results)
    m.reset_state()
    m(y_true, y_pred) # update_state() then result()

All computations are vectorised over the batch: the training loop may call
``update_state`` once for a large chunk of many batches (``y_pred`` of shape
``(n, out)``, float32 or float64) and the result is the same as updating
batch by batch.

Per-sample metric values are reduced with the Keras rule: values with more
dimensions than ``sample_weight`` are averaged over the extra trailing axes,
then the weighted mean ``sum(value * weight) / sum(weight)`` is taken.

Resolving ``compile(metrics=...)`` entries
------------------------------------------
Use :func:`resolve_accuracy` for every entry of the ``metrics`` list given to
``compile``. It implements the Keras convenience rule for ``"accuracy"`` /
``"acc"`` and ``"crossentropy"`` / ``"ce"`` (the concrete metric depends on
the loss and the output width) and, like Keras 3's ``compile``, gives a metric
named by a string the string itself as display name (``metrics=["mae"]`` logs
``"mae"``). :func:`get` is the plain ``keras.metrics.get`` equivalent.
"""

from __future__ import annotations

import inspect
import numbers
import re

import numpy as np

__all__ = [
    "Metric",
    "MetricVariable",
    "Mean",
    "Sum",
    "MeanMetricWrapper",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "RootMeanSquaredError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "AUC",
    "Precision",
    "Recall",
    "F1Score",
    "FBetaScore",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "get",
    "resolve_accuracy",
]

#: Fuzz factor used for clipping probabilities and guarding divisions.
EPSILON = 1e-7
# Value given to predictions filtered out by ``top_k``.
_NEG_INF = -1e10


# ---------------------------------------------------------------------------
# Array helpers
# ---------------------------------------------------------------------------
def _snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _align_ranks(x1, x2, expand_rank_1=True):
    """Make two arrays the same rank when their ranks differ by one.

    The array with the extra trailing axis of size 1 is squeezed, except that a
    rank-1 partner is expanded instead when ``expand_rank_1`` is true.
    """
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def _row_sum(x):
    """Float64 sum over the last axis (fast for the short class axis of 2-D data)."""
    if x.ndim == 2 and x.dtype == np.float64:
        return np.einsum("ij->i", x)
    return np.sum(x, axis=-1, dtype=np.float64)


def _row_mean(x):
    """Mean over the last axis; arrays of rank <= 1 are returned unchanged."""
    if x.ndim <= 1:
        return x
    return _row_sum(x) / x.shape[-1]


def _mean_trailing(values):
    """Mean over every axis but the first (per-sample values)."""
    if values.ndim > 1:
        return _row_mean(values.reshape(values.shape[0], -1))
    return values


def _reduce_to_samplewise(values, sample_weight, reduce_fn):
    """Reduce ``values`` to one value per sample and weight them.

    Returns ``(weighted_values, sample_weight)`` where ``sample_weight`` is
    ``None`` or has the same leading shape as the values.
    """
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.ndim == 0 and values.ndim >= 1:
            sample_weight = np.full(values.shape[:1], float(sample_weight))
        values, sample_weight = _align_ranks(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce_fn(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = np.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


def _divide_no_nan(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape, dtype=np.float64)
    np.divide(a, b, out=out, where=(b != 0))
    return out


def _sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _log_softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _sparse_labels(y_true, y_pred):
    """Integer class ids of shape ``(n,)`` from labels ``(n,)`` or ``(n, 1)``."""
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.ndim >= 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def _in_top_k(targets, predictions, k):
    """Whether ``predictions[i, targets[i]]`` is among the ``k`` largest.

    Ties straddling the top-k boundary all count as inside, as in Keras.
    """
    predictions = np.asarray(predictions)
    if predictions.ndim > 2:
        predictions = predictions.reshape(-1, predictions.shape[-1])
    elif predictions.ndim == 1:
        predictions = predictions[None, :]
    targets = np.asarray(targets).reshape(-1)
    n, c = predictions.shape
    if targets.shape[0] != n:
        raise ValueError(
            f"Expected one label per prediction row; received {targets.shape[0]} "
            f"labels for predictions of shape {predictions.shape}."
        )
    idx = targets.astype(np.int64, copy=False)
    valid = (idx >= 0) & (idx < c) & (idx == targets)
    safe = np.where(valid, idx, 0)
    target_vals = np.take_along_axis(predictions, safe[:, None], axis=-1)[:, 0]
    if k >= c:
        hit = np.ones(n, dtype=bool)
    elif k <= 0:
        hit = np.zeros(n, dtype=bool)
    else:
        kth = np.partition(predictions, c - k, axis=-1)[:, c - k]
        hit = target_vals >= kth
    return hit & valid & np.isfinite(target_vals)


# ---------------------------------------------------------------------------
# Per-sample metric functions
# ---------------------------------------------------------------------------
def accuracy(y_true, y_pred):
    """Per-sample fraction of exactly equal entries."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    y_true, y_pred = _align_ranks(y_true, y_pred)
    return _mean_trailing((y_true == y_pred).astype(np.float64))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per-sample fraction of entries where ``(y_pred > threshold) == y_true``."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    y_true, y_pred = _align_ranks(y_true, y_pred)
    predicted = (y_pred > threshold).astype(np.float64)
    return _mean_trailing((y_true.astype(np.float64) == predicted).astype(np.float64))


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot labels)."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals ``argmax(y_pred)``.

    Labels may have shape ``(n,)`` or ``(n, 1)``.
    """
    y_pred = np.asarray(y_pred)
    labels = _sparse_labels(y_true, y_pred).astype(np.float64)
    predicted = np.argmax(y_pred, axis=-1).astype(np.float64)
    return (labels == predicted).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target class is among the ``k`` top predictions."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    targets = np.argmax(y_true, axis=-1).reshape(-1)
    hits = _in_top_k(targets, y_pred, k)
    return hits.astype(np.float64).reshape(np.argmax(y_true, axis=-1).shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the ``k`` top predictions.

    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by score
    (best first) instead of scores.
    """
    y_pred = np.asarray(y_pred)
    labels = np.asarray(y_true)
    if labels.ndim > 1:
        labels = labels.reshape(-1)
    if y_pred.ndim > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        hits = np.any(labels[:, None] == y_pred[:, :k], axis=1)
    else:
        hits = _in_top_k(labels, y_pred, k)
    return hits.astype(np.float64)


def _regression_inputs(y_true, y_pred):
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    y_true, y_pred = _align_ranks(y_true, y_pred)
    return y_true, y_pred


def _difference(y_true, y_pred):
    """``y_pred - y_true`` in float64 (ranks aligned), as a new array."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    y_true, y_pred = _align_ranks(y_true, y_pred)
    return np.subtract(y_pred, y_true, dtype=np.float64)


_mean_last = _row_mean


def mean_squared_error(y_true, y_pred):
    """Per-sample mean of squared errors over the last axis."""
    diff = _difference(y_true, y_pred)
    return _mean_last(np.square(diff, out=diff))


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean of absolute errors over the last axis."""
    diff = _difference(y_true, y_pred)
    return _mean_last(np.abs(diff, out=diff))


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, eps))``."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON))
    return 100.0 * _mean_last(diff)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample mean of ``(log1p(max(y_pred, eps)) - log1p(max(y_true, eps)))**2``."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    first = np.log(np.maximum(y_pred, EPSILON) + 1.0)
    second = np.log(np.maximum(y_true, EPSILON) + 1.0)
    return _mean_last(np.square(first - second))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary crossentropy averaged over ``axis``.

    Probabilities are clipped to ``[eps, 1 - eps]``; logits use the
    numerically stable formulation.
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    y_true, y_pred = _align_ranks(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        x = y_pred
        bce = np.maximum(x, 0.0) - x * y_true + np.log1p(np.exp(-np.abs(x)))
    else:
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        bce = -(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p))
    if bce.ndim == 0:
        return bce
    return bce.mean(axis=axis) if bce.ndim > 1 else bce


def _normalized_log_probs(y_pred, axis=-1):
    """``log(clip(y_pred / sum(y_pred), eps, 1 - eps))`` as a new float64 array."""
    y_pred = np.asarray(y_pred)
    if axis in (-1, y_pred.ndim - 1):
        total = _row_sum(np.asarray(y_pred, dtype=np.float64))[..., None]
    else:
        total = np.sum(y_pred, axis=axis, keepdims=True, dtype=np.float64)
    q = np.divide(y_pred, total, dtype=np.float64)
    np.clip(q, EPSILON, 1.0 - EPSILON, out=q)
    return np.log(q, out=q)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical crossentropy for one-hot (or soft) labels.

    Probabilities are renormalised to sum to 1 and clipped to
    ``[eps, 1 - eps]``; logits go through a log-softmax.
    """
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true, dtype=np.float64)
    if label_smoothing:
        num_classes = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    last_axis_2d = axis in (-1, y_pred.ndim - 1) and y_pred.ndim == 2
    if from_logits and last_axis_2d:
        # -sum(t * log_softmax(x)) = (max + logsumexp) * sum(t) - sum(t * x)
        x = np.asarray(y_pred, dtype=np.float64)
        row_max = np.max(x, axis=-1)
        shifted = np.subtract(x, row_max[:, None])
        np.exp(shifted, out=shifted)
        log_norm = row_max + np.log(_row_sum(shifted))
        return log_norm * _row_sum(y_true) - np.einsum("ij,ij->i", y_true, x)
    if from_logits:
        log_p = _log_softmax(y_pred, axis=axis)
    else:
        log_p = _normalized_log_probs(y_pred, axis=axis)
    if last_axis_2d:
        return -np.einsum("ij,ij->i", y_true, log_p)
    return -np.sum(y_true * log_p, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Per-sample crossentropy for integer labels of shape ``(n,)`` or ``(n, 1)``."""
    y_pred = np.asarray(y_pred)
    if axis not in (-1, None) and axis != y_pred.ndim - 1:
        raise ValueError(
            "sparse_categorical_crossentropy only supports the class axis last "
            f"(axis=-1). Received: axis={axis}"
        )
    labels = _sparse_labels(y_true, y_pred)
    int_labels = labels.astype(np.int64)
    num_classes = y_pred.shape[-1]
    if np.any((int_labels < 0) | (int_labels >= num_classes) | (int_labels != labels)):
        raise ValueError(
            f"Labels must be integers in [0, {num_classes}); received values "
            f"between {labels.min()} and {labels.max()}."
        )
    picked = np.take_along_axis(y_pred, int_labels[..., None], axis=-1)[..., 0]
    picked = picked.astype(np.float64)
    if from_logits:
        x = np.asarray(y_pred, dtype=np.float64)
        row_max = np.max(x, axis=-1)
        shifted = np.subtract(x, row_max[..., None])
        np.exp(shifted, out=shifted)
        log_total = np.log(_row_sum(shifted))
        return -(picked - row_max - log_total)
    total = _row_sum(np.asarray(y_pred, dtype=np.float64))
    q = np.clip(picked / total, EPSILON, 1.0 - EPSILON)
    return -np.log(q)


# ---------------------------------------------------------------------------
# Base classes
# ---------------------------------------------------------------------------
def _normalize_dtype(dtype):
    if dtype is None:
        return "float32"
    if hasattr(dtype, "name") and not isinstance(dtype, str):
        return str(dtype.name)
    return str(np.dtype(dtype).name)


def _binary_op(op, reflected=False):
    def method(self, other):
        other = other.value if isinstance(other, MetricVariable) else other
        return op(other, self._value) if reflected else op(self._value, other)

    return method


class MetricVariable:
    """State variable of a custom metric, created by :meth:`Metric.add_variable`.

    Holds a float64 numpy array (whatever the nominal dtype) and supports the
    Keras variable methods ``assign``, ``assign_add``, ``assign_sub`` and
    ``numpy()``, numpy conversion, ``float()`` and arithmetic (which returns
    numpy values).
    """

    def __init__(self, shape=(), initializer="zeros", dtype=None, name=None):
        self.name = name
        if shape is None:
            shape = ()
        elif isinstance(shape, numbers.Integral):
            shape = (int(shape),)
        self.shape = tuple(int(d) for d in shape)
        self.dtype = _normalize_dtype(dtype)
        self._initializer = initializer
        self._value = np.zeros(self.shape, dtype=np.float64)
        self.reset()

    def _initial_value(self):
        init = self._initializer
        if init is None or (isinstance(init, str) and init.lower() == "zeros"):
            return np.zeros(self.shape, dtype=np.float64)
        if isinstance(init, str) and init.lower() == "ones":
            return np.ones(self.shape, dtype=np.float64)
        if isinstance(init, str):
            raise ValueError(
                f"Unsupported metric variable initializer {init!r}: use 'zeros', 'ones', "
                "a number, an array or a callable(shape, dtype)."
            )
        if callable(init):
            init = init(self.shape, self.dtype)
        return np.broadcast_to(np.asarray(init, dtype=np.float64), self.shape).copy()

    def reset(self):
        """Set the variable back to its initial value."""
        self._value[...] = self._initial_value()

    @property
    def value(self):
        return self._value

    def numpy(self):
        return self._value.copy()

    def assign(self, value):
        self._value[...] = np.asarray(value, dtype=np.float64)
        return self

    def assign_add(self, value):
        self._value += np.asarray(value, dtype=np.float64)
        return self

    def assign_sub(self, value):
        self._value -= np.asarray(value, dtype=np.float64)
        return self

    def __array__(self, dtype=None, copy=None):
        return self._value.astype(dtype) if dtype is not None else self._value.copy()

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __neg__(self):
        return -self._value

    def __abs__(self):
        return np.abs(self._value)

    __add__ = _binary_op(np.add)
    __radd__ = _binary_op(np.add, reflected=True)
    __sub__ = _binary_op(np.subtract)
    __rsub__ = _binary_op(np.subtract, reflected=True)
    __mul__ = _binary_op(np.multiply)
    __rmul__ = _binary_op(np.multiply, reflected=True)
    __truediv__ = _binary_op(np.true_divide)
    __rtruediv__ = _binary_op(np.true_divide, reflected=True)
    __pow__ = _binary_op(np.power)
    __lt__ = _binary_op(np.less)
    __le__ = _binary_op(np.less_equal)
    __gt__ = _binary_op(np.greater)
    __ge__ = _binary_op(np.greater_equal)

    def __repr__(self):
        return f"<MetricVariable name={self.name} shape={self.shape} value={self._value}>"


class Metric:
    """Base class of stateful metrics.

    A subclass keeps its state either in plain attributes (then it overrides
    ``reset_state``) or, as in Keras, in variables made with
    :meth:`add_variable` / :meth:`add_weight`, which the default
    ``reset_state`` sets back to their initial values. It implements
    ``update_state(y_true, y_pred, sample_weight=None)`` and ``result()``.
    Built-in metrics accumulate in float64 whatever ``dtype`` says; ``dtype``
    is kept for configuration.

    Args:
        name: Display name, used as key in training logs. Defaults to the
            snake-case class name.
        dtype: Nominal dtype of the metric (``"float32"`` by default).
    """

    #: ``"up"`` when larger is better, ``"down"`` when smaller is better,
    #: ``None`` when unknown. Callbacks in ``mode="auto"`` read it.
    _direction = None

    def __init__(self, name=None, dtype=None):
        self.name = name if name is not None else _snake_case(type(self).__name__)
        self._dtype = _normalize_dtype(dtype)
        self._metric_variables = []

    @property
    def dtype(self):
        return self._dtype

    @property
    def variables(self):
        """The variables made with :meth:`add_variable`."""
        return list(getattr(self, "_metric_variables", []))

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Create a state variable (reset by the default ``reset_state``)."""
        variable = MetricVariable(shape, initializer, dtype or self._dtype, name)
        if not hasattr(self, "_metric_variables"):
            self._metric_variables = []
        self._metric_variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None):
        """Alias of :meth:`add_variable`."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self):
        """Reset the variables made with :meth:`add_variable`."""
        for variable in self.variables:
            variable.reset()

    def __call__(self, *args, **kwargs):
        """Update the state with the given batch and return the new result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self._dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """Weighted mean of the given values: ``sum(v * w) / sum(w)``.

    Values with more dimensions than the weights are first averaged over the
    extra trailing axes. The result is 0.0 while nothing (or only zero weight)
    has been seen.
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values, sample_weight = _reduce_to_samplewise(values, sample_weight, np.mean)
        self.total += float(np.sum(values))
        if sample_weight is not None:
            self.count += float(np.sum(sample_weight))
        elif values.ndim >= 1:
            self.count += float(values.shape[0])
        else:
            self.count += 1.0

    def result(self):
        return self.total / self.count if self.count != 0 else 0.0


class Sum(Metric):
    """Weighted sum of the given values."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values, _ = _reduce_to_samplewise(values, sample_weight, np.sum)
        self.total += float(np.sum(values))

    def result(self):
        return self.total


_DOWN_FUNCTION_NAMES = {
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "huber",
    "log_cosh",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "kl_divergence",
    "poisson",
    "mse",
    "mae",
    "mape",
    "msle",
}


class MeanMetricWrapper(Mean):
    """Weighted mean of ``fn(y_true, y_pred, **kwargs)``.

    ``fn`` returns one value per sample (extra trailing axes are averaged).

    Args:
        fn: Metric function ``fn(y_true, y_pred, **kwargs)``.
        name: Display name; defaults to ``fn.__name__``.
        dtype: Nominal dtype.
        **kwargs: Keyword arguments passed to ``fn``.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper expects a callable; received {fn!r}.")
        if name is None:
            name = getattr(fn, "__name__", None) or _snake_case(type(fn).__name__)
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if type(self)._direction is None:
            fn_name = getattr(fn, "__name__", "")
            if fn_name in _DOWN_FUNCTION_NAMES:
                self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            config["fn"] = self._fn
            config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        if cls is MeanMetricWrapper:
            config = dict(config)
            fn = config.pop("fn")
            return cls(fn, **config)
        return cls(**config)


# ---------------------------------------------------------------------------
# Accuracy metrics
# ---------------------------------------------------------------------------
class Accuracy(MeanMetricWrapper):
    """How often predictions exactly equal labels."""

    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``(y_pred > threshold)`` matches binary labels.

    Args:
        threshold: Decision threshold applied to ``y_pred`` (default 0.5).
    """

    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is None or not np.isfinite(float(threshold)):
            raise ValueError(
                "Invalid value for argument `threshold`: expected a finite float. "
                f"Received: threshold={threshold}"
            )
        self.threshold = float(threshold)
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=self.threshold)

    def get_config(self):
        return {**Metric.get_config(self), "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches the one-hot label's argmax."""

    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches integer labels (``(n,)`` or ``(n, 1)``)."""

    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top ``k`` predictions."""

    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = int(k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k)

    def get_config(self):
        return {**Metric.get_config(self), "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top ``k`` predictions."""

    _direction = "up"

    def __init__(
        self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False
    ):
        self.k = int(k)
        self.from_sorted_ids = bool(from_sorted_ids)
        super().__init__(
            sparse_top_k_categorical_accuracy,
            name=name,
            dtype=dtype,
            k=self.k,
            from_sorted_ids=self.from_sorted_ids,
        )

    def get_config(self):
        config = {**Metric.get_config(self), "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config


# ---------------------------------------------------------------------------
# Regression metrics
# ---------------------------------------------------------------------------
class MeanSquaredError(MeanMetricWrapper):
    """Mean of squared errors."""

    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of absolute errors."""

    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean absolute percentage error."""

    _direction = "down"

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean squared logarithmic error."""

    _direction = "down"

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """Square root of the (weighted) mean of squared errors."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        # Mean reduces the squared errors per sample before weighting, so the
        # per-sample mean squared error gives the same state.
        super().update_state(mean_squared_error(y_true, y_pred), sample_weight=sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


# ---------------------------------------------------------------------------
# Probabilistic metrics
# ---------------------------------------------------------------------------
class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy."""

    _direction = "down"

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        self.from_logits = bool(from_logits)
        self.label_smoothing = label_smoothing
        super().__init__(
            binary_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=self.from_logits,
            label_smoothing=label_smoothing,
        )

    def get_config(self):
        return {
            **Metric.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical crossentropy (one-hot labels)."""

    _direction = "down"

    def __init__(
        self,
        name="categorical_crossentropy",
        dtype=None,
        from_logits=False,
        label_smoothing=0,
        axis=-1,
    ):
        self.from_logits = bool(from_logits)
        self.label_smoothing = label_smoothing
        self.axis = axis
        super().__init__(
            categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=self.from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )

    def get_config(self):
        return {
            **Metric.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean crossentropy for integer labels."""

    _direction = "down"

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, axis=-1):
        self.from_logits = bool(from_logits)
        self.axis = axis
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=self.from_logits,
            axis=axis,
        )

    def get_config(self):
        return {**Metric.get_config(self), "from_logits": self.from_logits, "axis": self.axis}


# ---------------------------------------------------------------------------
# Confusion-matrix metrics
# ---------------------------------------------------------------------------
def _filter_top_k(x, k):
    """Keep the ``k`` largest entries of each row (earliest index wins ties)."""
    if x.ndim == 0:
        return x
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return np.where(mask, x, _NEG_INF)


def _confusion_inputs(y_true, y_pred, sample_weight, top_k=None, class_id=None, label_weights=None):
    """Prepare ``(predictions, is_positive, weights)`` arrays of equal shape."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true)
    y_pred, y_true = _align_ranks(y_pred, y_true)
    if y_pred.shape != y_true.shape:
        raise ValueError(
            "y_true and y_pred must have the same shape; received "
            f"y_true.shape={y_true.shape} and y_pred.shape={y_pred.shape}."
        )
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float64)
        if weights.ndim > 0:
            weights = weights[..., None]
            _, weights = _align_ranks(y_true, weights, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes); found shape: {y_pred.shape}."
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if weights is None:
        weights = np.ones(y_pred.shape, dtype=np.float64)
    else:
        weights = np.broadcast_to(weights, y_pred.shape)
    if label_weights is not None:
        weights = weights * np.broadcast_to(np.asarray(label_weights, dtype=np.float64), y_pred.shape)
    return y_pred, y_true.astype(bool), weights


def _weighted_counts_above(values, weight_arrays, thresholds):
    """For each threshold ``t`` and weight array ``w``: ``sum(w[values > t])``.

    ``values`` and the weight arrays are 1-D; NaN values are above no
    threshold. Returns one float64 array of ``len(thresholds)`` per weight
    array. Cost: one binary search per value, no sort of the values.
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    order = np.argsort(thresholds, kind="stable")
    sorted_thr = thresholds[order]
    T = sorted_thr.size
    # number of thresholds strictly below each value
    below = np.searchsorted(sorted_thr, values, side="left")
    below[np.isnan(values)] = 0
    results = []
    for weights in weight_arrays:
        hist = np.bincount(below, weights=weights, minlength=T + 1)
        # values above sorted threshold j are those with more than j thresholds below
        at_least = np.cumsum(hist[::-1])[::-1]
        above_sorted = at_least[1 : T + 1]
        above = np.empty(T, dtype=np.float64)
        above[order] = above_sorted
        results.append(above)
    return results


def _parse_thresholds(thresholds):
    if isinstance(thresholds, numbers.Real):
        values = [float(thresholds)]
    else:
        values = [float(t) for t in np.ravel(thresholds)]
    for t in values:
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {values}")
    return values


class _PrecisionRecallBase(Metric):
    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else _NEG_INF
        self.thresholds = [default] if thresholds is None else _parse_thresholds(thresholds)
        self._thresholds_array = np.asarray(self.thresholds, dtype=np.float64)
        self.reset_state()

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives = np.zeros(n, dtype=np.float64)
        self.false_positives = np.zeros(n, dtype=np.float64)
        self.false_negatives = np.zeros(n, dtype=np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred, pos, weights = _confusion_inputs(
            y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id
        )
        pred = pred.ravel()
        pos_w = np.where(pos, weights, 0.0).ravel()
        neg_w = np.where(pos, 0.0, weights).ravel()
        tp, fp = _weighted_counts_above(pred, (pos_w, neg_w), self._thresholds_array)
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += float(np.sum(pos_w)) - tp

    def _finish(self, values):
        if len(self.thresholds) == 1:
            return float(values[0])
        return values

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecallBase):
    """Precision ``tp / (tp + fp)`` of binary (or multi-label) predictions.

    A prediction counts as positive when it is strictly above the threshold
    (0.5 by default). With a list of thresholds, ``result()`` is an array.

    Args:
        thresholds: Float or list of floats in ``[0, 1]``.
        top_k: Only the ``top_k`` highest predictions of a row count as
            positive (others are treated as negative).
        class_id: Only compute the metric for this column.
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        return self._finish(
            _divide_no_nan(self.true_positives, self.true_positives + self.false_positives)
        )


class Recall(_PrecisionRecallBase):
    """Recall ``tp / (tp + fn)``; arguments as :class:`Precision`."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        return self._finish(
            _divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
        )


def _is_evenly_distributed(thresholds):
    thresholds = np.asarray(thresholds, dtype=np.float64)
    n = thresholds.size
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


class AUC(Metric):
    """Approximate area under the ROC or precision-recall curve.

    Predictions are bucketed by ``num_thresholds`` thresholds evenly spaced in
    ``[0, 1]`` (the first is ``-eps`` and the last ``1 + eps`` so that 0 and 1
    fall inside); true/false positive and negative counts are accumulated per
    threshold and the area is summed with the chosen Riemann method.
    ``summation_method="interpolation"`` is the trapezoid rule for ROC and the
    Davis & Goadrich interpolation for PR.

    Args:
        num_thresholds: Number of thresholds (> 1).
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        thresholds: Explicit thresholds in ``[0, 1]`` (overrides
            ``num_thresholds``; ``-eps`` and ``1 + eps`` are added).
        multi_label: Treat each column as a separate label and average the
            per-label AUCs (weighted by ``label_weights`` if given). Otherwise
            all entries are pooled.
        num_labels: Number of labels when ``multi_label`` (inferred otherwise).
        label_weights: Per-column weights.
        from_logits: Apply a sigmoid to ``y_pred`` first.
    """

    _direction = "up"

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name="auc",
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        super().__init__(name=name, dtype=dtype)
        curve_key = str(curve).upper()
        if curve_key not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        self.curve = curve_key
        method = str(summation_method).lower()
        if method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". '
                'Expected values are ["interpolation", "majoring", "minoring"]'
            )
        self.summation_method = method
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in np.ravel(thresholds))
            for t in inner:
                if not 0.0 <= t <= 1.0:
                    raise ValueError(f"Threshold values must be in [0, 1]. Received: {inner}")
            self.num_thresholds = len(inner) + 2
            self._thresholds_distributed_evenly = _is_evenly_distributed([0.0] + inner + [1.0])
        else:
            if not isinstance(num_thresholds, numbers.Integral) or num_thresholds <= 1:
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON], dtype=np.float64)
        self.multi_label = bool(multi_label)
        if label_weights is not None:
            label_weights = np.asarray(label_weights, dtype=np.float64).reshape(-1)
            if np.any(label_weights < 0):
                raise ValueError("All values of `label_weights` must be non-negative.")
        self.label_weights = label_weights
        self.num_labels = num_labels
        self._from_logits = bool(from_logits)
        self.reset_state()

    @property
    def thresholds(self):
        """The thresholds used, including the ``-eps`` / ``1 + eps`` ends."""
        return list(self._thresholds)

    def reset_state(self):
        if self.multi_label and self.num_labels is None:
            shape = None
        elif self.multi_label:
            shape = (self.num_thresholds, int(self.num_labels))
        else:
            shape = (self.num_thresholds,)
        self._allocate(shape)

    def _allocate(self, shape):
        if shape is None:
            self.true_positives = self.false_positives = None
            self.true_negatives = self.false_negatives = None
            return
        self.true_positives = np.zeros(shape, dtype=np.float64)
        self.false_positives = np.zeros(shape, dtype=np.float64)
        self.true_negatives = np.zeros(shape, dtype=np.float64)
        self.false_negatives = np.zeros(shape, dtype=np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float64)
        if self._from_logits:
            y_pred = _sigmoid(y_pred)
        label_weights = None if self.multi_label else self.label_weights
        pred, pos, weights = _confusion_inputs(
            y_true, y_pred, sample_weight, label_weights=label_weights
        )
        if self.multi_label:
            if pred.ndim != 2:
                raise ValueError(
                    "AUC(multi_label=True) expects 2D inputs of shape "
                    f"(num_samples, num_labels); received {pred.shape}."
                )
            num_labels = pred.shape[1]
            if self.true_positives is None:
                self.num_labels = num_labels
                self._allocate((self.num_thresholds, num_labels))
            elif self.true_positives.shape[1] != num_labels:
                raise ValueError(
                    f"Expected {self.true_positives.shape[1]} labels; received {num_labels}."
                )
        else:
            pred = pred.reshape(-1, 1)
            pos = pos.reshape(-1, 1)
            weights = weights.reshape(-1, 1)
            num_labels = 1
        pos_w = np.where(pos, weights, 0.0)
        neg_w = np.where(pos, 0.0, weights)
        T = self.num_thresholds
        if self._thresholds_distributed_evenly:
            # Bucket index b holds predictions in (b/(T-1), (b+1)/(T-1)];
            # predictions of exactly 0 join bucket 0 (above the -eps threshold).
            clipped = np.clip(np.nan_to_num(pred, nan=0.0), 0.0, 1.0)
            buckets = np.maximum(np.ceil(clipped * (T - 1)) - 1.0, 0.0).astype(np.int64)
            flat = (buckets * num_labels + np.arange(num_labels)[None, :]).ravel()
            tp_b = np.bincount(flat, weights=pos_w.ravel(), minlength=T * num_labels)
            fp_b = np.bincount(flat, weights=neg_w.ravel(), minlength=T * num_labels)
            tp_b = tp_b[: T * num_labels].reshape(T, num_labels)
            fp_b = fp_b[: T * num_labels].reshape(T, num_labels)
            tp = np.cumsum(tp_b[::-1], axis=0)[::-1]
            fp = np.cumsum(fp_b[::-1], axis=0)[::-1]
            total_pos = tp[0]
            total_neg = fp[0]
        else:
            tp = np.empty((T, num_labels), dtype=np.float64)
            fp = np.empty((T, num_labels), dtype=np.float64)
            for j in range(num_labels):
                tp[:, j], fp[:, j] = _weighted_counts_above(
                    pred[:, j], (pos_w[:, j], neg_w[:, j]), self._thresholds
                )
            total_pos = pos_w.sum(axis=0)
            total_neg = neg_w.sum(axis=0)
        fn = total_pos[None, :] - tp
        tn = total_neg[None, :] - fp
        if not self.multi_label:
            tp, fp, tn, fn = tp[:, 0], fp[:, 0], tn[:, 0], fn[:, 0]
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _average_labels(self, by_label):
        if not self.multi_label:
            return float(np.sum(by_label))
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(
            _divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))
        )

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, np.maximum(dp, 0.0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        safe_p_ratio = np.where(
            both_positive, _divide_no_nan(p[:-1], np.maximum(p[1:], 0.0)), 1.0
        )
        increment = _divide_no_nan(
            prec_slope * (dtp + intercept * np.log(safe_p_ratio)),
            np.maximum(tp[1:] + fn[1:], 0.0),
        )
        if self.multi_label:
            return self._average_labels(np.sum(increment, axis=0))
        return float(np.sum(increment))

    def result(self):
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x = _divide_no_nan(fp, fp + tn)
            y = recall
        else:
            x = recall
            y = _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        terms = (x[:-1] - x[1:]) * heights
        if self.multi_label:
            return self._average_labels(np.sum(terms, axis=0))
        return float(np.sum(terms))

    def get_config(self):
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class FBetaScore(Metric):
    """F-beta score of multi-class / multi-label predictions.

    Inputs have shape ``(n, num_classes)`` (``(n,)`` is read as one class).
    Without ``threshold``, the highest prediction of each row counts as the
    positive one (all tied maxima do, a row of zeros counts none); with a
    threshold, every entry strictly above it counts as positive.

    Args:
        average: ``None`` (one score per class, as a numpy array),
            ``"micro"`` (pooled counts), ``"macro"`` (mean of class scores) or
            ``"weighted"`` (class scores weighted by label support).
        beta: Weight of recall relative to precision (> 0).
        threshold: Optional float in ``(0, 1]``.
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                "{None, 'micro', 'macro', 'weighted'}. "
                f"Received: average={average}"
            )
        if not isinstance(beta, numbers.Real) or isinstance(beta, bool) or beta <= 0.0:
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float > 0. "
                f"Received: beta={beta}"
            )
        if threshold is not None:
            if not isinstance(threshold, numbers.Real) or not 0.0 < float(threshold) <= 1.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float "
                    f"in the range ]0, 1]. Received: threshold={threshold}"
                )
            threshold = float(threshold)
        self.average = average
        self.beta = float(beta)
        self.threshold = threshold
        self.reset_state()

    def reset_state(self):
        self._num_classes = None
        self.true_positives = None
        self.false_positives = None
        self.false_negatives = None
        self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float64)
        y_true = np.asarray(y_true, dtype=np.float64)
        y_pred, y_true = _align_ranks(y_pred, y_true)
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
            y_true = y_true[:, None]
        if y_pred.ndim != 2 or y_pred.shape != y_true.shape:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape "
                "(batch_size, output_dim). Received input shapes: "
                f"y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}."
            )
        num_classes = y_pred.shape[1]
        if self._num_classes is None:
            self._num_classes = num_classes
            shape = () if self.average == "micro" else (num_classes,)
            self.true_positives = np.zeros(shape, dtype=np.float64)
            self.false_positives = np.zeros(shape, dtype=np.float64)
            self.false_negatives = np.zeros(shape, dtype=np.float64)
            self.intermediate_weights = np.zeros((num_classes,), dtype=np.float64)
        elif num_classes != self._num_classes:
            raise ValueError(
                f"Expected {self._num_classes} classes; received {num_classes}."
            )
        if self.threshold is None:
            row_max = np.max(y_pred, axis=-1, keepdims=True)
            predicted = (y_pred >= row_max) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if w.size == 1 and y_pred.shape[0] != 1:
                w = np.full(y_pred.shape[0], float(w[0]))
        else:
            w = np.ones(y_pred.shape[0], dtype=np.float64)
        # per-class weighted column sums as matrix-vector products
        tp = w @ (predicted * y_true)
        n_pred = w @ predicted
        n_true = w @ y_true
        fp = n_pred - tp
        fn = n_true - tp
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        self.true_positives = self.true_positives + tp
        self.false_positives = self.false_positives + fp
        self.false_negatives = self.false_negatives + fn
        self.intermediate_weights = self.intermediate_weights + n_true

    def result(self):
        if self._num_classes is None:
            return 0.0 if self.average is not None else np.zeros((0,), dtype=np.float64)
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta**2
        score = (1.0 + b2) * (precision * recall) / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + EPSILON)
            return float(np.sum(score * weights))
        if self.average is not None:
            return float(np.mean(score))
        return np.asarray(score, dtype=np.float64)

    def get_config(self):
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 score: :class:`FBetaScore` with ``beta=1``."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


# ---------------------------------------------------------------------------
# Resolution of identifiers
# ---------------------------------------------------------------------------
_METRIC_CLASSES = (
    Mean,
    Sum,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    MeanSquaredError,
    MeanAbsoluteError,
    RootMeanSquaredError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    AUC,
    Precision,
    Recall,
    F1Score,
    FBetaScore,
)

_ALIASES = {
    "mse": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "bce": BinaryCrossentropy,
}


def _build_registry():
    registry = {}
    for cls in _METRIC_CLASSES:
        registry[cls.__name__] = cls
        registry[_snake_case(cls.__name__)] = cls
        default_name = inspect.signature(cls.__init__).parameters["name"].default
        registry[default_name] = cls
    for alias, cls in _ALIASES.items():
        registry[alias] = cls
        registry[alias.upper()] = cls
    return registry


_REGISTRY = _build_registry()


def _valid_names():
    return sorted({k for k in _REGISTRY if k == k.lower()})


def _unknown(identifier, extra=""):
    return ValueError(
        f"Unknown metric: {identifier!r}.{extra} Valid metric names are: "
        + ", ".join(_valid_names())
        + ". Class names (e.g. 'BinaryAccuracy') are accepted too; "
        "'accuracy'/'acc' and 'crossentropy'/'ce' are resolved from the loss "
        "by resolve_accuracy()."
    )


def get(identifier):
    """Return a :class:`Metric` instance for ``identifier``.

    Args:
        identifier: ``None`` (returns ``None``); a metric name or class name
            (``"auc"``, ``"AUC"``, ``"mse"``, ``"binary_accuracy"``...); a
            ``{"class_name": ..., "config": {...}}`` dict; a :class:`Metric`
            subclass (instantiated with defaults); a :class:`Metric` instance
            (returned as is); or a callable ``fn(y_true, y_pred)`` returning
            per-sample values, wrapped in :class:`MeanMetricWrapper` named
            ``fn.__name__``.

    As in Keras, ``get("accuracy")`` is the exact-equality :class:`Accuracy`;
    use :func:`resolve_accuracy` for the loss-dependent meaning used by
    ``compile``.

    Raises:
        ValueError: for an unknown name; the message lists the valid names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        class_name = identifier.get("class_name")
        cls = _REGISTRY.get(class_name) if isinstance(class_name, str) else None
        if cls is None:
            raise _unknown(class_name)
        return cls.from_config(dict(identifier.get("config") or {}))
    if isinstance(identifier, str):
        cls = _REGISTRY.get(identifier)
        if cls is None:
            raise _unknown(identifier)
        return cls()
    if inspect.isclass(identifier):
        if issubclass(identifier, Metric):
            return identifier()
        raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def _loss_kind(loss):
    """Classify a loss identifier: "binary", "sparse", "categorical" or None."""
    if loss is None:
        return None
    if isinstance(loss, str):
        candidates = [loss]
    else:
        candidates = [
            getattr(loss, "__name__", None),
            getattr(getattr(loss, "fn", None), "__name__", None),
            type(loss).__name__,
            getattr(loss, "name", None),
        ]
    for text in candidates:
        if not isinstance(text, str):
            continue
        key = _snake_case(text).replace("_", "").lower()
        if key in ("binarycrossentropy", "bce", "binaryfocalcrossentropy"):
            return "binary"
        if key in ("sparsecategoricalcrossentropy", "scce"):
            return "sparse"
        if key in ("categoricalcrossentropy", "cce", "categoricalfocalcrossentropy"):
            return "categorical"
    return None


def resolve_accuracy(
    identifier, loss_name=None, output_dim=None, *, y_true_shape=None, from_logits=False
):
    """Resolve one entry of ``compile(metrics=...)`` to a :class:`Metric`.

    ``"accuracy"``/``"acc"`` (any case) follow the Keras rule:

    * :class:`BinaryAccuracy` when the loss is binary crossentropy or the
      model has one output (``output_dim == 1``);
    * :class:`SparseCategoricalAccuracy` when the loss is sparse categorical
      crossentropy;
    * :class:`CategoricalAccuracy` otherwise.

    ``"crossentropy"``/``"ce"`` pick :class:`BinaryCrossentropy`,
    :class:`SparseCategoricalCrossentropy` or :class:`CategoricalCrossentropy`
    by the same rule. The resolved metric keeps the user's string as its name
    (so logs show ``"accuracy"`` or ``"acc"``). Any other string resolves via
    :func:`get` and is also named by that string, as Keras 3's ``compile``
    does (``"mae"`` logs as ``"mae"``); other identifiers resolve via
    :func:`get` with their own names.

    Args:
        identifier: Metric identifier (see :func:`get`).
        loss_name: The compiled loss: a name (``"binary_crossentropy"``,
            ``"bce"``, ``"BinaryCrossentropy"``...), a loss object or a loss
            function; ``None`` if unknown.
        output_dim: Width of the model output (last dimension).
        y_true_shape: Optional label shape; when the loss does not decide,
            labels of shape ``(n,)`` or ``(n, 1)`` with ``output_dim > 1`` select
            the sparse variants (Keras 3's shape rule).
        from_logits: The model outputs logits. Binary accuracy then uses the
            threshold 0 and crossentropy metrics apply the matching
            activation. Off by default, as Keras does not adjust metrics.
    """
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc", "crossentropy", "ce"):
        kind = _loss_kind(loss_name)
        if kind == "binary" or output_dim == 1:
            choice = "binary"
        elif kind in ("sparse", "categorical"):
            choice = kind
        elif (
            y_true_shape is not None
            and output_dim is not None
            and output_dim > 1
            and (len(y_true_shape) < 2 or y_true_shape[-1] == 1)
        ):
            choice = "sparse"
        else:
            choice = "categorical"
        name = identifier
        if identifier.lower() in ("accuracy", "acc"):
            if choice == "binary":
                return BinaryAccuracy(name=name, threshold=0.0 if from_logits else 0.5)
            if choice == "sparse":
                return SparseCategoricalAccuracy(name=name)
            return CategoricalAccuracy(name=name)
        if choice == "binary":
            return BinaryCrossentropy(name=name, from_logits=from_logits)
        if choice == "sparse":
            return SparseCategoricalCrossentropy(name=name, from_logits=from_logits)
        return CategoricalCrossentropy(name=name, from_logits=from_logits)
    metric = get(identifier)
    if isinstance(identifier, str) and metric is not None:
        metric.name = identifier
    return metric
