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
    """An activation function with its arguments (Keras semantics)."""

    def __init__(self, name: str, **kwargs):
        self.name = name
        self.kwargs = kwargs

    def spec(self) -> tuple:
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
    """Resolves a name, an Activation, a config dict or None (linear)."""
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
    cfg = act.get_config()
    return cfg["name"] if len(cfg) == 1 else cfg


def deserialize(config) -> Activation:
    """An activation from its serialized form: a name, or {"name": ..., arguments...}."""
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
    fn.__doc__ = f"The {name} activation applied to a numpy array (Keras 3 definition)."
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
