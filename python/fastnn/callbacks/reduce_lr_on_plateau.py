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
