"""Utilities with tf.keras names: seeds, label encoding and the PyDataset base class for batched data."""
from __future__ import annotations

import numpy as np

from . import _random


def set_random_seed(seed):
    """Makes everything random in fastnn reproducible from here on.

    Models built afterwards draw their initial weights, shuffling and dropout from this seed (numpy's
    global generator is seeded too, as Keras does).

    Parameters
    ----------
    seed : int
        A non-negative integer.
    """
    _random.set_seed(seed)
    np.random.seed(int(seed) % (2**32))


def to_categorical(x, num_classes=None):
    """Turns integer class labels into a one-hot float32 matrix.

    Parameters
    ----------
    x : array-like of int
        Non-negative integer labels, shape (n,) or (n, 1); whole-valued floats are accepted.
    num_classes : int, optional
        The number of columns; default: the largest label plus one.

    Returns
    -------
    numpy.ndarray
        Shape (n, num_classes), float32, with a 1 in each row's label column.
    """
    y = np.asarray(x)
    if y.dtype == object or y.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical: expected numeric labels, got dtype {y.dtype}")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size and (not np.all(np.isfinite(y)) or not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0):
        raise ValueError("to_categorical: labels must be non-negative integers")
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
                                    or num_classes < 0):
        raise ValueError(f"to_categorical: num_classes: expected a non-negative int or None, got {num_classes!r}")
    top = float(y.max()) if y.size else -1.0
    # A one-hot matrix wider than 2^24 classes is a mistake, not a request for terabytes.
    if num_classes is None and top >= 2**24:
        raise ValueError(f"to_categorical: label {top:g} is too large to one-hot encode (more than 2^24 classes)")
    y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(top) + 1 if y.size else 0
    elif y.size and top >= num_classes:
        raise ValueError(f"to_categorical: label {int(top)} is out of range for num_classes={num_classes}")
    if y.size * num_classes > 2**31:
        raise ValueError(f"to_categorical: expected at most 2^31 values in the one-hot matrix, got {y.size} labels x "
                         f"{num_classes} classes (too large)")
    out = np.zeros((*y.shape, num_classes), dtype=np.float32)
    np.put_along_axis(out, y[..., None], 1.0, axis=-1)
    return out


class PyDataset:
    """Base class for data that fit, evaluate and predict read batch by batch (Keras's PyDataset).

    A subclass implements ``__len__`` (the number of batches; or ``num_batches``, None for an
    endless dataset) and ``__getitem__(index)`` returning one batch ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``; ``on_epoch_begin`` / ``on_epoch_end`` run around every epoch.

    With fit(shuffle=True) the order of the batches changes every epoch, as in Keras; the rows
    inside a batch do not. Batches always reach training in index order, whatever the number of
    workers, so fit trains bitwise as with ``workers=1``.

    Parameters
    ----------
    workers : int, default 1
        How many threads (or, with ``use_multiprocessing``, processes) compute batches ahead of
        training; 0 or 1 reads them on one background thread. A non-negative int; anything else
        raises ValueError.
    use_multiprocessing : bool, default False
        Compute ``__getitem__`` in ``workers`` processes, each holding a copy of the dataset
        pickled at the start of every pass (so what ``on_epoch_end`` changed reaches them). They
        are started with "forkserver" (or "spawn" where there is none), never "fork", which is
        unsafe in a process with threads: the class must be defined at module level, a script
        keeps its top level under ``if __name__ == "__main__":``, and randomness inside
        ``__getitem__`` should come from the index rather than from a global generator. The
        processes end with fit, evaluate or predict on every path (an exception, Ctrl-C). A
        dataset that cannot be pickled raises TypeError naming its class.
    max_queue_size : int, default 10
        How many batches may be computed ahead of training. A positive int.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0:
            raise ValueError(f"workers: expected a non-negative int, got {workers!r}")
        if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, (int, np.integer)) \
                or max_queue_size < 1:
            raise ValueError(f"max_queue_size: expected a positive int, got {max_queue_size!r}")
        self._workers = int(workers)
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = int(max_queue_size)

    @property
    def workers(self):
        """The number of threads or processes that compute batches ahead (see the class)."""
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        """Whether batches are computed in worker processes rather than threads (see the class)."""
        return getattr(self, "_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        """How many batches may be computed ahead of training."""
        return getattr(self, "_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    @property
    def num_batches(self):
        """The number of batches (``len(self)``), or None for an endless dataset."""
        if type(self).__len__ is not PyDataset.__len__:
            return len(self)
        raise NotImplementedError(f"{type(self).__name__}: implement __len__ or the num_batches property")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__}: implement __len__ (the number of batches)")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: implement __getitem__ (one batch)")

    def __iter__(self):
        n = self.num_batches
        index = 0
        while n is None or index < n:
            yield self[index]
            index += 1

    def on_epoch_begin(self):
        """Called before each pass over the data (each epoch of fit)."""

    def on_epoch_end(self):
        """Called after each pass; a subclass may reshuffle or refresh its data here."""


#: The older Keras name of PyDataset.
Sequence = PyDataset
