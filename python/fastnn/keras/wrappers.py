"""keras.wrappers: SKLearnClassifier / SKLearnRegressor, the scikit-learn estimators of
fastnn.wrappers. That module is imported only when one of them is looked up, so importing
fastnn.keras does not pull in scikit-learn."""
from __future__ import annotations

import importlib

from .._mirror import missing as _missing

_NAMES = ("SKLearnClassifier", "SKLearnRegressor")
__all__ = list(_NAMES)


def __getattr__(name):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _NAMES:
        raise _missing(__name__, name)
    try:
        source = importlib.import_module("fastnn.wrappers")
    except ModuleNotFoundError as e:
        if e.name not in ("fastnn.wrappers", "sklearn"):
            raise
        raise ImportError(f"fastnn.keras.wrappers.{name} needs fastnn.wrappers and scikit-learn "
                          f"({e.name} could not be imported): {e}") from e
    value = getattr(source, name)
    globals()[name] = value
    return value
