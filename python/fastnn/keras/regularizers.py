"""tf.keras.regularizers / keras.regularizers: fastnn's regularizers."""
from __future__ import annotations

from .. import regularizers as _regularizers
from .._mirror import mirror as _mirror

__getattr__ = _mirror(globals(), _regularizers)
