"""tf.keras.metrics / keras.metrics: fastnn's metrics."""
from __future__ import annotations

from .. import metrics as _metrics
from .._mirror import mirror as _mirror

__getattr__ = _mirror(globals(), _metrics)
