"""Weight initializers (Keras 3 names and definitions), run natively with a seed.

An initializer without a seed draws one from fastnn's seed stream (see fastnn.utils.set_random_seed)
when its layer is built. The variance-scaling "normal" kinds use a normal truncated at two standard
deviations with the stddev corrected by 0.8796..., as Keras does.
"""
from __future__ import annotations

import numpy as np

from . import _core, _random
from ._registry import Registry

# Native kinds, from the engine (src/cpp/include/fastnn/initializers.h); "normal" is Keras's alias
# of the truncated normal.
_INIT = {name: int(kind) for name, kind in _core.InitKind.__members__.items()}
_FAN = {name: int(kind) for name, kind in _core.FanMode.__members__.items()}
_DIST = {name: int(kind) for name, kind in _core.Distribution.__members__.items()}
_DIST["normal"] = _DIST["truncated_normal"]


class Initializer:
    _kind = _INIT["zeros"]

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or
                                 not 0 <= seed < 2**64):  # the engine's seeds are 64-bit
            raise ValueError(f"seed: expected an int in [0, 2**64) or None, got {seed!r}")
        self.seed = seed

    def _ab(self):
        return 0.0, 0.0

    def _mode_dist(self):
        return _FAN["fan_avg"], _DIST["uniform"]

    def spec(self, seed=None) -> tuple:
        a, b = self._ab()
        mode, dist = self._mode_dist()
        s = self.seed if self.seed is not None else (seed if seed is not None else _random.next_seed())
        return (self._kind, float(a), float(b), mode, dist, int(s))

    def __call__(self, shape, dtype="float32"):
        from . import _core

        shape = tuple(int(s) for s in shape)
        rows, cols = (1, shape[0]) if len(shape) == 1 else (int(np.prod(shape[:-1])), shape[-1])
        fn = _core.initialize_f64 if np.dtype(dtype) == np.float64 else _core.initialize_f32
        return fn(self.spec(), rows, cols, len(shape) == 1).reshape(shape)

    def get_config(self) -> dict:
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


class Zeros(Initializer):
    _kind = _INIT["zeros"]

    def get_config(self):
        return {}


class Ones(Initializer):
    _kind = _INIT["ones"]

    def get_config(self):
        return {}


class Constant(Initializer):
    _kind = _INIT["constant"]

    def __init__(self, value=0.0):
        super().__init__()
        # Keras broadcasts value to the shape; one number (np.log([p / n]) in tutorials is one
        # value in a 1-element array) is what a native constant fill can take.
        try:
            a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"Constant: value must be a number, got {value!r}") from None
        if a.size != 1:
            raise ValueError(f"Constant: value must be one number (or a 1-element array), got shape {a.shape}")
        self.value = float(a.reshape(-1)[0])

    def _ab(self):
        return self.value, 0.0

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    _kind = _INIT["random_normal"]

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def _ab(self):
        return self.mean, self.stddev

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    _kind = _INIT["random_uniform"]

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def _ab(self):
        return self.minval, self.maxval

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    _kind = _INIT["truncated_normal"]


class VarianceScaling(Initializer):
    _kind = _INIT["variance_scaling"]

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if mode not in _FAN:
            raise ValueError(f"mode: expected one of {sorted(_FAN)}, got {mode!r}")
        if distribution not in _DIST:
            raise ValueError(f"distribution: expected one of {sorted(_DIST)}, got {distribution!r}")
        if scale <= 0:
            raise ValueError(f"scale: expected a positive number, got {scale!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def _ab(self):
        return self.scale, 0.0

    def _mode_dist(self):
        return _FAN[self.mode], _DIST[self.distribution]

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _vs(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _vs("GlorotUniform", 1.0, "fan_avg", "uniform", "U(-l, l), l = sqrt(6 / (fan_in + fan_out)).")
GlorotNormal = _vs("GlorotNormal", 1.0, "fan_avg", "truncated_normal", "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).")
HeUniform = _vs("HeUniform", 2.0, "fan_in", "uniform", "U(-l, l), l = sqrt(6 / fan_in).")
HeNormal = _vs("HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated normal, stddev sqrt(2 / fan_in).")
LecunUniform = _vs("LecunUniform", 1.0, "fan_in", "uniform", "U(-l, l), l = sqrt(3 / fan_in).")
LecunNormal = _vs("LecunNormal", 1.0, "fan_in", "truncated_normal", "Truncated normal, stddev sqrt(1 / fan_in).")


class Orthogonal(Initializer):
    """An orthogonal matrix (QR of a normal matrix), times gain."""

    _kind = _INIT["orthogonal"]

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def _ab(self):
        return self.gain, 0.0

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    _kind = _INIT["identity"]

    def __init__(self, gain=1.0):
        super().__init__()
        self.gain = float(gain)

    def _ab(self):
        return self.gain, 0.0

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = {c.__name__: c for c in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity)}
_NAMES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity,
}
ALL = sorted(_NAMES)


_REGISTRY = Registry("initializer")
for _name, _cls in _NAMES.items():
    _REGISTRY.register(_cls, _name)


def get(identifier) -> Initializer:
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str):
        return _REGISTRY.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"initializer: expected a name, an Initializer or a config dict, got {identifier!r}")


def serialize(init: Initializer) -> dict:
    return _REGISTRY.serialize(init)


def deserialize(config: dict) -> Initializer:
    """An initializer from {"class_name": ..., "config": {...}}."""
    return _REGISTRY.deserialize(config)
