"""Learning-rate schedules (Keras 3 names and formulas), evaluated per step inside the native loop."""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import _core
from ._registry import Registry
from ._validation import finite_float, nonneg_float, positive_float

# Native kinds, from the engine (ScheduleKind in src/cpp/include/fastnn/optimizers.h)
_KIND = {name: int(kind) for name, kind in _core.ScheduleKind.__members__.items()}


class LearningRateSchedule:
    """Base class of the learning-rate schedules: ``schedule(step)`` is the rate at that step.

    A schedule is given as an optimizer's `learning_rate`. The rate is not computed in Python during
    training: the engine evaluates the schedule's formula (in float64) before every update, with
    ``step`` the optimizer's `iterations`, i.e. the number of updates already applied (0 for the
    first). Calling a schedule evaluates the same native formula, so ``schedule(step)`` is exactly
    the rate training uses at that step.

    Unlike Keras, a subclass cannot define its own formula in `__call__`: the engine knows only the
    built-in kinds, described by `native`. For a rate computed in Python, use the
    `fastnn.callbacks.LearningRateScheduler` callback (once per epoch) instead.
    """

    kind = _KIND["Constant"]

    def native(self) -> dict:
        """The engine's description of this schedule: its native kind and its parameters.

        Returns
        -------
        dict
            ``{"kind": <native kind>, "initial": <rate at step 0>, ...}`` with the parameters the
            engine's formula reads; an optimizer's native configuration embeds it.
        """
        raise NotImplementedError

    def __call__(self, step) -> float:
        from . import _core

        if isinstance(step, (list, tuple, np.ndarray)):
            return _on_steps(self.native(), step)  # type: ignore[return-value]  # an array for arrays, as Keras
        if isinstance(step, bool) or not isinstance(step, numbers.Real) or \
                not 0 <= step < 2**63:  # type: ignore[operator]  # typeshed's Real has no reflected <=
            raise ValueError(f"step: expected a number in [0, 2**63), got {step!r}")
        return float(_core.schedule_value(self.native(), int(float(step))))

    def get_config(self) -> dict:
        """The constructor arguments, as a JSON-ready dict (`serialize` wraps it with the class name).

        Returns
        -------
        dict
            Every argument of the schedule's constructor, `name` included, by keyword.
        """
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        """A schedule built from the dict `get_config` wrote.

        Parameters
        ----------
        config : dict
            Keyword arguments of the class's constructor. They are checked as the constructor checks
            them (ValueError for a value out of range, TypeError for an unknown key).

        Returns
        -------
        LearningRateSchedule
            A new instance of `cls`.
        """
        return cls(**config)


def _on_steps(native: dict, step) -> np.ndarray:
    """The rate at each step of an array of steps (float32, the array's shape), as Keras's schedules
    give for `lr_schedule(np.linspace(...))`; fractional steps count as their whole part, as a single
    step does."""
    from ._tf import Tensor   # arrays with TensorFlow's .numpy(), as ported scripts call it

    try:
        steps = np.asarray(step, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"step: expected numbers, got {step!r}") from None
    if not (np.isfinite(steps).all() and (steps >= 0).all() and (steps < 2.0**63).all()):
        raise ValueError(f"step: expected numbers in [0, 2**63), got values in [{steps.min()}, {steps.max()}]")
    rates = [_core.schedule_value(native, int(s)) for s in steps.reshape(-1)]
    return np.asarray(rates, dtype=np.float32).reshape(steps.shape).view(Tensor)


def _positive(name, v):
    positive_float(name, v)
    return v


def _nonneg(name, v):
    nonneg_float(name, v)
    return v


def _rate(name, v):
    """A learning rate a schedule starts from, passes through or ends at: finite and >= 0, as a
    plain learning rate must be."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise ValueError(f"{name}: expected a non-negative finite learning rate, got {v!r}")
    return v


def _as_list(name, v):
    if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__iter__"):
        raise ValueError(f"{name}: expected a list of numbers, got {v!r}")
    return list(v)


class ExponentialDecay(LearningRateSchedule):
    """The rate initial_learning_rate * decay_rate ** (step / decay_steps).

    Parameters
    ----------
    initial_learning_rate : float
        The rate at step 0: a Python int or float, finite and >= 0; anything else (a bool, a
        negative or non-finite number, a numpy float32) raises ValueError.
    decay_steps : float
        The number of steps over which the rate is multiplied by `decay_rate` once; a finite
        number > 0 (need not be an integer), else ValueError.
    decay_rate : float
        The factor per `decay_steps`; a finite number >= 0, else ValueError. Values above 1 give a
        growing rate, which is allowed as in Keras.
    staircase : bool, default False
        When true the exponent ``step / decay_steps`` is floored, so the rate drops in steps every
        `decay_steps` updates instead of continuously.
    name : str, default "ExponentialDecay"
        Kept in the configuration only; it plays no part in the formula.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.decay_rate = _nonneg("decay_rate", decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def native(self):
        return {"kind": _KIND["ExponentialDecay"], "initial": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase}

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """A rate constant between step boundaries: values[i] up to boundaries[i], then values[-1].

    The rate is ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i - 1] < step <= boundaries[i]``, and ``values[-1]`` after the last boundary (the
    boundary step itself still has the earlier value, as in Keras).

    Parameters
    ----------
    boundaries : sequence of float
        The steps at which the rate changes: finite numbers, strictly increasing, else ValueError.
        A string, a dict or a non-iterable raises ValueError. May be empty (a constant rate).
    values : sequence of float
        The rates, exactly ``len(boundaries) + 1`` of them, each a Python int or float, finite and
        >= 0; a wrong count or a bad value raises ValueError naming it. Keras does not check the
        order of the boundaries or the sign of the values; fastnn refuses both mistakes.
    name : str, default "PiecewiseConstantDecay"
        Kept in the configuration only.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstantDecay"):
        boundaries = [finite_float(f"boundaries[{i}]", b) for i, b in enumerate(_as_list("boundaries", boundaries))]
        values = [float(_rate(f"values[{i}]", v)) for i, v in enumerate(_as_list("values", values))]
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"values: expected len(boundaries) + 1 = {len(boundaries) + 1} values, got {len(values)}")
        if any(b2 <= b1 for b1, b2 in zip(boundaries, boundaries[1:])):
            raise ValueError("boundaries: expected strictly increasing values")
        self.boundaries, self.values, self.name = boundaries, values, name

    def native(self):
        return {"kind": _KIND["PiecewiseConstantDecay"], "initial": self.values[0], "boundaries": self.boundaries, "values": self.values}

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """The rate (initial - end) * (1 - step / decay_steps) ** power + end.

    Without `cycle`, the step is capped at `decay_steps`, so the rate stays at
    `end_learning_rate` afterwards. With `cycle`, `decay_steps` is multiplied by
    ``ceil(step / decay_steps)`` (1 at step 0), so the decay restarts from a rate between the
    initial and the end one instead of stopping.

    Parameters
    ----------
    initial_learning_rate : float
        The rate at step 0: a Python int or float, finite and >= 0, else ValueError.
    decay_steps : float
        The number of steps the decay lasts; a finite number > 0, else ValueError.
    end_learning_rate : float, default 0.0001
        The rate reached at `decay_steps`, same rules as `initial_learning_rate`. It may be above
        the initial rate (the rate then grows).
    power : float, default 1.0
        The exponent of the decay (1 is linear); a finite number >= 0, else ValueError. A negative
        power, which Keras accepts, would make the rate infinite at `decay_steps`.
    cycle : bool, default False
        Whether the decay restarts after `decay_steps` (see above).
    name : str, default "PolynomialDecay"
        Kept in the configuration only.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.end_learning_rate = _rate("end_learning_rate", end_learning_rate)
        # a negative power makes the rate infinite at decay_steps
        self.power = nonneg_float("power", power)
        self.cycle = bool(cycle)
        self.name = name

    def native(self):
        return {"kind": _KIND["PolynomialDecay"], "initial": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end": self.end_learning_rate, "power": self.power, "cycle": self.cycle}

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power,
                "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """The rate initial_learning_rate / (1 + decay_rate * step / decay_steps).

    Parameters
    ----------
    initial_learning_rate : float
        The rate at step 0: a Python int or float, finite and >= 0, else ValueError.
    decay_steps : float
        The step scale of the decay; a finite number > 0, else ValueError.
    decay_rate : float
        How fast the rate falls: after ``decay_steps`` steps it is ``initial / (1 + decay_rate)``;
        a finite number >= 0, else ValueError.
    staircase : bool, default False
        When true ``step / decay_steps`` is floored, so the rate changes only every `decay_steps`
        updates.
    name : str, default "InverseTimeDecay"
        Kept in the configuration only.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.decay_rate = _nonneg("decay_rate", decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def native(self):
        return {"kind": _KIND["InverseTimeDecay"], "initial": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase}

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay to alpha * rate over decay_steps, after an optional linear warmup.

    Without warmup the rate is ``initial * ((1 - alpha) * c + alpha)`` with
    ``c = 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))``. With a `warmup_target`,
    the rate first rises linearly from `initial_learning_rate` to `warmup_target` over
    `warmup_steps` steps, then the cosine decay runs from `warmup_target` over the following
    `decay_steps` steps. After the decay the rate stays at ``alpha`` times its peak.

    Parameters
    ----------
    initial_learning_rate : float
        The rate at step 0 (the start of the warmup, or of the decay without one): a Python int or
        float, finite and >= 0, else ValueError.
    decay_steps : float
        The length of the cosine decay in steps; a finite number > 0, else ValueError.
    alpha : float, default 0.0
        The final rate as a fraction of the peak rate; a finite number >= 0, else ValueError
        (a negative alpha would end on a negative rate). Values above 1 are allowed.
    name : str, default "CosineDecay"
        Kept in the configuration only.
    warmup_target : float, optional
        The rate at the end of the warmup, same rules as `initial_learning_rate`. None (the
        default) means no warmup, and `warmup_steps` is then ignored.
    warmup_steps : float, default 0
        The length of the warmup in steps; a finite number >= 0, else ValueError. With 0 and a
        `warmup_target`, the decay starts from `warmup_target` at step 0.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        # a negative alpha makes the rate negative at the end of the decay
        self.alpha = nonneg_float("alpha", alpha)
        self.name = name
        self.warmup_target = None if warmup_target is None else _rate("warmup_target", warmup_target)
        self.warmup_steps = _nonneg("warmup_steps", warmup_steps)

    def native(self):
        return {"kind": _KIND["CosineDecay"], "initial": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha,
                "warmup_target": -1.0 if self.warmup_target is None else self.warmup_target,
                "warmup_steps": self.warmup_steps}

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR); periods grow by t_mul, peaks by m_mul.

    Each period is a cosine decay from a peak down to ``alpha * initial_learning_rate``. Period
    ``i`` (from 0) lasts ``first_decay_steps * t_mul ** i`` steps and its cosine part is scaled by
    ``m_mul ** i``: it starts at ``initial_learning_rate * ((1 - alpha) * m_mul ** i + alpha)``,
    so the first period starts at `initial_learning_rate` and the floor never shrinks.

    Parameters
    ----------
    initial_learning_rate : float
        The first peak rate: a Python int or float, finite and >= 0, else ValueError.
    first_decay_steps : float
        The length of the first period in steps; a finite number > 0, else ValueError.
    t_mul : float, default 2.0
        The factor by which each period is longer than the one before; a finite number > 0, else
        ValueError (1 keeps every period the same length).
    m_mul : float, default 1.0
        The factor by which each peak is scaled relative to the one before; a finite number >= 0,
        else ValueError.
    alpha : float, default 0.0
        The rate at the end of every period, as a fraction of `initial_learning_rate`; a finite
        number >= 0, else ValueError.
    name : str, default "SGDRDecay"
        Kept in the configuration only (the default is Keras's).
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _positive("first_decay_steps", first_decay_steps)
        self.t_mul = _positive("t_mul", t_mul)
        self.m_mul = _nonneg("m_mul", m_mul)
        self.alpha = nonneg_float("alpha", alpha)
        self.name = name

    def native(self):
        return {"kind": _KIND["CosineDecayRestarts"], "initial": self.initial_learning_rate, "decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha}

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_REGISTRY = Registry("learning rate schedule")
for _cls in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay,
             CosineDecayRestarts):
    _REGISTRY.register(_cls)


def serialize(s: LearningRateSchedule) -> dict:
    """The Keras-style description of a schedule: its class name and its configuration.

    Parameters
    ----------
    s : LearningRateSchedule
        One of this module's schedules.

    Returns
    -------
    dict
        ``{"class_name": "ExponentialDecay", "config": {...}}`` and the like, which `deserialize`
        reads back and which an optimizer's `get_config` embeds as its `learning_rate`.
    """
    return _REGISTRY.serialize(s)


def deserialize(d: dict) -> LearningRateSchedule:
    """A schedule from ``{"class_name": ..., "config": {...}}``, as `serialize` and Keras write it.

    Parameters
    ----------
    d : dict
        The description, with the exact class name ("CosineDecay", ...); without a "config" key
        the other keys are taken as the configuration. A non-dict raises TypeError, an unknown
        class name ValueError listing the known ones.

    Returns
    -------
    LearningRateSchedule
        A new schedule.
    """
    return _REGISTRY.deserialize(d)
