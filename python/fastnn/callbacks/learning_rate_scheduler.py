"""LearningRateScheduler: the learning rate of each epoch from a function.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from .callback import Callback, _print_msg



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

    The learning rate in effect is added to the epoch logs as
    ``"learning_rate"``. Setting the rate replaces a learning-rate schedule the optimizer had by a
    constant rate; for a rate that changes every step, give the optimizer a schedule from
    `fastnn.optimizers.schedules` instead (evaluated natively, with no Python call per step).

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr) -> new_lr`` with the 0-based epoch and
        the current learning rate as a float (a one-argument ``schedule(epoch)`` is
        accepted too). It must return a real number (a 0-d numpy array is accepted); anything
        else raises ValueError at that epoch. A non-callable raises TypeError here. The new rate
        is checked as the optimizer's `learning_rate` is (finite and >= 0).
    verbose : int, default 0
        1 prints the new learning rate at each epoch.
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
