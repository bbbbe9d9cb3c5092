"""tf.keras.saving / keras.saving: load_model and save_model over fastnn's model file."""
from __future__ import annotations

from .. import models as _models
from .._mirror import mirror as _mirror


def save_model(model, filepath, overwrite=True, **kwargs):
    """Saves a model to one fastnn model file (Keras's saving.save_model).

    Parameters
    ----------
    model : fastnn.Model
        The model to save.
    filepath : str or os.PathLike
        Where to write.
    overwrite : bool, default True
        False refuses to replace an existing file.
    **kwargs
        Keras's other options (save_format, zipped, ...), accepted with no counterpart: the file
        always holds the architecture, weights and optimizer state.
    """
    if not isinstance(model, _models.Model):
        raise TypeError(f"save_model: model must be a fastnn model, got {type(model).__name__}")
    model.save(filepath, overwrite=overwrite)


__getattr__ = _mirror(globals(), extra={"load_model": _models.load_model, "save_model": save_model})
