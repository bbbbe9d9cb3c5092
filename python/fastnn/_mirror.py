"""Namespaces that mirror TensorFlow's and Keras's (fastnn.keras.*, tf.nn, tf.math, ...): the names
fastnn has resolve to fastnn's objects, every other public name raises NotInFastnn, which names the
feature.

NotInFastnn is a NotImplementedError (what a porting user sees and catches) and also an
AttributeError, so that hasattr(), getattr(obj, name, default), pickle, copy and IDE completion keep
treating a missing name as missing instead of crashing on it.
"""
from __future__ import annotations

import types

# Families of TensorFlow/Keras names and why fastnn has no counterpart; the first match wins.
_REASONS = (
    (("Conv", "Pool", "Pooling", "Padding", "Cropping", "UpSampling", "SpatialDropout"),
     "fastnn builds multilayer perceptrons; convolution and pooling are outside its scope"),
    (("LSTM", "GRU", "RNN", "Bidirectional", "TimeDistributed", "Attention", "Embedding", "Masking"),
     "fastnn builds multilayer perceptrons; recurrent, attention and embedding layers are outside its scope"),
    (("datasets", "get_file"),
     "fastnn downloads nothing; load the data with numpy or pandas (fastnn.datasets generates small tasks)"),
    (("GradientTape", "function", "Variable", "Tensor", "data", "distribute", "tpu", "saved_model", "lite",
      "image", "io", "strings", "signal", "linalg", "sparse", "ragged", "autograph", "Module", "tfl"),
     "fastnn is not TensorFlow; only the Keras-style MLP surface is available"),
)


class NotInFastnn(NotImplementedError, AttributeError):
    """A TensorFlow/Keras name fastnn does not implement."""


def missing(qualname: str, name: str) -> NotInFastnn:
    """The error for a name fastnn does not have: qualname is where it was looked up
    (e.g. "fastnn.keras.layers"), name the missing attribute."""
    reason = "it has no fastnn counterpart"
    for keys, why in _REASONS:
        if any(k in name for k in keys):
            reason = why
            break
    return NotInFastnn(f"{qualname}.{name} is not implemented in fastnn: {reason}")


def public_names(source) -> list:
    """The names a fastnn module offers: its __all__, or its public classes, functions and constants
    (not the modules and helpers it imported)."""
    explicit = getattr(source, "__all__", None)
    if explicit is not None:
        return [n for n in explicit if not n.startswith("_")]
    names = []
    for n, v in vars(source).items():
        if n.startswith("_") or n == "annotations" or isinstance(v, types.ModuleType):
            continue
        mod = getattr(v, "__module__", None)
        if callable(v) and not (isinstance(mod, str) and mod.startswith("fastnn")):
            continue   # something the module imported (np, defaultdict, ...)
        names.append(n)
    return names


def mirror(namespace: dict, *sources, extra: dict | None = None):
    """Fills a mirror module's namespace with the public names of the fastnn modules `sources` and
    `extra`, sets __all__, and returns the module's __getattr__: names the sources gained later still
    resolve, others raise NotInFastnn."""
    qualname = namespace["__name__"]
    for source in sources:
        for n in public_names(source):
            try:
                namespace.setdefault(n, getattr(source, n))
            except (AttributeError, NotImplementedError):
                pass
    namespace.update(extra or {})
    namespace["__all__"] = sorted(n for n in namespace if not n.startswith("_") and n != "annotations"
                                  and not isinstance(namespace[n], types.ModuleType))

    def __getattr__(name):
        if name.startswith("_"):
            raise AttributeError(f"module {qualname!r} has no attribute {name!r}")
        for source in sources:
            try:
                value = getattr(source, name)
            except (AttributeError, NotImplementedError):
                continue
            if not isinstance(value, types.ModuleType):
                return value
        raise missing(qualname, name)

    return __getattr__


class Namespace(types.ModuleType):
    """A namespace that is not a file (tf.nn, tf.config.experimental, ...): the attributes it was
    given, NotInFastnn for the rest."""

    def __init__(self, name: str, doc: str = "", **attrs):
        super().__init__(name, doc)
        self.__dict__.update(attrs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        raise missing(self.__name__, name)

    def __dir__(self):
        return sorted(k for k in self.__dict__ if not k.startswith("_"))
