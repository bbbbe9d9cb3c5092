"""Training callbacks with Keras 3 hook names and semantics, one callback per module.

The protocol (hooks, chunk hooks, the private ``"_nonfinite_batch"`` log key) is described in
:mod:`fastnn.callbacks.callback`; :mod:`fastnn.callbacks.monitor_callback` holds the one monitor
(mode, min_delta, baseline, best value, the warning for a missing value) that EarlyStopping,
ModelCheckpoint and ReduceLROnPlateau share.
"""

from __future__ import annotations

from .callback import NONFINITE_BATCH_KEY, Callback
from .callback import _is_nonfinite, _public_items  # noqa: F401  (helpers older code imports from here)
from .backup_and_restore import BackupAndRestore
from .callback_list import CallbackList
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .lambda_callback import LambdaCallback
from .learning_rate_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .monitor_callback import MonitorCallback
from .progbar_logger import ProgbarLogger
from .reduce_lr_on_plateau import ReduceLROnPlateau
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "ProgbarLogger",
    "MonitorCallback",
    "EarlyStopping",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "LearningRateScheduler",
    "TerminateOnNaN",
    "CSVLogger",
    "LambdaCallback",
    "BackupAndRestore",
    "TensorBoard",
    "NONFINITE_BATCH_KEY",
]
