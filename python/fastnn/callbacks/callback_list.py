"""Calling a list of callbacks together (what fit / evaluate / predict drive).
"""

from __future__ import annotations

from .callback import _BATCH_HOOKS, Callback
from .history import History
from .progbar_logger import ProgbarLogger



def _flatten_callbacks(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    flat = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            flat.extend(_flatten_callbacks(cb))
        elif cb is not None:
            flat.append(cb)
    return flat


class CallbackList(Callback):
    """Calls a list of callbacks together.

    Every hook calls the same hook of each callback in order, with ``{}`` for ``logs=None``; a
    duck-typed callback that lacks a hook (fastnn's chunk hooks, say) is skipped for that hook.
    The same ``logs`` dict is passed to each callback in order, so values a
    callback adds (e.g. ``"learning_rate"``) are seen by the ones after it;
    the added History and ProgbarLogger come last.

    Parameters
    ----------
    callbacks : Callback, list of Callback or None, optional
        The callbacks, in calling order: one, a list or tuple (nested lists are flattened, None
        entries dropped) or None for none. An entry that is neither a Callback nor an object with
        `set_model` and `set_params` raises TypeError.
    add_history : bool, default False
        Append a :class:`History` unless the list already holds one (fit() sets this).
    add_progbar : bool, default False
        Append a :class:`ProgbarLogger` unless the list already holds one.
    model : Model, optional
        The model passed to every callback's `set_model` now (and set as ``model.history`` when
        the list has a History); None leaves the callbacks' models unset.
    **params
        The run's parameters (``verbose``, ``epochs``, ``steps``) given to every `set_params`.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = _flatten_callbacks(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not all(
                hasattr(cb, name) for name in ("set_model", "set_params")
            ):
                raise TypeError(f"Expected Callback instances; received {cb!r}.")
        self._history = None
        self._progbar = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    @property
    def history(self):
        """The :class:`History` callback of the list, if any."""
        return self._history

    @property
    def progbar(self):
        """The :class:`ProgbarLogger` of the list, if any."""
        return self._progbar

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def append(self, callback):
        """Adds a callback at the end of the list and gives it the list's params and model.

        Parameters
        ----------
        callback : Callback
            The callback to add; it is not checked, and is not recognised as the list's History
            or ProgbarLogger.
        """
        self.callbacks.append(callback)
        if self.params:
            callback.set_params(self.params)
        if self._model is not None:
            callback.set_model(self._model)

    def set_params(self, params):
        """Stores the run's parameters and passes them to every callback of the list.

        Parameters
        ----------
        params : dict
            ``verbose``, ``epochs`` and ``steps``; an empty dict or None is stored but not passed on.
        """
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        """Sets the model on the list and on every callback of it (None is ignored).

        Parameters
        ----------
        model : Model or None
            The model; when the list has a History it also becomes ``model.history``.
        """
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            try:
                model.history = self._history
            except AttributeError:
                pass
        for cb in self.callbacks:
            cb.set_model(model)

    def wants_batch_hooks(self, kind="train"):
        """Whether the loop must call the ``kind`` batch hooks after every batch.

        The native loop runs whole chunks of batches unless this is true. It is true when some
        callback overrides a batch hook of that kind (built-in callbacks whose batch hooks only
        refine their chunk-level behaviour do not count), and for a duck-typed callback that is
        not a :class:`Callback`, whose needs cannot be inspected.

        Parameters
        ----------
        kind : {"train", "test", "predict"}, default "train"
            Which loop asks; anything else raises ValueError.

        Returns
        -------
        bool
            True when the loop must return to Python after every batch.
        """
        if kind not in _BATCH_HOOKS:
            raise ValueError(f"kind must be 'train', 'test' or 'predict'; received {kind!r}.")
        for cb in self.callbacks:
            check = getattr(cb, "_implements_batch_hooks", None)
            if check is None or check(kind):
                return True
        return False

    def _call(self, hook, *args):
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:  # duck-typed callbacks may lack fastnn's chunk hooks
                method(*args)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, {} if logs is None else logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, {} if logs is None else logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, {} if logs is None else logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, {} if logs is None else logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, {} if logs is None else logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, {} if logs is None else logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, {} if logs is None else logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, {} if logs is None else logs)

    def on_train_chunk_end(self, step, logs=None):
        self._call("on_train_chunk_end", step, {} if logs is None else logs)

    def on_test_chunk_end(self, step, logs=None):
        self._call("on_test_chunk_end", step, {} if logs is None else logs)

    def on_predict_chunk_end(self, step, logs=None):
        self._call("on_predict_chunk_end", step, {} if logs is None else logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, {} if logs is None else logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, {} if logs is None else logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", {} if logs is None else logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", {} if logs is None else logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", {} if logs is None else logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", {} if logs is None else logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", {} if logs is None else logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", {} if logs is None else logs)
