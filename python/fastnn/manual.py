"""The manual (PyTorch-style) loop's objects: the output of model(x) and the loss value whose
backward() runs the native backward pass.

Rules, checked at the NativeNet:
- Only the output of model(x) itself is differentiable. It is read-only, and any numpy operation on
  it (1 - out, out * 0, np.clip(out, ...), a slice, a copy) gives a plain array: a loss on that is the
  loss of its actual values, and its backward() raises instead of differentiating the untransformed
  output.
- A forward pass serves one backward(): a second raises unless the first was backward(retain_graph=True)
  (then the gradients accumulate, as in PyTorch). fit(), compile() or another model(x) end the pass.
- Losses of one pass combine linearly: (loss1 + 0.5 * loss2).backward() accumulates both gradients.
"""
from __future__ import annotations

import itertools
import weakref

import numpy as np

from ._validation import as_sample_weight, as_targets

_NOT_AN_OUTPUT = ("backward(): this loss was not computed from a model output: its value is not a model output "
                  "(a numpy transform, a slice or a copy of model(x) is a plain array, with no gradient path "
                  "to the model); apply the transform inside "
                  "the model (for example an Activation layer) or compute the loss on the output of model(x) "
                  "itself")
_loss_ids = itertools.count(1)


def _plain(v):
    if isinstance(v, ModelOutput):
        return v.view(np.ndarray)
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


class ModelOutput(np.ndarray):
    """The output of model(x): a read-only numpy array that remembers the forward pass it came from,
    so that a loss computed on it can run backward(). Anything computed from it is a plain array."""

    def __array_finalize__(self, obj):
        # Views, copies and reshapes of an output are not the output: they carry no forward pass.
        self._fastnn_source = None
        self._fastnn_token = None

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            kwargs["out"] = _plain(kwargs["out"])
        return getattr(ufunc, method)(*_plain(inputs), **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return func(*_plain(args), **_plain(kwargs))

    def __getitem__(self, key):
        return self.view(np.ndarray)[key]

    def numpy(self) -> np.ndarray:
        """The values as a plain, writable numpy array (TensorFlow's tensor.numpy())."""
        return np.array(self.view(np.ndarray))

    def __reduce__(self):
        return np.asarray(self).__reduce__()


class LossValue(float):
    """A reduced loss value (a float) that can run the backward pass of the model that produced it.

    Sums and multiples of loss values of one forward pass are loss values too; it behaves as a
    Python float everywhere else (printing, comparing, logging). Unlike a PyTorch tensor it holds
    no graph of its own: the forward pass it refers to lives in the model.

    Parameters
    ----------
    value : float
        The loss value.
    backward : callable, optional
        A function run by :meth:`backward` instead of the terms (for values built with their own
        backward pass); ``None`` by default.
    terms : list, optional
        ``(coefficient, term)`` pairs: the model-output losses this value is a linear combination
        of. Empty (the default) for a value not computed from a model output.
    why_not : str, optional
        Why this value cannot be differentiated; :meth:`backward` raises a TypeError with it.
    """

    def __new__(cls, value, backward=None, terms=None, why_not=None):
        obj = super().__new__(cls, value)
        obj._backward = backward
        obj._terms = list(terms or [])       # [(coefficient, _Term)]
        obj._why_not = why_not
        return obj

    def backward(self, retain_graph=False):
        """Accumulate this loss's gradients into the model's gradients (``optimizer.step()`` applies them).

        As in PyTorch, gradients add up over calls until the optimizer's ``zero_grad()``.

        Parameters
        ----------
        retain_graph : bool, optional
            Keep the forward pass for another ``backward()`` (default False: a second
            ``backward()`` on the same pass raises).

        Raises
        ------
        TypeError
            When the value cannot be differentiated (it was combined with a value that has its
            own backward pass, or with a loss not computed from a model output).
        RuntimeError
            When the value was not computed from the output of ``model(x)`` (for example from a
            numpy transform or a copy of it).
        ValueError
            When the value sums losses of different forward passes.
        """
        if self._why_not is not None:
            raise TypeError(f"backward(): {self._why_not}")
        if self._backward is not None and not self._terms:
            self._backward()
            return
        if not self._terms:
            raise RuntimeError(_NOT_AN_OUTPUT)
        passes = {(id(t.engine), t.pass_id) for _c, t in self._terms}
        if len(passes) != 1:
            raise ValueError("backward(): this sum holds losses of different forward passes; call backward() "
                             "on each loss right after its own forward pass")
        first = self._terms[0][1]
        if len(self._terms) == 1 and self._terms[0][0] == 1.0:
            first.engine.backward(first.pass_id, first.loss_id, first.dout, retain_graph)
            return

        def dout():
            return sum(c * t.dout() for c, t in self._terms)

        first.engine.backward(first.pass_id, None, dout, retain_graph)

    def item(self) -> float:
        """Return the value as a Python float (PyTorch's ``loss.item()``).

        Returns
        -------
        float
            The loss value, without the backward machinery.
        """
        return float(self)

    def numpy(self) -> np.float64:
        """Return the value as a numpy scalar (TensorFlow's ``loss.numpy()``).

        Returns
        -------
        numpy.float64
            The loss value.
        """
        return np.float64(self)

    # --- linear combinations of losses of one pass ---
    def _combine(self, other, sign, reflected=False):
        if isinstance(other, LossValue):
            if self._backward is not None or other._backward is not None:
                return LossValue(float(self) + sign * float(other),
                                 why_not="this loss cannot be combined with another (it has its own backward)")
            terms = self._terms + [(sign * c, t) for c, t in other._terms]
            why = self._why_not or other._why_not
            if (not self._terms) != (not other._terms) and why is None:
                why = "one of the added values is not the loss of a model output; apply any transform inside the model"
            value = float(other) + sign * float(self) if reflected else float(self) + sign * float(other)
            return LossValue(value, terms=terms, why_not=why)
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            if reflected:
                return LossValue(float(other) + sign * float(self), terms=[(sign * c, t) for c, t in self._terms],
                                 why_not=self._why_not, backward=self._backward if sign > 0 else None)
            return LossValue(float(self) + sign * float(other), terms=self._terms, why_not=self._why_not,
                             backward=self._backward)
        return NotImplemented

    def __add__(self, other):
        return self._combine(other, 1.0)

    def __radd__(self, other):
        return self._combine(other, 1.0, reflected=True)

    def __sub__(self, other):
        return self._combine(other, -1.0)

    def __rsub__(self, other):
        return self._combine(other, -1.0, reflected=True)

    def __mul__(self, other):
        if isinstance(other, LossValue):
            return LossValue(float(self) * float(other), why_not="a product of two losses is not supported; "
                             "combine losses as weighted sums (a * loss1 + b * loss2)")
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            c = float(other)
            return LossValue(float(self) * c, terms=[(c * k, t) for k, t in self._terms], why_not=self._why_not
                             or (None if self._backward is None else "a multiple of this loss is not supported"))
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            return self * (1.0 / float(other))
        return NotImplemented

    def __neg__(self):
        return self * -1.0

    def __pos__(self):
        return self


class _Term:
    """One loss on one forward pass: what backward() needs to replay it."""

    __slots__ = ("engine", "pass_id", "loss_id", "_loss", "_y", "_w", "_out")

    def __init__(self, engine, pass_id, loss_id, loss, y, w, out):
        self.engine, self.pass_id, self.loss_id = engine, pass_id, loss_id
        self._loss, self._y, self._w, self._out = loss, y, w, out

    def dout(self):
        """d loss / d output, from the output's values (the unfused form)."""
        return self._loss.value_and_grad(self._y, self._out, self._w)[1]


class ManualLoop:
    """model(x), model.train() / model.eval(), and the loss of a cached pass (mixed into Model)."""

    def _init_manual_state(self):
        self._training_mode = False

    @property
    def training(self) -> bool:
        """The mode model(x) runs in when training= is not given (settable through train() and eval()).

        False (inference, Keras's default) until model.train() is called. fit, evaluate and
        predict choose their own mode and ignore it."""
        return self._training_mode

    def train(self, mode=True):
        """Sets the mode model(x) runs in when it is not given training=, as PyTorch's module.train().

        Parameters
        ----------
        mode : bool, default True
            True: training mode (dropout active, batch statistics, moving statistics updated);
            False: inference, the same as eval(). A value that is not a bool raises TypeError.

        Returns
        -------
        Model
            The model itself, so that calls chain (model.train()(x)).
        """
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"train: mode must be a bool, got {mode!r}")
        self._training_mode = bool(mode)
        return self

    def eval(self):
        """Inference mode for model(x) (PyTorch's module.eval()), the same as train(False).

        Returns
        -------
        Model
            The model itself.
        """
        return self.train(False)

    def __call__(self, x, training=None):
        """Direct forward pass (training=True: dropout active, batch statistics, moving statistics
        updated; None: the model's mode, see train()/eval()). The result remembers this pass: a
        loss computed on it supports loss.backward() (the manual loop)."""
        X = self._x(x)
        mode = self._training_mode if training is None else bool(training)
        out, token = self._engine.forward(X, mode)
        out.flags.writeable = False
        res = out.view(ModelOutput)
        res._fastnn_source = weakref.ref(self)
        res._fastnn_token = token
        return res

    def _loss_on_cached_output(self, loss, y_pred, y_true, sample_weight):
        engine = self._engine
        n = y_pred.shape[0]
        Y = as_targets(y_true, "y_true", n, loss, engine.output_dim, self.dtype)
        W = as_sample_weight(sample_weight, "sample_weight", n, self.dtype)
        loss_id = next(_loss_ids)
        token = y_pred._fastnn_token
        out = y_pred.view(np.ndarray)
        value = engine.loss(token, loss.spec(), Y, W, loss_id)
        if value is None:  # no native layer: the output is the input, the loss its plain value
            value = loss.value_and_grad(Y, out, W)[0]
        return LossValue(value, terms=[(1.0, _Term(engine, token, loss_id, loss, Y, W, out))])

    def _apply_gradients(self):
        if self.optimizer is None:
            raise RuntimeError("step: no optimizer is bound to the model")
        self._engine.apply_gradients()
