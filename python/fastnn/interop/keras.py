"""Keras 3 model objects to fastnn models and back (needs keras itself; the file readers in
keras_files do not). Both ways go through the model's serialized configuration, the same one a
.keras archive stores, and copy the weights layer by layer."""
from __future__ import annotations

import numpy as np

from . import _keras_config
from ..spec import ModelSpec, build_model, model_spec


def _keras():
    try:
        import keras
    except ImportError as e:
        raise ImportError("fastnn.interop.from_keras/to_keras need Keras 3: pip install keras (without it, "
                          "fastnn.interop.load_keras reads .keras files)") from e
    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError(f"fastnn.interop needs Keras 3, found Keras {keras.__version__}")
    return keras


def from_keras(model):
    """A fastnn Sequential with the architecture and weights of a built Keras 3 model.

    Parameters
    ----------
    model : keras.Model
        A built Keras 3 Sequential model, or a functional model that is a chain from one input to
        one output, of layers fastnn has (Dense, Activation, Dropout, the normalization layers,
        ...). A layer outside them raises ValueError naming it; an unbuilt model raises ValueError;
        another type TypeError. Needs keras 3 installed (ImportError otherwise).

    Returns
    -------
    Sequential
        A built, uncompiled fastnn model whose predictions match the Keras model's (the optimizer
        and compile settings are not carried over).
    """
    keras = _keras()
    if not isinstance(model, keras.Model):
        raise TypeError(f"from_keras: model must be a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("from_keras: the Keras model is not built; call it on data or give it an Input")
    spec, sources = _keras_config.spec_from_keras(keras.saving.serialize_keras_object(model))
    weights = [np.asarray(w) for name in sources for w in model.get_layer(name).get_weights()]
    return build_model(spec, weights)


def to_keras(model):
    """A Keras 3 Sequential model with the architecture and weights of the fastnn model.

    Parameters
    ----------
    model : Model
        A built fastnn model (ValueError when it is not built). Needs keras 3 installed (ImportError
        otherwise); fastnn.interop.save_keras writes a .keras file without it.

    Returns
    -------
    keras.Sequential
        A new, uncompiled Keras model with the same layers (names, configurations) and weights.
    """
    keras = _keras()
    spec = model if isinstance(model, ModelSpec) else model_spec(model)
    config, weighted, _ = _keras_config.keras_from_spec(spec)
    out = keras.saving.deserialize_keras_object(config)
    per_layer = split_weights(spec, model.get_weights())
    for name, i in weighted:
        out.get_layer(name).set_weights(per_layer[i])
    return out


def split_weights(spec, arrays):
    """The model's flat weight list, grouped by spec layer.

    Parameters
    ----------
    spec : ModelSpec
        The model's description.
    arrays : iterable of numpy.ndarray
        The model's weights in spec.variables() order (model.get_weights()).

    Returns
    -------
    list of list
        One list per layer of spec.layers, holding that layer's arrays ([] for layers without
        variables).
    """
    arrays = list(arrays)
    groups, k = [], 0
    for ls in spec.layers:
        groups.append(arrays[k:k + len(ls.variables)])
        k += len(ls.variables)
    return groups
