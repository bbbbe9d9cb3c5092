"""ReduceLROnPlateau: lower the learning rate when a monitored value has stopped improving."""

from __future__ import annotations

import numpy as np

from .._validation import finite_float, nonneg_float, nonneg_int
from .callback import _print_msg
from .monitor_callback import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Reduce the learning rate when a monitored value has stopped improving.

    After ``patience`` epochs without an improvement larger than
    ``min_delta``, ``model.optimizer.learning_rate`` is multiplied by
    ``factor`` (not below ``min_lr``), then ``cooldown`` epochs pass before
    counting again. The learning rate in effect during the epoch is added to
    the epoch logs as ``"learning_rate"``.

    Setting the rate replaces a learning-rate schedule the optimizer had by a constant rate.

    Parameters
    ----------
    monitor : str, default "val_loss"
        Log name to watch; a non-string raises TypeError. A missing value warns and the epoch is
        not counted.
    factor : float, default 0.1
        Multiplier of the learning rate, a number in [0, 1) (Keras also refuses a factor >= 1);
        anything else raises ValueError.
    patience : int, default 10
        Epochs without improvement before reducing; an int >= 0, else ValueError.
    verbose : int, default 0
        1 prints a message when reducing.
    mode : {"auto", "min", "max"}, default "auto"
        Whether the value improves downwards or upwards. ``"auto"`` decides at the first epoch
        end: ``loss`` and losses minimise, accuracies, AUC, precision, recall... maximise (from the
        model's metric objects, then fastnn's metric names, then the name); a name it cannot place
        raises ValueError asking for ``"min"`` or ``"max"``. Any other string warns and falls back
        to ``"auto"``, as in Keras.
    min_delta : float, default 1e-4
        Threshold for measuring a new optimum: the smallest absolute change that counts as an
        improvement; a finite number (sign ignored), else ValueError.
    cooldown : int, default 0
        Epochs to wait after a reduction before counting epochs without improvement again; an
        int >= 0, else ValueError.
    min_lr : float, default 0.0
        Lower bound on the learning rate; a finite number >= 0, else ValueError.
    **kwargs
        Only ``epsilon``, an older Keras name of `min_delta` (used when `min_delta` keeps its default);
        any other keyword raises TypeError.
    """

    _monitor_purpose = "Learning rate reduction"

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
        if "epsilon" in kwargs and min_delta == 1e-4:
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected keyword arguments {sorted(kwargs)}")
        super().__init__(monitor, mode, min_delta=min_delta)
        factor = finite_float("factor", factor)
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"factor: expected a number in [0, 1) (ReduceLROnPlateau does not support a "
                             f"factor >= 1.0), got {factor!r}")
        self.factor = factor
        self.min_lr = nonneg_float("min_lr", min_lr)
        self.patience = nonneg_int("patience", patience)
        self.verbose = verbose
        self.cooldown = nonneg_int("cooldown", cooldown)
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        self.cooldown_counter = 0
        self.wait = 0
        self._reset_best()

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        """Whether a reduction happened less than `cooldown` epochs ago.

        Returns
        -------
        bool
            True while epochs without improvement are not counted.
        """
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = self.get_monitor_value(logs)
        if current is None:
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
