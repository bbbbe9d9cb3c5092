"""The fused training step for small Dense chains (engine/small_step.cpp) gives the same bits as the
general path (layer by layer through the GEMM and the backend), over many architectures,
activations, losses, optimizers, batch sizes and both dtypes, on every GEMM kernel path."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import layers

ACTS = ["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "linear", "elu", "silu", "softplus", "relu6"]


def _config(i):
    r = np.random.default_rng(1000 + i)
    depth = int(r.integers(1, 5))
    widths = [int(r.choice([1, 2, 3, 5, 8, 10, 13, 16, 17, 31, 32, 33, 48, 64])) for _ in range(depth)]
    din = int(r.choice([1, 3, 8, 16, 20, 64]))
    acts = [str(r.choice(ACTS)) for _ in range(depth)]
    task = str(r.choice(["bce", "mse", "cce", "sparse", "huber", "mae"]))
    return dict(
        din=din, widths=widths, acts=acts, task=task,
        batch=int(r.choice([1, 7, 16, 32, 50, 128])), n=int(r.choice([64, 200, 333])),
        bias=bool(r.random() > 0.2), dtype=str(r.choice(["float32", "float64"])),
        opt=str(r.choice(["adam", "sgd", "rmsprop", "adamw"])), weights=bool(r.random() > 0.7),
        l2=bool(r.random() > 0.8), frozen=int(r.integers(-1, depth)) if r.random() > 0.8 else -1,
        shuffle=bool(r.random() > 0.3), seed=i)


def _data(c):
    r = np.random.default_rng(c["seed"])
    x = r.normal(size=(c["n"], c["din"])).astype(c["dtype"])
    task, out = c["task"], c["widths"][-1]
    if task == "bce":
        y = (r.random((c["n"], out)) > 0.5).astype(c["dtype"])
    elif task == "cce":
        y = np.eye(max(out, 2))[r.integers(0, max(out, 2), c["n"])][:, :out].astype(c["dtype"])
    elif task == "sparse":
        y = r.integers(0, out, c["n"]).astype(c["dtype"])
    else:
        y = r.normal(size=(c["n"], out)).astype(c["dtype"])
    w = r.random(c["n"]).astype(c["dtype"]) + 0.5 if c["weights"] else None
    return x, y, w


def _model(c):
    ls = [layers.Input(shape=(c["din"],))]
    for k, (wd, a) in enumerate(zip(c["widths"], c["acts"])):
        last = k == len(c["widths"]) - 1
        if last and c["task"] == "bce":
            a = "sigmoid"
        if last and c["task"] in ("cce", "sparse"):
            a = "softmax"
        reg = fastnn.regularizers.L2(1e-3) if c["l2"] else None
        ls.append(layers.Dense(wd, activation=a, use_bias=c["bias"], kernel_regularizer=reg))
    m = fastnn.Sequential(ls, dtype=c["dtype"], seed=c["seed"])
    if c["frozen"] >= 0:
        m.layers[c["frozen"]].trainable = False
    loss = {"bce": "binary_crossentropy", "mse": "mse", "cce": "categorical_crossentropy",
            "sparse": "sparse_categorical_crossentropy", "huber": "huber", "mae": "mae"}[c["task"]]
    m.compile(optimizer=c["opt"], loss=loss)
    return m


def _fit(c, small):
    x, y, w = _data(c)
    m = _model(c)
    m.build((None, c["din"]))
    h = m._engine._h
    h.small_step = small
    hist = m.fit(x, y, sample_weight=w, batch_size=c["batch"], epochs=2, shuffle=c["shuffle"], verbose=0)
    return m, hist.history["loss"], h.small_step_used


@pytest.mark.parametrize("i", range(48))
def test_fused_and_general_paths_give_the_same_bits(i):
    c = _config(i)
    if c["task"] in ("cce", "sparse") and c["widths"][-1] < 2:
        c["widths"][-1] = 3
    m1, h1, used1 = _fit(c, True)
    m0, h0, used0 = _fit(c, False)
    assert not used0
    # the fused path runs wherever it applies: widths <= 64 and products too small to share
    assert used1 == (fastnn.get_num_threads() == 1 or
                     all(2 * c["batch"] * a * b < 2e5 for a, b in zip([c["din"]] + c["widths"], c["widths"]))), c
    for a, b in zip(m1.get_weights(), m0.get_weights()):
        assert np.array_equal(a, b), (c, np.abs(a.astype(np.float64) - b).max())
    assert h1 == h0
    x = _data(c)[0]
    np.testing.assert_array_equal(m1.predict(x, verbose=0), m0.predict(x, verbose=0))


def test_wide_networks_take_the_general_path():
    c = _config(0)
    c.update(din=8, widths=[65, 1], acts=["relu", "sigmoid"], task="bce")
    _, _, used = _fit(c, True)
    assert not used


_SCRIPT = r"""
import sys; sys.path.insert(0, {testdir!r})
import test_small_step as t
import fastnn
for i in range(0, 48, 3):
    t.test_fused_and_general_paths_give_the_same_bits(i)
print("ok", fastnn._core.kernel_name())
"""


@pytest.mark.parametrize("kernel", ["generic", "avx2", "avx512"])
def test_same_bits_on_every_kernel_path(kernel):
    env = dict(os.environ, FASTNN_KERNEL=kernel)
    code = _SCRIPT.format(testdir=os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    name = r.stdout.split()[-1]
    if name != kernel:
        pytest.skip(f"this CPU or build has no {kernel} path (ran {name})")


def test_predict_one_batch_shortcut_matches_the_general_path():
    c = _config(3)
    m = _model(c)
    x = _data(c)[0][:32]
    fast = m.predict(x, verbose=0)
    general = m.predict(x, verbose=0, batch_size=32)  # an explicit batch size takes the full validation
    np.testing.assert_array_equal(fast, general)
    np.testing.assert_array_equal(m.predict(x[:5], verbose=0), general[:5])
    bad = x.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="x: contains NaN"):
        m.predict(bad, verbose=0)
    with pytest.raises(ValueError, match="x"):
        m.predict(x[:, :-1] if x.shape[1] > 1 else np.ones((2, 2), x.dtype), verbose=0)
