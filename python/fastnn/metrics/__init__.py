"""Stateful metrics with Keras 3 names and semantics, one family per module.

Every metric accumulates its state in float64 and exposes the Keras metric protocol::

    m = BinaryAccuracy()
    m.update_state(y_true, y_pred, sample_weight=None)
    m.result()        # a float with .numpy() (a numpy array with .numpy() for vector results)
    m.reset_state()
    m(y_true, y_pred) # update_state() then result()

All computations are vectorised over the batch: the training loop may call ``update_state`` once
for a chunk of many batches and the result is the same as updating batch by batch. Metrics that are
also losses (cross-entropies, the regression errors, hinge, KL divergence, Poisson, log-cosh,
cosine similarity) take their per-sample values from the native losses of :mod:`fastnn.losses`.

Modules: ``metric`` (the protocol), ``reduction_metrics`` (Mean, Sum, MeanMetricWrapper),
``accuracy_metrics``, ``regression_metrics``, ``probabilistic_metrics``, ``hinge_metrics``,
``confusion_metrics`` (counts, Precision, Recall, AUC), ``f_score_metrics``.

Resolving ``compile(metrics=...)`` entries
------------------------------------------
Use :func:`resolve_accuracy` for every entry of the ``metrics`` list given to ``compile``. It
implements the Keras convenience rule for ``"accuracy"`` / ``"acc"`` and ``"crossentropy"`` /
``"ce"`` (the concrete metric depends on the loss and the output width) and, like Keras 3's
``compile``, gives a metric named by a string the string itself as display name
(``metrics=["mae"]`` logs ``"mae"``). :func:`get` is the plain ``keras.metrics.get`` equivalent.
"""

from __future__ import annotations

import inspect

from .._registry import Registry
from .accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from .confusion_metrics import (
    AUC,
    MAX_AUC_CELLS,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from .f_score_metrics import F1Score, FBetaScore
from .hinge_metrics import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from .metric import Metric, MetricVariable
from .metrics_utils import EPSILON, MAX_THRESHOLDS, _snake_case
from .probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from .reduction_metrics import Mean, MeanMetricWrapper, Sum
from .regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    cosine_similarity,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)

__all__ = [
    "Metric", "MetricVariable", "Mean", "Sum", "MeanMetricWrapper",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "LogCoshError", "CosineSimilarity",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge",
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
    "AUC", "Precision", "Recall", "F1Score", "FBetaScore",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "log_cosh", "cosine_similarity",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "kl_divergence", "poisson", "hinge", "squared_hinge", "categorical_hinge",
    "get", "serialize", "deserialize", "resolve_accuracy", "EPSILON", "MAX_THRESHOLDS", "MAX_AUC_CELLS",
]

_METRIC_CLASSES = (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    RootMeanSquaredError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCoshError,
    CosineSimilarity, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, TruePositives, FalsePositives,
    TrueNegatives, FalseNegatives, AUC, Precision, Recall, F1Score, FBetaScore,
)

_ALIASES = {
    "mse": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "bce": BinaryCrossentropy,
    "kld": KLDivergence,
}

# Every class under its class name, its snake-case name and its default display name.
_REGISTRY = Registry(
    "metric",
    hint=" Unknown metric: check the spelling; class names (e.g. 'BinaryAccuracy') are accepted too, "
    "and 'accuracy'/'acc' and 'crossentropy'/'ce' are resolved from the loss by resolve_accuracy().",
)
for _cls in _METRIC_CLASSES:
    _default_name = inspect.signature(_cls.__init__).parameters["name"].default
    _REGISTRY.register(_cls, _snake_case(_cls.__name__), _default_name)
for _alias, _cls in _ALIASES.items():
    _REGISTRY.register(_cls, _alias)


def get(identifier):
    """Return a :class:`Metric` instance for ``identifier``.

    As in Keras, ``get("accuracy")`` is the exact-equality :class:`Accuracy`; use
    :func:`resolve_accuracy` for the loss-dependent meaning used by ``compile``.

    Parameters
    ----------
    identifier : str, dict, Metric, type or callable or None
        ``None`` (returns ``None``); a metric name or class name, any case (``"auc"``,
        ``"AUC"``, ``"mse"``, ``"binary_accuracy"``...), giving a new instance with defaults;
        a ``{"class_name": ..., "config": {...}}`` dict; a :class:`Metric` subclass
        (instantiated with defaults); a :class:`Metric` instance (returned as is); or a
        callable ``fn(y_true, y_pred)`` returning per-sample values, wrapped in
        :class:`MeanMetricWrapper` named ``fn.__name__``.

    Returns
    -------
    Metric or None
        The metric, ``None`` for ``None``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid names), a class that is not a
        :class:`Metric`, or any other object.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _REGISTRY.lookup(identifier)()
    if inspect.isclass(identifier):
        if issubclass(identifier, Metric):
            return identifier()
        raise ValueError(f"metric: could not interpret the identifier {identifier!r}")
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"metric: could not interpret the identifier {identifier!r}; expected a name, a "
                     "Metric, a config dict or a function")


def serialize(metric) -> dict:
    """Return the ``{"class_name": ..., "config": {...}}`` of a metric.

    Parameters
    ----------
    metric : Metric
        The metric; its state is not saved, only what :meth:`Metric.get_config` returns.

    Returns
    -------
    dict
        The class name and the configuration, the form :func:`deserialize` reads.
    """
    return _REGISTRY.serialize(metric)


def deserialize(config) -> Metric:
    """Build a metric from ``{"class_name": ..., "config": {...}}`` (built-in classes only).

    Parameters
    ----------
    config : dict
        ``class_name`` is the exact class name (``"BinaryAccuracy"``); ``config`` holds the
        constructor arguments (without that key, the other keys are taken as them).

    Returns
    -------
    Metric
        A new metric with empty state.

    Raises
    ------
    TypeError
        When ``config`` (or its ``"config"`` entry) is not a dict.
    ValueError
        For a class name that is not a built-in metric; the message lists the valid ones.
    """
    return _REGISTRY.deserialize(config)


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

    Parameters
    ----------
    identifier : str, dict, Metric, type or callable or None
        Metric identifier (see :func:`get`).
    loss_name : str, Loss or callable, optional
        The compiled loss: a name (``"binary_crossentropy"``, ``"bce"``,
        ``"BinaryCrossentropy"``...), a loss object or a loss function;
        ``None`` (default) if unknown.
    output_dim : int, optional
        Width of the model output (last dimension); ``None`` if unknown.
    y_true_shape : tuple of int, optional
        Label shape; when the loss does not decide, labels of shape ``(n,)``
        or ``(n, 1)`` with ``output_dim > 1`` select the sparse variants
        (Keras 3's shape rule). ``None`` by default.
    from_logits : bool, optional
        The model outputs logits (default False). Binary accuracy then uses
        the threshold 0 and crossentropy metrics apply the matching
        activation. Off by default, as Keras does not adjust metrics.

    Returns
    -------
    Metric or None
        The resolved metric (``None`` for ``None``).

    Raises
    ------
    ValueError
        For an identifier :func:`get` refuses, or a metric whose result is
        not one number (several thresholds, per-class scores): training logs
        hold one number per metric.
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
    reason = metric._vector_result_reason() if isinstance(metric, Metric) else None
    if reason is not None:
        raise ValueError(f"metrics: {metric.name!r} cannot be logged: {reason} (training logs hold one "
                         "number per metric)")
    return metric

