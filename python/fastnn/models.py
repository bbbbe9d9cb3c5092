"""Model and Sequential: the Keras-like model over the native network.

fit() hands the native loop whole chunks of batches (shuffle, gather, forward, loss, backward and the
optimizer step all run in C++ with the GIL released); Python returns only as often as the progress
bar, the callbacks and Ctrl-C need (about every 50 ms), or every batch when a callback asks for
batch-level hooks.
"""
from __future__ import annotations

import copy
import math
import time
import warnings
import weakref

import numpy as np

from . import _core, _fork, _random
from . import callbacks as _callbacks
from . import layers as _layers
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from ._validation import (as_array, as_float_matrix, as_sample_weight, as_targets, nonneg_int, positive_int,
                          verbose_level)

_CHUNK_SECONDS = 0.05


class ModelOutput(np.ndarray):
    """The output of model(x): a numpy array that remembers the forward pass it came from, so that a
    loss computed on it can run backward() (the manual training loop)."""

    def __array_finalize__(self, obj):
        self._fastnn_source = getattr(obj, "_fastnn_source", None)
        self._fastnn_token = getattr(obj, "_fastnn_token", None)


class Model:
    """The fastnn model: a linear stack of layers over the native network (Keras's Model).

    Build it as a Sequential, or with the functional form of a linear chain::

        inputs = layers.Input(shape=(8,))
        h = layers.Dense(16, activation="relu")(inputs)
        outputs = layers.Dense(1, activation="sigmoid")(h)
        model = Model(inputs, outputs)

    Graphs that are not a chain (several inputs or outputs, merges) and subclassed models with their
    own call() are outside fastnn's scope and raise NotImplementedError.

    dtype: "float32" (default) or "float64" for every weight and computation.
    """

    def __init__(self, inputs=None, outputs=None, name=None, dtype="float32", trainable=True, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        self._init_state(name, dtype, trainable)
        if inputs is None and outputs is None:
            raise NotImplementedError(
                "Model(): subclassed models are outside fastnn's scope; use Sequential([...]) or the "
                "functional form Model(inputs, outputs) of a linear chain of layers")
        if inputs is None or outputs is None:
            raise ValueError("Model: give both inputs and outputs (the functional form)")
        input_layer, chain = _layers._functional_chain(inputs, outputs)
        self.add(input_layer)
        for layer in chain:
            self.add(layer)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "call" in cls.__dict__:
            raise NotImplementedError(
                f"{cls.__name__}: subclassed models with a custom call() are outside fastnn's scope "
                "(multilayer perceptrons); use Sequential([...]) with fastnn layers")

    def _init_state(self, name, dtype, trainable):
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype: expected 'float32' or 'float64', got {dtype!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name: expected a str, got {name!r}")
        self.dtype = np.dtype(dtype).name
        self.name = name or _layers._auto_name("Functional" if type(self) is Model else type(self).__name__)
        self._layers: list = []
        self._input_shape = None
        self._net = None
        self.optimizer = None
        self.loss = None
        self._metric_ids = []
        self._weighted_metric_ids = []
        self._metric_entries = []    # (log name, metric, weighted)
        self.metrics_objects = []
        self._loss_weight = 1.0
        self.compiled = False
        self._compile_config = None
        self.stop_training = False
        self.history = None
        self._cache_token = 0
        self._trainable = bool(trainable)

    # ------------------------------------------------------------------------------ structure
    def add(self, layer):
        """Appends a layer. A model whose input shape is known is built (weights created) as layers
        are added, as in Keras; the weights of the layers already there are kept."""
        if not isinstance(layer, _layers.Layer):
            raise TypeError(f"add: expected a fastnn layer, got {type(layer).__name__}")
        if isinstance(layer, _layers.InputLayer):
            if self._layers or self._input_shape is not None:
                raise ValueError("add: an Input layer must come first")
            self._input_shape = tuple(layer.shape)
            return
        if layer._model is not None and layer._model is not self:
            raise ValueError(f"add: layer {layer.name!r} already belongs to another model")
        if any(l is layer for l in self._layers):
            raise ValueError(f"add: layer {layer.name!r} is already in the model (layers cannot be shared)")
        if any(l.name == layer.name for l in self._layers):
            raise ValueError(f"add: a layer named {layer.name!r} is already in the model")
        declared = self._input_shape
        if not self._layers and self._input_shape is None and layer._input_shape_arg is not None:
            self._input_shape = tuple(layer._input_shape_arg)
        if self._input_shape is None:
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

    def pop(self, rebuild=True):
        """Removes the last layer and returns it; the other layers keep their weights."""
        if not self._layers:
            raise ValueError("pop: the model has no layers")
        old = self._snapshot() if self.built else None
        layer = self._layers.pop()
        layer._model = None
        layer._layer_index = None
        layer._var_names, layer._var_indices = [], []
        if old is not None:
            if self._layers and rebuild:
                self._rebuild(old)
            else:
                self._net = None
        return layer

    def _save_structure(self):
        return (self._net, getattr(self, "_variables_info", None), getattr(self, "_var_objects", None),
                [(l, l._model, l._layer_index, l._var_names, l._var_indices, l.input_shape, l.output_shape)
                 for l in self._layers])

    def _restore_structure(self, saved):
        self._net, self._variables_info, self._var_objects, per_layer = saved
        for (l, model, idx, names, indices, ishape, oshape) in per_layer:
            l._model, l._layer_index, l._var_names, l._var_indices = model, idx, names, indices
            l.input_shape, l.output_shape = ishape, oshape

    @property
    def layers(self):
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        """The layer with this name, or at this index (get_layer(0) is accepted for an index)."""
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
        return self._net is not None

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None, *self._input_shape)

    @property
    def output_shape(self):
        return None if not self.built else (None, *self._layers[-1].output_shape)

    def build(self, input_shape=None):
        """Creates the native network and initializes the weights. input_shape may include the batch
        dimension (None, features) as in Keras."""
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
        if not self._layers:
            raise ValueError("build: the model has no layers")
        if self._net is None:
            saved = self._save_structure()
            try:
                self._build_native()
            except BaseException:
                self._restore_structure(saved)
                raise

    def _build_native(self):
        shape = tuple(int(d) for d in self._input_shape)
        input_dim = int(math.prod(shape))
        Net = _core.NetworkF64 if self.dtype == "float64" else _core.NetworkF32
        net = _fork.track(Net(input_dim, _random.next_seed()))
        n_native = 0
        for layer in self._layers:
            layer._model = self
            layer.input_shape = shape
            out = layer.compute_output_shape(shape)
            if len(shape) > 1 and not layer._accepts_any_rank:
                raise ValueError(f"layer {layer.name!r} needs flat inputs, got samples of shape {shape}; "
                                 "add a Flatten layer first")
            if layer._native_add(net, lambda var: None):
                layer._layer_index = n_native
                n_native += 1
            else:
                layer._layer_index = None
            layer.output_shape = out
            shape = out
        net.build()
        by_layer: dict = {}
        for (li, vname, rows, cols, trainable, v) in net.variables():
            by_layer.setdefault(li, []).append((v, vname, rows, cols, trainable))
        self._variables_info = []
        for layer in self._layers:
            entries = by_layer.get(layer._layer_index, []) if layer._layer_index is not None else []
            layer._var_names = [e[1] for e in entries]
            layer._var_indices = [e[0] for e in entries]
            for (v, vname, rows, cols, trainable) in entries:
                vshape = (cols,) if rows == 1 and vname != "kernel" else (rows, cols)
                self._variables_info.append((layer, f"{layer.name}/{vname}", vshape, bool(trainable)))
            if layer._layer_index is not None and not (layer.trainable and self._trainable):
                net.set_layer_trainable(layer._layer_index, False)
        self._var_objects = [_layers.Variable(self, i, name, shape, tr)
                             for i, (layer, name, shape, tr) in enumerate(self._variables_info)]
        self._net = net
        if self.compiled:
            self._configure_native(reset_optimizer=True)

    def _variable(self, i):
        return self._var_objects[i]

    def _variable_layer(self, i):
        return self._variables_info[i][0]

    def _snapshot(self):
        return {id(l): l.get_weights() for l in self._layers}

    def _rebuild(self, old):
        self._net = None
        self._build_native()
        for l in self._layers:
            if id(l) in old and len(old[id(l)]) == len(l._var_indices):
                try:
                    l.set_weights(old[id(l)])
                except ValueError:
                    pass

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezes (False) or unfreezes every layer; a layer's own trainable flag still applies."""
        self._trainable = bool(value)
        for l in self._layers:
            l._sync_trainable()

    # ------------------------------------------------------------------------------ weights
    @property
    def weights(self):
        return list(self._var_objects) if self.built else []

    variables = weights

    @property
    def trainable_weights(self):
        return [v for v in self.weights if v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        return [v for v in self.weights if not v.trainable]

    non_trainable_variables = non_trainable_weights

    def parameters(self):
        """The trainable variables (PyTorch's name), for optimizer.build(model.parameters())."""
        return self.trainable_weights

    def get_weights(self):
        """Every variable as a numpy array, in layer order (Keras layout: Dense kernel (in, units),
        bias (units,); BatchNormalization gamma, beta, moving_mean, moving_variance)."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        self._require_built("set_weights")
        weights = list(weights)
        vs = self.weights
        if len(weights) != len(vs):
            raise ValueError(f"set_weights: expected {len(vs)} arrays, got {len(weights)}")
        arrays = []
        for v, w in zip(vs, weights):
            w = np.asarray(w)
            if w.shape != v.shape:
                raise ValueError(f"set_weights: {v.name} expected shape {v.shape}, got {w.shape}")
            if not np.isfinite(w).all():
                raise ValueError(f"set_weights: {v.name} contains NaN or infinite values")
            arrays.append(np.ascontiguousarray(w, dtype=self.dtype))
        for v, w in zip(vs, arrays):
            self._net.set_variable(v.index, w)

    def count_params(self):
        self._require_built("count_params")
        return int(sum(int(np.prod(v.shape)) for v in self.weights))

    # ------------------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile="auto",
                auto_scale_loss=True):
        """Configures training. optimizer, loss and metrics take Keras's names or objects.

        As in Keras, `metrics` ignore sample and class weights and `weighted_metrics` use them;
        "accuracy"/"acc" resolve to binary, categorical or sparse categorical accuracy from the loss
        and the output width."""
        opt = _optimizers.get(optimizer)
        if loss is None:
            raise ValueError("compile: loss is required (for example loss='mse' or "
                             "loss='binary_crossentropy')")
        loss_obj = _losses.get(loss)
        if loss_weights is not None:
            lw = loss_weights
            if isinstance(lw, dict):
                if len(lw) != 1:
                    raise ValueError("loss_weights: a Sequential model has one output; give one weight")
                lw = next(iter(lw.values()))
            if isinstance(lw, (list, tuple)):
                if len(lw) != 1:
                    raise ValueError("loss_weights: a Sequential model has one output; give one weight")
                lw = lw[0]
            if isinstance(lw, bool) or not isinstance(lw, (int, float, np.floating, np.integer)) or \
                    not math.isfinite(lw) or lw < 0:
                raise ValueError(f"loss_weights: expected a non-negative number, got {loss_weights!r}")
            loss_weight = float(lw)
        else:
            loss_weight = 1.0
        metrics = self._metric_list("metrics", metrics)
        weighted = self._metric_list("weighted_metrics", weighted_metrics)
        for m in metrics + weighted:          # unknown names fail here, before anything changes
            if not (isinstance(m, str) and m.lower() in ("accuracy", "acc", "crossentropy", "ce")):
                _metrics.get(m)
        previous = self.optimizer
        opt._attach(self)
        if previous is not None and previous is not opt and previous._model is self:
            previous._model_ref = None
        self.optimizer = opt
        self.loss = loss_obj
        self._loss_weight = loss_weight
        self._metric_ids = metrics
        self._weighted_metric_ids = weighted
        self._metric_entries = []
        self.metrics_objects = []
        self.compiled = True
        if self.built:
            self._configure_native(reset_optimizer=True)
        self._compile_config = {
            "optimizer": _optimizers.serialize(opt), "loss": _losses.serialize(loss_obj),
            "metrics": [_metric_config(m) for m in metrics],
            "weighted_metrics": [_metric_config(m) for m in weighted],
            "loss_weights": self._loss_weight,
        }

    @staticmethod
    def _metric_list(name, metrics):
        if metrics is None:
            return []
        if isinstance(metrics, dict):
            if len(metrics) != 1:
                raise ValueError(f"{name}: a Sequential model has one output; give a list of metrics")
            metrics = next(iter(metrics.values()))
        if isinstance(metrics, (str, _metrics.Metric)) or (callable(metrics) and not isinstance(metrics, (list, tuple))):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f"{name}: expected a list of metrics, got {type(metrics).__name__}")
        return [m for m in metrics if m is not None]

    def _configure_native(self, reset_optimizer):
        self._net.set_loss(self.loss.spec())
        self._net.set_optimizer(self.optimizer.native_config(), reset_optimizer)
        out_dim = int(self._net.output_dim)
        entries, used = [], {}

        def resolve(m):
            return _metrics.resolve_accuracy(m, self.loss.kind, out_dim, from_logits=self.loss.from_logits)

        # Keras's log names: a repeated name gets a suffix _1, _2, ...; a weighted metric whose name
        # is taken gets the prefix weighted_.
        for m in self._metric_ids:
            obj = resolve(m)
            name = obj.name
            if name in used:
                used[name] += 1
                name = f"{name}_{used[obj.name] - 1}"
            used.setdefault(name, 1)
            entries.append((name, obj, False))
        for m in self._weighted_metric_ids:
            obj = resolve(m)
            name = obj.name
            if name in used:
                name = f"weighted_{obj.name}"
                if name in used:
                    used[name] += 1
                    name = f"{name}_{used[name] - 1}"
            used.setdefault(name, 1)
            entries.append((name, obj, True))
        self._metric_entries = entries
        self.metrics_objects = [e[1] for e in entries]

    def _use_optimizer(self, opt):
        """Binds an optimizer for the manual loop (optimizer.build(model.parameters()))."""
        self._require_built("optimizer.build")
        if self.optimizer is not opt:
            if self.optimizer is not None and self.optimizer._model_ref is not None \
                    and self.optimizer._model is self:
                self.optimizer._model_ref = None
            self.optimizer = opt
            self._net.set_optimizer(opt.native_config(), True)

    @property
    def metrics_names(self):
        return ["loss"] + [e[0] for e in self._metric_entries]

    @property
    def metrics(self):
        """The compiled metric objects (after the model is built)."""
        return list(self.metrics_objects)

    def reset_metrics(self):
        for m in self.metrics_objects:
            m.reset_state()

    # ------------------------------------------------------------------------------ data
    def _ensure_built_for(self, x_raw, name="x"):
        if not self.built:
            arr = as_array(x_raw, name)
            if self._input_shape is None:
                if arr.ndim < 2:
                    raise ValueError(f"x: expected a 2-D array (samples, features), got shape {arr.shape}")
                if 0 in arr.shape[1:]:
                    raise ValueError(f"x: expected at least one feature, got shape {arr.shape}")
                self._input_shape = tuple(int(d) for d in arr.shape[1:])
                try:
                    self.build()
                except BaseException:
                    self._input_shape = None
                    raise
            else:
                self.build()

    def _x(self, x, name="x"):
        self._ensure_built_for(x, name)
        return as_float_matrix(x, name, self.dtype, int(self._net.input_dim), self._input_shape)

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"{what}: the model is not built yet; call build() or fit() first, or give "
                             "the first layer an input shape")

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"{what}: the model must be compiled first; call model.compile(optimizer, loss)")

    def _class_weights(self, y, class_weight):
        """Per-sample weights from a {class: weight} dict (classes missing from it weigh 1), or None."""
        if class_weight is None:
            return None
        if not isinstance(class_weight, dict):
            raise TypeError(f"class_weight: expected a dict {{class: weight}}, got {type(class_weight).__name__}")
        for k, v in class_weight.items():
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
                raise ValueError(f"class_weight: classes must be non-negative ints, got {k!r}")
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or \
                    not math.isfinite(v) or v < 0:
                raise ValueError(f"class_weight: weight of class {k!r} must be a non-negative number, got {v!r}")
        if not class_weight:
            return None
        out_dim = int(self._net.output_dim)
        n_classes = 2 if out_dim == 1 else out_dim
        unknown = sorted(int(k) for k in class_weight if int(k) >= n_classes)
        if unknown:
            raise ValueError(f"class_weight: classes {unknown} are unknown: the model outputs {n_classes} "
                             f"classes (0 to {n_classes - 1})")
        if y.shape[1] == 1:
            cls = np.rint(y[:, 0]).astype(np.int64)
        else:
            cls = np.argmax(y, axis=1)
        if cls.size and cls.min() < 0:
            raise ValueError("class_weight: the targets hold negative classes")
        size = int(max(max(class_weight) + 1, cls.max() + 1 if cls.size else 0))
        table = np.ones(size, dtype=np.float64)
        for k, v in class_weight.items():
            table[int(k)] = v
        return np.ascontiguousarray(table[cls], dtype=self.dtype)

    @staticmethod
    def _combine(a, b):
        if a is None:
            return b
        if b is None:
            return a
        return np.ascontiguousarray(a * b)

    def _loss_w(self, w, n):
        """The weights the native loss uses: the sample weights times the compiled loss weight."""
        if self._loss_weight != 1.0:
            w = np.full(n, self._loss_weight, dtype=self.dtype) if w is None else \
                np.ascontiguousarray(w * np.dtype(self.dtype).type(self._loss_weight))
        return w

    def _y(self, y, n, name="y"):
        return as_targets(y, name, n, self.loss, int(self._net.output_dim), self.dtype)

    def _update_metrics(self, Y, pred, W):
        for (_name, m, weighted) in self._metric_entries:
            m.update_state(Y, pred, W if weighted else None)

    def _metric_logs(self, logs):
        for (name, m, _w) in self._metric_entries:
            logs[name] = float(m.result())
        return logs

    # ------------------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model (Keras semantics); returns a History whose .history maps names to per-epoch
        lists ("loss", the metrics, and their "val_" twins when there is validation data).

        validation_split takes the last fraction of the samples, before shuffling; class_weight
        applies to the training samples only. steps_per_epoch caps the batches of each epoch (each
        epoch starts a new pass over the data)."""
        self._require_compiled("fit")
        if y is None:
            raise ValueError("fit: y is required")
        batch_size = positive_int("batch_size", 32 if batch_size is None else batch_size)
        epochs = nonneg_int("epochs", epochs)
        initial_epoch = nonneg_int("initial_epoch", initial_epoch)
        steps_per_epoch = positive_int("steps_per_epoch", steps_per_epoch, allow_none=True)
        validation_steps = positive_int("validation_steps", validation_steps, allow_none=True)
        validation_batch_size = positive_int("validation_batch_size", validation_batch_size, allow_none=True)
        verbose = verbose_level(verbose)
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) or \
                not 0 <= validation_split < 1:
            raise ValueError(f"validation_split: expected a number in [0, 1), got {validation_split!r}")
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"shuffle: expected True, False or 'batch', got {shuffle!r}")
        if isinstance(validation_freq, (int, np.integer)) and not isinstance(validation_freq, bool):
            if validation_freq <= 0:
                raise ValueError(f"validation_freq: expected a positive int, got {validation_freq!r}")
            val_epochs = None
        elif isinstance(validation_freq, (list, tuple, set)):
            val_epochs = set(int(e) for e in validation_freq)
        else:
            raise ValueError(f"validation_freq: expected an int or a list of epochs, got {validation_freq!r}")

        X = self._x(x)
        n = X.shape[0]
        Y = self._y(y, n)
        W = as_sample_weight(sample_weight, "sample_weight", n, self.dtype)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data: expected (x_val, y_val) or (x_val, y_val, sample_weight_val)")
            Xv = self._x(validation_data[0], "validation_data x")
            Yv = self._y(validation_data[1], Xv.shape[0], "validation_data y")
            Wv = None
            if len(validation_data) == 3:
                Wv = as_sample_weight(validation_data[2], "validation_data sample_weight", Xv.shape[0], self.dtype)
            val = (Xv, Yv, Wv)
        elif validation_split > 0:
            split_at = int(math.floor(n * (1.0 - validation_split)))
            if split_at == 0 or split_at == n:
                raise ValueError(f"validation_split={validation_split} leaves no samples for training or validation "
                                 f"with {n} samples")
            val = (X[split_at:], Y[split_at:], None if W is None else W[split_at:])
            X, Y, W = X[:split_at], Y[:split_at], None if W is None else W[:split_at]
            n = split_at
        W = self._combine(W, self._class_weights(Y, class_weight))
        WL = self._loss_w(W, n)
        val_bs = validation_batch_size or batch_size
        if val is not None and validation_steps is not None:
            rows = min(val[0].shape[0], validation_steps * val_bs)
            val = tuple(None if a is None else a[:rows] for a in val)
        steps_full = (n + batch_size - 1) // batch_size
        steps = min(steps_full, steps_per_epoch) if steps_per_epoch else steps_full

        cbks = _callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                       verbose=verbose, epochs=epochs, steps=steps)
        batch_hooks = cbks.wants_batch_hooks("train")
        warn_nonfinite = not any(isinstance(c, _callbacks.TerminateOnNaN) for c in cbks)
        warned = False
        self.stop_training = False
        net = self._net
        want_pred = bool(self._metric_entries)
        logs = {}
        cbks.on_train_begin()
        chunk = 1  # batches per native call; grows to about _CHUNK_SECONDS of work and stays there
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbks.on_epoch_begin(epoch)
            perm = net.shuffle(n) if shuffle else None
            loss_sum, seen, step = 0.0, 0, 0
            logs = {}
            while step < steps and not self.stop_training:
                nb = 1 if batch_hooks else min(chunk, steps - step)
                if batch_hooks:
                    cbks.on_train_batch_begin(step)
                t0 = time.perf_counter()
                ls, samples, batches, last, nonfinite, pred = net.train(X, Y, WL, perm, batch_size, step, nb,
                                                                        want_pred, loss_sum)
                dt = time.perf_counter() - t0
                loss_sum = ls  # the native sum continues across chunks: chunking never changes it
                seen += samples
                if pred is not None:
                    rows = slice(step * batch_size, step * batch_size + samples)
                    idx = perm[rows] if perm is not None else rows
                    self._update_metrics(Y[idx], pred, None if W is None else W[idx])
                step += batches
                logs = self._metric_logs({"loss": loss_sum / max(seen, 1)})
                if nonfinite and warn_nonfinite and not warned:
                    warnings.warn(f"fit: the loss became NaN or infinite in epoch {epoch + 1}; training continues "
                                  "(add fastnn.callbacks.TerminateOnNaN() to stop)", RuntimeWarning, stacklevel=2)
                    warned = True
                if batch_hooks:
                    cbks.on_train_batch_end(step - 1, logs)
                cbks.on_train_chunk_end(step, logs)
                if not batch_hooks:
                    chunk = max(1, min(int(chunk * 8) or 1, int(_CHUNK_SECONDS * batches / max(dt, 1e-9))))
            epoch_logs = dict(logs)
            do_val = val is not None and (
                (val_epochs is None and (epoch + 1) % validation_freq == 0) or
                (val_epochs is not None and (epoch + 1) in val_epochs))
            if do_val:
                cbks.on_test_begin()
                vlogs = self._evaluate_arrays(*val, batch_size=val_bs, cbks=cbks)
                cbks.on_test_end(vlogs)
                epoch_logs.update({"val_" + k: v for k, v in vlogs.items()})
            cbks.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training:
                break
        cbks.on_train_end(logs)
        self.history = cbks.history
        return self.history

    # ------------------------------------------------------------------------------ evaluate
    def _rows_per_call(self, batch_size):
        """Rows per native call: about 50 ms of work, so Ctrl-C and progress stay responsive. Sized
        from the model's cost per row (not from timing), so it is the same on every run."""
        fpr = max(float(self._net.flops_per_row), 1.0)
        rows = int(min(max(2.0e9 / fpr, 1.0), float(1 << 20)))
        return max(batch_size, rows // batch_size * batch_size)

    def _fresh_metric_entries(self):
        """Private copies of the compiled metrics: concurrent evaluate calls never share state."""
        entries = [(name, copy.deepcopy(m), w) for (name, m, w) in self._metric_entries]
        for (_n, m, _w) in entries:
            m.reset_state()
        return entries

    def _evaluate_arrays(self, X, Y, W, batch_size=None, cbks=None):
        """Loss and metrics over (X, Y) with sample weights W (inference mode). With callbacks that
        want test batch hooks, runs batch by batch and calls them; otherwise in large chunks.

        The loss is the sum of the per-sample weighted losses (summed once, in a fixed order) over
        the number of samples, plus the regularization penalty: the same for any chunking or thread
        count."""
        net = self._net
        n = X.shape[0]
        WL = self._loss_w(W, n)
        entries = self._fresh_metric_entries()
        want_pred = bool(entries)
        batch_size = batch_size or 32
        per_batch = cbks is not None and cbks.wants_batch_hooks("test")
        chunk = batch_size if per_batch else self._rows_per_call(batch_size)
        per_sample = np.empty(n, dtype=np.float64)
        reg = net.regularization_loss()
        logs = {}
        for start in range(0, n, chunk):
            end = min(n, start + chunk)
            if per_batch:
                cbks.on_test_batch_begin(start // batch_size)
            _s, pred, per = net.evaluate(X[start:end], Y[start:end], None if WL is None else WL[start:end],
                                         want_pred)
            per_sample[start:end] = per
            if pred is not None:
                for (_name, m, weighted) in entries:
                    m.update_state(Y[start:end], pred, (None if W is None else W[start:end]) if weighted else None)
            if cbks is not None or end == n:
                logs = {"loss": float(np.sum(per_sample[:end])) / end + reg}
                for (name, m, _w) in entries:
                    logs[name] = float(m.result())
            if cbks is not None:
                if per_batch:
                    cbks.on_test_batch_end(start // batch_size, logs)
                cbks.on_test_chunk_end((end + batch_size - 1) // batch_size, logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Returns the loss (and metrics) on the data: a float when there are no metrics, else
        [loss, metric, ...], or a dict with return_dict=True. verbose 1 or 2 prints one line."""
        self._require_compiled("evaluate")
        if y is None:
            raise ValueError("evaluate: y is required")
        batch_size = positive_int("batch_size", 32 if batch_size is None else batch_size)
        steps = positive_int("steps", steps, allow_none=True)
        verbose = verbose_level(verbose)
        X = self._x(x)
        Y = self._y(y, X.shape[0])
        W = as_sample_weight(sample_weight, "sample_weight", X.shape[0], self.dtype)
        if steps is not None and steps * batch_size < X.shape[0]:
            rows = steps * batch_size
            X, Y, W = X[:rows], Y[:rows], None if W is None else W[:rows]
        n_steps = (X.shape[0] + batch_size - 1) // batch_size
        cbks = _callbacks.CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                                       verbose=verbose, epochs=1, steps=n_steps)
        cbks.on_test_begin()
        logs = self._evaluate_arrays(X, Y, W, batch_size, cbks=cbks)
        cbks.on_test_end(logs)
        return self._format_logs(logs, return_dict)

    # ------------------------------------------------------------------------------ predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for x as a numpy array (n, units). Rows are independent: predict(x)[i] equals
        predict(x[i:i+1]) bitwise, whatever the batch size and thread count."""
        batch_size = positive_int("batch_size", 32 if batch_size is None else batch_size)
        steps = positive_int("steps", steps, allow_none=True)
        verbose = verbose_level(verbose)
        X = self._x(x)
        if steps is not None and steps * batch_size < X.shape[0]:
            X = X[:steps * batch_size]
        n = X.shape[0]
        n_steps = (n + batch_size - 1) // batch_size
        cbks = None
        if callbacks is not None or verbose:
            cbks = _callbacks.CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                                           verbose=verbose, epochs=1, steps=n_steps)
            cbks.on_predict_begin()
        per_batch = cbks is not None and cbks.wants_batch_hooks("predict")
        chunk = batch_size if per_batch else self._rows_per_call(batch_size)
        if n <= chunk and not per_batch:
            out = self._net.predict(X)
            if cbks is not None:
                cbks.on_predict_chunk_end(n_steps)
        else:
            out = np.empty((n, int(self._net.output_dim)), dtype=self.dtype)
            for start in range(0, n, chunk):
                end = min(n, start + chunk)
                if per_batch:
                    cbks.on_predict_batch_begin(start // batch_size)
                out[start:end] = self._net.predict(X[start:end])
                if per_batch:
                    cbks.on_predict_batch_end(start // batch_size, {"outputs": out[start:end]})
                if cbks is not None:
                    cbks.on_predict_chunk_end((end + batch_size - 1) // batch_size)
        if cbks is not None:
            cbks.on_predict_end()
        return out

    def predict_on_batch(self, x):
        net = self._net
        if net is not None and type(x) is np.ndarray and x.dtype == self.dtype and x.ndim == 2 \
                and x.flags.c_contiguous and x.shape[1] == net.input_dim and x.shape[0] > 0 \
                and len(self._input_shape) == 1 and np.isfinite(x).all():
            return net.predict(x)
        return self.predict(x, verbose=0)

    def __call__(self, x, training=False):
        """Direct forward pass (training=True: dropout active, batch statistics, moving statistics
        updated). The result remembers this pass: a loss computed on it supports loss.backward()
        (the manual loop)."""
        X = self._x(x)
        out = self._net.forward_cached(X, bool(training))
        self._cache_token += 1
        res = out.view(ModelOutput)
        res._fastnn_source = weakref.ref(self)
        res._fastnn_token = self._cache_token
        return res

    # ------------------------------------------------------------------------------ batches
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch; returns its loss (and metrics on that batch)."""
        self._require_compiled("train_on_batch")
        if y is None:
            raise ValueError("train_on_batch: y is required")
        X = self._x(x)
        n = X.shape[0]
        Y = self._y(y, n)
        W = as_sample_weight(sample_weight, "sample_weight", n, self.dtype)
        W = self._combine(W, self._class_weights(Y, class_weight))
        want = bool(self._metric_entries)
        _ls, _samples, _b, last, _nf, pred = self._net.train(X, Y, self._loss_w(W, n), None, n, 0, 1, want)
        self.reset_metrics()
        if pred is not None:
            self._update_metrics(Y, pred, W)
        logs = self._metric_logs({"loss": float(last)})
        return self._format_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, in inference mode."""
        self._require_compiled("test_on_batch")
        if y is None:
            raise ValueError("test_on_batch: y is required")
        X = self._x(x)
        Y = self._y(y, X.shape[0])
        W = as_sample_weight(sample_weight, "sample_weight", X.shape[0], self.dtype)
        return self._format_logs(self._evaluate_arrays(X, Y, W, X.shape[0]), return_dict)

    def _format_logs(self, logs, return_dict):
        if return_dict:
            return logs
        vals = [logs[k] for k in self.metrics_names]
        return vals[0] if len(vals) == 1 else vals

    # ------------------------------------------------------------------------------ manual loop
    def _loss_on_cached_output(self, loss, y_pred, y_true, sample_weight):
        if y_pred._fastnn_token != self._cache_token or self._net.cached_rows != y_pred.shape[0]:
            raise RuntimeError("loss: this output is not from the model's latest forward pass; "
                               "call the loss right after model(x)")
        n = y_pred.shape[0]
        Y = as_targets(y_true, "y_true", n, loss, int(self._net.output_dim), self.dtype)
        W = as_sample_weight(sample_weight, "sample_weight", n, self.dtype)
        value = self._net.loss_cached(loss.spec(), Y, W, True)
        token = self._cache_token

        def backward():
            if token != self._cache_token:
                raise RuntimeError("backward: the model ran another forward pass since this loss was computed")
            self._net.backward_cached(None, True)

        return _losses.LossValue(value, backward)

    def _apply_gradients(self):
        if self.optimizer is None:
            raise RuntimeError("step: no optimizer is bound to the model")
        self._net.apply_gradients()

    # ------------------------------------------------------------------------------ summary / config
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints a Keras-style table: each layer with its output shape and parameter count, then the
        total, trainable and non-trainable parameter counts."""
        print_fn = print_fn or print
        layers = self._layers
        if layer_range is not None:
            if not isinstance(layer_range, (list, tuple)) or len(layer_range) != 2:
                raise ValueError(f"layer_range: expected [first_name, last_name], got {layer_range!r}")
            names = [l.name for l in layers]
            for nm in layer_range:
                if nm not in names:
                    raise ValueError(f"layer_range: no layer named {nm!r}")
            i0, i1 = names.index(layer_range[0]), names.index(layer_range[1])
            layers = layers[i0:i1 + 1]
        rows = []
        for l in layers:
            shape = str((None, *l.output_shape)) if (self.built and l.output_shape is not None) else "?"
            params = f"{l.count_params():,}" if self.built else "0 (unbuilt)"
            row = [f"{l.name} ({type(l).__name__})", shape, params]
            if show_trainable:
                row.append("-" if not l._var_indices else ("Y" if (l.trainable and self._trainable) else "N"))
            rows.append(row)
        header = ["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else [])
        widths = [max([len(header[c])] + [len(r[c]) for r in rows]) + 2 for c in range(len(header))]
        widths[0] = max(widths[0], 30)
        widths[1] = max(widths[1], 22)
        widths[2] = max(widths[2], 12)
        width = max(sum(widths) + 1, line_length or 0)
        widths[0] += width - (sum(widths) + 1)

        def fmt(cells):
            out = " " + f"{cells[0]:<{widths[0] - 1}}" + f"{cells[1]:<{widths[1]}}" + f"{cells[2]:>{widths[2]}}"
            if show_trainable:
                out += f"{cells[3]:>{widths[3]}}"
            return out

        lines = [f'Model: "{self.name}"', "_" * width, fmt(header), "=" * width]
        for i, r in enumerate(rows):
            lines.append(fmt(r))
            if i != len(rows) - 1:
                lines.append("")
        lines.append("=" * width)
        itemsize = np.dtype(self.dtype).itemsize
        total = sum(int(np.prod(v.shape)) for v in self.weights)
        trainable = sum(int(np.prod(v.shape)) for v in self.trainable_weights)
        lines += [f"Total params: {total:,} ({_bytes(total * itemsize)})",
                  f"Trainable params: {trainable:,} ({_bytes(trainable * itemsize)})",
                  f"Non-trainable params: {total - trainable:,} ({_bytes((total - trainable) * itemsize)})",
                  "_" * width]
        for line in lines:
            print_fn(line)

    def get_config(self):
        layers = []
        if self._input_shape is not None:
            layers.append({"class_name": "InputLayer", "config": {"shape": list(self._input_shape)}})
        layers += [_layers.serialize(l) for l in self._layers]
        return {"name": self.name, "dtype": self.dtype, "trainable": self._trainable, "layers": layers}

    @classmethod
    def from_config(cls, config):
        """Rebuilds a model (fresh weights) from get_config()."""
        if not isinstance(config, dict):
            raise TypeError(f"from_config: expected a dict, got {type(config).__name__}")
        model = cls.__new__(cls)
        model._init_state(config.get("name"), config.get("dtype", "float32"), config.get("trainable", True))
        for d in config.get("layers", []):
            if isinstance(d, dict) and d.get("class_name") == "InputLayer":
                cfg = d.get("config") or {}
                model.add(_layers.Input(shape=tuple(cfg.get("shape") or cfg.get("batch_shape", [None])[1:])))
            else:
                model.add(_layers.deserialize(d))
        return model

    def get_compile_config(self):
        return None if not self.compiled else dict(self._compile_config)

    # ------------------------------------------------------------------------------ saving
    def save(self, filepath, overwrite=True):
        """Writes architecture, weights, optimizer state, step count and compile configuration to one
        file (data only, versioned, written atomically); fastnn.models.load_model reads it back."""
        from . import saving

        saving.save_model(self, filepath, overwrite=overwrite)

    def export(self, filepath, format="onnx", **kwargs):
        """Writes the model for serving (Keras 3's name): format="onnx"; see fastnn.export.onnx."""
        from .export import export_model

        return export_model(self, filepath, format=format, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        from . import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        from . import saving

        saving.load_weights(self, filepath)

    def __getstate__(self):
        from . import saving

        if not self.built:
            return {"fastnn_config": self.get_config(),
                    "fastnn_compile": self._compile_config if self.compiled else None}
        return {"fastnn_model": saving.to_bytes(self)}

    def __setstate__(self, state):
        from . import saving

        if "fastnn_model" in state:
            other = saving.from_bytes(state["fastnn_model"])
        else:
            other = Sequential.from_config(state["fastnn_config"])
            comp = state.get("fastnn_compile")
            if comp:
                saving._compile_from_config(other, comp)
        self.__dict__.update(other.__dict__)
        for l in self._layers:
            l._model = self
        for v in getattr(self, "_var_objects", None) or []:
            v.model = self
        if self.optimizer is not None:
            self.optimizer._model_ref = weakref.ref(self)

    def __deepcopy__(self, memo):
        clone = type(self).__new__(type(self))
        clone.__setstate__(self.__getstate__())
        return clone

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name} layers={len(self._layers)} built={self.built}>"


class Sequential(Model):
    """A linear stack of layers (Keras's Sequential).

    >>> model = Sequential([layers.Input(shape=(8,)), layers.Dense(10, activation="relu"),
    ...                     layers.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=10, batch_size=32)

    dtype: "float32" (default) or "float64" for every weight and computation.
    """

    def __init__(self, layers=None, name=None, dtype="float32", trainable=True):
        self._init_state(name, dtype, trainable)
        if isinstance(layers, _layers.Layer):
            layers = [layers]
        for layer in layers or []:
            self.add(layer)


def _metric_config(m):
    """A metric for the compile configuration of a saved model: its name, or its class and config."""
    if isinstance(m, str):
        return m
    if isinstance(m, _metrics.Metric):
        if type(m).__name__ in _metrics._REGISTRY and type(m) is _metrics._REGISTRY[type(m).__name__]:
            try:
                return {"class_name": type(m).__name__, "config": m.get_config()}
            except (TypeError, ValueError, NotImplementedError):
                pass
        return getattr(m, "name", None)
    name = getattr(m, "__name__", None)
    return name if name in _metrics._REGISTRY else None


def _bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024.0


def load_model(filepath, compile=True):
    """Loads a model written by Model.save."""
    from . import saving

    return saving.load_model(filepath, compile=compile)


def clone_model(model):
    """A new model with the same architecture and freshly initialized weights (Keras's clone_model)."""
    return Sequential.from_config(model.get_config())
