"""tf.keras.activations / keras.activations: fastnn's activations (native, on numpy arrays too)."""
from __future__ import annotations

from .. import activations as _activations
from .._mirror import mirror as _mirror

__getattr__ = _mirror(globals(), _activations)
