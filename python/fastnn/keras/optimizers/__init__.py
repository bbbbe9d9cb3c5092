"""tf.keras.optimizers / keras.optimizers: fastnn's optimizers, with `schedules` and `legacy`
(TensorFlow 2.11+'s `tf.keras.optimizers.legacy.Adam` names the same optimizers)."""
from __future__ import annotations

from ... import optimizers as _optimizers
from ..._mirror import mirror as _mirror
from . import legacy, schedules  # noqa: F401  (tf.keras.optimizers.legacy / .schedules)

__getattr__ = _mirror(globals(), _optimizers)
