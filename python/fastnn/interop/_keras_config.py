"""Keras 3's serialized model configuration (config.json of a .keras archive, or
keras.saving.serialize_keras_object(model)) to ModelSpec and back. Shared by the Keras object
converters and the file readers, which differ only in where the weights come from.

Keras keeps each layer's variables in creation order, the order of ModelSpec's variables, so the
weights of a model are the concatenation of its weighted layers' weights in layer order."""
from __future__ import annotations

import re

from .. import activations as _activations
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from . import _naming
from ..spec import ModelSpec

_KERAS_CLASS = {"dense": "Dense", "activation": "Activation", "dropout": "Dropout",
                "batch_normalization": "BatchNormalization", "layer_normalization": "LayerNormalization",
                "flatten": "Flatten"}
_ACTIVATION_LAYERS = ("ReLU", "LeakyReLU", "ELU", "Softmax")


def snake_case(class_name: str) -> str:
    """Keras's key for a layer class in a weights file (ReLU -> re_lu, BatchNormalization ->
    batch_normalization)."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def weight_keys(class_names):
    """The weights-file key of each layer, given the layers' class names in model order: the class's
    snake-case name, then _1, _2 ... for later layers of the same class."""
    used: dict = {}
    keys = []
    for c in class_names:
        base = snake_case(c)
        if base in used:
            used[base] += 1
            keys.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            keys.append(base)
    return keys


# ------------------------------------------------------------------------------- Keras -> spec
def _plain(obj):
    """A serialized Keras object ({module, class_name, config, registered_name}) reduced to the
    {class_name, config} form fastnn's get() functions take; strings and None pass through."""
    if isinstance(obj, dict) and "class_name" in obj:
        return {"class_name": obj["class_name"], "config": dict(obj.get("config") or {})}
    return obj


def _try(getter, serializer, obj):
    """obj as fastnn serializes it, or None when fastnn does not know it (initializers only decide
    fresh weights; converted models get their weights from the source)."""
    try:
        return serializer(getter(_plain(obj)))
    except (TypeError, ValueError, NotImplementedError):
        return None


def _dtype_name(d):
    if isinstance(d, dict):
        d = (d.get("config") or {}).get("name")
    return d


def _activation_config(cls, c, where):
    """The fastnn activation config of a Keras Activation layer or activation layer class."""
    if cls == "Activation":
        act = c.get("activation")
        if isinstance(act, dict):   # a serialized function: keep its name
            act = (act.get("config") or {}).get("name", act.get("class_name"))
    elif cls == "ReLU":
        kw = {k: c[k] for k in ("max_value", "negative_slope", "threshold")
              if c.get(k) not in (None, 0, 0.0)}
        act = {"name": "relu", **{k: float(v) for k, v in kw.items()}} if kw else "relu"
    elif cls == "LeakyReLU":
        act = {"name": "leaky_relu", "negative_slope": float(c.get("negative_slope", c.get("alpha", 0.3)))}
    elif cls == "ELU":
        act = {"name": "elu", "alpha": float(c.get("alpha", 1.0))}
    else:  # Softmax
        if c.get("axis", -1) not in (-1, 1, [-1]):
            raise ValueError(f"{where}: Softmax over axis {c.get('axis')!r} is not supported (only -1)")
        act = "softmax"
    try:
        return _activations.serialize(_activations.get(act))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: {e}") from None


def _chain_layers(model_cfg):
    """The layer entries of a Sequential or of a Functional model that is a chain, in order."""
    cls = model_cfg.get("class_name")
    cfg = model_cfg.get("config") or {}
    entries = cfg.get("layers")
    if cls not in ("Sequential", "Functional", "Model") or not isinstance(entries, list):
        raise ValueError(f"Keras model: only Sequential models and functional chains are supported, got {cls!r}")
    if cls == "Sequential":
        return entries
    prev = None
    for e in entries:
        c = e.get("config") or {}
        nodes = e.get("inbound_nodes") or []
        if e.get("class_name") == "InputLayer":
            if prev is not None:
                raise ValueError("Keras model: several inputs are outside fastnn's scope")
        else:
            sources = [a.get("config", {}).get("keras_history", [None])[0]
                       for n in nodes for a in (n.get("args") or []) if isinstance(a, dict)]
            if len(nodes) != 1 or sources != [prev]:
                raise ValueError(f"Keras model: layer {c.get('name')!r} ({e.get('class_name')}) is not applied to the previous layer's "
                                 "output alone; only chains of layers are supported")
        prev = c.get("name")
    outs = cfg.get("output_layers") or []
    if outs and isinstance(outs[0], str):   # one output is stored as [name, node, tensor]
        outs = [outs]
    if len(outs) != 1 or not isinstance(outs[0], list) or not outs[0] or outs[0][0] != prev:
        raise ValueError("Keras model: the output is not the last layer of the chain")
    return entries


def spec_from_keras(model_cfg: dict, weight_shapes=None):
    """(ModelSpec, [keras layer name of each weighted spec layer, in order]) of a serialized Keras
    model. weight_shapes is not needed: shapes follow from the configuration."""
    entries = _chain_layers(model_cfg)
    cfg = model_cfg.get("config") or {}
    dtype = _dtype_name(cfg.get("dtype")) or "float32"
    input_shape = None
    layers, sources = [], []
    shape = None
    for i, e in enumerate(entries):
        cls, c = e.get("class_name"), dict(e.get("config") or {})
        lname = c.get("name") or f"layer_{i}"
        where = f"Keras layer {lname!r} ({cls})"
        if cls == "InputLayer":
            bs = c.get("batch_shape") or c.get("batch_input_shape")
            if not bs or any(d is None for d in bs[1:]):
                raise ValueError(f"{where}: the input shape {bs} is not fully known")
            shape = input_shape = tuple(int(d) for d in bs[1:])
            dtype = _dtype_name(c.get("dtype")) or dtype
            continue
        if shape is None:
            bc = (e.get("build_config") or {}).get("input_shape") or cfg.get("build_input_shape")
            if not bc or any(d is None for d in bc[1:]):
                raise ValueError(f"{where}: the model's input shape is not stored; build the model first")
            shape = input_shape = tuple(int(d) for d in bc[1:])
        layer_dtype = _dtype_name(c.get("dtype"))
        if layer_dtype not in (None, dtype):
            raise ValueError(f"{where}: dtype {layer_dtype!r} differs from the model's {dtype!r}; fastnn "
                             "models have one dtype")
        trainable = bool(c.get("trainable", True))
        if cls == "Dense":
            for k in ("kernel_constraint", "bias_constraint", "activity_regularizer"):
                if c.get(k) is not None:
                    raise ValueError(f"{where}: {k} is not supported by fastnn")
            if c.get("quantization_config") is not None or c.get("lora_rank"):
                raise ValueError(f"{where}: quantized or LoRA Dense layers are not supported")
            act = c.get("activation", "linear")
            fc = {"units": int(c["units"]), "activation": _activation_config("Activation", {"activation": act}, where),
                  "use_bias": bool(c.get("use_bias", True))}
            for k, get, ser in (("kernel_initializer", _initializers.get, _initializers.serialize),
                                ("bias_initializer", _initializers.get, _initializers.serialize),
                                ("kernel_regularizer", _regularizers.get, _regularizers.serialize),
                                ("bias_regularizer", _regularizers.get, _regularizers.serialize)):
                v = _try(get, ser, c.get(k))
                if v is not None:
                    fc[k] = v
            if (shape is not None and len(shape) != 1):
                raise ValueError(f"{where}: Dense on samples of shape {shape} is not supported (add Flatten)")
            n_in = shape[0]
            var: list[tuple] = [("kernel", (n_in, fc["units"]), trainable)] + (
                [("bias", (fc["units"],), trainable)] if fc["use_bias"] else [])
            kind = "dense"
        elif cls == "Activation" or cls in _ACTIVATION_LAYERS:
            fc, var, kind = {"activation": _activation_config(cls, c, where)}, [], "activation"
        elif cls == "Dropout":
            if c.get("noise_shape") is not None:
                raise ValueError(f"{where}: noise_shape is not supported by fastnn")
            fc, var, kind = {"rate": float(c.get("rate", 0.0)), "seed": c.get("seed")}, [], "dropout"
        elif cls == "Flatten":
            fc, var, kind = {}, [], "flatten"
        elif cls in ("BatchNormalization", "LayerNormalization"):
            axis = c.get("axis", -1)
            if axis not in (-1, 1, [-1], [1]) or len(shape) != 1:
                raise ValueError(f"{where}: only normalization over the features of flat samples is supported "
                                 f"(axis -1), got axis {axis!r} on samples of shape {shape}")
            if c.get("renorm") or c.get("rms_scaling"):
                raise ValueError(f"{where}: renorm / rms_scaling are not supported by fastnn")
            d = shape[0]
            center, scale = bool(c.get("center", True)), bool(c.get("scale", True))
            fc = {"axis": -1, "epsilon": float(c.get("epsilon", 1e-3)), "center": center, "scale": scale}
            var = ([("gamma", (d,), trainable)] if scale else []) + ([("beta", (d,), trainable)] if center else [])
            if cls == "BatchNormalization":
                fc["momentum"] = float(c.get("momentum", 0.99))
                var += [("moving_mean", (d,), False), ("moving_variance", (d,), False)]
                kind = "batch_normalization"
            else:
                kind = "layer_normalization"
        elif cls in ("Identity",):
            continue
        else:
            raise ValueError(f"{where}: this layer class is not supported by fastnn (it converts Dense, Activation, "
                             "ReLU, LeakyReLU, ELU, Softmax, Dropout, Flatten, BatchNormalization, "
                             "LayerNormalization)")
        fc["trainable"] = trainable
        layers.append(_naming.layer_spec(kind, lname, fc, shape, var))
        if var:
            sources.append(lname)
        shape = layers[-1].output_shape
    if dtype not in ("float32", "float64"):
        raise ValueError(f"Keras model: dtype {dtype!r} is not supported (float32 or float64)")
    if not layers:
        raise ValueError("Keras model: no layers to convert")
    assert input_shape is not None   # set by the first layer, and there is one (checked above)
    return ModelSpec(cfg.get("name") or "model", input_shape, dtype, tuple(layers)), sources


# ------------------------------------------------------------------------------- spec -> Keras
def _keras_obj(module, cls, config, input_shape=None):
    d = {"module": module, "class_name": cls, "config": config, "registered_name": None}
    if input_shape is not None:
        d["build_config"] = {"input_shape": [None, *input_shape]}
    return d


def _keras_activation_layer(act_cfg, name, dtype, input_shape, where):
    """A Keras layer entry computing the fastnn activation act_cfg."""
    a = _activations.get(act_cfg)
    k = dict(a.kwargs)
    base = {"name": name, "trainable": True, "dtype": dtype}
    if not k:
        return _keras_obj("keras.layers", "Activation", {**base, "activation": a.name}, input_shape)
    if a.name == "relu" and set(k) <= {"negative_slope", "max_value", "threshold"}:
        return _keras_obj("keras.layers", "ReLU", {**base, "max_value": k.get("max_value"),
                                                   "negative_slope": float(k.get("negative_slope", 0.0)),
                                                   "threshold": float(k.get("threshold", 0.0))}, input_shape)
    if a.name == "leaky_relu" and set(k) <= {"negative_slope"}:
        return _keras_obj("keras.layers", "LeakyReLU",
                          {**base, "negative_slope": float(k.get("negative_slope", 0.2))}, input_shape)
    if a.name == "elu" and set(k) <= {"alpha"}:
        return _keras_obj("keras.layers", "ELU", {**base, "alpha": float(k.get("alpha", 1.0))}, input_shape)
    if a.name == "gelu" and not k.get("approximate", True):
        return _keras_obj("keras.layers", "Activation", {**base, "activation": "gelu"}, input_shape)
    raise ValueError(f"{where}: activation {a.get_config()} has no Keras layer or activation name")


def keras_from_spec(spec: ModelSpec):
    """(serialized Keras Sequential config, [(keras layer name, spec layer index)] of the weighted
    layers in order, [class name of each Keras layer in order])."""
    dt = spec.dtype
    entries = [_keras_obj("keras.layers", "InputLayer", {"batch_shape": [None, *spec.input_shape], "dtype": dt,
                                                         "sparse": False, "name": f"{spec.name}_input"})]
    weighted = []
    taken = {ls.name for ls in spec.layers}
    for i, ls in enumerate(spec.layers):
        c = ls.config
        base = {"name": ls.name, "trainable": bool(c.get("trainable", True)), "dtype": dt}
        where = f"layer {ls.name!r}"
        if ls.kind == "dense":
            act = _activations.get(c.get("activation"))
            plain = not act.kwargs or (act.name == "gelu" and not act.kwargs.get("approximate", True))
            kc = {**base, "units": int(c["units"]), "activation": act.name if plain else "linear",
                  "use_bias": bool(c.get("use_bias", True))}
            for key in ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer"):
                v = c.get(key)
                if isinstance(v, dict):
                    kc[key] = _keras_obj("keras.initializers" if "initializer" in key else "keras.regularizers",
                                         v["class_name"], dict(v.get("config") or {}))
            entries.append(_keras_obj("keras.layers", "Dense", kc, ls.input_shape))
            weighted.append((ls.name, i))
            if not plain:
                name = _naming.unique_names(sorted(taken) + [f"{ls.name}_activation"])[-1]
                taken.add(name)
                entries.append(_keras_activation_layer(act.get_config(), name, dt, ls.output_shape, where))
        elif ls.kind == "activation":
            entries.append(_keras_activation_layer(c["activation"], ls.name, dt, ls.input_shape, where))
        elif ls.kind == "dropout":
            entries.append(_keras_obj("keras.layers", "Dropout", {**base, "rate": float(c["rate"]),
                                                                  "seed": c.get("seed"), "noise_shape": None},
                                      ls.input_shape))
        elif ls.kind == "flatten":
            entries.append(_keras_obj("keras.layers", "Flatten", {**base, "data_format": "channels_last"},
                                      ls.input_shape))
        elif ls.kind in ("batch_normalization", "layer_normalization"):
            kc = {**base, "axis": -1, "epsilon": float(c["epsilon"]), "center": bool(c.get("center", True)),
                  "scale": bool(c.get("scale", True))}
            if ls.kind == "batch_normalization":
                kc["momentum"] = float(c["momentum"])
            entries.append(_keras_obj("keras.layers", _KERAS_CLASS[ls.kind], kc, ls.input_shape))
            if ls.variables:
                weighted.append((ls.name, i))
        else:
            raise ValueError(f"{where}: kind {ls.kind!r} has no Keras layer")
    model = _keras_obj("keras", "Sequential", {"name": spec.name, "trainable": True, "dtype": dt,
                                                "layers": entries}, spec.input_shape)
    return model, weighted, [e["class_name"] for e in entries[1:]]
