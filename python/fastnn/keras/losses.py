"""tf.keras.losses / keras.losses: fastnn's losses."""
from __future__ import annotations

from .. import losses as _losses
from .._mirror import mirror as _mirror

__getattr__ = _mirror(globals(), _losses)
