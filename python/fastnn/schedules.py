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
    """Base class. `schedule(step)` returns the rate used by the optimizer at that step."""

    kind = _KIND["Constant"]

    def native(self) -> dict:
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
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
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
    """initial_learning_rate * decay_rate ** (step / decay_steps) (floored when staircase)."""

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
    """values[0] while step <= boundaries[0], values[i] while step <= boundaries[i], then values[-1]."""

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
    """(initial - end) * (1 - step / decay_steps) ** power + end; with cycle, decay_steps grows."""

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
    """initial_learning_rate / (1 + decay_rate * step / decay_steps) (floored when staircase)."""

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
    """Cosine decay to alpha * rate over decay_steps, after an optional linear warmup."""

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
    """Cosine decay with warm restarts (SGDR); periods grow by t_mul, peaks by m_mul."""

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
    return _REGISTRY.serialize(s)


def deserialize(d: dict) -> LearningRateSchedule:
    return _REGISTRY.deserialize(d)
