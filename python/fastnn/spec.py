"""ModelSpec: the one description of a model.

The architecture (each layer's kind, Keras-style configuration and shapes) and its named variables
with their shapes in Keras layout (Dense kernel (in, out), bias (out,); normalization vectors
(features,)). A model produces it (`model.spec()`), and builds from it (`build_model`); the model
file, interop, ONNX export and the native layer factory read it, so none of them re-derives shapes.

`ModelSpec.from_dict` checks a description completely before anything is built: every field's type,
that the shapes chain from layer to layer, and that each layer's shapes and variables are the ones
its configuration implies.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from . import _limits

#: Layer kinds, each with the fastnn layer class that implements it.
KINDS: tuple[str, ...] = ("dense", "activation", "dropout", "batch_normalization", "layer_normalization", "flatten")
_CLASS_OF = {"dense": "Dense", "activation": "Activation", "dropout": "Dropout",
             "batch_normalization": "BatchNormalization", "layer_normalization": "LayerNormalization",
             "flatten": "Flatten"}
_MAX_LAYERS = _limits.MAX_LAYERS
_MAX_NDIM = 8
_MAX_DIM = _limits.MAX_WIDTH


@dataclass(frozen=True)
class VariableSpec:
    name: str
    shape: tuple
    trainable: bool

    def to_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "trainable": self.trainable}


@dataclass(frozen=True)
class LayerSpec:
    kind: str
    name: str
    config: dict
    input_shape: tuple
    output_shape: tuple
    variables: tuple

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "config": _json_copy(self.config, "config"),
                "input_shape": list(self.input_shape), "output_shape": list(self.output_shape),
                "variables": [v.to_dict() for v in self.variables]}


@dataclass(frozen=True)
class ModelSpec:
    """A model's architecture and named variables, as saving, interop and export read it (immutable).

    Made by model.spec() (or fastnn.spec.model_spec) and turned back into a model by build_model;
    to_dict() / from_dict() give a JSON-compatible form, checked completely on the way in.

    Parameters
    ----------
    name : str
        The model's name.
    input_shape : tuple of int
        The shape of one input sample, without the batch dimension.
    dtype : {"float32", "float64"}
        The model's dtype.
    layers : tuple of LayerSpec
        One entry per layer, in order: its kind, name, Keras-style configuration, input and output
        sample shapes and variables (names, shapes in Keras layout, trainable flags).
    """

    name: str
    input_shape: tuple
    dtype: str
    layers: tuple

    def variables(self) -> list:
        """Every variable of the model with the index of its layer.

        Returns
        -------
        list of (int, VariableSpec)
            (layer index, VariableSpec) pairs in get_weights() order.
        """
        return [(i, v) for i, layer in enumerate(self.layers) for v in layer.variables]

    def variable_names(self) -> list:
        """The variables' paths, as weight dicts and model files key them.

        Returns
        -------
        list of str
            "layer_name/variable_name" for each variable, in get_weights() order.
        """
        return [f"{self.layers[i].name}/{v.name}" for i, v in self.variables()]

    def count_params(self) -> int:
        """The number of scalars in the model's variables (moving statistics included).

        Returns
        -------
        int
            The sum of the variables' sizes, as model.count_params() gives.
        """
        return sum(math.prod(v.shape) for _i, v in self.variables())

    def to_dict(self) -> dict:
        """The spec as plain JSON-compatible data (lists for shapes), the inverse of from_dict.

        Returns
        -------
        dict
            {"name", "input_shape", "dtype", "layers": [{"kind", "name", "config", "input_shape",
            "output_shape", "variables": [{"name", "shape", "trainable"}, ...]}, ...]}.
        """
        return {"name": self.name, "input_shape": list(self.input_shape), "dtype": self.dtype,
                "layers": [layer.to_dict() for layer in self.layers]}

    @classmethod
    def from_dict(cls, d) -> "ModelSpec":
        """A ModelSpec from to_dict()'s form, checked field by field before anything is built.

        Parameters
        ----------
        d : dict
            to_dict()'s form. Every field's type is checked, the shapes must chain from layer to
            layer, layer names must be unique, and each layer's output shape and variables must be
            the ones its configuration implies; the first violation raises ValueError naming the
            field (for example "ModelSpec.layers[2].variables").

        Returns
        -------
        ModelSpec
            The checked description.
        """
        _expect(isinstance(d, dict), "ModelSpec", "a dict", d)
        name = d.get("name")
        _expect(isinstance(name, str), "ModelSpec.name", "a str", name)
        input_shape = _shape(d.get("input_shape"), "ModelSpec.input_shape")
        dtype = d.get("dtype")
        _expect(dtype in ("float32", "float64"), "ModelSpec.dtype", "'float32' or 'float64'", dtype)
        raw = d.get("layers")
        _expect(isinstance(raw, list), "ModelSpec.layers", "a list", raw)
        _expect(len(raw) <= _MAX_LAYERS, "ModelSpec.layers", f"at most {_MAX_LAYERS} layers", f"{len(raw)} layers")
        layers, names, shape = [], set(), input_shape
        for i, ld in enumerate(raw):
            layer = _layer_from_dict(ld, f"ModelSpec.layers[{i}]")
            _expect(layer.name not in names, f"ModelSpec.layers[{i}].name", "a name unique in the model",
                    layer.name)
            names.add(layer.name)
            _expect(layer.input_shape == shape, f"ModelSpec.layers[{i}].input_shape",
                    f"{shape} (the previous output)", layer.input_shape)
            _check_layer(layer, f"ModelSpec.layers[{i}]")
            layers.append(layer)
            shape = layer.output_shape
        return cls(name=name, input_shape=input_shape, dtype=dtype, layers=tuple(layers))


# ---------------------------------------------------------------------------------------- checks
def _expect(ok, field, expected, got):
    if not ok:
        text = repr(got)
        raise ValueError(f"{field}: expected {expected}, got {text[:200]}")


def _shape(v, field):
    _expect(isinstance(v, (list, tuple)) and len(v) <= _MAX_NDIM and all(
        isinstance(s, int) and not isinstance(s, bool) and 0 < s <= _MAX_DIM for s in v),
        field, f"a list of at most {_MAX_NDIM} positive ints", v)
    return tuple(int(s) for s in v)


def _json_copy(v, field):
    try:
        return json.loads(json.dumps(v))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{field}: expected JSON-safe values ({e})") from None


def _layer_from_dict(d, field):
    _expect(isinstance(d, dict), field, "a dict", d)
    kind = d.get("kind")
    _expect(kind in KINDS, f"{field}.kind", f"one of {KINDS}", kind)
    name = d.get("name")
    _expect(isinstance(name, str) and name != "", f"{field}.name", "a non-empty str", name)
    config = d.get("config")
    _expect(isinstance(config, dict), f"{field}.config", "a dict", config)
    raw_vars = d.get("variables")
    _expect(isinstance(raw_vars, list), f"{field}.variables", "a list", raw_vars)
    variables = []
    for j, vd in enumerate(raw_vars):
        vf = f"{field}.variables[{j}]"
        _expect(isinstance(vd, dict), vf, "a dict", vd)
        _expect(isinstance(vd.get("name"), str), f"{vf}.name", "a str", vd.get("name"))
        _expect(isinstance(vd.get("trainable"), bool), f"{vf}.trainable", "a bool", vd.get("trainable"))
        variables.append(VariableSpec(vd["name"], _shape(vd.get("shape"), f"{vf}.shape"), vd["trainable"]))
    return LayerSpec(kind=kind, name=name, config=_json_copy(config, f"{field}.config"),
                     input_shape=_shape(d.get("input_shape"), f"{field}.input_shape"),
                     output_shape=_shape(d.get("output_shape"), f"{field}.output_shape"),
                     variables=tuple(variables))


def layer_from_spec(layer_spec: LayerSpec):
    """The fastnn layer a LayerSpec describes (fresh, not built)."""
    from . import layers as _layers

    config = dict(layer_spec.config)
    config["name"] = layer_spec.name
    return _layers.deserialize({"class_name": _CLASS_OF[layer_spec.kind], "config": config})


def _check_layer(ls: LayerSpec, field):
    """The shapes and variables the layer's configuration implies must be the ones described."""
    try:
        layer = layer_from_spec(ls)
        layer.input_shape = ls.input_shape
        out = tuple(layer.compute_output_shape(ls.input_shape))
        if len(ls.input_shape) > 1 and not layer._accepts_any_rank:
            raise ValueError(f"needs flat inputs, got samples of shape {ls.input_shape}")
        names, shapes = layer._variable_names(), [tuple(s) for s in layer._param_shapes()]
    except (TypeError, ValueError, NotImplementedError, KeyError) as e:
        raise ValueError(f"{field}.config: the configuration is invalid ({type(e).__name__}: "
                         f"{str(e)[:200]})") from None
    _expect(out == ls.output_shape, f"{field}.output_shape", f"{out} (from the configuration)", ls.output_shape)
    got = [(v.name, v.shape) for v in ls.variables]
    _expect(got == list(zip(names, shapes)), f"{field}.variables",
            f"{list(zip(names, shapes))} (from the configuration)", got)
    moving = layer._moving_variables()
    for v in ls.variables:
        _expect(not (v.trainable and v.name in moving), f"{field}.variables ({v.name}).trainable",
                "False for a moving statistic", v.trainable)


# ---------------------------------------------------------------------------------------- model <-> spec
def model_spec(model) -> ModelSpec:
    """The ModelSpec of a built model (also model.spec()).

    Parameters
    ----------
    model : Model
        A built fastnn model (ValueError when it is not built yet).

    Returns
    -------
    ModelSpec
        Its architecture and variables; the weights' values are not part of it (model.get_weights()
        gives them in spec.variables() order).
    """
    if not model.built:
        raise ValueError("spec: the model is not built yet; call build() or fit() first, or give the first "
                         "layer an input shape")
    return describe(model)


def describe(model) -> ModelSpec:
    """The ModelSpec of a model whose layers' shapes are inferred (while it is being built)."""
    out = []
    for layer in model.layers:
        moving = layer._moving_variables()
        names = layer._variable_names()
        shapes = [tuple(int(d) for d in s) for s in layer._param_shapes()]
        trainable = layer.trainable and model.trainable
        out.append(LayerSpec(
            kind=layer._spec_kind, name=layer.name, config=_json_copy(layer.get_config(), f"{layer.name} config"),
            input_shape=tuple(layer.input_shape), output_shape=tuple(layer.output_shape),
            variables=tuple(VariableSpec(n, s, bool(trainable and n not in moving)) for n, s in zip(names, shapes))))
    return ModelSpec(name=model.name, input_shape=tuple(model._input_shape), dtype=model.dtype, layers=tuple(out))


def check_weights(spec: ModelSpec, weights, what="weights") -> list:
    """weights (a list in spec.variables() order or a {"layer/var": array} dict) as a list of arrays,
    every shape checked against the spec (ValueError names the variable)."""
    names = spec.variable_names()
    shapes = [v.shape for _i, v in spec.variables()]
    if isinstance(weights, dict):
        missing = [n for n in names if n not in weights]
        extra = sorted(set(weights) - set(names))
        if missing or extra:
            raise ValueError(f"{what}: expected the variables {names}; missing {missing}, unknown {extra}")
        arrays = [weights[n] for n in names]
    else:
        arrays = list(weights)
        if len(arrays) != len(names):
            raise ValueError(f"{what}: expected {len(names)} arrays ({names}), got {len(arrays)}")
    out = []
    for n, s, a in zip(names, shapes, arrays):
        a = np.asarray(a)
        if a.shape != s:
            raise ValueError(f"{what}: variable {n!r} expected shape {s}, got {a.shape}")
        out.append(a)
    return out


_model_class = None


def register_model_class(cls):
    """fastnn.models hands its Sequential in here, so that this module never imports models."""
    global _model_class
    _model_class = cls


def build_model(spec, weights=None, seed=None):
    """A Sequential model built from a ModelSpec (or its dict form).

    Parameters
    ----------
    spec : ModelSpec or dict
        The description; a dict is checked by ModelSpec.from_dict. Another type raises TypeError.
    weights : list or dict of array_like, optional
        The variables' values: a list in spec.variables() order or a {"layer/var": array} dict,
        each shape checked against the spec (ValueError names the variable). None draws fresh
        values from the layers' initializers.
    seed : int, optional
        The new model's seed (its initializers and dropout masks).

    Returns
    -------
    Sequential
        A built, uncompiled model; a layer whose variables are all marked non-trainable in the spec
        is frozen.
    """
    from . import layers as _layers

    Sequential = _model_class
    if Sequential is None:
        raise RuntimeError("build_model: import fastnn first")
    if isinstance(spec, dict):
        spec = ModelSpec.from_dict(spec)
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec: expected a ModelSpec or its dict form, got {type(spec).__name__}")
    arrays = None if weights is None else check_weights(spec, weights)
    model = Sequential([_layers.Input(shape=spec.input_shape)] + [layer_from_spec(ls) for ls in spec.layers],
                       name=spec.name, dtype=spec.dtype, seed=seed)
    built = model_spec(model)
    for i, (a, b) in enumerate(zip(built.layers, spec.layers)):
        if (a.output_shape, [(v.name, v.shape) for v in a.variables]) != \
                (b.output_shape, [(v.name, v.shape) for v in b.variables]):
            raise ValueError(f"spec: layer {i} ({b.name!r}) does not build as described")
    for layer, ls in zip(model.layers, spec.layers):
        moving = layer._moving_variables()
        wanted = [v.trainable for v in ls.variables if v.name not in moving]
        if wanted and not any(wanted) and layer.trainable:
            layer.trainable = False
    if arrays is not None:
        model.set_weights(arrays)
    return model
