"""tf.keras-shaped names for porting MLP code: after `import fastnn as tf`, `tf.keras.Sequential`,
`tf.keras.layers.Dense`, `tf.keras.optimizers.Adam`, `tf.keras.callbacks.EarlyStopping`,
`tf.keras.utils.to_categorical`, ... resolve to fastnn. Names outside fastnn's scope (Conv2D, LSTM,
...) raise NotImplementedError naming the feature."""
from __future__ import annotations

import types

from . import activations, callbacks, initializers, layers, losses, metrics, optimizers, regularizers
from . import schedules, utils
from . import models as _models
from .layers import Input
from .models import Model, Sequential, load_model

optimizers.schedules = schedules


class _Namespace(types.ModuleType):
    def __init__(self, name, **attrs):
        super().__init__(name)
        self.__dict__.update(attrs)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise NotImplementedError(f"{self.__name__}.{attr} is outside fastnn's scope (multilayer perceptrons)")


models = _Namespace("fastnn.keras.models", Sequential=Sequential, Model=Model, load_model=load_model,
                    clone_model=lambda m: Sequential.from_config(m.get_config()))
backend = _Namespace("fastnn.keras.backend", clear_session=lambda *a, **k: None,
                     floatx=lambda: "float32", epsilon=lambda: 1e-7)


def __getattr__(name):
    raise NotImplementedError(f"fastnn.keras.{name} is outside fastnn's scope (multilayer perceptrons)")
