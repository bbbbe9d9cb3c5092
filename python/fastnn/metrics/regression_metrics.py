"""Regression metrics: mean squared / absolute / percentage / squared-logarithmic error, their root,
log-cosh error and cosine similarity.

The per-sample values are the native losses of :mod:`fastnn.losses` (the same formulas that
training uses), evaluated in float64.
"""

from __future__ import annotations

import numpy as np

from .. import losses as _losses
from .metric import Metric
from .metrics_utils import last_axis, loss_values
from .reduction_metrics import Mean, MeanMetricWrapper


def mean_squared_error(y_true, y_pred):
    """Per-sample mean of squared errors over the last axis.

    Parameters
    ----------
    y_true : array-like
        Targets, first axis over samples.
    y_pred : array-like
        Predictions of the same shape (a trailing axis of size 1 may differ).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the mean over the last axis).
    """
    return loss_values(_losses.MeanSquaredError(), y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean of absolute errors over the last axis.

    Parameters
    ----------
    y_true : array-like
        Targets, first axis over samples.
    y_pred : array-like
        Predictions of the same shape (a trailing axis of size 1 may differ).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the mean over the last axis).
    """
    return loss_values(_losses.MeanAbsoluteError(), y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, eps))``, with eps = 1e-7.

    Parameters
    ----------
    y_true : array-like
        Targets, first axis over samples.
    y_pred : array-like
        Predictions of the same shape (a trailing axis of size 1 may differ).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the mean over the last axis).
    """
    return loss_values(_losses.MeanAbsolutePercentageError(), y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample mean of ``(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2``.

    Parameters
    ----------
    y_true : array-like
        Targets, first axis over samples.
    y_pred : array-like
        Predictions of the same shape (a trailing axis of size 1 may differ).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the mean over the last axis).
    """
    return loss_values(_losses.MeanSquaredLogarithmicError(), y_true, y_pred)


def log_cosh(y_true, y_pred):
    """Per-sample mean of ``log(cosh(y_pred - y_true))`` over the last axis.

    Parameters
    ----------
    y_true : array-like
        Targets, first axis over samples.
    y_pred : array-like
        Predictions of the same shape (a trailing axis of size 1 may differ).

    Returns
    -------
    numpy.ndarray
        float64, one value per sample (the mean over the last axis).
    """
    return loss_values(_losses.LogCosh(), y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample cosine of the angle between ``y_true`` and ``y_pred`` along ``axis``.

    It is 1 when they point the same way, the negative of the cosine-similarity loss (which
    training minimises).

    Parameters
    ----------
    y_true : array-like
        Target vectors.
    y_pred : array-like
        Predicted vectors of the same shape.
    axis : int, optional
        The axis holding the vectors (default -1); an int out of range raises a ValueError.

    Returns
    -------
    numpy.ndarray
        float64, one value in ``[-1, 1]`` per vector.
    """
    y_true, y_pred = last_axis(y_true, y_pred, axis)
    return -loss_values(_losses.CosineSimilarity(), y_true, y_pred)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of squared errors.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"mean_squared_error"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of absolute errors.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"mean_absolute_error"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean absolute percentage error (in percent).

    Parameters
    ----------
    name : str, optional
        Display name (default ``"mean_absolute_percentage_error"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean squared logarithmic error.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"mean_squared_logarithmic_error"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """Square root of the (weighted) mean of squared errors.

    The root is taken of the mean over all samples seen, not averaged per batch.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"root_mean_squared_error"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch's per-sample squared errors to the running mean.

        Parameters
        ----------
        y_true : array-like
            Targets, first axis over samples.
        y_pred : array-like
            Predictions of the same shape.
        sample_weight : number or array-like, optional
            Weight per sample; ``None`` (default) weighs each sample 1.
        """
        # Mean reduces the squared errors per sample before weighting, so the
        # per-sample mean squared error gives the same state.
        super().update_state(mean_squared_error(y_true, y_pred), sample_weight=sample_weight)

    def result(self):
        """Return the square root of the weighted mean squared error so far.

        Returns
        -------
        float
            The root mean squared error (0.0 before any update).
        """
        return float(np.sqrt(super().result()))


class LogCoshError(MeanMetricWrapper):
    """Mean of ``log(cosh(y_pred - y_true))``.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"logcosh"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "down"

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along ``axis``.

    Parameters
    ----------
    name : str, optional
        Display name (default ``"cosine_similarity"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    axis : int, optional
        The axis holding the vectors (default -1), checked on each update.
    """

    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        self.axis = axis
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        """Return ``name``, ``dtype`` and ``axis``.

        Returns
        -------
        dict
            The constructor arguments.
        """
        return {**Metric.get_config(self), "axis": self.axis}
