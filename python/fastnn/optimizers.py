"""Optimizers with Keras 3 names, defaults and update formulas; the update runs natively as one pass
over the model's parameter arena.

Differences from PyTorch (both sides are tested):
- Adam/AdamW/Nadam/Adamax: epsilon is added to sqrt(v) *after* folding the bias correction into the
  step size (Keras: lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)); PyTorch adds eps to
  sqrt(v_hat). The defaults differ too: Keras eps 1e-7, PyTorch 1e-8.
- SGD momentum: Keras keeps v = momentum * v - lr * g and adds v; PyTorch keeps
  b = momentum * b + g and subtracts lr * b. They agree for a constant learning rate.
- weight_decay is decoupled (p -= lr * weight_decay * p before the update) for every optimizer, as in
  Keras; PyTorch's Adam/SGD weight_decay is coupled (added to the gradient), AdamW's is decoupled.
- RMSprop: Keras's default rho 0.9 and eps 1e-7 inside the square root; PyTorch alpha 0.99 and eps
  1e-8 outside it.
"""
from __future__ import annotations

import math
import weakref

from . import schedules as _schedules
from ._registry import Registry
from .schedules import LearningRateSchedule

from . import _core

# Native kinds, from the engine (OptKind in src/cpp/include/fastnn/optimizers.h)
_KIND = {name: int(kind) for name, kind in _core.OptKind.__members__.items()}


def _check_rate(name, v, allow_zero=True):
    if isinstance(v, LearningRateSchedule):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or (
            v == 0 and not allow_zero):
        raise ValueError(f"{name}: expected a non-negative finite number or a schedule, got {v!r}")
    return float(v)


def _check_unit(name, v, closed_right=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 <= v < 1 or (closed_right and v == 1)):
        raise ValueError(f"{name}: expected a number in [0, 1{']' if closed_right else ')'}, got {v!r}")
    return float(v)


# PyTorch's (and Keras 2's) argument names and their Keras 3 counterparts, for the error message.
_TORCH_NAMES = {"lr": "learning_rate", "eps": "epsilon", "betas": "beta_1, beta_2",
                "decay": "a schedule (fastnn.optimizers.schedules)", "alpha": "rho (RMSprop)"}


class Optimizer:
    """Base class: learning rate (float or schedule), clipping and decoupled weight decay.

    The concrete optimizers (`SGD`, `Adam`, ...) take these arguments by keyword besides their own.
    One step, run natively over the model's parameter arena: clip the gradients (at most one of the
    three clipping modes), apply the decoupled weight decay ``p -= lr * weight_decay * p``, then the
    optimizer's own update. An optimizer serves one model: compiling a second model with the same
    instance raises ValueError.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.001
        The step size: a Python int or float, finite and >= 0, or a schedule from
        `fastnn.optimizers.schedules` evaluated at every step. Anything else (a bool, a negative or
        non-finite number, a numpy float32, a Python function) raises ValueError; Keras's callables
        as rates are not supported. Concrete optimizers have their own defaults (SGD: 0.01).
    weight_decay : float, optional
        Decoupled weight decay, applied to every trainable variable before the update and scaled by
        the current learning rate; a finite number >= 0, else ValueError. None (the default) or 0
        means none. Decoupled for every optimizer as in Keras, whereas PyTorch's SGD and Adam add
        their `weight_decay` to the gradient.
    clipnorm : float, optional
        When set, each variable's gradient whose L2 norm exceeds it is rescaled to that norm (per
        variable, as Keras does). A finite number > 0, else ValueError.
    clipvalue : float, optional
        When set, each gradient element is clipped to ``[-clipvalue, clipvalue]``. A finite number
        > 0, else ValueError.
    global_clipnorm : float, optional
        When set, all trainable gradients together are rescaled so that their joint L2 norm is at
        most this (PyTorch's ``clip_grad_norm_``). A finite number > 0, else ValueError. Setting
        more than one of `clipnorm`, `clipvalue` and `global_clipnorm` raises ValueError.
    name : str, optional
        The optimizer's name, used in messages and configs; the class name in lower case when
        None.
    **kwargs
        Keras's `use_ema`, `ema_momentum`, `ema_overwrite_frequency`, `loss_scale_factor` and
        `gradient_accumulation_steps` are accepted only as None or False (a config Keras wrote
        loads); any other value raises NotImplementedError. Any other keyword raises TypeError,
        which names the Keras argument for a PyTorch one (``lr=`` -> `learning_rate`, ``eps=`` ->
        `epsilon`, ``betas=`` -> `beta_1`, `beta_2`).
    """

    _defaults: dict = {}
    #: The engine's optimizer kind (a key of _KIND), set by each concrete optimizer.
    _native_kind: str

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        for k in ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                  "gradient_accumulation_steps"):
            if kwargs.pop(k, None) not in (None, False):
                raise NotImplementedError(f"{type(self).__name__}: {k} is not supported by fastnn")
        if kwargs:
            hints = [f"{k}= -> {_TORCH_NAMES[k]}" for k in sorted(kwargs) if k in _TORCH_NAMES]
            hint = f" (did you mean {'; '.join(hints)}? fastnn takes Keras's argument names)" if hints else ""
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}{hint}")
        self._learning_rate = _check_rate("learning_rate", learning_rate)
        self.weight_decay = None if weight_decay is None else _check_rate("weight_decay", weight_decay)
        set_clips = [n for n, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                    ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(set_clips) > 1:
            raise ValueError(f"only one of clipnorm, clipvalue and global_clipnorm can be set, got {set_clips}")
        for n, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
            if v is not None:
                _check_rate(n, v, allow_zero=False)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self._model_ref = None
        self._iterations = 0

    # --- binding to a model (compile, or build() for the manual loop) ---
    def _attach(self, model):
        current = self._model_ref() if self._model_ref else None
        if current is not None and current is not model:
            raise ValueError(
                f"optimizer {self.name!r} is already used by another model; create one optimizer per model")
        self._model_ref = weakref.ref(model)

    @property
    def _model(self):
        return self._model_ref() if self._model_ref else None

    def build(self, variables):
        """Binds the optimizer to the model that owns `variables`, for the manual loop.

        After this, `zero_grad()` and `step()` act on that model (PyTorch's pattern of passing the
        parameters to the optimizer). `model.compile(optimizer=...)` binds the optimizer itself.

        Parameters
        ----------
        variables : list of Variable
            The variables of one fastnn model, as `model.trainable_variables` or
            `model.parameters()` return them. An empty list, or variables of more than one model,
            raises ValueError; so does a model other than the one the optimizer already serves.
        """
        models = {id(v.model): v.model for v in variables} if variables else {}
        if len(models) != 1:
            raise ValueError("build: expected the variables of exactly one fastnn model")
        model = next(iter(models.values()))
        self._attach(model)
        model._use_optimizer(self)

    def zero_grad(self):
        """Sets the gradients of the bound model to zero (the manual loop)."""
        self._require_model()._engine.zero_grad()

    def step(self):
        """Applies one update from the gradients accumulated by loss.backward() (the manual loop)."""
        self._require_model()._apply_gradients()

    def _require_model(self):
        m = self._model
        if m is None:
            raise RuntimeError(
                f"{type(self).__name__}: not bound to a model; call optimizer.build(model.parameters()) "
                "or model.compile(optimizer=...) first")
        return m

    # --- learning rate ---
    @property
    def learning_rate(self):
        """The current rate (a float). Assigning a float or a schedule takes effect at the next step."""
        m = self._model
        if m is not None and m.built:
            return m._engine.current_learning_rate()
        lr = self._learning_rate
        return lr(self._iterations) if isinstance(lr, LearningRateSchedule) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _check_rate("learning_rate", value)
        m = self._model
        if m is not None and m.built:
            m._engine.set_learning_rate_schedule(self._schedule_native())

    lr = learning_rate

    @property
    def iterations(self) -> int:
        """The number of updates applied so far (the step a schedule is evaluated at next)."""
        m = self._model
        if m is not None and m.built:
            return m._engine.iterations
        return self._iterations

    def _schedule_native(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return lr.native()
        return {"kind": _schedules._KIND["Constant"], "initial": float(lr)}

    def native_config(self) -> dict:
        """The engine's description of this optimizer: kind, schedule, hyperparameters, clipping.

        Returns
        -------
        dict
            What the native trainer is configured with: ``"kind"``, ``"schedule"`` (see
            `LearningRateSchedule.native`), the optimizer's own hyperparameters, and
            ``"weight_decay"``, ``"clipnorm"``, ``"clipvalue"``, ``"global_clipnorm"`` as floats
            (0.0 for unset).
        """
        cfg = {"kind": _KIND[type(self)._native_kind], "schedule": self._schedule_native()}
        cfg.update(self._native_extra())
        cfg["weight_decay"] = float(self.weight_decay or 0.0)
        cfg["clipnorm"] = float(self.clipnorm or 0.0)
        cfg["clipvalue"] = float(self.clipvalue or 0.0)
        cfg["global_clipnorm"] = float(self.global_clipnorm or 0.0)
        return cfg

    def _native_extra(self) -> dict:
        return {}

    def get_config(self) -> dict:
        """The constructor arguments, as a JSON-ready dict (Keras's keys).

        Returns
        -------
        dict
            ``name``, ``learning_rate`` (a float, or a schedule's ``{"class_name", "config"}``
            dict), ``weight_decay``, the three clipping arguments, and the optimizer's own
            hyperparameters. The optimizer's state (moments, iterations) is not part of it.
        """
        lr = self._learning_rate
        cfg = {"name": self.name,
               "learning_rate": _schedules.serialize(lr) if isinstance(lr, LearningRateSchedule) else lr,
               "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
               "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}
        cfg.update(self._own_config())
        return cfg

    def _own_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        """An optimizer built from the dict `get_config` (or Keras) wrote.

        Parameters
        ----------
        config : dict
            Keyword arguments of the class's constructor; a `learning_rate` given as a dict is read
            as a serialized schedule. Values are checked as the constructor checks them.

        Returns
        -------
        Optimizer
            A new instance of `cls`, with fresh state.
        """
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = _schedules.deserialize(lr)
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self._learning_rate!r})"


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, in Keras's form.

    Without momentum ``p -= lr * g``. With momentum the velocity is ``v = momentum * v - lr * g``
    and ``p += v`` (Nesterov: ``p += momentum * v - lr * g``). PyTorch keeps
    ``b = momentum * b + g`` and applies ``p -= lr * b`` instead: the two agree while the learning
    rate is constant, and differ after it changes.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.01
        The step size (see `Optimizer`).
    momentum : float, default 0.0
        The velocity's decay, a number in [0, 1]; 0 keeps no velocity. Anything else raises
        ValueError.
    nesterov : bool, default False
        Whether to use Nesterov momentum (no effect without momentum).
    **kwargs
        The base class's arguments: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
        `name` (see `Optimizer`).
    """

    _native_kind = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = _check_unit("momentum", momentum, closed_right=True)
        self.nesterov = bool(nesterov)

    def _native_extra(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def _own_config(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam, in Keras's form (epsilon added after the bias correction).

    ``m += (g - m) * (1 - beta_1)``, ``v += (g^2 - v) * (1 - beta_2)``, then
    ``p -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`` at step ``t``
    (from 1). PyTorch adds its epsilon (default 1e-8) to ``sqrt(v_hat)`` instead, so the two differ
    slightly whenever ``sqrt(v)`` is not much larger than epsilon.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.001
        The step size (see `Optimizer`).
    beta_1 : float, default 0.9
        Decay of the first moment, a number in [0, 1); anything else raises ValueError.
    beta_2 : float, default 0.999
        Decay of the second moment, a number in [0, 1); anything else raises ValueError.
    epsilon : float, default 1e-7
        Added to ``sqrt(v)`` for stability; a finite number >= 0, else ValueError.
    amsgrad : bool, default False
        Whether to divide by the running maximum of ``v`` over past steps instead of ``v``
        (AMSGrad; one more state slot per parameter).
    **kwargs
        The base class's arguments: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
        `name` (see `Optimizer`).
    """

    _native_kind = "Adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_unit("beta_1", beta_1)
        self.beta_2 = _check_unit("beta_2", beta_2)
        self.epsilon = float(_check_rate("epsilon", epsilon))
        self.amsgrad = bool(amsgrad)

    def _native_extra(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}

    def _own_config(self):
        return self._native_extra()


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004, as Keras).

    The update is `Adam`'s, preceded by ``p -= lr * weight_decay * p``. PyTorch's AdamW does the
    same decay but defaults to ``weight_decay=0.01`` and ``eps=1e-8``.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.001
        The step size (see `Optimizer`).
    weight_decay : float, default 0.004
        The decoupled decay factor; a finite number >= 0, else ValueError. None or 0 makes it
        plain Adam.
    beta_1 : float, default 0.9
        Decay of the first moment, a number in [0, 1).
    beta_2 : float, default 0.999
        Decay of the second moment, a number in [0, 1).
    epsilon : float, default 1e-7
        Added to ``sqrt(v)``; a finite number >= 0.
    amsgrad : bool, default False
        Whether to use the running maximum of ``v`` (see `Adam`).
    **kwargs
        The base class's `clipnorm`, `clipvalue`, `global_clipnorm` and `name` (see `Optimizer`).
    """

    _native_kind = "AdamW"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop, in Keras's form (epsilon inside the square root).

    ``s = rho * s + (1 - rho) * g^2`` and ``p -= lr * g / sqrt(s + epsilon)``. Centered, the
    denominator is ``sqrt(s - a^2 + epsilon)`` with ``a`` the running mean of ``g``. With momentum
    the increments accumulate: ``m = momentum * m + lr * g / sqrt(...)`` and ``p -= m``. PyTorch's
    defaults differ (its `alpha`, Keras's `rho`, is 0.99; eps 1e-8 outside the root), so its
    numbers differ for the same arguments.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.001
        The step size (see `Optimizer`).
    rho : float, default 0.9
        Decay of the running mean of ``g^2``, a number in [0, 1); anything else raises ValueError.
    momentum : float, default 0.0
        Decay of the accumulated increments, a number in [0, 1); 0 keeps none.
    epsilon : float, default 1e-7
        Added under the square root; a finite number >= 0, else ValueError.
    centered : bool, default False
        Whether to subtract the squared running mean of the gradient (one more state slot).
    **kwargs
        The base class's arguments: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
        `name` (see `Optimizer`).
    """

    _native_kind = "RMSprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = _check_unit("rho", rho)
        self.momentum = _check_unit("momentum", momentum)
        self.epsilon = float(_check_rate("epsilon", epsilon))
        self.centered = bool(centered)

    def _native_extra(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}

    def _own_config(self):
        return self._native_extra()


class Adagrad(Optimizer):
    """Adagrad: a += g^2; p -= lr * g / sqrt(a + eps).

    PyTorch's Adagrad differs in its defaults (lr 0.01, accumulator 0, eps 1e-10) and adds eps
    outside the square root.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.001
        The step size (see `Optimizer`).
    initial_accumulator_value : float, default 0.1
        The value every accumulator ``a`` starts at (and is reset to when the optimizer state is
        reset); a finite number >= 0, else ValueError.
    epsilon : float, default 1e-7
        Added under the square root; a finite number >= 0, else ValueError.
    **kwargs
        The base class's arguments: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
        `name` (see `Optimizer`).
    """

    _native_kind = "Adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = float(_check_rate("initial_accumulator_value", initial_accumulator_value))
        self.epsilon = float(_check_rate("epsilon", epsilon))

    def _native_extra(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}

    def _own_config(self):
        return self._native_extra()


class Adadelta(Optimizer):
    """Adadelta, in Keras's form: with a learning rate, default 0.001.

    ``a = rho * a + (1 - rho) * g^2``, ``d = -sqrt(s + epsilon) / sqrt(a + epsilon) * g``,
    ``s = rho * s + (1 - rho) * d^2`` and ``p += lr * d``. PyTorch's Adadelta computes the same
    ``d`` but defaults to ``lr=1.0`` (the original paper's, no learning rate) and ``eps=1e-6``;
    with Keras's 0.001 the steps are a thousand times smaller, so pass the rate explicitly when
    porting from PyTorch.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.001
        The factor applied to ``d`` (see `Optimizer`).
    rho : float, default 0.95
        Decay of both running means, a number in [0, 1); anything else raises ValueError.
    epsilon : float, default 1e-7
        Added under both square roots; a finite number >= 0, else ValueError.
    **kwargs
        The base class's arguments: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
        `name` (see `Optimizer`).
    """

    _native_kind = "Adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = _check_unit("rho", rho)
        self.epsilon = float(_check_rate("epsilon", epsilon))

    def _native_extra(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def _own_config(self):
        return self._native_extra()


class Adamax(Optimizer):
    """Adamax: u = max(b2 u, |g|); p -= lr / (1 - b1^t) * m / (u + eps).

    ``m`` is Adam's first moment, ``u`` a decaying maximum of ``|g|`` (no bias correction), ``t``
    the step from 1.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.001
        The step size (see `Optimizer`).
    beta_1 : float, default 0.9
        Decay of the first moment, a number in [0, 1); anything else raises ValueError.
    beta_2 : float, default 0.999
        Decay of the running maximum, a number in [0, 1); anything else raises ValueError.
    epsilon : float, default 1e-7
        Added to ``u``; a finite number >= 0, else ValueError.
    **kwargs
        The base class's arguments: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
        `name` (see `Optimizer`).
    """

    _native_kind = "Adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_unit("beta_1", beta_1)
        self.beta_2 = _check_unit("beta_2", beta_2)
        self.epsilon = float(_check_rate("epsilon", epsilon))

    def _native_extra(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def _own_config(self):
        return self._native_extra()


class Nadam(Adamax):
    """Nadam (Keras 3 form, momentum schedule u_t = b1 (1 - 0.5 * 0.96^t)).

    Adam's moments with Nesterov momentum: the step uses
    ``u_{t+1} / (1 - prod u_1..u_{t+1}) * m + (1 - u_t) / (1 - prod u_1..u_t) * g`` over
    ``sqrt(v / (1 - beta_2^t)) + epsilon``. The running product of the ``u`` is kept with the
    moments as part of the optimizer's state.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.001
        The step size (see `Optimizer`).
    beta_1 : float, default 0.9
        Base of the momentum schedule and decay of the first moment, a number in [0, 1).
    beta_2 : float, default 0.999
        Decay of the second moment, a number in [0, 1).
    epsilon : float, default 1e-7
        Added to the root of the corrected second moment; a finite number >= 0.
    **kwargs
        The base class's arguments: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
        `name` (see `Optimizer`).
    """

    _native_kind = "Nadam"


class Lion(Optimizer):
    """Lion: p -= lr sign(b1 m + (1 - b1) g); m = b2 m + (1 - b2) g.

    Before weight decay, every parameter moves by exactly ``lr`` (or 0) per step, so Lion wants a learning rate several
    times smaller than Adam's for the same model; one state slot per parameter.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule, default 0.001
        The step size (see `Optimizer`).
    beta_1 : float, default 0.9
        Weight of the momentum in the sign of the update, a number in [0, 1]; anything else
        raises ValueError.
    beta_2 : float, default 0.99
        Decay of the momentum, a number in [0, 1].
    **kwargs
        The base class's arguments: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
        `name` (see `Optimizer`).
    """

    _native_kind = "Lion"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_unit("beta_1", beta_1, closed_right=True)
        self.beta_2 = _check_unit("beta_2", beta_2, closed_right=True)

    def _native_extra(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}

    def _own_config(self):
        return self._native_extra()


_CLASSES = {c.__name__: c for c in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion)}
_NAMES = {k.lower(): v for k, v in _CLASSES.items()}
ALL = sorted(_NAMES)


_REGISTRY = Registry("optimizer")
for _name, _cls in _NAMES.items():
    _REGISTRY.register(_cls, _name)


def get(identifier) -> Optimizer:
    """Resolves "adam", "sgd", ... (Keras names), an Optimizer, a class or a config dict.

    Parameters
    ----------
    identifier : str, Optimizer, Optimizer subclass or dict
        A name ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam",
        "lion", case-insensitive) or a class gives a new instance with the defaults; an
        Optimizer instance is returned as is (not copied, so it stays bound to one model); a dict
        ``{"class_name": ..., "config": {...}}`` goes through `deserialize`. An unknown name
        raises ValueError listing the valid ones; any other type raises TypeError.

    Returns
    -------
    Optimizer
        The optimizer.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str):
        return _REGISTRY.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"optimizer: expected a name, an Optimizer or a config dict, got {identifier!r}")


def serialize(opt: Optimizer) -> dict:
    """The Keras-style description of an optimizer: its class name and its configuration.

    Parameters
    ----------
    opt : Optimizer
        The optimizer to describe (its hyperparameters, not its state).

    Returns
    -------
    dict
        ``{"class_name": "Adam", "config": {...}}`` and the like, which `deserialize` reads back.
    """
    return _REGISTRY.serialize(opt)


def deserialize(config: dict) -> Optimizer:
    """An optimizer from {"class_name": ..., "config": {...}}.

    Parameters
    ----------
    config : dict
        The description, with the exact class name ("Adam", "SGD", ...), as `serialize` and Keras
        write it; without a "config" key the other keys are taken as the configuration. A non-dict
        raises TypeError, an unknown class name ValueError listing the known ones.

    Returns
    -------
    Optimizer
        A new optimizer with fresh state.
    """
    return _REGISTRY.deserialize(config)


schedules = _schedules
