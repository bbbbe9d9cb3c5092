"""Weight regularizers (Keras 3): the penalty is added to the loss once per batch and its gradient
to the variable's gradient, natively."""
from __future__ import annotations

from ._registry import Registry
from ._validation import nonneg_float


class Regularizer:
    l1 = 0.0
    l2 = 0.0

    def penalty(self):
        return (self.l1, self.l2)

    def __call__(self, x):
        import numpy as np

        x = np.asarray(x, dtype=np.float64)
        return float(self.l1 * np.abs(x).sum() + self.l2 * np.square(x).sum())

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


def _factor(name, v):
    return nonneg_float(name, v)


class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _factor("l1", l1), _factor("l2", l2)


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = _factor("l1", l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = _factor("l2", l2)

    def get_config(self):
        return {"l2": self.l2}


l1 = L1
l2 = L2
l1_l2 = L1L2
_REGISTRY = Registry("regularizer")
for _cls, _names in ((L1, ("l1",)), (L2, ("l2",)), (L1L2, ("l1_l2", "l1l2"))):
    _REGISTRY.register(_cls, *_names)


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if isinstance(identifier, str):
        return _REGISTRY.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"regularizer: expected a name, a Regularizer, a config dict or None, got {identifier!r}")


def serialize(r):
    return None if r is None else _REGISTRY.serialize(r)


def deserialize(config):
    """A regularizer from {"class_name": ..., "config": {...}} (None stays None)."""
    return None if config is None else _REGISTRY.deserialize(config)
