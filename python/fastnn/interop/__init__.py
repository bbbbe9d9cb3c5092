"""Models in and out of fastnn: PyTorch modules, Keras 3 models, and Keras's own files.

Every converter goes through the one model description (ModelSpec): a fastnn model is described,
the description is translated, and the other side is built from the translation."""
from __future__ import annotations

__all__ = ["from_torch", "to_torch", "from_keras", "to_keras", "load_keras", "load_keras_weights",
           "save_keras"]


def __getattr__(name):
    # Each converter imports its library (torch, keras, h5py) only when it is used.
    import importlib

    if name in ("from_torch", "to_torch"):
        return getattr(importlib.import_module(__name__ + ".torch"), name)
    if name in ("from_keras", "to_keras"):
        return getattr(importlib.import_module(__name__ + ".keras"), name)
    if name in ("load_keras", "load_keras_weights", "save_keras"):
        return getattr(importlib.import_module(__name__ + ".keras_files"), name)
    raise AttributeError(f"module 'fastnn.interop' has no attribute {name!r}")
