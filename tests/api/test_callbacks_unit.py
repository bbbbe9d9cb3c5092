"""Unit tests of fastnn.callbacks and the progress bar, driven by a fake model
and synthetic logs (no native engine involved)."""

import io
import math
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from fastnn import _progress as P
from fastnn import callbacks as C
from fastnn import metrics as Mx


class FakeOptimizer:
    def __init__(self, lr=0.1):
        self._lr = float(lr)

    @property
    def learning_rate(self):
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr = float(value)


class FakeModel:
    def __init__(self, lr=0.1, metrics=None):
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.weights = [np.zeros((2, 2)), np.zeros(2)]
        self.saved = []
        if metrics is not None:
            self.metrics = metrics

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def set_epoch_weights(self, epoch):
        self.weights = [np.full((2, 2), float(epoch)), np.full(2, float(epoch))]

    def save(self, path):
        Path(path).write_text("model")
        self.saved.append(("model", str(path)))

    def save_weights(self, path):
        Path(path).write_text("weights")
        self.saved.append(("weights", str(path)))


def run_epochs(callback, values, model=None, key="val_loss", extra=None):
    """Drive ``callback`` through epochs whose ``logs[key]`` are ``values``.

    Returns ``(model, epochs_run)``; stops when the callback sets
    ``model.stop_training``.
    """
    model = model or FakeModel()
    cbs = C.CallbackList([callback], model=model, verbose=0, epochs=len(values), steps=10)
    cbs.on_train_begin()
    ran = 0
    for epoch, value in enumerate(values):
        cbs.on_epoch_begin(epoch)
        model.set_epoch_weights(epoch)
        logs = {"loss": 1.0, key: value}
        logs.update(extra or {})
        cbs.on_epoch_end(epoch, logs)
        ran += 1
        if model.stop_training:
            break
    cbs.on_train_end()
    return model, ran


# ---------------------------------------------------------------------------
# EarlyStopping
# ---------------------------------------------------------------------------
def test_early_stopping_patience():
    es = C.EarlyStopping(patience=2)
    model, ran = run_epochs(es, [1.0, 0.9, 0.95, 0.96, 0.97, 0.5])
    assert model.stop_training and ran == 4
    assert es.stopped_epoch == 3 and es.best == 0.9 and es.best_epoch == 1


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    es = C.EarlyStopping(monitor="loss", patience=0)
    model, ran = run_epochs(es, [1.0, 0.8, 0.8], key="loss")
    assert ran == 3 and es.stopped_epoch == 2


def test_early_stopping_min_delta():
    es = C.EarlyStopping(min_delta=0.05, patience=1)
    _, ran = run_epochs(es, [1.0, 0.99, 0.98, 0.5])
    assert ran == 2 and es.stopped_epoch == 1
    es = C.EarlyStopping(min_delta=-0.05, patience=1)  # the sign is ignored
    _, ran = run_epochs(es, [1.0, 0.99, 0.98, 0.5])
    assert ran == 2
    es = C.EarlyStopping(min_delta=0.005, patience=1)
    _, ran = run_epochs(es, [1.0, 0.99, 0.98, 0.97])
    assert ran == 4


def test_early_stopping_baseline():
    es = C.EarlyStopping(patience=2, baseline=0.5)
    _, ran = run_epochs(es, [0.9, 0.95, 0.97, 0.99])
    assert ran == 2 and es.stopped_epoch == 1
    es = C.EarlyStopping(patience=2)
    _, ran = run_epochs(es, [0.9, 0.95, 0.97, 0.99])
    assert ran == 3
    es = C.EarlyStopping(patience=1, baseline=0.5)
    _, ran = run_epochs(es, [0.9, 0.4, 0.45, 0.3])
    assert ran == 3  # beating the baseline resets patience


def test_early_stopping_restore_best_weights():
    es = C.EarlyStopping(patience=2, restore_best_weights=True)
    model, ran = run_epochs(es, [1.0, 0.7, 0.8, 0.9, 0.95])
    assert ran == 4
    np.testing.assert_array_equal(model.weights[0], np.full((2, 2), 1.0))
    model, ran = run_epochs(C.EarlyStopping(patience=2), [1.0, 0.7, 0.8, 0.9])
    np.testing.assert_array_equal(model.weights[0], np.full((2, 2), 3.0))


def test_early_stopping_restores_even_without_stopping():
    es = C.EarlyStopping(patience=10, restore_best_weights=True)
    model, ran = run_epochs(es, [1.0, 0.2, 0.5])
    assert ran == 3 and not model.stop_training
    np.testing.assert_array_equal(model.weights[1], np.full(2, 1.0))


def test_early_stopping_start_from_epoch():
    es = C.EarlyStopping(patience=0, start_from_epoch=3)
    _, ran = run_epochs(es, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    # epochs 0-2 are not monitored; 3 sets the best, 4 stops
    assert ran == 5 and es.stopped_epoch == 4


@pytest.mark.parametrize(
    "monitor, values, ran",
    [
        ("val_accuracy", [0.5, 0.6, 0.55], 3),
        ("val_acc", [0.5, 0.6, 0.7, 0.65], 4),
        ("val_auc", [0.5, 0.4], 2),
        ("val_binary_accuracy", [0.7, 0.8, 0.9], 3),
        ("val_precision", [0.7, 0.6], 2),
        ("val_mean_squared_error", [1.0, 0.5, 0.6], 3),
        ("val_mae", [1.0, 1.5], 2),
        ("val_loss", [1.0, 1.5], 2),
    ],
)
def test_early_stopping_mode_auto(monitor, values, ran):
    es = C.EarlyStopping(monitor=monitor, patience=0)
    _, n = run_epochs(es, values, key=monitor)
    assert n == ran


def test_early_stopping_mode_from_model_metric_direction():
    class Score:
        name = "my_score"
        _direction = "up"

    model = FakeModel(metrics=[Score()])
    es = C.EarlyStopping(monitor="val_my_score", patience=0)
    _, ran = run_epochs(es, [0.1, 0.2, 0.3, 0.25], model=model, key="val_my_score")
    assert ran == 4
    # metric objects of fastnn carry their direction too
    model = FakeModel(metrics=[Mx.get("auc")])
    model.metrics[0].name = "quality"
    es = C.EarlyStopping(monitor="quality", patience=0)
    _, ran = run_epochs(es, [0.5, 0.6, 0.55], model=model, key="quality")
    assert ran == 3


def test_early_stopping_unknown_direction_raises_and_explicit_mode_works():
    with pytest.raises(ValueError, match="mode='max'"):
        run_epochs(C.EarlyStopping(monitor="val_zork", patience=0), [1.0, 2.0], key="val_zork")
    es = C.EarlyStopping(monitor="val_zork", patience=0, mode="max")
    _, ran = run_epochs(es, [1.0, 2.0, 1.5], key="val_zork")
    assert ran == 3
    es = C.EarlyStopping(monitor="val_accuracy", patience=0, mode="min")
    _, ran = run_epochs(es, [0.5, 0.6], key="val_accuracy")
    assert ran == 2


def test_early_stopping_missing_monitor_warns_and_continues():
    es = C.EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(UserWarning, match="val_loss.*not available"):
        model, ran = run_epochs(es, [1.0, 2.0, 3.0], key="other")
    assert ran == 3 and not model.stop_training


def test_early_stopping_unknown_mode_warns():
    with pytest.warns(UserWarning, match="unknown"):
        es = C.EarlyStopping(mode="maximum")
    assert es.mode == "auto"


def test_early_stopping_verbose_messages(capsys):
    es = C.EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    run_epochs(es, [1.0, 0.5, 0.6, 0.7])
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_early_stopping_reusable_across_fits():
    es = C.EarlyStopping(patience=0)
    run_epochs(es, [0.1, 0.2])
    model, ran = run_epochs(es, [1.0, 0.9, 0.95])
    assert ran == 3 and es.best == 0.9


# ---------------------------------------------------------------------------
# ReduceLROnPlateau / LearningRateScheduler
# ---------------------------------------------------------------------------
def test_reduce_lr_on_plateau_patience_and_logs():
    model = FakeModel(lr=1.0)
    cb = C.ReduceLROnPlateau(factor=0.5, patience=2)
    cbs = C.CallbackList([cb], model=model)
    cbs.on_train_begin()
    lrs, logged = [], []
    for epoch, v in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]):
        logs = {"val_loss": v}
        cbs.on_epoch_end(epoch, logs)
        lrs.append(model.optimizer.learning_rate)
        logged.append(logs["learning_rate"])
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
    # logs hold the rate in effect during the epoch
    assert logged == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25]


def test_reduce_lr_min_delta_cooldown_min_lr():
    model = FakeModel(lr=1.0)
    cb = C.ReduceLROnPlateau(factor=0.1, patience=1, cooldown=2, min_lr=0.005, min_delta=0.01)
    cbs = C.CallbackList([cb], model=model)
    cbs.on_train_begin()
    lrs = []
    for epoch, v in enumerate([1.0, 0.995, 0.99, 0.985, 0.98, 0.975, 0.97, 0.965]):
        cbs.on_epoch_end(epoch, {"val_loss": v})
        lrs.append(model.optimizer.learning_rate)
    # improvements smaller than min_delta do not count; after a reduction two
    # cooldown epochs pass; the rate never goes below min_lr
    assert lrs == pytest.approx([1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.005])


def test_reduce_lr_mode_max_and_errors():
    model = FakeModel(lr=1.0)
    cb = C.ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1)
    cbs = C.CallbackList([cb], model=model)
    cbs.on_train_begin()
    for epoch, v in enumerate([0.5, 0.6, 0.7]):
        cbs.on_epoch_end(epoch, {"val_accuracy": v})
    assert model.optimizer.learning_rate == 1.0
    with pytest.raises(ValueError, match="factor"):
        C.ReduceLROnPlateau(factor=1.0)
    with pytest.warns(UserWarning, match="not available"):
        cbs.on_epoch_end(3, {"loss": 1.0})


def test_reduce_lr_verbose(capsys):
    model = FakeModel(lr=0.1)
    cbs = C.CallbackList([C.ReduceLROnPlateau(patience=0, verbose=1, factor=0.5)], model=model)
    cbs.on_train_begin()
    cbs.on_epoch_end(0, {"val_loss": 1.0})
    cbs.on_epoch_end(1, {"val_loss": 1.0})
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05." in capsys.readouterr().out


def test_learning_rate_scheduler():
    model = FakeModel(lr=1.0)
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5 if epoch > 0 else lr

    cbs = C.CallbackList([C.LearningRateScheduler(schedule)], add_history=True, model=model)
    cbs.on_train_begin()
    for epoch in range(3):
        cbs.on_epoch_begin(epoch)
        cbs.on_epoch_end(epoch, {"loss": 1.0})
    assert seen == [(0, 1.0), (1, 1.0), (2, 0.5)]
    assert model.optimizer.learning_rate == 0.25
    assert cbs.history.history["learning_rate"] == [1.0, 0.5, 0.25]


def test_learning_rate_scheduler_one_argument_and_validation(capsys):
    model = FakeModel(lr=1.0)
    cb = C.LearningRateScheduler(lambda epoch: 0.1 * (epoch + 1), verbose=1)
    cb.set_model(model)
    cb.on_epoch_begin(2)
    assert model.optimizer.learning_rate == pytest.approx(0.3)
    assert "LearningRateScheduler setting learning rate to" in capsys.readouterr().out
    cb = C.LearningRateScheduler(lambda epoch, lr: np.float32(0.5))
    cb.set_model(model)
    cb.on_epoch_begin(0)
    assert model.optimizer.learning_rate == 0.5
    cb = C.LearningRateScheduler(lambda epoch, lr: "fast")
    cb.set_model(model)
    with pytest.raises(ValueError, match="should be a float"):
        cb.on_epoch_begin(0)


# ---------------------------------------------------------------------------
# ModelCheckpoint
# ---------------------------------------------------------------------------
def test_model_checkpoint_save_best_only_naming(tmp_path):
    template = str(tmp_path / "ckpt" / "w-{epoch:02d}-{val_loss:.4f}.fnn")
    cb = C.ModelCheckpoint(template, save_best_only=True, save_weights_only=True)
    model, _ = run_epochs(cb, [0.5, 0.6, 0.4, 0.4, 0.3])
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert names == ["w-01-0.5000.fnn", "w-03-0.4000.fnn", "w-05-0.3000.fnn"]
    assert all(kind == "weights" for kind, _ in model.saved)
    assert (tmp_path / "ckpt" / "w-01-0.5000.fnn").read_text() == "weights"


def test_model_checkpoint_every_epoch_full_model(tmp_path):
    path = tmp_path / "model.fnn"
    cb = C.ModelCheckpoint(path)
    model, _ = run_epochs(cb, [0.5, 0.6, 0.7])
    assert [kind for kind, _ in model.saved] == ["model"] * 3
    assert path.read_text() == "model"


def test_model_checkpoint_mode_max_and_initial_threshold(tmp_path):
    cb = C.ModelCheckpoint(
        str(tmp_path / "a-{epoch}.fnn"),
        monitor="val_accuracy",
        save_best_only=True,
        initial_value_threshold=0.55,
    )
    model, _ = run_epochs(cb, [0.5, 0.6, 0.58, 0.7], key="val_accuracy")
    assert [Path(p).name for _, p in model.saved] == ["a-2.fnn", "a-4.fnn"]


def test_model_checkpoint_missing_monitor_and_bad_template(tmp_path):
    cb = C.ModelCheckpoint(str(tmp_path / "m.fnn"), save_best_only=True)
    with pytest.warns(UserWarning, match="val_loss"):
        model, _ = run_epochs(cb, [1.0], key="other")
    assert len(model.saved) == 1
    cb = C.ModelCheckpoint(str(tmp_path / "{nope}.fnn"))
    with pytest.raises(KeyError, match="Failed to format"):
        run_epochs(cb, [1.0])
    with pytest.raises(ValueError, match="save_freq"):
        C.ModelCheckpoint("x.fnn", save_freq="batch")


def test_model_checkpoint_integer_save_freq_at_chunks_and_batches(tmp_path):
    model = FakeModel()
    cb = C.ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.fnn"), save_freq=4)
    cbs = C.CallbackList([cb], model=model, epochs=2, steps=10)
    assert not cbs.wants_batch_hooks("train")
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for step in (3, 6, 9, 10):  # chunk boundaries
        cbs.on_train_chunk_end(step, {"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 1.0})
    cbs.on_epoch_begin(1)
    for batch in range(10):  # per-batch calls, each followed by its chunk hook
        cbs.on_train_batch_end(batch, {"loss": 1.0})
        cbs.on_train_chunk_end(batch + 1, {"loss": 1.0})
    cbs.on_train_end()
    names = [Path(p).name for _, p in model.saved]
    # epoch 1: 6 steps at step 6, then 4 more at step 10; epoch 2 continues the count
    assert names == ["e1-b6.fnn", "e1-b10.fnn", "e2-b4.fnn", "e2-b8.fnn"]


# ---------------------------------------------------------------------------
# CSVLogger / History / LambdaCallback
# ---------------------------------------------------------------------------
def test_csv_logger_content_and_append(tmp_path):
    path = tmp_path / "logs" / "train.csv"
    model = FakeModel()
    cb = C.CSVLogger(path)
    cbs = C.CallbackList([cb], model=model)
    cbs.on_train_begin()
    cbs.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.25, "_private": 1.0})
    # flushed per epoch: visible before training ends
    assert path.read_text().splitlines()[0] == "epoch,accuracy,loss,val_loss"
    cbs.on_epoch_end(1, {"loss": 0.25, "accuracy": 0.875})
    cbs.on_train_end()
    lines = path.read_text().splitlines()
    assert lines == ["epoch,accuracy,loss,val_loss", "0,0.75,0.5,0.25", "1,0.875,0.25,NA"]
    cb2 = C.CSVLogger(path, append=True)
    cbs = C.CallbackList([cb2], model=model)
    cbs.on_train_begin()
    cbs.on_epoch_end(2, {"loss": 0.125, "accuracy": 1.0, "val_loss": 0.5})
    cbs.on_train_end()
    lines = path.read_text().splitlines()
    assert lines[-1] == "2,1.0,0.125,0.5" and lines.count("epoch,accuracy,loss,val_loss") == 1


def test_csv_logger_separator_arrays_and_expected_val_columns(tmp_path):
    path = tmp_path / "t.tsv"
    model = FakeModel()
    model.metrics_names = ["loss", "f1", "val_loss", "val_f1"]
    cbs = C.CallbackList([C.CSVLogger(path, separator="\t")], model=model)
    cbs.on_train_begin()
    cbs.on_epoch_end(0, {"loss": 0.5, "f1": np.array([0.25, 0.75])})
    cbs.on_train_end()
    header, row = path.read_text().splitlines()
    assert header.split("\t") == ["epoch", "f1", "loss", "val_loss", "val_f1"]
    assert row.split("\t")[0] == "0" and "[0.25, 0.75]" in row and row.endswith("NA\tNA")


def test_history_records_epochs_and_sets_model_history():
    model = FakeModel()
    cbs = C.CallbackList([], add_history=True, model=model)
    assert model.history is cbs.history
    cbs.on_train_begin()
    for e in range(3):
        cbs.on_epoch_end(e, {"loss": 1.0 / (e + 1), "val_loss": 2.0 / (e + 1)})
    h = cbs.history
    assert h.epoch == [0, 1, 2]
    assert h.history["loss"] == pytest.approx([1.0, 0.5, 1 / 3])
    assert list(h.history) == ["loss", "val_loss"]
    assert model.history is h


def test_lambda_callback_hooks():
    events = []
    cb = C.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: events.append(("eb", epoch)),
        on_epoch_end=lambda epoch, logs: events.append(("ee", epoch, logs["loss"])),
        on_train_begin=lambda logs: events.append(("tb",)),
        on_train_end=lambda logs: events.append(("te",)),
        on_test_end=lambda logs: events.append(("test_end",)),
    )
    cbs = C.CallbackList([cb], model=FakeModel())
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_epoch_end(0, {"loss": 0.5})
    cbs.on_test_end({})
    cbs.on_train_end()
    assert events == [("tb",), ("eb", 0), ("ee", 0, 0.5), ("test_end",), ("te",)]
    with pytest.raises(ValueError, match="unknown hook"):
        C.LambdaCallback(on_epoch_ends=print)


# ---------------------------------------------------------------------------
# TerminateOnNaN
# ---------------------------------------------------------------------------
def test_terminate_on_nan_chunk_level(capsys):
    model = FakeModel()
    cb = C.TerminateOnNaN()
    cbs = C.CallbackList([cb], model=model)
    assert not cbs.wants_batch_hooks("train")
    cbs.on_train_begin()
    cbs.on_train_chunk_end(3, {"loss": 0.5})
    assert not model.stop_training
    cbs.on_train_chunk_end(8, {"loss": float("nan")})
    assert model.stop_training
    assert capsys.readouterr().out.strip() == "Batch 7: Invalid loss, terminating training"
    # the loop may name the first bad batch; the message is printed once
    model.stop_training = False
    cbs.on_train_begin()
    cbs.on_train_chunk_end(8, {"loss": float("inf"), C.NONFINITE_BATCH_KEY: 5})
    cbs.on_train_batch_end(7, {"loss": float("inf")})
    assert model.stop_training
    assert capsys.readouterr().out.strip() == "Batch 5: Invalid loss, terminating training"


def test_terminate_on_nan_batch_and_epoch_level(capsys):
    model = FakeModel()
    cbs = C.CallbackList([C.TerminateOnNaN()], model=model)
    cbs.on_train_begin()
    cbs.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training
    cbs.on_train_batch_end(1, {"loss": float("inf")})
    assert model.stop_training
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    model = FakeModel()
    cbs = C.CallbackList([C.TerminateOnNaN()], model=model)
    cbs.on_train_begin()
    cbs.on_epoch_end(2, {"loss": float("nan")})
    assert model.stop_training
    assert "Invalid loss, terminating training" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# wants_batch_hooks
# ---------------------------------------------------------------------------
class _TrainBatchEnd(C.Callback):
    def on_train_batch_end(self, batch, logs=None):
        pass


class _LegacyBatchEnd(C.Callback):
    def on_batch_end(self, batch, logs=None):
        pass


class _TestBatch(C.Callback):
    def on_test_batch_begin(self, batch, logs=None):
        pass


class _PredictBatch(C.Callback):
    def on_predict_batch_end(self, batch, logs=None):
        pass


class _EpochOnly(C.Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


class _MyProgbar(C.ProgbarLogger):
    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)


class _MyTerminate(C.TerminateOnNaN):
    pass


def _wants(cbs, kind="train"):
    return C.CallbackList(cbs).wants_batch_hooks(kind)


def test_wants_batch_hooks_detection():
    assert not _wants([])
    assert not _wants([C.Callback(), _EpochOnly()])
    assert _wants([_EpochOnly(), _TrainBatchEnd()])
    assert _wants([_LegacyBatchEnd()])
    assert not _wants([_TrainBatchEnd()], "test")
    assert _wants([_TestBatch()], "test") and not _wants([_TestBatch()], "train")
    assert _wants([_PredictBatch()], "predict") and not _wants([_PredictBatch()], "test")
    builtins = [
        C.History(),
        C.ProgbarLogger(),
        C.TerminateOnNaN(),
        C.EarlyStopping(),
        C.ReduceLROnPlateau(),
        C.LearningRateScheduler(lambda e, lr: lr),
        C.ModelCheckpoint("x.fnn"),
        C.ModelCheckpoint("x.fnn", save_freq=10),
        C.CSVLogger("x.csv"),
    ]
    for kind in ("train", "test", "predict"):
        assert not _wants(builtins, kind)
    cbs = C.CallbackList([], add_history=True, add_progbar=True)
    assert not cbs.wants_batch_hooks("train")
    # a subclass that overrides a batch hook itself does count
    assert _wants([_MyProgbar()])
    assert not _wants([_MyTerminate()])
    assert _wants([C.LambdaCallback(on_train_batch_end=lambda b, logs: None)])
    assert _wants([C.LambdaCallback(on_batch_begin=lambda b, logs: None)])
    assert not _wants([C.LambdaCallback(on_epoch_end=lambda e, logs: None)])
    assert _wants([C.LambdaCallback(on_test_batch_end=lambda b, logs: None)], "test")
    with pytest.raises(ValueError):
        C.CallbackList([]).wants_batch_hooks("eval")


def test_base_train_batch_hooks_forward_to_legacy_aliases():
    calls = []

    class Legacy(C.Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, logs["loss"]))

    cbs = C.CallbackList([Legacy()])
    cbs.on_train_batch_begin(4)
    cbs.on_train_batch_end(4, {"loss": 0.5})
    assert calls == [("begin", 4), ("end", 4, 0.5)]


def test_callback_list_defaults_order_params_and_shared_logs():
    model = FakeModel(lr=0.5)
    sched = C.LearningRateScheduler(lambda e, lr: lr)
    cbs = C.CallbackList(
        [sched], add_history=True, add_progbar=True, model=model, verbose=2, epochs=3, steps=7
    )
    assert isinstance(cbs.callbacks[1], C.History) and isinstance(cbs.callbacks[2], C.ProgbarLogger)
    assert sched.params == {"verbose": 2, "epochs": 3, "steps": 7}
    assert cbs.progbar.target == 7 and cbs.progbar.epochs == 3 and cbs.progbar.verbose == 2
    assert all(cb.model is model for cb in cbs)
    own_history = C.History()
    cbs2 = C.CallbackList([own_history], add_history=True)
    assert cbs2.history is own_history and len(cbs2) == 1
    logs = {"loss": 1.0}
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    sys_stdout = sys.stdout
    sys.stdout = io.StringIO()
    try:
        cbs.on_epoch_end(0, logs)
    finally:
        sys.stdout = sys_stdout
    assert logs["learning_rate"] == 0.5
    assert cbs.history.history["learning_rate"] == [0.5]


# ---------------------------------------------------------------------------
# Progress bar
# ---------------------------------------------------------------------------
class FakeTTY(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(P, "_now", c)
    return c


def test_progbar_non_tty_prints_one_line_at_the_end(clock):
    out = io.StringIO()
    bar = P.Progbar(100, stream=out, stateful_metrics=["loss", "accuracy"])
    for step in (10, 40, 80):
        clock.t += 0.5
        bar.update(step, [("loss", 0.5), ("accuracy", 0.75)], finalize=False)
    assert out.getvalue() == ""
    clock.t += 0.5
    bar.update(100, [("loss", 0.1234), ("accuracy", 0.9)])
    text = out.getvalue()
    assert "\r" not in text and text.count("\n") == 1
    assert text == "100/100 [==============================] 2s 20ms/step - loss: 0.1234 - accuracy: 0.9000\n"


def test_progbar_tty_redraws_with_carriage_return_throttled(clock):
    out = FakeTTY()
    bar = P.Progbar(100, stream=out, interval=0.05, stateful_metrics=["loss"])
    clock.t += 1.2
    bar.update(12, [("loss", 0.5)])
    first = out.getvalue()
    assert first.startswith("\r 12/100 [==>...........................] - ETA: ")
    assert first.endswith(" - loss: 0.5000")
    eta = re.search(r"ETA: (\d+)s", first).group(1)
    assert eta == "8"  # 0.1 s per step, 88 steps left: 8.8 s, truncated to whole seconds
    clock.t += 0.01
    bar.update(13, [("loss", 0.4)])
    clock.t += 0.01
    bar.update(14, [("loss", 0.3)])
    assert out.getvalue() == first  # throttled: less than `interval` since the last draw
    clock.t += 0.1
    bar.update(50, [("loss", 0.25)])
    assert out.getvalue().count("\r") == 2
    clock.t += 0.1
    bar.update(100, [("loss", 0.125)], finalize=True)
    final = out.getvalue().split("\r")[-1]
    assert re.fullmatch(r"100/100 \[=+\] 1s \d+ms/step - loss: 0\.1250\n", final)
    assert out.getvalue().count("\n") == 1


def test_progbar_tty_pads_shorter_redraws(clock):
    out = FakeTTY()
    bar = P.Progbar(100, stream=out, interval=0, stateful_metrics=["loss"])
    clock.t += 100.0
    bar.update(1, [("loss", 1.0)])  # ETA 2:45:00
    clock.t += 0.5
    bar.update(99, [("loss", 1.0)])  # ETA 0s: a shorter line
    first, second = out.getvalue().split("\r")[1:]
    assert "ETA: 2:45:00" in first and "ETA: 0s" in second
    # the shorter line is padded with spaces to erase the rest of the previous one
    assert len(second) == len(first) and second.endswith(" ")


def test_progbar_verbose_2_and_value_formats(clock):
    out = io.StringIO()
    bar = P.Progbar(100, verbose=2, stream=out)
    clock.t += 0.5
    bar.update(50, [("loss", 0.2)])
    assert out.getvalue() == ""
    clock.t += 0.5
    bar.update(100, [("loss", 0.00012345), ("val_loss", 12.5), ("zero", 0.0)], finalize=True)
    assert out.getvalue() == (
        "100/100 - 1s - 10ms/step - loss: 1.2345e-04 - val_loss: 12.5000 - zero: 0.0000e+00\n"
    )
    assert P.format_value(-0.5) == "-0.5000"
    assert P.format_value(float("nan")) == "nan"


def test_progbar_averages_stateless_values(clock):
    out = io.StringIO()
    bar = P.Progbar(4, stream=out, verbose=1)
    bar.update(1, [("x", 1.0)], finalize=False)
    bar.update(3, [("x", 4.0)], finalize=False)  # weight 2
    assert bar._values["x"] == [9.0, 3]
    bar.update(4, [("x", 0.5)], finalize=True)  # final values are shown as given
    assert out.getvalue().endswith("x: 0.5000\n")


def test_progbar_eta_formats():
    assert P._format_eta(5) == "5s"
    assert P._format_eta(75) == "1:15"
    assert P._format_eta(3725) == "1:02:05"


def test_progbar_defaults_to_sys_stdout_at_call_time(capsys):
    bar = P.Progbar(2, verbose=2)
    bar.update(2, [("loss", 0.5)])
    assert re.fullmatch(r"2/2 - \d+s - \d+\w?s/step - loss: 0\.5000\n", capsys.readouterr().out)


def test_progbar_unknown_target(clock):
    out = FakeTTY()
    bar = P.Progbar(None, stream=out, interval=0)
    clock.t += 1
    bar.update(5)
    assert out.getvalue().startswith("\r      5/Unknown 1s 200ms/step")


def _simulate_fit(cbs, epochs, steps, chunks, val=True):
    cbs.on_train_begin()
    for epoch in range(epochs):
        cbs.on_epoch_begin(epoch)
        for step in chunks:
            cbs.on_train_chunk_end(step, {"loss": 1.0 / step, "accuracy": 0.5, "_nonfinite_batch": -1})
        logs = {"loss": 0.25, "accuracy": 0.75}
        if val:
            cbs.on_test_begin()
            cbs.on_test_end({"loss": 0.5})
            logs.update({"val_loss": 0.5, "val_accuracy": 0.625})
        cbs.on_epoch_end(epoch, logs)
    cbs.on_train_end(logs)


def test_progbar_logger_verbose_1_non_tty(capsys):
    cbs = C.CallbackList([], add_history=True, add_progbar=True, verbose=1, epochs=2, steps=10)
    _simulate_fit(cbs, 2, 10, (3, 7, 10))
    lines = capsys.readouterr().out.split("\n")
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and lines[-1] == ""
    assert len(lines) == 5
    assert re.fullmatch(
        r"10/10 \[=+\] \d+s \d+\w?s/step - loss: 0\.2500 - accuracy: 0\.7500"
        r" - val_loss: 0\.5000 - val_accuracy: 0\.6250",
        lines[1],
    )
    assert "_nonfinite" not in lines[1] and "\r" not in lines[1]


def test_progbar_logger_verbose_1_tty_uses_chunks(clock):
    out = FakeTTY()
    logger = C.ProgbarLogger(stream=out)
    cbs = C.CallbackList([logger], verbose=1, epochs=1, steps=10)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for step in (3, 7):
        clock.t += 1
        cbs.on_train_chunk_end(step, {"loss": 1.0 / step})
    # running values given by the loop are displayed as given (not re-averaged)
    assert out.getvalue().split("\r")[-1].endswith("loss: 0.1429")
    clock.t += 1
    cbs.on_epoch_end(0, {"loss": 0.125, "val_loss": 0.25})
    text = out.getvalue()
    assert "Epoch" not in text  # no header for a single epoch
    assert text.count("\r") == 3 and text.endswith("loss: 0.1250 - val_loss: 0.2500\n")
    assert " 7/10 [====================>.........] - ETA: " in text


def test_progbar_logger_verbose_2(capsys):
    cbs = C.CallbackList([], add_progbar=True, verbose=2, epochs=3, steps=5)
    _simulate_fit(cbs, 3, 5, (2, 5))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and lines[4] == "Epoch 3/3"
    assert re.fullmatch(
        r"5/5 - \d+s - \d+\w?s/step - loss: 0\.2500 - accuracy: 0\.7500"
        r" - val_loss: 0\.5000 - val_accuracy: 0\.6250",
        lines[5],
    )


def test_progbar_logger_verbose_0_is_silent(capsys):
    cbs = C.CallbackList([C.ProgbarLogger()], verbose=0, epochs=2, steps=5)
    _simulate_fit(cbs, 2, 5, (5,))
    assert capsys.readouterr().out == ""


def test_progbar_logger_evaluate_and_predict(capsys):
    logger = C.ProgbarLogger()
    cbs = C.CallbackList([logger], verbose=1, epochs=1, steps=4)
    cbs.on_test_begin()
    cbs.on_test_chunk_end(4, {"loss": 0.5})
    cbs.on_test_end({"loss": 0.5, "mae": 0.25})
    cbs.on_predict_begin()
    cbs.on_predict_chunk_end(4)
    cbs.on_predict_end()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("4/4 [") and lines[0].endswith("- loss: 0.5000 - mae: 0.2500")
    assert re.fullmatch(r"4/4 \[=+\] \d+s \d+\w?s/step", lines[1])


def test_progbar_logger_unknown_steps_uses_seen_count(capsys):
    cbs = C.CallbackList([C.ProgbarLogger()], verbose=2, epochs=1, steps=None)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_train_batch_end(0, {"loss": 1.0})
    cbs.on_train_batch_end(1, {"loss": 1.0})
    cbs.on_train_chunk_end(2, {"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 0.5})
    assert capsys.readouterr().out.startswith("2/2 - ")


def test_nonfinite_helper():
    assert C._is_nonfinite(float("nan")) and C._is_nonfinite(math.inf)
    assert not C._is_nonfinite(1.0) and not C._is_nonfinite(None) and not C._is_nonfinite("x")


def test_no_warning_for_known_monitors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_epochs(C.EarlyStopping(monitor="val_loss"), [1.0, 0.5])


# ---------------------------------------------------------------------------
# Differential checks against Keras 3 (skipped when Keras is not installed)
# ---------------------------------------------------------------------------
def _drive(cb, values, key, model):
    """Run a callback (fastnn's or Keras's) over epochs with logs[key] = values."""
    cb.set_model(model)
    cb.on_train_begin({})
    stopped_at = None
    lrs = []
    for epoch, value in enumerate(values):
        cb.on_epoch_begin(epoch, {})
        model.set_epoch_weights(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cb.on_epoch_end(epoch, {"loss": 1.0, key: float(value)})
        lrs.append(model.optimizer.learning_rate)
        if model.stop_training:
            stopped_at = epoch
            break
    cb.on_train_end({})
    return stopped_at, lrs, float(model.weights[0][0, 0])


def test_early_stopping_matches_keras(keras_module):
    keras = keras_module
    rng = np.random.default_rng(7)
    for trial in range(300):
        values = np.round(rng.random(int(rng.integers(2, 12))), 1)
        kwargs = dict(
            patience=int(rng.integers(0, 4)),
            # values lie on a 0.1 grid; deltas and baselines off the grid avoid
            # exact ties, where Keras's float32 comparisons and float64 differ
            min_delta=float(rng.choice([0.0, 0.05, 0.15])),
            baseline=rng.choice([None, 0.33, 0.62]),
            restore_best_weights=bool(rng.integers(0, 2)),
            start_from_epoch=int(rng.integers(0, 3)),
            mode=str(rng.choice(["min", "max"])),
        )
        key = "val_loss" if kwargs["mode"] == "min" else "val_score"
        ours = _drive(C.EarlyStopping(monitor=key, **kwargs), values, key, FakeModel())
        theirs = _drive(keras.callbacks.EarlyStopping(monitor=key, **kwargs), values, key, FakeModel())
        assert ours == theirs, (trial, values, kwargs)


def test_reduce_lr_on_plateau_matches_keras(keras_module):
    keras = keras_module
    rng = np.random.default_rng(11)
    for trial in range(200):
        values = np.round(rng.random(int(rng.integers(3, 15))), 1)
        kwargs = dict(
            factor=float(rng.choice([0.1, 0.5])),
            patience=int(rng.integers(0, 3)),
            cooldown=int(rng.integers(0, 3)),
            min_delta=float(rng.choice([0.0, 0.05])),
            min_lr=float(rng.choice([0.0, 0.01])),
            mode=str(rng.choice(["min", "max"])),
        )
        ours = _drive(C.ReduceLROnPlateau(**kwargs), values, "val_loss", FakeModel(lr=1.0))
        theirs = _drive(keras.callbacks.ReduceLROnPlateau(**kwargs), values, "val_loss", FakeModel(lr=1.0))
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, err_msg=str((trial, values, kwargs)))


def test_callback_list_accepts_duck_typed_callbacks():
    class Plain:
        def __init__(self):
            self.events = []

        def set_model(self, model):
            pass

        def set_params(self, params):
            pass

        def on_epoch_end(self, epoch, logs=None):
            self.events.append(epoch)

    plain = Plain()
    cbs = C.CallbackList([plain], model=FakeModel(), epochs=1, steps=1)
    assert cbs.wants_batch_hooks("train")  # unknown objects are called per batch, to be safe
    cbs.on_train_chunk_end(1, {"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 1.0})
    assert plain.events == [0]
    with pytest.raises(TypeError):
        C.CallbackList([object()])
