"""tf.keras.initializers / keras.initializers: fastnn's initializers."""
from __future__ import annotations

from .. import initializers as _initializers
from .._mirror import mirror as _mirror

__getattr__ = _mirror(globals(), _initializers)
