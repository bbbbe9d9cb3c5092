"""Accuracy metrics: exact, binary, categorical, sparse categorical and top-k accuracy."""

from __future__ import annotations

import numpy as np

from .._validation import finite_float, positive_int
from .metric import Metric
from .metrics_utils import _align_ranks, _in_top_k, _mean_trailing, _sparse_labels
from .reduction_metrics import MeanMetricWrapper


def accuracy(y_true, y_pred):
    """Per-sample fraction of exactly equal entries.

    Parameters
    ----------
    y_true : array-like
        Labels, first axis over samples.
    y_pred : array-like
        Predictions of the same shape; when one has an extra trailing axis of size 1 the ranks
        are aligned first (``(n,)`` against ``(n, 1)`` compares entry by entry).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample: the mean of ``y_true == y_pred`` over the other axes.
        Predictions are compared as they are, so probabilities almost never equal labels; use
        :func:`binary_accuracy` or :func:`categorical_accuracy` for model outputs.
    """
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    y_true, y_pred = _align_ranks(y_true, y_pred)
    return _mean_trailing((y_true == y_pred).astype(np.float64))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per-sample fraction of entries where ``(y_pred > threshold) == y_true``.

    Parameters
    ----------
    y_true : array-like
        Binary labels (0 or 1), first axis over samples.
    y_pred : array-like
        Scores of the same shape (ranks differing by a trailing axis of size 1 are aligned).
    threshold : float, optional
        A prediction strictly above it counts as 1 (default 0.5; use 0.0 for logits).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample: the fraction of its entries predicted right.
    """
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    y_true, y_pred = _align_ranks(y_true, y_pred)
    predicted = (y_pred > threshold).astype(np.float64)
    return _mean_trailing((y_true.astype(np.float64) == predicted).astype(np.float64))


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot labels).

    Parameters
    ----------
    y_true : array-like
        One-hot (or soft) labels, classes on the last axis.
    y_pred : array-like
        Scores of the same shape; ties resolve to the first maximum, as ``numpy.argmax``.

    Returns
    -------
    numpy.ndarray
        float64 array of the leading shape (one value per sample for 2-D input), 1.0 or 0.0.
    """
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals ``argmax(y_pred)``.

    Parameters
    ----------
    y_true : array-like
        Integer class ids of shape ``(n,)`` or ``(n, 1)`` (floats holding whole numbers work
        too).
    y_pred : array-like
        Scores of shape ``(n, num_classes)``.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(n,)``, 1.0 where the label is the top-scoring class.
    """
    y_pred = np.asarray(y_pred)
    labels = _sparse_labels(y_true, y_pred).astype(np.float64)
    predicted = np.argmax(y_pred, axis=-1).astype(np.float64)
    return (labels == predicted).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target class is among the ``k`` top predictions.

    Parameters
    ----------
    y_true : array-like
        One-hot labels of shape ``(n, num_classes)``; the target is their argmax.
    y_pred : array-like
        Scores of the same shape.
    k : int, optional
        How many of the highest scores count (default 5); scores tied with the ``k``-th all
        count as inside, as in Keras. ``k >= num_classes`` makes every finite score a hit.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(n,)``, 1.0 for a hit; a NaN target score is never a hit.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    targets = np.argmax(y_true, axis=-1).reshape(-1)
    hits = _in_top_k(targets, y_pred, k)
    return hits.astype(np.float64).reshape(np.argmax(y_true, axis=-1).shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the ``k`` top predictions.

    Parameters
    ----------
    y_true : array-like
        Integer class ids of shape ``(n,)`` or ``(n, 1)``. A label outside
        ``[0, num_classes)`` or not a whole number is never a hit.
    y_pred : array-like
        Scores of shape ``(n, num_classes)``, or with ``from_sorted_ids`` class ids of shape
        ``(n, m)`` sorted best first.
    k : int, optional
        How many top predictions count (default 5); ties with the ``k``-th score count as
        inside.
    from_sorted_ids : bool, optional
        ``y_pred`` holds sorted class ids instead of scores (default False); a hit is then a
        label among the first ``k`` ids.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(n,)``, 1.0 for a hit.

    Raises
    ------
    ValueError
        When the number of labels differs from the number of prediction rows.
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
    """How often predictions exactly equal labels.

    ``compile(metrics=["accuracy"])`` does not give this class: it picks binary, categorical
    or sparse categorical accuracy from the loss (see :func:`fastnn.metrics.resolve_accuracy`).

    Parameters
    ----------
    name : str, optional
        Display name (default ``"accuracy"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``(y_pred > threshold)`` matches binary labels.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"binary_accuracy"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    threshold : float, optional
        Decision threshold applied to ``y_pred`` (default 0.5; 0.0 suits logits); a
        non-finite or non-numeric value raises a ValueError.
    """

    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        self.threshold = finite_float("threshold", threshold)
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=self.threshold)

    def get_config(self):
        """Return ``name``, ``dtype`` and ``threshold``.

        Returns
        -------
        dict
            The constructor arguments.
        """
        return {**Metric.get_config(self), "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches the one-hot label's argmax.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"categorical_accuracy"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches integer labels (``(n,)`` or ``(n, 1)``).

    Parameters
    ----------
    name : str, optional
        Display name (default ``"sparse_categorical_accuracy"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top ``k`` predictions.

    Parameters
    ----------
    k : int, optional
        How many top predictions count (default 5); a value below 1 raises a ValueError.
    name : str, optional
        Display name (default ``"top_k_categorical_accuracy"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = positive_int("k", k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k)

    def get_config(self):
        """Return ``name``, ``dtype`` and ``k``.

        Returns
        -------
        dict
            The constructor arguments.
        """
        return {**Metric.get_config(self), "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top ``k`` predictions.

    Parameters
    ----------
    k : int, optional
        How many top predictions count (default 5); a value below 1 raises a ValueError.
    name : str, optional
        Display name (default ``"sparse_top_k_categorical_accuracy"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    from_sorted_ids : bool, optional
        Predictions are class ids sorted best first rather than scores (default False).
    """

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
        """Return ``name``, ``dtype``, ``k`` and, when set, ``from_sorted_ids``.

        Returns
        -------
        dict
            The constructor arguments (``from_sorted_ids`` only when True, as Keras writes it).
        """
        config = {**Metric.get_config(self), "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config


