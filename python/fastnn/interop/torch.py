"""PyTorch modules to fastnn models and back, through ModelSpec.

from_torch reads a chain of modules: an nn.Sequential, or any module whose forward, traced by
torch.fx, calls its submodules one after another on the previous result and nothing else. Linear
weight (out, in) is Dense kernel (in, out); BatchNorm1d's momentum is Keras's 1 - momentum; a
Linear followed by an activation becomes one Dense layer with that activation (fastnn applies it
inside the GEMM's epilogue). to_torch builds an nn.Sequential in eval mode (inference: dropout off,
running statistics) with the model's dtype.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import activations as _activations
from . import _naming
from ..spec import ModelSpec, build_model, model_spec

_SOFTPLUS_THRESHOLD = 20.0   # torch's default; above it softplus(x) is x (a difference under 2e-9)


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is in the test extra
        raise ImportError("fastnn.interop.from_torch/to_torch need PyTorch: pip install torch") from e
    return torch


# ------------------------------------------------------------------------------- torch -> fastnn
def _activation_of(m):
    """The fastnn activation config of an activation module, None when m is no activation module;
    ValueError for an activation module with settings fastnn cannot reproduce."""
    nn = _torch().nn
    simple = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.SELU: "selu", nn.SiLU: "silu", nn.Mish: "mish",
              nn.Softsign: "softsign", nn.Sigmoid: "sigmoid", nn.Hardsigmoid: "hard_sigmoid",
              nn.Hardswish: "hard_silu", nn.Tanh: "tanh"}
    for cls, name in simple.items():
        if type(m) is cls:
            return name
    if type(m) is nn.LeakyReLU:
        return {"name": "leaky_relu", "negative_slope": float(m.negative_slope)}
    if type(m) is nn.ELU:
        return {"name": "elu", "alpha": float(m.alpha)}
    if type(m) is nn.GELU:
        if m.approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate={m.approximate!r} is not supported (expected 'none' or 'tanh')")
        return "gelu" if m.approximate == "none" else {"name": "gelu", "approximate": True}
    if type(m) is nn.Softplus:
        if m.beta != 1 or m.threshold != _SOFTPLUS_THRESHOLD:
            raise ValueError(f"Softplus: only beta=1, threshold=20 (the defaults) match fastnn's softplus; "
                             f"got beta={m.beta}, threshold={m.threshold}")
        return "softplus"
    if type(m) in (nn.Softmax, nn.LogSoftmax):
        if m.dim not in (-1, 1):
            raise ValueError(f"{type(m).__name__}: only dim=-1 (the features) is supported, got dim={m.dim!r}")
        return "softmax" if type(m) is nn.Softmax else "log_softmax"
    return None


def _chain(module):
    """[(qualified name, submodule)] of the modules module's forward applies in turn."""
    torch = _torch()
    nn = torch.nn
    if not isinstance(module, nn.Module):
        raise TypeError(f"from_torch: module must be a torch.nn.Module, got {type(module).__name__}")
    if type(module) in _leaves() or _activation_of(module) is not None:
        return [(type(module).__name__.lower(), module)]
    try:
        graph = torch.fx.symbolic_trace(module).graph
    except Exception as e:
        raise ValueError(f"from_torch: cannot trace the forward of {type(module).__name__} with torch.fx "
                         f"({type(e).__name__}: {str(e)[:200]}); only chains of submodules convert") from None
    chain, prev = [], None
    for node in graph.nodes:
        if node.op == "placeholder":
            if prev is not None:
                raise ValueError(f"from_torch: {type(module).__name__}.forward takes several inputs")
            prev = node
        elif node.op == "call_module":
            if node.args != (prev,) or node.kwargs:
                raise ValueError(f"from_torch: {type(module).__name__}.forward is not a plain chain "
                                 f"(submodule {node.target!r} is not applied to the previous result alone)")
            chain.append((node.target, module.get_submodule(node.target)))
            prev = node
        elif node.op == "output":
            if node.args != (prev,):
                raise ValueError(f"from_torch: {type(module).__name__}.forward does not return the last "
                                 "submodule's result")
        else:
            what = getattr(node.target, "__name__", str(node.target))
            raise ValueError(f"from_torch: {type(module).__name__}.forward calls {what} ({node.op}); only a "
                             "plain chain of submodules converts")
    return chain


def _leaves():
    nn = _torch().nn
    return (nn.Linear, nn.Dropout, nn.BatchNorm1d, nn.LayerNorm, nn.Flatten, nn.Identity)


def _complement(momentum) -> float:
    """1 - momentum (Keras's and PyTorch's conventions are complements), rounded to 15 digits so
    that 0.1 and 0.9 map onto each other exactly rather than onto 0.09999999999999998."""
    return float(f"{1.0 - float(momentum):.15g}")


def _np(t, dtype):
    return t.detach().cpu().numpy().astype(dtype, copy=True)


def from_torch(module, input_shape=None, dtype=None, name=None):
    """A fastnn Sequential computing what `module` computes in eval mode, with its weights.

    Parameters
    ----------
    module : torch.nn.Module
        An nn.Sequential, a single supported module, or a module whose forward (traced with
        torch.fx) applies its submodules one after another. Supported: Linear, the activation
        modules fastnn has (ReLU, GELU, Tanh, Softmax over dim -1, ...), Dropout, BatchNorm1d,
        LayerNorm, Flatten and Identity. Any other module raises ValueError naming its class; a
        forward that is not a plain chain raises ValueError too, and a non-Module TypeError.
    input_shape : int or tuple of int, optional
        The shape of one sample, without the batch dimension; needed only when the first layers
        do not fix it (a leading Flatten).
    dtype : {"float32", "float64"}, optional
        The model's dtype; by default the parameters' dtype (a module mixing dtypes, or holding
        another floating type such as float16, needs it given).
    name : str, optional
        The model's name; by default the module's class name in lower case.

    Returns
    -------
    Sequential
        A built, uncompiled model. Linear's weight (out, in) becomes the Dense kernel (in, out);
        a Linear followed by an activation becomes one Dense layer with that activation;
        BatchNorm1d's momentum m becomes Keras's 1 - m, and its running statistics the moving ones.
    """
    torch = _torch()
    nn = torch.nn
    leaves = _leaves()
    chain = [(n, m) for n, m in _chain(module) if type(m) is not nn.Identity]
    for qual, m in chain:
        if type(m) not in leaves and _activation_of(m) is None:
            raise ValueError(f"from_torch: module {qual!r} of class {type(m).__name__} is not supported (fastnn "
                             "converts Linear, the activation modules, Dropout, BatchNorm1d, LayerNorm, "
                             "Flatten and Identity)")
    if not chain:
        raise ValueError("from_torch: the module computes nothing fastnn can hold (no layers)")
    dtypes = {p.dtype for p in module.parameters()} | {b.dtype for b in module.buffers() if b.is_floating_point()}
    if dtype is None:
        if len(dtypes) > 1:
            raise ValueError(f"from_torch: the module mixes dtypes {sorted(map(str, dtypes))}; pass dtype=")
        found = next(iter(dtypes)) if dtypes else torch.float32
        dtype = {torch.float32: "float32", torch.float64: "float64"}.get(found)
        if dtype is None:
            raise ValueError(f"from_torch: parameters of dtype {found} are not supported; "
                             "pass dtype='float32' or 'float64' to convert them")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype: expected 'float32' or 'float64', got {dtype!r}")

    shape = None if input_shape is None else tuple(int(d) for d in (
        input_shape if isinstance(input_shape, (tuple, list)) else (input_shape,)))
    if shape is None:
        shape = _first_shape(chain)
    names = _naming.unique_names(_layer_name(q, m) for q, m in chain)
    layers, weights = [], []
    for (qual, m), lname in zip(chain, names):
        act = _activation_of(m)
        if act is not None:
            prev = layers[-1] if layers else None
            if prev is not None and prev.kind == "dense" and _activations.get(prev.config["activation"]).name == "linear":
                cfg = dict(prev.config, activation=act)
                layers[-1] = _naming.layer_spec("dense", prev.name, cfg, prev.input_shape,
                                                [(v.name, v.shape, v.trainable) for v in prev.variables])
            else:
                layers.append(_naming.layer_spec("activation", lname, {"activation": act}, shape, []))
            continue
        layer, w = _convert(qual, m, lname, shape, dtype)
        layers.append(layer)
        weights += w
        shape = layer.output_shape
    spec = ModelSpec(name or type(module).__name__.lower(), layers[0].input_shape, dtype, tuple(layers))
    return build_model(spec, weights)


def _first_shape(chain):
    nn = _torch().nn
    for qual, m in chain:
        if type(m) is nn.Linear:
            return (m.in_features,)
        if type(m) is nn.BatchNorm1d:
            return (m.num_features,)
        if type(m) is nn.LayerNorm:
            return tuple(m.normalized_shape)
        if type(m) is nn.Flatten:
            break
    raise ValueError("from_torch: the input shape cannot be read from the first layers; pass input_shape=")


def _layer_name(qual, m):
    kind = {"Linear": "dense", "Dropout": "dropout", "BatchNorm1d": "batch_normalization",
            "LayerNorm": "layer_normalization", "Flatten": "flatten"}.get(type(m).__name__, "activation")
    return f"{kind}_{qual}" if qual.replace(".", "").isdigit() else qual


def _convert(qual, m, lname, shape, dtype):
    """(LayerSpec, [arrays]) of one non-activation module, whose input has per-sample shape `shape`."""
    nn = _torch().nn
    flat = len(shape) == 1

    def need_flat(features):
        if not flat or shape[0] != features:
            raise ValueError(f"from_torch: {type(m).__name__} {qual!r} expects {features} features per sample, "
                             f"but its input has per-sample shape {shape}")

    if type(m) is nn.Linear:
        need_flat(m.in_features)
        use_bias = m.bias is not None
        w = [_np(m.weight, dtype).T.copy()] + ([_np(m.bias, dtype)] if use_bias else [])
        v = [("kernel", (m.in_features, m.out_features), True)] + ([("bias", (m.out_features,), True)] if use_bias else [])
        return _naming.layer_spec("dense", lname, {"units": m.out_features, "activation": "linear",
                                                   "use_bias": use_bias}, shape, v), w
    if type(m) is nn.Dropout:
        return _naming.layer_spec("dropout", lname, {"rate": float(m.p)}, shape, []), []
    if type(m) is nn.Flatten:
        if m.start_dim != 1 or m.end_dim != -1:
            raise ValueError(f"from_torch: Flatten {qual!r}: only start_dim=1, end_dim=-1 is supported, got "
                             f"start_dim={m.start_dim}, end_dim={m.end_dim}")
        return _naming.layer_spec("flatten", lname, {}, shape, []), []
    if type(m) is nn.BatchNorm1d:
        need_flat(m.num_features)
        if not m.track_running_stats or m.running_mean is None:
            raise ValueError(f"from_torch: BatchNorm1d {qual!r} has no running statistics "
                             "(track_running_stats=False); fastnn's inference uses moving statistics")
        if m.momentum is None:
            raise ValueError(f"from_torch: BatchNorm1d {qual!r}: momentum=None (a cumulative average) has no "
                             "Keras equivalent; set a momentum")
        d = m.num_features
        v, w = [], []
        if m.affine:
            v += [("gamma", (d,), True), ("beta", (d,), True)]
            w += [_np(m.weight, dtype), _np(m.bias, dtype)]
        v += [("moving_mean", (d,), False), ("moving_variance", (d,), False)]
        w += [_np(m.running_mean, dtype), _np(m.running_var, dtype)]
        cfg = {"axis": -1, "momentum": _complement(m.momentum), "epsilon": float(m.eps),
               "center": bool(m.affine), "scale": bool(m.affine)}
        return _naming.layer_spec("batch_normalization", lname, cfg, shape, v), w
    if type(m) is nn.LayerNorm:
        if len(m.normalized_shape) != 1:
            raise ValueError(f"from_torch: LayerNorm {qual!r}: only a normalized_shape of the last dimension is "
                             f"supported, got {tuple(m.normalized_shape)}")
        d = m.normalized_shape[0]
        need_flat(d)
        scale = m.weight is not None
        center = m.bias is not None
        v = ([("gamma", (d,), True)] if scale else []) + ([("beta", (d,), True)] if center else [])
        w = ([_np(m.weight, dtype)] if scale else []) + ([_np(m.bias, dtype)] if center else [])
        cfg = {"axis": -1, "epsilon": float(m.eps), "center": center, "scale": scale}
        return _naming.layer_spec("layer_normalization", lname, cfg, shape, v), w
    raise AssertionError(type(m))  # _chain's callers filtered the classes


# ------------------------------------------------------------------------------- fastnn -> torch
def _activation_module(act, where):
    nn = _torch().nn
    a = _activations.get(act)
    k = dict(a.kwargs)
    name = a.name
    if name == "relu":
        slope, mv, thr = float(k.pop("negative_slope", 0.0)), k.pop("max_value", None), float(k.pop("threshold", 0.0))
        if not k:
            if slope == 0 and mv is None and thr == 0:
                return nn.ReLU()
            if mv is None and thr == 0:
                return nn.LeakyReLU(slope)
            if slope == 0 and thr == 0 and float(mv) == 6.0:
                return nn.ReLU6()
            if slope == 0 and thr == 0 and float(mv) > 0:
                return nn.Hardtanh(0.0, float(mv))
            if slope == 0 and mv is None:
                return nn.Threshold(thr, 0.0)
        raise ValueError(f"to_torch: {where}: relu with {a.kwargs} has no PyTorch module")
    table = {"linear": nn.Identity, "relu6": nn.ReLU6, "selu": nn.SELU, "silu": nn.SiLU, "mish": nn.Mish,
             "softplus": nn.Softplus, "softsign": nn.Softsign, "sigmoid": nn.Sigmoid,
             "hard_sigmoid": nn.Hardsigmoid, "hard_silu": nn.Hardswish, "tanh": nn.Tanh}
    if name in table and not k:
        return table[name]()
    if name == "leaky_relu" and set(k) <= {"negative_slope"}:
        return nn.LeakyReLU(float(k.get("negative_slope", 0.2)))
    if name == "elu" and set(k) <= {"alpha"}:
        return nn.ELU(float(k.get("alpha", 1.0)))
    if name == "gelu" and set(k) <= {"approximate"}:
        return nn.GELU(approximate="tanh" if k.get("approximate", False) else "none")
    if name in ("softmax", "log_softmax") and not k:
        return (nn.Softmax if name == "softmax" else nn.LogSoftmax)(dim=-1)
    raise ValueError(f"to_torch: {where}: activation {name!r}{' with ' + str(k) if k else ''} has no PyTorch module")


def to_torch(model):
    """An nn.Sequential (eval mode, the model's dtype) computing what the fastnn model predicts.

    Parameters
    ----------
    model : Model
        A built fastnn model (ValueError when it is not built) made of Dense, Activation, Dropout,
        Flatten, BatchNormalization and LayerNormalization layers; another layer kind, or an
        activation PyTorch has no module for, raises ValueError naming the layer.

    Returns
    -------
    torch.nn.Sequential
        A module in eval mode (dropout off, running statistics), float32 or float64 as the model:
        Linear for each Dense (weight = kernel.T), followed by its activation's module when it is
        not linear; the layers keep their names. Call .train() to fine-tune it in PyTorch.
    """
    torch = _torch()
    nn = torch.nn
    spec = model if isinstance(model, ModelSpec) else model_spec(model)
    arrays = iter(model.get_weights())
    tdtype = torch.float64 if spec.dtype == "float64" else torch.float32
    mods = OrderedDict()

    def take(n):
        return [torch.from_numpy(np.array(next(arrays), dtype=spec.dtype)) for _ in range(n)]

    for ls in spec.layers:
        c, nvar = ls.config, len(ls.variables)
        if ls.kind == "dense":
            (n_in,), units = ls.input_shape, int(c["units"])
            use_bias = bool(c.get("use_bias", True))
            lin = nn.Linear(n_in, units, bias=use_bias, dtype=tdtype)
            w = take(nvar)
            with torch.no_grad():
                lin.weight.copy_(w[0].T)
                if use_bias:
                    lin.bias.copy_(w[1])
            mods[ls.name] = lin
            act = _activations.get(c.get("activation"))
            if act.name != "linear":
                mods[f"{ls.name}_activation"] = _activation_module(act, f"layer {ls.name!r}")
        elif ls.kind == "activation":
            mods[ls.name] = _activation_module(c["activation"], f"layer {ls.name!r}")
        elif ls.kind == "dropout":
            mods[ls.name] = nn.Dropout(float(c["rate"]))
        elif ls.kind == "flatten":
            mods[ls.name] = nn.Flatten()
        elif ls.kind in ("batch_normalization", "layer_normalization"):
            mods[ls.name] = _norm_module(nn, torch, ls, take(nvar), tdtype)
        else:
            raise ValueError(f"to_torch: layer {ls.name!r} of kind {ls.kind!r} has no PyTorch module")
    return nn.Sequential(mods).eval()


def _norm_module(nn, torch, ls, w, tdtype):
    """BatchNorm1d / LayerNorm; a Keras layer with only one of gamma and beta gets the missing one
    as a frozen constant (ones or zeros), which computes the same."""
    c = ls.config
    (d,) = ls.input_shape
    scale, center = bool(c.get("scale", True)), bool(c.get("center", True))
    gamma = w.pop(0) if scale else None
    beta = w.pop(0) if center else None
    if ls.kind == "batch_normalization":
        m = nn.BatchNorm1d(d, eps=float(c["epsilon"]), momentum=_complement(c["momentum"]),
                           affine=scale or center, dtype=tdtype)
        with torch.no_grad():
            m.running_mean.copy_(w[0])
            m.running_var.copy_(w[1])
    else:
        m = nn.LayerNorm(d, eps=float(c["epsilon"]), elementwise_affine=scale or center,
                         bias=center, dtype=tdtype)
    with torch.no_grad():
        if m.weight is not None:
            if gamma is not None:
                m.weight.copy_(gamma)
            else:
                m.weight.fill_(1.0)
                m.weight.requires_grad_(False)
        if m.bias is not None:
            if beta is not None:
                m.bias.copy_(beta)
            else:
                m.bias.fill_(0.0)
                m.bias.requires_grad_(False)
    return m
