"""Utilities with tf.keras names: seeds and label encoding."""
from __future__ import annotations

import numpy as np

from . import _random


def set_random_seed(seed):
    """Makes everything random in fastnn reproducible from here on: initializers, shuffling and
    dropout of models built afterwards (numpy's global generator is seeded too, as Keras does)."""
    _random.set_seed(seed)
    np.random.seed(int(seed) % (2**32))


def to_categorical(x, num_classes=None):
    """Integer labels -> one-hot float32 matrix (n, num_classes)."""
    y = np.asarray(x)
    if y.dtype == object or y.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical: expected numeric labels, got dtype {y.dtype}")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size and (not np.all(np.isfinite(y)) or not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0):
        raise ValueError("to_categorical: labels must be non-negative integers")
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
                                    or num_classes < 0):
        raise ValueError(f"to_categorical: num_classes: expected a non-negative int or None, got {num_classes!r}")
    top = float(y.max()) if y.size else -1.0
    # A one-hot matrix wider than 2^24 classes is a mistake, not a request for terabytes.
    if num_classes is None and top >= 2**24:
        raise ValueError(f"to_categorical: label {top:g} is too large to one-hot encode (more than 2^24 classes)")
    y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(top) + 1 if y.size else 0
    elif y.size and top >= num_classes:
        raise ValueError(f"to_categorical: label {int(top)} is out of range for num_classes={num_classes}")
    if y.size * num_classes > 2**31:
        raise ValueError(f"to_categorical: expected at most 2^31 values in the one-hot matrix, got {y.size} labels x "
                         f"{num_classes} classes (too large)")
    out = np.zeros((*y.shape, num_classes), dtype=np.float32)
    np.put_along_axis(out, y[..., None], 1.0, axis=-1)
    return out
