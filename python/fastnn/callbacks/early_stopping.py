"""EarlyStopping: stop training when a monitored value has stopped improving."""

from __future__ import annotations

import numpy as np

from .._validation import nonneg_int
from .callback import _print_msg
from .monitor_callback import MonitorCallback


class EarlyStopping(MonitorCallback):
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

    _monitor_purpose = "Early stopping"

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
        super().__init__(monitor, mode, min_delta=min_delta, baseline=baseline)
        self.patience = nonneg_int("patience", patience)
        self.verbose = verbose
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.start_from_epoch = nonneg_int("start_from_epoch", start_from_epoch)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self._reset_best()

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


def _copy_weights(weights):
    return [np.array(w, copy=True) for w in weights]
