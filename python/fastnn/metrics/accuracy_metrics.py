"""Accuracy metrics: exact, binary, categorical, sparse categorical and top-k accuracy."""

from __future__ import annotations

import numpy as np

from .._validation import finite_float, positive_int
from .metric import Metric
from .metrics_utils import _align_ranks, _in_top_k, _mean_trailing, _sparse_labels
from .reduction_metrics import MeanMetricWrapper


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
        self.threshold = finite_float("threshold", threshold)
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
        self.k = positive_int("k", k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k)

    def get_config(self):
        return {**Metric.get_config(self), "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top ``k`` predictions."""

    _direction = "up"

    def __init__(
        self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False
    ):
        self.k = positive_int("k", k)
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


