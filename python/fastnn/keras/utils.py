"""tf.keras.utils / keras.utils: to_categorical, set_random_seed, normalize and fastnn's other
utilities."""
from __future__ import annotations

import numpy as np

from .. import utils as _utils
from .._mirror import mirror as _mirror


def normalize(x, axis=-1, order=2):
    """Scales `x` to unit `order`-norm along `axis` (rows of zeros stay zero), as Keras's
    utils.normalize; float64 input stays float64, anything else becomes float32."""
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"normalize: x must be numeric, got dtype {a.dtype}")
    a = a.astype(np.float64 if a.dtype == np.float64 else np.float32)
    norm = np.atleast_1d(np.linalg.norm(a, ord=order, axis=axis, keepdims=True))
    norm[norm == 0] = 1
    return a / norm


__getattr__ = _mirror(globals(), _utils)
