"""ModelSpec, provisionally: the contract of fastnn.spec (architecture + named variables in Keras
layout), built here from the model's public API (get_config, layers, weights, set_weights) so that
the converters can be written against the contract alone. When fastnn.spec lands, this module's body
becomes `from fastnn.spec import *`; nothing else in interop/ or export/ may depend on more than the
names defined here."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_KINDS = {"Dense": "dense", "Activation": "activation", "Dropout": "dropout",
          "BatchNormalization": "batch_normalization", "LayerNormalization": "layer_normalization",
          "Flatten": "flatten"}
_CLASSES = {v: k for k, v in _KINDS.items()}


@dataclass(frozen=True)
class VariableSpec:
    name: str
    shape: tuple
    trainable: bool


@dataclass(frozen=True)
class LayerSpec:
    kind: str
    name: str
    config: dict
    input_shape: tuple
    output_shape: tuple
    variables: tuple


@dataclass(frozen=True)
class ModelSpec:
    name: str
    input_shape: tuple
    dtype: str
    layers: tuple

    def variables(self) -> list:
        return [(i, v) for i, layer in enumerate(self.layers) for v in layer.variables]

    def variable_names(self) -> list:
        return [f"{self.layers[i].name}/{v.name}" for i, v in self.variables()]

    def to_dict(self) -> dict:
        return {"name": self.name, "input_shape": list(self.input_shape), "dtype": self.dtype,
                "layers": [{"kind": l.kind, "name": l.name, "config": dict(l.config),
                            "input_shape": list(l.input_shape), "output_shape": list(l.output_shape),
                            "variables": [{"name": v.name, "shape": list(v.shape), "trainable": v.trainable}
                                          for v in l.variables]} for l in self.layers]}

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        def field(obj, key, types, where):
            if not isinstance(obj, dict) or key not in obj or not isinstance(obj[key], types):
                raise ValueError(f"ModelSpec: {where}{key} missing or of the wrong type "
                                 f"(got {type(obj.get(key)).__name__ if isinstance(obj, dict) else obj!r})")
            return obj[key]

        def shape(v, where):
            if not isinstance(v, (list, tuple)) or not all(
                    isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in v):
                raise ValueError(f"ModelSpec: {where} must be a list of positive ints, got {v!r}")
            return tuple(v)

        dtype = field(d, "dtype", str, "")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"ModelSpec: dtype must be 'float32' or 'float64', got {dtype!r}")
        layers = []
        for i, ld in enumerate(field(d, "layers", list, "")):
            where = f"layers[{i}]."
            kind = field(ld, "kind", str, where)
            if kind not in _CLASSES:
                raise ValueError(f"ModelSpec: {where}kind {kind!r} is not one of {sorted(_CLASSES)}")
            variables = tuple(
                VariableSpec(field(vd, "name", str, f"{where}variables[{j}]."),
                             shape(field(vd, "shape", list, f"{where}variables[{j}]."),
                                   f"{where}variables[{j}].shape"),
                             bool(field(vd, "trainable", bool, f"{where}variables[{j}].")))
                for j, vd in enumerate(field(ld, "variables", list, where)))
            layers.append(LayerSpec(kind, field(ld, "name", str, where), dict(field(ld, "config", dict, where)),
                                    shape(field(ld, "input_shape", list, where), where + "input_shape"),
                                    shape(field(ld, "output_shape", list, where), where + "output_shape"),
                                    variables))
        return cls(field(d, "name", str, ""), shape(field(d, "input_shape", list, ""), "input_shape"),
                   dtype, tuple(layers))


def model_spec(model) -> ModelSpec:
    if not getattr(model, "built", False):
        raise ValueError("model_spec: the model must be built (give it an input shape)")
    names = [v.name for v in model.weights]
    weights = list(model.weights)
    layers, k = [], 0
    for layer in model.layers:
        kind = _KINDS.get(type(layer).__name__)
        if kind is None:
            raise ValueError(f"model_spec: layer {layer.name!r} of class {type(layer).__name__} has no spec kind")
        n = len(layer.weights)
        vs = tuple(VariableSpec(names[k + j].split("/", 1)[1], tuple(weights[k + j].shape),
                                bool(weights[k + j].trainable)) for j in range(n))
        k += n
        cfg = layer.get_config()
        cfg.pop("input_shape", None)
        layers.append(LayerSpec(kind, layer.name, cfg, tuple(layer.input_shape), tuple(layer.output_shape), vs))
    return ModelSpec(model.name, tuple(model.input_shape[1:]), model.dtype, tuple(layers))


def build_model(spec: ModelSpec, weights=None, seed=None):
    from .. import layers as _layers
    from .. import utils
    from ..models import Sequential

    if not isinstance(spec, ModelSpec):
        raise TypeError(f"build_model: spec must be a ModelSpec, got {type(spec).__name__}")
    if seed is not None:
        utils.set_random_seed(seed)
    model = Sequential([_layers.Input(shape=tuple(spec.input_shape))], name=spec.name, dtype=spec.dtype)
    for ls in spec.layers:
        cfg = dict(ls.config)
        cfg["name"] = ls.name
        model.add(getattr(_layers, _CLASSES[ls.kind]).from_config(cfg))
    model.build()
    expected = spec.variables()
    names = spec.variable_names()
    for (i, v), got in zip(expected, model.weights):
        if tuple(got.shape) != tuple(v.shape):
            raise ValueError(f"build_model: variable {spec.layers[i].name}/{v.name} has shape {v.shape} in "
                             f"the spec, but the layer built it as {tuple(got.shape)}")
    if weights is None:
        return model
    if isinstance(weights, dict):
        missing = [n for n in names if n not in weights]
        extra = sorted(set(weights) - set(names))
        if missing or extra:
            raise ValueError(f"weights: missing {missing}, unexpected {extra}")
        weights = [weights[n] for n in names]
    weights = list(weights)
    if len(weights) != len(names):
        raise ValueError(f"weights: expected {len(names)} arrays ({names}), got {len(weights)}")
    arrays = []
    for n, (_, v), w in zip(names, expected, weights):
        w = np.asarray(w)
        if tuple(w.shape) != tuple(v.shape):
            raise ValueError(f"weights: variable {n} expected shape {tuple(v.shape)}, got {w.shape}")
        arrays.append(w)
    model.set_weights(arrays)
    return model


__all__ = ["VariableSpec", "LayerSpec", "ModelSpec", "model_spec", "build_model"]
