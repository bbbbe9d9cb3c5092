"""Weight regularizers (Keras 3): the penalty is added to the loss once per batch and its gradient
to the variable's gradient, natively."""
from __future__ import annotations

from ._registry import Registry
from ._validation import nonneg_float


class Regularizer:
    """Base class of the weight penalties: an L1 factor and an L2 factor, both 0 unless set.

    Training reads only the two factors (through `penalty`) and applies them natively; calling a
    regularizer on an array computes the same penalty in Python, for inspection. A subclass that
    overrides `__call__` with another formula therefore does not change what training minimises:
    unlike Keras, fastnn has no per-batch Python hook for a custom penalty.
    """

    l1 = 0.0
    l2 = 0.0

    def penalty(self):
        """The factors the engine applies to the variable.

        Returns
        -------
        tuple of (float, float)
            ``(l1, l2)``: the penalty is ``l1 * sum(|w|) + l2 * sum(w ** 2)`` and its gradient
            ``l1 * sign(w) + 2 * l2 * w``.
        """
        return (self.l1, self.l2)

    def __call__(self, x):
        import numpy as np

        x = np.asarray(x, dtype=np.float64)
        return float(self.l1 * np.abs(x).sum() + self.l2 * np.square(x).sum())

    def get_config(self):
        """The constructor arguments, as a JSON-ready dict.

        Returns
        -------
        dict
            ``{"l1": ..., "l2": ...}`` (`L1` and `L2` write only their own factor).
        """
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_config(cls, config):
        """A regularizer built from the dict `get_config` wrote.

        Parameters
        ----------
        config : dict
            Keyword arguments of the class's constructor (``{"l1": 0.01}`` for `L1`, ...). A factor
            that is negative or not finite is refused with a ValueError; an unknown key with a
            TypeError.

        Returns
        -------
        Regularizer
            A new instance of `cls`.
        """
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


def _factor(name, v):
    return nonneg_float(name, v)


class L1L2(Regularizer):
    """The penalty l1 * sum(|w|) + l2 * sum(w^2) (also reachable as `l1_l2`, "l1_l2", "l1l2").

    Both factors default to 0, as in Keras 3 (Keras 2's `l1_l2()` function defaulted to 0.01 each):
    ``L1L2()`` penalises nothing.

    Parameters
    ----------
    l1 : float, default 0.0
        Factor of the sum of absolute values; a finite number >= 0 (ints are accepted). A negative,
        infinite or NaN value, a bool or a non-number raises ValueError.
    l2 : float, default 0.0
        Factor of the sum of squares, same rules. Note the penalty has no 1/2: its gradient is
        ``2 * l2 * w`` (PyTorch's coupled `weight_decay=wd` adds ``wd * w``, i.e. ``l2 = wd / 2``).
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _factor("l1", l1), _factor("l2", l2)


class L1(Regularizer):
    """The penalty l1 * sum(|w|) (also reachable as `l1` and the name "l1").

    Its gradient is ``l1 * sign(w)`` with ``sign(0) = 0``, so it pushes weights towards zero by a
    constant amount per step.

    Parameters
    ----------
    l1 : float, default 0.01
        Factor of the sum of absolute values; a finite number >= 0. A negative, infinite or NaN
        value, a bool or a non-number raises ValueError.
    """

    def __init__(self, l1=0.01):
        self.l1 = _factor("l1", l1)

    def get_config(self):
        """The constructor argument, as a JSON-ready dict.

        Returns
        -------
        dict
            ``{"l1": ...}``.
        """
        return {"l1": self.l1}


class L2(Regularizer):
    """The penalty l2 * sum(w^2) (also reachable as `l2` and the name "l2").

    As in Keras there is no factor 1/2: the gradient added to the variable's is ``2 * l2 * w``.

    Parameters
    ----------
    l2 : float, default 0.01
        Factor of the sum of squares; a finite number >= 0. A negative, infinite or NaN value, a
        bool or a non-number raises ValueError.
    """

    def __init__(self, l2=0.01):
        self.l2 = _factor("l2", l2)

    def get_config(self):
        """The constructor argument, as a JSON-ready dict.

        Returns
        -------
        dict
            ``{"l2": ...}``.
        """
        return {"l2": self.l2}


l1 = L1
l2 = L2
l1_l2 = L1L2
_REGISTRY = Registry("regularizer")
for _cls, _names in ((L1, ("l1",)), (L2, ("l2",)), (L1L2, ("l1_l2", "l1l2"))):
    _REGISTRY.register(_cls, *_names)


def get(identifier):
    """Resolves what a layer's `*_regularizer` argument accepts into a regularizer (or None).

    Parameters
    ----------
    identifier : None, str, Regularizer, Regularizer subclass or dict
        None (no penalty) is returned as is, and so is a Regularizer instance (not copied). A name
        ("l1", "l2", "l1_l2", "l1l2" or a class name, case-insensitive) or a class gives an instance
        with the default factors; a dict ``{"class_name": ..., "config": {...}}`` goes through
        `deserialize`. An unknown name raises ValueError listing the valid names; any other type
        raises TypeError.

    Returns
    -------
    Regularizer or None
        The regularizer, or None when `identifier` is None.
    """
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
    """The JSON-ready form of a regularizer, as Keras writes it.

    Parameters
    ----------
    r : Regularizer or None
        The regularizer to describe; None (no penalty) gives None.

    Returns
    -------
    dict or None
        ``{"class_name": "L2", "config": {"l2": 0.01}}`` and the like, or None.
    """
    return None if r is None else _REGISTRY.serialize(r)


def deserialize(config):
    """A regularizer from {"class_name": ..., "config": {...}} (None stays None).

    Parameters
    ----------
    config : dict or None
        ``{"class_name": ..., "config": {...}}`` with the exact class name ("L1", "L2" or "L1L2"),
        as `serialize` and Keras write it; without a "config" key the other keys are taken as the
        configuration. A non-dict raises TypeError, an unknown class name ValueError.

    Returns
    -------
    Regularizer or None
        A new regularizer, or None when `config` is None.
    """
    return None if config is None else _REGISTRY.deserialize(config)
