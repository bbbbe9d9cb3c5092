"""fastnn.keras: tf.keras's module tree over fastnn, so MLP code ports by changing the import.

`from tensorflow.keras.layers import Dense` becomes `from fastnn.keras.layers import Dense`,
`from keras import ops` becomes `from fastnn.keras import ops`, and after `import fastnn as tf`,
`tf.keras.Sequential`, `tf.keras.layers.Dense`, `tf.keras.optimizers.schedules.ExponentialDecay`,
`tf.keras.callbacks.EarlyStopping`, ... resolve to fastnn. Every other public name raises
NotImplementedError naming the feature (Conv2D, LSTM, datasets that need a download, ...).
"""
from __future__ import annotations

import importlib

from .._mirror import missing as _missing
from ..layers import Input, InputLayer
from ..models import Model, Sequential, clone_model, load_model
from . import (activations, backend, callbacks, initializers, layers, losses, metrics, models, ops,
               optimizers, regularizers, saving, utils, wrappers)
from .saving import save_model

__version__ = "3-compatible (fastnn)"

# Imported on first use: mixed_precision raises NotImplementedError where fastnn has no such module.
_LAZY = ("mixed_precision",)

__all__ = ["Sequential", "Model", "Input", "InputLayer", "load_model", "save_model", "clone_model",
           "layers", "activations", "losses", "metrics", "optimizers", "callbacks", "initializers",
           "regularizers", "models", "utils", "backend", "saving", "ops", "wrappers"]


def __getattr__(name):
    if name.startswith("_"):
        raise AttributeError(f"module 'fastnn.keras' has no attribute {name!r}")
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise _missing("fastnn.keras", name)
