"""tf.keras.optimizers.legacy: the same fastnn optimizers (TensorFlow kept its pre-2.11 ones here)."""
from __future__ import annotations

from ... import optimizers as _optimizers
from ..._mirror import mirror as _mirror

__getattr__ = _mirror(globals(), _optimizers)
