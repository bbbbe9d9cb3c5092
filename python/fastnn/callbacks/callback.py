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

    Subclass it and override the hooks you need (see the module's documentation for the list and
    for fastnn's chunk hooks). fit(), evaluate() and predict() give every hook a ``logs`` dict
    (empty rather than None); a hook may add keys to it, which the callbacks after it in the list
    see. Overriding a batch hook makes the native loop return to Python after every batch, which
    costs speed on small batches; the chunk hooks do not.

    Attributes
    ----------
    params : dict or None
        The run's parameters (``verbose``, ``epochs``, ``steps``), set by `set_params`.
    model : Model or None
        The model being trained, evaluated or run, set by `set_model`.
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        """Stores the run's parameters in `params` (called by fit / evaluate / predict).

        Parameters
        ----------
        params : dict
            ``verbose``, ``epochs`` and ``steps`` (batches per epoch, None when unknown).
        """
        self.params = params

    def set_model(self, model):
        """Stores the model the callback acts on in `model` (called before the first hook).

        Parameters
        ----------
        model : Model
            The model that fit / evaluate / predict runs.
        """
        self._model = model

    @property
    def model(self):
        """The model the callback acts on (None until `set_model` or an assignment sets it)."""
        return self._model

    @model.setter
    def model(self, model):
        self._model = model

    # -- batch hooks ----------------------------------------------------------
    def on_batch_begin(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_begin` kept for compatibility.

        The default `on_train_batch_begin` calls it, so overriding either one is enough.

        Parameters
        ----------
        batch : int
            The batch's 0-based index within the epoch (or within the evaluate / predict call).
        logs : dict, optional
            Empty in fastnn (Keras passes no values here either); a hook may add keys.
        """

    def on_batch_end(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_end` kept for compatibility.

        The default `on_train_batch_end` calls it, so overriding either one is enough.

        Parameters
        ----------
        batch : int
            The batch's 0-based index within the epoch (or within the evaluate / predict call).
        logs : dict, optional
            The epoch's running values so far: ``"loss"`` (the mean over the batches done) and
            the compiled metrics.
        """

    def on_train_batch_begin(self, batch, logs=None):
        """Called before training batch ``batch`` (0-based within the epoch).

        Parameters
        ----------
        batch : int
            The batch's 0-based index within the epoch (or within the evaluate / predict call).
        logs : dict, optional
            Empty in fastnn (Keras passes no values here either); a hook may add keys.
        """
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after training batch ``batch``; ``logs`` has running values.

        Parameters
        ----------
        batch : int
            The batch's 0-based index within the epoch (or within the evaluate / predict call).
        logs : dict, optional
            The epoch's running values so far: ``"loss"`` (the mean over the batches done) and
            the compiled metrics.
        """
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before evaluation batch ``batch`` (in evaluate() and in fit()'s validation).

        Parameters
        ----------
        batch : int
            The batch's 0-based index within the epoch (or within the evaluate / predict call).
        logs : dict, optional
            Empty in fastnn (Keras passes no values here either); a hook may add keys.
        """

    def on_test_batch_end(self, batch, logs=None):
        """Called after evaluation batch ``batch`` (in evaluate() and in fit()'s validation).

        Parameters
        ----------
        batch : int
            The batch's 0-based index within the epoch (or within the evaluate / predict call).
        logs : dict, optional
            The running values of the evaluation so far: ``"loss"`` and the compiled metrics.
        """

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before prediction batch ``batch``.

        Parameters
        ----------
        batch : int
            The batch's 0-based index within the epoch (or within the evaluate / predict call).
        logs : dict, optional
            Empty in fastnn (Keras passes no values here either); a hook may add keys.
        """

    def on_predict_batch_end(self, batch, logs=None):
        """Called after prediction batch ``batch``.

        Parameters
        ----------
        batch : int
            The batch's 0-based index within the epoch (or within the evaluate / predict call).
        logs : dict, optional
            ``{"outputs": array}``: the model's outputs for this batch.
        """

    # -- chunk hooks (fastnn) -----------------------------------------------
    def on_train_chunk_end(self, step, logs=None):
        """Called after a chunk of training batches run natively (a fastnn hook, not Keras's).

        Called after every chunk whether or not batch hooks are overridden (then a chunk is one
        batch, and this follows `on_train_batch_end`).

        Parameters
        ----------
        step : int
            The number of batches done so far in the epoch.
        logs : dict, optional
            The epoch's running ``"loss"`` and metrics; may carry `NONFINITE_BATCH_KEY`, the index
            of the first batch whose loss was NaN or infinite.
        """

    def on_test_chunk_end(self, step, logs=None):
        """Called after a chunk of evaluation batches (a fastnn hook, not Keras's).

        Parameters
        ----------
        step : int
            The number of batches evaluated so far in this call.
        logs : dict, optional
            The running ``"loss"`` and metrics of the evaluation.
        """

    def on_predict_chunk_end(self, step, logs=None):
        """Called after a chunk of prediction batches (a fastnn hook, not Keras's).

        Parameters
        ----------
        step : int
            The number of batches predicted so far in this call.
        logs : dict, optional
            Empty; the outputs are not passed at chunk granularity (override
            `on_predict_batch_end` to see them).
        """

    # -- epoch / phase hooks --------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch ``epoch`` (0-based).

        Parameters
        ----------
        epoch : int
            The epoch's 0-based index; a fit() with ``initial_epoch=3`` (or one BackupAndRestore
            resumes) starts at 3, not at 0.
        logs : dict, optional
            Empty; a hook may add keys.
        """

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch; ``logs`` include ``val_`` values.

        Parameters
        ----------
        epoch : int
            The epoch's 0-based index.
        logs : dict, optional
            The epoch's ``"loss"`` and metrics, and ``"val_loss"`` / ``"val_<metric>"`` when the
            epoch ran validation. Values a hook adds (as ReduceLROnPlateau adds
            ``"learning_rate"``) reach the callbacks after it and History.
        """

    def on_train_begin(self, logs=None):
        """Called at the beginning of training (once per fit() call).

        Parameters
        ----------
        logs : dict, optional
            Empty; a hook may add keys.
        """

    def on_train_end(self, logs=None):
        """Called at the end of training, also after an early stop.

        Parameters
        ----------
        logs : dict, optional
            The logs of the last epoch (``val_`` values included), empty when no epoch completed.
        """

    def on_test_begin(self, logs=None):
        """Called at the beginning of evaluation or validation.

        Parameters
        ----------
        logs : dict, optional
            Empty; a hook may add keys.
        """

    def on_test_end(self, logs=None):
        """Called at the end of evaluation or validation.

        Parameters
        ----------
        logs : dict, optional
            The evaluation's ``"loss"`` and metrics (without the ``val_`` prefix, also during
            fit()'s validation).
        """

    def on_predict_begin(self, logs=None):
        """Called at the beginning of prediction.

        Parameters
        ----------
        logs : dict, optional
            Empty; a hook may add keys.
        """

    def on_predict_end(self, logs=None):
        """Called at the end of prediction.

        Parameters
        ----------
        logs : dict, optional
            Empty; a hook may add keys.
        """

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
