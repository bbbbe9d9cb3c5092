"""Layers (Keras 3 names, arguments and defaults). A layer holds configuration and shapes; its
weights live in the native network of the model it belongs to, reached through Variable handles."""
from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict

from typing import Any, Optional

import numpy as np

from . import _limits
from . import activations as _activations
from . import initializers as _initializers
from . import regularizers as _regularizers

_name_counters: dict = defaultdict(itertools.count)


def _auto_name(cls_name: str) -> str:
    base = re.sub(r"(?<!^)(?=[A-Z])", "_", cls_name).lower()
    n = next(_name_counters[base])
    return base if n == 0 else f"{base}_{n}"


def _penalty(regularizer):
    return regularizer.penalty() if regularizer else (0.0, 0.0)


def _weight_initializer(identifier):
    # Keras 3's add_weight reads a None initializer as glorot_uniform for float variables (not as
    # the layer's default), and the TF tutorials pass None for "no bias of my own".
    return _initializers.get("glorot_uniform" if identifier is None else identifier)


def _positive_int(name, v):
    """A size: an int in [1, MAX_WIDTH] (the engine's widths; see fastnn._limits)."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{name}: expected a positive int, got {v!r}")
    if v > _limits.MAX_WIDTH:
        raise ValueError(f"{name}: expected a positive int <= {_limits.MAX_WIDTH}, got {v!r}")
    return int(v)


class Variable(np.lib.mixins.NDArrayOperatorsMixin):
    """A handle on one weight of a built model (a kernel, a bias, ...).

    np.asarray(v) or v.numpy() reads it; v.assign(x) writes it; v.grad reads its current gradient (the
    manual loop). Arithmetic and numpy functions see the current value (v * 2, np.sum(v) return numpy
    results). == and hash are by identity, so variables can be looked up in lists and sets; compare
    values with np.asarray(v) == x.

    A handle lives as long as its layer stays in the model: rebuilding the model (add) keeps it;
    popping its layer ends it, and any later use raises instead of reaching another layer's weights.

    Variables are made by the model when it builds its network (layer.weights, model.weights hand
    them out); user code does not construct them.

    Parameters
    ----------
    model : Model
        The model whose native network holds the weight.
    index : int
        The weight's position among the model's variables (the native network's order).
    name : str
        The weight's path, "<layer name>/<variable name>" (for example "dense/kernel"); also `path`.
    shape : tuple of int
        The weight's shape in Keras layout (a Dense kernel is (inputs, units)).
    trainable : bool
        Whether gradients update the weight (False for moving statistics); the layer's and the
        model's trainable flags are applied on top (see the `trainable` property).
    layer : Layer, optional
        The layer the weight belongs to, kept so that `trainable` still answers after the layer has
        left the model.
    """

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __init__(self, model, index, name, shape, trainable, layer=None):
        self.model = model
        self.index = index
        self.name = name
        self.path = name
        self.shape = shape
        self._trainable = trainable
        self._layer = layer
        self._gone = None  # why the handle no longer reaches a weight

    def _engine(self, what):
        if self._gone is not None:
            raise ValueError(f"{what} {self.name}: this variable no longer exists ({self._gone})")
        return self.model._engine

    @property
    def trainable(self):
        """Whether training updates this weight now (its own, its layer's and its model's flags)."""
        layer = self.model._variable_layer(self.index) if self._gone is None else self._layer
        return self._trainable and layer.trainable and self.model.trainable

    def numpy(self):
        """The weight's current value, copied out of the native network.

        Returns
        -------
        numpy.ndarray
            A new array of `shape` and the model's dtype; writing to it does not change the weight.
        """
        return self._engine("read").get_variable(self.index).reshape(self.shape)

    value = property(numpy)

    @property
    def grad(self):
        """The weight's gradient from the manual loop's last backward pass, as a new array."""
        return self._engine("grad of").get_variable(self.index, True).reshape(self.shape)

    def assign(self, value):
        """Writes a new value into the weight.

        Parameters
        ----------
        value : array_like
            An array of exactly the variable's shape (no broadcasting), finite; it is cast to the
            model's dtype. A wrong shape or a NaN/infinite entry raises ValueError, as does a
            handle whose layer has left the model.
        """
        arr = np.asarray(value)
        if arr.shape != self.shape:
            raise ValueError(f"assign to {self.name}: expected shape {self.shape}, got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"assign to {self.name}: the value contains NaN or infinite values")
        self._engine("assign to").set_variable(self.index, np.ascontiguousarray(arr, dtype=self.model.dtype))

    def assign_add(self, delta):
        """Adds `delta` to the weight (v.assign(v.numpy() + delta)).

        Parameters
        ----------
        delta : array_like
            Added to the current value with numpy broadcasting; the sum must keep the variable's
            shape and be finite.
        """
        self.assign(self.numpy() + np.asarray(delta))

    def assign_sub(self, delta):
        """Subtracts `delta` from the weight (v.assign(v.numpy() - delta)).

        Parameters
        ----------
        delta : array_like
            Subtracted from the current value with numpy broadcasting; the difference must keep the
            variable's shape and be finite.
        """
        self.assign(self.numpy() - np.asarray(delta))

    @property
    def dtype(self):
        """The numpy dtype of the weight (the model's dtype, float32 unless the model says otherwise)."""
        return np.dtype(self.model.dtype)

    @property
    def ndim(self):
        """The number of dimensions of the weight (2 for a kernel, 1 for a bias)."""
        return len(self.shape)

    @property
    def size(self):
        """The number of scalars in the weight (the product of its shape)."""
        return int(np.prod(self.shape))

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        return self.numpy()[key]

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(x, Variable) for x in kwargs.get("out", ())):
            raise TypeError(f"{ufunc.__name__}: a Variable cannot be written through out=; use "
                            "v.assign(value)")
        inputs = tuple(x.numpy() if isinstance(x, Variable) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __repr__(self):
        return f"<Variable path={self.name} shape={self.shape} dtype={self.model.dtype}>"


class _SymbolicTensor:
    """The output of calling a layer on Input(...) (the functional form): remembers the input
    layer and the chain of layers applied to it, for Model(inputs, outputs)."""

    def __init__(self, input_layer, chain, shape):
        self._input_layer = input_layer
        self._chain = chain
        self.shape = shape

    @property
    def dtype(self):
        return "float32"

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape} after {[l.name for l in self._chain]}>"


def _functional_chain(inputs, outputs):
    """(input layer, [layers]) of a functional model that is a linear chain from inputs to outputs."""
    def single(v, what):
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, (list, tuple)):
            if len(v) != 1:
                raise NotImplementedError(
                    f"Model: several {what} are outside fastnn's scope (one input, one output)")
            v = v[0]
        return v

    inputs, outputs = single(inputs, "inputs"), single(outputs, "outputs")
    if not isinstance(inputs, InputLayer):
        raise TypeError(f"Model: inputs must come from fastnn.layers.Input(...), got {type(inputs).__name__}")
    if isinstance(outputs, InputLayer):
        if outputs is not inputs:
            raise ValueError("Model: outputs do not depend on inputs")
        return inputs, []
    if not isinstance(outputs, _SymbolicTensor):
        raise TypeError(f"Model: outputs must come from calling layers on the inputs, got {type(outputs).__name__}")
    if outputs._input_layer is not inputs:
        raise ValueError("Model: outputs were not computed from these inputs")
    chain = list(outputs._chain)
    if len(set(map(id, chain))) != len(chain):
        raise NotImplementedError("Model: a layer used twice (shared weights) is outside fastnn's scope")
    return inputs, chain


class Layer:
    """Base class of fastnn layers.

    A layer holds its configuration and shapes; its weights live in the native network of the model
    it is added to, so weights, get_weights() and set_weights() answer only once that model is built.
    Unlike Keras, a layer is not run on data by calling it: calling it on Input(...) (or on another
    layer's output) only records a functional model.

    Parameters
    ----------
    name : str, optional
        The layer's name, unique within a model; by default the class name in snake case with a
        counter (dense, dense_1, ...). A name that is not a str raises TypeError.
    trainable : bool, default True
        Whether training updates the layer's weights (see the `trainable` property).
    dtype : optional
        Kept in the configuration for Keras compatibility; the model's dtype decides the arithmetic.
    input_shape : int or tuple of int, optional
        The shape of one sample (no batch dimension); on the first layer of a Sequential it declares
        the model's input, as Input(shape=...) would. Every entry must be a positive int.
    input_dim : int, optional
        Shorthand for input_shape=(input_dim,).
    **kwargs
        Keras's batch_input_shape and autocast are accepted and ignored; any other keyword raises
        TypeError naming it.
    """

    #: True for layers that work on samples of any shape (elementwise layers, Flatten); the others
    #: need flat (features,) samples.
    _accepts_any_rank = False

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, input_dim=None, **kwargs):
        kwargs.pop("batch_input_shape", None)
        kwargs.pop("autocast", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name: expected a str, got {name!r}")
        self.name = name or _auto_name(type(self).__name__)
        self._trainable = bool(trainable)
        self.dtype = dtype
        if input_dim is not None:
            input_shape = (_positive_int("input_dim", input_dim),)
        if input_shape is not None:
            input_shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else (input_shape,)
            for d in input_shape:
                _positive_int("input_shape", d)
        self._input_shape_arg = input_shape
        self._model = None
        self._layer_index = None     # index in the native network (None: no native layer)
        self._var_names: list = []
        self._var_indices: list = []
        self.input_shape = None
        self.output_shape = None

    # --- shapes and the native network ---
    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The shape of one output sample for a given input sample shape.

        Parameters
        ----------
        input_shape : tuple of int
            The shape of one input sample, without the batch dimension.

        Returns
        -------
        tuple of int
            The shape of one output sample, without the batch dimension. The base class returns
            `input_shape` (elementwise layers); a layer that cannot take that input (a Dense layer
            given samples of more than one dimension, for example) raises ValueError.
        """
        return input_shape

    #: The layer's kind in a ModelSpec (fastnn.spec).
    _spec_kind: str | None = None

    def _native(self, seed_for):
        """(kind, attrs) of the native layer, or (None, None) when it needs none; seed_for(name) gives
        the seed of the initializer of variable `name` when the initializer has no seed of its own."""
        return None, None

    def _variable_names(self):
        """Names of the layer's variables, in get_weights() order."""
        return []

    def _moving_variables(self):
        """Names of the variables training never updates through gradients (moving statistics)."""
        return ()

    def _on_built(self):
        """Called once the model's network is built, with the layer's variables reachable (a layer
        whose values were given before the build writes them here)."""

    @property
    def built(self):
        """Whether the layer belongs to a model whose network is built (its weights exist)."""
        return self._model is not None and self._model.built

    @property
    def trainable(self):
        """Whether training updates the layer's weights; settable.

        A frozen layer (False) keeps its weights through training; a frozen BatchNormalization also
        runs in inference mode (moving statistics), as in Keras. Setting it on a built model takes
        effect at once, without recompiling."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        self._sync_trainable()

    def _sync_trainable(self):
        m = self._model
        if m is not None and m.built and self._layer_index is not None:
            m._engine.set_layer_trainable(self._layer_index, self._trainable and m._trainable)

    def __call__(self, inputs, *args, **kwargs):
        """The functional form: calling a layer on Input(...) or on another layer's output records the
        chain for Model(inputs, outputs)."""
        if isinstance(inputs, InputLayer):
            src, chain, shape = inputs, [], tuple(inputs.per_sample_shape)
        elif isinstance(inputs, _SymbolicTensor):
            src, chain, shape = inputs._input_layer, inputs._chain, tuple(inputs.shape[1:])
        elif isinstance(inputs, (list, tuple)) and len(inputs) == 1 and \
                isinstance(inputs[0], (InputLayer, _SymbolicTensor)):
            return self(inputs[0], *args, **kwargs)
        elif hasattr(self, "_on_data"):   # preprocessing layers run on data directly, as in Keras
            return self._on_data(inputs)
        else:
            raise NotImplementedError(
                f"layer {self.name!r}: calling a layer on data is outside fastnn's scope; call it on "
                "fastnn.layers.Input(...) to build a functional model, or run a model on data "
                "(model(x), model.predict(x))")
        if any(l is self for l in chain):
            raise NotImplementedError(f"layer {self.name!r}: using a layer twice (shared weights) is outside "
                                      "fastnn's scope")
        if len(shape) > 1 and not self._accepts_any_rank:
            raise ValueError(f"layer {self.name!r} needs flat inputs, got samples of shape {shape}; "
                             "add a Flatten layer first")
        out = tuple(self.compute_output_shape(shape))
        return _SymbolicTensor(src, list(chain) + [self], (None, *out))

    # --- weights ---
    def _variables(self):
        if self._model is None or not self._model.built:
            return []
        return [self._model._variable(i) for i in self._var_indices]

    @property
    def weights(self):
        """The layer's variables (Variable handles) in get_weights() order; [] until the model is built."""
        return self._variables()

    @property
    def losses(self) -> list:
        """The weight-regularization penalties of this layer (Keras 3's `layer.losses`).

        One per regularized variable in the order of `weights`, computed from the current values.

        Returns
        -------
        list of numpy 0-d float32 arrays
            Each `l1 * sum(|w|) + l2 * sum(w ** 2)`; `.numpy()` or `float()` gives the number.
            Empty while the layer is not built or has no regularizer.
        """
        from ._tf import Tensor   # arrays with TensorFlow's .numpy(), as ported scripts call it

        out = []
        for v in self._variables():
            reg = getattr(self, f"{v.name.rsplit('/', 1)[-1]}_regularizer", None)
            if reg:
                out.append(np.asarray(reg(v.numpy()), dtype=np.float32).view(Tensor))
        return out

    @property
    def trainable_weights(self):
        """The variables training updates (also trainable_variables).

        All of them for a trainable layer except moving statistics, none for a frozen one."""
        return [v for v in self._variables() if v._trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        """The variables gradients do not update (also non_trainable_variables).

        Moving statistics, and every variable of a frozen layer."""
        return [v for v in self._variables() if not (v._trainable and self.trainable)]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list:
        """The values of the layer's variables.

        Returns
        -------
        list of numpy.ndarray
            Copies in Keras's order (a Dense layer gives [kernel, bias]); [] until the model is built.
        """
        return [v.numpy() for v in self._variables()]

    def set_weights(self, weights: Any) -> None:
        """Writes new values into the layer's variables.

        Parameters
        ----------
        weights : sequence of array_like
            One array per variable, in get_weights() order, each of that variable's exact shape and
            finite. A wrong count or shape raises ValueError before anything is written.
        """
        vs = self._variables()
        weights = list(weights)
        if len(weights) != len(vs):
            raise ValueError(
                f"layer {self.name!r}: set_weights expected {len(vs)} arrays, got {len(weights)}")
        arrays = []
        for v, w in zip(vs, weights):
            w = np.asarray(w)
            if w.shape != v.shape:
                raise ValueError(f"layer {self.name!r}: weight {v.name!r} expected shape {v.shape}, got {w.shape}")
            arrays.append(w)
        for v, w in zip(vs, arrays):
            v.assign(w)

    def count_params(self) -> int:
        """The number of scalars in the layer's weights (moving statistics included, as in Keras).

        Returns
        -------
        int
            0 for layers without weights; needs the layer's input shape to be known.
        """
        return int(sum(int(np.prod(s)) for s in self._param_shapes()))

    def _param_shapes(self):
        return []

    def _var(self, name):
        if self._model is None or not self._model.built:
            raise ValueError(f"layer {self.name!r} is not built: add it to a model and build the model")
        return self._model._variable(self._var_indices[self._var_names.index(name)])

    # --- config ---
    def get_config(self) -> dict:
        """The layer's configuration (not its weights) as a JSON-compatible dict.

        Returns
        -------
        dict
            The constructor's arguments under Keras's names (initializers, regularizers and
            activations serialized); from_config(get_config()) builds an equivalent layer.
        """
        cfg = {"name": self.name, "trainable": self._trainable}
        if self.dtype is not None:
            cfg["dtype"] = self.dtype
        if self._input_shape_arg is not None:
            cfg["input_shape"] = list(self._input_shape_arg)
        return cfg

    @classmethod
    def from_config(cls, config):
        """Builds a layer from get_config()'s dict.

        Parameters
        ----------
        config : dict
            The keyword arguments of the constructor, as get_config() writes them.

        Returns
        -------
        Layer
            A new layer of this class, without weights until a model builds it.
        """
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class InputLayer(Layer):
    """Declares the input shape of a model (fastnn.layers.Input(shape=(8,))).

    As in Keras, `.shape` is the batch shape (None, 8) (the batch dimension is `batch_size`, None
    unless given) and `.dtype` is "float32"; `per_sample_shape` is the shape of one sample (8,).

    Parameters
    ----------
    shape : int or tuple of int
        The shape of one sample, without the batch dimension; required (here or as input_shape),
        every entry a positive int.
    batch_size : int, optional
        The batch dimension reported by `shape`; it does not constrain the batches fit() uses.
    dtype : optional
        The reported dtype (a numpy dtype name), "float32" by default; the model's dtype decides
        the arithmetic.
    name : str, optional
        The layer's name.
    input_shape : int or tuple of int, optional
        Keras's older spelling of `shape`, used when `shape` is not given.
    **kwargs
        Passed to Layer (trainable, Keras's ignored batch_input_shape).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, input_shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("Input: shape is required, e.g. Input(shape=(8,))")
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        super().__init__(name=name, dtype=dtype, input_shape=shape, **kwargs)
        self.dtype = "float32" if dtype is None else np.dtype(dtype).name   # Keras's Input(...).dtype
        self.per_sample_shape = shape
        self.batch_size = batch_size

    @property
    def batch_shape(self):
        """(batch_size, *per_sample_shape): the shape of a batch, batch_size None unless given."""
        return (self.batch_size, *self.per_sample_shape)

    @property
    def shape(self):
        """Keras's shape of the symbolic input, the same as batch_shape.

        (batch_size, *per_sample_shape), batch_size None unless given."""
        return self.batch_shape

    @property
    def ndim(self):
        """The number of dimensions of a batch (1 + the sample's)."""
        return len(self.batch_shape)

    def get_config(self):
        """The input's configuration.

        Returns
        -------
        dict
            {"name", "shape" (one sample, as a list), "batch_size"}.
        """
        return {"name": self.name, "shape": list(self.per_sample_shape), "batch_size": self.batch_size}


def Input(shape: Any = None, batch_size: Optional[int] = None, dtype: Any = None, name: Optional[str] = None,
          **kwargs: Any) -> InputLayer:
    """Declares the input of a model: the start of a functional model, or the first entry of a Sequential.

    Parameters
    ----------
    shape : int or tuple of int
        The shape of one sample, without the batch dimension (Input(shape=(8,)) for 8 features);
        required.
    batch_size : int, optional
        The batch dimension the returned object reports in `.shape`; None by default.
    dtype : optional
        The dtype it reports, "float32" by default.
    name : str, optional
        The input layer's name.
    **kwargs
        Passed to InputLayer (input_shape as an older spelling of shape).

    Returns
    -------
    InputLayer
        Call layers on it to build a functional model: Model(inputs, outputs). fastnn's functional
        models are linear chains with one input and one output.
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, **kwargs)


class Dense(Layer):
    """A densely connected layer: activation(x @ kernel + bias), kernel of shape (in, units).

    Runs as one GEMM whose epilogue adds the bias and applies the activation while the output tile is
    still in cache. Its samples must be flat (features,): put a Flatten layer before it otherwise
    (Keras would apply it to the last axis).

    Parameters
    ----------
    units : int
        The number of outputs, a positive int (at most the engine's largest width).
    activation : str, callable or None, default None
        An activation name ("relu", "softmax", ...) or a fastnn activation; None is linear.
    use_bias : bool, default True
        Whether the layer has a bias vector.
    kernel_initializer : str, dict or Initializer, default "glorot_uniform"
        How the kernel is drawn when the model is built (see fastnn.initializers.get).
    bias_initializer : str, dict or Initializer, default "zeros"
        How the bias is drawn.
    kernel_regularizer : str, dict, Regularizer or None, default None
        A penalty on the kernel added to the loss (fastnn.regularizers: L1, L2, L1L2).
    bias_regularizer : str, dict, Regularizer or None, default None
        A penalty on the bias.
    activity_regularizer, kernel_constraint, bias_constraint : None
        Keras's arguments, accepted only as None: anything else raises NotImplementedError.
    **kwargs
        Passed to Layer (name, trainable, input_shape, input_dim, dtype).
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_int("units", units)
        self.activation = _activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _weight_initializer(kernel_initializer)
        self.bias_initializer = _weight_initializer(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        for n, v in (("activity_regularizer", activity_regularizer), ("kernel_constraint", kernel_constraint),
                     ("bias_constraint", bias_constraint)):
            if v is not None:
                raise NotImplementedError(f"Dense: {n} is not supported by fastnn")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"Dense {self.name!r}: expected a flat input (features,), got {input_shape}; "
                             "add a Flatten layer first")
        return (self.units,)

    def _param_shapes(self):
        (n_in,) = self.input_shape
        return [(n_in, self.units)] + ([(self.units,)] if self.use_bias else [])

    _spec_kind = "dense"

    def _variable_names(self):
        return ["kernel", "bias"] if self.use_bias else ["kernel"]

    def _native(self, seed_for):
        return "dense", {
            "units": self.units, "use_bias": self.use_bias, "activation": self.activation.spec(),
            "kernel_initializer": self.kernel_initializer.spec(seed_for("kernel")),
            "bias_initializer": self.bias_initializer.spec(seed_for("bias")),
            "kernel_regularizer": _penalty(self.kernel_regularizer),
            "bias_regularizer": _penalty(self.bias_regularizer)}

    @property
    def kernel(self):
        """The kernel Variable, shape (inputs, units); raises ValueError before the model is built."""
        return self._var("kernel")

    @property
    def bias(self):
        """The bias Variable, shape (units,), or None when use_bias is False."""
        return self._var("bias") if self.use_bias else None

    def get_config(self):
        cfg = super().get_config()
        cfg.update({
            "units": self.units,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _initializers.serialize(self.kernel_initializer),
            "bias_initializer": _initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
        })
        return cfg


class Activation(Layer):
    """Applies an activation function (elementwise; softmax over the last axis of flat samples).

    Parameters
    ----------
    activation : str or callable
        An activation name ("relu", "tanh", "softmax", ...) or a fastnn activation; softmax and
        log_softmax need flat samples.
    **kwargs
        Passed to Layer (name, trainable, input_shape, ...).
    """

    _accepts_any_rank = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations.get(activation)

    def compute_output_shape(self, input_shape):
        if len(input_shape) > 1 and self.activation.name in ("softmax", "log_softmax"):
            raise ValueError(f"Activation {self.name!r}: softmax needs flat inputs, got samples of shape "
                             f"{tuple(input_shape)}; add a Flatten layer first")
        return input_shape

    _spec_kind = "activation"

    def _native(self, seed_for):
        return "activation", {"activation": self.activation.spec()}

    def get_config(self):
        cfg = super().get_config()
        cfg["activation"] = _activations.serialize(self.activation)
        return cfg


class Dropout(Layer):
    """Inverted dropout: zeroes inputs at random in training, the identity in inference.

    In training each input is zeroed with probability `rate` and the rest are scaled by
    1 / (1 - rate). Masks come from the model's generator, seeded when the model is built
    (fastnn.utils.set_random_seed makes them reproducible).

    Parameters
    ----------
    rate : float
        The probability of dropping an input, in [0, 1); anything else (a bool included) raises
        ValueError.
    noise_shape : None
        Keras's shared-mask shape, accepted only as None (NotImplementedError otherwise).
    seed : int, optional
        Kept in the configuration only: unlike Keras, the masks follow the model's seed.
    **kwargs
        Passed to Layer (name, trainable, input_shape, ...).
    """

    _accepts_any_rank = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be a number in [0, 1), got {rate!r}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout: noise_shape is not supported by fastnn")
        self.rate = float(rate)
        self.seed = seed

    _spec_kind = "dropout"

    def _native(self, seed_for):
        return "dropout", {"rate": self.rate}

    def get_config(self):
        cfg = super().get_config()
        cfg.update({"rate": self.rate, "seed": self.seed})
        return cfg


class BatchNormalization(Layer):
    """Keras BatchNormalization over the features of flat samples.

    Batch statistics in training, moving statistics in inference (and when the layer is frozen);
    moving = moving * momentum + batch * (1 - momentum). Keras's defaults, not PyTorch's: momentum
    0.99 here is PyTorch's momentum=0.01, and epsilon is 1e-3 (PyTorch 1e-5).

    Parameters
    ----------
    axis : int, default -1
        The feature axis; only -1 (or 1, the same axis of flat samples) is accepted.
    momentum : float, default 0.99
        The weight of the old moving statistics, in [0, 1].
    epsilon : float, default 1e-3
        Added to the variance before the square root; must be positive.
    center : bool, default True
        Whether the layer has an offset beta.
    scale : bool, default True
        Whether the layer has a scale gamma.
    beta_initializer, gamma_initializer : str, dict or Initializer, default "zeros", "ones"
        How beta and gamma are drawn.
    moving_mean_initializer, moving_variance_initializer : str, dict or Initializer, default "zeros", "ones"
        How the moving statistics start.
    beta_regularizer, gamma_regularizer : str, dict, Regularizer or None, default None
        Penalties on beta and gamma added to the loss.
    **kwargs
        Passed to Layer (name, trainable, input_shape, ...).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1, 1):
            raise ValueError(f"BatchNormalization: axis must be -1 (the features), got {axis!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1], got {momentum!r}")
        if not epsilon > 0:
            raise ValueError(f"BatchNormalization: epsilon must be positive, got {epsilon!r}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = _weight_initializer(beta_initializer)
        self.gamma_initializer = _weight_initializer(gamma_initializer)
        self.moving_mean_initializer = _weight_initializer(moving_mean_initializer)
        self.moving_variance_initializer = _weight_initializer(moving_variance_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)

    def _param_shapes(self):
        (d,) = self.input_shape
        return [(d,)] * (int(self.scale) + int(self.center) + 2)

    _spec_kind = "batch_normalization"

    def _variable_names(self):
        return (["gamma"] if self.scale else []) + (["beta"] if self.center else []) + \
            ["moving_mean", "moving_variance"]

    def _moving_variables(self):
        return ("moving_mean", "moving_variance")

    def _native(self, seed_for):
        inits = {"gamma": self.gamma_initializer, "beta": self.beta_initializer,
                 "moving_mean": self.moving_mean_initializer, "moving_variance": self.moving_variance_initializer}
        return "batch_normalization", {
            "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "initializers": [inits[n].spec(seed_for(n)) for n in self._variable_names()],
            "gamma_regularizer": _penalty(self.gamma_regularizer),
            "beta_regularizer": _penalty(self.beta_regularizer)}

    def get_config(self):
        cfg = super().get_config()
        cfg.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": _initializers.serialize(self.beta_initializer),
            "gamma_initializer": _initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": _initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": _initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": _regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": _regularizers.serialize(self.gamma_regularizer),
        })
        return cfg


class LayerNormalization(Layer):
    """Keras LayerNormalization over each sample's features (epsilon 1e-3).

    Parameters
    ----------
    axis : int, default -1
        The normalized axis; only the features (-1, 1 or [-1]) are accepted.
    epsilon : float, default 1e-3
        Added to the variance before the square root (PyTorch's default is 1e-5); must be positive.
    center : bool, default True
        Whether the layer has an offset beta.
    scale : bool, default True
        Whether the layer has a scale gamma.
    rms_scaling : bool, default False
        Keras's RMS normalization; True raises NotImplementedError.
    beta_initializer, gamma_initializer : str, dict or Initializer, default "zeros", "ones"
        How beta and gamma are drawn.
    beta_regularizer, gamma_regularizer : str, dict, Regularizer or None, default None
        Penalties on beta and gamma added to the loss.
    **kwargs
        Passed to Layer (name, trainable, input_shape, ...).
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1, 1, [-1], (-1,)):
            raise ValueError(f"LayerNormalization: axis must be -1 (the features), got {axis!r}")
        if rms_scaling:
            raise NotImplementedError("LayerNormalization: rms_scaling is not supported by fastnn")
        if not epsilon > 0:
            raise ValueError(f"LayerNormalization: epsilon must be positive, got {epsilon!r}")
        self.axis, self.epsilon = -1, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = _weight_initializer(beta_initializer)
        self.gamma_initializer = _weight_initializer(gamma_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)

    def _param_shapes(self):
        (d,) = self.input_shape
        return [(d,)] * (int(self.scale) + int(self.center))

    _spec_kind = "layer_normalization"

    def _variable_names(self):
        return (["gamma"] if self.scale else []) + (["beta"] if self.center else [])

    def _native(self, seed_for):
        inits = {"gamma": self.gamma_initializer, "beta": self.beta_initializer}
        return "layer_normalization", {
            "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "initializers": [inits[n].spec(seed_for(n)) for n in self._variable_names()],
            "gamma_regularizer": _penalty(self.gamma_regularizer),
            "beta_regularizer": _penalty(self.beta_regularizer)}

    def get_config(self):
        cfg = super().get_config()
        cfg.update({
            "axis": -1, "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "beta_initializer": _initializers.serialize(self.beta_initializer),
            "gamma_initializer": _initializers.serialize(self.gamma_initializer),
            "beta_regularizer": _regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": _regularizers.serialize(self.gamma_regularizer),
        })
        return cfg


class Flatten(Layer):
    """Flattens each sample to one dimension (inputs of more than 2 dimensions).

    Parameters
    ----------
    data_format : str, optional
        Keras's channel order, accepted and ignored: samples are always flattened in C order
        (Keras moves the channels last before flattening under "channels_first").
    **kwargs
        Passed to Layer (name, trainable, input_shape, ...).
    """

    _accepts_any_rank = True
    _spec_kind = "flatten"

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)

    def compute_output_shape(self, input_shape):
        """The flat shape of one sample.

        Parameters
        ----------
        input_shape : tuple of int
            The shape of one input sample.

        Returns
        -------
        tuple of int
            (product of input_shape,).
        """
        return (int(math.prod(input_shape)),)


_CLASSES: dict[str, type[Layer]] = {c.__name__: c for c in (InputLayer, Dense, Activation, Dropout, BatchNormalization,
                                    LayerNormalization, Flatten)}

_NOT_SUPPORTED: tuple[str, ...] = ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "SeparableConv2D", "DepthwiseConv2D",
                  "MaxPooling1D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
                  "GlobalMaxPooling2D", "LSTM", "GRU", "SimpleRNN", "Bidirectional", "Embedding",
                  "MultiHeadAttention", "Attention", "Reshape", "Concatenate", "Add", "Lambda",
                  "TimeDistributed", "RepeatVector", "Permute", "UpSampling2D", "ZeroPadding2D",
                  "Cropping2D", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D", "Masking",
                  "Rescaling", "Normalization", "TextVectorization")


def __getattr__(name):
    if name in _NOT_SUPPORTED:
        raise NotImplementedError(
            f"fastnn.layers.{name}: fastnn builds multilayer perceptrons; {name} is outside its scope")
    raise AttributeError(f"module 'fastnn.layers' has no attribute {name!r}")


def serialize(layer: Layer) -> dict:
    """A layer's Keras-style description, the inverse of deserialize.

    Parameters
    ----------
    layer : Layer
        Any fastnn layer.

    Returns
    -------
    dict
        {"class_name": the class's name, "config": layer.get_config()}.
    """
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(d: dict) -> Layer:
    """Builds a layer from serialize()'s dict.

    Parameters
    ----------
    d : dict
        {"class_name": ..., "config": {...}}; the class name must be one of fastnn's layers (a
        name outside them raises ValueError), the config the constructor's keyword arguments.

    Returns
    -------
    Layer
        A new layer, without weights until a model builds it.
    """
    cls = _CLASSES.get(d.get("class_name"))  # type: ignore[arg-type]  # any key may be asked; None if unknown
    if cls is None:
        raise ValueError(f"layer: unknown class {d.get('class_name')!r}")
    return cls.from_config(dict(d.get("config", {})))


# Keras's activation and reshaping layers over the same engine (ReLU, LeakyReLU, ELU, Softmax,
# Identity, Reshape), registered for deserialization by class name.
from ._activation_layers import ELU, CLASSES as _ACTIVATION_LAYER_CLASSES  # noqa: E402, F401
from ._activation_layers import Identity, LeakyReLU, ReLU, Reshape, Softmax  # noqa: E402, F401

_CLASSES.update({c.__name__: c for c in _ACTIVATION_LAYER_CLASSES})
# ...and as ModelSpec kinds of their own (their configurations are Keras's, not Activation's), so that
# model files keep them; exporters that do not know a kind refuse it by name.
from . import spec as _spec  # noqa: E402

_spec.KINDS = _spec.KINDS + tuple(c._spec_kind for c in _ACTIVATION_LAYER_CLASSES
                                  if c._spec_kind is not None and c._spec_kind not in _spec.KINDS)
_spec._CLASS_OF.update({c._spec_kind: c.__name__ for c in _ACTIVATION_LAYER_CLASSES if c._spec_kind is not None})
# Keras's per-feature layers (Normalization, Rescaling, the noise layers, UnitNormalization, PReLU):
# native layers of their own.
from ._feature_layers import CLASSES as _FEATURE_LAYER_CLASSES  # noqa: E402
from ._feature_layers import AlphaDropout, GaussianDropout, GaussianNoise, Normalization  # noqa: E402, F401
from ._feature_layers import PReLU, Rescaling, UnitNormalization  # noqa: E402, F401

_CLASSES.update({c.__name__: c for c in _FEATURE_LAYER_CLASSES})
_spec.KINDS = _spec.KINDS + tuple(c._spec_kind for c in _FEATURE_LAYER_CLASSES
                                  if c._spec_kind is not None and c._spec_kind not in _spec.KINDS)
_spec._CLASS_OF.update({c._spec_kind: c.__name__ for c in _FEATURE_LAYER_CLASSES if c._spec_kind is not None})
_NOT_SUPPORTED = tuple(n for n in _NOT_SUPPORTED if n not in _CLASSES)
