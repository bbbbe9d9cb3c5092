"""tf.keras.utils / keras.utils: to_categorical, set_random_seed, normalize and fastnn's other
utilities."""
from __future__ import annotations

import numpy as np

from .. import utils as _utils
from .._mirror import mirror as _mirror


def normalize(x, axis=-1, order=2):
    """Scales `x` to unit `order`-norm along `axis`, as Keras's utils.normalize.

    Parameters
    ----------
    x : array_like
        Numbers (bool, int, unsigned or float); another dtype raises TypeError.
    axis : int, default -1
        The axis along which the norms are taken.
    order : int or float, default 2
        The norm's order, as numpy.linalg.norm's ord (2: Euclidean, 1: sum of absolute values).

    Returns
    -------
    numpy.ndarray
        x divided by its norms, of x's shape; slices whose norm is 0 stay zero. float64 input
        stays float64, anything else becomes float32.
    """
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"normalize: x must be numeric, got dtype {a.dtype}")
    a = a.astype(np.float64 if a.dtype == np.float64 else np.float32)
    norm = np.atleast_1d(np.linalg.norm(a, ord=order, axis=axis, keepdims=True))
    norm[norm == 0] = 1
    return a / norm


__getattr__ = _mirror(globals(), _utils)


_IMAGE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".dot")


def plot_model(model, to_file=None, show_shapes=False, show_dtype=False, show_layer_names=True,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False,
               show_trainable=False, **kwargs):
    """The model's chain of layers drawn as text (fastnn draws no images): one box per layer, top to
    bottom, with its name, class and, as asked, output shape, dtype, activation and trainability.

    Returns the drawing. With `to_file`, it is also written there (atomically); a name ending in an
    image suffix (Keras's default is "model.png") gets ".txt" appended, with a warning, since the
    drawing is text."""
    import os
    import warnings

    from ..saving import _write_atomic

    if not getattr(model, "layers", None) and not hasattr(model, "summary"):
        raise TypeError(f"plot_model: model must be a fastnn model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("plot_model: the model is not built yet (give it an input shape or call build())")
    lines = []
    for layer in model.layers:
        parts = []
        if show_layer_names:
            parts.append(layer.name)
        parts.append(f"({type(layer).__name__})")
        if show_shapes:
            parts.append(f"output {(None,) + tuple(layer.output_shape)}")
        if show_dtype:
            parts.append(f"dtype {model.dtype}")
        if show_layer_activations and getattr(layer, "activation", None) is not None:
            act = layer.activation
            parts.append(f"activation {getattr(act, '__name__', act)}")
        if show_trainable:
            parts.append("trainable" if layer.trainable else "frozen")
        text = " ".join(parts)
        width = len(text) + 2
        lines += ["+" + "-" * width + "+", "| " + text + " |", "+" + "-" * width + "+",
                  " " * (width // 2 + 1) + "|"]
    drawing = "\n".join(lines[:-1]) + "\n" if lines else "(empty model)\n"
    if to_file is not None:
        path = os.fspath(to_file)
        if path.lower().endswith(_IMAGE_SUFFIXES):
            warnings.warn(f"plot_model: fastnn draws models as text; writing {path + '.txt'!r}",
                          UserWarning, stacklevel=2)
            path += ".txt"
        _write_atomic(path, drawing.encode(), True)
    return drawing
