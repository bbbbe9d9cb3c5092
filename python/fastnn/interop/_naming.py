"""Layer names and per-sample shapes that every converter computes the same way."""
from __future__ import annotations

import math
import re

from ..spec import LayerSpec, VariableSpec

# The per-sample output shape of each kind, from its input shape and config.
_SHAPE_PRESERVING = ("activation", "dropout", "batch_normalization", "layer_normalization")


def output_shape(kind: str, config: dict, input_shape: tuple) -> tuple:
    if kind == "dense":
        return (int(config["units"]),)
    if kind == "flatten":
        return (int(math.prod(input_shape)),)
    return tuple(input_shape)


def layer_spec(kind, name, config, input_shape, variables) -> LayerSpec:
    """A LayerSpec whose output shape follows from the input shape; variables: (name, shape,
    trainable) triples in get_weights() order."""
    cfg = dict(config)
    cfg["name"] = name
    return LayerSpec(kind, name, cfg, tuple(input_shape), output_shape(kind, cfg, tuple(input_shape)),
                     tuple(VariableSpec(n, tuple(s), bool(t)) for n, s, t in variables))


def unique_names(candidates):
    """Each candidate made a valid, unique layer name (no '/', which separates a layer from its
    variables; suffixes _1, _2 ... on repeats)."""
    seen, out = set(), []
    for c in candidates:
        base = re.sub(r"[^A-Za-z0-9_\-]", "_", str(c)) or "layer"
        name, n = base, 0
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        out.append(name)
    return out
