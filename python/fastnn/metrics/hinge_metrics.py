"""Hinge metrics: hinge, squared hinge and categorical hinge, from the native losses.

As in Keras, labels that are all 0 or 1 are read as -1 / 1 by the (squared) hinge.
"""

from __future__ import annotations

from .. import losses as _losses
from .metrics_utils import loss_values
from .reduction_metrics import MeanMetricWrapper


def hinge(y_true, y_pred):
    """Per-sample mean of ``max(1 - y_true * y_pred, 0)``.

    Parameters
    ----------
    y_true : array-like
        Labels in {-1, 1}, or in {0, 1} (then read as -1 / 1).
    y_pred : array-like
        Scores of the same shape (a trailing axis of size 1 may differ).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the mean over the last axis).
    """
    return loss_values(_losses.Hinge(), y_true, y_pred)


def squared_hinge(y_true, y_pred):
    """Per-sample mean of ``max(1 - y_true * y_pred, 0) ** 2``.

    Parameters
    ----------
    y_true : array-like
        Labels in {-1, 1}, or in {0, 1} (then read as -1 / 1).
    y_pred : array-like
        Scores of the same shape (a trailing axis of size 1 may differ).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the mean over the last axis).
    """
    return loss_values(_losses.SquaredHinge(), y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    """Per-sample ``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``.

    Parameters
    ----------
    y_true : array-like
        One-hot labels, classes on the last axis.
    y_pred : array-like
        Scores of the same shape.

    Returns
    -------
    numpy.ndarray
        float64, one value per sample.
    """
    return loss_values(_losses.CategoricalHinge(), y_true, y_pred)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss (labels in {-1, 1} or {0, 1}).

    Parameters
    ----------
    name : str, optional
        Display name (default ``"hinge"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss (labels in {-1, 1} or {0, 1}).

    Parameters
    ----------
    name : str, optional
        Display name (default ``"squared_hinge"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss (one-hot labels).

    Parameters
    ----------
    name : str, optional
        Display name (default ``"categorical_hinge"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)
