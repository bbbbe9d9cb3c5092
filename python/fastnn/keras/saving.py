"""tf.keras.saving / keras.saving: load_model and save_model over fastnn's model file."""
from __future__ import annotations

from .. import models as _models
from .._mirror import mirror as _mirror


def save_model(model, filepath, overwrite=True, **kwargs):
    """Saves `model` to `filepath` (fastnn's model file; Keras's keyword options are accepted and
    have no counterpart: the file always holds the architecture, weights and optimizer state)."""
    if not isinstance(model, _models.Model):
        raise TypeError(f"save_model: model must be a fastnn model, got {type(model).__name__}")
    model.save(filepath, overwrite=overwrite)


__getattr__ = _mirror(globals(), extra={"load_model": _models.load_model, "save_model": save_model})
