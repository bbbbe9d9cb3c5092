"""ModelCheckpoint: save the model or its weights during training, every epoch, every few batches,
or when a monitored value improves."""

from __future__ import annotations

import numbers
import os
import warnings

import numpy as np

from .._validation import finite_float
from .callback import _print_msg, _public_items
from .monitor_callback import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model or its weights during training.

    ``filepath`` may contain ``str.format`` fields filled with ``epoch``
    (1-based), ``batch`` (1-based, batch-level saving only) and the log
    values, e.g. ``"w-{epoch:02d}-{val_loss:.4f}.fnn"``. Missing directories
    are created.

    Parameters
    ----------
    filepath : str or os.PathLike
        Path or path template. A field the logs do not hold raises KeyError naming the template;
        a path that is an existing folder raises OSError. Without fields every save overwrites
        the same file.
    monitor : str, default "val_loss"
        Log name compared when `save_best_only`; a non-string raises TypeError. When it is
        missing from the logs a warning is given and the model is saved anyway.
    verbose : int, default 0
        1 prints a message at each save decision.
    save_best_only : bool, default False
        Only save when ``monitor`` improves on the best so
        far (or on ``initial_value_threshold``). An array-valued monitor warns and saves.
    save_weights_only : bool, default False
        Call ``model.save_weights(path)`` instead of
        ``model.save(path)`` (the whole model: architecture, weights, compile settings and
        optimizer state).
    mode : {"auto", "min", "max"}, default "auto"
        Whether the value improves downwards or upwards. ``"auto"`` decides at the first save
        decision: ``loss`` and losses minimise, accuracies, AUC, precision, recall... maximise (from the
        model's metric objects, then fastnn's metric names, then the name); a name it cannot place
        raises ValueError asking for ``"min"`` or ``"max"``. Any other string warns and falls back
        to ``"auto"``, as in Keras.
    save_freq : "epoch" or int, default "epoch"
        ``"epoch"`` or a positive integer number of batches (anything else raises ValueError). With
        an integer, the check happens whenever the loop reports progress:
        after every batch when batch hooks run, otherwise at the end of
        each chunk once at least ``save_freq`` batches passed since the
        last save (as Keras does with ``steps_per_execution``), so saves may come a few batches
        later than every `save_freq` batches.
    initial_value_threshold : float, optional
        Initial best value for ``save_best_only``: nothing is saved until the monitor beats it. A
        finite number or None (the default), else ValueError.
    """

    _optional_batch_hooks = True
    _monitor_purpose = "Saving the best model"

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
        super().__init__(monitor, mode)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.best = finite_float("initial_value_threshold", initial_value_threshold, allow_none=True)
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
        current = self.get_monitor_value(logs)
        if current is None:
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
