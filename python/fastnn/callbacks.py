"""Training callbacks with Keras 3 hook names and semantics.

A callback subclasses :class:`Callback` and overrides any of the hooks::

    on_train_begin(logs)            on_train_end(logs)
    on_epoch_begin(epoch, logs)     on_epoch_end(epoch, logs)
    on_train_batch_begin(batch, logs) / on_train_batch_end(batch, logs)
    on_test_begin(logs) / on_test_end(logs)
    on_test_batch_begin(batch, logs) / on_test_batch_end(batch, logs)
    on_predict_begin(logs) / on_predict_end(logs)
    on_predict_batch_begin(batch, logs) / on_predict_batch_end(batch, logs)

``on_batch_begin`` / ``on_batch_end`` are aliases of the train batch hooks, as
in Keras.

Batch hooks and chunks
----------------------
fastnn's native loop runs many batches per call (a *chunk*). It only returns
to Python after every batch when some callback needs it:
:meth:`CallbackList.wants_batch_hooks` is true when a callback overrides a
batch hook of that kind (``on_train_batch_begin/end`` or ``on_batch_begin/end``
for ``"train"``, the ``on_test_*``/``on_predict_*`` variants for ``"test"`` and
``"predict"``). Otherwise whole chunks run natively and, after each chunk, the
loop calls the chunk hooks::

    on_train_chunk_end(step, logs)     # step: batches done so far this epoch
    on_test_chunk_end(step, logs)
    on_predict_chunk_end(step, logs)

``logs`` holds the running epoch values (``"loss"`` and metrics). The
built-in callbacks that can work at chunk granularity (``ProgbarLogger``,
``TerminateOnNaN``, ``ModelCheckpoint`` with an integer ``save_freq``) do so
and do not make the loop return per batch. They also tolerate the loop
calling both the batch hooks and the chunk hook for the same steps.

The chunk ``logs`` may carry the key :data:`NONFINITE_BATCH_KEY`
(``"_nonfinite_batch"``): the 0-based index, within the epoch, of the first
batch whose loss was NaN or infinite. Keys starting with ``"_"`` are private
and are never displayed, logged or recorded.

Model interface used here: ``model.stop_training`` (bool),
``model.get_weights()`` / ``model.set_weights(list)``, ``model.save(path)``,
``model.save_weights(path)``, ``model.optimizer.learning_rate`` (float
property), and optionally ``model.metrics`` or ``model.metrics_objects``
(metric objects with ``name`` and ``_direction``) and ``model.metrics_names``.
"""

from __future__ import annotations

import collections
import collections.abc
import csv
import inspect
import math
import numbers
import os
import sys
import warnings

import numpy as np

from ._progress import Progbar

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "ProgbarLogger",
    "EarlyStopping",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "LearningRateScheduler",
    "TerminateOnNaN",
    "CSVLogger",
    "LambdaCallback",
    "NONFINITE_BATCH_KEY",
]

#: Chunk-log key holding the index of the first batch with a non-finite loss.
NONFINITE_BATCH_KEY = "_nonfinite_batch"

_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}

_HOOK_NAMES = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_train_chunk_end",
    "on_test_chunk_end",
    "on_predict_chunk_end",
)


def _print_msg(message):
    sys.stdout.write(message + "\n")
    try:
        sys.stdout.flush()
    except (AttributeError, ValueError, OSError):
        pass


def _public_items(logs):
    return [(k, v) for k, v in (logs or {}).items() if not str(k).startswith("_")]


def _is_nonfinite(value):
    if value is None or isinstance(value, (str, bytes)):
        return False
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return bool(np.any(~np.isfinite(arr)))


class Callback:
    """Base class of callbacks; every hook is a no-op.

    Attributes:
        params: Dict of training parameters (``verbose``, ``epochs``,
            ``steps``...), set by :meth:`set_params`.
        model: The model being trained, set by :meth:`set_model`.
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    @model.setter
    def model(self, model):
        self._model = model

    # -- batch hooks ----------------------------------------------------------
    def on_batch_begin(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_begin` kept for compatibility."""

    def on_batch_end(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_end` kept for compatibility."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before training batch ``batch`` (0-based within the epoch)."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after training batch ``batch``; ``logs`` has running values."""
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before evaluation batch ``batch``."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after evaluation batch ``batch``."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before prediction batch ``batch``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after prediction batch ``batch``."""

    # -- chunk hooks (fastnn) -----------------------------------------------
    def on_train_chunk_end(self, step, logs=None):
        """Called after a chunk of training batches run natively.

        ``step`` is the number of batches done so far in the epoch.
        """

    def on_test_chunk_end(self, step, logs=None):
        """Called after a chunk of evaluation batches."""

    def on_predict_chunk_end(self, step, logs=None):
        """Called after a chunk of prediction batches."""

    # -- epoch / phase hooks --------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch; ``logs`` include ``val_`` values."""

    def on_train_begin(self, logs=None):
        """Called at the beginning of training."""

    def on_train_end(self, logs=None):
        """Called at the end of training."""

    def on_test_begin(self, logs=None):
        """Called at the beginning of evaluation or validation."""

    def on_test_end(self, logs=None):
        """Called at the end of evaluation or validation."""

    def on_predict_begin(self, logs=None):
        """Called at the beginning of prediction."""

    def on_predict_end(self, logs=None):
        """Called at the end of prediction."""

    # -- introspection ----------------------------------------------------------
    def _implements_batch_hooks(self, kind):
        """Whether this callback needs per-batch calls for ``kind``.

        True when a batch hook of that kind is overridden (in a subclass or on
        the instance). A class that defines batch hooks only as an optional
        refinement of its chunk-level behaviour sets ``_optional_batch_hooks =
        True`` in its own body; its definitions then do not count (those of
        its subclasses still do).
        """
        if kind not in _BATCH_HOOKS:
            raise ValueError(f"kind must be 'train', 'test' or 'predict'; received {kind!r}.")
        cls = type(self)
        for name in _BATCH_HOOKS[kind]:
            if name in self.__dict__:
                return True
            if getattr(cls, name) is getattr(Callback, name):
                continue
            owner = next(k for k in cls.__mro__ if name in k.__dict__)
            if owner.__dict__.get("_optional_batch_hooks", False):
                continue
            return True
        return False


def _flatten_callbacks(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    flat = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            flat.extend(_flatten_callbacks(cb))
        elif cb is not None:
            flat.append(cb)
    return flat


class CallbackList(Callback):
    """Calls a list of callbacks together.

    Args:
        callbacks: Callback instances (a list, possibly nested, or one).
        add_history: Append a :class:`History` unless one is in the list.
        add_progbar: Append a :class:`ProgbarLogger` unless one is in the list.
        model: Model passed to every callback's ``set_model``.
        **params: Training parameters given to every ``set_params``
            (``verbose``, ``epochs``, ``steps``).

    The same ``logs`` dict is passed to each callback in order, so values a
    callback adds (e.g. ``"learning_rate"``) are seen by the ones after it;
    the added History and ProgbarLogger come last.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = _flatten_callbacks(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not all(
                hasattr(cb, name) for name in ("set_model", "set_params")
            ):
                raise TypeError(f"Expected Callback instances; received {cb!r}.")
        self._history = None
        self._progbar = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    @property
    def history(self):
        """The :class:`History` callback of the list, if any."""
        return self._history

    @property
    def progbar(self):
        """The :class:`ProgbarLogger` of the list, if any."""
        return self._progbar

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def append(self, callback):
        self.callbacks.append(callback)
        if self.params:
            callback.set_params(self.params)
        if self._model is not None:
            callback.set_model(self._model)

    def set_params(self, params):
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            try:
                model.history = self._history
            except AttributeError:
                pass
        for cb in self.callbacks:
            cb.set_model(model)

    def wants_batch_hooks(self, kind="train"):
        """Whether the loop must call the ``kind`` batch hooks after every batch.

        ``kind`` is ``"train"``, ``"test"`` or ``"predict"``.
        """
        if kind not in _BATCH_HOOKS:
            raise ValueError(f"kind must be 'train', 'test' or 'predict'; received {kind!r}.")
        for cb in self.callbacks:
            check = getattr(cb, "_implements_batch_hooks", None)
            if check is None or check(kind):
                return True
        return False

    def _call(self, hook, *args):
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:  # duck-typed callbacks may lack fastnn's chunk hooks
                method(*args)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, {} if logs is None else logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, {} if logs is None else logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, {} if logs is None else logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, {} if logs is None else logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, {} if logs is None else logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, {} if logs is None else logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, {} if logs is None else logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, {} if logs is None else logs)

    def on_train_chunk_end(self, step, logs=None):
        self._call("on_train_chunk_end", step, {} if logs is None else logs)

    def on_test_chunk_end(self, step, logs=None):
        self._call("on_test_chunk_end", step, {} if logs is None else logs)

    def on_predict_chunk_end(self, step, logs=None):
        self._call("on_predict_chunk_end", step, {} if logs is None else logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, {} if logs is None else logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, {} if logs is None else logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", {} if logs is None else logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", {} if logs is None else logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", {} if logs is None else logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", {} if logs is None else logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", {} if logs is None else logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", {} if logs is None else logs)


class History(Callback):
    """Records the epoch logs; ``fit`` returns this object.

    Attributes:
        history: Dict mapping each log name to its list of per-epoch values.
        epoch: List of the epoch indices seen.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in _public_items(logs):
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:
                pass


class ProgbarLogger(Callback):
    """Prints progress and metrics (the ``verbose`` display of ``fit``).

    ``verbose=1``: a live bar on a terminal, one line per epoch otherwise;
    ``verbose=2``: one line per epoch. With more than one epoch an
    ``Epoch i/n`` header precedes each epoch. Validation values appear on the
    epoch's final line. Values shown are the running epoch values given by the
    loop. The bar is updated from the chunk hooks (and from batch hooks when
    the loop calls them), so it never makes the loop run per batch.

    Args:
        stream: Text stream to print to (``sys.stdout`` at call time when
            ``None``).
    """

    _optional_batch_hooks = True

    def __init__(self, stream=None):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self.stream = stream
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        params = params or {}
        verbose = params.get("verbose", 1)
        if verbose == "auto":
            verbose = 1
        self.verbose = verbose
        self.epochs = params.get("epochs", 1) or 1
        self.target = params.get("steps")

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            self.progbar = Progbar(
                target=self.target,
                verbose=self.verbose,
                unit_name="step",
                stream=self.stream,
            )

    def _update_progbar(self, step, logs=None):
        self._maybe_init_progbar()
        if step < self.seen:
            return
        self.seen = step
        if self.verbose == 1:
            items = _public_items(logs)
            self.progbar.stateful_metrics.update(k for k, _ in items)
            self.progbar.update(self.seen, items, finalize=False)

    def _finalize_progbar(self, logs):
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, _public_items(logs), finalize=True)

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            out = self._out()
            out.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            try:
                out.flush()
            except (AttributeError, ValueError, OSError):
                pass

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch + 1, logs)

    def on_train_chunk_end(self, step, logs=None):
        self._update_progbar(step, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch + 1, logs)

    def on_test_chunk_end(self, step, logs=None):
        if not self._called_in_fit:
            self._update_progbar(step, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch + 1, None)

    def on_predict_chunk_end(self, step, logs=None):
        self._update_progbar(step, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(None)


# ---------------------------------------------------------------------------
# Monitoring callbacks
# ---------------------------------------------------------------------------
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
    from . import metrics as metrics_module

    cls = metrics_module._REGISTRY.get(name)
    if cls is not None and getattr(cls, "_direction", None) in ("up", "down"):
        return cls._direction
    lowered = name.lower()
    if any(h in lowered for h in _UP_HINTS):
        return "up"
    if any(h in lowered for h in _DOWN_HINTS):
        return "down"
    return None


class _MonitorMixin:
    """Shared ``mode`` handling of callbacks that watch one logged value."""

    def _init_monitor(self, monitor, mode):
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.monitor_op = None

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


class EarlyStopping(_MonitorMixin, Callback):
    """Stop training when a monitored value has stopped improving.

    At each epoch end, the value ``logs[monitor]`` improves when it beats the
    best value so far by more than ``min_delta`` (lower in ``"min"`` mode,
    higher in ``"max"`` mode; ``"auto"`` infers the direction from the
    metric). After ``patience`` epochs without improvement,
    ``model.stop_training`` is set.

    Args:
        monitor: Log name to watch.
        min_delta: Minimum absolute change that counts as an improvement.
        patience: Epochs without improvement before stopping.
        verbose: 1 prints a message when stopping / restoring.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        baseline: Value the monitor must beat; epochs that do not beat it
            count towards ``patience`` even when they improve on the best.
        restore_best_weights: At the end of training, restore the weights of
            the best epoch (whenever a best epoch was recorded).
        start_from_epoch: Epochs to wait before monitoring starts.

    Attributes:
        stopped_epoch: 0-based epoch at which training was stopped (0 if not).
        best_epoch: 0-based epoch of the best value.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__()
        self._init_monitor(monitor, mode)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.start_from_epoch = start_from_epoch
        self.best = None

    def _set_monitor_op(self):
        direction = self._resolve_direction()
        self.monitor_op = np.less if direction == "down" else np.greater
        if direction == "down":
            self.min_delta = -abs(self.min_delta)
        else:
            self.min_delta = abs(self.min_delta)
        self.best = math.inf if direction == "down" else -math.inf

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        if self.monitor_op is not None:
            self.best = math.inf if self.monitor_op is np.less else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something better shows up, the current weights are the best.
            self.best_weights = _copy_weights(self.model.get_weights())
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _copy_weights(self.model.get_weights())
            # Reset patience only when beating both the best and the baseline.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print_msg(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(k for k, _ in _public_items(logs))}",
                stacklevel=2,
            )
        return value

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))


def _copy_weights(weights):
    return [np.array(w, copy=True) for w in weights]


class ModelCheckpoint(_MonitorMixin, Callback):
    """Save the model or its weights during training.

    ``filepath`` may contain ``str.format`` fields filled with ``epoch``
    (1-based), ``batch`` (1-based, batch-level saving only) and the log
    values, e.g. ``"w-{epoch:02d}-{val_loss:.4f}.fnn"``. Missing directories
    are created.

    Args:
        filepath: Path or path template.
        monitor: Log name compared when ``save_best_only``.
        verbose: 1 prints a message at each save decision.
        save_best_only: Only save when ``monitor`` improves on the best so
            far (or on ``initial_value_threshold``).
        save_weights_only: Call ``model.save_weights(path)`` instead of
            ``model.save(path)``.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        save_freq: ``"epoch"`` or an integer number of batches. With an
            integer, the check happens whenever the loop reports progress:
            after every batch when batch hooks run, otherwise at the end of
            each chunk once at least ``save_freq`` batches passed since the
            last save (as Keras does with ``steps_per_execution``).
        initial_value_threshold: Initial best value for ``save_best_only``.
    """

    _optional_batch_hooks = True

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__()
        self._init_monitor(monitor, mode)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self.min_delta = 0.0
        if save_freq != "epoch" and (
            not isinstance(save_freq, numbers.Integral) or isinstance(save_freq, bool) or save_freq <= 0
        ):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' "
                "or positive integer values"
            )
        self._current_epoch = 0
        self._last_step = 0
        self._steps_since_last_save = 0

    def _set_monitor_op(self):
        direction = self._resolve_direction()
        self.monitor_op = np.less if direction == "down" else np.greater
        if self.best is None:
            self.best = math.inf if direction == "down" else -math.inf

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        self._last_step = 0

    def _on_step(self, step, logs):
        if self.save_freq == "epoch" or step <= self._last_step:
            return
        self._steps_since_last_save += step - self._last_step
        self._last_step = step
        if self._steps_since_last_save >= self.save_freq:
            self._steps_since_last_save = 0
            self._save_model(self._current_epoch, step - 1, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._on_step(batch + 1, logs)

    def on_train_chunk_end(self, step, logs=None):
        self._on_step(step, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _get_file_path(self, epoch, batch, logs):
        fields = dict(_public_items(logs))
        try:
            if batch is None or "batch" in fields:
                return self.filepath.format(epoch=epoch + 1, **fields)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **fields)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}'
            ) from e

    def _should_save(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                _print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available.", stacklevel=3
            )
            return True
        if np.ndim(current) > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. "
                f"Received: {current}. Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                _print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            _print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)


class ReduceLROnPlateau(_MonitorMixin, Callback):
    """Reduce the learning rate when a monitored value has stopped improving.

    After ``patience`` epochs without an improvement larger than
    ``min_delta``, ``model.optimizer.learning_rate`` is multiplied by
    ``factor`` (not below ``min_lr``), then ``cooldown`` epochs pass before
    counting again. The learning rate in effect during the epoch is added to
    the epoch logs as ``"learning_rate"``.

    Args:
        monitor: Log name to watch.
        factor: Multiplier of the learning rate (< 1).
        patience: Epochs without improvement before reducing.
        verbose: 1 prints a message when reducing.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: Threshold for measuring a new optimum.
        cooldown: Epochs to wait after a reduction.
        min_lr: Lower bound on the learning rate.
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        super().__init__()
        if "epsilon" in kwargs and min_delta == 1e-4:
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"Unexpected keyword arguments: {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self._init_monitor(monitor, mode)
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0
        self.best = None

    def _set_monitor_op(self):
        direction = self._resolve_direction()
        self.monitor_op = np.less if direction == "down" else np.greater
        self.best = math.inf if direction == "down" else -math.inf

    def _is_improvement(self, value, reference):
        if self.monitor_op is np.less:
            return bool(value < reference - self.min_delta)
        return bool(value > reference + self.min_delta)

    def _reset(self):
        self.cooldown_counter = 0
        self.wait = 0
        if self.monitor_op is not None:
            self.best = math.inf if self.monitor_op is np.less else -math.inf

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                "Learning rate reduction is conditioned on metric "
                f"`{self.monitor}` which is not available. Available metrics are: "
                f"{','.join(k for k, _ in _public_items(logs))}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(self.model.optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        _print_msg(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                            f"rate to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


def _accepts_two_args(fn):
    try:
        inspect.signature(fn).bind(0, 0.0)
        return True
    except TypeError:
        return False
    except ValueError:  # no signature available
        return None


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch.

    Args:
        schedule: ``schedule(epoch, lr) -> new_lr`` with the 0-based epoch and
            the current learning rate (a one-argument ``schedule(epoch)`` is
            accepted too).
        verbose: 1 prints the new learning rate at each epoch.

    The learning rate in effect is added to the epoch logs as
    ``"learning_rate"``.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be callable; received {schedule!r}.")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = float(optimizer.learning_rate)
        two_args = _accepts_two_args(self.schedule)
        if two_args is None:
            try:
                new_lr = self.schedule(epoch, lr)
            except TypeError:
                new_lr = self.schedule(epoch)
        elif two_args:
            new_lr = self.schedule(epoch, lr)
        else:
            new_lr = self.schedule(epoch)
        if isinstance(new_lr, np.ndarray) and new_lr.ndim == 0:
            new_lr = new_lr.item()
        if isinstance(new_lr, bool) or not isinstance(new_lr, numbers.Real):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {new_lr}")
        new_lr = float(new_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            _print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new_lr}."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Stop training as soon as a NaN or infinite loss is seen.

    The check runs on the chunk logs (``on_train_chunk_end``), so it does not
    force per-batch calls: training stops at the end of the chunk holding the
    bad batch. The batch reported is ``logs["_nonfinite_batch"]`` when the
    loop provides it, else the last batch of the chunk. It also checks
    ``on_batch_end`` when the loop runs batch hooks and the epoch logs. The
    message ``Batch N: Invalid loss, terminating training`` is printed once.
    """

    _optional_batch_hooks = True

    def __init__(self):
        super().__init__()
        self._reported = False

    def on_train_begin(self, logs=None):
        self._reported = False

    def _terminate(self, message):
        if self.model is not None:
            self.model.stop_training = True
        if not self._reported:
            self._reported = True
            _print_msg(message)

    def on_batch_end(self, batch, logs=None):
        if _is_nonfinite((logs or {}).get("loss")):
            self._terminate(f"Batch {batch}: Invalid loss, terminating training")

    def on_train_chunk_end(self, step, logs=None):
        logs = logs or {}
        bad = logs.get(NONFINITE_BATCH_KEY)
        if bad is not None and not _is_nonfinite(bad) and bad >= 0:
            self._terminate(f"Batch {int(bad)}: Invalid loss, terminating training")
        elif _is_nonfinite(logs.get("loss")):
            self._terminate(f"Batch {max(int(step) - 1, 0)}: Invalid loss, terminating training")

    def on_epoch_end(self, epoch, logs=None):
        if _is_nonfinite((logs or {}).get("loss")):
            self._terminate(f"Epoch {epoch + 1}: Invalid loss, terminating training")


class CSVLogger(Callback):
    """Stream the epoch logs to a CSV file.

    The header is ``epoch`` followed by the sorted log names of the first
    epoch (plus the model's ``val_`` metric names, if it reports them, so
    columns exist when validation runs only on some epochs). ``epoch`` is
    0-based; missing values are written as ``NA``; 1-D array values are
    written as ``"[a, b, ...]"``. The file is flushed after every epoch.

    Args:
        filename: Path of the CSV file.
        separator: Field separator.
        append: Append to an existing file (the header is written only if
            the file is empty) instead of overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r", newline="") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        dirname = os.path.dirname(self.filename)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    @staticmethod
    def _handle_value(value):
        if isinstance(value, str):
            return value
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return value.item()
        if isinstance(value, collections.abc.Iterable):
            return f'"[{", ".join(map(str, value))}]"'
        return value

    def on_epoch_end(self, epoch, logs=None):
        if self.csv_file is None or self.csv_file.closed:
            self.on_train_begin()
        logs = dict(_public_items(logs))
        if self.keys is None:
            self.keys = sorted(logs.keys())
            try:
                expected = list(getattr(self.model, "metrics_names", None) or [])
            except Exception:
                expected = []
            for name in expected:
                if isinstance(name, str) and name.startswith("val_") and name not in self.keys:
                    self.keys.append(name)
        if self.writer is None:
            sep = self.sep

            class _Dialect(csv.excel):
                delimiter = sep

            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch"] + self.keys, dialect=_Dialect
            )
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((k, self._handle_value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class LambdaCallback(Callback):
    """Build a callback from plain functions.

    Each argument is a function used as the hook of the same name, called
    with that hook's arguments: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``, ``on_train_batch_begin(batch, logs)``,
    ``on_train_batch_end(batch, logs)``. Any other hook (``on_test_end``,
    ``on_batch_end``, ``on_train_chunk_end``...) can be given by keyword.
    Giving a batch hook makes the training loop call it after every batch.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name in kwargs:
            if name not in _HOOK_NAMES:
                raise ValueError(
                    f"LambdaCallback received an unknown hook {name!r}. Valid hooks are: "
                    + ", ".join(_HOOK_NAMES)
                )
        hooks.update(kwargs)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback hook {name!r} must be callable; received {fn!r}.")
            setattr(self, name, fn)
