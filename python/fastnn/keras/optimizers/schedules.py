"""tf.keras.optimizers.schedules / keras.optimizers.schedules: fastnn's learning-rate schedules."""
from __future__ import annotations

from ... import schedules as _schedules
from ..._mirror import mirror as _mirror

__getattr__ = _mirror(globals(), _schedules)
