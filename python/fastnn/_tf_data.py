"""A small tf.data.Dataset over in-memory data, for `import fastnn as tf` ports: from_tensor_slices
(an array, a tuple or a dict of arrays), shuffle, batch, repeat, take, prefetch, map, cache,
iteration in numpy and cardinality; any other Dataset method raises NotImplementedError naming it.

Elements are numpy arrays (iterating gives them as fastnn Tensors, which add TensorFlow's .numpy()).
A pipeline whose batches are rows of the sliced arrays (from_tensor_slices, then cache/prefetch, at
most one shuffle whose buffer holds the whole data, batch, prefetch) tells fit/evaluate/predict its
arrays and the row order of each pass (`_fastnn_arrays`), so they train natively on the arrays as
with fit(x, y) instead of streaming batches; iterating it gives the same batches in the same order.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Optional

import numpy as np

from ._tf import Tensor

INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
AUTOTUNE = -1

# tf.data.Dataset methods this Dataset does not have (a port gets NotImplementedError naming one).
_UNSUPPORTED = frozenset((
    "apply", "bucket_by_sequence_length", "choose_from_datasets", "concatenate", "counter", "element_spec",
    "enumerate", "filter", "flat_map", "from_generator", "get_single_element", "group_by_window", "ignore_errors",
    "interleave", "list_files", "load", "padded_batch", "ragged_batch", "random", "rebatch", "reduce",
    "rejection_resample", "sample_from_datasets", "save", "scan", "shard", "skip", "snapshot", "sparse_batch",
    "take_while", "unbatch", "unique", "window", "with_options", "options", "zip"))


def _unsupported(name: str):
    def method(*args, **kwargs):
        raise NotImplementedError(f"Dataset.{name} is not implemented in fastnn's tf.data (in-memory "
                                  "from_tensor_slices with shuffle, batch, repeat, take, prefetch, map and cache)")

    method.__name__ = name
    return method


def _leaf(a: Any, what: str) -> np.ndarray:
    if type(a).__module__.split(".", 1)[0] == "pandas":
        a = a.to_numpy()
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError):
        raise TypeError(f"{what}: expected arrays, tuples or dicts of arrays, got {type(a).__name__}") from None
    if arr.dtype == object:
        raise TypeError(f"{what}: expected arrays of numbers or strings, got an array of Python objects "
                        f"(from {type(a).__name__})")
    return arr


def _structure(t: Any, fn: Callable) -> Any:
    """fn applied to each array of a nested tuple/dict structure (lists are arrays, as in tf.data)."""
    if isinstance(t, tuple):
        return tuple(_structure(v, fn) for v in t)
    if isinstance(t, dict):
        return {k: _structure(v, fn) for k, v in t.items()}
    return fn(t)


def _leaves(t: Any) -> list:
    if isinstance(t, tuple):
        return [a for v in t for a in _leaves(v)]
    if isinstance(t, dict):
        return [a for v in t.values() for a in _leaves(v)]
    return [t]


def _stack(elements: list) -> Any:
    first = elements[0]
    if isinstance(first, tuple):
        return tuple(_stack([e[i] for e in elements]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _stack([e[k] for e in elements]) for k in first}
    return np.stack([np.asarray(e) for e in elements])


def _as_tensors(element: Any) -> Any:
    return _structure(element, lambda a: np.asarray(a).view(Tensor))


def _count(name: str, v: Any, allow_all: bool) -> int:
    if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)) or \
            not (int(v) >= 0 or (allow_all and int(v) == -1)):
        raise ValueError(f"{name}: expected a non-negative int{' or -1' if allow_all else ''}, got {v!r}")
    return int(v)


class Dataset:
    """An in-memory tf.data.Dataset: build one with Dataset.from_tensor_slices(...) and chain
    shuffle / batch / repeat / take / prefetch / map / cache; iterate it, or give it to fit,
    evaluate, predict or validation_data."""

    def __init__(self, parent: Optional["Dataset"], op: str, cardinality: int, **args):
        self._parent, self._op, self._card, self._args = parent, op, int(cardinality), args
        self._draws = 0   # shuffle: the passes drawn so far (each pass of a reshuffling shuffle differs)

    # ---------------------------------------------------------------------------- sources
    @staticmethod
    def from_tensor_slices(tensors, name=None) -> "Dataset":
        """A dataset of the rows of `tensors` (an array, or a tuple or dict of arrays of one length).

        Parameters
        ----------
        tensors : array-like, tuple or dict
            The data; a tuple (x, y) gives elements (x[i], y[i]), a dict gives {key: value[i]}. A list
            is one array, as in TensorFlow; pandas objects are read as their arrays.
        name : str, optional
            Ignored (TensorFlow's op name).

        Returns
        -------
        Dataset
            One element per row.
        """
        data = _structure(tensors, lambda a: _leaf(a, "from_tensor_slices"))
        leaves = _leaves(data)
        if not leaves:
            raise ValueError("from_tensor_slices: expected at least one array, got an empty structure")
        for a in leaves:
            if a.ndim == 0:
                raise ValueError("from_tensor_slices: expected arrays with a first (rows) axis, got a scalar")
        n = leaves[0].shape[0]
        if any(a.shape[0] != n for a in leaves):
            raise ValueError(f"from_tensor_slices: the arrays must have one number of rows, got "
                             f"{[a.shape[0] for a in leaves]}")
        return Dataset(None, "slices", n, tensors=data)

    @staticmethod
    def from_tensors(tensors, name=None) -> "Dataset":
        """A dataset of one element, `tensors` itself.

        Parameters
        ----------
        tensors : array-like, tuple or dict
            The element.
        name : str, optional
            Ignored (TensorFlow's op name).

        Returns
        -------
        Dataset
            Its only element is `tensors` (as numpy arrays).
        """
        return Dataset(None, "tensors", 1, tensors=_structure(tensors, lambda a: _leaf(a, "from_tensors")))

    @staticmethod
    def range(*args, dtype="int64", name=None) -> "Dataset":
        """The integers of Python's range(*args), as int64 (Dataset.range).

        Parameters
        ----------
        *args : int
            stop, or start, stop[, step].
        dtype : str, default "int64"
            The elements' dtype.
        name : str, optional
            Ignored (TensorFlow's op name).

        Returns
        -------
        Dataset
            One element per integer.
        """
        return Dataset.from_tensor_slices(np.arange(*args).astype(dtype))

    # ---------------------------------------------------------------------------- transformations
    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None,
              name=None) -> "Dataset":
        """Consecutive elements stacked into batches of `batch_size` (the last may be smaller).

        Parameters
        ----------
        batch_size : int
            Elements per batch, at least 1.
        drop_remainder : bool, default False
            Drop a last batch of fewer than batch_size elements.
        num_parallel_calls, deterministic, name : optional
            Accepted for TensorFlow's signature; batches are made in order.

        Returns
        -------
        Dataset
            Batches of the elements.
        """
        b = _count("batch: batch_size", batch_size, False)
        if b == 0:
            raise ValueError("batch: batch_size must be at least 1, got 0")
        n = self._card
        card = n if n < 0 else (n // b if drop_remainder else -(-n // b))
        return Dataset(self, "batch", card, size=b, drop=bool(drop_remainder))

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None) -> "Dataset":
        """The elements in random order, drawn from a buffer of `buffer_size` (TensorFlow's algorithm:
        a buffer at least as large as the data gives a uniform shuffle).

        Parameters
        ----------
        buffer_size : int
            Elements held in the buffer, at least 1.
        seed : int, optional
            Makes the orders repeatable; without it they follow numpy's global generator (which
            tf.random.set_seed seeds).
        reshuffle_each_iteration : bool, default True
            A new order for every pass; False repeats the first pass's order.
        name : str, optional
            Ignored (TensorFlow's op name).

        Returns
        -------
        Dataset
            The same elements, shuffled.
        """
        size = _count("shuffle: buffer_size", buffer_size, False)
        if size == 0:
            raise ValueError("shuffle: buffer_size must be at least 1, got 0")
        if seed is not None:
            seed = _count("shuffle: seed", seed, False)
        fixed = seed if seed is not None else int(np.random.randint(2**31 - 1))
        return Dataset(self, "shuffle", self._card, size=size, seed=fixed, reshuffle=bool(reshuffle_each_iteration))

    def repeat(self, count=None, name=None) -> "Dataset":
        """The dataset `count` times over (forever when None or -1).

        Parameters
        ----------
        count : int, optional
            How many passes; None or -1 repeats forever.
        name : str, optional
            Ignored (TensorFlow's op name).

        Returns
        -------
        Dataset
            The repeated dataset; each pass of a shuffle is drawn anew.
        """
        c = -1 if count is None else _count("repeat: count", count, True)
        n = self._card
        card = n if n in (0, UNKNOWN_CARDINALITY) else (INFINITE_CARDINALITY if c == -1 or n < 0 else n * c)
        return Dataset(self, "repeat", card, count=c)

    def take(self, count, name=None) -> "Dataset":
        """The first `count` elements (all of them for -1).

        Parameters
        ----------
        count : int
            How many elements; -1 takes all.
        name : str, optional
            Ignored (TensorFlow's op name).

        Returns
        -------
        Dataset
            At most count elements.
        """
        c = _count("take: count", count, True)
        n = self._card
        card = n if c == -1 else (c if n == INFINITE_CARDINALITY else (min(c, n) if n >= 0 else n))
        return Dataset(self, "take", card, count=c)

    def prefetch(self, buffer_size, name=None) -> "Dataset":
        """The same dataset: the data is in memory, and fit reads ahead on its own.

        Parameters
        ----------
        buffer_size : int
            Accepted (tf.data.AUTOTUNE included) and unused.
        name : str, optional
            Ignored (TensorFlow's op name).

        Returns
        -------
        Dataset
            The same elements.
        """
        return Dataset(self, "prefetch", self._card)

    def cache(self, filename="", name=None) -> "Dataset":
        """The elements of the first complete pass kept in memory and replayed on later passes (so a
        shuffle before the cache keeps its first order, as in TensorFlow).

        Parameters
        ----------
        filename : str, default ""
            Only the in-memory cache ("") is supported.
        name : str, optional
            Ignored (TensorFlow's op name).

        Returns
        -------
        Dataset
            The same elements.
        """
        if filename:
            raise NotImplementedError("Dataset.cache(filename=...): a cache file is not implemented in fastnn; "
                                      "use cache() (in memory)")
        return Dataset(self, "cache", self._card, kept=None)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None) -> "Dataset":
        """`map_func` applied to each element (a tuple element is passed as positional arguments,
        as in TensorFlow), in Python, on numpy arrays.

        Parameters
        ----------
        map_func : callable
            Takes an element (its parts, for a tuple) and returns the new element.
        num_parallel_calls, deterministic, name : optional
            Accepted for TensorFlow's signature; elements are mapped in order.

        Returns
        -------
        Dataset
            The mapped elements.
        """
        if not callable(map_func):
            raise TypeError(f"map: map_func must be callable, got {type(map_func).__name__}")
        return Dataset(self, "map", self._card, fn=map_func)

    # ---------------------------------------------------------------------------- reading
    def cardinality(self) -> np.ndarray:
        """The number of elements: -1 (tf.data.INFINITE_CARDINALITY) for a dataset repeated forever.

        Returns
        -------
        Tensor
            A 0-d int64 array; `.numpy()` gives the number.
        """
        return np.asarray(self._card, dtype=np.int64).view(Tensor)

    def __len__(self) -> int:
        if self._card == INFINITE_CARDINALITY:
            raise TypeError("the dataset is infinite (repeat()); it has no length")
        if self._card < 0:
            raise TypeError("the dataset's length is unknown")
        return self._card

    def __iter__(self):
        return (_as_tensors(e) for e in self._elements())

    def as_numpy_iterator(self):
        """An iterator over the elements as plain numpy arrays (nested as the dataset's structure).

        Returns
        -------
        iterator
            A fresh pass over the dataset.
        """
        return iter(self._elements())

    def __repr__(self):
        return f"<Dataset op={self._op} cardinality={self._card}>"

    # ---------------------------------------------------------------------------- internals
    def _pass_generator(self) -> np.random.Generator:
        """A shuffle's generator for its next pass: pass k of a reshuffling shuffle draws from
        (seed, k), every pass of the other kind from (seed, 0)."""
        k = self._draws
        if self._args["reshuffle"]:
            self._draws += 1
        return np.random.default_rng([self._args["seed"], k])

    def _permutation(self, n: int) -> np.ndarray:
        """The order of the next pass of a shuffle whose buffer holds all n elements."""
        return self._pass_generator().permutation(n)

    def _rows(self):
        """(the sliced arrays, the shuffle or None) when this dataset's elements are rows of
        from_tensor_slices in one pass of a full-buffer shuffle (or in order); else None."""
        node, shuffle, cached = self, None, False
        while node._op != "slices":
            if node._op == "cache":
                cached = True
            elif node._op == "shuffle" and shuffle is None and not cached and 0 <= node._parent._card <= node._args["size"]:
                shuffle = node
            elif node._op != "prefetch":
                return None
            node = node._parent
        return node._args["tensors"], shuffle

    def _fastnn_arrays(self):
        """(x, y, sample_weight, batch_size, order, drop_remainder) for fit/evaluate/predict when
        the batches are rows of in-memory arrays: order() gives the next pass's row order (None: in
        order). None when the pipeline needs streaming."""
        node = self
        while node._op == "prefetch":
            node = node._parent
        if node._op != "batch":
            return None
        plan = node._parent._rows()
        if plan is None:
            return None
        tensors, shuffle = plan
        parts = tensors if isinstance(tensors, tuple) else (tensors,)
        if not 1 <= len(parts) <= 3 or any(isinstance(p, tuple) for p in parts) or \
                any(isinstance(p, dict) for p in parts[1:]):
            return None
        n = _leaves(tensors)[0].shape[0]
        order = (lambda: None) if shuffle is None else (lambda: shuffle._permutation(n))
        x, y, w = (tuple(parts) + (None, None))[:3]
        return x, y, w, node._args["size"], order, node._args["drop"]

    def _elements(self):
        op, a = self._op, self._args
        if op == "slices":
            tensors, n = a["tensors"], self._card
            return (_structure(tensors, lambda t, i=i: t[i]) for i in range(n))
        if op == "tensors":
            return iter([a["tensors"]])
        if op == "prefetch":
            return self._parent._elements()
        if op == "batch":
            return self._batches()
        if op == "shuffle":
            return self._shuffled()
        if op == "repeat":
            return self._repeated()
        if op == "take":
            return self._taken()
        if op == "map":
            return self._mapped()
        return self._cached()

    def _batches(self):
        size, drop = self._args["size"], self._args["drop"]
        plan = self._parent._rows()
        if plan is not None:   # slices of the arrays, in the order the fast path of fit uses
            tensors, shuffle = plan
            n = _leaves(tensors)[0].shape[0]
            perm = None if shuffle is None else shuffle._permutation(n)
            for start in range(0, n, size):
                stop = min(start + size, n)
                if drop and stop - start < size:
                    break
                rows = slice(start, stop) if perm is None else perm[start:stop]
                yield _structure(tensors, lambda t: t[rows])
            return
        pending: list = []
        for e in self._parent._elements():
            pending.append(e)
            if len(pending) == size:
                yield _stack(pending)
                pending = []
        if pending and not drop:
            yield _stack(pending)

    def _shuffled(self):
        size, n = self._args["size"], self._parent._card
        if 0 <= n <= size:
            items = list(self._parent._elements())
            for i in self._permutation(len(items)):
                yield items[i]
            return
        rng = self._pass_generator()
        buf: list = []
        for e in self._parent._elements():
            if len(buf) < size:
                buf.append(e)
                continue
            j = int(rng.integers(len(buf)))
            yield buf[j]
            buf[j] = e
        while buf:
            j = int(rng.integers(len(buf)))
            buf[j], buf[-1] = buf[-1], buf[j]
            yield buf.pop()

    def _repeated(self):
        count = self._args["count"]
        passes = 0
        while count == -1 or passes < count:
            empty = True
            for e in self._parent._elements():
                empty = False
                yield e
            passes += 1
            if empty:
                return

    def _taken(self):
        count = self._args["count"]
        if count == 0:
            return
        for i, e in enumerate(self._parent._elements()):
            yield e
            if count != -1 and i + 1 >= count:
                return

    def _mapped(self):
        fn = self._args["fn"]
        for e in self._parent._elements():
            t = _as_tensors(e)
            out = fn(*t) if isinstance(t, tuple) else fn(t)
            yield _structure(out, lambda v: np.asarray(v).view(np.ndarray))

    def _cached(self):
        if self._args["kept"] is not None:
            yield from self._args["kept"]
            return
        kept = []
        for e in self._parent._elements():
            kept.append(e)
            yield e
        self._args["kept"] = kept   # only a complete pass is kept (TensorFlow discards a partial one)


for _name in sorted(_UNSUPPORTED - {"element_spec"}):
    setattr(Dataset, _name, staticmethod(_unsupported(_name)))
setattr(Dataset, "element_spec", property(lambda self: _unsupported("element_spec")()))
