"""The callback protocol: :class:`Callback` with Keras 3 hook names and semantics, and fastnn's
chunk hooks.

A callback subclasses :class:`Callback` and overrides any of the hooks::

    on_train_begin(logs)            on_train_end(logs)
    on_epoch_begin(epoch, logs)     on_epoch_end(epoch, logs)
    on_train_batch_begin(batch, logs) / on_train_batch_end(batch, logs)
    on_test_begin(logs) / on_test_end(logs)
    on_test_batch_begin(batch, logs) / on_test_batch_end(batch, logs)
    on_predict_begin(logs) / on_predict_end(logs)
    on_predict_batch_begin(batch, logs) / on_predict_batch_end(batch, logs)

``on_batch_begin`` / ``on_batch_end`` are aliases of the train batch hooks, as
in Keras.

Batch hooks and chunks
----------------------
fastnn's native loop runs many batches per call (a *chunk*). It only returns
to Python after every batch when some callback needs it:
:meth:`CallbackList.wants_batch_hooks` is true when a callback overrides a
batch hook of that kind (``on_train_batch_begin/end`` or ``on_batch_begin/end``
for ``"train"``, the ``on_test_*``/``on_predict_*`` variants for ``"test"`` and
``"predict"``). Otherwise whole chunks run natively and, after each chunk, the
loop calls the chunk hooks::

    on_train_chunk_end(step, logs)     # step: batches done so far this epoch
    on_test_chunk_end(step, logs)
    on_predict_chunk_end(step, logs)

``logs`` holds the running epoch values (``"loss"`` and metrics). The
built-in callbacks that can work at chunk granularity (``ProgbarLogger``,
``TerminateOnNaN``, ``ModelCheckpoint`` with an integer ``save_freq``) do so
and do not make the loop return per batch. They also tolerate the loop
calling both the batch hooks and the chunk hook for the same steps.

The chunk ``logs`` may carry the key :data:`NONFINITE_BATCH_KEY`
(``"_nonfinite_batch"``): the 0-based index, within the epoch, of the first
batch whose loss was NaN or infinite. Keys starting with ``"_"`` are private
and are never displayed, logged or recorded.

Model interface used here: ``model.stop_training`` (bool),
``model.get_weights()`` / ``model.set_weights(list)``, ``model.save(path)``,
``model.save_weights(path)``, ``model.optimizer.learning_rate`` (float
property), and optionally ``model.metrics`` or ``model.metrics_objects``
(metric objects with ``name`` and ``_direction``) and ``model.metrics_names``.
"""

from __future__ import annotations

import sys

import numpy as np

from .._progress import write_text

#: Chunk-log key holding the index of the first batch with a non-finite loss.
NONFINITE_BATCH_KEY = "_nonfinite_batch"

_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}

_HOOK_NAMES = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_train_chunk_end",
    "on_test_chunk_end",
    "on_predict_chunk_end",
)


def _print_msg(message):
    write_text(sys.stdout, message + "\n")


def _public_items(logs):
    return [(k, v) for k, v in (logs or {}).items() if not str(k).startswith("_")]


def _is_nonfinite(value):
    if value is None or isinstance(value, (str, bytes)):
        return False
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return bool(np.any(~np.isfinite(arr)))


class Callback:
    """Base class of callbacks; every hook is a no-op.

    Attributes:
        params: Dict of training parameters (``verbose``, ``epochs``,
            ``steps``...), set by :meth:`set_params`.
        model: The model being trained, set by :meth:`set_model`.
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    @model.setter
    def model(self, model):
        self._model = model

    # -- batch hooks ----------------------------------------------------------
    def on_batch_begin(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_begin` kept for compatibility."""

    def on_batch_end(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_end` kept for compatibility."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before training batch ``batch`` (0-based within the epoch)."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after training batch ``batch``; ``logs`` has running values."""
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before evaluation batch ``batch``."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after evaluation batch ``batch``."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before prediction batch ``batch``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after prediction batch ``batch``."""

    # -- chunk hooks (fastnn) -----------------------------------------------
    def on_train_chunk_end(self, step, logs=None):
        """Called after a chunk of training batches run natively.

        ``step`` is the number of batches done so far in the epoch.
        """

    def on_test_chunk_end(self, step, logs=None):
        """Called after a chunk of evaluation batches."""

    def on_predict_chunk_end(self, step, logs=None):
        """Called after a chunk of prediction batches."""

    # -- epoch / phase hooks --------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch; ``logs`` include ``val_`` values."""

    def on_train_begin(self, logs=None):
        """Called at the beginning of training."""

    def on_train_end(self, logs=None):
        """Called at the end of training."""

    def on_test_begin(self, logs=None):
        """Called at the beginning of evaluation or validation."""

    def on_test_end(self, logs=None):
        """Called at the end of evaluation or validation."""

    def on_predict_begin(self, logs=None):
        """Called at the beginning of prediction."""

    def on_predict_end(self, logs=None):
        """Called at the end of prediction."""

    # -- introspection ----------------------------------------------------------
    def _implements_batch_hooks(self, kind):
        """Whether this callback needs per-batch calls for ``kind``.

        True when a batch hook of that kind is overridden (in a subclass or on
        the instance). A class that defines batch hooks only as an optional
        refinement of its chunk-level behaviour sets ``_optional_batch_hooks =
        True`` in its own body; its definitions then do not count (those of
        its subclasses still do).
        """
        if kind not in _BATCH_HOOKS:
            raise ValueError(f"kind must be 'train', 'test' or 'predict'; received {kind!r}.")
        cls = type(self)
        for name in _BATCH_HOOKS[kind]:
            if name in self.__dict__:
                return True
            if getattr(cls, name) is getattr(Callback, name):
                continue
            owner = next(k for k in cls.__mro__ if name in k.__dict__)
            if owner.__dict__.get("_optional_batch_hooks", False):
                continue
            return True
        return False
