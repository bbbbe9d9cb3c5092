"""TensorBoard: epoch (and optionally batch) loss and metric curves as TensorBoard event files,
written through the ``tensorboard`` package (an optional dependency)."""

from __future__ import annotations

import os
import time

from .callback import Callback, _public_items


def _writer_classes():
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError("TensorBoard: writing event files needs the 'tensorboard' package "
                          "(pip install tensorboard)") from None
    return EventFileWriter, event_pb2, summary_pb2


class TensorBoard(Callback):
    """Writes loss and metric scalars as TensorBoard event files, with Keras's layout.

    ``log_dir/train`` gets ``epoch_<name>`` for
    every training log (``epoch_loss``, ``epoch_accuracy``, ...), ``log_dir/validation`` the
    validation logs without their ``val_`` prefix; with ``update_freq="batch"`` or an integer N,
    ``batch_<name>`` every N batches (this makes fit() report every batch). The step of an epoch
    scalar is the epoch index, of a batch scalar the optimizer's step count. Only scalar (int or
    float) epoch values are written; array-valued metrics are skipped.

    Histograms, graphs, images, embeddings and profiling are outside fastnn's scope: their
    arguments are accepted at their defaults only. Needs the ``tensorboard`` package (not
    TensorFlow); without it the constructor raises ImportError.

    Parameters
    ----------
    log_dir : str or os.PathLike, default "logs"
        The folder TensorBoard reads (``tensorboard --logdir``); its ``train`` and ``validation``
        subfolders are created when first written.
    histogram_freq : int, default 0
        Accepted only at 0 (no weight histograms); any other value raises NotImplementedError.
    write_graph : bool, default True
        Accepted and ignored: no graph is written (fastnn models are not TensorFlow graphs).
    write_images : bool, default False
        Accepted only at False; True raises NotImplementedError.
    write_steps_per_second : bool, default False
        Also write ``epoch_steps_per_second`` (batches per second of wall time over the epoch,
        validation included) to ``train``.
    update_freq : "epoch", "batch" or int, default "epoch"
        ``"epoch"`` writes epoch scalars only; ``"batch"`` or a positive int N also writes the
        running training values every N batches. Anything else raises ValueError.
    profile_batch : int, default 0
        Accepted only at 0 (no profiling); any other value raises NotImplementedError.
    embeddings_freq : int, default 0
        Accepted only at 0; any other value raises NotImplementedError.
    embeddings_metadata : dict, optional
        Accepted only as None; anything else raises NotImplementedError.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        for name, v, default in (("histogram_freq", histogram_freq, 0), ("write_images", write_images, False),
                                 ("profile_batch", profile_batch, 0), ("embeddings_freq", embeddings_freq, 0),
                                 ("embeddings_metadata", embeddings_metadata, None)):
            if v != default:
                raise NotImplementedError(f"TensorBoard: {name}={v!r} is not supported by fastnn (scalars only)")
        if update_freq not in ("epoch", "batch") and (isinstance(update_freq, bool) or not isinstance(update_freq, int)
                                                     or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive int, got {update_freq!r}")
        _writer_classes()     # fail here, when the callback is made, if the package is missing
        self.log_dir = os.fspath(log_dir)
        self.write_graph = write_graph
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers: dict = {}
        self._epoch_start = 0.0
        self._batches = 0

    def _implements_batch_hooks(self, kind):
        # Per-batch calls only when batch scalars are asked for.
        return kind == "train" and self.update_freq != "epoch"

    def _writer(self, which):
        w = self._writers.get(which)
        if w is None:
            EventFileWriter, _e, _s = _writer_classes()
            w = self._writers[which] = EventFileWriter(os.path.join(self.log_dir, which))
        return w

    def _scalars(self, which, values, step):
        _w, event_pb2, summary_pb2 = _writer_classes()
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(v))
                                             for tag, v in values])
        self._writer(which).add_event(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def on_train_begin(self, logs=None):
        self._batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq == "epoch" or (batch + 1) % self.update_freq:
            return
        step = int(getattr(self.model.optimizer, "iterations", batch)) if self.model is not None else batch
        self._scalars("train", [(f"batch_{k}", v) for k, v in _public_items(logs)], step)

    def on_epoch_end(self, epoch, logs=None):
        train, val = [], []
        for k, v in _public_items(logs):
            if isinstance(v, (int, float)):
                (val if k.startswith("val_") else train).append((k[4:] if k.startswith("val_") else k, v))
        if self.write_steps_per_second:
            dt = time.perf_counter() - self._epoch_start
            steps = self.params.get("steps") if isinstance(getattr(self, "params", None), dict) else None
            if steps and dt > 0:
                train.append(("steps_per_second", steps / dt))
        if train:
            self._scalars("train", [(f"epoch_{k}", v) for k, v in train], epoch)
        if val:
            self._scalars("validation", [(f"epoch_{k}", v) for k, v in val], epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}
