"""Callbacks in fit / evaluate / predict: Keras hook names and order, batch hooks only when
overridden, and the built-in callbacks."""
import csv
import os

import numpy as np
import pytest

import fastnn
from fastnn import callbacks, layers


def _data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, :1] - x[:, 1:2] > 0).astype(np.float32)
    return x, y


def _model(seed=0, lr=0.05, metrics=()):
    fastnn.utils.set_random_seed(seed)
    m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(6, activation="tanh"),
                           layers.Dense(1, activation="sigmoid")])
    m.compile(fastnn.optimizers.SGD(lr), "binary_crossentropy", metrics=list(metrics))
    return m


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", sorted(logs)))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_test_begin(self, logs=None):
        self.calls.append(("test_begin",))

    def on_test_end(self, logs=None):
        self.calls.append(("test_end", sorted(logs)))


class BatchRecorder(Recorder):
    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, sorted(logs)))


def test_hook_order_and_logs():
    x, y = _data()
    m = _model(metrics=["accuracy"])
    rec = Recorder()
    m.fit(x, y, epochs=2, batch_size=32, validation_split=0.25, callbacks=[rec], verbose=0)
    assert rec.model is m and rec.params["epochs"] == 2 and rec.params["steps"] == 3
    keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert rec.calls == [
        ("train_begin",),
        ("epoch_begin", 0), ("test_begin",), ("test_end", ["accuracy", "loss"]), ("epoch_end", 0, keys),
        ("epoch_begin", 1), ("test_begin",), ("test_end", ["accuracy", "loss"]), ("epoch_end", 1, keys),
        ("train_end", keys),
    ]


def test_batch_hooks_run_every_batch_only_when_overridden():
    x, y = _data(n=640)
    m = _model()
    rec = BatchRecorder()
    m.fit(x, y, epochs=2, batch_size=8, callbacks=[rec], verbose=0)
    begins = [c[1] for c in rec.calls if c[0] == "batch_begin"]
    ends = [c for c in rec.calls if c[0] == "batch_end"]
    assert begins == list(range(80)) * 2
    assert [c[1] for c in ends] == list(range(80)) * 2 and ends[0][2] == ["loss"]

    class ChunkCounter(callbacks.Callback):
        chunks = 0

        def on_train_chunk_end(self, step, logs=None):
            ChunkCounter.chunks += 1

    assert not callbacks.CallbackList([ChunkCounter(), Recorder()]).wants_batch_hooks("train")
    assert callbacks.CallbackList([BatchRecorder()]).wants_batch_hooks("train")
    m.fit(x, y, epochs=1, batch_size=8, callbacks=[ChunkCounter()], verbose=0)
    assert 1 <= ChunkCounter.chunks < 80          # whole chunks of batches ran natively


def test_legacy_on_batch_end_alias_and_lambda_callback():
    x, y = _data(n=64)
    m = _model()
    seen = []

    class Legacy(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)

    events = []
    lam = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: events.append(("end", e, logs["loss"])),
                                   on_train_begin=lambda logs: events.append(("begin",)))
    h = m.fit(x, y, epochs=2, batch_size=16, callbacks=[Legacy(), lam], verbose=0)
    assert seen == [0, 1, 2, 3] * 2
    assert events == [("begin",), ("end", 0, h.history["loss"][0]), ("end", 1, h.history["loss"][1])]


def test_evaluate_and_predict_hooks():
    x, y = _data(n=50)
    m = _model()
    calls = []

    class Hooks(callbacks.Callback):
        def on_test_begin(self, logs=None):
            calls.append("test_begin")

        def on_test_batch_end(self, batch, logs=None):
            calls.append(("test_batch", batch))

        def on_test_end(self, logs=None):
            calls.append(("test_end", round(logs["loss"], 6)))

        def on_predict_batch_end(self, batch, logs=None):
            calls.append(("predict_batch", batch, logs["outputs"].shape[0]))

        def on_predict_end(self, logs=None):
            calls.append("predict_end")

    loss = m.evaluate(x, y, batch_size=20, callbacks=[Hooks()], verbose=0)
    assert calls == ["test_begin", ("test_batch", 0), ("test_batch", 1), ("test_batch", 2),
                     ("test_end", round(loss, 6))]
    calls.clear()
    m.predict(x, batch_size=20, callbacks=[Hooks()], verbose=0)
    assert calls == [("predict_batch", 0, 20), ("predict_batch", 1, 20), ("predict_batch", 2, 10), "predict_end"]


def test_stop_training_from_a_callback():
    x, y = _data()
    m = _model()

    class StopAfterTwo(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    h = m.fit(x, y, epochs=10, callbacks=[StopAfterTwo()], verbose=0)
    assert len(h.history["loss"]) == 2 and m.stop_training

    class StopInBatch(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    it = m.optimizer.iterations
    h = m.fit(x, y, epochs=5, batch_size=8, callbacks=[StopInBatch()], verbose=0)
    assert len(h.history["loss"]) == 1 and m.optimizer.iterations == it + 3


def test_early_stopping_restores_best_weights():
    x, y = _data()
    m = _model(lr=0.1)
    losses = iter([1.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.0])
    snaps = []

    class FakeVal(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(losses)
            snaps.append(self.model.get_weights())

    es = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = m.fit(x, y, epochs=8, callbacks=[FakeVal(), es], verbose=0)
    assert len(h.history["loss"]) == 4          # best at epoch 1, two epochs without improvement
    assert es.stopped_epoch == 3 and es.best_epoch == 1
    assert all(np.array_equal(a, b) for a, b in zip(m.get_weights(), snaps[1]))
    assert not all(np.array_equal(a, b) for a, b in zip(snaps[3], snaps[1]))


def test_early_stopping_on_real_validation_loss_with_mode_inference():
    x, y = _data()
    m = _model(metrics=["accuracy"])
    es = callbacks.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=10.0)
    h = m.fit(x, y, epochs=10, validation_split=0.25, callbacks=[es], verbose=0)
    assert len(h.history["loss"]) == 2 and es.monitor_op is np.greater


def test_model_checkpoint_patterns(tmp_path):
    x, y = _data()
    m = _model()
    pattern = str(tmp_path / "ck-{epoch:02d}-{val_loss:.4f}.fnn")
    h = m.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(pattern)])
    names = sorted(os.listdir(tmp_path))
    assert names == [f"ck-{e + 1:02d}-{v:.4f}.fnn" for e, v in enumerate(h.history["val_loss"])]
    last = fastnn.models.load_model(tmp_path / names[-1])
    np.testing.assert_array_equal(last.predict(x, verbose=0), m.predict(x, verbose=0))
    assert last.optimizer.iterations == m.optimizer.iterations


def test_model_checkpoint_save_best_only_and_weights_only(tmp_path):
    x, y = _data()
    m = _model()
    values = iter([0.5, 0.7, 0.4, 0.6])
    snaps = {}

    class FakeVal(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)
            snaps[epoch] = m.get_weights()

    path = tmp_path / "best.weights"
    saved = []
    ck = callbacks.ModelCheckpoint(str(path), save_best_only=True, save_weights_only=True)
    orig = m.save_weights
    m.save_weights = lambda p, overwrite=True: (saved.append(p), orig(p, overwrite))
    m.fit(x, y, epochs=4, callbacks=[FakeVal(), ck], verbose=0)
    assert len(saved) == 2                     # epochs 1 and 3 improved
    other = _model(seed=9)
    other.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), snaps[2]))
    with pytest.raises(Exception):
        fastnn.models.load_model(path)         # a weights file is not a whole model


def test_reduce_lr_on_plateau():
    x, y = _data()
    m = _model(lr=0.1)
    values = iter([1.0] * 7)

    class Flat(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)

    rl = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.02)
    h = m.fit(x, y, epochs=7, callbacks=[Flat(), rl], verbose=0)
    # The logged rate is the one used during the epoch; reductions after epochs 3, 5 and 7.
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert m.optimizer.learning_rate == pytest.approx(0.02)     # floored at min_lr


def test_learning_rate_scheduler_changes_the_rate_the_optimizer_uses():
    x, y = _data(n=32)
    lrs = []

    def sched(epoch, lr):
        lrs.append(lr)
        return 0.0 if epoch == 1 else 0.2

    m = _model()
    deltas = []

    class Watch(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.w = self.model.get_weights()

        def on_epoch_end(self, epoch, logs=None):
            deltas.append(max(np.abs(a - b).max() for a, b in zip(self.w, self.model.get_weights())))

    h = m.fit(x, y, epochs=3, batch_size=32, shuffle=False,
              callbacks=[callbacks.LearningRateScheduler(sched), Watch()], verbose=0)
    assert lrs == pytest.approx([0.05, 0.2, 0.0])
    assert h.history["learning_rate"] == pytest.approx([0.2, 0.0, 0.2])
    assert deltas[0] > 0 and deltas[1] == 0 and deltas[2] > 0
    assert m.optimizer.learning_rate == pytest.approx(0.2)
    # The step with rate 0.2 equals the step of a model compiled with SGD(0.2) on the same weights.
    ref = _model()
    ref.compile(fastnn.optimizers.SGD(0.2), "binary_crossentropy")
    a = _model()
    a.fit(x, y, epochs=1, batch_size=32, callbacks=[callbacks.LearningRateScheduler(lambda e: 0.2)], verbose=0)
    ref.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), ref.get_weights()))


def test_terminate_on_nan(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    y = (rng.normal(size=(256, 1)) * 1e30).astype(np.float32)
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(1)])
    m.compile(fastnn.optimizers.SGD(1e10), "mse")
    h = m.fit(x, y, epochs=20, batch_size=4, callbacks=[callbacks.TerminateOnNaN()], verbose=0)
    assert m.stop_training and len(h.history["loss"]) == 1
    assert not np.isfinite(h.history["loss"][0])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert m.optimizer.iterations < 64          # stopped inside the first epoch
    # Without the callback, training continues with a warning.
    fastnn.utils.set_random_seed(0)
    m2 = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(1)])
    m2.compile(fastnn.optimizers.SGD(1e10), "mse")
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        h2 = m2.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert len(h2.history["loss"]) == 2


def test_csv_logger(tmp_path):
    x, y = _data()
    m = _model(metrics=["accuracy"])
    path = tmp_path / "log.csv"
    h = m.fit(x, y, epochs=3, validation_split=0.25, callbacks=[callbacks.CSVLogger(str(path))], verbose=0)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(h.history["val_loss"])
    m.fit(x, y, epochs=1, callbacks=[callbacks.CSVLogger(str(path), append=True)], verbose=0)
    with open(path, newline="") as f:
        assert len(list(csv.DictReader(f))) == 4


def test_history_callback_records_each_epoch():
    x, y = _data()
    m = _model()
    h = m.fit(x, y, epochs=2, verbose=0)
    assert isinstance(h, callbacks.History) and h.model is m and h.params["epochs"] == 2
    h2 = m.fit(x, y, epochs=1, verbose=0)
    assert h2 is not h and len(h2.history["loss"]) == 1 and m.history is h2
