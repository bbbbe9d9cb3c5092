"""Model and Sequential: structure, build, weights, configuration and the save/load entry points.

Training and inference (compile, fit, evaluate, predict) are the Trainer's (trainer.py); the manual
loop (model(x), loss.backward()) is manual.py's; the native network is reached only through the
model's NativeNet (_engine.py).
"""
from __future__ import annotations

import math
import weakref
from typing import Any, List, Optional, Union, cast

import numpy as np

from . import _limits
from . import _random
from . import layers as _layers
from . import saving as _saving
from . import spec as _spec
from . import summary as _summary
from ._engine import NativeNet
from .manual import ManualLoop
from .trainer import Trainer


class Model(Trainer, ManualLoop):
    """The fastnn model: a linear stack of layers over the native network (Keras's Model).

    Build it as a Sequential, or with the functional form of a linear chain::

        inputs = layers.Input(shape=(8,))
        h = layers.Dense(16, activation="relu")(inputs)
        outputs = layers.Dense(1, activation="sigmoid")(h)
        model = Model(inputs, outputs)

    A subclass may define call() over fastnn layers (created in __init__) as long as the graph is a
    chain: call() is traced once, on a symbolic input, when the input shape becomes known (build(),
    fit(), model(x)), and the layers it applies, in order, become the model's layers. Anything else
    in call() (arithmetic on tensors, branches that merge, a layer used twice) raises a clear error.

    A model can be used as a layer (Sequential([base, Softmax()]), base(inputs) in the functional
    form): its layers become the outer model's layers, the same objects with the weights they have,
    so training the outer model trains them (Keras's sharing). The inner model then refuses to run
    on its own (its network would no longer see those weights); keras.models.clone_model gives an
    independent copy. Graphs that are not a chain (several inputs or outputs, merges) are outside
    fastnn's scope and raise NotImplementedError.

    Parameters
    ----------
    inputs, outputs : symbolic tensors, optional
        The functional form: the tensor of layers.Input and the one the last layer returned. Both
        or neither (a subclass with call()).
    name : str, optional
        The model's name (default: a unique one from the class name, as Keras makes them).
    dtype : {"float32", "float64"}, default "float32"
        The type of every weight and computation.
    trainable : bool, default True
        False freezes every layer (a layer's own trainable flag still applies).
    seed : int, optional
        The model's own seed: its initial weights, shuffling and dropout masks derive from it alone.
        None draws one from the global stream (fastnn.utils.set_random_seed) when the model is first
        built.
    """

    def __init__(self, inputs=None, outputs=None, name=None, dtype="float32", trainable=True, seed=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        self._init_state(name, dtype, trainable, seed)
        if inputs is None and outputs is None:
            if _defines_call(type(self)):
                self._call_pending = True
                return
            raise NotImplementedError(
                "Model(): a model without inputs and outputs is a subclassed model and needs a call() "
                "over fastnn layers; use Sequential([...]) or the functional form Model(inputs, outputs) of a "
                "linear chain of layers")
        if inputs is None or outputs is None:
            raise ValueError("Model: give both inputs and outputs (the functional form)")
        input_layer, chain = _layers._functional_chain(inputs, outputs)
        self._add_all([input_layer, *chain])

    def _trace_call(self, shape):
        """Runs the subclass's call() once on a symbolic input of this per-sample shape and adds the
        chain of layers it applies."""
        self._call_pending = False
        inputs = _layers.Input(shape=shape)
        try:
            out = self.call(inputs)
        except NotImplementedError as e:
            self._call_pending = True
            raise NotImplementedError(f"{type(self).__name__}.call(): {e}") from None
        except Exception as e:
            self._call_pending = True
            raise TypeError(
                f"{type(self).__name__}.call(): tracing it on a symbolic input failed ({type(e).__name__}: {e}); "
                "fastnn runs call() once to find the chain of fastnn layers it applies, so call() may only "
                "apply fastnn layers (or models) one after the other") from None
        try:
            _input_layer, chain = _layers._functional_chain(inputs, out)
        except (TypeError, ValueError, NotImplementedError) as e:
            self._call_pending = True
            raise type(e)(f"{type(self).__name__}.call(): {e}; call() must return the output of fastnn "
                          "layers applied one after the other to its input") from None
        if not chain:
            self._call_pending = True
            raise ValueError(f"{type(self).__name__}.call(): it applies no fastnn layer to its input (a model "
                             "needs at least one layer)")
        for layer in chain:
            self.add(layer)

    def _init_state(self, name, dtype, trainable, seed=None):
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype: expected 'float32' or 'float64', got {dtype!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name: expected a str, got {name!r}")
        self.dtype = np.dtype(dtype).name
        self.name = name or _layers._auto_name("Functional" if type(self) is Model else type(self).__name__)
        self._seed = _random.check_seed(seed)
        self._build_seed = self._seed
        self._layers: list = []
        self._pending = None               # (ids, names) of the layers being added by _add_all
        self._input_shape = None
        self._engine = NativeNet(self.dtype)
        self._var_objects = []
        self._variables_info = []
        self._trainable = bool(trainable)
        self._call_pending = False
        self._nested_in = None
        self._init_trainer_state()
        self._init_manual_state()

    # ------------------------------------------------------------------------------ structure
    def add(self, layer: Union[_layers.Layer, "Model"]) -> None:
        """Appends a layer (or a model, whose layers are taken over; see the class docstring).

        A model whose input shape is known is built (weights created) as layers are added, as in Keras;
        the weights of the layers already there are kept.

        Parameters
        ----------
        layer : Layer or Model
            The layer to append; layers.Input sets the input shape.
        """
        if isinstance(layer, Model):
            self._add_model(layer)
            return
        if not isinstance(layer, _layers.Layer):
            raise TypeError(f"add: expected a fastnn layer or model, got {type(layer).__name__}")
        with self._engine.structural("add"):
            if isinstance(layer, _layers.InputLayer):
                if self._layers or self._input_shape is not None:
                    raise ValueError("add: an Input layer must come first")
                self._input_shape = tuple(layer.per_sample_shape)
                return
            if layer._model is not None and layer._model is not self and hasattr(layer, "_twin"):
                # Keras shares a layer between models (see Normalization._twin)
                layer = cast(_layers.Layer, layer._twin())
            if layer._model is not None and layer._model is not self:
                raise ValueError(f"add: layer {layer.name!r} already belongs to another model")
            pending = self._pending
            if pending is not None:  # inside _add_all: sets instead of scans, one build at the end
                if id(layer) in pending[0]:
                    raise ValueError(f"add: layer {layer.name!r} is already in the model (layers cannot be shared)")
                if layer.name in pending[1]:
                    raise ValueError(f"add: a layer named {layer.name!r} is already in the model")
            else:
                if any(l is layer for l in self._layers):
                    raise ValueError(f"add: layer {layer.name!r} is already in the model (layers cannot be shared)")
                if any(l.name == layer.name for l in self._layers):
                    raise ValueError(f"add: a layer named {layer.name!r} is already in the model")
            declared = self._input_shape
            if not self._layers and self._input_shape is None and layer._input_shape_arg is not None:
                self._input_shape = tuple(layer._input_shape_arg)
            if self._input_shape is None or pending is not None:
                if pending is not None:
                    pending[0].add(id(layer))
                    pending[1].add(layer.name)
                    layer._model = self  # claimed now, so another model cannot take it meanwhile
                self._layers.append(layer)
                return
            saved = self._save_structure()
            old = self._snapshot() if self.built else {}
            self._layers.append(layer)
            try:
                self._rebuild(old)
            except BaseException:
                self._layers.pop()
                layer._model = None
                self._restore_structure(saved)
                self._input_shape = declared
                raise

    def _add_all(self, layers):
        """add() for each layer of a new model, then one build: a model of n layers is built in
        time linear in n (adding them one by one to a model with an input shape rebuilds the
        network each time, as Keras does)."""
        layers = list(layers)
        if any(isinstance(l, Model) for l in layers):  # nesting moves weights in: one add at a time
            for layer in layers:
                self.add(layer)
            return
        before = len(self._layers)
        self._pending = ({id(l) for l in self._layers}, {l.name for l in self._layers})
        try:
            for layer in layers:
                self.add(layer)
            self._pending = None
            if self._input_shape is not None and self._layers and not self.built:
                self.build()
        except BaseException:
            if not self.built:  # the layers claimed here are free again for another model
                for layer in self._layers[before:]:
                    layer._model = None
            raise
        finally:
            self._pending = None

    def _add_model(self, inner):
        """Nests a model: its layers (the same objects, with their current weights) become this
        model's layers, and the inner model hands its network over (see the class docstring)."""
        if inner is self:
            raise ValueError("add: a model cannot contain itself")
        if inner._nested_in is not None:
            raise ValueError(f"add: model {inner.name!r} is already nested in model {inner._nested_in!r}; "
                             "keras.models.clone_model gives an independent copy")
        if inner._call_pending:
            if inner._input_shape is None and self._input_shape is None and not self._layers:
                raise ValueError(f"add: the subclassed model {inner.name!r} is not built; build it first "
                                 "(inner.build(input_shape)) or add an Input layer before it")
            inner.build(inner._input_shape or self._output_per_sample())
        with inner._engine.structural("nesting it in another model"):
            inner_shape = inner._input_shape
            if inner_shape is not None:
                if self._input_shape is None and not self._layers:
                    self._input_shape = tuple(inner_shape)
                elif self._input_shape is not None:
                    here = self._output_per_sample()
                    if here is not None and tuple(here) != tuple(inner_shape):
                        raise ValueError(f"add: model {inner.name!r} takes inputs of shape {tuple(inner_shape)}, "
                                         f"but the layers before it give {tuple(here)}")
            weights = inner._snapshot() if inner.built else {}
            moved = list(inner._layers)
            frozen = not inner._trainable
            for layer in moved:
                if any(l.name == layer.name for l in self._layers):
                    raise ValueError(f"add: a layer named {layer.name!r} is already in the model (nesting "
                                     f"model {inner.name!r})")
            inner._engine.release()
            inner._var_objects, inner._variables_info = [], []
            for layer in moved:
                layer._model = None
                layer._layer_index = None
                layer._var_names, layer._var_indices = [], []
                if frozen:
                    layer._trainable = False
            inner._nested_in = self.name
            inner._engine = _NestedEngine(inner.name, self.name)
        for layer in moved:
            self.add(layer)
            if id(layer) in weights and self.built and weights[id(layer)]:
                layer.set_weights(weights[id(layer)])

    def __call__(self, x, training=None):
        """model(x) on data runs the forward pass (the manual loop, see ManualLoop.__call__); on
        fastnn.layers.Input(...) or a layer's symbolic output it uses the model as a layer in the
        functional form."""
        if isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], (_layers.InputLayer,
                                                                              _layers._SymbolicTensor)):
            x = x[0]
        if isinstance(x, _layers.InputLayer):
            src, chain, shape = x, [], tuple(x.per_sample_shape)
        elif isinstance(x, _layers._SymbolicTensor):
            src, chain, shape = x._input_layer, x._chain, tuple(x.shape[1:])
        else:
            return ManualLoop.__call__(self, x, training=training)
        if self._nested_in is not None:
            raise RuntimeError(self._engine._why)
        if any(l is self for l in chain):
            raise NotImplementedError(f"model {self.name!r}: using a model twice (shared weights) is outside "
                                      "fastnn's scope")
        if self._input_shape is not None and tuple(self._input_shape) != shape:
            raise ValueError(f"model {self.name!r} takes inputs of shape {tuple(self._input_shape)}, got {shape}")
        if not self.built:
            self.build(shape)
        return _layers._SymbolicTensor(src, list(chain) + [self], self.output_shape)

    def _output_per_sample(self):
        """The per-sample shape the layers so far give (None while unknown)."""
        if self._input_shape is None:
            return None
        shape = tuple(self._input_shape)
        for layer in self._layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def pop(self, rebuild: bool = True) -> _layers.Layer:
        """Removes the last layer and returns it; the other layers keep their weights.

        Handles on the popped layer's variables end (using one raises).

        Parameters
        ----------
        rebuild : bool, default True
            Rebuilds the network without the layer at once (False leaves that to the next use).

        Returns
        -------
        Layer
            The removed layer.
        """
        with self._engine.structural("pop"):
            if not self._layers:
                raise ValueError("pop: the model has no layers")
            old = self._snapshot() if self.built else None
            layer = self._layers.pop()
            for v in self._var_objects:
                if v._layer is layer:
                    v._gone = f"its layer {layer.name!r} was popped from the model"
            layer._model = None
            layer._layer_index = None
            layer._var_names, layer._var_indices = [], []
            if old is not None:
                if self._layers and rebuild:
                    self._rebuild(old)
                else:
                    self._engine.release()
                    self._var_objects, self._variables_info = [], []
            return layer

    def _save_structure(self):
        return (self._engine.save_handle(), self._variables_info, list(self._var_objects),
                [(v, v.index) for v in self._var_objects],
                [(l, l._model, l._layer_index, l._var_names, l._var_indices, l.input_shape, l.output_shape)
                 for l in self._layers])

    def _restore_structure(self, saved):
        handle, self._variables_info, self._var_objects, indices, per_layer = saved
        self._engine.restore_handle(handle)
        for v, i in indices:
            v.index = i
        for (l, model, idx, names, vidx, ishape, oshape) in per_layer:
            l._model, l._layer_index, l._var_names, l._var_indices = model, idx, names, vidx
            l.input_shape, l.output_shape = ishape, oshape

    @property
    def layers(self):
        """The model's layers, in order (a new list; the layers themselves are shared)."""
        return list(self._layers)

    def get_layer(self, name: Union[str, int, None] = None, index: Optional[int] = None) -> _layers.Layer:
        """Finds a layer by name or by position.

        Parameters
        ----------
        name : str or int, optional
            The layer's name (an int is taken as an index, as Keras accepts).
        index : int, optional
            The layer's position in `layers`.

        Returns
        -------
        Layer
            The layer; ValueError names the layers when none matches.
        """
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool) and index is None:
            name, index = None, name
        if index is not None and name is not None:
            raise ValueError(f"get_layer: give a name or an index, not both (got name={name!r}, index={index!r})")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or \
                    not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer: index {index!r} out of range for {len(self._layers)} layers")
            return self._layers[int(index)]
        if name is None:
            raise ValueError("get_layer: give a name or an index")
        for l in self._layers:
            if l.name == name:
                return l
        raise ValueError(f"get_layer: no layer named {name!r}; layers are {[l.name for l in self._layers]}")

    @property
    def built(self):
        """Whether the native network exists (the input shape is known and the weights are created)."""
        return self._engine.built

    @property
    def compiled(self):
        """Whether compile() has configured the model for training."""
        return self._engine.compiled

    @compiled.setter
    def compiled(self, value):
        self._engine.compiled = bool(value)

    @property
    def seed(self):
        """The seed given to the model (None: drawn from the global stream when built)."""
        return self._seed

    @property
    def input_shape(self):
        """The input shape with the batch dimension, (None, features), or None while unknown."""
        return None if self._input_shape is None else (None, *self._input_shape)

    @property
    def output_shape(self):
        """The output shape with the batch dimension, (None, units), or None while unknown."""
        with self._engine.steady():  # not between a pop and the release of the network
            return None if not self.built or not self._layers else (None, *self._layers[-1].output_shape)

    def build(self, input_shape: Any = None) -> None:
        """Creates the native network and initializes the weights.

        Parameters
        ----------
        input_shape : tuple of int, optional
            The per-sample shape, or the shape with its batch dimension, (None, features), as in Keras.
            None uses the shape layers.Input or the first layer's input_shape declared.
        """
        if input_shape is not None:
            if isinstance(input_shape, (int, np.integer)):
                input_shape = (input_shape,)
            shape = tuple(input_shape)
            if len(shape) >= 2 and (shape[0] is None or self._input_shape is None
                                    or len(self._input_shape) == len(shape) - 1):
                shape = shape[1:]
            if any(d is None for d in shape):
                raise ValueError(f"build: every dimension but the batch one must be known, got {tuple(input_shape)}")
            shape = tuple(int(d) for d in shape)
            if self._input_shape is not None and tuple(self._input_shape) != shape:
                raise ValueError(f"build: input_shape {shape} differs from the declared {self._input_shape}")
            self._input_shape = shape
        if self._input_shape is None:
            raise ValueError("build: the input shape is unknown; pass input_shape or add an Input layer")
        if self._call_pending:
            self._trace_call(tuple(self._input_shape))
        if not self._layers:
            raise ValueError("build: the model has no layers")
        if not self.built:
            with self._engine.structural("build"):
                saved = self._save_structure()
                try:
                    self._build_native()
                except BaseException:
                    self._restore_structure(saved)
                    raise

    def _build_native(self):
        """Infers every layer's shapes, describes the model as a ModelSpec and has the NativeNet build
        the network from it; the engine's variables are checked against the spec's."""
        shape = tuple(int(d) for d in self._input_shape)
        for layer in self._layers:
            layer._model = self
            layer.input_shape = shape
            out = tuple(layer.compute_output_shape(shape))
            if len(shape) > 1 and not layer._accepts_any_rank:
                raise ValueError(f"layer {layer.name!r} needs flat inputs, got samples of shape {shape}; "
                                 "add a Flatten layer first")
            layer.output_shape = out
            shape = out
        _check_sizes(self._input_shape, self._layers)
        if self._build_seed is None:
            self._build_seed = _random.next_seed()
        seed = self._build_seed

        def seeds(position):
            return lambda var: _random.derive(seed, 1, position, _VAR_SLOT.get(var, 99))

        spec = _spec.describe(self)
        natives = [layer._native(seeds(p)) for p, layer in enumerate(self._layers)]
        table = self._engine.build(spec, natives, _random.derive(seed, 0))
        by_layer: dict = {}
        for i, e in enumerate(table):
            by_layer.setdefault(e[0], []).append((i, e))
        keep = {(id(v._layer), v.name): v for v in self._var_objects if v._gone is None}
        self._variables_info, objects = [], []
        for p, (layer, ls) in enumerate(zip(self._layers, spec.layers)):
            entries = by_layer.get(p, [])
            layer._layer_index = p if natives[p][0] is not None else None
            layer._var_names = [e[1] for _i, e in entries]
            layer._var_indices = [i for i, _e in entries]
            for (i, e), vs in zip(entries, ls.variables):
                name = f"{layer.name}/{vs.name}"
                native_trainable = e[4]
                self._variables_info.append((layer, name, vs.shape, native_trainable))
                v = keep.pop((id(layer), name), None)
                if v is None:
                    v = _layers.Variable(self, i, name, vs.shape, native_trainable, layer)
                v.index, v.shape, v._trainable = i, vs.shape, native_trainable
                objects.append(v)
            if layer._layer_index is not None and not (layer.trainable and self._trainable):
                self._engine.set_layer_trainable(p, False)
        self._var_objects = objects
        for layer in self._layers:
            layer._on_built()
        if self.compiled:
            self._configure_native(reset_optimizer=True)

    def _variable(self, i):
        return self._var_objects[i]

    def _variable_layer(self, i):
        return self._variables_info[i][0]

    def _snapshot(self):
        return {id(l): l.get_weights() for l in self._layers}

    def _rebuild(self, old):
        self._build_native()
        for l in self._layers:
            if id(l) in old and len(old[id(l)]) == len(l._var_indices):
                try:
                    l.set_weights(old[id(l)])
                except ValueError:
                    pass

    @property
    def trainable(self):
        """Whether the model trains: setting False freezes every layer, True unfreezes them."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezes (False) or unfreezes every layer; a layer's own trainable flag still applies."""
        self._trainable = bool(value)
        for l in self._layers:
            l._sync_trainable()

    def spec(self):
        """The model's ModelSpec (fastnn.spec): architecture and named variables in Keras layout.

        Returns
        -------
        fastnn.spec.ModelSpec
            The description that saving, interop and ONNX export read.
        """
        with self._engine.steady():
            return _spec.model_spec(self)

    # ------------------------------------------------------------------------------ weights
    @property
    def losses(self) -> list:
        """The weight-regularization penalties of the model's layers (Keras 3's `model.losses`).

        In layer order; fastnn has no activity regularizers.

        Returns
        -------
        list of numpy 0-d float32 arrays
            One per regularized variable, from the current values; `.numpy()` or `float()` gives
            the number. `sum(model.losses)` is the penalty fit adds to each batch's loss.
        """
        return [p for layer in self._layers for p in layer.losses]

    @property
    def weights(self):
        """Every variable of the model (fastnn.layers.Variable handles), in get_weights() order."""
        return list(self._var_objects) if self.built else []

    variables = weights

    @property
    def trainable_weights(self):
        """The variables the optimizer updates, in layer order."""
        return [v for v in self.weights if v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        """The variables the optimizer does not update (frozen layers, BatchNormalization's moving statistics)."""
        return [v for v in self.weights if not v.trainable]

    non_trainable_variables = non_trainable_weights

    def parameters(self):
        """The trainable variables (PyTorch's name), for optimizer.build(model.parameters()).

        Returns
        -------
        list of fastnn.layers.Variable
            The same list as trainable_weights.
        """
        return self.trainable_weights

    def get_weights(self) -> List[np.ndarray]:
        """Copies every variable out as a numpy array, in layer order.

        The layout is Keras's (a Dense kernel is (in, units)); during fit, a callback reads the values
        of the last step boundary.

        Returns
        -------
        list of numpy.ndarray
            One array per variable, in the model's dtype.
        """
        with self._engine.steady():
            if not self.built:
                return []
            return [a.reshape(v.shape) for v, a in zip(self._var_objects,
                                                       self._engine.get_variables(len(self._var_objects)))]

    def set_weights(self, weights: Any) -> None:
        """Writes every variable from a list of arrays, in get_weights() order.

        Parameters
        ----------
        weights : list of array-like
            One array per variable, each of the variable's shape; refused with the variable's name
            when a shape or a value (NaN, infinity) is wrong.
        """
        self._require_built("set_weights")
        weights = list(weights)
        vs = self.weights
        if len(weights) != len(vs):
            raise ValueError(f"set_weights: expected {len(vs)} arrays, got {len(weights)}")
        self._engine.set_variables(_checked_arrays("set_weights", vs, weights, self.dtype))

    def count_params(self) -> int:
        """Counts the model's parameters (trainable and not).

        Returns
        -------
        int
            The number of scalars in every variable of the built model.
        """
        with self._engine.steady():
            self._require_built("count_params")
            return int(sum(int(np.prod(v.shape)) for v in self.weights))

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"{what}: the model is not built yet; call build() or fit() first, or give "
                             "the first layer an input shape")

    # ------------------------------------------------------------------------------ summary / config
    def summary(self, line_length: Optional[int] = None, positions: Any = None, print_fn: Any = None,
                expand_nested: bool = False, show_trainable: bool = False, layer_range: Any = None) -> None:
        """Prints a Keras-style table of the layers with their output shapes and parameter counts.

        The table ends with the total, trainable and non-trainable parameter counts.

        Parameters
        ----------
        line_length : int, optional
            The table's least width (the columns are sized to their contents).
        positions : list, optional
            Keras's column positions, accepted and not used.
        print_fn : callable, optional
            Called with each line instead of print (for example a logger's info).
        expand_nested : bool, default False
            Keras's option, accepted: nested models are already flattened into their layers.
        show_trainable : bool, default False
            Adds a column saying whether each layer trains.
        layer_range : tuple of str, optional
            (first, last) layer names: only the rows between them.
        """
        with self._engine.steady():
            _summary.print_summary(self, line_length=line_length, print_fn=print_fn,
                                   show_trainable=show_trainable, layer_range=layer_range)

    def get_config(self) -> dict:
        """Describes the architecture (not the weights) as a JSON-compatible dict.

        Returns
        -------
        dict
            What from_config() rebuilds the model from (Keras's layout: name, layers, dtype, seed).
        """
        layers = []
        if self._input_shape is not None:
            layers.append({"class_name": "InputLayer", "config": {"shape": list(self._input_shape)}})
        layers += [_layers.serialize(l) for l in self._layers]
        cfg = {"name": self.name, "dtype": self.dtype, "trainable": self._trainable, "layers": layers}
        if self._seed is not None:
            cfg["seed"] = self._seed
        return cfg

    @classmethod
    def from_config(cls, config):
        """Rebuilds a model with fresh weights from get_config()'s dict.

        Parameters
        ----------
        config : dict
            The output of get_config().

        Returns
        -------
        Model
            A new, unbuilt or built (when the input shape is known) model of the same architecture.
        """
        if not isinstance(config, dict):
            raise TypeError(f"from_config: expected a dict, got {type(config).__name__}")
        model = cls.__new__(cls)
        model._init_state(config.get("name"), config.get("dtype", "float32"), config.get("trainable", True),
                          config.get("seed"))
        stack = []
        for d in config.get("layers", []):
            if isinstance(d, dict) and d.get("class_name") == "InputLayer":
                cfg = d.get("config") or {}
                stack.append(_layers.Input(shape=tuple(cfg.get("shape") or cfg.get("batch_shape", [None])[1:])))
            else:
                stack.append(_layers.deserialize(d))
        model._add_all(stack)
        return model

    # ------------------------------------------------------------------------------ saving
    def save(self, filepath: Any, overwrite: bool = True) -> None:
        """Writes the whole model to one file that fastnn.models.load_model reads back.

        The file holds the architecture, weights, optimizer state, step count and compile configuration;
        it is data only, versioned and written atomically.

        Parameters
        ----------
        filepath : str or os.PathLike
            Where to write.
        overwrite : bool, default True
            False refuses to replace an existing file.
        """
        _saving.save_model(self, filepath, overwrite=overwrite)

    def export(self, filepath, format="onnx", **kwargs):
        """Writes the model for serving (Keras 3's name).

        Parameters
        ----------
        filepath : str or os.PathLike
            Where to write.
        format : {"onnx"}, default "onnx"
            The one format fastnn exports.
        **kwargs
            Options of fastnn.export.onnx.export_onnx (opset_version, overwrite).

        Returns
        -------
        onnx.ModelProto
            The exported model, as fastnn.export.onnx.export_onnx returns it.
        """
        from .export import export_model

        return export_model(self, filepath, format=format, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Writes the weights alone (fastnn's file format) for load_weights.

        Parameters
        ----------
        filepath : str or os.PathLike
            Where to write.
        overwrite : bool, default True
            False refuses to replace an existing file.
        """
        _saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any) -> None:
        """Reads weights written by save_weights (or save) into this model.

        Parameters
        ----------
        filepath : str or os.PathLike
            The file; its variables must match this model's names and shapes.
        """
        _saving.load_weights(self, filepath)

    def __getstate__(self):
        if not self.built:
            return {"fastnn_config": self.get_config(),
                    "fastnn_compile": self._compile_config if self.compiled else None}
        return {"fastnn_model": _saving.to_bytes(self)}

    def __setstate__(self, state):
        if "fastnn_model" in state:
            other = _saving.from_bytes(state["fastnn_model"])
        else:
            other = Sequential.from_config(state["fastnn_config"])
            comp = state.get("fastnn_compile")
            if comp:
                _saving.compile_from_config(other, comp)
        self.__dict__.update(other.__dict__)
        for l in self._layers:
            l._model = self
        for v in self._var_objects:
            v.model = self
        if self.optimizer is not None:
            self.optimizer._model_ref = weakref.ref(self)

    def __deepcopy__(self, memo):
        clone = type(self).__new__(type(self))
        clone.__setstate__(self.__getstate__())
        return clone

    def __repr__(self):
        if self._nested_in is not None:
            return f"<{type(self).__name__} name={self.name} nested in {self._nested_in}>"
        return f"<{type(self).__name__} name={self.name} layers={len(self._layers)} built={self.built}>"


def _check_sizes(input_shape, layers):
    """Every width and the weight count, in Python ints, against fastnn._limits: refused here with a
    ValueError, before the engine allocates anything (a product that wrapped around in the engine
    would build a network smaller than declared)."""
    width = math.prod(int(d) for d in input_shape)
    if width > _limits.MAX_WIDTH:
        raise ValueError(f"build: expected inputs of at most {_limits.MAX_WIDTH} values per sample, got "
                         f"shape {tuple(input_shape)} ({width} values)")
    total = 0
    for layer in layers:
        out = math.prod(int(d) for d in layer.output_shape)
        if out > _limits.MAX_WIDTH:
            raise ValueError(f"build: layer {layer.name!r}: expected an output of at most {_limits.MAX_WIDTH} "
                             f"values per sample, got shape {tuple(layer.output_shape)}")
        total += sum(math.prod(int(d) for d in s) for s in layer._param_shapes())
        if total > _limits.MAX_PARAMS:
            raise ValueError(f"build: expected at most {_limits.MAX_PARAMS} weights in a model, got {total} "
                             f"by layer {layer.name!r}")


def _defines_call(cls):
    return any("call" in c.__dict__ for c in cls.__mro__ if c not in (Model, Sequential, Trainer, ManualLoop))


class _NestedEngine:
    """Stands in for the network of a model whose layers were taken over by another model: every use
    says where its layers went, instead of running on weights the other model no longer shares."""

    def __init__(self, inner, outer):
        self._why = (f"model {inner!r} is nested in model {outer!r}: its layers (and their weights) now "
                     f"belong to {outer!r}; run, train and save that model, or nest "
                     "keras.models.clone_model(...) of this one to keep an independent copy")

    def __getattr__(self, name):
        raise RuntimeError(self._why)


# Position of each variable name in the seed path of its layer (a fixed table, so that a layer's
# seeds never depend on its other variables).
_VAR_SLOT = {"kernel": 0, "bias": 1, "gamma": 2, "beta": 3, "moving_mean": 4, "moving_variance": 5}


def _checked_arrays(what, variables, weights, dtype):
    arrays = []
    for v, w in zip(variables, weights):
        w = np.asarray(w)
        if w.shape != v.shape:
            raise ValueError(f"{what}: {v.name} expected shape {v.shape}, got {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError(f"{what}: {v.name} contains NaN or infinite values")
        arrays.append(np.ascontiguousarray(w, dtype=dtype))
    return arrays


class Sequential(Model):
    """A linear stack of layers (Keras's Sequential).

    >>> model = Sequential([layers.Input(shape=(8,)), layers.Dense(10, activation="relu"),
    ...                     layers.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=10, batch_size=32)

    Parameters
    ----------
    layers : list of Layer or Model, optional
        The layers in order (a single layer is accepted); more can be added with add().
    name : str, optional
        The model's name (default: a unique one from the class name, as Keras makes them).
    dtype : {"float32", "float64"}, default "float32"
        The type of every weight and computation.
    trainable : bool, default True
        False freezes every layer (a layer's own trainable flag still applies).
    seed : int, optional
        The model's own seed: its initial weights, shuffling and dropout masks derive from it alone.
        None draws one from the global stream (fastnn.utils.set_random_seed) when the model is first
        built.
    """

    def __init__(self, layers=None, name=None, dtype="float32", trainable=True, seed=None):
        self._init_state(name, dtype, trainable, seed)
        if isinstance(layers, _layers.Layer):
            layers = [layers]
        self._add_all(layers or [])


class _Builder:
    """What saving needs from this module, handed to it (saving never imports models)."""

    @staticmethod
    def from_config(config):
        return Sequential.from_config(config)

    @staticmethod
    def from_spec(spec, seed=None):
        return _spec.build_model(spec, seed=seed)


_BUILDER = _Builder()
_spec.register_model_class(Sequential)
_saving.register_builder(_BUILDER)


def load_model(filepath: Any, compile: bool = True) -> Model:
    """Loads a model written by Model.save.

    Parameters
    ----------
    filepath : str or os.PathLike
        The file; its format, version and sizes are checked before anything is built.
    compile : bool, default True
        Restores the compile configuration and the optimizer state; False returns an uncompiled model.

    Returns
    -------
    Model
        The model, with its weights.
    """
    return _saving.load_model(filepath, compile=compile, builder=_BUILDER)


def clone_model(model: Model) -> Model:
    """Makes a model of the same architecture with freshly initialized weights (Keras's clone_model).

    Parameters
    ----------
    model : Model
        The model to copy; it is left unchanged.

    Returns
    -------
    Model
        A new, independent model.
    """
    return Sequential.from_config(model.get_config())

