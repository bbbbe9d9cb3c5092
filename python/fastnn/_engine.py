"""NativeNet: the one door to a model's native network.

Every read or write of native state (weights, gradients, optimizer state, the generator, the
training loop, the manual loop's cached pass) goes through a NativeNet. It holds:

- the native handle (rebuilt when the model's structure changes; None while unbuilt),
- a reader-writer lock: shared for inference and snapshots, exclusive for anything that writes, so
  a snapshot (get_weights, save, pickle, deepcopy) always sees a step boundary, never half a chunk,
- the training mark: while fit() runs, changes to the structure (add, pop, compile, a new
  optimizer, the manual loop) are refused from any thread, and value writes (set_weights, assign,
  the learning rate, freezing) are refused from other threads; the fitting thread's callbacks may
  write values, which take effect at the step boundary where they run (Keras's EarlyStopping
  restores weights this way),
- the manual loop's state: which forward pass the engine's buffers hold, which loss's gradient sits
  in them, and whether backward() already consumed the pass.

The engine's own mutex keeps each native call memory-safe; this class keeps the sequence of calls
meaningful. Nothing here knows about layers or models beyond the ModelSpec it is built from.

Device: on device="cuda" (compile(device=...)) training chunks, predict and evaluate run on a
device mirror (fastnn._cuda.DeviceNet) built from the same layer descriptions, loss and optimizer
configuration. The CPU network stays the one copy every other call reads and writes: the mirror
takes its parameters and optimizer state when they changed on the host (a generation count), and
hands them back after each training chunk, so weights, snapshots, saving and the manual loop see
the same values on either device. The training data are uploaded once per fit() (streamed in
chunks when larger than the device's budget). The manual loop (model(x), the loss, backward(),
optimizer.step()) and input_gradient run on the mirror too; after each backward() and step() the
gradients, parameters and optimizer state are copied back into the CPU network, and gradients
written on the host (a generation count of their own) are sent before the next device call.
"""
from __future__ import annotations

import contextlib
import itertools
import threading

import numpy as np

from . import _core, _fork

_LAYER_KINDS = ("dense", "activation", "dropout", "batch_normalization", "layer_normalization", "normalization",
                "rescaling", "gaussian_noise", "gaussian_dropout", "alpha_dropout", "unit_normalization", "prelu")


class _RWLock:
    """Shared/exclusive lock; a waiting writer holds new readers back, so a fit chunk is never
    starved by a stream of predict calls from other threads. Not reentrant: NativeNet never takes
    it twice on one thread."""

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_shared(self):
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_shared(self):
        with self._cond:
            self._readers -= 1
            if self._readers == 0 and self._writers_waiting:  # only writers wait for readers
                self._cond.notify_all()

    @contextlib.contextmanager
    def shared(self):
        self.acquire_shared()
        try:
            yield
        finally:
            self.release_shared()

    @contextlib.contextmanager
    def exclusive(self):
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _add_layer(net, kind: str, attrs: dict) -> None:
    """The one place that turns a layer description into a native layer (the bindings' factory
    takes (kind, attrs) in the same form)."""
    if kind not in _LAYER_KINDS:
        raise ValueError(f"native layer kind: expected one of {_LAYER_KINDS}, got {kind!r}")
    net.add_layer(kind, attrs)


_pass_ids = itertools.count(1)


def _prod(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


class NativeNet:
    """The native network of one model, its lock, its state flags and the manual loop's state."""

    def __init__(self, dtype: str):
        self.dtype = np.dtype(dtype).name
        self._h = None                     # the native handle
        self._lock = _RWLock()
        self._structure = threading.RLock()  # held across a structural change (add, pop, compile)
        self._running = None               # (what, thread) while fit() runs
        self.compiled = False
        self.generation = 0                # bumped each time the handle is replaced or dropped
        self._n_native = 0
        # manual loop
        self._pass = 0                     # id of the forward pass the engine's buffers hold (0: none)
        self._pass_gone = "no forward pass has run yet"
        self._pass_backwards = 0           # backward() calls on the current pass
        self._pass_retained = False        # the last backward() asked to keep the pass (retain_graph)
        self._loss_in_buffer = None        # id of the loss whose gradient sits in the engine's buffer
        self._native_of: list[int | None] = []   # engine layer index of each model layer (None: none)
        # device
        self.device = "cpu"
        self._natives: list = []                 # the (kind, attrs) the network was built from
        self._seed = 0
        self._loss_spec = None
        self._opt_config = None
        self._dev = None                   # fastnn._cuda.DeviceNet mirror (device="cuda")
        self._host_gen = 0                 # bumped by every write of values on the host
        self._dev_gen = -1                 # the host generation the mirror holds
        self._dev_data = None              # (X, Y, W) on the device
        self._dev_perm = None              # row order on the device
        self._dev_lock = threading.Lock()  # one device call at a time (the mirror's buffers are shared)
        self._grad_gen = 0                 # bumped by every write of gradients on the host
        self._dev_grad_gen = -1            # the host gradient generation the mirror holds
        _fork.track(self)

    # ------------------------------------------------------------------------------ state
    @property
    def built(self) -> bool:
        return self._h is not None

    def _handle(self, what):
        h = self._h
        if h is None:
            raise ValueError(f"{what}: the model is not built yet; call build() or fit() first, or give "
                             "the first layer an input shape")
        return h

    @property
    def input_dim(self) -> int:
        return int(self._handle("input_dim").input_dim)

    @property
    def output_dim(self) -> int:
        return int(self._handle("output_dim").output_dim)

    @property
    def num_native_layers(self) -> int:
        return self._n_native

    @property
    def flops_per_row(self) -> float:
        return float(self._handle("flops_per_row").flops_per_row)

    @property
    def iterations(self) -> int:
        with self._lock.shared():
            return int(self._handle("iterations").iterations)

    def running(self):
        """What is running on this network ("fit()"), or None."""
        r = self._running
        return None if r is None else r[0]

    # ------------------------------------------------------------------------------ guards
    def _refuse(self, what, structural):
        r = self._running
        if r is None:
            return
        running, thread = r
        if structural or threading.current_thread() is not thread:
            where = "in a callback of it" if threading.current_thread() is thread else f"in thread {thread.name!r}"
            kind = "change the network it trains" if structural else "write weights it is training"
            raise RuntimeError(f"{what}: {running} is running on this model ({what} was called {where}); it "
                               f"would {kind}. Wait for {running} to return, or stop it first "
                               "(model.stop_training = True in a callback)")

    @contextlib.contextmanager
    def structural(self, what):
        """Held across a change of structure or configuration; refused while fit() runs."""
        with self._structure:
            self._refuse(what, True)
            yield

    @contextlib.contextmanager
    def steady(self):
        """Held while the structure is read (a spec, a snapshot of every variable, a file): no add,
        pop or rebuild from another thread interleaves with it. Allowed while fit() runs (fit never
        changes the structure)."""
        with self._structure:
            yield

    @contextlib.contextmanager
    def training(self, what="fit()"):
        """Marks `what` as running for its duration; structural changes wait for the mark to be set
        or cleared, never interleave with it."""
        with self._structure:
            if self._running is not None:
                self._refuse(what, True)
            self._running = (what, threading.current_thread())
        with self._lock.exclusive():
            self._invalidate_pass(f"{what} ran since this forward pass")
            self._dev_data = None  # a fit uploads its data once: the caller's arrays may have changed
        try:
            yield
        finally:
            with self._structure:
                self._running = None

    # ------------------------------------------------------------------------------ build
    def build(self, spec, natives, seed: int):
        """Creates the native network from a ModelSpec and its layers' native descriptions
        [(kind, attrs), or (None, None) for a layer without a native counterpart such as Flatten],
        checks the engine's variables against the spec's, and returns the variable table
        [(spec layer index, variable name, rows, cols, trainable)] in get_weights() order."""
        with self.structural("build"):
            Net = _core.NetworkF64 if self.dtype == "float64" else _core.NetworkF32
            input_dim = 1
            for d in spec.input_shape:
                input_dim *= int(d)
            native_of: list[int | None] = []
            n = 0
            try:
                net = Net(input_dim, int(seed))
                for kind, attrs in natives:
                    if kind is None:
                        native_of.append(None)
                        continue
                    _add_layer(net, kind, attrs)
                    native_of.append(n)
                    n += 1
                net.build()
            except MemoryError:
                count = spec.count_params()
                itemsize = np.dtype(self.dtype).itemsize
                raise MemoryError(f"build: expected memory for the model's {count} weights and their gradients "
                                  f"(about {2 * count * itemsize / 2**30:.3g} GiB of {self.dtype}), but the "
                                  "allocation failed") from None
            spec_index = {ni: mi for mi, ni in enumerate(native_of) if ni is not None}
            table = [(spec_index[li], name, int(rows), int(cols), bool(tr))
                     for (li, name, rows, cols, tr, _v) in net.variables()]
            expected = [(i, v.name, v.shape) for i, v in spec.variables()]
            got = [(e[0], e[1]) for e in table]
            sizes_ok = all(int(e[2]) * int(e[3]) == _prod(x[2]) for e, x in zip(table, expected))
            if got != [(i, name) for i, name, _s in expected] or not sizes_ok:
                raise RuntimeError(f"build: the engine's variables {[(e[0], e[1], e[2], e[3]) for e in table]} "
                                   f"do not match the model's description {expected}")
            with self._lock.exclusive():
                self._h = net
                self._n_native = n
                self._native_of = native_of
                self._natives = [(k, a) for k, a in natives if k is not None]
                self._seed = int(seed)
                self._drop_device()
                self.generation += 1
                self._invalidate_pass("the model was rebuilt since this forward pass")
            return table

    def save_handle(self):
        """The current network, for restore_handle when a structural change fails half-way."""
        return (self._h, self._n_native, getattr(self, "_native_of", []), self.generation)

    def restore_handle(self, saved):
        with self._lock.exclusive():
            self._h, self._n_native, self._native_of, self.generation = saved
            self._drop_device()
            self._invalidate_pass("the model was changed since this forward pass")

    def release(self):
        """Drops the native network (the model lost its last layer or its input shape)."""
        with self.structural("pop"):
            with self._lock.exclusive():
                self._h = None
                self._n_native = 0
                self._drop_device()
                self.generation += 1
                self._invalidate_pass("the model was changed since this forward pass")

    def reset_after_fork(self):
        self._lock = _RWLock()
        self._structure = threading.RLock()
        self._running = None
        self._dev = None  # a CUDA context does not survive fork()
        self._dev_lock = threading.Lock()
        self.device = "cpu" if self.device == "cuda" else self.device
        h = self._h
        if h is not None:
            h.reset_after_fork()

    # ------------------------------------------------------------------------------ weights
    def get_variable(self, index, grad=False):
        with self._lock.shared():
            return self._handle("get_variable").get_variable(int(index), bool(grad))

    def set_variable(self, index, value, grad=False):
        with self._lock.exclusive():
            self._refuse("assign", False)
            self._handle("set_variable").set_variable(int(index), np.ascontiguousarray(value, self.dtype), bool(grad))
            if grad:
                self._grad_gen += 1
            else:
                self._host_gen += 1

    def get_variables(self, count):
        """Every variable, read under one lock (a step boundary)."""
        with self._lock.shared():
            h = self._handle("get_weights")
            return [h.get_variable(i, False) for i in range(count)]

    def set_variables(self, arrays, what="set_weights"):
        """Writes every variable under one lock: no step sees half of them."""
        with self._lock.exclusive():
            self._refuse(what, False)
            h = self._handle(what)
            for i, a in enumerate(arrays):
                h.set_variable(i, np.ascontiguousarray(a, self.dtype), False)
            self._host_gen += 1

    def arena_size(self) -> int:
        with self._lock.shared():
            return int(self._handle("arena").arena(False).size)

    def arena(self):
        """A copy of the parameter arena (variables in get_weights() order, each flattened)."""
        with self._lock.shared():
            return self._handle("arena").arena(False)

    def set_arena(self, flat, what="load_weights"):
        with self._lock.exclusive():
            self._refuse(what, False)
            self._handle(what).set_arena(np.ascontiguousarray(flat, self.dtype))
            self._host_gen += 1

    def set_layer_trainable(self, model_layer_index, trainable):
        with self._lock.exclusive():
            h = self._h
            if h is None:
                return
            ni = self._native_of[model_layer_index]
            if ni is None:
                return
            self._refuse("trainable", False)
            h.set_layer_trainable(ni, bool(trainable))
            self._drop_device()

    def snapshot(self, count, with_optimizer):
        """Weights, optimizer state, step count and generator state, all read under one lock."""
        with self._lock.shared():
            h = self._handle("save")
            return {"weights": [h.get_variable(i, False) for i in range(count)],
                    "optimizer_state": h.optimizer_state() if with_optimizer else None,
                    "iterations": int(h.iterations), "optimizer_scalar": float(h.optimizer_scalar),
                    "rng": [int(s) for s in h.rng_state()]}

    # ------------------------------------------------------------------------------ optimizer and loss
    def configure(self, loss_spec, optimizer_config, reset_optimizer=True, matmul_precision="float32"):
        with self.structural("compile"):
            with self._lock.exclusive():
                h = self._handle("compile")
                h.set_matmul_precision(matmul_precision)
                h.set_loss(loss_spec)
                h.set_optimizer(optimizer_config, bool(reset_optimizer))
                self._loss_spec, self._opt_config = loss_spec, dict(optimizer_config)
                self._drop_device()
                self._invalidate_pass("the model was compiled since this forward pass")

    def set_optimizer(self, optimizer_config, reset=True):
        with self.structural("optimizer.build"):
            with self._lock.exclusive():
                self._handle("optimizer.build").set_optimizer(optimizer_config, bool(reset))
                self._opt_config = dict(optimizer_config)
                self._drop_device()

    def set_objective(self, per_weight_sum=False, loss_scale=1.0, report_scale=1.0):
        """How training batches normalise their loss and penalties (trainer.h: Objective): Keras's by
        default; scikit-learn's MLPs divide both by the batch's weight sum."""
        with self._lock.exclusive():
            self._refuse("objective", False)
            self._handle("objective").set_objective(bool(per_weight_sum), float(loss_scale),
                                                    float(report_scale))
            self._objective = (bool(per_weight_sum), float(loss_scale), float(report_scale))
            self._drop_device()

    def set_learning_rate_schedule(self, schedule):
        with self._lock.exclusive():
            self._refuse("learning_rate", False)
            self._handle("learning_rate").set_learning_rate_schedule(schedule)
            if self._opt_config is not None:
                self._opt_config = dict(self._opt_config, schedule=schedule)
            self._drop_device()

    def matmul_precision(self) -> str:
        with self._lock.shared():
            return str(self._handle("matmul_precision").matmul_precision())

    def current_learning_rate(self) -> float:
        with self._lock.shared():
            return float(self._handle("learning_rate").current_learning_rate())

    def optimizer_state(self):
        with self._lock.shared():
            return self._handle("optimizer state").optimizer_state()

    def set_optimizer_state(self, state, iterations, scalar):
        with self._lock.exclusive():
            self._refuse("load", False)
            self._handle("optimizer state").set_optimizer_state(np.ascontiguousarray(state, self.dtype),
                                                                 int(iterations), float(scalar))
            self._host_gen += 1

    def set_rng_state(self, words):
        with self._lock.exclusive():
            self._handle("generator state").set_rng_state(tuple(int(w) for w in words))

    def training_state(self):
        """Parameter arena, optimizer state, step count, optimizer scalar and generator words, read
        under one lock (what data parallelism broadcasts from rank 0)."""
        with self._lock.shared():
            h = self._handle("training state")
            return (h.arena(False).copy(), h.optimizer_state(), int(h.iterations), float(h.optimizer_scalar),
                    [int(s) for s in h.rng_state()])

    def set_training_state(self, arena, optimizer_state, iterations, scalar, rng_words):
        with self._lock.exclusive():
            h = self._handle("training state")
            h.set_arena(np.ascontiguousarray(arena, self.dtype))
            h.set_optimizer_state(np.ascontiguousarray(optimizer_state, self.dtype), int(iterations), float(scalar))
            h.set_rng_state(tuple(int(w) for w in rng_words))

    def set_sharding(self, shard_rows, comm):
        """Sharded training steps (fastnn.distributed): shard_rows 0 turns them off; comm is the
        communicator the engine's one exchange per step calls, None on one process."""
        with self._lock.exclusive():
            self._handle("fit").set_sharding(int(shard_rows), comm)

    def regularization_loss(self) -> float:
        with self._lock.shared():
            return float(self._handle("regularization_loss").regularization_loss())

    # ------------------------------------------------------------------------------ training and inference
    def shuffle(self, n):
        with self._lock.exclusive():
            return self._handle("fit").shuffle(int(n))

    def train(self, X, Y, W, perm, batch_size, first, count, want_pred, loss_sum=0.0):
        """One chunk of `count` optimizer steps; fit()'s own thread only while fit() runs."""
        with self._lock.exclusive():
            self._refuse("train_on_batch", False)
            self._invalidate_pass("a training step ran since this forward pass")
            h = self._handle("fit")
            # A batch larger than the data is the data (Keras): the bindings never see a size
            # beyond the rows (2**64 would not even convert); one batch either way, same result.
            batch_size = min(int(batch_size), max(int(X.shape[0]), 1))
            if self.device == "cuda" and self._n_native:
                return self._train_on_device(h, X, Y, W, perm, batch_size, first, count, want_pred, loss_sum)
            self._host_gen += 1
            return h.train(X, Y, W, perm, batch_size, first, count, want_pred, loss_sum)

    def predict(self, X):
        # The lock by hand, not through the context manager: a small predict is a few microseconds.
        lock = self._lock
        lock.acquire_shared()
        try:
            h = self._handle("predict")
            if self.device == "cuda" and self._n_native:
                with self._dev_lock:
                    return self._device_net(h).predict(X)
            return h.predict(X)
        finally:
            lock.release_shared()

    def evaluate(self, X, Y, W, want_pred):
        with self._lock.shared():
            h = self._handle("evaluate")
            if self.device == "cuda" and self._n_native:
                with self._dev_lock:
                    return self._device_net(h).evaluate(X, Y, W, want_pred)
            return h.evaluate(X, Y, W, want_pred)

    def input_gradient(self, X, output_weights):
        """d sum(output * output_weights) / dX in inference mode (no parameter gradients)."""
        with self._lock.shared():
            h = self._handle("input_gradient")
            if self.device == "cuda" and self._n_native:
                with self._dev_lock:
                    return self._device_net(h).input_gradient(X, output_weights)
            return h.input_gradient(X, output_weights)

    # ------------------------------------------------------------------------------ device
    def set_device(self, device):
        """"cpu" or "cuda" (already resolved); the mirror is built on first use."""
        with self.structural("compile"):
            with self._lock.exclusive():
                if device == "cuda" and self.dtype != "float32":
                    raise ValueError(f"compile: device='cuda' trains float32 models; this model is {self.dtype}")
                self.device = device
                self._drop_device()

    def _drop_device(self):
        self._dev = None
        self._dev_gen = -1
        self._dev_grad_gen = -1
        self._dev_data = None
        self._dev_perm = None

    def device_check(self):
        """Builds the device mirror now (compile(device='cuda') reports an unsupported model at once)."""
        if self.device == "cuda" and self._h is not None and self._n_native and self._loss_spec is not None:
            with self._lock.shared(), self._dev_lock:
                self._device_net(self._h)

    def _device_net(self, h):
        """The device mirror, up to date with the host's values."""
        if self._dev is None:
            from . import cuda

            mod = cuda.module()
            if self._loss_spec is None or self._opt_config is None:
                raise RuntimeError("device='cuda': the model is not compiled")
            if getattr(self, "_objective", (False, 1.0, 1.0)) != (False, 1.0, 1.0):
                raise ValueError("device='cuda' normalises the loss as Keras does; this network's objective "
                                 f"{self._objective} (per-weight-sum / scaled) runs on device='cpu'")
            trainable = [bool(v[4]) for v in h.variables()]
            self._dev = mod.DeviceNet(int(h.input_dim), list(self._natives), trainable, self._loss_spec,
                                      self._opt_config, self._seed)
            self._dev_gen = -1
            self._dev_grad_gen = -1
        if self._dev_gen != self._host_gen:
            self._dev.set_params(h.arena(False))
            self._dev.set_optimizer_state(h.optimizer_state(), int(h.iterations), float(h.optimizer_scalar))
            self._dev_gen = self._host_gen
        return self._dev

    def _train_on_device(self, h, X, Y, W, perm, batch_size, first, count, want_pred, loss_sum):
        with self._dev_lock:
            dev = self._device_net(h)
            data = self._dev_data
            if data is None or data[0] is not X or data[1] is not Y or data[2] is not W:
                dev.set_data(X, Y, W)
                self._dev_data = (X, Y, W)
                self._dev_perm = None
            if perm is not None and self._dev_perm is not perm:
                dev.set_index(perm)
                self._dev_perm = perm
            out = dev.train(int(batch_size), int(first), int(count), perm is None, bool(want_pred), float(loss_sum))
            # The host copy follows the device after every chunk: every other reader sees it.
            h.set_arena(dev.params())
            state, iterations, scalar = dev.optimizer_state()
            h.set_optimizer_state(state, int(iterations), float(scalar))
            self._host_gen += 1
            self._dev_gen = self._host_gen
            self._dev_grad_gen = -1  # the chunk's steps overwrote the device's gradients
            return out

    def _grads_to_device(self, h, dev):
        if self._dev_grad_gen != self._grad_gen:
            dev.set_grads(h.arena(True))
            self._dev_grad_gen = self._grad_gen

    def _grads_from_device(self, h, dev):
        h.set_arena(dev.grads(), True)  # the device keeps the host's arena layout (set_grads)
        self._grad_gen += 1
        self._dev_grad_gen = self._grad_gen

    def _on_device(self):
        return self.device == "cuda" and self._n_native

    # ------------------------------------------------------------------------------ manual loop
    def _invalidate_pass(self, why):
        if self._pass:
            self._pass = 0
            self._pass_gone = why
        self._loss_in_buffer = None

    def _check_pass(self, what, pass_id):
        if pass_id != self._pass:
            if self._pass == 0:
                raise RuntimeError(f"{what}: this output's forward pass is gone ({self._pass_gone}); run "
                                   "model(x) again")
            raise RuntimeError(f"{what}: the model ran another forward pass since this output was computed "
                               "(perhaps in another thread), so this output is not from its latest pass; call "
                               "the loss and backward() right after model(x)")

    def forward(self, X, training):
        """Forward pass whose activations stay in the engine for backward(); returns (output, pass id)."""
        with self._lock.exclusive():
            self._refuse("model(x)", True)
            h = self._handle("model(x)")
            if self._on_device():
                with self._dev_lock:
                    out = self._device_net(h).forward(X, bool(training))
            else:
                out = h.forward_cached(X, bool(training)) if self._n_native else np.array(X, dtype=self.dtype)
            self._pass = next(_pass_ids)
            self._pass_backwards = 0
            self._loss_in_buffer = None
            return out, self._pass

    def loss(self, pass_id, loss_spec, Y, W, loss_id):
        """The loss of the cached pass, its gradient left in the engine's buffer (fused with the last
        activation where the pair allows, as fit() does). None when the network has no native layer
        (the caller computes the value from the output itself)."""
        with self._lock.exclusive():
            self._refuse("loss", True)
            self._check_pass("loss", pass_id)
            if not self._n_native:
                return None
            if self._on_device():
                with self._dev_lock:
                    value = self._device_net(self._h).loss(loss_spec, Y, W)
            else:
                value = self._h.loss_cached(loss_spec, Y, W, True)
            self._loss_in_buffer = loss_id
            return value

    def backward(self, pass_id, loss_id, dout_fn, retain_graph):
        """Accumulates the gradients of one loss into the gradient arena. The first backward() of a
        pass uses the gradient its loss left in the engine; any other (a retained pass, a sum of
        losses, an older loss) passes the loss's own output gradient, computed by dout_fn()."""
        with self._lock.exclusive():
            self._refuse("backward", True)
            self._check_pass("backward", pass_id)
            if self._pass_backwards and not self._pass_retained:
                raise RuntimeError("backward: this forward pass was already used by a backward(); run model(x) "
                                   "again, or call backward(retain_graph=True) the first time to accumulate "
                                   "the gradients of a second backward()")
            if self._n_native:
                fresh = loss_id is not None and loss_id == self._loss_in_buffer and not self._pass_backwards
                dout = None if fresh else np.ascontiguousarray(dout_fn(), self.dtype)
                if self._on_device():
                    with self._dev_lock:
                        dev = self._device_net(self._h)
                        self._grads_to_device(self._h, dev)
                        dev.backward(dout, True)
                        self._grads_from_device(self._h, dev)
                else:
                    self._h.backward_cached(dout, True)
            self._loss_in_buffer = None
            self._pass_backwards += 1
            self._pass_retained = bool(retain_graph)

    def zero_grad(self):
        with self._lock.exclusive():
            self._refuse("zero_grad", True)
            self._handle("zero_grad").zero_grad()
            self._grad_gen += 1
            if self._on_device() and self._dev is not None:
                with self._dev_lock:
                    self._dev.zero_grad()
                    self._dev_grad_gen = self._grad_gen

    def apply_gradients(self):
        with self._lock.exclusive():
            self._refuse("step", True)
            h = self._handle("step")
            if self._on_device():
                with self._dev_lock:
                    dev = self._device_net(h)
                    self._grads_to_device(h, dev)
                    dev.apply_gradients()
                    h.set_arena(dev.params())
                    state, iterations, scalar = dev.optimizer_state()
                    h.set_optimizer_state(state, int(iterations), float(scalar))
                    self._grads_from_device(h, dev)  # clipping and regularizers change them in place
                    self._host_gen += 1
                    self._dev_gen = self._host_gen
                return
            h.apply_gradients()
            self._host_gen += 1


# ---------------------------------------------------------------------------------------- optimizer state layout
def optimizer_slot_names(config: dict) -> list:
    """Names of the state slots the engine keeps for an optimizer configuration, in its order (Keras's
    names where Keras has them). The engine stores the slots one after another, each laid out like
    the parameter arena (variables in get_weights() order)."""
    kind = {0: "SGD", 1: "Adam", 2: "AdamW", 3: "RMSprop", 4: "Adagrad", 5: "Adadelta", 6: "Adamax",
            7: "Nadam", 8: "Lion"}[int(config["kind"])]
    if kind == "SGD":
        return ["momentum"] if config.get("momentum", 0) > 0 else []
    if kind in ("Adam", "AdamW"):
        return ["m", "v"] + (["vhat"] if config.get("amsgrad") else [])
    if kind == "RMSprop":
        return ["velocity"] + (["momentum"] if config.get("momentum", 0) > 0 else []) + \
            (["average_gradient"] if config.get("centered") else [])
    return {"Adagrad": ["accumulator"], "Adadelta": ["accumulated_grad", "accumulated_delta"],
            "Adamax": ["m", "u"], "Nadam": ["m", "v"], "Lion": ["m"]}[kind]


def split_optimizer_state(flat, sizes, n_slots) -> list:
    """The engine's flat optimizer state as [[slot arrays] per variable] (each slot flat)."""
    total = sum(int(s) for s in sizes)
    if flat.size != total * n_slots:
        raise ValueError(f"optimizer state: expected {n_slots} slots of {total} values, got {flat.size} values")
    out, offset = [], 0
    for s in sizes:
        out.append([flat[k * total + offset:k * total + offset + s].copy() for k in range(n_slots)])
        offset += s
    return out


def join_optimizer_state(per_variable, n_slots, dtype):
    """The inverse of split_optimizer_state."""
    slots = [[np.ravel(v[k]) for v in per_variable] for k in range(n_slots)]
    parts = [a for slot in slots for a in slot]
    return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros(0), dtype=dtype)
