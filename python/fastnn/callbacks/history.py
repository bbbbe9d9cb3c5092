"""History: the per-epoch logs that ``fit`` returns.
"""

from __future__ import annotations

from .callback import Callback, _public_items



class History(Callback):
    """Records the epoch logs; ``fit`` returns this object.

    Attributes:
        history: Dict mapping each log name to its list of per-epoch values.
        epoch: List of the epoch indices seen.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in _public_items(logs):
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:
                pass
