"""tf.keras.callbacks / keras.callbacks: fastnn's callbacks."""
from __future__ import annotations

from .. import callbacks as _callbacks
from .._mirror import mirror as _mirror

__getattr__ = _mirror(globals(), _callbacks)
