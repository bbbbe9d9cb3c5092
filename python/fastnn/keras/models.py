"""tf.keras.models / keras.models: Sequential, Model, load_model, clone_model, save_model."""
from __future__ import annotations

from .. import models as _models
from .._mirror import mirror as _mirror
from .saving import save_model

__getattr__ = _mirror(globals(), extra={
    "Sequential": _models.Sequential, "Model": _models.Model, "load_model": _models.load_model,
    "clone_model": _models.clone_model, "save_model": save_model})
