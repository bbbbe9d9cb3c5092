"""tf.keras-shaped names for porting MLP code: after `import fastnn as tf`, `tf.keras.Sequential`,
`tf.keras.layers.Dense`, `tf.keras.optimizers.Adam`, `tf.keras.optimizers.schedules.ExponentialDecay`,
`tf.keras.callbacks.EarlyStopping`, `tf.keras.utils.to_categorical`, `tf.keras.models.load_model`, ...
resolve to fastnn. Names outside fastnn's scope (Conv2D, LSTM, datasets that need a download, ...)
raise NotImplementedError naming the feature.
"""
from __future__ import annotations

import types

import numpy as np

from . import activations, callbacks, initializers, layers, losses, metrics, optimizers, regularizers
from . import utils as _utils
from .layers import Input, InputLayer
from .models import Model, Sequential, clone_model, load_model

__version__ = "3-compatible (fastnn)"


class _Namespace(types.ModuleType):
    """A sub-namespace of fastnn.keras: the names it holds, NotImplementedError for the rest."""

    def __init__(self, name, **attrs):
        super().__init__(name)
        self.__dict__.update(attrs)

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        raise NotImplementedError(f"{self.__name__}.{attr} is outside fastnn's scope (multilayer perceptrons)")

    def __dir__(self):
        return sorted(k for k in self.__dict__ if not k.startswith("_"))


def _normalize(x, axis=-1, order=2):
    """Scales x to unit norm along axis (Keras's utils.normalize)."""
    x = np.asarray(x, dtype=np.float64 if np.asarray(x).dtype == np.float64 else np.float32)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm


models = _Namespace("fastnn.keras.models", Sequential=Sequential, Model=Model, load_model=load_model,
                    clone_model=clone_model, save_model=lambda model, filepath, overwrite=True, **kw:
                    model.save(filepath, overwrite=overwrite))
utils = _Namespace("fastnn.keras.utils", to_categorical=_utils.to_categorical,
                   set_random_seed=_utils.set_random_seed, normalize=_normalize)
backend = _Namespace("fastnn.keras.backend", clear_session=lambda *a, **k: None,
                     floatx=lambda: "float32", epsilon=lambda: 1e-7, backend=lambda: "fastnn")
saving = _Namespace("fastnn.keras.saving", load_model=load_model,
                    save_model=lambda model, filepath, overwrite=True, **kw: model.save(filepath, overwrite=overwrite))

__all__ = ["Sequential", "Model", "Input", "InputLayer", "layers", "activations", "losses", "metrics",
           "optimizers", "callbacks", "initializers", "regularizers", "models", "utils", "backend",
           "saving", "load_model"]


def __getattr__(name):
    if name == "wrappers":          # imported on first use: it needs scikit-learn
        from . import wrappers

        return wrappers
    if name.startswith("_"):
        raise AttributeError(f"module 'fastnn.keras' has no attribute {name!r}")
    raise NotImplementedError(f"fastnn.keras.{name} is outside fastnn's scope (multilayer perceptrons)")
