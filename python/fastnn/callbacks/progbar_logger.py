"""ProgbarLogger: the progress display of ``verbose=1`` and ``verbose=2``.
"""

from __future__ import annotations

import sys

from .._progress import Progbar, write_text
from .callback import Callback, _public_items



class ProgbarLogger(Callback):
    """Prints progress and metrics (the ``verbose`` display of ``fit``).

    ``verbose=1``: a live bar on a terminal, one line per epoch otherwise;
    ``verbose=2``: one line per epoch. With more than one epoch an
    ``Epoch i/n`` header precedes each epoch. Validation values appear on the
    epoch's final line. Values shown are the running epoch values given by the
    loop. The bar is updated from the chunk hooks (and from batch hooks when
    the loop calls them), so it never makes the loop run per batch.

    fit(), evaluate() and predict() add one when ``verbose`` is not 0, so it need not be passed
    unless a custom `stream` is wanted.

    Parameters
    ----------
    count_mode : {"steps", None}, default "steps"
        Keras 2's argument: ``"steps"`` (what the bar counts); None means the same.
        ``"samples"`` is outside fastnn's scope and raises NotImplementedError.
    stateful_metrics : iterable of str, optional
        Keras 2's argument, accepted and stored: every value shown is
        already the running epoch value, so it changes nothing.
    stream : file-like, optional
        Text stream to print to (``sys.stdout`` at call time when
        ``None``); keyword only.
    """

    _optional_batch_hooks = True

    def __init__(self, count_mode="steps", stateful_metrics=None, *, stream=None):
        if count_mode not in ("steps", None):
            raise NotImplementedError(f"ProgbarLogger: count_mode={count_mode!r} is not supported by fastnn "
                                      "(the bar counts steps)")
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self.stream = stream
        self._called_in_fit = False

    def set_params(self, params):
        """Reads the display settings from the run's parameters.

        Parameters
        ----------
        params : dict or None
            ``verbose`` (1 or ``"auto"``: a live bar; 2: one line per epoch; 0: nothing),
            ``epochs`` (an ``Epoch i/n`` header is printed when above 1) and ``steps`` (the bar's
            target; None when unknown, then the bar counts up without a total).
        """
        super().set_params(params)
        params = params or {}
        verbose = params.get("verbose", 1)
        if verbose == "auto":
            verbose = 1
        self.verbose = verbose
        self.epochs = params.get("epochs", 1) or 1
        self.target = params.get("steps")

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            self.progbar = Progbar(
                target=self.target,
                verbose=self.verbose,
                unit_name="step",
                stream=self.stream,
            )

    def _update_progbar(self, step, logs=None):
        self._maybe_init_progbar()
        if step < self.seen:
            return
        self.seen = step
        if self.verbose == 1:
            items = _public_items(logs)
            self.progbar.stateful_metrics.update(k for k, _ in items)
            self.progbar.update(self.seen, items, finalize=False)

    def _finalize_progbar(self, logs):
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, _public_items(logs), finalize=True)

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            write_text(self._out(), f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch + 1, logs)

    def on_train_chunk_end(self, step, logs=None):
        self._update_progbar(step, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch + 1, logs)

    def on_test_chunk_end(self, step, logs=None):
        if not self._called_in_fit:
            self._update_progbar(step, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch + 1, None)

    def on_predict_chunk_end(self, step, logs=None):
        self._update_progbar(step, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(None)
