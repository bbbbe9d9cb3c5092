"""Progress output of fit / evaluate / predict for verbose 0, 1 and 2."""
import io
import re
import sys

import numpy as np
import pytest

import fastnn
from fastnn import layers


@pytest.fixture
def model():
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(1)])
    m.compile("sgd", "mse", metrics=["mae"])
    return m


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 3)).astype(np.float32)
    return x, x[:, :1] * 2


def _lines(text):
    return [l for l in text.splitlines() if l.strip()]


def test_verbose_0_prints_nothing(model, data, capsys):
    x, y = data
    model.fit(x, y, epochs=3, batch_size=10, validation_split=0.2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_verbose_2_one_line_per_epoch(model, data, capsys):
    x, y = data
    h = model.fit(x, y, epochs=3, batch_size=10, validation_split=0.2, verbose=2)
    lines = _lines(capsys.readouterr().out)
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    epoch_lines = lines[1::2]
    assert len(epoch_lines) == 3
    for i, line in enumerate(epoch_lines):
        assert line.startswith("8/8 - ") and "step" in line and "[" not in line
        assert f"loss: {h.history['loss'][i]:.4f}" in line
        assert f"val_mae: {h.history['val_mae'][i]:.4f}" in line


def test_verbose_1_on_a_non_terminal_prints_a_line_per_epoch(model, data, capsys):
    x, y = data
    h = model.fit(x, y, epochs=2, batch_size=10, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = _lines(out)
    assert len(lines) == 4 and lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.match(r"10/10 \[=+\] \d+s \d+[mu]?s/step - loss: ", lines[1])
    assert f"mae: {h.history['mae'][1]:.4f}" in lines[3]
    model.fit(x, y, epochs=1, verbose="auto")            # one epoch: no "Epoch" header
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1 and lines[0].startswith("4/4 [")


def test_verbose_1_on_a_terminal_redraws_in_place(model, data, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    monkeypatch.setattr(sys, "stdout", stream)
    x, y = data
    model.fit(x, y, epochs=1, batch_size=10, verbose=1)
    out = stream.getvalue()
    assert out.startswith("\r") and out.endswith("\n")
    assert out.rstrip("\n").split("\r")[-1].lstrip().startswith("10/10 [")


def test_evaluate_and_predict_progress(model, data, capsys):
    x, y = data
    loss, mae = model.evaluate(x, y, batch_size=25, verbose=1)
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1 and lines[0].startswith("4/4 [") and f"loss: {loss:.4f}" in lines[0]
    model.evaluate(x, y, verbose=2)
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1 and lines[0].startswith("4/4 - ")
    model.predict(x, batch_size=50, verbose=1)
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1 and lines[0].startswith("2/2 [")


def test_bad_verbose_value(model, data):
    x, y = data
    with pytest.raises(ValueError, match="verbose"):
        model.fit(x, y, verbose=3)
