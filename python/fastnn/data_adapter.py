"""Data into the shapes the native loops take: x and y cast once, sample and class weights, the
validation split, step caps, how much work each native call gets, and the adapters that stream
batches from generators, iterables, PyDatasets, tf.data-like datasets and torch DataLoaders.

In-memory data (numpy, lists, pandas, memory maps, anything with __array__) is cast once and
trained in chunks of batches indexed by a shuffled permutation. Streamed data is read by a
background thread (fastnn._prefetch) that converts each batch and joins runs of consecutive
batches of one size into one block: the native loop trains a block of k batches in one call, in
the order the stream gave them, so a stream of the rows of x in order trains bitwise like
fit(x, y, shuffle=False). A torch DataLoader over a TensorDataset (default collation, a plain
BatchSampler) is read as in-memory tensors with the loader's own sample order.

Epochs of streams follow Keras 3's EpochIterator: without steps_per_epoch an epoch is one pass;
with it, the next epoch continues the same pass, a pass that runs out starts again for re-iterable
data, and a one-shot iterator that runs out ends training with a warning.
"""
from __future__ import annotations

import collections
import itertools
import math

import numpy as np

from ._prefetch import Prefetcher
from ._validation import as_array, as_float_matrix, as_sample_weight, as_targets

#: About this much native work per call: Ctrl-C, the progress bar and callbacks stay responsive.
CHUNK_SECONDS = 0.05
_FLOPS_PER_CHUNK = 2.0e9       # inference: about CHUNK_SECONDS of work on one core
_MAX_ROWS_PER_CHUNK = 1 << 20


def batches_per_call(batch_size, flops_per_row, previous=None, batches=None, seconds=None) -> int:
    """The one rule for how many batches a native call gets: about CHUNK_SECONDS of work.

    Inference (no timing given): sized from the model's cost per row, so the same on every run.
    Training (previous, batches, seconds: the last call's size, the batches it ran and its time):
    a step costs more than its forward flops say (backward, optimizer), so the size follows the
    measured rate, growing at most 8x per call from 1. Results never depend on the size: the native
    loops sum losses and apply steps in the same order for any chunking."""
    if previous is None:
        rows = int(min(max(_FLOPS_PER_CHUNK / max(float(flops_per_row), 1.0), 1.0), float(_MAX_ROWS_PER_CHUNK)))
        return max(1, rows // batch_size)
    return max(1, min(int(previous * 8) or 1, int(CHUNK_SECONDS * batches / max(seconds, 1e-9))))


def rows_per_call(batch_size, flops_per_row) -> int:
    return batches_per_call(batch_size, flops_per_row) * batch_size


def ensure_built_for(model, x_raw, name="x"):
    """Builds an unbuilt model from its first input's shape (Keras's deferred build)."""
    if model.built:
        return
    arr = as_array(x_raw, name)
    if model._input_shape is None:
        if arr.ndim < 2:
            raise ValueError(f"x: expected a 2-D array (samples, features), got shape {arr.shape}")
        if 0 in arr.shape[1:]:
            raise ValueError(f"x: expected at least one feature, got shape {arr.shape}")
        model._input_shape = tuple(int(d) for d in arr.shape[1:])
        try:
            model.build()
        except BaseException:
            model._input_shape = None
            raise
    else:
        model.build()


def x_array(model, x, name="x"):
    x = unwrap_dict(x, name)
    ensure_built_for(model, x, name)
    return as_float_matrix(x, name, model.dtype, model._engine.input_dim, model._input_shape)


def y_array(model, y, n, name="y"):
    y = unwrap_dict(y, name)
    out_dim = model._engine.output_dim
    if model.loss.kind == "sparse_categorical_crossentropy":
        check_exact_labels(y, name, out_dim, model.dtype)
    return as_targets(y, name, n, model.loss, out_dim, model.dtype)


def check_exact_labels(y, name, out_dim, dtype):
    """Sparse labels are carried in the model's float dtype; above 2^24 (float32) or 2^53 (float64)
    not every integer is representable, and a label would silently become its neighbour class.
    Only models with that many classes can meet such labels (larger ones are refused as unknown)."""
    limit = 2 ** (np.finfo(dtype).nmant + 1)
    if out_dim <= limit:
        return
    arr = as_array(y, name).reshape(-1)
    if not arr.size or float(np.max(arr)) <= limit:
        return
    with np.errstate(invalid="ignore", over="ignore"):
        back = arr.astype(dtype).astype(arr.dtype)
    bad = arr[back != arr]
    if bad.size:
        raise ValueError(f"{name}: sparse label {bad[0].item()!r} cannot be held exactly by a {np.dtype(dtype).name} "
                         f"model (integers above {limit} round to a neighbouring class); build the model "
                         "with dtype='float64' to carry labels that large")


def unwrap_dict(a, name):
    """{input_name: x} (one key) -> x: single-input and single-output models take dicts as Keras's
    functional models do; more than one key is refused (fastnn models have one input and one output)."""
    if not isinstance(a, dict):
        return a
    if len(a) == 1:
        return next(iter(a.values()))
    raise TypeError(f"{name}: expected array data, got a dict with keys {sorted(str(k) for k in a)}; a fastnn "
                    "model has one input and one output (a dict of one array works)")


def sample_weights(w, n, dtype, name="sample_weight"):
    return as_sample_weight(w, name, n, dtype)


def check_class_weight(class_weight, out_dim):
    """A validated {class: weight} dict (None when empty or None); classes must be ones the model
    outputs (0 and 1 for one output unit)."""
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
    n_classes = 2 if out_dim == 1 else out_dim
    unknown = sorted(int(k) for k in class_weight if int(k) >= n_classes)
    if unknown:
        raise ValueError(f"class_weight: classes {unknown} are unknown: the model outputs {n_classes} "
                         f"classes (0 to {n_classes - 1})")
    return {int(k): float(v) for k, v in class_weight.items()}


def class_weight_vector(y, class_weight, out_dim, dtype, name="y"):
    """Per-sample weights of targets y (n, label columns) from a checked class_weight dict; classes
    missing from it weigh 1. One-column targets are class indices (rounded, as Keras does) and must
    lie in [0, classes): the table is never larger than the model's output, whatever the targets hold
    (regression targets are refused instead of indexing a table by their values)."""
    n_classes = 2 if out_dim == 1 else out_dim
    if y.shape[1] == 1:
        v = y[:, 0]
        if v.size:
            lo, hi = float(v.min()), float(v.max())
            if lo < -0.5 or hi >= n_classes - 0.5:
                raise ValueError(
                    f"class_weight: {name} must hold class indices in [0, {n_classes}) for a model with "
                    f"{n_classes} classes, got values in [{lo:g}, {hi:g}]; class_weight applies to "
                    "classification targets (use sample_weight for regression)")
        cls = np.rint(v).astype(np.int64)
    else:
        cls = np.argmax(y, axis=1)
    table = np.ones(n_classes, dtype=np.float64)
    for k, w in class_weight.items():
        table[k] = w
    return np.ascontiguousarray(table[cls], dtype=dtype)


def class_weights(model, y, class_weight):
    """Per-sample weights from a {class: weight} dict (classes missing from it weigh 1), or None."""
    out_dim = model._engine.output_dim
    table = check_class_weight(class_weight, out_dim)
    if table is None:
        return None
    return class_weight_vector(y, table, out_dim, model.dtype)


def combine(a, b):
    """The product of two optional weight vectors."""
    if a is None:
        return b
    if b is None:
        return a
    return np.ascontiguousarray(a * b)


def loss_weights(w, n, loss_weight, dtype):
    """The weights the native loss uses: the sample weights times the compiled loss weight."""
    if loss_weight != 1.0:
        w = np.full(n, loss_weight, dtype=dtype) if w is None else \
            np.ascontiguousarray(w * np.dtype(dtype).type(loss_weight))
    return w


def validation_arrays(model, validation_data):
    """(x_val, y_val[, sample_weight_val]) as arrays."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data: expected (x_val, y_val) or (x_val, y_val, sample_weight_val)")
    Xv = x_array(model, validation_data[0], "validation_data x")
    Yv = y_array(model, validation_data[1], Xv.shape[0], "validation_data y")
    Wv = None
    if len(validation_data) == 3:
        Wv = sample_weights(validation_data[2], Xv.shape[0], model.dtype, "validation_data sample_weight")
    return Xv, Yv, Wv


def split_validation(X, Y, W, validation_split):
    """The last fraction of the samples, before shuffling, as in Keras: (train, validation)."""
    n = X.shape[0]
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"validation_split={validation_split} leaves no samples for training or validation "
                         f"with {n} samples")
    return (X[:split_at], Y[:split_at], None if W is None else W[:split_at]), \
        (X[split_at:], Y[split_at:], None if W is None else W[split_at:])


def cap_rows(arrays, steps, batch_size):
    """The first steps * batch_size rows of each array (None stays None), when steps is given."""
    if steps is None:
        return arrays
    rows = steps * batch_size
    return tuple(None if a is None else a[:rows] for a in arrays)


# ==================================================================================== what was passed
def _is_pandas(a) -> bool:
    return type(a).__module__.split(".", 1)[0] == "pandas"


def is_stream(x) -> bool:
    """True for data read batch by batch: generators and other iterators, iterables of batches
    (torch DataLoader, custom classes), PyDataset / Sequence-like objects (__getitem__ and
    __len__), tf.data-like datasets (as_numpy_iterator). Arrays, lists, tuples, dicts, pandas
    objects and tensors (anything with __array__) are in-memory data."""
    if x is None or isinstance(x, (np.ndarray, list, tuple, dict, str, bytes, int, float, complex, np.generic)):
        return False
    if _is_pandas(x) or hasattr(x, "__array__") or hasattr(x, "__array_interface__"):
        return False
    return hasattr(x, "as_numpy_iterator") or hasattr(x, "__iter__") or \
        (hasattr(x, "__getitem__") and hasattr(x, "__len__"))


def unpack_tuple(x, y, sample_weight, what):
    """fit((x, y)) / fit((x, y, w)): a tuple given as x with no y is the data itself (Keras)."""
    if y is None and sample_weight is None and isinstance(x, tuple) and len(x) in (2, 3):
        return x[0], x[1], (x[2] if len(x) == 3 else None)
    return x, y, sample_weight


def refuse_with_stream(what, x, **given):
    """Arguments that streamed data carries itself (in its batches) are refused, naming the kind."""
    for name, value in given.items():
        if value is not None and value is not False and not (isinstance(value, float) and value == 0.0):
            raise ValueError(f"{what}: {name} is not supported when x is a {describe(x)}; the batches carry "
                             "their own targets and weights: yield (x, y) or (x, y, sample_weight)")


def describe(x) -> str:
    if _is_pydataset(x):
        return "PyDataset"
    if hasattr(x, "as_numpy_iterator"):
        return "dataset"
    if iter_is_self(x):
        return "generator" if type(x).__name__ == "generator" else "iterator"
    if type(x).__name__ == "DataLoader":
        return "DataLoader"
    return f"iterable of batches ({type(x).__name__})"


def iter_is_self(x) -> bool:
    try:
        return hasattr(x, "__next__") and iter(x) is x
    except TypeError:
        return False


def _is_pydataset(x) -> bool:
    from .utils import PyDataset
    if isinstance(x, PyDataset):
        return True
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and not hasattr(x, "as_numpy_iterator") \
        and type(x).__name__ != "DataLoader" and not iter_is_self(x)


# ==================================================================================== in-memory feeds
class Chunk:
    """One native training call: batches [first, first + count) of (X, Y) in the order perm (None:
    row order), each of batch_size rows but the last. W: sample x class weights (for metrics); WL:
    the weights the native loss uses."""
    __slots__ = ("X", "Y", "W", "WL", "perm", "batch_size", "first", "count")

    def __init__(self, X, Y, W, WL, perm, batch_size, first, count):
        self.X, self.Y, self.W, self.WL, self.perm = X, Y, W, WL, perm
        self.batch_size, self.first, self.count = batch_size, first, count

    def rows(self, first_row, samples):
        """Y and W of the rows a call trained (for the metrics)."""
        rows = slice(first_row, first_row + samples)
        idx = self.perm[rows] if self.perm is not None else rows
        return self.Y[idx], None if self.W is None else self.W[idx]


class ArrayFeed:
    """In-memory training data: every epoch is a pass over (X, Y) in a fresh shuffled order (or the
    order a torch DataLoader's sampler gives), capped at steps_per_epoch batches."""

    def __init__(self, X, Y, W, WL, batch_size, steps_per_epoch=None, order=None, drop_last=False):
        self.X, self.Y, self.W, self.WL = X, Y, W, WL
        self.batch_size = batch_size
        self._cap = steps_per_epoch
        self._order = order          # engine, shuffle -> an index array, or None for fit's own rule
        self._drop_last = drop_last
        self.steps = self._steps_for(X.shape[0])

    def _steps_for(self, n):
        full = n // self.batch_size if self._drop_last else (n + self.batch_size - 1) // self.batch_size
        return min(full, self._cap) if self._cap else full

    def epoch(self, engine, shuffle):
        n = self.X.shape[0]
        if self._order is None:
            return _ArrayEpoch(self, self.X, self.Y, self.W, self.WL, engine.shuffle(n) if shuffle else None)
        idx = self._order()
        if idx is not None and len(idx) == n:
            return _ArrayEpoch(self, self.X, self.Y, self.W, self.WL, idx)
        if idx is None:
            return _ArrayEpoch(self, self.X, self.Y, self.W, self.WL, None)
        take = (lambda a: None if a is None else np.ascontiguousarray(a[idx]))
        return _ArrayEpoch(self, take(self.X), take(self.Y), take(self.W), take(self.WL), None)

    def close(self):
        pass


class _ArrayEpoch:
    def __init__(self, feed, X, Y, W, WL, perm):
        self._X, self._Y, self._W, self._WL, self._perm = X, Y, W, WL, perm
        self._bs = feed.batch_size
        self.steps = feed._steps_for(X.shape[0])
        self.batches = 0
        self.ran_out = False

    def next(self, count):
        """The next chunk of at most `count` batches, or None at the end of the epoch."""
        count = min(count, self.steps - self.batches)
        if count <= 0:
            return None
        c = Chunk(self._X, self._Y, self._W, self._WL, self._perm, self._bs, self.batches, count)
        self.batches += count
        return c

    def hint(self, batches):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ==================================================================================== batches of a stream
_BLOCK_BYTES = 64 << 20   # a block (k batches joined for one native call) holds at most this much x
_QUEUE_BLOCKS = 2         # blocks converted ahead of the native loop


def _to_numpy(a):
    """A tensor of torch, TensorFlow or JAX as numpy without a copy where the framework allows it."""
    if a is None or isinstance(a, np.ndarray):
        return a
    if hasattr(a, "detach") and hasattr(a, "numpy"):   # torch: leave autograd, stay on the CPU
        a = a.detach()
        if getattr(getattr(a, "device", None), "type", "cpu") != "cpu":
            a = a.cpu()
        return a.numpy()
    if hasattr(a, "numpy") and not _is_pandas(a):
        return a.numpy()
    return a


class _BatchSpec:
    """What conversion needs from the model, captured on the calling thread (the producer thread
    never touches the model)."""

    def __init__(self, model, need_y, class_weight=None, loss_weight=1.0):
        self.dtype = model.dtype
        self.input_dim = model._engine.input_dim
        self.input_shape = model._input_shape
        self.need_y = need_y
        self.loss = model.loss if need_y else None
        self.out_dim = model._engine.output_dim
        self.class_weight = check_class_weight(class_weight, self.out_dim) if need_y else None
        self.loss_weight = loss_weight


def _split_batch(batch, index, need_y):
    """One raw batch -> (x, y, w) as numpy (no cast yet)."""
    where = f"batch {index}"
    if isinstance(batch, (tuple, list)) and 1 <= len(batch) <= 3 and \
            not all(isinstance(v, (int, float, np.generic)) for v in batch):
        parts = list(batch) + [None] * (3 - len(batch))
    elif isinstance(batch, (tuple, list)):
        raise ValueError(f"{where}: expected x, (x,), (x, y) or (x, y, sample_weight), got a "
                         f"{type(batch).__name__} of {len(batch)} items")
    else:
        parts = [batch, None, None]
    x, y, w = (_to_numpy(unwrap_dict(p, f"x of {where}")) for p in parts)
    if x is None:
        raise ValueError(f"{where}: x is None")
    if need_y and y is None:
        raise ValueError(f"{where}: expected (x, y) or (x, y, sample_weight) for training or evaluation, got "
                         "x alone")
    x = as_array(x, f"x of {where}")
    if x.ndim < 1:   # a 1-D batch is checked against the model's input shape when it is cast
        raise ValueError(f"x of {where}: expected a 2-D array (samples, features), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"x of {where}: expected at least one sample, got shape {x.shape}")
    if need_y:
        y = as_array(y, f"y of {where}")
        if y.ndim == 0 and x.ndim == 1:
            # tf.data's from_tensor_slices without .batch(): each element is one sample.
            raise ValueError(f"{where}: got one sample (x of shape {x.shape}, y a scalar), not a batch; "
                             "batch the data first (for a tf.data-style dataset: dataset.batch(32))")
        if y.ndim == 0 or y.shape[0] != x.shape[0]:
            raise ValueError(f"y of {where}: expected {x.shape[0]} samples to match x, got shape {y.shape}")
        if w is not None:
            w = as_array(w, f"sample_weight of {where}")
            if w.size != x.shape[0]:
                raise ValueError(f"sample_weight of {where}: expected {x.shape[0]} weights, got shape {w.shape}")
    return x, (y if need_y else None), (w if need_y else None), index


def _join(parts, what, dtype, first):
    if len(parts) == 1:
        return parts[0]
    head = parts[0].shape[1:]
    for i, p in enumerate(parts):
        if p.shape[1:] != head:
            raise ValueError(f"{what} of batch {first + i}: expected samples of shape {head} as in batch "
                             f"{first}, got {p.shape[1:]}")
    same = all(p.dtype == np.dtype(dtype) for p in parts)
    return np.concatenate(parts, axis=0, dtype=np.dtype(dtype) if same else None)


def _block(spec, parts):
    """Batches of one stream -> one Chunk (a single call of the native loop)."""
    first, last = parts[0][3], parts[-1][3]
    where = f"batch {first}" if first == last else f"batches {first} to {last}"
    X = as_float_matrix(_join([p[0] for p in parts], "x", spec.dtype, first), f"x of {where}", spec.dtype,
                        spec.input_dim, spec.input_shape)
    n = X.shape[0]
    Y = W = WL = None
    if spec.need_y:
        ys = [p[1] if p[1].ndim > 1 else p[1].reshape(-1, 1) for p in parts]
        yname = f"y of {where}"
        yraw = _join(ys, "y", spec.dtype, first)
        if spec.loss.kind == "sparse_categorical_crossentropy":
            check_exact_labels(yraw, yname, spec.out_dim, spec.dtype)
        Y = as_targets(yraw, yname, n, spec.loss, spec.out_dim, spec.dtype)
        if any(p[2] is not None for p in parts):
            ws = [np.ones(p[0].shape[0], dtype=spec.dtype) if p[2] is None else p[2].reshape(-1) for p in parts]
            W = sample_weights(_join(ws, "sample_weight", spec.dtype, first), n, spec.dtype,
                               f"sample_weight of {where}")
        if spec.class_weight is not None:
            W = combine(W, class_weight_vector(Y, spec.class_weight, spec.out_dim, spec.dtype, yname))
        WL = loss_weights(W, n, spec.loss_weight, spec.dtype)
    return Chunk(X, Y, W, WL, None, parts[0][0].shape[0], 0, len(parts))


def _blocks(batches, spec, target, stop):
    """Raw batches -> Chunks: runs of consecutive batches of one size (the last of a run may be
    smaller) joined up to target[0] batches and _BLOCK_BYTES, so the native loop sees them exactly
    as it sees the batches of an in-memory pass."""
    pending = None
    ended = False
    index = 0
    while not ended and not stop.is_set():
        if pending is None:
            raw = next(batches, _END)
            if raw is _END:
                return
            pending = _split_batch(raw, index, spec.need_y)
            index += 1
        parts = [pending]
        pending = None
        size = parts[0][0].shape[0]
        row_bytes = max(1, parts[0][0].itemsize * int(np.prod(parts[0][0].shape[1:])))
        cap = max(1, min(int(target[0]), _BLOCK_BYTES // (row_bytes * size)))
        while len(parts) < cap and parts[-1][0].shape[0] == size and not stop.is_set():
            raw = next(batches, _END)
            if raw is _END:
                ended = True
                break
            p = _split_batch(raw, index, spec.need_y)
            index += 1
            if p[0].shape[0] > size:
                pending = p
                break
            parts.append(p)
        yield _block(spec, parts)


_END = object()


# ==================================================================================== sources of batches
class _Source:
    one_shot = False

    def __init__(self, data):
        self.data = data

    def num_batches(self):
        try:
            n = len(self.data)
        except (TypeError, NotImplementedError, AttributeError):
            return None
        return None if n is None else int(n)

    def new_pass(self, engine, shuffle):
        return iter(self.data)

    def peek(self):
        """A first batch, for building an unbuilt model; returns (batch, the pass it came from or None)."""
        it = self.new_pass(None, False)
        first = next(it, _END)
        return first, it

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass

    def close(self):
        """Releases what outlives a pass (a PyDataset's worker processes)."""


class _IteratorSource(_Source):
    """A generator or other iterator: one stream, read once."""
    one_shot = True

    def num_batches(self):
        return None

    def new_pass(self, engine, shuffle):
        return self.data


class _DatasetSource(_Source):
    """tf.data.Dataset-like: a fresh numpy iterator for every pass."""

    def new_pass(self, engine, shuffle):
        return iter(self.data.as_numpy_iterator())


class _PyDatasetSource(_Source):
    """PyDataset / Sequence: batches by index; shuffle permutes the batch order of each pass (drawn
    from the model's generator, so seeded runs repeat); workers > 1 reads ahead in threads, or with
    use_multiprocessing=True in that many worker processes (fastnn._batch_processes), kept from pass
    to pass while the dataset pickles to the same bytes and closed with the feed."""

    _processes = None

    def num_batches(self):
        try:
            n = self.data.num_batches
        except (NotImplementedError, AttributeError):
            n = len(self.data)
        return None if n is None else int(n)

    def peek(self):
        return self.data[0], None

    def new_pass(self, engine, shuffle):
        n = self.num_batches()
        if n is None:
            order = itertools.count()
        elif shuffle and engine is not None and n > 1:
            order = engine.shuffle(n)
        else:
            order = range(n)
        workers = getattr(self.data, "workers", 1)
        workers = workers if isinstance(workers, (int, np.integer)) and not isinstance(workers, bool) else 1
        ahead = getattr(self.data, "max_queue_size", 10)
        ahead = int(ahead) if isinstance(ahead, (int, np.integer)) and ahead > 0 else 10
        if getattr(self.data, "use_multiprocessing", False) is True and workers >= 1:
            return self._process_pass(order, int(workers), ahead)
        return _indexed_pass(self.data, order, int(workers), ahead)

    def _process_pass(self, order, workers, ahead):
        # Pickled at the start of every pass: on_epoch_end may have changed the dataset, and the
        # workers must read the state the main process would (a changed dataset gets fresh workers).
        from . import _batch_processes
        blob = _batch_processes.pickled(self.data)
        if self._processes is None or self._processes.blob != blob:
            self.close()
            self._processes = _batch_processes.BatchProcesses(blob, workers, type(self.data).__name__)
        yield from _in_order(self._processes.submit, order, max(ahead, workers))

    def close(self):
        p, self._processes = self._processes, None
        if p is not None:
            p.close()

    def on_epoch_begin(self):
        f = getattr(self.data, "on_epoch_begin", None)
        if callable(f):
            f()

    def on_epoch_end(self):
        f = getattr(self.data, "on_epoch_end", None)
        if callable(f):
            f()


def _indexed_pass(data, order, workers, ahead):
    if workers <= 1:
        for i in order:
            yield data[int(i)]
        return
    from concurrent.futures import ThreadPoolExecutor
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fastnn-pydataset")
    try:
        yield from _in_order(lambda i: pool.submit(data.__getitem__, i), order, ahead)
    finally:
        pool.shutdown(wait=True)


def _in_order(submit, order, ahead):
    """The batches of `order`, computed `ahead` at a time by submit(index) -> a future, in order."""
    futures = collections.deque()
    try:
        it = iter(order)
        for i in itertools.islice(it, ahead):
            futures.append(submit(int(i)))
        while futures:
            f = futures.popleft()
            nxt = next(it, _END)
            if nxt is not _END:
                futures.append(submit(int(nxt)))
            yield f.result()
    finally:
        for f in futures:
            f.cancel()


def _source(x):
    if _is_pydataset(x):
        return _PyDatasetSource(x)
    if hasattr(x, "as_numpy_iterator"):
        return _DatasetSource(x)
    if iter_is_self(x):
        return _IteratorSource(x)
    return _Source(x)


class StreamFeed:
    """Batches from a stream, in epochs (Keras 3's EpochIterator rules, see the module docstring).

    The pass in progress is kept between epochs when steps is given; each epoch runs its reading
    and conversion in a Prefetcher thread that ends with the epoch."""

    def __init__(self, data, steps=None, what="fit"):
        self.data = data
        self.what = what
        self._source = _source(data)
        self._steps = steps
        self._pass = None
        self._pass_fresh = False     # started (by peek) but not read by an epoch yet
        self._pass_seen = 0
        self._ahead = []             # batches read to build the model, trained first
        self._spec = None
        n = self._source.num_batches()
        if n is None and steps is None and isinstance(self._source, _PyDatasetSource):
            raise ValueError(f"{what}: steps_per_epoch (steps for evaluate and predict) is required for a "
                             "PyDataset without a length (num_batches is None)")
        if n == 0:
            raise ValueError(f"{what}: the {describe(data)} holds no batches (its length is 0)")
        self.num_batches = n

    @property
    def steps(self):
        """Batches per epoch when known (for the progress bar), else None."""
        return self._steps if self._steps is not None else self.num_batches

    def build(self, model, need_y, class_weight=None, loss_weight=1.0):
        """Builds an unbuilt model from the first batch, then fixes the conversion."""
        if not model.built:
            first, it = self._source.peek()
            if first is _END:
                raise ValueError(f"{self.what}: the {describe(self.data)} yielded no batches")
            x = _split_batch(first, 0, False)[0]
            ensure_built_for(model, x, "x of batch 0")
            if it is not None:
                self._pass, self._pass_fresh, self._pass_seen, self._ahead = it, True, 0, [first]
        self._spec = _BatchSpec(model, need_y, class_weight, loss_weight)

    def _start(self, engine, shuffle):
        self._pass = self._source.new_pass(engine, shuffle)
        self._pass_fresh, self._pass_seen, self._ahead = True, 0, []

    def epoch(self, engine, shuffle=False):
        """An epoch's batches: a context whose next(count) gives Chunks until None."""
        n = self.num_batches
        need_new = self._pass is None or (self._steps is None and not self._pass_fresh) or \
            (n is not None and self._pass_seen >= n)
        if need_new:
            self._start(engine, shuffle)
        continued = not self._pass_fresh
        self._pass_fresh = False
        self._source.on_epoch_begin()
        return _StreamEpoch(self, engine, shuffle, continued)

    def _raw(self, ep):
        """The epoch's raw batches (runs in the producer thread)."""
        limit = self._steps
        got = 0
        while limit is None or got < limit:
            if self._ahead:
                b = self._ahead.pop(0)
            else:
                b = next(self._pass, _END) if self._pass is not None else _END
            if b is _END:
                self._pass = None
                if got == 0 and ep.continued and not self._source.one_shot:
                    ep.restart = True   # the pass kept from the last epoch was done: start again
                    return
                ep.ran_out = limit is not None or got == 0
                return
            got += 1
            self._pass_seen += 1
            yield b

    def close(self):
        """Ends the pass in progress (worker threads and processes of a PyDataset included)."""
        p, self._pass, self._ahead = self._pass, None, []
        try:
            if p is not None and not self._source.one_shot and hasattr(p, "close"):
                try:
                    p.close()
                except Exception:  # noqa: BLE001 - a user iterator's close failing must not mask fit's result
                    pass
        finally:
            self._source.close()


class _StreamEpoch:
    def __init__(self, feed, engine, shuffle, continued):
        self._feed = feed
        self._engine, self._shuffle = engine, shuffle
        self.continued = continued
        self.restart = False
        self.ran_out = False
        self.batches = 0
        self.steps = feed._steps if feed._steps is not None else feed.num_batches
        self._target = [1]
        self._pre = None
        self._begin()

    def _begin(self):
        feed, spec, target = self._feed, self._feed._spec, self._target

        def produce(stop):
            return _blocks(feed._raw(self), spec, target, stop)

        self._pre = Prefetcher(produce, maxsize=_QUEUE_BLOCKS)

    def next(self, count):
        """The next block (count: the batches the caller would like in it; a hint), or None."""
        self._target[0] = max(1, int(count))
        while True:
            c = self._pre.get()
            if c is not None:
                self.batches += c.count
                return c
            if self.restart:
                self.restart = False
                self._pre.close()
                self._feed._start(self._engine, self._shuffle)
                self._feed._pass_fresh = False
                self.continued = False
                self._begin()
                continue
            return None

    def hint(self, batches):
        self._target[0] = max(1, int(batches))

    def close(self):
        if self._pre is not None:
            self._pre.close()
            self._pre = None
            self._feed._source.on_epoch_end()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ==================================================================================== torch DataLoader over tensors
class _Indices:
    """A map-style dataset of its own indices: a twin loader over it yields the sample order the
    real loader would use (same sampler, same generator, the same random draws)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i

    def __getitems__(self, indices):
        return indices


def _identity(batch):
    return batch


def tensor_loader(x):
    """x when it is a torch DataLoader that reads a TensorDataset of (x, y[, sample_weight]) with the
    default collation and a plain BatchSampler (its batches are then rows of those tensors in the
    sampler's order, which fastnn gathers natively); else None."""
    if "torch" not in type(x).__module__:
        return None
    try:
        import torch.utils.data as tud
    except ImportError:  # pragma: no cover - a torch object implies torch
        return None
    if not isinstance(x, tud.DataLoader) or type(x.dataset) is not tud.TensorDataset:
        return None
    tensors = x.dataset.tensors
    if not 2 <= len(tensors) <= 3 or x.batch_size is None or type(x.batch_sampler) is not tud.BatchSampler \
            or x.batch_sampler.sampler is not x.sampler or getattr(x, "persistent_workers", False) \
            or x.collate_fn is not getattr(tud, "default_collate", None):
        return None
    if any(getattr(t, "layout", None) is not None and str(t.layout) != "torch.strided" for t in tensors):
        return None
    return x


def _loader_order(loader):
    """The sample order of one pass of the loader (an int64 array; None when it is 0, 1, ... n-1)."""
    import torch.utils.data as tud
    m = len(loader.sampler)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    twin = tud.DataLoader(_Indices(len(loader.dataset)), sampler=loader.sampler, batch_size=m,
                          collate_fn=_identity, generator=loader.generator)
    idx = np.asarray(next(iter(twin)), dtype=np.int64)
    if idx.size == len(loader.dataset) and np.array_equal(idx, np.arange(idx.size)):
        return None
    return idx


def _loader_arrays(loader):
    t = loader.dataset.tensors
    return _to_numpy(t[0]), _to_numpy(t[1]), (_to_numpy(t[2]) if len(t) == 3 else None)


def _array_view(x, loader, need_y):
    """(x, y, sample_weight, batch_size, order, drop_last) when every batch of x is rows of in-memory
    arrays, so the native loop can gather them itself: a torch DataLoader over a TensorDataset, or
    fastnn's tf.data Dataset of sliced arrays (its _fastnn_arrays); order() gives a pass's row
    order (None: in order). None for anything to stream."""
    if loader is not None:
        return (*_loader_arrays(loader), loader.batch_size, lambda: _loader_order(loader), bool(loader.drop_last))
    view = getattr(type(x), "_fastnn_arrays", None)
    got = view(x) if callable(view) else None
    return None if got is None or (need_y and got[1] is None) else got


def _kept_rows(order, n, batch_size, drop_last):
    """order, cut to the full batches when the last partial one is dropped (evaluation's arrays)."""
    if not drop_last or n % batch_size == 0:
        return order

    def cut():
        idx = order()
        return (np.arange(n) if idx is None else idx)[: n - n % batch_size]

    return cut


# ==================================================================================== entry points
def training_data(model, x, y, sample_weight, class_weight, batch_size, steps_per_epoch, validation_split,
                  loss_weight):
    """fit's data -> (a feed with epoch(engine, shuffle), validation arrays from validation_split or None)."""
    x, y, sample_weight = unpack_tuple(x, y, sample_weight, "fit")
    loader = tensor_loader(x)
    if loader is not None or is_stream(x):
        refuse_with_stream("fit", x, y=y, sample_weight=sample_weight, validation_split=validation_split)
    view = _array_view(x, loader, True) if steps_per_epoch is None and (loader is not None or is_stream(x)) else None
    if view is not None:
        xr, yr, wr, bs, order, drop_last = view
        X = x_array(model, xr, "x")
        n = X.shape[0]
        Y = y_array(model, yr, n, "y")
        W = combine(sample_weights(wr, n, model.dtype), class_weights(model, Y, class_weight))
        return ArrayFeed(X, Y, W, loss_weights(W, n, loss_weight, model.dtype), bs, order=order,
                         drop_last=drop_last), None
    if loader is not None or is_stream(x):
        feed = StreamFeed(x, steps_per_epoch, "fit")
        feed.build(model, True, class_weight, loss_weight)
        return feed, None
    if y is None:
        raise ValueError("fit: y is required with array data (or pass a generator, dataset, PyDataset or "
                         "DataLoader yielding (x, y) batches, or x=(x, y))")
    X = x_array(model, x)
    n = X.shape[0]
    Y = y_array(model, y, n)
    W = sample_weights(sample_weight, n, model.dtype)
    val: tuple | None = None
    if validation_split > 0:
        (X, Y, W), val = split_validation(X, Y, W, validation_split)
        n = X.shape[0]
    W = combine(W, class_weights(model, Y, class_weight))
    return ArrayFeed(X, Y, W, loss_weights(W, n, loss_weight, model.dtype), batch_size, steps_per_epoch), val


class EvalArrays:
    """In-memory evaluation data; arrays() gives (X, Y, W) for one evaluation (a torch loader's
    order is drawn anew each time, as iterating it would)."""

    def __init__(self, X, Y, W, batch_size, steps=None, order=None):
        self._arrays = (X, Y, W)
        self.batch_size = batch_size
        self._steps = steps
        self._order = order

    def arrays(self):
        X, Y, W = self._arrays
        if self._order is not None:
            idx = self._order()
            if idx is not None:
                X, Y, W = (None if a is None else np.ascontiguousarray(a[idx]) for a in (X, Y, W))
        if self._steps is not None and self._steps * self.batch_size < X.shape[0]:
            X, Y, W = cap_rows((X, Y, W), self._steps, self.batch_size)
        return X, Y, W

    def close(self):
        pass


def evaluation_data(model, x, y, sample_weight, batch_size, steps, what, need_y=True):
    """evaluate's / predict's / validation's data -> EvalArrays or a StreamFeed (one pass per use)."""
    if need_y:
        x, y, sample_weight = unpack_tuple(x, y, sample_weight, what)
    loader = tensor_loader(x)
    if loader is not None or is_stream(x):
        refuse_with_stream(what, x, y=y, sample_weight=sample_weight)
    view = _array_view(x, loader, need_y) if steps is None and (loader is not None or is_stream(x)) else None
    if view is not None:
        xr, yr, wr, bs, order, drop_last = view
        X = x_array(model, xr, "x")
        n = X.shape[0]
        Y = y_array(model, yr, n, "y") if need_y else None
        W = sample_weights(wr, n, model.dtype) if need_y else None
        return EvalArrays(X, Y, W, bs, order=_kept_rows(order, n, bs, drop_last))
    if loader is not None or is_stream(x):
        feed = StreamFeed(x, steps, what)
        feed.build(model, need_y)
        return feed
    X = x_array(model, x)
    Y = W = None
    if need_y:
        if y is None:
            raise ValueError(f"{what}: y is required with array data (or pass a generator, dataset, PyDataset "
                             "or DataLoader yielding (x, y) batches, or x=(x, y))")
        Y = y_array(model, y, X.shape[0])
        W = sample_weights(sample_weight, X.shape[0], model.dtype)
    return EvalArrays(X, Y, W, batch_size, steps)


def validation_data_feed(model, validation_data, batch_size, steps):
    """fit's validation_data: (x_val, y_val[, sample_weight_val]) arrays, or any stream kind."""
    if tensor_loader(validation_data) is not None or is_stream(validation_data):
        return evaluation_data(model, validation_data, None, None, batch_size, steps, "validation_data")
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data: expected (x_val, y_val), (x_val, y_val, sample_weight_val), a "
                         f"generator, a dataset, a PyDataset or a DataLoader; got {type(validation_data).__name__}")
    Xv, Yv, Wv = validation_arrays(model, validation_data)
    return EvalArrays(Xv, Yv, Wv, batch_size, steps)
