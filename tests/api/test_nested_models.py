"""Models as layers (nested in Sequential or called in the functional form), subclassed models whose
call() is a chain of fastnn layers, and .numpy()/.item() on what the manual loop returns."""
import numpy as np
import pytest

import fastnn
from fastnn import layers


def _x(n=64, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _softmax64(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_sequential_of_a_trained_model_and_softmax_applies_softmax_to_its_outputs():
    x = _x()
    inner = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(3)], seed=1)
    inner.compile("adam", fastnn.losses.SparseCategoricalCrossentropy(from_logits=True))
    inner.fit(x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0), epochs=2, verbose=0)
    logits = inner.predict(x, verbose=0)
    outer = fastnn.Sequential([inner, layers.Softmax()])
    np.testing.assert_allclose(outer.predict(x, verbose=0), _softmax64(logits), atol=1e-6)
    assert outer.input_shape == (None, 4) and outer.output_shape == (None, 3)
    assert [l.name for l in outer.layers][:2] == [l.name for l in inner.layers]


def test_nested_layers_are_the_outer_models_own_so_training_the_outer_trains_them():
    x = _x()
    inner = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(5)], seed=2)
    before = inner.layers[0].get_weights()
    outer = fastnn.Sequential([inner, layers.Dense(1)], seed=3)
    assert outer.layers[0] is inner.layers[0]
    np.testing.assert_array_equal(outer.layers[0].kernel.numpy(), before[0])
    outer.compile("sgd", "mse")
    outer.fit(x, x[:, :1], epochs=1, verbose=0)
    assert not np.array_equal(inner.layers[0].get_weights()[0], before[0])
    np.testing.assert_array_equal(inner.layers[0].get_weights()[0], outer.get_weights()[0])


def test_the_inner_model_refuses_to_run_alone_once_nested():
    inner = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(2)])
    fastnn.Sequential([inner, layers.Softmax()])
    with pytest.raises(RuntimeError, match="is nested in model"):
        inner.predict(_x())
    with pytest.raises(ValueError, match="already nested"):
        fastnn.Sequential([inner])
    assert "nested in" in repr(inner)


def test_a_frozen_inner_model_stays_frozen_in_the_outer_model():
    x = _x()
    base = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(6, activation="relu")], seed=4)
    base.trainable = False
    w0 = base.get_weights()
    model = fastnn.Sequential([base, layers.Dense(1)], seed=5)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.compile("adam", "mse")
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    for a, b in zip(w0, model.get_weights()[:2]):
        np.testing.assert_array_equal(a, b)


def test_shape_mismatch_between_outer_layers_and_inner_model_is_refused():
    inner = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"takes inputs of shape \(3,\)"):
        fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(5), inner])


def test_functional_model_calling_a_model_as_a_layer(tmp_path):
    x = _x()
    base = fastnn.Sequential([layers.Dense(5, activation="tanh")], seed=6)
    inputs = layers.Input(shape=(4,))
    outputs = layers.Dense(2)(base(inputs))
    model = fastnn.Model(inputs, outputs)
    assert [type(l).__name__ for l in model.layers] == ["Dense", "Dense"]
    assert model.output_shape == (None, 2)
    path = str(tmp_path / "m.fastnn")
    model.save(path)
    back = fastnn.models.load_model(path)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


class _Chain(fastnn.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(8, activation="relu")
        self.drop = layers.Dropout(0.25)
        self.out = layers.Dense(1)

    def call(self, inputs, training=False):
        h = self.hidden(inputs)
        h = self.drop(h, training=training)
        return self.out(h)


def test_subclassed_model_with_a_chain_call_trains_as_the_same_sequential_bitwise():
    x = _x(128)
    y = (x[:, :1] * 2 - x[:, 1:2]).astype(np.float32)
    sub = _Chain(seed=7)
    seq = fastnn.Sequential([layers.Dense(8, activation="relu"), layers.Dropout(0.25), layers.Dense(1)], seed=7)
    for m in (sub, seq):
        m.compile("adam", "mse")
    h1 = sub.fit(x, y, epochs=3, batch_size=16, verbose=0)
    h2 = seq.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert h1.history["loss"] == h2.history["loss"]
    for a, b in zip(sub.get_weights(), seq.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert sub.layers == [sub.hidden, sub.drop, sub.out]


def test_subclassed_model_builds_on_build_and_on_a_call():
    m = _Chain()
    m.build((None, 4))
    assert m.output_shape == (None, 1) and m.count_params() == 4 * 8 + 8 + 8 + 1
    m2 = _Chain()
    out = m2(_x(3))
    assert out.numpy().shape == (3, 1)


def test_subclassed_call_that_is_not_a_chain_raises_clearly():
    class Scaled(fastnn.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x) * 2.0

    class Twice(fastnn.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(4)

        def call(self, x):
            return self.d(self.d(x))

    with pytest.raises(TypeError, match=r"Scaled.call\(\): tracing it"):
        Scaled().build((None, 4))
    with pytest.raises(NotImplementedError, match="twice"):
        Twice().build((None, 4))
    with pytest.raises(NotImplementedError, match="subclassed model and needs a call"):
        fastnn.Model()


def test_numpy_and_item_on_outputs_and_losses():
    m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(2)], seed=8)
    x = _x(5)
    out = m(x)
    a = out.numpy()
    assert type(a) is np.ndarray and a.flags.writeable
    np.testing.assert_array_equal(a, m.predict(x, verbose=0))
    loss = fastnn.losses.MeanSquaredError()(np.zeros((5, 2), np.float32), out)
    ref = float(np.mean(np.asarray(a, np.float64) ** 2))
    assert loss.numpy() == pytest.approx(ref, rel=1e-6) and isinstance(loss.numpy(), np.floating)
    assert type(loss.item()) is float and float(loss) == loss.item()
    m.compile("sgd", "mse")
    h = m.fit(x, np.zeros((5, 2), np.float32), epochs=2, verbose=0)
    assert all(type(v) is float for v in h.history["loss"])
    assert type(m.evaluate(x, np.zeros((5, 2)), verbose=0)) is float
