"""Exact integrated gradients for networks that are piecewise linear along the straight path.

On the path x(alpha) = b + alpha (x - b), an affine map keeps every coordinate piecewise linear in
alpha, and so does a piecewise linear activation, once the path is cut where a unit's pre-activation
crosses one of the activation's kinks. So the cuts are found layer by layer: the values of a layer are
kept at the cut points only (linear in between), a crossing is located by linear interpolation between
two neighbouring points, and the interpolated point becomes a cut for every later layer. Between
neighbouring cuts the gradient is constant: its value at the piece's midpoint times the piece's length
integrates it exactly. A smooth elementwise last activation g (a sigmoid output) is integrated in
closed form on each piece, where its logit z is linear: the mean of g'(z) over the piece is the divided
difference (g(z1) - g(z0)) / (z1 - z0).

Everything runs in float64 numpy from the model's weights, with the engine's own activation formulas
(fastnn._core.activation_forward / activation_backward).
"""
from __future__ import annotations

import math

import numpy as np

from . import _core
from . import activations as _activations
from . import layers as _layers

_KIND_NAME = {v: k for k, v in _activations._KIND.items()}

# Points of a smooth-elsewhere last activation where g' is not analytic: cut there as well, so that
# the 8-point rule on short pieces only ever sees an analytic integrand.
_LAST_KINKS = {"elu": (0.0,), "selu": (0.0,), "hard_silu": (-3.0, 3.0), "softsign": (0.0,)}

# Points times width kept per chunk of rows: the cut points of a wide network are about a thousand per
# row, so rows are taken a few at a time.
_ELEMENTS = 1 << 22
_POINTS_PER_ROW_GUESS = 512


def _kinks(act):
    """The kinks of a piecewise linear activation, or None when it is not piecewise linear."""
    kind, _alpha, max_value, threshold = act.spec()
    name = _KIND_NAME[kind]
    if name == "linear":
        return ()
    if name == "relu":
        clip = math.isfinite(max_value)
        if threshold != 0.0:
            # Keras's relu jumps at the threshold from 0 to the (clipped) threshold
            right = min(max(threshold, 0.0), max_value) if clip else threshold
            if right != 0.0:
                raise ValueError(
                    f"method='exact': relu with threshold={threshold} jumps at the threshold (from 0 to "
                    f"{right}); the integrated gradient of a discontinuous network misses its jumps, so it "
                    "is refused here; use a quadrature method")
        ks = {float(threshold)}
        if clip:
            ks |= {0.0, float(max_value)}
        return tuple(sorted(ks))
    if name == "leaky_relu":
        return (0.0,)
    if name == "relu6":
        return (0.0, 6.0)
    if name == "hard_sigmoid":
        return (-3.0, 3.0)
    return None


def _ops(model):
    """The model as a list of ("affine", K, b), ("scale", a, c) and ("act", activation, layer name)."""
    ops = []
    for layer in model.layers:
        if isinstance(layer, (_layers.InputLayer, _layers.Dropout, _layers.Flatten)):
            continue  # identities in inference
        if isinstance(layer, _layers.Dense):
            w = [np.asarray(v, dtype=np.float64) for v in layer.get_weights()]
            bias = w[1] if layer.use_bias else np.zeros(w[0].shape[1])
            ops.append(("affine", w[0], bias))
            act = layer.activation
        elif isinstance(layer, _layers.Activation):
            act = layer.activation
        elif isinstance(layer, _layers.BatchNormalization):
            w = [np.asarray(v, dtype=np.float64) for v in layer.get_weights()]
            gamma = w[0] if layer.scale else np.ones_like(w[-1])
            beta = w[int(layer.scale)] if layer.center else np.zeros_like(w[-1])
            inv = 1.0 / np.sqrt(w[-1] + layer.epsilon)
            ops.append(("scale", gamma * inv, beta - w[-2] * gamma * inv))
            continue
        elif isinstance(layer, _layers.LayerNormalization):
            raise ValueError(f"method='exact': LayerNormalization (layer {layer.name!r}) is not piecewise "
                             "linear in its input (it divides by the row's standard deviation); use a "
                             "quadrature method such as method='gausslegendre'")
        else:
            raise ValueError(f"method='exact': layer {layer.name!r} of type {type(layer).__name__} is not "
                             "supported; use a quadrature method")
        if _KIND_NAME[act.spec()[0]] != "linear":
            ops.append(("act", act, layer.name))
    return ops


def _plan(model):
    """(ops with the kinks of each activation, the smooth last activation and its kinks or None)."""
    plan, last = [], None
    ops = _ops(model)
    for i, op in enumerate(ops):
        if op[0] != "act":
            plan.append(op)
            continue
        _, act, lname = op
        name = _KIND_NAME[act.spec()[0]]
        ks = _kinks(act)
        if ks is not None:
            plan.append(("act", act, ks))
            continue
        if name in ("softmax", "log_softmax"):
            raise ValueError(
                f"method='exact': {name} (layer {lname!r}) makes each output a smooth function of every "
                "logit, whose integral along the path has no closed form; use method='gausslegendre' "
                "(or explain the logits of a copy of the model with a linear last activation)")
        if i != len(ops) - 1:
            raise ValueError(
                f"method='exact': activation {act.name!r} of layer {lname!r} is not piecewise linear; the "
                "exact method needs piecewise linear activations (linear, relu, leaky_relu, relu6, "
                "hard_sigmoid), except for an elementwise last activation of the last layer; use a "
                "quadrature method such as method='gausslegendre'")
        last = (act, _LAST_KINKS.get(name, ()))
    return plan, last


def _cut(alpha, row, Z, kinks):
    """Adds the points where a column of Z crosses a kink between two neighbouring points of one row;
    the points stay sorted by row, then alpha."""
    if not kinks or Z.shape[0] < 2:
        return alpha, row, Z
    same = (row[1:] == row[:-1])[:, None]
    parts_a, parts_r, parts_z = [alpha], [row], [Z]
    for c in kinks:
        lo = Z[:-1] - c
        hi = Z[1:] - c
        p, u = np.nonzero((((lo < 0) & (hi > 0)) | ((lo > 0) & (hi < 0))) & same)
        if p.size == 0:
            continue
        t = lo[p, u] / (lo[p, u] - hi[p, u])
        parts_a.append(alpha[p] + t * (alpha[p + 1] - alpha[p]))
        parts_r.append(row[p])
        z = Z[p] + t[:, None] * (Z[p + 1] - Z[p])
        z[np.arange(p.size), u] = c   # on the kink, not a rounding away from it
        parts_z.append(z)
    if len(parts_a) == 1:
        return alpha, row, Z
    alpha, row, Z = np.concatenate(parts_a), np.concatenate(parts_r), np.concatenate(parts_z)
    order = np.lexsort((alpha, row))
    return alpha[order], row[order], Z[order]


def _act(act, Z):
    return _core.activation_forward(act.spec(), np.ascontiguousarray(Z))


def _slope(act, Z):
    Z = np.ascontiguousarray(Z)
    return _core.activation_backward(act.spec(), Z, np.ones_like(Z))


def _gradient(plan, x, target):
    """d (output of the plan)[target] / d x at each row of x, the plan being affine on a neighbourhood."""
    slopes = []
    v = x
    for op in plan:
        if op[0] == "affine":
            v = v @ op[1] + op[2]
        elif op[0] == "scale":
            v = v * op[1] + op[2]
        else:
            slopes.append(_slope(op[1], v))
            v = _act(op[1], v)
    g = np.zeros_like(v)
    g[np.arange(v.shape[0]), target] = 1.0
    for op in reversed(plan):
        if op[0] == "affine":
            g = g @ op[1].T
        elif op[0] == "scale":
            g = g * op[1]
        else:
            g = g * slopes.pop()
    return g


def _mean_slope(act, z0, z1):
    """The mean of g'(z) over [z0, z1] (g continuous, analytic inside)."""
    dz = z1 - z0
    out = np.empty_like(dz)
    far = np.abs(dz) >= 1e-2
    if far.any():
        g = _act(act, np.stack([z0[far], z1[far]], axis=1))
        out[far] = (g[:, 1] - g[:, 0]) / dz[far]
    near = ~far
    if near.any():
        # the divided difference would cancel; 8 Gauss-Legendre points are exact to rounding here
        t, w = np.polynomial.legendre.leggauss(8)
        zq = z0[near, None] + (0.5 * (t + 1.0))[None, :] * dz[near, None]
        out[near] = _slope(act, zq) @ (0.5 * w)
    return out


def _chunk(plan, last, X, B, target):
    m, d = X.shape
    row = np.repeat(np.arange(m), 2)
    alpha = np.tile([0.0, 1.0], m)
    V = np.empty((2 * m, d))
    V[0::2] = B
    V[1::2] = X
    for op in plan:
        if op[0] == "affine":
            V = V @ op[1] + op[2]
        elif op[0] == "scale":
            V = V * op[1] + op[2]
        else:
            alpha, row, V = _cut(alpha, row, V, op[2])
            V = _act(op[1], V)
    if last is not None:
        alpha, row, V = _cut(alpha, row, V, last[1])
    p = np.nonzero(row[1:] == row[:-1])[0]
    length = alpha[p + 1] - alpha[p]
    keep = length > 0
    p, length = p[keep], length[keep]
    prow = row[p]
    mid = 0.5 * (alpha[p] + alpha[p + 1])
    G = _gradient(plan, B[prow] + mid[:, None] * (X - B)[prow], target[prow])
    coef = length
    if last is not None:
        t = target[prow]
        coef = length * _mean_slope(last[0], V[p, t], V[p + 1, t])
    starts = np.searchsorted(prow, np.arange(m))
    total = np.add.reduceat(coef[:, None] * G, starts, axis=0)
    return total * (X - B)


def exact_integrated_gradients(model, X, B, target):
    """Integrated gradients of output[target] from B to X (rows), exactly; float64 (n, input_dim)."""
    plan, last = _plan(model)
    X = np.asarray(X, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    n, d = X.shape
    width = max([d] + [op[1].shape[-1] for op in plan if op[0] == "affine"])
    rows = max(1, _ELEMENTS // (_POINTS_PER_ROW_GUESS * width))
    out = np.empty((n, d))
    for s in range(0, n, rows):
        e = min(n, s + rows)
        out[s:e] = _chunk(plan, last, X[s:e], B[s:e], target[s:e])
    return out
