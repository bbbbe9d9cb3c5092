"""Keras's per-feature layers on the engine: Normalization (with adapt()), Rescaling, the
training-only noise layers (GaussianNoise, GaussianDropout, AlphaDropout), UnitNormalization and
PReLU. Each is a native layer (layers.cpp) with Keras's formula, arguments and defaults; the noise
layers draw from the model's seeded generator and are the identity in inference.

Normalization keeps mean, variance and count as non-trainable variables, so they are saved with the
model and appear in its ModelSpec; values given before the layer is built (mean=/variance=, or
adapt() on a layer not yet in a built model) are written when the model is built.
"""
from __future__ import annotations

import math
import numbers
import weakref
from typing import Any, Optional

import numpy as np

from . import initializers as _initializers
from . import regularizers as _regularizers
from .layers import Layer, _auto_name, _penalty, _weight_initializer


def _finite(layer: str, name: str, v: Any, minimum: Optional[float] = None, below: Optional[float] = None) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{layer}: {name} must be a finite number, got {v!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{layer}: {name} must be at least {minimum}, got {v!r}")
    if below is not None and not v < below:
        raise ValueError(f"{layer}: {name} must be below {below}, got {v!r}")
    return float(v)


def _feature_axis(layer: str, axis: Any) -> int:
    ax = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    if isinstance(ax, bool) or ax not in (-1, 1):
        raise NotImplementedError(f"{layer}: axis must be -1 (the features of flat samples), got {axis!r}; "
                                  "other axes are outside fastnn's scope")
    return -1


def _features(layer: Layer, input_shape) -> int:
    if len(input_shape) != 1:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: expected flat samples (features,), got "
                         f"{tuple(input_shape)}; add a Flatten layer first")
    return int(input_shape[0])


class Normalization(Layer):
    """Keras's Normalization: (x - mean) / max(sqrt(variance), 1e-7) per feature.

    invert=True gives mean + x * max(sqrt(variance), 1e-7). mean and variance come from the arguments
    (a scalar or one value per feature) or from adapt(data); without either they are 0 and 1. They
    are non-trainable variables, saved with the model.

    Parameters
    ----------
    axis : int or one-element list of int, default -1
        The feature axis; only -1 (or 1, the same axis of flat samples) is accepted, other axes
        raise NotImplementedError.
    mean, variance : float or array_like of float, optional
        Fixed statistics, a finite scalar or one value per feature; give both or neither (ValueError
        otherwise). variance cannot be negative, and the two must have the same shape.
    invert : bool, default False
        Whether the layer undoes the normalization instead.
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        # axis=None (Keras serializes it as ()): one mean and variance over every value.
        self.axis = None if axis is None or axis == () else _feature_axis("Normalization", axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: give both mean and variance or neither, got mean={mean!r} and "
                             f"variance={variance!r}")
        self.input_mean = None if mean is None else self._values("mean", mean)
        self.input_variance = None if variance is None else self._values("variance", variance)
        if self.input_variance is not None and (self.input_variance < 0).any():
            raise ValueError("Normalization: variance cannot be negative")
        if self.input_mean is not None and self.input_mean.shape != self.input_variance.shape:
            raise ValueError(f"Normalization: mean and variance must have the same shape, got "
                             f"{self.input_mean.shape} and {self.input_variance.shape}")
        if self.axis is None and self.input_mean is not None and self.input_mean.size != 1:
            raise ValueError(f"Normalization: axis=None takes one mean and one variance, got {self.input_mean.size} "
                             "values")
        self.invert = bool(invert)
        self._pending: Optional[tuple] = None   # (mean, variance, count) to write at the next build
        self._twins = [weakref.ref(self)]       # this layer and its copies in other models (shared list)

    def _twin(self) -> "Normalization":
        """This layer for one more model: Keras shares a layer between models (the regression tutorial
        puts one adapted normalizer in two); fastnn's weights live in one model, so the other gets a
        copy with the same statistics that every later adapt() of either updates."""
        cfg = self.get_config()
        cfg.pop("input_shape", None)
        twin = type(self).from_config(cfg)
        shape = self.input_shape or self._input_shape_arg
        twin._input_shape_arg = None if shape is None else tuple(shape)
        twin._pending = self._statistics_now()
        twin._twins = self._twins
        self._twins.append(weakref.ref(twin))
        return twin

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_twins", None)   # a copy is a layer of its own
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._twins = [weakref.ref(self)]

    def _statistics_now(self) -> Optional[tuple]:
        if self.built:
            return (self._var("mean").numpy(), self._var("variance").numpy(), float(self._var("count").numpy()[0]))
        return self._pending

    @staticmethod
    def _values(name: str, v: Any) -> np.ndarray:
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"Normalization: {name} must be a number or an array of numbers, got {v!r}") from None
        if a.ndim > 1 or not np.isfinite(a).all():
            raise ValueError(f"Normalization: {name} must be a finite scalar or one value per feature, "
                             f"got shape {a.shape}")
        return a

    def compute_output_shape(self, input_shape):
        _features(self, input_shape)
        return input_shape

    _spec_kind = "normalization"

    def _param_shapes(self):
        d = _features(self, self.input_shape)
        return [(d,), (d,), (1,)]   # count: (1,) where Keras has (), as fastnn's arrays are at least 1-D

    def _variable_names(self):
        return ["mean", "variance", "count"]

    def _moving_variables(self):
        return ("mean", "variance", "count")

    def _native(self, seed_for):
        return "normalization", {"invert": self.invert}

    def _on_built(self):
        d = self.input_shape[0]
        values = self._pending
        if values is None and self.input_mean is not None:
            values = (self.input_mean, self.input_variance, 0.0)
        if values is None:
            return
        mean, var, count = values
        try:
            mean, var = np.broadcast_to(mean, (d,)), np.broadcast_to(var, (d,))
        except ValueError:
            raise ValueError(f"Normalization {self.name!r}: mean and variance of shape {np.shape(mean)} do not fit "
                             f"{d} features") from None
        self._var("mean").assign(mean)
        self._var("variance").assign(var)
        self._var("count").assign(np.asarray(count, dtype=np.float64).reshape((1,)))
        self._pending = None

    def adapt(self, data, batch_size=None, steps=None):
        """Sets mean and variance to those of `data` per feature, and count to its number of samples.

        The statistics are computed in float64 over all of `data` at once (population variance,
        as numpy's var). On a built model the variables change at once; otherwise the values are
        written when the model is built, and a layer outside any model takes the data's number of
        features as its input shape.

        Parameters
        ----------
        data : array_like or iterable
            An array of shape (samples, features), or an iterable of such batches (or of (x, y)
            tuples, whose x is used); finite values, every batch with the same number of features,
            matching the layer's input shape when it is known. 1-D data is one value per sample
            for a one-feature layer; with axis=None any shape, one mean and variance over all
            values. Anything else raises ValueError or TypeError.
        batch_size : int, optional
            Keras's argument, accepted and not used (the data is read whole).
        steps : int, optional
            Keras's argument, accepted and not used (an iterable is read to its end).
        """
        if self.axis is None:
            self._adapt_all_values(data)
            return
        if isinstance(data, (np.ndarray, list, tuple)) or hasattr(data, "__array__"):
            batches = [np.asarray(data, dtype=np.float64)]
        else:
            try:
                batches = [np.asarray(b[0] if isinstance(b, tuple) else b, dtype=np.float64) for b in data]
            except TypeError:
                raise TypeError(f"adapt: data must be an array of shape (samples, features) or an iterable of "
                                f"such batches, got {type(data).__name__}") from None
        if not batches:
            raise ValueError("adapt: data holds no samples")
        if tuple(self.input_shape or self._input_shape_arg or ()) == (1,):
            # one feature: 1-D data is one value per sample, as x is for the model (Keras 3)
            batches = [b.reshape(-1, 1) if b.ndim == 1 else b for b in batches]
        for b in batches:
            if b.ndim != 2 or b.shape[0] == 0 or b.shape[1] != batches[0].shape[1]:
                hint = ("; for one mean and variance over all values use Normalization(axis=None), for one feature "
                        "data.reshape(-1, 1)") if b.ndim == 1 else ""
                raise ValueError(f"adapt: expected batches of shape (samples, features), got {b.shape}{hint}")
            if not np.isfinite(b).all():
                raise ValueError("adapt: data contains NaN or infinite values")
        x = np.concatenate(batches) if len(batches) > 1 else batches[0]
        self._set_statistics(x.mean(axis=0), x.var(axis=0), x)

    def _adapt_all_values(self, data):
        if isinstance(data, (np.ndarray, list, tuple, numbers.Real)) or hasattr(data, "__array__") or \
                not hasattr(data, "__iter__"):
            parts = [data]
        else:
            it = data.as_numpy_iterator() if hasattr(data, "as_numpy_iterator") else data
            parts = [b[0] if isinstance(b, tuple) else b for b in it]
        try:
            values = [np.asarray(p, dtype=np.float64).reshape(-1) for p in parts]
        except (TypeError, ValueError):
            raise TypeError(f"adapt: data must be numbers (an array, or an iterable of arrays), got "
                            f"{type(data).__name__}") from None
        v = np.concatenate(values) if values else np.zeros(0)
        if v.size == 0:
            raise ValueError("adapt: data holds no samples")
        if not np.isfinite(v).all():
            raise ValueError("adapt: data contains NaN or infinite values")
        first = np.asarray(parts[0])
        # 2-D data tells an unbuilt layer its number of features, as adapt() builds the layer in Keras.
        known = self.input_shape is not None or self._input_shape_arg is not None
        self._set_statistics(np.array([v.mean()]), np.array([v.var()]),
                             first if first.ndim == 2 and not known else None, count=float(v.size))

    def _set_statistics(self, mean, var, x, count=None):
        for ref in self._twins:
            twin = ref()
            if twin is not None and twin is not self:
                twin._set_own_statistics(mean, var, None, count if x is None else float(x.shape[0]))
        self._set_own_statistics(mean, var, x, count)

    def _set_own_statistics(self, mean, var, x, count):
        if x is None:
            self._pending = (mean, var, count)
            if self.built:
                self._on_built()
            return
        if self.input_shape is not None and (x.shape[1],) != tuple(self.input_shape):
            raise ValueError(f"adapt: the layer takes {self.input_shape[0]} features, data has {x.shape[1]}")
        if self._input_shape_arg is not None and (x.shape[1],) != tuple(self._input_shape_arg):
            raise ValueError(f"adapt: the layer takes {self._input_shape_arg[0]} features, data has {x.shape[1]}")
        self._pending = (mean, var, float(x.shape[0]) if count is None else count)
        if self.built:
            self._on_built()
        elif self._model is None and self._input_shape_arg is None:
            # As in Keras, adapt() builds the layer: a model it starts knows its input shape.
            self._input_shape_arg = (int(x.shape[1]),)

    def _statistic(self, which: int, name: str):
        if self.built:
            v = self._var(name).numpy()
        elif self._pending is not None:
            v = np.asarray(self._pending[which])
        else:
            v = self.input_mean if which == 0 else self.input_variance
            if v is None:
                return None
        from ._tf import Tensor   # arrays with TensorFlow's .numpy(), as ported scripts call it

        v = np.asarray(v)
        return (v.reshape(-1)[:1] if self.axis is None else v).view(Tensor)

    @property
    def mean(self) -> np.ndarray:
        """The current mean per feature (one value for axis=None); `.numpy()` gives a plain array."""
        return self._statistic(0, "mean")

    @property
    def variance(self) -> np.ndarray:
        """The current variance per feature (one value for axis=None); `.numpy()` gives a plain array."""
        return self._statistic(1, "variance")

    def _on_data(self, x):
        """The layer applied to data outside a model (Keras's `normalizer(x)`), as float32."""
        a = np.asarray(x, dtype=np.float64)
        mean, var = self.mean, self.variance
        mean = np.zeros(1) if mean is None else np.asarray(mean, np.float64)
        var = np.ones(1) if var is None else np.asarray(var, np.float64)
        if self.axis is not None and mean.size != 1 and (a.ndim == 0 or a.shape[-1] != mean.size):
            raise ValueError(f"Normalization {self.name!r}: expected data with {mean.size} features in its last "
                             f"axis, got shape {a.shape}")
        if self.axis is None or mean.size == 1:
            mean, var = mean.reshape(-1)[0], var.reshape(-1)[0]
        scale = np.maximum(np.sqrt(var), 1e-7)
        out = mean + a * scale if self.invert else (a - mean) / scale
        return _as_tensor(out.astype(np.float32))

    def get_config(self):
        cfg = super().get_config()
        cfg.update({"axis": self.axis, "invert": self.invert,
                    "mean": None if self.input_mean is None else self.input_mean.tolist(),
                    "variance": None if self.input_variance is None else self.input_variance.tolist()})
        return cfg


def _as_tensor(a: np.ndarray):
    from ._tf import Tensor

    return a.view(Tensor)


class Rescaling(Layer):
    """x * scale + offset (Keras's Rescaling; scalar scale and offset).

    Parameters
    ----------
    scale : float
        The factor, a finite scalar; an array (Keras's per-channel form) raises NotImplementedError.
    offset : float, default 0.0
        Added after scaling, a finite scalar.
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _accepts_any_rank = True
    _spec_kind = "rescaling"

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        if np.ndim(scale) or np.ndim(offset):
            raise NotImplementedError("Rescaling: per-channel scale or offset arrays are outside fastnn's scope; "
                                      "use scalars (or Normalization(mean=..., variance=...))")
        self.scale = _finite("Rescaling", "scale", float(scale) if isinstance(scale, np.generic) else scale)
        self.offset = _finite("Rescaling", "offset", float(offset) if isinstance(offset, np.generic) else offset)

    def _native(self, seed_for):
        return "rescaling", {"scale": self.scale, "offset": self.offset}

    def _on_data(self, x):
        """The layer applied to data outside a model (Keras's `rescale(x)`), as float32."""
        return _as_tensor((np.asarray(x, dtype=np.float64) * self.scale + self.offset).astype(np.float32))

    def get_config(self):
        cfg = super().get_config()
        cfg.update({"scale": self.scale, "offset": self.offset})
        return cfg


class _Noise(Layer):
    _accepts_any_rank = True
    _arg = "rate"

    def __init__(self, amount, seed=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        if self._arg == "rate":
            amount = _finite(cls, "rate", amount, minimum=0.0, below=1.0)
        else:
            amount = _finite(cls, "stddev", amount, minimum=0.0)
        setattr(self, self._arg, amount)
        self.seed = seed   # kept in the configuration; the draws come from the model's generator

    def _native(self, seed_for):
        return self._spec_kind, {self._arg: getattr(self, self._arg)}

    def get_config(self):
        cfg = super().get_config()
        cfg.update({self._arg: getattr(self, self._arg), "seed": self.seed})
        return cfg


class GaussianNoise(_Noise):
    """Adds N(0, stddev**2) noise in training; the identity in inference (Keras's GaussianNoise).

    Parameters
    ----------
    stddev : float
        The noise's standard deviation, a finite number >= 0.
    seed : int, optional
        Kept in the configuration only: the draws come from the model's generator, seeded when the
        model is built (fastnn.utils.set_random_seed makes them reproducible).
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _spec_kind = "gaussian_noise"
    _arg = "stddev"

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(stddev, seed=seed, **kwargs)


class GaussianDropout(_Noise):
    """Multiplies by N(1, rate / (1 - rate)) noise in training; the identity in inference.

    Parameters
    ----------
    rate : float
        The equivalent dropout rate, a finite number in [0, 1).
    seed : int, optional
        Kept in the configuration only: the draws come from the model's generator, seeded when the
        model is built (fastnn.utils.set_random_seed makes them reproducible).
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _spec_kind = "gaussian_dropout"

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)


class AlphaDropout(_Noise):
    """Dropout that keeps SELU's self-normalization (Keras's AlphaDropout).

    In training, each value is dropped with probability rate to SELU's negative saturation, then
    a * x + b restores mean and variance; the identity in inference.

    Parameters
    ----------
    rate : float
        The probability of dropping a value, a finite number in [0, 1).
    noise_shape : None
        Keras's shared-mask shape, accepted only as None (NotImplementedError otherwise).
    seed : int, optional
        Kept in the configuration only: the draws come from the model's generator, seeded when the
        model is built (fastnn.utils.set_random_seed makes them reproducible).
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _spec_kind = "alpha_dropout"

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if noise_shape is not None:
            raise NotImplementedError("AlphaDropout: noise_shape is not supported by fastnn")
        super().__init__(rate, seed=seed, **kwargs)


class UnitNormalization(Layer):
    """Scales each sample's features to unit L2 norm: x * min(1 / ||x||, 1e12).

    Keras's UnitNormalization over the features of flat samples.

    Parameters
    ----------
    axis : int or one-element list of int, default -1
        Only the features (-1 or 1) are accepted; other axes raise NotImplementedError.
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _spec_kind = "unit_normalization"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _feature_axis("UnitNormalization", axis)

    def compute_output_shape(self, input_shape):
        _features(self, input_shape)
        return input_shape

    def _native(self, seed_for):
        return "unit_normalization", {}

    def get_config(self):
        cfg = super().get_config()
        cfg["axis"] = self.axis
        return cfg


class PReLU(Layer):
    """x if x > 0 else alpha * x, with a learned alpha per feature (Keras's PReLU).

    alpha starts at zeros, as in Keras (PyTorch's PReLU starts at 0.25 and shares one alpha by
    default).

    Parameters
    ----------
    alpha_initializer : str, dict or Initializer, default "zeros"
        How alpha is drawn when the model is built.
    alpha_regularizer : str, dict, Regularizer or None, default None
        A penalty on alpha added to the loss.
    alpha_constraint : None
        Keras's argument, accepted only as None (NotImplementedError otherwise).
    shared_axes : None
        Keras's argument, accepted only as None or empty: one alpha per feature of flat samples.
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    _spec_kind = "prelu"

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        if kwargs.get("name") is None:
            kwargs["name"] = _auto_name("PReLu")   # Keras spells it p_re_lu
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise NotImplementedError("PReLU: alpha_constraint is not supported by fastnn")
        if shared_axes not in (None, [], ()):
            raise NotImplementedError("PReLU: shared_axes is outside fastnn's scope (flat samples, one alpha "
                                      "per feature)")
        self.alpha_initializer = _weight_initializer(alpha_initializer)
        self.alpha_regularizer = _regularizers.get(alpha_regularizer)

    def compute_output_shape(self, input_shape):
        _features(self, input_shape)
        return input_shape

    def _param_shapes(self):
        return [(_features(self, self.input_shape),)]

    def _variable_names(self):
        return ["alpha"]

    def _native(self, seed_for):
        return "prelu", {"alpha_initializer": self.alpha_initializer.spec(seed_for("alpha")),
                         "alpha_regularizer": _penalty(self.alpha_regularizer)}

    @property
    def alpha(self):
        """The alpha Variable, one slope per feature; raises ValueError before the model is built."""
        return self._var("alpha")

    def get_config(self):
        cfg = super().get_config()
        cfg.update({"alpha_initializer": _initializers.serialize(self.alpha_initializer),
                    "alpha_regularizer": _regularizers.serialize(self.alpha_regularizer),
                    "alpha_constraint": None, "shared_axes": None})
        return cfg


CLASSES: tuple[type[Layer], ...] = (Normalization, Rescaling, GaussianNoise, GaussianDropout, AlphaDropout, UnitNormalization, PReLU)
