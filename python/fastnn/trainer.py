"""The Trainer: compile, fit, evaluate, predict, train_on_batch, test_on_batch (Keras's trainer role).

fit() hands the native loop whole chunks of batches (shuffle, gather, forward, loss, backward and the
optimizer step all run in C++ with the GIL released); Python returns only as often as the progress
bar, the callbacks and Ctrl-C need (data_adapter.batches_per_call), or every batch when a callback
asks for batch-level hooks. Model mixes this class in; every native call goes through the model's
NativeNet.
"""
from __future__ import annotations

import contextlib
import copy
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from . import callbacks as _callbacks
from . import compile_utils as _cu
from . import data_adapter as _da
from . import losses as _losses
from . import mixed_precision as _mixed_precision
from . import optimizers as _optimizers
from ._validation import nonneg_int, positive_int, verbose_level

if TYPE_CHECKING:
    from ._engine import NativeNet
    from .callbacks import History


class Trainer:
    """Keras's trainer role (compile, fit, evaluate, predict and the per-batch calls), mixed into Model."""

    if TYPE_CHECKING:
        # What the Model this class is mixed into provides (declared for type checkers only).
        _engine: NativeNet
        dtype: str
        _input_shape: tuple | None

        @property
        def built(self) -> bool: ...

        def _require_built(self, what: str) -> None: ...

    def _init_trainer_state(self):
        self.optimizer = None
        self.loss = None
        self.dtype_policy = None
        self._metric_ids = []
        self._weighted_metric_ids = []
        self._metric_entries = []    # (log name, metric, weighted)
        self.metrics_objects = []
        self._loss_weight = 1.0
        self._compile_config = None
        self.stop_training = False
        self.history = None

    # ------------------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile="auto",
                auto_scale_loss=True, dtype_policy=None, device="cpu") -> None:
        """Configures the model for training: optimizer, loss, metrics and device.

        As in Keras, `metrics` ignore sample and class weights and `weighted_metrics` use them;
        "accuracy"/"acc" resolve to binary, categorical or sparse categorical accuracy from the loss
        and the output width. The device is not saved with the model: files load on any device.

        Parameters
        ----------
        optimizer : str or fastnn.optimizers.Optimizer, default "rmsprop"
            An optimizer object, or a Keras name ("sgd", "adam", "adamw", "rmsprop", ...) for one with
            Keras's defaults.
        loss : str or fastnn.losses.Loss
            Required. A loss object or a Keras name ("mse", "binary_crossentropy",
            "sparse_categorical_crossentropy", ...).
        loss_weights : float, list or dict, optional
            A scale for the single output's loss (a one-element list or dict is accepted too).
        metrics : list, optional
            Metric names or fastnn.metrics objects, reported without sample or class weights.
        weighted_metrics : list, optional
            Metrics computed with the sample and class weights.
        run_eagerly, steps_per_execution, jit_compile, auto_scale_loss
            Keras's execution options, accepted so that Keras code runs unchanged; fastnn always runs its
            native loop and chooses how many steps one call makes.
        dtype_policy : str or fastnn.mixed_precision.DTypePolicy, optional
            "float32" or "mixed_bfloat16"; None takes the global policy (fastnn.mixed_precision).
        device : {"cpu", "cuda", "auto"}, default "cpu"
            "cuda" trains on an NVIDIA GPU and raises saying why where that is unavailable; "auto" picks
            cuda where available and where the model runs there, else cpu.

        Raises
        ------
        ValueError
            When loss is missing or an argument names an unknown optimizer, loss, metric or device.
        """
        from . import cuda as _cuda_api

        resolved = _cuda_api.resolve_device(device)
        with self._engine.structural("compile"):
            opt = _optimizers.get(optimizer)
            policy = _mixed_precision.resolve(dtype_policy)
            if loss is None:
                raise ValueError("compile: loss is required (for example loss='mse' or "
                                 "loss='binary_crossentropy')")
            loss_obj = _losses.get(loss)
            loss_weight = _cu.loss_weight(loss_weights)
            metrics = _cu.metric_list("metrics", metrics)
            weighted = _cu.metric_list("weighted_metrics", weighted_metrics)
            _cu.check_metrics(metrics + weighted)
            previous = self.optimizer
            opt._attach(self)
            if previous is not None and previous is not opt and previous._model is self:
                previous._model_ref = None
            self.optimizer = opt
            self.loss = loss_obj
            self.dtype_policy = policy
            self._device_request = str(device).lower()
            self._device = resolved
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
                "metrics": [_cu.metric_config(m) for m in metrics],
                "weighted_metrics": [_cu.metric_config(m) for m in weighted],
                "loss_weights": self._loss_weight, "dtype_policy": policy.name,
            }

    def _configure_native(self, reset_optimizer):
        policy = self.dtype_policy or _mixed_precision.global_policy()
        self._engine.configure(self.loss.spec(), self.optimizer.native_config(), reset_optimizer,
                               matmul_precision=policy.compute_dtype)
        self._set_native_device()
        entries = _cu.metric_entries(self._metric_ids, self._weighted_metric_ids, self.loss,
                                     self._engine.output_dim)
        self._metric_entries = entries
        self.metrics_objects = [e[1] for e in entries]

    def _set_native_device(self):
        """Puts the network on the compiled device; "auto" falls back to the CPU for what the GPU
        backend does not run (float64, bfloat16 products, BatchNorm...), "cuda" raises saying so."""
        device = getattr(self, "_device", "cpu")
        if device == "cuda" and getattr(self, "_device_request", "cpu") == "auto":
            policy = self.dtype_policy or _mixed_precision.global_policy()
            if self.dtype != "float32" or policy.compute_dtype != "float32":
                device = "cpu"
        if device == "cuda":
            policy = self.dtype_policy or _mixed_precision.global_policy()
            if policy.compute_dtype != "float32":
                raise ValueError(f"compile: device='cuda' runs float32 products; dtype_policy "
                                 f"{policy.name!r} is for the CPU")
        try:
            self._engine.set_device(device)
            self._engine.device_check()
        except ValueError:
            if getattr(self, "_device_request", "cpu") != "auto":
                self._engine.set_device("cpu")
                raise
            self._engine.set_device("cpu")

    @property
    def device(self) -> str:
        """The device the model trains and predicts on ("cpu" or "cuda")."""
        return self._engine.device

    def _use_optimizer(self, opt):
        """Binds an optimizer for the manual loop (optimizer.build(model.parameters()))."""
        self._require_built("optimizer.build")
        with self._engine.structural("optimizer.build"):
            if self.optimizer is not opt:
                if self.optimizer is not None and self.optimizer._model_ref is not None \
                        and self.optimizer._model is self:
                    self.optimizer._model_ref = None
                self.optimizer = opt
                self._engine.set_optimizer(opt.native_config(), True)

    def get_compile_config(self) -> Optional[dict]:
        """The arguments compile() was last called with, as a dict.

        Returns
        -------
        dict or None
            A copy of the compile configuration (what model files store), or None before compile().
        """
        return None if not self.compiled else dict(self._compile_config)

    @property
    def metrics_names(self):
        """The names of the values evaluate() returns: "loss" first, then each compiled metric."""
        return ["loss"] + [e[0] for e in self._metric_entries]

    @property
    def metrics(self):
        """The compiled metric objects (available once the model is built and compiled)."""
        return list(self.metrics_objects)

    def reset_metrics(self) -> None:
        """Resets the state of every compiled metric (their running totals start again from zero)."""
        for m in self.metrics_objects:
            m.reset_state()

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"{what}: the model must be compiled first; call model.compile(optimizer, loss)")

    # ------------------------------------------------------------------------------ data
    def _x(self, x, name="x"):
        return _da.x_array(self, x, name)

    def _y(self, y, n, name="y"):
        return _da.y_array(self, y, n, name)

    def _loss_w(self, w, n):
        return _da.loss_weights(w, n, self._loss_weight, self.dtype)

    def _update_metrics(self, Y, pred, W):
        _cu.update_metrics(self._metric_entries, Y, pred, W)

    def _metric_logs(self, logs):
        return _cu.metric_logs(self._metric_entries, logs)

    # ------------------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, distribution=None) -> "History":
        """Trains the model for a number of epochs (Keras's semantics).

        While fit runs, the model's structure cannot change (add, pop, compile and the manual loop
        raise, from a callback or another thread); callbacks may write weights and the learning rate,
        which take effect at the step boundary where they run.

        Parameters
        ----------
        x : array-like, tuple, generator, PyDataset, dataset or DataLoader
            The inputs: a numpy array, DataFrame or nested list (with `y`), an (x, y) or (x, y, w)
            tuple, or a stream of such batches (a generator, fastnn.utils.PyDataset, tf.data-like
            dataset or torch DataLoader).
        y : array-like, optional
            The targets, required with array inputs and not given with streams.
        batch_size : int, optional
            Samples per gradient step (default 32); streams bring their own batches.
        epochs : int, default 1
            The epoch to stop at (counted from 0, so initial_epoch=2, epochs=5 runs three epochs).
        verbose : {"auto", 0, 1, 2}, default "auto"
            0 silent, 1 a progress bar, 2 one line per epoch; "auto" is 1.
        callbacks : list of fastnn.callbacks.Callback, optional
            Called at the begin and end of training, epochs and (when they ask for them) batches.
        validation_split : float, default 0.0
            A fraction in [0, 1) of the samples, taken from the end before shuffling, held out for
            validation. Array inputs only.
        validation_data : tuple or stream, optional
            (x_val, y_val), (x_val, y_val, w_val) or a stream evaluated at the end of each epoch;
            overrides validation_split.
        shuffle : bool, default True
            Shuffles the samples (array inputs) before each epoch, with the model's seed.
        class_weight : dict, optional
            {class index: weight}, multiplying the loss of the training samples of each class.
        sample_weight : array-like, optional
            One non-negative weight per training sample.
        initial_epoch : int, default 0
            The epoch to start from (to resume an earlier fit).
        steps_per_epoch : int, optional
            Caps the batches of each epoch; each epoch starts a new pass over the data.
        validation_steps : int, optional
            Caps the batches of each validation.
        validation_batch_size : int, optional
            Batch size of the validation (default: batch_size).
        validation_freq : int or list of int, default 1
            Validate every n epochs, or at the listed (1-based) epochs.
        distribution : fastnn.distributed.DataParallel, optional
            Trains data-parallel on its communicator's ranks; the default is the active
            `with DataParallel():` scope, if any (docs/DISTRIBUTED.md).

        Returns
        -------
        fastnn.callbacks.History
            Its `.history` maps "loss", each metric and their "val_" twins to per-epoch lists.
        """
        self._require_compiled("fit")
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

        val_bs = validation_batch_size or batch_size
        train, split = _da.training_data(self, x, y, sample_weight, class_weight, batch_size, steps_per_epoch,
                                         validation_split, self._loss_weight)
        dp = None
        if distribution is not None or "fastnn.distributed" in sys.modules:
            from .distributed import data_parallel as _dp
            dp = _dp.resolve(distribution)
        val = None
        try:
            if dp is not None:
                callbacks, verbose = dp._prepare_fit(self, train, batch_size, epochs, callbacks, verbose)
            if validation_data is not None:
                val = _da.validation_data_feed(self, validation_data, val_bs, validation_steps)
            elif split is not None:
                vx, vy, vw = split
                val = _da.EvalArrays(vx, vy, vw, val_bs, validation_steps)
            return self._fit_loop(train, val, epochs, initial_epoch, verbose, callbacks, shuffle, val_bs,
                                  val_epochs, validation_freq, dp)
        finally:
            train.close()
            if val is not None:
                val.close()

    def _fit_loop(self, train, val, epochs, initial_epoch, verbose, callbacks, shuffle, val_bs, val_epochs,
                  validation_freq, dp=None):
        cbks = _callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                       verbose=verbose, epochs=epochs, steps=train.steps)
        batch_hooks = cbks.wants_batch_hooks("train")
        warn_nonfinite = not any(isinstance(c, _callbacks.TerminateOnNaN) for c in cbks)
        warned = False
        engine = self._engine
        with engine.training("fit()"), (dp._sharded(engine) if dp else contextlib.nullcontext()):
            self.stop_training = False
            logs = {}
            cbks.on_train_begin()
            # BackupAndRestore resumes an interrupted fit from the epoch after its last backup.
            initial_epoch = max(initial_epoch, self.__dict__.pop("_resume_epoch", 0))
            chunk = 1  # batches per native call (data_adapter.batches_per_call)
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                cbks.on_epoch_begin(epoch)
                loss_sum, seen, step = 0.0, 0, 0
                logs = {}
                want_pred = bool(self._metric_entries)
                with train.epoch(engine, shuffle) as ep:
                    while not self.stop_training:
                        c = ep.next(1 if batch_hooks else chunk)
                        if c is None:
                            break
                        if batch_hooks:
                            cbks.on_train_batch_begin(step)
                        t0 = time.perf_counter()
                        ls, samples, batches, last, nonfinite, pred = engine.train(
                            c.X, c.Y, c.WL, c.perm, c.batch_size, c.first, c.count, want_pred, loss_sum)
                        dt = time.perf_counter() - t0
                        loss_sum = ls  # the native sum continues across chunks: chunking never changes it
                        seen += samples
                        if pred is not None:
                            Yc, Wc = c.rows(c.first * c.batch_size, samples)
                            self._update_metrics(Yc, pred, Wc)
                        step += batches
                        logs = self._metric_logs({"loss": loss_sum / max(seen, 1)})
                        if nonfinite and warn_nonfinite and not warned:
                            warnings.warn(f"fit: the loss became NaN or infinite in epoch {epoch + 1}; training "
                                          "continues (add fastnn.callbacks.TerminateOnNaN() to stop)",
                                          RuntimeWarning, stacklevel=3)
                            warned = True
                        if batch_hooks:
                            cbks.on_train_batch_end(step - 1, logs)
                        cbks.on_train_chunk_end(step, logs)
                        if not batch_hooks:
                            chunk = _da.batches_per_call(c.batch_size, None, previous=chunk, batches=batches,
                                                         seconds=dt)
                            ep.hint(chunk)
                if ep.ran_out and step == 0 and epoch == initial_epoch:
                    raise ValueError(f"fit: the {_da.describe(train.data)} yielded no batches")
                if ep.ran_out:
                    warnings.warn("fit: the input ran out of data; training stops. A generator or iterator is "
                                  "read once: give steps_per_epoch and make it yield at least "
                                  "steps_per_epoch * epochs batches (or pass a re-iterable dataset)" if step == 0
                                  else f"fit: the input ran out of data after {step} of {train.steps} batches "
                                  f"in epoch {epoch + 1}; make it yield at least steps_per_epoch * epochs "
                                  "batches", UserWarning, stacklevel=3)
                    if step == 0:
                        self.stop_training = True
                        break
                epoch_logs = dict(logs)
                do_val = val is not None and (
                    (val_epochs is None and (epoch + 1) % validation_freq == 0) or
                    (val_epochs is not None and (epoch + 1) in val_epochs))
                if do_val:
                    cbks.on_test_begin()
                    vlogs = self._evaluate_data(val, val_bs, cbks=cbks, allow_empty=True)
                    cbks.on_test_end(vlogs or {})
                    if vlogs is None:
                        warnings.warn(f"fit: validation_data ran out of data in epoch {epoch + 1} (a generator is "
                                      "read once; give validation_steps and one that repeats, or a re-iterable "
                                      "dataset); no validation for this epoch", UserWarning, stacklevel=3)
                    else:
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
        return _da.rows_per_call(batch_size, self._engine.flops_per_row)

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
        engine = self._engine
        n = X.shape[0]
        WL = self._loss_w(W, n)
        entries = self._fresh_metric_entries()
        want_pred = bool(entries)
        batch_size = batch_size or 32
        per_batch = cbks is not None and cbks.wants_batch_hooks("test")
        chunk = batch_size if per_batch or n <= batch_size else self._rows_per_call(batch_size)
        per_sample = np.empty(n, dtype=np.float64)
        reg = engine.regularization_loss()
        logs = {}
        for start in range(0, n, chunk):
            end = min(n, start + chunk)
            if per_batch:
                cbks.on_test_batch_begin(start // batch_size)
            _s, pred, per = engine.evaluate(X[start:end], Y[start:end], None if WL is None else WL[start:end],
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

    def _evaluate_data(self, data, batch_size=None, cbks=None, allow_empty=False):
        """Loss and metrics over EvalArrays or one pass of a StreamFeed."""
        if isinstance(data, _da.EvalArrays):
            X, Y, W = data.arrays()
            return self._evaluate_arrays(X, Y, W, batch_size=data.batch_size, cbks=cbks)
        return self._evaluate_stream(data, cbks, allow_empty)

    def _evaluate_stream(self, feed, cbks=None, allow_empty=False):
        """As _evaluate_arrays, over streamed blocks: the per-sample losses are kept in one buffer and
        summed as the in-memory path sums them, so both give the same bits."""
        engine = self._engine
        entries = self._fresh_metric_entries()
        want_pred = bool(entries)
        per_batch = cbks is not None and cbks.wants_batch_hooks("test")
        reg = engine.regularization_loss()
        per_sample = np.empty(1024, dtype=np.float64)
        end = 0
        logs = {}
        with feed.epoch(engine, False) as ep:
            while True:
                c = ep.next(1 if per_batch else 1 << 30)
                if c is None:
                    break
                if per_batch:
                    cbks.on_test_batch_begin(ep.batches - 1)
                _s, pred, per = engine.evaluate(c.X, c.Y, c.WL, want_pred)
                rows = c.X.shape[0]
                if end + rows > per_sample.size:
                    per_sample = np.resize(per_sample, max(2 * per_sample.size, end + rows))
                per_sample[end:end + rows] = per
                end += rows
                if pred is not None:
                    for (_name, m, weighted) in entries:
                        m.update_state(c.Y, pred, c.W if weighted else None)
                if cbks is not None:
                    logs = self._stream_eval_logs(per_sample, end, reg, entries)
                    if per_batch:
                        cbks.on_test_batch_end(ep.batches - 1, logs)
                    cbks.on_test_chunk_end(ep.batches, logs)
        if end == 0:
            if allow_empty:
                return None
            raise ValueError(f"{feed.what}: the {_da.describe(feed.data)} yielded no batches")
        return self._stream_eval_logs(per_sample, end, reg, entries)

    @staticmethod
    def _stream_eval_logs(per_sample, end, reg, entries):
        logs = {"loss": float(np.sum(per_sample[:end])) / end + reg}
        for (name, m, _w) in entries:
            logs[name] = float(m.result())
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False) -> Any:
        """Computes the loss and the compiled metrics on the given data, in inference mode.

        Parameters
        ----------
        x : array-like, tuple, generator, PyDataset, dataset or DataLoader
            The kinds fit() takes.
        y : array-like, optional
            The targets, with array inputs.
        batch_size : int, optional
            Samples per batch (default 32).
        verbose : {"auto", 0, 1, 2}, default "auto"
            1 or 2 print one line; 0 is silent.
        sample_weight : array-like, optional
            One weight per sample, used by the loss and the weighted metrics.
        steps : int, optional
            Caps the batches read.
        callbacks : list of fastnn.callbacks.Callback, optional
            Receive the test hooks (on_test_begin, on_test_batch_end, ...).
        return_dict : bool, default False
            Returns {name: value} instead of a float or list.

        Returns
        -------
        float, list of float or dict
            The loss alone when no metrics were compiled, else [loss, metric, ...] in metrics_names
            order, or a dict with return_dict=True.
        """
        self._require_compiled("evaluate")
        batch_size = positive_int("batch_size", 32 if batch_size is None else batch_size)
        steps = positive_int("steps", steps, allow_none=True)
        verbose = verbose_level(verbose)
        data = _da.evaluation_data(self, x, y, sample_weight, batch_size, steps, "evaluate")
        try:
            if isinstance(data, _da.EvalArrays):
                X, Y, W = data.arrays()
                n_steps = (X.shape[0] + data.batch_size - 1) // data.batch_size
            else:
                n_steps = data.steps
            cbks = _callbacks.CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                                           verbose=verbose, epochs=1, steps=n_steps)
            cbks.on_test_begin()
            if isinstance(data, _da.EvalArrays):
                logs = self._evaluate_arrays(X, Y, W, data.batch_size, cbks=cbks)
            else:
                logs = self._evaluate_stream(data, cbks)
            cbks.on_test_end(logs)
        finally:
            data.close()
        return self._format_logs(logs, return_dict)

    # ------------------------------------------------------------------------------ predict
    def predict(self, x: Any, batch_size: Optional[int] = None, verbose: Any = "auto", steps: Optional[int] = None,
                callbacks: Any = None) -> np.ndarray:
        """Computes the model's outputs for the given inputs.

        Rows are independent: predict(x)[i] equals predict(x[i:i+1]) bitwise, whatever the batch size
        and the thread count.

        Parameters
        ----------
        x : array-like, generator, PyDataset, dataset or DataLoader
            The inputs, or a stream of batches (x, (x,), (x, y) or (x, y, w); only x is used).
        batch_size : int, optional
            Rows per native call (default 32); it does not change the results.
        verbose : {"auto", 0, 1, 2}, default "auto"
            1 shows a progress bar; 0 and 2 are silent.
        steps : int, optional
            Caps the batches read from a stream.
        callbacks : list of fastnn.callbacks.Callback, optional
            Receive the predict hooks.

        Returns
        -------
        numpy.ndarray
            The outputs, shape (n, units), in the model's dtype.
        """
        engine = self._engine
        if (verbose is False or (type(verbose) is int and verbose == 0)) and batch_size is None \
                and steps is None and callbacks is None and type(x) is np.ndarray and x.ndim == 2 \
                and 0 < x.shape[0] <= 32 and x.dtype == self.dtype and x.flags.c_contiguous and engine.built \
                and self._input_shape is not None and len(self._input_shape) == 1 \
                and x.shape[1] == self._input_shape[0] and np.isfinite(x).all():
            # One batch of the model's own dtype and shape, no callbacks: the validation below would
            # accept it unchanged and make one engine call, at several times the engine's cost.
            return engine.predict(x)
        batch_size = positive_int("batch_size", 32 if batch_size is None else batch_size)
        steps = positive_int("steps", steps, allow_none=True)
        verbose = verbose_level(verbose)
        data = _da.evaluation_data(self, x, None, None, batch_size, steps, "predict", need_y=False)
        try:
            if isinstance(data, _da.EvalArrays):
                return self._predict_array(data.arrays()[0], data.batch_size, verbose, callbacks)
            return self._predict_stream(data, verbose, callbacks)
        finally:
            data.close()

    def _predict_stream(self, feed, verbose, callbacks):
        engine = self._engine
        cbks = None
        if callbacks is not None or verbose:
            cbks = _callbacks.CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                                           verbose=verbose, epochs=1, steps=feed.steps)
            cbks.on_predict_begin()
        per_batch = cbks is not None and cbks.wants_batch_hooks("predict")
        outs = []
        with feed.epoch(engine, False) as ep:
            while True:
                c = ep.next(1 if per_batch else 1 << 30)
                if c is None:
                    break
                if per_batch:
                    cbks.on_predict_batch_begin(ep.batches - 1)
                out = engine.predict(c.X)
                outs.append(out)
                if per_batch:
                    cbks.on_predict_batch_end(ep.batches - 1, {"outputs": out})
                if cbks is not None:
                    cbks.on_predict_chunk_end(ep.batches)
        if not outs:
            raise ValueError(f"predict: the {_da.describe(feed.data)} yielded no batches")
        if cbks is not None:
            cbks.on_predict_end()
        return outs[0] if len(outs) == 1 else np.concatenate(outs, axis=0)

    def _predict_array(self, X, batch_size, verbose, callbacks):
        engine = self._engine
        n = X.shape[0]
        n_steps = (n + batch_size - 1) // batch_size
        cbks = None
        if callbacks is not None or verbose:
            cbks = _callbacks.CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                                           verbose=verbose, epochs=1, steps=n_steps)
            cbks.on_predict_begin()
        per_batch = cbks is not None and cbks.wants_batch_hooks("predict")
        chunk = batch_size if per_batch or n <= batch_size else self._rows_per_call(batch_size)
        if n <= chunk and not per_batch:
            out = engine.predict(X)
            if cbks is not None:
                cbks.on_predict_chunk_end(n_steps)
        else:
            out = np.empty((n, engine.output_dim), dtype=self.dtype)
            for start in range(0, n, chunk):
                end = min(n, start + chunk)
                if per_batch:
                    cbks.on_predict_batch_begin(start // batch_size)
                out[start:end] = engine.predict(X[start:end])
                if per_batch:
                    cbks.on_predict_batch_end(start // batch_size, {"outputs": out[start:end]})
                if cbks is not None:
                    cbks.on_predict_chunk_end((end + batch_size - 1) // batch_size)
        if cbks is not None:
            cbks.on_predict_end()
        return out

    def predict_on_batch(self, x: Any) -> np.ndarray:
        """Computes the outputs for one batch (predict with verbose=0, and a shortcut for numpy input).

        Parameters
        ----------
        x : array-like
            One batch of inputs.

        Returns
        -------
        numpy.ndarray
            The outputs, shape (n, units).
        """
        engine = self._engine
        if engine.built and type(x) is np.ndarray and x.dtype == self.dtype and x.ndim == 2 \
                and x.flags.c_contiguous and self._input_shape is not None and len(self._input_shape) == 1 and x.shape[1] == self._input_shape[0] \
                and x.shape[0] > 0 and np.isfinite(x).all():
            return engine.predict(x)
        return self.predict(x, verbose=0)

    # ------------------------------------------------------------------------------ batches
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: Optional[dict] = None,
                       return_dict: bool = False) -> Any:
        """Makes one optimizer step on one batch.

        Parameters
        ----------
        x : array-like
            The batch's inputs.
        y : array-like
            The batch's targets (required).
        sample_weight : array-like, optional
            One weight per sample.
        class_weight : dict, optional
            {class index: weight} applied to the batch's samples.
        return_dict : bool, default False
            Returns {name: value} instead of a float or list.

        Returns
        -------
        float, list of float or dict
            The batch's loss (and the metrics on that batch), as evaluate() formats them.
        """
        self._require_compiled("train_on_batch")
        if y is None:
            raise ValueError("train_on_batch: y is required")
        X = self._x(x)
        n = X.shape[0]
        Y = self._y(y, n)
        W = _da.sample_weights(sample_weight, n, self.dtype)
        W = _da.combine(W, _da.class_weights(self, Y, class_weight))
        want = bool(self._metric_entries)
        _ls, _samples, _b, last, _nf, pred = self._engine.train(X, Y, self._loss_w(W, n), None, n, 0, 1, want)
        self.reset_metrics()
        if pred is not None:
            self._update_metrics(Y, pred, W)
        logs = self._metric_logs({"loss": float(last)})
        return self._format_logs(logs, return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        """Computes the loss and metrics on one batch, in inference mode, without training.

        Parameters
        ----------
        x : array-like
            The batch's inputs.
        y : array-like
            The batch's targets (required).
        sample_weight : array-like, optional
            One weight per sample.
        return_dict : bool, default False
            Returns {name: value} instead of a float or list.

        Returns
        -------
        float, list of float or dict
            The loss (and metrics), as evaluate() formats them.
        """
        self._require_compiled("test_on_batch")
        if y is None:
            raise ValueError("test_on_batch: y is required")
        X = self._x(x)
        Y = self._y(y, X.shape[0])
        W = _da.sample_weights(sample_weight, X.shape[0], self.dtype)
        return self._format_logs(self._evaluate_arrays(X, Y, W, X.shape[0]), return_dict)

    def _format_logs(self, logs, return_dict):
        if return_dict:
            return logs
        vals = [logs[k] for k in self.metrics_names]
        return vals[0] if len(vals) == 1 else vals
