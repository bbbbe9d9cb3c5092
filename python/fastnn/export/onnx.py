"""ONNX export: a checked ONNX graph (opset 17 or later) computing what model.predict computes.

The graph has one input "input" of shape (batch, *input_shape) with a dynamic batch dimension and
one output "output"; every variable is an initializer named "layer_name/variable_name". Dense is
MatMul + Add; BatchNormalization is ONNX's inference BatchNormalization; LayerNormalization is
ONNX's LayerNormalization; Dropout is an Identity. Activations ONNX has in opset 17 use its
operator; the others (GELU, SiLU, Mish, softplus, relu with a threshold or a ceiling) are composed
from primitives with the same formula as fastnn's engine, and so are those onnxruntime runs only in
float32 (ELU, SELU, hard sigmoid, hard SiLU). Softplus is composed in its overflow-free form
max(x, 0) + log(1 + exp(-|x|)).

float64 graphs: ONNX's epsilon attributes (BatchNormalization, LayerNormalization) are float32, so
an epsilon such as 1e-3 is rounded (a relative difference of about 1e-9 in the output); exact GELU
evaluates erf in float32 (onnxruntime has no float64 Erf).
"""
from __future__ import annotations

import math

import numpy as np

from .. import activations as _activations
from ..spec import model_spec

MIN_OPSET = 17
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError("ONNX export needs the onnx package: pip install 'fastnn[onnx]'") from e
    return onnx


class _Graph:
    """Nodes and initializers under construction; names are unique by construction (layer names are)."""

    def __init__(self, onnx, dtype):
        self.onnx, self.h = onnx, onnx.helper
        self.dtype = np.dtype(dtype)
        self.nodes, self.inits = [], []
        self._n = 0

    def tmp(self, prefix):
        self._n += 1
        return f"{prefix}/t{self._n}"

    def const(self, name, value):
        arr = np.asarray(value, dtype=self.dtype)
        self.inits.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type, inputs, prefix, out=None, **attrs):
        out = out or self.tmp(prefix)
        self.nodes.append(self.h.make_node(op_type, list(inputs), [out], name=f"{prefix}/{op_type}_{self._n}",
                                           **attrs))
        return out


def _activation(g, act, x, prefix):
    """The output name of activation `act` applied to tensor x."""
    name, k = act.name, dict(act.kwargs)
    c = lambda tag, v: g.const(f"{prefix}/{tag}", v)
    if name == "linear":
        return x
    if name == "relu":
        slope = float(k.get("negative_slope", 0.0))
        mv = k.get("max_value", None)
        thr = float(k.get("threshold", 0.0))
        if slope == 0 and mv is None and thr == 0:
            return g.op("Relu", [x], prefix)
        zero = c("zero", 0.0)
        # fastnn: y = z > threshold ? z : 0; clipped to [0, max_value]; minus slope * max(threshold - z, 0)
        y = g.op("Where", [g.op("Greater", [x, c("threshold", thr)], prefix), x, zero], prefix)
        if mv is not None and math.isfinite(float(mv)):
            y = g.op("Min", [g.op("Max", [y, zero], prefix), c("max_value", float(mv))], prefix)
        if slope != 0:
            below = g.op("Max", [g.op("Sub", [c("threshold_b", thr), x], prefix), zero], prefix)
            y = g.op("Sub", [y, g.op("Mul", [c("negative_slope", slope), below], prefix)], prefix)
        return y
    if name == "leaky_relu":
        return g.op("LeakyRelu", [x], prefix, alpha=float(k.get("negative_slope", 0.2)))
    if name == "relu6":
        return g.op("Min", [g.op("Max", [x, c("zero", 0.0)], prefix), c("six", 6.0)], prefix)
    if name in ("elu", "selu"):
        # Composed: onnxruntime has no float64 Elu or Selu kernel.
        alpha = float(k.get("alpha", 1.0)) if name == "elu" else _SELU_ALPHA
        neg = g.op("Mul", [c("alpha", alpha), g.op("Sub", [g.op("Exp", [x], prefix), c("one", 1.0)], prefix)], prefix)
        y = g.op("Where", [g.op("Greater", [x, c("zero", 0.0)], prefix), x, neg], prefix)
        return y if name == "elu" else g.op("Mul", [y, c("scale", _SELU_SCALE)], prefix)
    if name == "gelu":
        if k.get("approximate", False):
            # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            x3 = g.op("Mul", [g.op("Mul", [x, x], prefix), x], prefix)
            inner = g.op("Add", [x, g.op("Mul", [x3, c("k", 0.044715)], prefix)], prefix)
            t = g.op("Tanh", [g.op("Mul", [inner, c("sqrt_2_over_pi", math.sqrt(2.0 / math.pi))], prefix)], prefix)
        else:
            u = g.op("Mul", [x, c("inv_sqrt2", 1.0 / math.sqrt(2.0))], prefix)
            if g.dtype == np.float64:
                # onnxruntime has no float64 Erf kernel: erf runs in float32 (its relative error,
                # about 1e-7, is the graph's only departure from float64 precision besides epsilon).
                f32, f64 = g.onnx.TensorProto.FLOAT, g.onnx.TensorProto.DOUBLE
                t = g.op("Cast", [g.op("Erf", [g.op("Cast", [u], prefix, to=f32)], prefix)], prefix, to=f64)
            else:
                t = g.op("Erf", [u], prefix)
        half_x = g.op("Mul", [x, c("half", 0.5)], prefix)
        return g.op("Mul", [half_x, g.op("Add", [t, c("one", 1.0)], prefix)], prefix)
    if name == "silu":
        return g.op("Mul", [x, g.op("Sigmoid", [x], prefix)], prefix)
    if name in ("softplus", "mish"):
        e = g.op("Exp", [g.op("Neg", [g.op("Abs", [x], prefix)], prefix)], prefix)
        sp = g.op("Add", [g.op("Relu", [x], prefix), g.op("Log", [g.op("Add", [e, c("one", 1.0)], prefix)], prefix)],
                  prefix)
        return sp if name == "softplus" else g.op("Mul", [x, g.op("Tanh", [sp], prefix)], prefix)
    if name == "softsign":
        return g.op("Div", [x, g.op("Add", [g.op("Abs", [x], prefix), c("one", 1.0)], prefix)], prefix)
    if name == "sigmoid":
        return g.op("Sigmoid", [x], prefix)
    if name in ("hard_sigmoid", "hard_silu"):
        # Composed as clip(x / 6 + 0.5, 0, 1), the engine's formula (onnxruntime has no float64
        # HardSigmoid or HardSwish kernel).
        lin = g.op("Add", [g.op("Div", [x, c("six", 6.0)], prefix), c("half", 0.5)], prefix)
        hs = g.op("Min", [g.op("Max", [lin, c("zero", 0.0)], prefix), c("one", 1.0)], prefix)
        return hs if name == "hard_sigmoid" else g.op("Mul", [x, hs], prefix)
    if name == "tanh":
        return g.op("Tanh", [x], prefix)
    if name == "exponential":
        return g.op("Exp", [x], prefix)
    if name == "softmax":
        return g.op("Softmax", [x], prefix, axis=-1)
    if name == "log_softmax":
        return g.op("LogSoftmax", [x], prefix, axis=-1)
    raise ValueError(f"export: activation {name!r} has no ONNX form")


def _graph(model, opset_version):
    onnx = _onnx()
    spec = model_spec(model)
    g = _Graph(onnx, spec.dtype)
    arrays = iter(model.get_weights())
    x = "input"
    for li, ls in enumerate(spec.layers):
        p, c = ls.name, ls.config
        w = {v.name: np.asarray(next(arrays)) for v in ls.variables}

        def init(var, value=None):
            return g.const(f"{p}/{var}", w[var] if value is None else value)

        if ls.kind == "dense":
            x = g.op("MatMul", [x, init("kernel")], p)
            if "bias" in w:
                x = g.op("Add", [x, init("bias")], p)
            x = _activation(g, _activations.get(c.get("activation")), x, p)
        elif ls.kind == "activation":
            x = _activation(g, _activations.get(c["activation"]), x, p)
        elif ls.kind == "dropout":
            x = g.op("Identity", [x], p)
        elif ls.kind == "flatten":
            x = g.op("Flatten", [x], p, axis=1)
        elif ls.kind == "batch_normalization":
            (d,) = ls.input_shape
            scale = init("gamma") if "gamma" in w else init("gamma", np.ones(d))
            bias = init("beta") if "beta" in w else init("beta", np.zeros(d))
            x = g.op("BatchNormalization", [x, scale, bias, init("moving_mean"), init("moving_variance")], p,
                     epsilon=float(c["epsilon"]))
        elif ls.kind == "layer_normalization":
            (d,) = ls.input_shape
            scale = init("gamma") if "gamma" in w else init("gamma", np.ones(d))
            inputs = [x, scale] + ([init("beta")] if "beta" in w else [])
            x = g.op("LayerNormalization", inputs, p, axis=-1, epsilon=float(c["epsilon"]))
        elif ls.kind in ("gaussian_noise", "gaussian_dropout", "alpha_dropout"):
            x = g.op("Identity", [x], p)       # training-only noise
        elif ls.kind == "rescaling":
            x = g.op("Add", [g.op("Mul", [x, init("scale", c["scale"])], p), init("offset", c["offset"])], p)
        elif ls.kind == "normalization":
            # The engine's factor per feature, rounded to the model's dtype as the engine rounds it.
            sd = np.maximum(np.sqrt(w["variance"].astype(np.float64)), 1e-7)
            if c.get("invert"):
                x = g.op("Add", [init("mean"), g.op("Mul", [x, init("factor", sd)], p)], p)
            else:
                x = g.op("Mul", [g.op("Sub", [x, init("mean")], p), init("factor", 1.0 / sd)], p)
        elif ls.kind == "unit_normalization":
            axes = g.onnx.numpy_helper.from_array(np.array([-1], dtype=np.int64), f"{p}/axes")
            g.inits.append(axes)
            ss = g.op("ReduceSum", [g.op("Mul", [x, x], p), f"{p}/axes"], p, keepdims=1)
            inv = g.op("Min", [g.op("Reciprocal", [g.op("Sqrt", [ss], p)], p), init("max_inv", 1e12)], p)
            x = g.op("Mul", [x, inv], p)
        elif ls.kind == "prelu":
            # relu(x) + alpha * min(x, 0): exactly x for x > 0 and alpha * x below.
            neg = g.op("Mul", [init("alpha"), g.op("Min", [x, init("zero", 0.0)], p)], p)
            x = g.op("Add", [g.op("Relu", [x], p), neg], p)
        else:
            raise ValueError(f"export: layer {ls.name!r} of kind {ls.kind!r} has no ONNX form")
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(spec.dtype))
    g.nodes.append(onnx.helper.make_node("Identity", [x], ["output"], name="output/Identity"))
    inp = onnx.helper.make_tensor_value_info("input", elem, ["batch", *spec.input_shape])
    out = onnx.helper.make_tensor_value_info("output", elem, ["batch", *spec.layers[-1].output_shape])
    graph = onnx.helper.make_graph(g.nodes, spec.name, [inp], [out], initializer=g.inits)
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset_version)],
                                   producer_name="fastnn")
    # The IR version of the oldest runtime that reads this opset, not the newest onnx knows.
    proto.ir_version = min(proto.ir_version, 8 if opset_version <= 17 else 9)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(model, filepath, opset_version=MIN_OPSET, overwrite=True):
    """Writes the model as an ONNX file that computes what model.predict computes.

    The file is written atomically (the old file or the new one, never a mix). Needs the onnx
    package. The graph has one input "input" of shape (batch, *input_shape), the batch dimension
    dynamic, and one output "output"; the weights are initializers named "layer/variable".

    Parameters
    ----------
    model : Model
        A built fastnn model (ValueError when it is not built); a layer kind the exporter does not
        know raises ValueError naming it.
    filepath : str or os.PathLike
        The file to write.
    opset_version : int, default MIN_OPSET (17)
        The ONNX opset the graph declares; an int >= 17 (ValueError otherwise).
    overwrite : bool, default True
        Whether an existing file may be replaced; False raises FileExistsError when it exists.

    Returns
    -------
    onnx.ModelProto
        The graph that was written (checked with onnx's checker).
    """
    from ..saving import _write_atomic

    if isinstance(opset_version, bool) or not isinstance(opset_version, int) or opset_version < MIN_OPSET:
        raise ValueError(f"opset_version: expected an int >= {MIN_OPSET}, got {opset_version!r}")
    if not getattr(model, "built", False):
        raise ValueError("export: the model must be built (give it an input shape) before it is exported")
    proto = _graph(model, opset_version)
    _write_atomic(filepath, proto.SerializeToString(), overwrite)
    return proto


__all__ = ["export_onnx", "MIN_OPSET"]
