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

    A missing monitored value warns (naming the values that are logged) and the epoch is not
    counted.

    Parameters
    ----------
    monitor : str, default "val_loss"
        Name of the logged value to watch (``"loss"``, ``"val_accuracy"``, ...); a non-string
        raises TypeError. ``"val_*"`` values exist only when fit() is given validation data.
    min_delta : float, default 0
        Minimum absolute change that counts as an improvement; its sign is ignored. A non-finite
        value raises ValueError.
    patience : int, default 0
        Epochs without improvement before stopping; an int >= 0, else ValueError. With 0 training
        stops at the first epoch (after the first) that does not improve.
    verbose : int, default 0
        1 prints a message when stopping and when restoring weights.
    mode : {"auto", "min", "max"}, default "auto"
        Whether the value improves downwards or upwards. ``"auto"`` decides at the first epoch
        end: ``loss`` and losses minimise, accuracies, AUC, precision, recall... maximise (from the
        model's metric objects, then fastnn's metric names, then the name); a name it cannot place
        raises ValueError asking for ``"min"`` or ``"max"``. Any other string warns and falls back
        to ``"auto"``, as in Keras.
    baseline : float, optional
        Value the monitor must beat; epochs that do not beat it
        count towards ``patience`` even when they improve on the best. A finite number or None
        (the default, no baseline), else ValueError.
    restore_best_weights : bool, default False
        At the end of training, restore the weights of the best epoch (whenever a best epoch was
        recorded), also when training ran to the end without stopping early. The weights are
        copied at each new best, which costs one copy of the model's variables.
    start_from_epoch : int, default 0
        Epochs to wait before monitoring starts (a warm-up during which nothing is counted); an
        int >= 0, else ValueError.

    Attributes
    ----------
    stopped_epoch : int
        0-based epoch at which training was stopped (0 if not).
    best_epoch : int
        0-based epoch of the best value.
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
