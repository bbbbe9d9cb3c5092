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
    """Base class of the initializers: describes how a weight's starting values are drawn.

    The draw runs natively when the layer is built; calling an initializer, init(shape, dtype),
    draws an array now with the same engine code. A seeded initializer gives the same values on
    every call and every machine.

    Parameters
    ----------
    seed : int, optional
        The draw's seed, an int in [0, 2**64); anything else (a bool included) raises ValueError.
        None (the default) takes a seed from fastnn's seed stream when the layer is built
        (fastnn.utils.set_random_seed makes it reproducible); Keras draws a fresh one per call.
    """

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
        """The engine's description of the draw (used by layers when their model builds).

        Parameters
        ----------
        seed : int, optional
            The seed to use when the initializer has none of its own; with neither, one is taken
            from fastnn's seed stream.

        Returns
        -------
        tuple
            (kind, a, b, fan mode, distribution, seed): the native kind, its two parameters (mean and
            stddev, minval and maxval, scale, gain or value) and the seed that will be used.
        """
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
        """The initializer's constructor arguments.

        Returns
        -------
        dict
            Keyword arguments that from_config() turns back into an equal initializer (an empty dict
            for those that take none, such as Zeros).
        """
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config):
        """Builds an initializer from get_config()'s dict.

        Parameters
        ----------
        config : dict
            The constructor's keyword arguments.

        Returns
        -------
        Initializer
            A new initializer of this class.
        """
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


class Zeros(Initializer):
    """All zeros.

    Parameters
    ----------
    seed : None
        Accepted as the base class does and unused (nothing is random); not in the configuration.
    """

    _kind = _INIT["zeros"]

    def get_config(self):
        return {}


class Ones(Initializer):
    """All ones.

    Parameters
    ----------
    seed : None
        Accepted as the base class does and unused (nothing is random); not in the configuration.
    """

    _kind = _INIT["ones"]

    def get_config(self):
        return {}


class Constant(Initializer):
    """Every value equal to one number.

    Parameters
    ----------
    value : float or 1-element array_like, default 0.0
        The value: one number, or an array holding exactly one (np.log([p / n]), as Keras
        tutorials write it). A non-numeric value raises TypeError; an array of several values
        raises ValueError (Keras broadcasts such an array to the weight's shape).
    """

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
    """Independent draws from N(mean, stddev**2), untruncated.

    Parameters
    ----------
    mean : float, default 0.0
        The distribution's mean.
    stddev : float, default 0.05
        Its standard deviation (Keras 3's default; PyTorch's nn.init.normal_ uses 1.0).
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built (fastnn.utils.set_random_seed makes it reproducible).
    """

    _kind = _INIT["random_normal"]

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def _ab(self):
        return self.mean, self.stddev

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Independent draws from U(minval, maxval).

    Parameters
    ----------
    minval : float, default -0.05
        The lower bound.
    maxval : float, default 0.05
        The upper bound.
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built (fastnn.utils.set_random_seed makes it reproducible).
    """

    _kind = _INIT["random_uniform"]

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def _ab(self):
        return self.minval, self.maxval

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Draws from N(mean, stddev**2) cut at two standard deviations (redrawn outside mean +- 2 stddev).

    As in Keras, stddev is that of the normal before the cut (the values' own spread is smaller).

    Parameters
    ----------
    mean : float, default 0.0
        The distribution's mean.
    stddev : float, default 0.05
        The standard deviation of the normal before truncation.
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built (fastnn.utils.set_random_seed makes it reproducible).
    """

    _kind = _INIT["truncated_normal"]


class VarianceScaling(Initializer):
    """Draws whose variance is scale / n, n the kernel's fan (Keras's VarianceScaling).

    For a kernel of shape (..., fan_out) the fan_in is the product of the other dimensions. The
    "truncated_normal" distribution cuts at two standard deviations and corrects the stddev by
    0.8796... so that the values' variance is scale / n, as Keras does; "untruncated_normal" draws
    N(0, scale / n); "uniform" draws U(-l, l), l = sqrt(3 * scale / n). A mode, distribution or
    scale outside those below raises ValueError naming the argument.

    Parameters
    ----------
    scale : float, default 1.0
        The variance's numerator, positive.
    mode : {"fan_in", "fan_out", "fan_avg"}, default "fan_in"
        Which fan n is: the inputs, the outputs, or their mean.
    distribution : {"truncated_normal", "untruncated_normal", "uniform", "normal"}, default "truncated_normal"
        The distribution; "normal" is Keras's alias of "truncated_normal".
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built (fastnn.utils.set_random_seed makes it reproducible).
    """

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
        """The initializer's constructor arguments (only its seed: scale, mode and distribution are fixed).

        Returns
        -------
        dict
            {"seed": ...}, which from_config() turns back into an equal initializer.
        """
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _vs("GlorotUniform", 1.0, "fan_avg", "uniform", """U(-l, l), l = sqrt(6 / (fan_in + fan_out)).

    Keras's default kernel initializer; PyTorch's nn.init.xavier_uniform_ (PyTorch's Linear layers
    start from a different, fan_in-based uniform).

    Parameters
    ----------
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built.
    """)
GlorotNormal = _vs("GlorotNormal", 1.0, "fan_avg", "truncated_normal", """Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).

    Cut at two standard deviations, with the stddev corrected so the values have that spread
    (PyTorch's nn.init.xavier_normal_ is untruncated).

    Parameters
    ----------
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built.
    """)
HeUniform = _vs("HeUniform", 2.0, "fan_in", "uniform", """U(-l, l), l = sqrt(6 / fan_in).

    PyTorch's nn.init.kaiming_uniform_ with its defaults (a=0, mode fan_in).

    Parameters
    ----------
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built.
    """)
HeNormal = _vs("HeNormal", 2.0, "fan_in", "truncated_normal", """Truncated normal, stddev sqrt(2 / fan_in).

    Cut at two standard deviations, with the stddev corrected so the values have that spread
    (PyTorch's nn.init.kaiming_normal_ is untruncated).

    Parameters
    ----------
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built.
    """)
LecunUniform = _vs("LecunUniform", 1.0, "fan_in", "uniform", """U(-l, l), l = sqrt(3 / fan_in).

    The uniform draw of variance 1 / fan_in, suited to SELU networks.

    Parameters
    ----------
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built.
    """)
LecunNormal = _vs("LecunNormal", 1.0, "fan_in", "truncated_normal", """Truncated normal, stddev sqrt(1 / fan_in).

    Cut at two standard deviations, with the stddev corrected so the values have that spread;
    the initializer SELU networks expect.

    Parameters
    ----------
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built.
    """)


class Orthogonal(Initializer):
    """An orthogonal matrix (QR of a normal matrix), times gain.

    A kernel of shape (..., cols) is treated as a (rows, cols) matrix, rows the product of the other
    dimensions; its rows or its columns, whichever are fewer, are orthonormal before the gain.

    Parameters
    ----------
    gain : float, default 1.0
        The factor applied to the orthogonal matrix.
    seed : int, optional
        The draw's seed, an int in [0, 2**64); None (the default) takes one from fastnn's seed
        stream when the layer is built.
    """

    _kind = _INIT["orthogonal"]

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def _ab(self):
        return self.gain, 0.0

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """gain times the identity matrix (for a non-square kernel, its leading diagonal).

    A kernel of shape (..., cols) is treated as a (rows, cols) matrix, rows the product of the other
    dimensions (Keras accepts only 2-D shapes); min(rows, cols) diagonal entries are gain and the
    rest zeros, as Keras's Identity and PyTorch's nn.init.eye_ give.

    Parameters
    ----------
    gain : float, default 1.0
        The value on the diagonal.
    """

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
    """Resolves anything a layer accepts as an initializer into an Initializer.

    Parameters
    ----------
    identifier : str, dict, Initializer or Initializer subclass
        A name ("glorot_uniform", "he_normal", ...; case-insensitive, class names such as
        "GlorotUniform" too), a config dict {"class_name": ..., "config": {...}}, an instance
        (returned as is) or a class (instantiated with its defaults). An unknown name raises
        ValueError listing the valid ones; any other type raises TypeError.

    Returns
    -------
    Initializer
        The initializer the identifier names.
    """
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
    """An initializer's Keras-style description, the inverse of deserialize.

    Parameters
    ----------
    init : Initializer
        Any fastnn initializer.

    Returns
    -------
    dict
        {"class_name": the class's name, "config": init.get_config()}.
    """
    return _REGISTRY.serialize(init)


def deserialize(config: dict) -> Initializer:
    """An initializer from {"class_name": ..., "config": {...}}.

    Parameters
    ----------
    config : dict
        serialize()'s dict: the exact class name (ValueError listing the valid classes otherwise)
        and the constructor's keyword arguments; without a "config" key the other keys are taken as
        the configuration. A value that is not a dict raises TypeError.

    Returns
    -------
    Initializer
        A new initializer of that class.
    """
    return _REGISTRY.deserialize(config)
