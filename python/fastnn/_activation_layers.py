"""Keras's activation and reshaping layers that are re-expressions of what the engine already has:
ReLU, LeakyReLU, ELU and Softmax run fastnn's native activations (an Activation layer with Keras's
arguments, so fitting, saving and export treat them as one); Identity and Reshape change no value
and add no native layer (the engine works on flat rows), like Flatten.

Arguments, defaults and checks follow Keras 3 (LeakyReLU's negative_slope defaults to 0.3, not
the 0.2 of the leaky_relu function).
"""
from __future__ import annotations

import math
import numbers
import warnings

from . import activations as _activations
from .layers import Activation, Layer, _auto_name


def _number(layer, name, v, minimum=None, allow_none=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{layer}: {name} must be a finite number, got {v!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{layer}: {name} cannot be negative, got {v!r}")
    return float(v)


class _NativeActivationLayer(Activation):
    """An Activation layer configured by Keras's layer arguments instead of an activation name."""

    #: The class name as Keras spells it in automatic layer names (re_lu, leaky_re_lu, elu).
    _name_base: str | None = None

    def __init__(self, activation, **kwargs):
        if kwargs.get("name") is None and self._name_base:
            kwargs["name"] = _auto_name(self._name_base)
        super().__init__(activation, **kwargs)

    def _own_config(self) -> dict:
        raise NotImplementedError

    def get_config(self):
        cfg = Layer.get_config(self)
        cfg.update(self._own_config())
        return cfg


class ReLU(_NativeActivationLayer):
    """Keras's ReLU layer, with an optional cap, slope and threshold (the defaults give max(x, 0)).

    max_value if x >= max_value; x if threshold <= x < max_value; negative_slope * (x - threshold)
    otherwise. Negative or non-finite arguments (and bools) raise ValueError, as in Keras.

    Parameters
    ----------
    max_value : float, optional
        The cap on the output, a finite number >= 0; None (the default) is no cap.
    negative_slope : float, default 0.0
        The slope below the threshold, a finite number >= 0.
    threshold : float, default 0.0
        Where the slope changes, a finite number >= 0.
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _spec_kind = "relu"

    _name_base = "ReLu"

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        self.max_value = _number("ReLU", "max_value", max_value, 0.0, allow_none=True)
        self.negative_slope = _number("ReLU", "negative_slope", negative_slope, 0.0)
        self.threshold = _number("ReLU", "threshold", threshold, 0.0)
        super().__init__(_activations.Activation("relu", max_value=self.max_value,
                                                 negative_slope=self.negative_slope,
                                                 threshold=self.threshold), **kwargs)

    def _own_config(self):
        return {"max_value": self.max_value, "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_NativeActivationLayer):
    """x if x >= 0 else negative_slope * x (Keras 3 default 0.3; `alpha` is Keras 2's name for it).

    Parameters
    ----------
    negative_slope : float, default 0.3
        The slope for negative inputs, a finite number >= 0 (PyTorch's LeakyReLU defaults to 0.01,
        the leaky_relu activation function to 0.2).
    **kwargs
        Passed to Layer (name, trainable, input_shape, ...); `alpha=` is accepted in place of
        negative_slope with a DeprecationWarning.
    """

    _spec_kind = "leaky_relu"

    _name_base = "LeakyReLu"

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            warnings.warn("LeakyReLU: the argument alpha is deprecated (Keras 2's name); use negative_slope",
                          DeprecationWarning, stacklevel=2)
            negative_slope = kwargs.pop("alpha")
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope, 0.0)
        super().__init__(_activations.Activation("leaky_relu", negative_slope=self.negative_slope), **kwargs)

    def _own_config(self):
        return {"negative_slope": self.negative_slope}


class ELU(_NativeActivationLayer):
    """x if x > 0 else alpha * (exp(x) - 1). The engine takes any finite alpha.

    Parameters
    ----------
    alpha : float, default 1.0
        The scale of the negative part, any finite number (a bool or non-finite value raises
        ValueError).
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _spec_kind = "elu"

    _name_base = "Elu"

    def __init__(self, alpha=1.0, **kwargs):
        self.alpha = _number("ELU", "alpha", alpha)
        super().__init__(_activations.Activation("elu", alpha=self.alpha), **kwargs)

    def _own_config(self):
        return {"alpha": self.alpha}


class Softmax(_NativeActivationLayer):
    """Softmax over the features of flat samples (axis -1; 1 names the same axis of (batch, features)).

    Parameters
    ----------
    axis : int or one-element list of int, default -1
        The softmax axis: -1 or 1 (both the features); any other axis raises ValueError.
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _spec_kind = "softmax"

    def __init__(self, axis=-1, **kwargs):
        ax = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        if isinstance(ax, bool) or ax not in (-1, 1):
            raise ValueError(f"Softmax: axis must be -1 (the features of flat samples), got {axis!r}; "
                             "softmax over other axes is outside fastnn's scope")
        self.axis = -1
        super().__init__(_activations.Activation("softmax"), **kwargs)

    def _own_config(self):
        return {"axis": self.axis}


class Identity(Layer):
    """Returns its input unchanged (no native layer).

    Parameters
    ----------
    name : str, optional
        The layer's name (identity, identity_1, ... by default).
    trainable : bool, default True
        Kept for Keras compatibility; the layer has no weights.
    dtype : optional
        Kept in the configuration only.
    input_shape : int or tuple of int, optional
        The shape of one sample, when the layer is a Sequential's first.
    input_dim : int, optional
        Shorthand for input_shape=(input_dim,).
    """

    _spec_kind = "identity"

    _accepts_any_rank = True


class Reshape(Layer):
    """Reshapes each sample to target_shape, keeping its number of values.

    Samples stay the same flat row in the engine, so Reshape((28, 28)) then Flatten() is the identity.
    Changing the number of values per sample is an error.

    Parameters
    ----------
    target_shape : int or tuple of int
        The shape of one output sample, without the batch dimension: positive ints, at most one -1
        (inferred from the sample's size). An empty tuple, a bool, 0 or another negative entry
        raises ValueError.
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _spec_kind = "reshape"

    _accepts_any_rank = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, numbers.Integral)) and not isinstance(target_shape, bool):
            target_shape = (target_shape,)
        if not isinstance(target_shape, (tuple, list)) or not target_shape:
            raise ValueError(f"Reshape: target_shape must be a non-empty tuple of ints, got {target_shape!r}")
        dims = []
        for d in target_shape:
            if isinstance(d, bool) or not isinstance(d, numbers.Integral) or (d < 1 and d != -1):
                raise ValueError(f"Reshape: target_shape entries must be positive ints or one -1, "
                                 f"got {tuple(target_shape)!r}")
            dims.append(int(d))
        if dims.count(-1) > 1:
            raise ValueError(f"Reshape: at most one entry of target_shape may be -1, got {tuple(dims)!r}")
        self.target_shape = tuple(dims)

    def compute_output_shape(self, input_shape):
        """target_shape, with its -1 resolved, for a given input sample shape.

        Parameters
        ----------
        input_shape : tuple of int
            The shape of one input sample.

        Returns
        -------
        tuple of int
            The output sample's shape; ValueError when it cannot hold exactly the input's values.
        """
        size = math.prod(input_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(f"Reshape {self.name!r}: cannot reshape samples of shape {tuple(input_shape)} "
                                 f"({size} values) to {self.target_shape}")
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise ValueError(f"Reshape {self.name!r}: target_shape {self.target_shape} holds {known} values, but "
                             f"samples of shape {tuple(input_shape)} hold {size}; Reshape keeps the size")
        return self.target_shape

    def get_config(self):
        """The layer's configuration: Layer's, plus target_shape as a list.

        Returns
        -------
        dict
            What from_config() rebuilds the layer from.
        """
        cfg = super().get_config()
        cfg["target_shape"] = list(self.target_shape)
        return cfg


CLASSES: tuple[type[Layer], ...] = (ReLU, LeakyReLU, ELU, Softmax, Identity, Reshape)
