"""BackupAndRestore (an interrupted fit resumes bitwise), TensorBoard (event files read back with
tensorboard's own reader), ProgbarLogger's Keras 2 arguments and History.plot."""
import importlib.util
import os

import numpy as np
import pytest

import fastnn
from fastnn import callbacks, layers


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = (x[:, :1] - 0.5 * x[:, 1:2] > 0).astype(np.float32)
    return x, y


def _model(seed):
    m = fastnn.Sequential([layers.Input(shape=(6,)), layers.Dense(12, activation="relu"), layers.Dropout(0.3),
                           layers.GaussianNoise(0.1), layers.Dense(1, activation="sigmoid")], seed=seed)
    m.compile(optimizer=fastnn.optimizers.Adam(learning_rate=fastnn.optimizers.schedules.ExponentialDecay(
        0.01, decay_steps=5, decay_rate=0.9)), loss="binary_crossentropy", metrics=["accuracy"])
    return m


class _Interrupt(callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt("simulated interruption")


def test_backup_and_restore_resumes_an_interrupted_fit_bitwise(tmp_path):
    x, y = _data()
    ref = _model(seed=1)
    h_ref = ref.fit(x, y, epochs=6, batch_size=16, verbose=0)
    backup = str(tmp_path / "backup")
    m = _model(seed=1)
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, epochs=6, batch_size=16, verbose=0,
              callbacks=[callbacks.BackupAndRestore(backup), _Interrupt(at=2)])
    assert os.path.exists(os.path.join(backup, "training_metadata.json"))
    resumed = _model(seed=99)     # a new process would build a new model: everything comes from the backup
    h = resumed.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[callbacks.BackupAndRestore(backup)])
    assert h.epoch == [3, 4, 5]
    assert h.history["loss"] == h_ref.history["loss"][3:]
    for a, b in zip(resumed.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert resumed.optimizer.iterations == ref.optimizer.iterations
    assert not os.path.exists(backup)          # delete_checkpoint=True once fit completes


def test_backup_and_restore_keeps_the_backup_when_asked_and_refuses_batch_frequency(tmp_path):
    x, y = _data()
    backup = str(tmp_path / "b")
    _model(seed=2).fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
    assert sorted(os.listdir(backup)) == ["model-2.fastnn", "training_metadata.json"]
    h = _model(seed=2).fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(backup)])
    assert h.epoch == []                       # already complete: nothing left to train
    with pytest.raises(NotImplementedError, match="save_freq"):
        callbacks.BackupAndRestore(backup, save_freq=10)
    bad = fastnn.Sequential([layers.Input(shape=(6,)), layers.Dense(3)])
    bad.compile("adam", "mse")
    os.makedirs(str(tmp_path / "c"))
    _model(seed=3).fit(x, y, epochs=1, verbose=0,
                       callbacks=[callbacks.BackupAndRestore(str(tmp_path / "c"), delete_checkpoint=False)])
    with pytest.raises(ValueError, match="another architecture"):
        bad.fit(x, np.zeros((96, 3)), epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(str(tmp_path / "c"))])


HAS_TB = importlib.util.find_spec("tensorboard") is not None


@pytest.mark.skipif(not HAS_TB, reason="tensorboard is not installed")
@pytest.mark.parametrize("update_freq", ["epoch", 2])
def test_tensorboard_writes_keras_named_scalars_read_back_by_tensorboard(tmp_path, update_freq):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x, y = _data()
    log_dir = str(tmp_path / "logs")
    m = _model(seed=4)
    h = m.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
              callbacks=[fastnn.keras.callbacks.TensorBoard(log_dir=log_dir, update_freq=update_freq)])
    train = EventAccumulator(os.path.join(log_dir, "train"))
    train.Reload()
    val = EventAccumulator(os.path.join(log_dir, "validation"))
    val.Reload()
    for name in ("loss", "accuracy"):
        got = [(e.step, e.value) for e in train.Scalars(f"epoch_{name}")]
        assert got == [(i, pytest.approx(v, rel=1e-6)) for i, v in enumerate(h.history[name])]
        got = [(e.step, e.value) for e in val.Scalars(f"epoch_{name}")]
        assert got == [(i, pytest.approx(v, rel=1e-6)) for i, v in enumerate(h.history["val_" + name])]
    if update_freq == 2:
        steps = [e.step for e in train.Scalars("batch_loss")]
        assert len(steps) == 3 * 2 and steps == sorted(steps)     # 72 rows / 16 = 5 batches: batches 2 and 4
    else:
        assert "batch_loss" not in train.Tags()["scalars"]


def test_tensorboard_without_the_package_names_it(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("tensorboard"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match="'tensorboard' package"):
        callbacks.TensorBoard()
    with pytest.raises(NotImplementedError, match="histogram_freq"):
        monkeypatch.setattr(builtins, "__import__", real)
        callbacks.TensorBoard(histogram_freq=1)


def test_history_plot_writes_a_png_with_training_and_validation_curves(tmp_path):
    pytest.importorskip("matplotlib")
    x, y = _data()
    h = _model(seed=5).fit(x, y, epochs=4, validation_split=0.25, verbose=0)
    path = str(tmp_path / "history.png")
    fig = h.plot(path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy"]
    lines = fig.axes[0].get_lines()
    assert [l.get_label() for l in lines] == ["training", "validation"]
    np.testing.assert_array_equal(lines[0].get_ydata(), h.history["loss"])
    np.testing.assert_array_equal(lines[1].get_xdata(), [1, 2, 3, 4])
    assert [ax.get_title() for ax in h.plot(metrics="accuracy").axes] == ["accuracy"]
    with pytest.raises(ValueError, match="not logged"):
        h.plot(metrics=["auc"])


def test_progbar_logger_given_explicitly_is_the_one_fit_uses(capsys):
    x, y = _data()
    bar = fastnn.keras.callbacks.ProgbarLogger(count_mode="steps", stateful_metrics=["accuracy"])
    _model(seed=6).fit(x, y, epochs=2, batch_size=32, verbose=2, callbacks=[bar])
    out = capsys.readouterr().out
    assert out.count("Epoch 1/2") == 1 and out.count("Epoch 2/2") == 1 and "3/3" in out and "accuracy" in out
    with pytest.raises(NotImplementedError, match="count_mode"):
        callbacks.ProgbarLogger(count_mode="samples")
