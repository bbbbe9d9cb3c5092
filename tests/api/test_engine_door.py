"""The one door to native state (fastnn._engine.NativeNet): call orders that used to crash the
process or silently mislead it. Each possible crash runs in a child process."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import fastnn
from fastnn import layers

_PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


def _child(code):
    env = dict(os.environ)
    env["PYTHONPATH"] = _PKG_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("FASTNN_NUM_THREADS", "2")
    prelude = textwrap.dedent("""
        import numpy as np, fastnn
        from fastnn import layers
        rng = np.random.default_rng(0)
        x = rng.random((8, 4)).astype(np.float32); y = rng.random((8, 2)).astype(np.float32)
        def model():
            m = fastnn.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)], seed=1)
            m.compile("adam", "mse")
            return m
    """)
    r = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"child failed with {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r.stdout


def _model(seed=1):
    m = fastnn.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)], seed=seed)
    m.compile("adam", "mse")
    return m


def _data(n=8):
    rng = np.random.default_rng(0)
    return rng.random((n, 4)).astype(np.float32), rng.random((n, 2)).astype(np.float32)


@pytest.mark.parametrize("where", ["before_loss", "before_backward"])
def test_compile_inside_the_manual_loop_raises_instead_of_crashing(where):
    out = _child(f"""
        m = model()
        out = m(x, training=True)
        if "{where}" == "before_loss":
            m.compile("sgd", "mse")
            try:
                m.loss(y, out)
            except RuntimeError as e:
                print("refused:", e)
        else:
            loss = m.loss(y, out)
            m.compile("sgd", "mse")
            try:
                loss.backward()
            except RuntimeError as e:
                print("refused:", e)
        out = m(x, training=True); m.loss(y, out).backward(); m.optimizer.step()
        print("still works")
    """)
    assert "refused:" in out and "compiled since this forward pass" in out and "still works" in out


def test_manual_loop_on_a_model_without_native_layers():
    out = _child("""
        m = fastnn.Sequential([layers.Input((2, 2)), layers.Flatten()])
        m.compile("sgd", "mse")
        xs = x.reshape(8, 2, 2)
        m.optimizer.zero_grad()
        out = m(xs, training=True)
        loss = m.loss(x, out)
        loss.backward()
        m.optimizer.step()
        ref = fastnn.losses.MeanSquaredError()(x, np.asarray(out))
        print("ok", float(loss), float(ref), np.array_equal(np.asarray(out), x))
    """)
    ok, a, b, same = out.split()
    assert ok == "ok" and float(a) == float(b) == 0.0 and same == "True"


def test_two_threads_running_the_manual_loop_on_one_model():
    out = _child("""
        import threading
        m = model()
        errors, done = [], []
        def loop():
            for _ in range(300):
                try:
                    m.optimizer.zero_grad()
                    out = m(x, training=True)
                    m.loss(y, out).backward()
                    m.optimizer.step()
                    done.append(1)
                except RuntimeError as e:
                    errors.append(str(e))
        ts = [threading.Thread(target=loop) for _ in range(2)]
        [t.start() for t in ts]; [t.join() for t in ts]
        assert all("forward pass" in e for e in errors), errors[:3]
        print("ok", len(done), len(errors), np.isfinite(np.concatenate([w.ravel() for w in m.get_weights()])).all())
    """)
    ok, done, _errors, finite = out.split()
    assert ok == "ok" and int(done) > 0 and finite == "True"


class _During(fastnn.callbacks.Callback):
    def __init__(self, action):
        super().__init__()
        self.action, self.errors = action, []

    def on_epoch_end(self, epoch, logs=None):
        try:
            self.action(self.model)
        except RuntimeError as e:
            self.errors.append(str(e))


@pytest.mark.parametrize("name,action", [
    ("add", lambda m: m.add(layers.Dense(2))),
    ("pop", lambda m: m.pop()),
    ("compile", lambda m: m.compile("sgd", "mse")),
    ("manual loop", lambda m: m(np.ones((2, 4), np.float32), training=True)),
    ("fit", lambda m: m.fit(np.ones((2, 4)), np.ones((2, 2)), verbose=0)),
])
def test_structural_changes_from_a_callback_during_fit_raise(name, action):
    x, y = _data(32)
    m = _model()
    cb = _During(action)
    h = m.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
    assert len(cb.errors) == 2 and all("fit() is running on this model" in e for e in cb.errors)
    assert len(m.layers) == 2 and len(h.history["loss"]) == 2 and m.optimizer.iterations == 8


def test_value_writes_from_the_fitting_thread_take_effect_and_other_threads_are_refused():
    x, y = _data(64)
    m = _model()
    zeros = [np.zeros_like(w) for w in m.get_weights()]
    seen = {}

    class Cb(fastnn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.model.set_weights(zeros)        # a callback of the fit: allowed, at the step boundary
                seen["after"] = self.model.get_weights()
                errors = []
                t = threading.Thread(target=lambda: _catch(errors, lambda: self.model.set_weights(zeros)))
                t.start()
                t.join()
                u = threading.Thread(target=lambda: _catch(errors, lambda: self.model.compile("sgd", "mse")))
                u.start()
                u.join()
                seen["errors"] = errors

    m.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[Cb()])
    assert all(np.array_equal(a, b) for a, b in zip(seen["after"], zeros))
    assert len(seen["errors"]) == 2 and all("fit() is running" in e and "in thread" in e for e in seen["errors"])


def _catch(errors, fn):
    try:
        fn()
    except RuntimeError as e:
        errors.append(str(e))


def test_snapshots_during_fit_are_taken_at_a_step_boundary():
    """A file saved while another thread fits holds weights and a step count of one moment: loading
    it and continuing from its step count reproduces the weights of a model trained that far."""
    x, y = _data(256)
    m = _model()
    stop = threading.Event()
    blobs = []

    def snap():
        while not stop.is_set():
            blobs.append(fastnn.saving.to_bytes(m))

    t = threading.Thread(target=snap)
    t.start()
    m.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    stop.set()
    t.join()
    assert blobs
    for blob in blobs[:: max(1, len(blobs) // 5)]:
        snapshot = fastnn.saving.from_bytes(blob)
        it = snapshot.optimizer.iterations
        ref = _model()
        for _ in range(it):   # the same steps, one at a time, in the same order (64 batches per epoch)
            step = _ % 64
            ref.train_on_batch(x[step * 4:step * 4 + 4], y[step * 4:step * 4 + 4])
        for a, b in zip(snapshot.get_weights(), ref.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_popped_layer_weight_handles_are_dead():
    m = fastnn.Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(5)])
    kernel = m.layers[1].kernel
    kept = m.layers[0].kernel
    m.pop()
    m.add(layers.Dense(5, name="replacement"))
    with pytest.raises(ValueError, match="popped"):
        kernel.numpy()
    with pytest.raises(ValueError, match="popped"):
        kernel.assign(np.zeros((3, 5)))
    replacement = m.layers[1].kernel.numpy()
    assert not np.array_equal(replacement, np.zeros((3, 5)))
    # A handle of a layer still in the model survives the rebuild.
    np.testing.assert_array_equal(kept.numpy(), m.layers[0].get_weights()[0])
    kept.assign(np.ones((4, 3)))
    np.testing.assert_array_equal(m.layers[0].get_weights()[0], np.ones((4, 3)))


def test_samples_of_another_shape_are_refused():
    m = fastnn.Sequential([layers.Input((8,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"expected samples of shape \(8,\), got \(2, 4\)"):
        m.predict(np.ones((3, 2, 4)), verbose=0)
    with pytest.raises(ValueError, match="samples of shape"):
        m(np.ones((3, 2, 4)))


def test_backward_after_fit_says_fit_ran():
    x, y = _data()
    m = _model()
    out = m(x, training=True)
    loss = m.loss(y, out)
    m.fit(x, y, verbose=0)
    with pytest.raises(RuntimeError, match=r"fit\(\) ran since this forward pass"):
        loss.backward()


def _grads(m):
    return [v.grad.copy() for v in m.weights]


def test_sums_of_losses_accumulate_both_gradients():
    x, y = _data()
    m = _model()
    mae = fastnn.losses.MeanAbsoluteError()
    m.optimizer.zero_grad()
    out = m(x, training=True)
    m.loss(y, out).backward()
    g_mse = _grads(m)
    m.optimizer.zero_grad()
    out = m(x, training=True)
    mae(y, out).backward()
    g_mae = _grads(m)
    m.optimizer.zero_grad()
    out = m(x, training=True)
    total = m.loss(y, out) + 0.5 * mae(y, out)
    np.testing.assert_allclose(float(total), float(m.loss(y, out)) + 0.5 * float(mae(y, out)), rtol=1e-6)
    total.backward()
    for g, a, b in zip(_grads(m), g_mse, g_mae):
        np.testing.assert_allclose(g, a + 0.5 * b, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="product of two losses"):
        (m.loss(y, out) * mae(y, out)).backward()


def test_an_older_loss_of_the_same_pass_gets_its_own_gradient():
    x, y = _data()
    m = _model()
    m.optimizer.zero_grad()
    out = m(x, training=True)
    m.loss(y, out).backward()
    ref = _grads(m)
    m.optimizer.zero_grad()
    out = m(x, training=True)
    first = m.loss(y, out)
    fastnn.losses.MeanAbsoluteError()(y, out)   # leaves its own gradient in the engine
    first.backward()
    for g, r in zip(_grads(m), ref):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("transform", [
    lambda o: 1 - o, lambda o: o * 0, lambda o: np.clip(o, 0.2, 0.4), lambda o: 1 / (1 + np.exp(-o)),
    lambda o: o.copy(), lambda o: o + 0,
])
def test_numpy_transforms_of_an_output_are_plain_arrays(transform):
    x, y = _data()
    m = _model()
    out = m(x, training=True)
    t = transform(out)
    assert type(t) is not fastnn.manual.ModelOutput or getattr(t, "_fastnn_source", None) is None
    loss = m.loss(y, t)
    expect = np.mean((np.asarray(t, np.float64) - y) ** 2)
    np.testing.assert_allclose(float(loss), expect, rtol=1e-5)
    with pytest.raises(RuntimeError, match="not a model output"):
        loss.backward()


def test_outputs_are_read_only():
    x, _y = _data()
    out = _model()(x)
    with pytest.raises(ValueError, match="read-only"):
        out *= 0
    with pytest.raises(ValueError, match="read-only"):
        out[0, 0] = 1.0


def test_loss_on_a_slice_is_its_value_and_says_what_is_supported():
    x, y = _data()
    m = _model()
    out = m(x, training=True)
    loss = m.loss(y[:4], out[:4])
    np.testing.assert_allclose(float(loss), np.mean((np.asarray(out)[:4].astype(np.float64) - y[:4]) ** 2),
                               rtol=1e-5)
    with pytest.raises(RuntimeError, match="slice"):
        loss.backward()


def test_second_backward_needs_retain_graph():
    x, y = _data()
    m = _model()
    m.optimizer.zero_grad()
    out = m(x, training=True)
    loss = m.loss(y, out)
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()
    m.optimizer.zero_grad()
    out = m(x, training=True)
    loss = m.loss(y, out)
    loss.backward(retain_graph=True)
    once = _grads(m)
    loss.backward()
    for g, a in zip(_grads(m), once):
        np.testing.assert_allclose(g, 2 * a, rtol=1e-5, atol=1e-7)


def test_train_and_eval_modes():
    x = np.ones((200, 4), np.float32)
    m = fastnn.Sequential([layers.Input((4,)), layers.Dropout(0.5)], seed=3)
    assert m.training is False
    np.testing.assert_array_equal(m(x), x)                      # Keras's default: inference
    assert m.train() is m and m.training is True
    assert (np.asarray(m(x)) == 0).mean() > 0.3                   # dropout active
    np.testing.assert_array_equal(m(x, training=False), x)      # training= still wins
    assert m.eval() is m and m.training is False
    np.testing.assert_array_equal(m(x), x)
    with pytest.raises(TypeError, match="mode"):
        m.train("yes")
