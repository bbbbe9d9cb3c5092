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
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size and (not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0):
        raise ValueError("to_categorical: labels must be non-negative integers")
    y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(f"to_categorical: label {int(y.max())} is out of range for num_classes={num_classes}")
    out = np.zeros((*y.shape, num_classes), dtype=np.float32)
    np.put_along_axis(out, y[..., None], 1.0, axis=-1)
    return out
