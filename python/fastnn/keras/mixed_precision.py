"""keras.mixed_precision: fastnn.mixed_precision's policies, where this fastnn has that module;
otherwise importing this module raises NotImplementedError."""
from __future__ import annotations

import importlib

from .._mirror import NotInFastnn as _NotInFastnn
from .._mirror import mirror as _mirror

try:
    _source = importlib.import_module("fastnn.mixed_precision")
except ModuleNotFoundError as _e:
    if _e.name != "fastnn.mixed_precision":
        raise
    raise _NotInFastnn("fastnn.keras.mixed_precision is not implemented in this fastnn: it has no "
                       "fastnn.mixed_precision module (models train in float32 or float64)") from None

__getattr__ = _mirror(globals(), _source)
