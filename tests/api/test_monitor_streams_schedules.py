"""The one monitor shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau; progress output
when sys.stdout is None or closed; learning-rate schedules that would give NaN, infinite or
negative rates."""

import io
import math
import sys
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import callbacks as C
from fastnn import layers, schedules


class FakeOptimizer:
    def __init__(self, lr=1.0):
        self.learning_rate = lr


class FakeModel:
    def __init__(self):
        self.stop_training = False
        self.optimizer = FakeOptimizer()
        self.saved = []

    def get_weights(self):
        return [np.zeros(1)]

    def set_weights(self, w):
        pass

    def save(self, path):
        self.saved.append(path)

    save_weights = save


def _make(kind, tmp_path, **kw):
    if kind == "es":
        return C.EarlyStopping(**kw)
    if kind == "mc":
        return C.ModelCheckpoint(str(tmp_path / "m.fnn"), save_best_only=True, **kw)
    return C.ReduceLROnPlateau(**kw)


KINDS = ["es", "mc", "rlr"]


@pytest.mark.parametrize("kind", KINDS)
def test_all_three_share_the_monitor(kind, tmp_path):
    cb = _make(kind, tmp_path)
    assert isinstance(cb, C.MonitorCallback)
    for name in ("_is_improvement", "_set_monitor_op", "get_monitor_value", "_resolve_direction"):
        assert getattr(type(cb), name) is getattr(C.MonitorCallback, name), name


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode, monitor, values, improving", [
    ("min", "val_loss", [1.0, 0.9, 0.95, 0.5], [True, True, False, True]),
    ("max", "val_loss", [1.0, 0.9, 1.2, 1.1], [True, False, True, False]),
    ("auto", "val_accuracy", [0.5, 0.6, 0.55], [True, True, False]),
    ("auto", "val_mae", [0.5, 0.6, 0.4], [True, False, True]),
])
def test_direction_and_best(kind, tmp_path, mode, monitor, values, improving):
    cb = _make(kind, tmp_path, mode=mode, monitor=monitor)
    cb.set_model(FakeModel())
    cb._set_monitor_op()
    assert cb.best == (math.inf if cb.monitor_op is np.less else -math.inf)
    for v, imp in zip(values, improving):
        assert cb._is_improvement(v, cb.best) is imp
        if imp:
            cb.best = v


@pytest.mark.parametrize("kind", ["es", "rlr"])
def test_min_delta_counts_in_both_directions(kind, tmp_path):
    for mode, ref, better, not_enough in (("min", 1.0, 0.85, 0.95), ("max", 1.0, 1.15, 1.05)):
        cb = _make(kind, tmp_path, mode=mode, min_delta=-0.1)  # the sign is ignored
        cb.set_model(FakeModel())
        cb._set_monitor_op()
        assert cb._is_improvement(better, ref) and not cb._is_improvement(not_enough, ref)


@pytest.mark.parametrize("kind, purpose", [("es", "Early stopping"), ("mc", "Saving the best model"),
                                           ("rlr", "Learning rate reduction")])
def test_missing_value_warns_with_what_is_there(kind, purpose, tmp_path):
    cb = _make(kind, tmp_path)
    model = FakeModel()
    cb.set_model(model)
    cb.on_train_begin({})
    with pytest.warns(UserWarning, match=purpose + r" is conditioned on metric `val_loss` which is not "
                      r"available\. Available metrics are: loss,mae"):
        cb.on_epoch_end(0, {"loss": 1.0, "mae": 0.5, "_nonfinite_batch": 3})
    assert not model.stop_training


def test_baseline_in_early_stopping_uses_the_shared_comparison():
    def stopped(baseline):
        cb = C.EarlyStopping(mode="min", baseline=baseline, patience=2, min_delta=0.01)
        model = FakeModel()
        cb.set_model(model)
        cb.on_train_begin({})
        for epoch, v in enumerate([0.8, 0.7, 0.75]):  # improving twice, never beating 0.5
            cb.on_epoch_end(epoch, {"val_loss": v})
        return model.stop_training, cb.best

    assert stopped(0.5) == (True, 0.7)
    assert stopped(None) == (False, 0.7)


@pytest.mark.parametrize("make, match", [
    (lambda: C.EarlyStopping(patience=-1), r"patience: expected a non-negative int, got -1"),
    (lambda: C.EarlyStopping(min_delta=float("nan")), r"min_delta: expected a finite number, got nan"),
    (lambda: C.EarlyStopping(baseline="0.5"), r"baseline: expected a finite number or None, got '0.5'"),
    (lambda: C.EarlyStopping(start_from_epoch=1.5), r"start_from_epoch: expected a non-negative int"),
    (lambda: C.EarlyStopping(monitor=3), r"monitor: expected the name of a logged value"),
    (lambda: C.ReduceLROnPlateau(factor=float("nan")), r"factor: expected a finite number, got nan"),
    (lambda: C.ReduceLROnPlateau(factor=-0.5), r"factor: expected a number in \[0, 1\)"),
    (lambda: C.ReduceLROnPlateau(min_lr=-1), r"min_lr: expected a non-negative number, got -1"),
    (lambda: C.ReduceLROnPlateau(cooldown=-2), r"cooldown: expected a non-negative int, got -2"),
    (lambda: C.ModelCheckpoint("m.fnn", initial_value_threshold=float("inf")),
     r"initial_value_threshold: expected a finite number or None, got inf"),
])
def test_monitor_arguments_are_checked(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


# ---------------------------------------------------------------------------------------------
# Progress output with no usable stdout
# ---------------------------------------------------------------------------------------------
def _fit_and_evaluate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x[:, :1] * 2
    fastnn.utils.set_random_seed(0)
    model = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    hist = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=1,
                     callbacks=[C.EarlyStopping(patience=5, verbose=1)])
    model.evaluate(x, y, verbose=1)
    model.predict(x, verbose=1)
    return hist


@pytest.mark.parametrize("stdout", ["none", "closed", "broken"])
def test_verbose_fit_without_a_usable_stdout(monkeypatch, stdout):
    class Broken(io.StringIO):
        def write(self, s):
            raise OSError("the pipe is gone")

    if stdout == "none":
        stream = None
    elif stdout == "closed":
        stream = io.StringIO()
        stream.close()
    else:
        stream = Broken()
    monkeypatch.setattr(sys, "stdout", stream)
    hist = _fit_and_evaluate()
    assert len(hist.history["loss"]) == 2 and np.isfinite(hist.history["val_loss"]).all()


def test_progbar_logger_stream_closed_midway():
    stream = io.StringIO()
    cb = C.ProgbarLogger(stream=stream)
    cb.set_params({"verbose": 1, "epochs": 2, "steps": 4})
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    cb.on_train_chunk_end(2, {"loss": 1.0})
    cb.on_epoch_end(0, {"loss": 1.0})
    assert "Epoch 1/2" in stream.getvalue()
    stream.close()
    cb.on_epoch_begin(1)
    cb.on_train_chunk_end(4, {"loss": 0.5})
    cb.on_epoch_end(1, {"loss": 0.5})


# ---------------------------------------------------------------------------------------------
# Schedules refuse what a plain learning rate refuses
# ---------------------------------------------------------------------------------------------
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("make, match", [
    (lambda: schedules.ExponentialDecay(NAN, 10, 0.9), "initial_learning_rate"),
    (lambda: schedules.ExponentialDecay(-0.1, 10, 0.9), "initial_learning_rate"),
    (lambda: schedules.ExponentialDecay(INF, 10, 0.9), "initial_learning_rate"),
    (lambda: schedules.ExponentialDecay(0.1, 10, NAN), "decay_rate"),
    (lambda: schedules.InverseTimeDecay(0.1, 0, 0.5), "decay_steps"),
    (lambda: schedules.PiecewiseConstantDecay([10], [0.1, NAN]), r"values\[1\]"),
    (lambda: schedules.PiecewiseConstantDecay([10], [-0.1, 0.1]), r"values\[0\]"),
    (lambda: schedules.PiecewiseConstantDecay([10], [0.1, INF]), r"values\[1\]"),
    (lambda: schedules.PiecewiseConstantDecay([NAN], [0.1, 0.2]), r"boundaries\[0\]"),
    (lambda: schedules.PiecewiseConstantDecay(5, [0.1]), "boundaries"),
    (lambda: schedules.PolynomialDecay(0.1, 10, end_learning_rate=-1.0), "end_learning_rate"),
    (lambda: schedules.PolynomialDecay(0.1, 10, end_learning_rate=NAN), "end_learning_rate"),
    (lambda: schedules.PolynomialDecay(0.1, 10, power=-1.0), "power"),
    (lambda: schedules.PolynomialDecay(0.1, 10, power=NAN), "power"),
    (lambda: schedules.CosineDecay(0.1, 10, alpha=-0.5), "alpha"),
    (lambda: schedules.CosineDecay(0.1, 10, alpha=NAN), "alpha"),
    (lambda: schedules.CosineDecay(0.1, 10, warmup_target=NAN, warmup_steps=5), "warmup_target"),
    (lambda: schedules.CosineDecayRestarts(0.1, 10, alpha=INF), "alpha"),
    (lambda: schedules.CosineDecayRestarts(NAN, 10), "initial_learning_rate"),
])
def test_schedules_refuse_bad_rates(make, match):
    with pytest.raises(ValueError, match=match + r".*: expected"):
        make()


def test_valid_schedules_give_finite_non_negative_rates():
    for s in (schedules.ExponentialDecay(0.1, 10, 0.5), schedules.PiecewiseConstantDecay([5, 10], [0.1, 0.01, 0.0]),
              schedules.PolynomialDecay(0.1, 10, power=0.0), schedules.CosineDecay(0.1, 10, alpha=2.0),
              schedules.CosineDecayRestarts(0.1, 5, alpha=0.0), schedules.InverseTimeDecay(0.1, 3, 0.5)):
        rates = [s(step) for step in range(0, 40, 3)]
        assert all(math.isfinite(r) and r >= 0 for r in rates), (type(s).__name__, rates)
        again = schedules.deserialize(schedules.serialize(s))
        assert [again(step) for step in range(0, 40, 3)] == rates
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastnn.optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.9))
