"""The one monitor of EarlyStopping, ModelCheckpoint and ReduceLROnPlateau: which logged value is
watched, in which direction it improves (``mode`` auto / min / max), by how much (``min_delta``),
the value to beat (``baseline``), the best value so far, and the warning when the value is missing.
"""

from __future__ import annotations

import collections.abc
import math
import warnings

import numpy as np

from .._validation import finite_float
from .callback import Callback, _public_items

_UP_HINTS = ("acc", "auc", "precision", "recall", "f1", "fbeta", "f_beta")
_DOWN_HINTS = ("loss", "error", "crossentropy", "mse", "mae", "mape", "msle", "rmse")


def _iter_model_metrics(model):
    """Metric objects of the model (``model.metrics`` or ``model.metrics_objects``)."""
    for attr in ("metrics", "metrics_objects"):
        try:
            metrics = getattr(model, attr, None)
        except Exception:  # a property that fails before compile
            continue
        if metrics is None:
            continue
        if isinstance(metrics, dict):
            metrics = list(metrics.values())
        if not isinstance(metrics, collections.abc.Iterable) or isinstance(metrics, (str, bytes)):
            continue
        for m in metrics:
            yield m
            inner = getattr(m, "metrics", None)
            if isinstance(inner, (list, tuple)):
                yield from inner


def _infer_direction(monitor, model):
    """``"up"``/``"down"`` for a monitored log name, or ``None`` if unknown.

    Order: ``loss`` minimises; then the ``_direction`` of the model's metric
    with that name; then the known metric names of :mod:`fastnn.metrics`;
    then name hints (``acc``, ``auc``, ``precision``... maximise; ``loss``,
    ``error``, ``crossentropy``... minimise).
    """
    name = monitor[len("val_"):] if monitor.startswith("val_") else monitor
    if name == "loss":
        return "down"
    for m in _iter_model_metrics(model):
        if getattr(m, "name", None) == name:
            direction = getattr(m, "_direction", None)
            if direction in ("up", "down"):
                return direction
    from .. import metrics as metrics_module

    cls = metrics_module._REGISTRY.get(name)
    if cls is not None and getattr(cls, "_direction", None) in ("up", "down"):
        return cls._direction
    lowered = name.lower()
    if any(h in lowered for h in _UP_HINTS):
        return "up"
    if any(h in lowered for h in _DOWN_HINTS):
        return "down"
    return None


class MonitorCallback(Callback):
    """Base of the callbacks that watch ``logs[monitor]`` at the end of each epoch.

    A value improves on a reference when it is lower by more than ``min_delta`` (``"min"`` mode)
    or higher by more than ``min_delta`` (``"max"`` mode); ``"auto"`` infers the direction from
    the metric on first use. The sign of ``min_delta`` is ignored.

    Parameters
    ----------
    monitor : str, default "val_loss"
        Name of the logged value to watch; a non-string raises TypeError.
    mode : {"auto", "min", "max"}, default "auto"
        Whether the value improves downwards or upwards. ``"auto"`` decides at the first epoch
        end: ``loss`` and losses minimise, accuracies, AUC, precision, recall... maximise (from the
        model's metric objects, then fastnn's metric names, then the name); a name it cannot place
        raises ValueError asking for ``"min"`` or ``"max"``. Any other string warns and falls back
        to ``"auto"``, as in Keras.
    min_delta : float, default 0.0
        Minimum absolute change that counts as an improvement; a finite number (its sign is
        ignored), else ValueError.
    baseline : float, optional
        A value to beat, for subclasses that use one (EarlyStopping); a finite number or None,
        else ValueError.

    Attributes
    ----------
    monitor_op : numpy ufunc or None
        ``np.less`` or ``np.greater`` once the direction is known, else None.
    best : float or None
        The best value so far (``inf`` / ``-inf`` before any, or ModelCheckpoint's
        `initial_value_threshold`).
    """

    #: How the warning for a missing monitored value names what cannot be done.
    _monitor_purpose = "Monitoring"

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0, baseline=None):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=3,
            )
            mode = "auto"
        if not isinstance(monitor, str):
            raise TypeError(f"monitor: expected the name of a logged value (a str), got {monitor!r}")
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(finite_float("min_delta", min_delta))
        self.baseline = finite_float("baseline", baseline, allow_none=True)
        self.monitor_op = None
        self.best = None

    def _resolve_direction(self):
        if self.mode == "min":
            return "down"
        if self.mode == "max":
            return "up"
        direction = _infer_direction(self.monitor, self.model)
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor}, but "
                "fastnn isn't able to automatically determine whether that metric "
                "should be maximized or minimized. Pass `mode='max'` in order to "
                "monitor based on the highest metric value, or pass `mode='min'` in "
                "order to use the lowest value."
            )
        return direction

    def _set_monitor_op(self):
        """Fixes the direction (and the sign of min_delta) and, when there is none, the best value."""
        down = self._resolve_direction() == "down"
        self.monitor_op = np.less if down else np.greater
        self.min_delta = -abs(self.min_delta) if down else abs(self.min_delta)
        if self.best is None:
            self.best = self._worst()

    def _worst(self):
        return math.inf if self.monitor_op is np.less else -math.inf

    def _reset_best(self):
        """Forgets the best value (a new training run)."""
        if self.monitor_op is not None:
            self.best = self._worst()

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))

    def get_monitor_value(self, logs):
        """``logs[monitor]``, or None with a warning naming the values that are there.

        Parameters
        ----------
        logs : dict or None
            The epoch's logs (None is read as empty).

        Returns
        -------
        object or None
            The monitored value as logged (a float, or an array for array-valued metrics), or None
            when it is missing (a UserWarning then lists the names that are logged).
        """
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{self._monitor_purpose} is conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(k for k, _ in _public_items(logs))}",
                stacklevel=3,
            )
        return value
