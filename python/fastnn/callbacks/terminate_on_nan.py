"""TerminateOnNaN: stop training at the first NaN or infinite loss.
"""

from __future__ import annotations

from .callback import NONFINITE_BATCH_KEY, Callback, _is_nonfinite, _print_msg



class TerminateOnNaN(Callback):
    """Stop training as soon as a NaN or infinite loss is seen.

    The check runs on the chunk logs (``on_train_chunk_end``), so it does not
    force per-batch calls: training stops at the end of the chunk holding the
    bad batch. The batch reported is ``logs["_nonfinite_batch"]`` when the
    loop provides it, else the last batch of the chunk. It also checks
    ``on_batch_end`` when the loop runs batch hooks and the epoch logs. The
    message ``Batch N: Invalid loss, terminating training`` is printed once.
    """

    _optional_batch_hooks = True

    def __init__(self):
        super().__init__()
        self._reported = False

    def on_train_begin(self, logs=None):
        self._reported = False

    def _terminate(self, message):
        if self.model is not None:
            self.model.stop_training = True
        if not self._reported:
            self._reported = True
            _print_msg(message)

    def on_batch_end(self, batch, logs=None):
        if _is_nonfinite((logs or {}).get("loss")):
            self._terminate(f"Batch {batch}: Invalid loss, terminating training")

    def on_train_chunk_end(self, step, logs=None):
        logs = logs or {}
        bad = logs.get(NONFINITE_BATCH_KEY)
        if bad is not None and not _is_nonfinite(bad) and bad >= 0:
            self._terminate(f"Batch {int(bad)}: Invalid loss, terminating training")
        elif _is_nonfinite(logs.get("loss")):
            self._terminate(f"Batch {max(int(step) - 1, 0)}: Invalid loss, terminating training")

    def on_epoch_end(self, epoch, logs=None):
        if _is_nonfinite((logs or {}).get("loss")):
            self._terminate(f"Epoch {epoch + 1}: Invalid loss, terminating training")
