"""tf.keras.layers / keras.layers: fastnn's layers (`from fastnn.keras.layers import Dense`)."""
from __future__ import annotations

from .. import layers as _layers
from .._mirror import mirror as _mirror

__getattr__ = _mirror(globals(), _layers)
