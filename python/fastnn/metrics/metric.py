"""The metric protocol (Keras 3): :class:`Metric` and the state variables of custom metrics.

Every metric accumulates its state in float64 and exposes::

    m.update_state(y_true, y_pred, sample_weight=None)
    m.result()        # a float with .numpy() (a numpy array with .numpy() for vector results)
    m.reset_state()
    m(y_true, y_pred) # update_state() then result()
"""

from __future__ import annotations

import numbers

import numpy as np

from .metrics_utils import _snake_case

def _normalize_dtype(dtype):
    if dtype is None:
        return "float32"
    if hasattr(dtype, "name") and not isinstance(dtype, str):
        return str(dtype.name)
    return str(np.dtype(dtype).name)


def _binary_op(op, reflected=False):
    def method(self, other):
        other = other.value if isinstance(other, MetricVariable) else other
        return op(other, self._value) if reflected else op(self._value, other)

    return method


class MetricResult(np.float64):
    """What ``result()`` returns for a one-number metric: a numpy float64 (so a Python float too) with
    TensorFlow's ``.numpy()``, so ``m.result().numpy()`` and ``float(m.result())`` work as in tf.keras.
    It compares, hashes, formats and pickles as the float it holds; arithmetic gives plain numpy values."""

    __slots__ = ()

    def numpy(self) -> np.float64:
        """The value as a plain numpy float64 (a tensor's ``.numpy()`` in TensorFlow)."""
        return np.float64(self)

    def __reduce__(self):
        return (MetricResult, (float(self),))

    def __repr__(self):
        return repr(float(self))

    __str__ = __repr__


class MetricResultArray(np.ndarray):
    """What ``result()`` returns for a vector-valued metric (several thresholds, per-class scores):
    a numpy array with ``.numpy()``."""

    def numpy(self) -> np.ndarray:
        """The values as a plain, writable numpy array."""
        return np.array(self.view(np.ndarray))

    def __reduce__(self):
        return (_result_array, (np.array(self.view(np.ndarray)),))


def _result_array(a):
    return np.asarray(a).view(MetricResultArray)


def as_result(value):
    """A metric's result in the form tf.keras code reads: floats (Python, numpy, 0-d arrays) become
    MetricResult, arrays MetricResultArray; other values (ints, dicts, None) are returned as they are."""
    if isinstance(value, (MetricResult, MetricResultArray)):
        return value
    if isinstance(value, np.ndarray):
        if value.ndim == 0 and value.dtype.kind == "f":
            return MetricResult(value[()])
        return value.view(MetricResultArray) if value.ndim > 0 else value
    if isinstance(value, (float, np.floating)):
        return MetricResult(value)
    return value


def _returning_results(result):
    def wrapped(self):
        return as_result(result(self))

    wrapped.__name__, wrapped.__qualname__ = result.__name__, result.__qualname__
    wrapped.__doc__ = result.__doc__
    wrapped.__wrapped__ = result
    wrapped._fastnn_result = True
    return wrapped


class MetricVariable:
    """State variable of a custom metric, created by :meth:`Metric.add_variable`.

    Holds a float64 numpy array (whatever the nominal dtype) and supports the
    Keras variable methods ``assign``, ``assign_add``, ``assign_sub`` and
    ``numpy()``, numpy conversion, ``float()`` and arithmetic (which returns
    numpy values). Unlike a Keras variable it lives on the host only and is
    not differentiable: a metric is never part of the training graph.

    Parameters
    ----------
    shape : int or tuple of int, optional
        Shape of the value; ``()`` (the default) or ``None`` is a scalar, an int ``n`` means
        ``(n,)``.
    initializer : str, number, array-like or callable, optional
        Initial value, restored by :meth:`reset`: ``"zeros"`` (default, also for ``None``),
        ``"ones"``, a number or array broadcast to ``shape``, or a callable
        ``initializer(shape, dtype)`` returning one. Other strings raise a ValueError.
    dtype : str or numpy dtype, optional
        Nominal dtype, kept as a string (``"float32"`` when ``None``); the value is float64
        whatever it says.
    name : str, optional
        Name shown in the repr; ``None`` by default.
    """

    def __init__(self, shape=(), initializer="zeros", dtype=None, name=None):
        self.name = name
        if shape is None:
            shape = ()
        elif isinstance(shape, numbers.Integral):
            shape = (int(shape),)
        self.shape = tuple(int(d) for d in shape)
        self.dtype = _normalize_dtype(dtype)
        self._initializer = initializer
        self._value = np.zeros(self.shape, dtype=np.float64)
        self.reset()

    def _initial_value(self):
        init = self._initializer
        if init is None or (isinstance(init, str) and init.lower() == "zeros"):
            return np.zeros(self.shape, dtype=np.float64)
        if isinstance(init, str) and init.lower() == "ones":
            return np.ones(self.shape, dtype=np.float64)
        if isinstance(init, str):
            raise ValueError(
                f"Unsupported metric variable initializer {init!r}: use 'zeros', 'ones', "
                "a number, an array or a callable(shape, dtype)."
            )
        if callable(init):
            init = init(self.shape, self.dtype)
        return np.broadcast_to(np.asarray(init, dtype=np.float64), self.shape).copy()

    def reset(self):
        """Set the variable back to its initial value."""
        self._value[...] = self._initial_value()

    @property
    def value(self):
        """The float64 numpy array holding the state (the array itself, not a copy)."""
        return self._value

    def numpy(self):
        """Return a copy of the value.

        Returns
        -------
        numpy.ndarray
            A float64 array of :attr:`shape`, independent of later updates.
        """
        return self._value.copy()

    def assign(self, value):
        """Replace the value in place.

        Parameters
        ----------
        value : number or array-like
            New value, converted to float64 and broadcast to the variable's shape (a shape that
            does not broadcast raises numpy's ValueError; the shape never changes).

        Returns
        -------
        MetricVariable
            The variable itself, so calls can be chained.
        """
        self._value[...] = np.asarray(value, dtype=np.float64)
        return self

    def assign_add(self, value):
        """Add to the value in place.

        Parameters
        ----------
        value : number or array-like
            Increment, converted to float64 and broadcast to the variable's shape.

        Returns
        -------
        MetricVariable
            The variable itself.
        """
        self._value += np.asarray(value, dtype=np.float64)
        return self

    def assign_sub(self, value):
        """Subtract from the value in place.

        Parameters
        ----------
        value : number or array-like
            Decrement, converted to float64 and broadcast to the variable's shape.

        Returns
        -------
        MetricVariable
            The variable itself.
        """
        self._value -= np.asarray(value, dtype=np.float64)
        return self

    def __array__(self, dtype=None, copy=None):
        return self._value.astype(dtype) if dtype is not None else self._value.copy()

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __neg__(self):
        return -self._value

    def __abs__(self):
        return np.abs(self._value)

    __add__ = _binary_op(np.add)
    __radd__ = _binary_op(np.add, reflected=True)
    __sub__ = _binary_op(np.subtract)
    __rsub__ = _binary_op(np.subtract, reflected=True)
    __mul__ = _binary_op(np.multiply)
    __rmul__ = _binary_op(np.multiply, reflected=True)
    __truediv__ = _binary_op(np.true_divide)
    __rtruediv__ = _binary_op(np.true_divide, reflected=True)
    __pow__ = _binary_op(np.power)
    __lt__ = _binary_op(np.less)
    __le__ = _binary_op(np.less_equal)
    __gt__ = _binary_op(np.greater)
    __ge__ = _binary_op(np.greater_equal)

    def __repr__(self):
        return f"<MetricVariable name={self.name} shape={self.shape} value={self._value}>"


class Metric:
    """Base class of stateful metrics.

    A subclass keeps its state either in plain attributes (then it overrides
    ``reset_state``) or, as in Keras, in variables made with
    :meth:`add_variable` / :meth:`add_weight`, which the default
    ``reset_state`` sets back to their initial values. It implements
    ``update_state(y_true, y_pred, sample_weight=None)`` and ``result()``.
    Built-in metrics accumulate in float64 whatever ``dtype`` says; ``dtype``
    is kept for configuration. Results are floats (numpy arrays for
    vector-valued metrics) with a ``.numpy()`` method, not tensors as in Keras.

    Parameters
    ----------
    name : str, optional
        Display name, the key of the metric in training logs and history.
        ``None`` (the default here; each built-in metric has its own) gives the
        snake-case class name (``MyMetric`` -> ``"my_metric"``).
    dtype : str or numpy dtype, optional
        Nominal dtype, stored as a string (``"float32"`` when ``None``) and
        written to the configuration; computations stay float64.
    """

    #: ``"up"`` when larger is better, ``"down"`` when smaller is better,
    #: ``None`` when unknown. Callbacks in ``mode="auto"`` read it.
    _direction: str | None = None

    def __init_subclass__(cls, **kwargs):
        # Every result(), built-in or a user's, returns what tf.keras scripts read with .numpy().
        super().__init_subclass__(**kwargs)
        result = cls.__dict__.get("result")
        if callable(result) and not getattr(result, "_fastnn_result", False):
            cls.result = _returning_results(result)

    def __init__(self, name=None, dtype=None):
        self.name = name if name is not None else _snake_case(type(self).__name__)
        self._dtype = _normalize_dtype(dtype)
        self._metric_variables = []

    @property
    def dtype(self):
        """The nominal dtype as a string (``"float32"`` unless given); state is float64 regardless."""
        return self._dtype

    @property
    def variables(self):
        """The variables made with :meth:`add_variable`."""
        return list(getattr(self, "_metric_variables", []))

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Create a state variable (reset by the default ``reset_state``).

        Parameters
        ----------
        shape : int or tuple of int, optional
            Shape of the variable; ``()`` (default) is a scalar.
        initializer : str, number, array-like or callable, optional
            Initial value: ``"zeros"`` (default), ``"ones"``, a number or array, or a callable
            ``initializer(shape, dtype)`` (see :class:`MetricVariable`).
        dtype : str or numpy dtype, optional
            Nominal dtype; ``None`` takes the metric's own. The value is float64 regardless.
        aggregation : str, optional
            Accepted for Keras compatibility and ignored: metrics run in one process here, so
            there is nothing to aggregate across replicas.
        name : str, optional
            Name of the variable, for its repr.

        Returns
        -------
        MetricVariable
            The new variable, also listed in :attr:`variables`.
        """
        variable = MetricVariable(shape, initializer, dtype or self._dtype, name)
        if not hasattr(self, "_metric_variables"):
            self._metric_variables = []
        self._metric_variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None):
        """Create a state variable; the Keras 2 spelling of :meth:`add_variable`.

        Parameters
        ----------
        shape : int or tuple of int, optional
            Shape of the variable; ``()`` (default) is a scalar.
        initializer : str, number, array-like or callable, optional
            Initial value (``"zeros"`` by default), as for :meth:`add_variable`.
        dtype : str or numpy dtype, optional
            Nominal dtype; ``None`` takes the metric's own.
        name : str, optional
            Name of the variable.

        Returns
        -------
        MetricVariable
            The new variable.
        """
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    def update_state(self, *args, **kwargs):
        """Accumulate one batch (or a chunk of batches) into the state.

        Subclasses implement it; the built-in metrics take the arguments below. Updating with
        two chunks gives the same state as updating once with their concatenation.

        Parameters
        ----------
        y_true : array-like
            Labels or targets of the batch, first axis over samples.
        y_pred : array-like
            Predictions of the batch, of a shape matching ``y_true`` as each metric describes.
        sample_weight : array-like, optional
            Weight of each sample (or each entry, for the confusion metrics); ``None``
            (default) weighs every sample 1.
        *args, **kwargs
            Whatever the subclass's own signature takes.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self):
        """Return the metric over everything accumulated since the last reset.

        Subclasses implement it; whatever a subclass's ``result`` returns is wrapped so that a
        float comes back as a :class:`MetricResult` and an array as a :class:`MetricResultArray`.

        Returns
        -------
        MetricResult or MetricResultArray
            A float64 (a Python float too) for scalar metrics; a float64 array for vector-valued
            ones (several thresholds, per-class scores). Both have TensorFlow's ``.numpy()``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self):
        """Reset the variables made with :meth:`add_variable`."""
        for variable in self.variables:
            variable.reset()

    def __call__(self, *args, **kwargs):
        """Update the state with the given batch and return the new result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """Return the constructor arguments that rebuild this metric (its state is not included).

        Returns
        -------
        dict
            JSON-compatible keyword arguments for :meth:`from_config`: ``name`` and ``dtype``,
            plus each subclass's own options.
        """
        return {"name": self.name, "dtype": self._dtype}

    def _vector_result_reason(self):
        """Why ``result()`` is an array rather than one number (None when it is one number):
        ``compile`` records one number per metric and refuses the others with this reason."""
        return None

    @classmethod
    def from_config(cls, config):
        """Build a fresh metric (empty state) from :meth:`get_config`'s output.

        Parameters
        ----------
        config : dict
            Keyword arguments of the constructor; an unknown key raises the constructor's
            TypeError.

        Returns
        -------
        Metric
            A new instance of ``cls``.
        """
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


