"""Probabilistic metrics: the cross-entropies, KL divergence and Poisson.

The per-sample values are the native losses of :mod:`fastnn.losses` (the same formulas that
training uses, probabilities clipped to ``[1e-7, 1 - 1e-7]`` and categorical probabilities
renormalised as Keras does; logits through the stable forms), evaluated in float64.
"""

from __future__ import annotations

import numpy as np

from .. import losses as _losses
from .._validation import probability
from .metric import Metric
from .metrics_utils import last_axis, loss_values
from .reduction_metrics import MeanMetricWrapper


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary crossentropy averaged over ``axis``."""
    y_true, y_pred = last_axis(y_true, y_pred, axis)
    loss = _losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    return loss_values(loss, y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical crossentropy for one-hot (or soft) labels along ``axis``."""
    y_true, y_pred = last_axis(y_true, y_pred, axis)
    loss = _losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    return loss_values(loss, y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Per-sample crossentropy for integer labels of shape ``(n,)`` or ``(n, 1)``."""
    y_pred = np.asarray(y_pred)
    if axis not in (-1, None) and axis != y_pred.ndim - 1:
        raise ValueError(
            "sparse_categorical_crossentropy only supports the class axis last "
            f"(axis=-1). Received: axis={axis}"
        )
    return loss_values(_losses.SparseCategoricalCrossentropy(from_logits=from_logits), y_true, y_pred)


def kl_divergence(y_true, y_pred):
    """Per-sample ``sum(y_true * log(y_true / y_pred))``, both clipped to ``[1e-7, 1]``."""
    return loss_values(_losses.KLDivergence(), y_true, y_pred)


def poisson(y_true, y_pred):
    """Per-sample mean of ``y_pred - y_true * log(y_pred + 1e-7)``."""
    return loss_values(_losses.Poisson(), y_true, y_pred)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy."""

    _direction = "down"

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        self.from_logits = bool(from_logits)
        self.label_smoothing = label_smoothing
        probability("label_smoothing", label_smoothing, closed_right=True)
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
        probability("label_smoothing", label_smoothing, closed_right=True)
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


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence between labels and predictions."""

    _direction = "down"

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson deviance term ``y_pred - y_true * log(y_pred)``."""

    _direction = "down"

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)
