"""BackupAndRestore: resume an interrupted fit() from the last completed epoch, with the same
results as a run that was never interrupted."""

from __future__ import annotations

import json
import os

from .callback import Callback

_META = "training_metadata.json"


class BackupAndRestore(Callback):
    """Backs the model up at the end of every epoch and restores it when fit() starts again.

    The backup holds everything the next epoch depends on: weights, optimizer state, step count and
    the model's generator (shuffling, dropout and noise draws), so a fit() resumed from it gives the
    weights an uninterrupted fit() would give, bit for bit. fit() then continues from the epoch after
    the last one backed up (Keras's semantics; History holds the resumed epochs only).

    Files: ``model-<epoch>.fastnn`` (the model, written atomically) and ``training_metadata.json``
    naming it (written after it), so a crash at any point leaves a consistent backup. The model must
    be compiled, with the architecture and optimizer class of the backup; a mismatch raises
    ValueError when fit() starts.

    Parameters
    ----------
    backup_dir : str or os.PathLike
        Folder for the backup (created when missing). Use one folder per training run: a backup
        found there is restored by the next fit(). An empty value raises ValueError.
    save_freq : {"epoch"}, default "epoch"
        When to back up; only ``"epoch"`` is supported (Keras's integer batch counts raise
        NotImplementedError: backups within an epoch are outside fastnn's scope).
    delete_checkpoint : bool, default True
        Delete the backup (and the folder, when nothing else is in it) when fit() completes,
        Keras's default; False keeps it, so a later fit() resumes from it.
    double_checkpoint : bool, default False
        Keras's keeping of a second, older backup; not supported: True raises
        NotImplementedError.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, double_checkpoint=False):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir is required")
        self.backup_dir = os.fspath(backup_dir)
        if save_freq != "epoch":
            raise NotImplementedError(f"BackupAndRestore: save_freq={save_freq!r}: only 'epoch' is supported by "
                                      "fastnn (backups within an epoch are outside its scope)")
        if double_checkpoint:
            raise NotImplementedError("BackupAndRestore: double_checkpoint is not supported by fastnn")
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self._current_epoch = 0

    # --- files ---
    def _meta_path(self):
        return os.path.join(self.backup_dir, _META)

    def _read_meta(self):
        try:
            with open(self._meta_path(), encoding="utf-8") as f:
                meta = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise ValueError(f"BackupAndRestore: the backup in {self.backup_dir!r} is unreadable ({e})") from None
        ok = isinstance(meta, dict) and isinstance(meta.get("epoch"), int) and meta["epoch"] >= 0 and \
            isinstance(meta.get("file"), str) and os.path.basename(meta["file"]) == meta["file"]
        if not ok:
            raise ValueError(f"BackupAndRestore: bad metadata in {self._meta_path()!r}: {str(meta)[:200]}")
        return meta

    def on_train_begin(self, logs=None):
        meta = self._read_meta()
        if meta is None:
            return
        from .. import models as _models

        saved = _models.load_model(os.path.join(self.backup_dir, meta["file"]), compile=True)
        _restore_into(self.model, saved)
        self._current_epoch = meta["epoch"]
        self.model._resume_epoch = meta["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        os.makedirs(self.backup_dir, exist_ok=True)
        name = f"model-{epoch + 1}.fastnn"
        self.model.save(os.path.join(self.backup_dir, name))
        from ..saving import _write_atomic

        _write_atomic(self._meta_path(), json.dumps({"epoch": epoch + 1, "file": name}).encode(), True)
        for f in os.listdir(self.backup_dir):
            if f.startswith("model-") and f.endswith(".fastnn") and f != name:
                os.unlink(os.path.join(self.backup_dir, f))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.isdir(self.backup_dir):
            for f in os.listdir(self.backup_dir):
                if f == _META or (f.startswith("model-") and f.endswith(".fastnn")):
                    os.unlink(os.path.join(self.backup_dir, f))
            try:
                os.rmdir(self.backup_dir)
            except OSError:
                pass   # the folder holds other files


def _restore_into(model, saved):
    """Writes a loaded backup's weights, optimizer state, step count and generator into `model`."""
    shapes = [tuple(v.shape) for v in model.weights]
    if shapes != [tuple(v.shape) for v in saved.weights]:
        raise ValueError(f"BackupAndRestore: the backup is of another architecture (variables "
                         f"{[tuple(v.shape) for v in saved.weights]}, the model has {shapes})")
    if not model.compiled:
        raise ValueError("BackupAndRestore: compile the model before fit()")
    snap = saved._engine.snapshot(len(shapes), with_optimizer=saved.compiled)
    model.set_weights([w.reshape(s) for w, s in zip(snap["weights"], shapes)])
    if snap["optimizer_state"] is not None:
        if type(saved.optimizer).__name__ != type(model.optimizer).__name__:
            raise ValueError(f"BackupAndRestore: the backup was trained with {type(saved.optimizer).__name__}, "
                             f"the model is compiled with {type(model.optimizer).__name__}")
        model._engine.set_optimizer_state(snap["optimizer_state"], snap["iterations"], snap["optimizer_scalar"])
    model._engine.set_rng_state(snap["rng"])
