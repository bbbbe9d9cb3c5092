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
    """Per-sample binary crossentropy averaged over ``axis``.

    Parameters
    ----------
    y_true : array-like
        Targets in ``[0, 1]``.
    y_pred : array-like
        Probabilities of the same shape (clipped to ``[1e-7, 1 - 1e-7]``), or logits with
        ``from_logits``.
    from_logits : bool, optional
        ``y_pred`` holds logits (default False); the stable log-sigmoid form is used.
    label_smoothing : float, optional
        In ``[0, 1]`` (default 0): targets become ``y * (1 - s) + s / 2``.
    axis : int, optional
        The class axis (default -1, the last); it is moved last before the loss is evaluated.
        An int out of range raises a ValueError.

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the mean over ``axis``).
    """
    y_true, y_pred = last_axis(y_true, y_pred, axis)
    loss = _losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    return loss_values(loss, y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical crossentropy for one-hot (or soft) labels along ``axis``.

    Parameters
    ----------
    y_true : array-like
        One-hot or soft labels.
    y_pred : array-like
        Probabilities of the same shape (renormalised to sum to 1 and clipped, as Keras does),
        or logits with ``from_logits`` (stable log-softmax).
    from_logits : bool, optional
        ``y_pred`` holds logits (default False).
    label_smoothing : float, optional
        In ``[0, 1]`` (default 0): labels become ``y * (1 - s) + s / num_classes``.
    axis : int, optional
        The class axis (default -1, the last); it is moved last before the loss is evaluated.
        An int out of range raises a ValueError.

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the sum over the class axis).
    """
    y_true, y_pred = last_axis(y_true, y_pred, axis)
    loss = _losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    return loss_values(loss, y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Per-sample crossentropy for integer labels of shape ``(n,)`` or ``(n, 1)``.

    Parameters
    ----------
    y_true : array-like
        Integer class ids of shape ``(n,)`` or ``(n, 1)``.
    y_pred : array-like
        Probabilities of shape ``(n, num_classes)``, or logits with ``from_logits``.
    from_logits : bool, optional
        ``y_pred`` holds logits (default False).
    axis : int, optional
        Only the last axis (-1, the default, ``None`` or ``ndim - 1``) is supported; any other
        raises a ValueError.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(n,)``.

    Raises
    ------
    ValueError
        When the labels' shape does not match ``y_pred``'s leading shape.
    """
    y_pred = np.asarray(y_pred)
    if axis not in (-1, None) and axis != y_pred.ndim - 1:
        raise ValueError(
            "sparse_categorical_crossentropy only supports the class axis last "
            f"(axis=-1). Received: axis={axis}"
        )
    return loss_values(_losses.SparseCategoricalCrossentropy(from_logits=from_logits), y_true, y_pred)


def kl_divergence(y_true, y_pred):
    """Per-sample ``sum(y_true * log(y_true / y_pred))``, both clipped to ``[1e-7, 1]``.

    Parameters
    ----------
    y_true : array-like
        Target distributions, classes on the last axis.
    y_pred : array-like
        Predicted distributions of the same shape.

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the sum over the last axis).
    """
    return loss_values(_losses.KLDivergence(), y_true, y_pred)


def poisson(y_true, y_pred):
    """Per-sample mean of ``y_pred - y_true * log(y_pred + 1e-7)``.

    Parameters
    ----------
    y_true : array-like
        Observed counts (non-negative).
    y_pred : array-like
        Predicted rates of the same shape (positive, e.g. after an exponential activation).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the mean over the last axis).
    """
    return loss_values(_losses.Poisson(), y_true, y_pred)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"binary_crossentropy"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    from_logits : bool, optional
        Predictions are logits (default False).
    label_smoothing : float, optional
        In ``[0, 1]`` (default 0); other values raise a ValueError.
    """

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
        """Return ``name``, ``dtype``, ``from_logits`` and ``label_smoothing``.

        Returns
        -------
        dict
            The constructor arguments.
        """
        return {
            **Metric.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical crossentropy (one-hot labels).

    Parameters
    ----------
    name : str, optional
        Display name (default ``"categorical_crossentropy"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    from_logits : bool, optional
        Predictions are logits (default False).
    label_smoothing : float, optional
        In ``[0, 1]`` (default 0); other values raise a ValueError.
    axis : int, optional
        The class axis (default -1), checked on each update.
    """

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
        """Return ``name``, ``dtype``, ``from_logits``, ``label_smoothing`` and ``axis``.

        Returns
        -------
        dict
            The constructor arguments.
        """
        return {
            **Metric.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean crossentropy for integer labels.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"sparse_categorical_crossentropy"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    from_logits : bool, optional
        Predictions are logits (default False).
    axis : int, optional
        The class axis; only the last (-1, the default) is supported, checked on each update.
    """

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
        """Return ``name``, ``dtype``, ``from_logits`` and ``axis``.

        Returns
        -------
        dict
            The constructor arguments.
        """
        return {**Metric.get_config(self), "from_logits": self.from_logits, "axis": self.axis}


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence between labels and predictions.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"kl_divergence"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson deviance term ``y_pred - y_true * log(y_pred)``.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"poisson"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)
