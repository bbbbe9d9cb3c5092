"""Data into the shapes the native loops take: x and y cast once, sample and class weights, the
validation split, step caps, and how much work each native call gets.

This is the one place where data sources plug in: today arrays (numpy, lists, pandas); generators
and datasets will arrive here as further adapters yielding the same (x, y, weights) arrays.
"""
from __future__ import annotations

import math

import numpy as np

from ._validation import as_array, as_float_matrix, as_sample_weight, as_targets

#: About this much native work per call: Ctrl-C, the progress bar and callbacks stay responsive.
CHUNK_SECONDS = 0.05
_FLOPS_PER_CHUNK = 2.0e9       # inference: about CHUNK_SECONDS of work on one core
_MAX_ROWS_PER_CHUNK = 1 << 20


def batches_per_call(batch_size, flops_per_row, previous=None, batches=None, seconds=None) -> int:
    """The one rule for how many batches a native call gets: about CHUNK_SECONDS of work.

    Inference (no timing given): sized from the model's cost per row, so the same on every run.
    Training (previous, batches, seconds: the last call's size, the batches it ran and its time):
    a step costs more than its forward flops say (backward, optimizer), so the size follows the
    measured rate, growing at most 8x per call from 1. Results never depend on the size: the native
    loops sum losses and apply steps in the same order for any chunking."""
    if previous is None:
        rows = int(min(max(_FLOPS_PER_CHUNK / max(float(flops_per_row), 1.0), 1.0), float(_MAX_ROWS_PER_CHUNK)))
        return max(1, rows // batch_size)
    return max(1, min(int(previous * 8) or 1, int(CHUNK_SECONDS * batches / max(seconds, 1e-9))))


def rows_per_call(batch_size, flops_per_row) -> int:
    return batches_per_call(batch_size, flops_per_row) * batch_size


def ensure_built_for(model, x_raw, name="x"):
    """Builds an unbuilt model from its first input's shape (Keras's deferred build)."""
    if model.built:
        return
    arr = as_array(x_raw, name)
    if model._input_shape is None:
        if arr.ndim < 2:
            raise ValueError(f"x: expected a 2-D array (samples, features), got shape {arr.shape}")
        if 0 in arr.shape[1:]:
            raise ValueError(f"x: expected at least one feature, got shape {arr.shape}")
        model._input_shape = tuple(int(d) for d in arr.shape[1:])
        try:
            model.build()
        except BaseException:
            model._input_shape = None
            raise
    else:
        model.build()


def x_array(model, x, name="x"):
    ensure_built_for(model, x, name)
    return as_float_matrix(x, name, model.dtype, model._engine.input_dim, model._input_shape)


def y_array(model, y, n, name="y"):
    return as_targets(y, name, n, model.loss, model._engine.output_dim, model.dtype)


def sample_weights(w, n, dtype, name="sample_weight"):
    return as_sample_weight(w, name, n, dtype)


def class_weights(model, y, class_weight):
    """Per-sample weights from a {class: weight} dict (classes missing from it weigh 1), or None."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight: expected a dict {{class: weight}}, got {type(class_weight).__name__}")
    for k, v in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"class_weight: classes must be non-negative ints, got {k!r}")
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or \
                not math.isfinite(v) or v < 0:
            raise ValueError(f"class_weight: weight of class {k!r} must be a non-negative number, got {v!r}")
    if not class_weight:
        return None
    out_dim = model._engine.output_dim
    n_classes = 2 if out_dim == 1 else out_dim
    unknown = sorted(int(k) for k in class_weight if int(k) >= n_classes)
    if unknown:
        raise ValueError(f"class_weight: classes {unknown} are unknown: the model outputs {n_classes} "
                         f"classes (0 to {n_classes - 1})")
    if y.shape[1] == 1:
        # Class indices (or 0/1 for a one-unit output). The table has one slot per class of the
        # output, so a regression target (any real value) is refused, never used as an index.
        col = y[:, 0]
        if col.size and (col.min() < -0.5 or col.max() >= n_classes - 0.5):
            raise ValueError(f"class_weight: expected class targets (labels in [0, {n_classes - 1}] for an output "
                             f"of {n_classes} classes), got targets in [{col.min()}, {col.max()}]; class_weight "
                             "applies to classification, use sample_weight for other targets")
        cls = np.rint(col).astype(np.int64)
    else:
        cls = np.argmax(y, axis=1)
    table = np.ones(n_classes, dtype=np.float64)
    for k, v in class_weight.items():
        table[int(k)] = v
    return np.ascontiguousarray(table[cls], dtype=model.dtype)


def combine(a, b):
    """The product of two optional weight vectors."""
    if a is None:
        return b
    if b is None:
        return a
    return np.ascontiguousarray(a * b)


def loss_weights(w, n, loss_weight, dtype):
    """The weights the native loss uses: the sample weights times the compiled loss weight."""
    if loss_weight != 1.0:
        w = np.full(n, loss_weight, dtype=dtype) if w is None else \
            np.ascontiguousarray(w * np.dtype(dtype).type(loss_weight))
    return w


def validation_arrays(model, validation_data):
    """(x_val, y_val[, sample_weight_val]) as arrays."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data: expected (x_val, y_val) or (x_val, y_val, sample_weight_val)")
    Xv = x_array(model, validation_data[0], "validation_data x")
    Yv = y_array(model, validation_data[1], Xv.shape[0], "validation_data y")
    Wv = None
    if len(validation_data) == 3:
        Wv = sample_weights(validation_data[2], Xv.shape[0], model.dtype, "validation_data sample_weight")
    return Xv, Yv, Wv


def split_validation(X, Y, W, validation_split):
    """The last fraction of the samples, before shuffling, as in Keras: (train, validation)."""
    n = X.shape[0]
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"validation_split={validation_split} leaves no samples for training or validation "
                         f"with {n} samples")
    return (X[:split_at], Y[:split_at], None if W is None else W[:split_at]), \
        (X[split_at:], Y[split_at:], None if W is None else W[split_at:])


def cap_rows(arrays, steps, batch_size):
    """The first steps * batch_size rows of each array (None stays None), when steps is given."""
    if steps is None:
        return arrays
    rows = steps * batch_size
    return tuple(None if a is None else a[:rows] for a in arrays)
