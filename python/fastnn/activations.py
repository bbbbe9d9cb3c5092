"""Activation functions (Keras 3 names and definitions), evaluated by the native engine.

Each activation is a small object with a native spec; in a Dense layer it runs inside the GEMM's
epilogue. The module-level functions (`relu(x)`, `sigmoid(x)`, ...) also work on numpy arrays.
"""
from __future__ import annotations

import math

import numpy as np

from . import _core
from ._registry import Registry

# Native kinds, from the engine (ActKind in src/cpp/include/fastnn/activations.h)
_KIND = {name: int(kind) for name, kind in _core.ActKind.__members__.items()}
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu", None: "linear"}


class Activation:
    """An activation function with its arguments (Keras semantics).

    Layers take an activation as a name (``Dense(8, activation="relu")``), as one of this
    module's functions or as an Activation; a Python function of your own is refused, since the
    engine evaluates activations natively. Calling the object applies it to a numpy array
    (float64 stays float64, anything else is computed in float32; softmax and log_softmax act
    on the last axis).

    Parameters
    ----------
    name : str
        The canonical Keras name (``"relu"``, ``"gelu"``, ``"softmax"``... as in ``ALL``, aliases
        such as ``"swish"`` resolved). :func:`get` resolves aliases and checks the name; an
        unknown name given here fails when the activation is first used.
    **kwargs
        The activation's Keras arguments: ``negative_slope`` (default 0), ``max_value``
        (default None, no cap) and ``threshold`` (default 0) for ``relu``; ``negative_slope``
        (default 0.2) for ``leaky_relu``; ``alpha`` (default 1.0) for ``elu``; ``approximate``
        (default False, the exact erf form) for ``gelu``. Other keywords are kept in the
        configuration but have no effect (Keras's ``axis`` of softmax included).
    """

    def __init__(self, name: str, **kwargs):
        self.name = name
        self.kwargs = kwargs

    def spec(self) -> tuple:
        """Return the activation as the native engine takes it.

        Returns
        -------
        tuple
            ``(kind, alpha, max_value, threshold)``: the engine's integer code of the kind
            (``gelu`` with ``approximate=True`` is its own kind), the slope or ``alpha`` argument,
            the cap (``inf`` when none) and the relu threshold.
        """
        k = self.kwargs
        name = self.name
        if name == "gelu":
            name = "gelu_tanh" if k.get("approximate", False) else "gelu"
        alpha = 0.0
        max_value = math.inf
        threshold = 0.0
        if self.name == "relu":
            alpha = float(k.get("negative_slope", 0.0))
            mv = k.get("max_value", None)
            max_value = math.inf if mv is None else float(mv)
            threshold = float(k.get("threshold", 0.0))
        elif self.name == "leaky_relu":
            alpha = float(k.get("negative_slope", 0.2))
        elif self.name == "elu":
            alpha = float(k.get("alpha", 1.0))
        return (_KIND[name], alpha, max_value, threshold)

    def get_config(self) -> dict:
        """Return the name and the arguments given.

        Returns
        -------
        dict
            ``{"name": ..., **kwargs}``; two activations are equal when their configs are.
        """
        return {"name": self.name, **self.kwargs}

    def __call__(self, x):
        from . import _core

        x = np.asarray(x)
        dtype = np.float64 if x.dtype == np.float64 else np.float32
        arr = np.ascontiguousarray(x, dtype=dtype)
        shape = arr.shape
        a2 = arr.reshape(-1, shape[-1]) if arr.ndim >= 1 else arr.reshape(1, 1)
        return _core.activation_forward(self.spec(), a2).reshape(shape)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"<activation {self.name}({args})>"

    def __eq__(self, other):
        return isinstance(other, Activation) and self.get_config() == other.get_config()


ALL = sorted(set(_KIND) - {"gelu_tanh"} | {"swish", "hard_swish"})


_REGISTRY = Registry("activation")
for _name in ALL:
    _REGISTRY.register(_ALIASES.get(_name, _name), _name)


def get(identifier) -> Activation:
    """Resolve a name, an Activation, a config dict or None (linear) to an Activation.

    Parameters
    ----------
    identifier : str, Activation, dict, callable or None
        A name or alias, any case (``"relu"``, ``"swish"``...); an :class:`Activation`
        (returned as is); a config dict as :func:`deserialize` reads it; one of this module's
        functions (``fastnn.activations.relu``...); or ``None`` for the identity (``"linear"``).
        Unlike Keras, an arbitrary Python function is refused.

    Returns
    -------
    Activation
        The activation object.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid names.
    TypeError
        For any other object.
    """
    if isinstance(identifier, Activation):
        return identifier
    if identifier is None:
        return Activation("linear")
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return Activation(_canonical(identifier))
    if callable(identifier) and getattr(identifier, "_fastnn_activation", None):
        return Activation(identifier._fastnn_activation)
    raise TypeError(
        f"activation: expected a name (one of {', '.join(ALL)}), an Activation or None; "
        f"got {identifier!r}. Arbitrary Python callables cannot run in the native loop."
    )


def _canonical(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"activation: expected a string name, got {name!r}")
    return _REGISTRY.lookup(name)


def serialize(act: Activation):
    """Return an activation's serialized form, the name alone when it has no arguments (as Keras).

    Parameters
    ----------
    act : Activation
        The activation to describe.

    Returns
    -------
    str or dict
        ``"relu"`` for an activation without arguments, else ``{"name": ..., arguments...}``.
    """
    cfg = act.get_config()
    return cfg["name"] if len(cfg) == 1 else cfg


def deserialize(config) -> Activation:
    """Build an activation from its serialized form: a name, or {"name": ..., arguments...}.

    Parameters
    ----------
    config : str, dict or None
        What :func:`serialize` returns: a name (``None`` is ``"linear"``) or a dict with the
        name under ``"name"`` and the arguments beside it.

    Returns
    -------
    Activation
        The activation object.

    Raises
    ------
    TypeError
        When ``config`` is neither a name nor a dict, or the name is not a string.
    ValueError
        For an unknown name.
    """
    if isinstance(config, str) or config is None:
        return get(config)
    if not isinstance(config, dict):
        raise TypeError(f"activation: expected a name or a config dict, got {config!r}")
    cfg = dict(config)
    name = cfg.pop("name", None)
    return get(name) if not cfg else Activation(_canonical(name), **cfg)


def _make(name, **defaults):
    def fn(x, **kwargs):
        return Activation(name, **{**defaults, **kwargs})(x)

    fn.__name__ = name
    fn._fastnn_activation = name
    fn.__doc__ = f"""The {name} activation applied to a numpy array (Keras 3 definition).

    The native formula, the one the engine trains with; usable as a layer's ``activation``.

    Parameters
    ----------
    x : array-like
        Input values; softmax and log_softmax act on the last axis.
    **kwargs
        The activation's arguments, as for :class:`Activation` (``negative_slope``,
        ``max_value`` and ``threshold`` for relu, ``negative_slope`` for leaky_relu, ``alpha``
        for elu, ``approximate`` for gelu).

    Returns
    -------
    numpy.ndarray
        The activated values, of ``x``'s shape; float64 for float64 input, float32 otherwise.
    """
    return fn


linear = _make("linear")
relu = _make("relu")
leaky_relu = _make("leaky_relu")
relu6 = _make("relu6")
elu = _make("elu")
selu = _make("selu")
gelu = _make("gelu")
silu = _make("silu")
swish = silu
mish = _make("mish")
softplus = _make("softplus")
softsign = _make("softsign")
sigmoid = _make("sigmoid")
hard_sigmoid = _make("hard_sigmoid")
hard_silu = _make("hard_silu")
hard_swish = hard_silu
tanh = _make("tanh")
exponential = _make("exponential")
softmax = _make("softmax")
log_softmax = _make("log_softmax")
