"""Sequential: the Keras-like model over the native network.

fit() hands the native loop whole chunks of batches (shuffle, gather, forward, loss, backward and the
optimizer step all run in C++ with the GIL released); Python returns only as often as the progress
bar, the callbacks and Ctrl-C need (about every 50 ms), or every batch when a callback asks for
batch-level hooks.
"""
from __future__ import annotations

import math
import time
import warnings
import weakref

import numpy as np

from . import _core, _random
from . import callbacks as _callbacks
from . import layers as _layers
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from ._validation import (as_float_matrix, as_sample_weight, as_targets, nonneg_int, positive_int,
                          verbose_level)

_CHUNK_SECONDS = 0.05


class ModelOutput(np.ndarray):
    """The output of model(x): a numpy array that remembers the forward pass it came from, so that a
    loss computed on it can run backward() (the manual training loop)."""

    def __array_finalize__(self, obj):
        self._fastnn_source = getattr(obj, "_fastnn_source", None)
        self._fastnn_token = getattr(obj, "_fastnn_token", None)


class Sequential:
    """A linear stack of layers (Keras's Sequential).

    >>> model = Sequential([layers.Input(shape=(8,)), layers.Dense(10, activation="relu"),
    ...                     layers.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=10, batch_size=32)

    dtype: "float32" (default) or "float64" for every weight and computation.
    """

    def __init__(self, layers=None, name=None, dtype="float32", trainable=True):
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype: expected 'float32' or 'float64', got {dtype!r}")
        self.dtype = np.dtype(dtype).name
        self.name = name or _layers._auto_name("Sequential")
        self._layers: list = []
        self._input_shape = None
        self._net = None
        self.optimizer = None
        self.loss = None
        self._metric_ids = []
        self.metrics_objects = []
        self._loss_weight = 1.0
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._cache_token = 0
        self._trainable = bool(trainable)
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------------------ structure
    def add(self, layer):
        if not isinstance(layer, _layers.Layer):
            raise TypeError(f"add: expected a fastnn layer, got {type(layer).__name__}")
        if isinstance(layer, _layers.InputLayer):
            if self._layers or self._input_shape is not None:
                raise ValueError("add: an Input layer must come first")
            self._input_shape = tuple(layer.shape)
            return
        if layer._model is not None and layer._model is not self:
            raise ValueError(f"add: layer {layer.name!r} already belongs to another model")
        if any(l.name == layer.name for l in self._layers):
            raise ValueError(f"add: a layer named {layer.name!r} is already in the model")
        if not self._layers and self._input_shape is None and layer._input_shape_arg is not None:
            self._input_shape = tuple(layer._input_shape_arg)
        old = self._snapshot() if self.built else {}
        self._layers.append(layer)
        # As Keras: a model whose input shape is known is built (weights created) as layers are added.
        if self._input_shape is not None:
            self._rebuild(old)

    def pop(self):
        if not self._layers:
            raise ValueError("pop: the model has no layers")
        old = self._snapshot() if self.built else None
        layer = self._layers.pop()
        layer._model = None
        if old is not None:
            if self._layers:
                self._rebuild(old)
            else:
                self._net = None
        return layer

    @property
    def layers(self):
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        if index is not None:
            if not isinstance(index, int) or not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer: index {index!r} out of range for {len(self._layers)} layers")
            return self._layers[index]
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
            shape = tuple(input_shape)
            if len(shape) >= 2 and shape[0] is None:
                shape = shape[1:]
            elif len(shape) >= 2 and self._input_shape is None:
                shape = shape[1:]
            if self._input_shape is not None and tuple(self._input_shape) != shape:
                raise ValueError(f"build: input_shape {shape} differs from the declared {self._input_shape}")
            self._input_shape = shape
        if self._input_shape is None:
            raise ValueError("build: the input shape is unknown; pass input_shape or add an Input layer")
        if not self._layers:
            raise ValueError("build: the model has no layers")
        if self._net is None:
            self._build_native()

    def _build_native(self):
        shape = tuple(int(d) for d in self._input_shape)
        input_dim = int(math.prod(shape))
        Net = _core.NetworkF64 if self.dtype == "float64" else _core.NetworkF32
        net = Net(input_dim, _random.next_seed())
        n_native = 0
        for layer in self._layers:
            layer._model = self
            layer.input_shape = shape
            out = layer.compute_output_shape(shape)
            if len(shape) > 1 and not isinstance(layer, _layers.Flatten):
                raise ValueError(f"layer {layer.name!r} needs flat inputs; add a Flatten layer first")
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
        self._trainable = bool(value)
        for l in self._layers:
            if self._net is not None and l._layer_index is not None:
                self._net.set_layer_trainable(l._layer_index, self._trainable and l.trainable)

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
        """Configures training. optimizer, loss and metrics take Keras's names or objects."""
        opt = _optimizers.get(optimizer)
        if loss is None:
            raise ValueError("compile: loss is required (for example loss='mse' or "
                             "loss='binary_crossentropy')")
        loss_obj = _losses.get(loss)
        if loss_weights is not None:
            lw = loss_weights
            if isinstance(lw, (list, tuple)):
                if len(lw) != 1:
                    raise ValueError("loss_weights: a Sequential model has one output; give one weight")
                lw = lw[0]
            if isinstance(lw, bool) or not isinstance(lw, (int, float)) or not math.isfinite(lw) or lw < 0:
                raise ValueError(f"loss_weights: expected a non-negative number, got {loss_weights!r}")
            self._loss_weight = float(lw)
        else:
            self._loss_weight = 1.0
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, _metrics.Metric)) or callable(metrics) and not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f"metrics: expected a list of metrics, got {type(metrics).__name__}")
        weighted_metrics = list(weighted_metrics or [])
        if self.optimizer is not None and self.optimizer is not opt:
            self.optimizer._model_ref = None
        opt._attach(self)
        self.optimizer = opt
        self.loss = loss_obj
        self._metric_ids = list(metrics) + weighted_metrics
        self.metrics_objects = []
        self.compiled = True
        if self.built:
            self._configure_native(reset_optimizer=True)
        self._compile_config = {
            "optimizer": _optimizers.serialize(opt), "loss": _losses.serialize(loss_obj),
            "metrics": [m if isinstance(m, str) else getattr(m, "name", None) for m in self._metric_ids],
            "loss_weights": self._loss_weight,
        }

    def _configure_native(self, reset_optimizer):
        self._net.set_loss(self.loss.spec())
        self._net.set_optimizer(self.optimizer.native_config(), reset_optimizer)
        out_dim = int(self._net.output_dim)
        self.metrics_objects = []
        for m in self._metric_ids:
            self.metrics_objects.append(
                _metrics.resolve_accuracy(m, self.loss.kind, out_dim, from_logits=self.loss.from_logits))

    def _use_optimizer(self, opt):
        """Binds an optimizer for the manual loop (optimizer.build(model.parameters()))."""
        self._require_built("optimizer.build")
        if self.optimizer is not opt:
            self.optimizer = opt
            self._net.set_optimizer(opt.native_config(), True)

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in self.metrics_objects]

    # ------------------------------------------------------------------------------ data
    def _ensure_built_for(self, x_raw):
        if not self.built:
            arr = np.asarray(x_raw) if not hasattr(x_raw, "to_numpy") else x_raw.to_numpy()
            if self._input_shape is None:
                if arr.ndim < 2:
                    raise ValueError(f"x: expected a 2-D array (samples, features), got shape {arr.shape}")
                self._input_shape = tuple(arr.shape[1:])
            self.build()

    def _x(self, x, name="x"):
        self._ensure_built_for(x)
        return as_float_matrix(x, name, self.dtype, int(self._net.input_dim), self._input_shape)

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"{what}: the model is not built yet; call build() or fit() first, or give "
                             "the first layer an input shape")

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"{what}: the model must be compiled first; call model.compile(optimizer, loss)")

    def _weights_for(self, y, sample_weight, class_weight, n, name="sample_weight"):
        w = as_sample_weight(sample_weight, name, n, self.dtype)
        if class_weight is not None:
            if not isinstance(class_weight, dict):
                raise TypeError(f"class_weight: expected a dict {{class: weight}}, got {type(class_weight).__name__}")
            if y.shape[1] == 1:
                cls = np.rint(y[:, 0]).astype(np.int64)
            else:
                cls = np.argmax(y, axis=1)
            present = set(np.unique(cls).tolist())
            unknown = [k for k in class_weight if not isinstance(k, (int, np.integer)) or k not in present]
            for k, v in class_weight.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    raise ValueError(f"class_weight: weight of class {k!r} must be a non-negative number, got {v!r}")
            if unknown:
                raise ValueError(f"class_weight: classes {unknown} do not appear in y (classes present: {sorted(present)})")
            table = np.ones(int(max(present | set(class_weight))) + 1, dtype=np.float64)
            for k, v in class_weight.items():
                table[int(k)] = v
            cw = table[cls].astype(self.dtype)
            w = cw if w is None else w * cw
        if self._loss_weight != 1.0:
            w = np.full(n, self._loss_weight, dtype=self.dtype) if w is None else w * self._loss_weight
        return None if w is None else np.ascontiguousarray(w, dtype=self.dtype)

    def _y(self, y, n, name="y"):
        return as_targets(y, name, n, self.loss, int(self._net.output_dim), self.dtype)

    # ------------------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model (Keras semantics); returns a History whose .history maps names to per-epoch
        lists. validation_split takes the last fraction of the data, before shuffling."""
        self._require_compiled("fit")
        if y is None:
            raise ValueError("fit: y is required")
        batch_size = positive_int("batch_size", 32 if batch_size is None else batch_size)
        epochs = nonneg_int("epochs", epochs)
        initial_epoch = nonneg_int("initial_epoch", initial_epoch)
        steps_per_epoch = positive_int("steps_per_epoch", steps_per_epoch, allow_none=True)
        verbose = verbose_level(verbose)
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) or not 0 <= validation_split < 1:
            raise ValueError(f"validation_split: expected a number in [0, 1), got {validation_split!r}")
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"shuffle: expected True, False or 'batch', got {shuffle!r}")
        if isinstance(validation_freq, int) and not isinstance(validation_freq, bool):
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
        W = self._weights_for(Y, sample_weight, class_weight, n)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data: expected (x_val, y_val) or (x_val, y_val, sample_weight_val)")
            Xv = self._x(validation_data[0], "validation_data x")
            Yv = self._y(validation_data[1], Xv.shape[0], "validation_data y")
            Wv = self._weights_for(Yv, validation_data[2] if len(validation_data) == 3 else None, None,
                                   Xv.shape[0], "validation_data sample_weight")
            val = (Xv, Yv, Wv)
        elif validation_split > 0:
            split_at = int(math.floor(n * (1.0 - validation_split)))
            if split_at == 0 or split_at == n:
                raise ValueError(f"validation_split={validation_split} leaves no samples for training or validation "
                                 f"with {n} samples")
            val = (X[split_at:], Y[split_at:], None if W is None else W[split_at:])
            X, Y, W = X[:split_at], Y[:split_at], None if W is None else W[:split_at]
            n = split_at
        steps_full = (n + batch_size - 1) // batch_size
        steps = min(steps_full, steps_per_epoch) if steps_per_epoch else steps_full

        cbks = _callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                       verbose=verbose, epochs=epochs, steps=steps)
        batch_hooks = cbks.wants_batch_hooks("train")
        warn_nonfinite = not any(isinstance(c, _callbacks.TerminateOnNaN) for c in (callbacks or []))
        warned = False
        self.stop_training = False
        net = self._net
        logs = {}
        cbks.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            for m in self.metrics_objects:
                m.reset_state()
            cbks.on_epoch_begin(epoch)
            perm = net.shuffle(n) if shuffle else None
            loss_sum, seen, step = 0.0, 0, 0
            chunk = 1
            logs = {}
            while step < steps and not self.stop_training:
                nb = 1 if batch_hooks else min(chunk, steps - step)
                if batch_hooks:
                    cbks.on_train_batch_begin(step)
                t0 = time.perf_counter()
                want_pred = bool(self.metrics_objects)
                ls, samples, batches, last, nonfinite, pred = net.train(X, Y, W, perm, batch_size, step, nb, want_pred)
                dt = time.perf_counter() - t0
                loss_sum += ls
                seen += samples
                if pred is not None:
                    rows = slice(step * batch_size, step * batch_size + samples)
                    idx = perm[rows] if perm is not None else rows
                    for m in self.metrics_objects:
                        m.update_state(Y[idx], pred, None if W is None else W[idx])
                step += batches
                logs = {"loss": loss_sum / max(seen, 1)}
                for m in self.metrics_objects:
                    logs[m.name] = float(m.result())
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
                vlogs = self._evaluate_arrays(*val, batch_size=validation_batch_size or batch_size)
                epoch_logs.update({"val_" + k: v for k, v in vlogs.items()})
            cbks.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training:
                break
        cbks.on_train_end(logs)
        self.history = cbks.history
        return self.history

    # ------------------------------------------------------------------------------ evaluate
    def _evaluate_arrays(self, X, Y, W, batch_size=None):
        net = self._net
        n = X.shape[0]
        for m in self.metrics_objects:
            m.reset_state()
        want_pred = bool(self.metrics_objects)
        total = 0.0
        # Row chunks only bound the time between checks for Ctrl-C; results do not depend on them.
        chunk = 65536
        for start in range(0, n, chunk):
            end = min(n, start + chunk)
            s, pred = net.evaluate(X[start:end], Y[start:end], None if W is None else W[start:end], want_pred)
            total += s
            if pred is not None:
                for m in self.metrics_objects:
                    m.update_state(Y[start:end], pred, None if W is None else W[start:end])
        logs = {"loss": total / n + net.regularization_loss()}
        for m in self.metrics_objects:
            logs[m.name] = float(m.result())
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Returns the loss (and metrics) on the data: a float when there are no metrics, else
        [loss, metric, ...], or a dict with return_dict=True."""
        self._require_compiled("evaluate")
        if y is None:
            raise ValueError("evaluate: y is required")
        if batch_size is not None:
            positive_int("batch_size", batch_size)
        verbose = verbose_level(verbose)
        X = self._x(x)
        Y = self._y(y, X.shape[0])
        W = self._weights_for(Y, sample_weight, None, X.shape[0])
        cbks = _callbacks.CallbackList(callbacks, add_history=False, add_progbar=False, model=self,
                                       verbose=verbose, epochs=1, steps=1)
        cbks.on_test_begin()
        logs = self._evaluate_arrays(X, Y, W, batch_size)
        cbks.on_test_end(logs)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        vals = [logs["loss"]] + [logs[m.name] for m in self.metrics_objects]
        return vals[0] if len(vals) == 1 else vals

    # ------------------------------------------------------------------------------ predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for x as a numpy array (n, units). Rows are independent: predict(x)[i] equals
        predict(x[i:i+1]) bitwise, whatever the batch size and thread count."""
        if batch_size is not None:
            positive_int("batch_size", batch_size)
        verbose_level(verbose)
        X = self._x(x)
        n = X.shape[0]
        chunk = 65536
        if n <= chunk:
            return self._net.predict(X)
        out = np.empty((n, int(self._net.output_dim)), dtype=self.dtype)
        for start in range(0, n, chunk):
            out[start:start + chunk] = self._net.predict(X[start:start + chunk])
        return out

    def predict_on_batch(self, x):
        net = self._net
        if net is not None and type(x) is np.ndarray and x.dtype == self.dtype and x.ndim == 2 \
                and x.flags.c_contiguous and x.shape[1] == net.input_dim and x.shape[0] > 0 \
                and np.isfinite(x).all():
            return net.predict(x)
        return self.predict(x)

    def __call__(self, x, training=False):
        """Direct forward pass. The result remembers this pass: a loss computed on it supports
        loss.backward() (the manual loop)."""
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
        X = self._x(x)
        n = X.shape[0]
        Y = self._y(y, n)
        W = self._weights_for(Y, sample_weight, class_weight, n)
        want = bool(self.metrics_objects)
        ls, samples, _b, last, _nf, pred = self._net.train(X, Y, W, None, n, 0, 1, want)
        logs = {"loss": float(last)}
        for m in self.metrics_objects:
            m.reset_state()
            m.update_state(Y, pred, W)
            logs[m.name] = float(m.result())
        return self._format_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        X = self._x(x)
        Y = self._y(y, X.shape[0])
        W = self._weights_for(Y, sample_weight, None, X.shape[0])
        return self._format_logs(self._evaluate_arrays(X, Y, W), return_dict)

    def _format_logs(self, logs, return_dict):
        if return_dict:
            return logs
        vals = [logs["loss"]] + [logs[m.name] for m in self.metrics_objects]
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
        print_fn = print_fn or print
        width = line_length or 65
        c1, c2 = int(width * 0.45), int(width * 0.30)
        lines = [f'Model: "{self.name}"', "_" * width,
                 f"{'Layer (type)':<{c1}}{'Output Shape':<{c2}}{'Param #':>{width - c1 - c2}}", "=" * width]
        for l in self._layers:
            shape = str((None, *l.output_shape)) if l.output_shape is not None else "?"
            params = l.count_params() if self.built else 0
            lines.append(f"{l.name + ' (' + type(l).__name__ + ')':<{c1}}{shape:<{c2}}{params:>{width - c1 - c2},}")
        lines.append("=" * width)
        total = sum(int(np.prod(v.shape)) for v in self.weights)
        trainable = sum(int(np.prod(v.shape)) for v in self.trainable_weights)
        lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}", "_" * width]
        for line in lines:
            print_fn(line)

    def get_config(self):
        layers = []
        if self._input_shape is not None:
            layers.append({"class_name": "InputLayer", "config": {"shape": list(self._input_shape)}})
        layers += [_layers.serialize(l) for l in self._layers]
        return {"name": self.name, "dtype": self.dtype, "layers": layers}

    @classmethod
    def from_config(cls, config):
        model = cls(name=config.get("name"), dtype=config.get("dtype", "float32"))
        for d in config.get("layers", []):
            if d.get("class_name") == "InputLayer":
                model.add(_layers.Input(shape=tuple(d["config"]["shape"])))
            else:
                model.add(_layers.deserialize(d))
        return model

    # ------------------------------------------------------------------------------ saving
    def save(self, filepath, overwrite=True):
        """Writes architecture, weights, optimizer state and compile configuration to one file
        (data only, written atomically)."""
        from . import saving

        saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        from . import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        from . import saving

        saving.load_weights(self, filepath)

    def __getstate__(self):
        from . import saving

        return {"fastnn_model": saving.to_bytes(self)}

    def __setstate__(self, state):
        from . import saving

        other = saving.from_bytes(state["fastnn_model"])
        self.__dict__.update(other.__dict__)
        for l in self._layers:
            l._model = self
        for v in getattr(self, "_var_objects", []):
            v.model = self
        if self.optimizer is not None:
            self.optimizer._model_ref = weakref.ref(self)

    def __repr__(self):
        return f"<Sequential name={self.name} layers={len(self._layers)} built={self.built}>"


Model = Sequential


def load_model(filepath, compile=True):
    """Loads a model written by Model.save."""
    from . import saving

    return saving.load_model(filepath, compile=compile)
