"""Input checks and conversions shared by the model's entry points. Every error names the argument,
what was expected and what was received."""
from __future__ import annotations

import math
import numbers

import numpy as np


def _to_numpy(a, name):
    if a is None:
        raise ValueError(f"{name}: expected array data, got None")
    if hasattr(a, "to_numpy") and not isinstance(a, np.ndarray):  # pandas DataFrame / Series
        a = a.to_numpy()
    if isinstance(a, (str, bytes)):
        raise TypeError(f"{name}: expected numeric array data, got {type(a).__name__}")
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as e:
        raise TypeError(f"{name}: could not be converted to a numeric array ({e})") from None
    if arr.dtype == object or arr.dtype.kind in "USVOMm":
        raise TypeError(f"{name}: expected a real numeric dtype, got {arr.dtype}")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name}: complex values are not supported (got {arr.dtype})")
    return arr


def as_float_matrix(a, name, dtype, n_features=None, input_shape=None):
    """x -> C-contiguous (n, features) array of the model's dtype; copies only when needed."""
    arr = _to_numpy(a, name)
    if arr.ndim < 2:
        raise ValueError(
            f"{name}: expected a 2-D array (samples, features), got shape {arr.shape}; "
            "reshape a single sample with x.reshape(1, -1) or a single feature with x.reshape(-1, 1)")
    if input_shape is not None and tuple(arr.shape[1:]) != tuple(input_shape):
        if int(math.prod(arr.shape[1:])) != int(math.prod(input_shape)) or arr.ndim == 2 and len(input_shape) == 1:
            raise ValueError(f"{name}: expected samples of shape {tuple(input_shape)}, got {tuple(arr.shape[1:])}")
    if arr.ndim > 2:
        arr = arr.reshape(arr.shape[0], -1)
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one sample, got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one feature, got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} features per sample, got {arr.shape[1]}")
    out = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(out).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return out


def as_targets(a, name, n, loss, out_dim, dtype):
    """y -> C-contiguous (n, label_cols) array checked against the loss and the output width."""
    arr = _to_numpy(a, name)
    if arr.ndim == 0:
        raise ValueError(f"{name}: expected one target per sample, got a scalar")
    if arr.shape[0] != n:
        raise ValueError(f"{name}: expected {n} samples to match x, got {arr.shape[0]}")
    kind = loss.kind
    if kind == "sparse_categorical_crossentropy":
        if not (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1)):
            raise ValueError(
                f"{name}: sparse_categorical_crossentropy expects integer labels of shape ({n},) or ({n}, 1), "
                f"got {arr.shape}")
        flat = arr.reshape(-1)
        if flat.dtype.kind == "f":
            if not np.isfinite(flat).all():
                raise ValueError(f"{name}: contains NaN or infinite values")
            if not np.array_equal(flat, np.floor(flat)):
                raise ValueError(f"{name}: sparse labels must be integers")
        if flat.size and (flat.min() < 0 or flat.max() >= out_dim):
            raise ValueError(
                f"{name}: sparse labels must be in [0, {out_dim}) for an output of {out_dim} classes, "
                f"got values in [{flat.min()}, {flat.max()}]")
        return np.ascontiguousarray(flat.reshape(n, 1), dtype=dtype)
    if arr.ndim == 1:
        arr = arr.reshape(n, 1)
    elif arr.ndim > 2:
        arr = arr.reshape(n, -1)
    if arr.shape[1] != out_dim:
        if kind == "categorical_crossentropy" and arr.shape[1] == 1:
            raise ValueError(
                f"{name}: categorical_crossentropy expects one-hot targets of shape ({n}, {out_dim}), got "
                f"{arr.shape}; use sparse_categorical_crossentropy for integer labels or "
                "fastnn.utils.to_categorical")
        raise ValueError(f"{name}: expected targets of shape ({n}, {out_dim}) to match the model output, got {arr.shape}")
    out = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(out).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    if kind == "binary_crossentropy" and (out.min() < 0 or out.max() > 1):
        raise ValueError(f"{name}: binary_crossentropy targets must be in [0, 1], got values in [{out.min()}, {out.max()}]")
    return out


def as_sample_weight(a, name, n, dtype):
    if a is None:
        return None
    arr = _to_numpy(a, name).reshape(-1) if np.ndim(a) > 0 else None
    if arr is None or arr.shape[0] != n:
        raise ValueError(f"{name}: expected {n} weights (one per sample), got shape {np.shape(a)}")
    out = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(out).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    if (out < 0).any():
        raise ValueError(f"{name}: weights must be non-negative")
    return out


def positive_int(name, v, allow_none=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
        raise ValueError(f"{name}: expected a positive int, got {v!r}")
    return int(v)


def nonneg_int(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
        raise ValueError(f"{name}: expected a non-negative int, got {v!r}")
    return int(v)


def verbose_level(v, default=1):
    if v == "auto":
        return default
    if isinstance(v, bool):
        return int(v)
    if not isinstance(v, numbers.Integral) or v not in (0, 1, 2):
        raise ValueError(f"verbose: expected 0, 1, 2 or 'auto', got {v!r}")
    return int(v)
