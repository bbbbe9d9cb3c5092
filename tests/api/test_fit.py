"""Sequential / Model: structure, compile, fit (Keras semantics), evaluate, predict, batch methods."""
import numpy as np
import pytest

import fastnn
from fastnn import layers


def _data(n=96, d=6, seed=0, kind="binary"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    if kind == "binary":
        y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)
    elif kind == "sparse":
        y = (np.digitize(x[:, 0], [-0.5, 0.5])).astype(np.int64)
    else:
        y = np.stack([x[:, 0] - x[:, 1], x[:, 2] * 0.5], axis=1).astype(np.float32)
    return x, y


def _model(d=6, out=1, act="sigmoid", seed=0, hidden=8, extra=(), dtype="float32"):
    fastnn.utils.set_random_seed(seed)
    return fastnn.Sequential([layers.Input(shape=(d,)), layers.Dense(hidden, activation="tanh"), *extra,
                              layers.Dense(out, activation=act)], dtype=dtype)


def _same(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))


# ------------------------------------------------------------------------------------ structure
def test_add_pop_layers_build():
    m = fastnn.Sequential(name="net")
    assert m.name == "net" and m.layers == [] and not m.built
    d1, d2 = layers.Dense(4, name="a"), layers.Dense(2, name="b")
    m.add(d1)
    m.add(d2)
    assert not m.built and m.layers == [d1, d2]
    m.build((None, 3))
    assert m.built and m.input_shape == (None, 3) and m.output_shape == (None, 2)
    assert m.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    k = d1.get_weights()
    popped = m.pop()
    assert popped is d2 and m.layers == [d1] and m.output_shape == (None, 4)
    assert all(np.array_equal(p, q) for p, q in zip(k, d1.get_weights()))  # kept through pop
    m.add(layers.Dense(5))
    assert m.count_params() == 16 + 25
    assert all(np.array_equal(p, q) for p, q in zip(k, d1.get_weights()))  # kept through add


def test_input_layer_builds_on_add_and_add_rolls_back_on_error():
    m = fastnn.Sequential([layers.Input(shape=(2, 3))])
    with pytest.raises(ValueError, match="Flatten"):
        m.add(layers.Dense(4))
    assert m.layers == [] and not m.built
    m.add(layers.Flatten())
    m.add(layers.Dense(4))
    assert m.built and m.output_shape == (None, 4) and m.count_params() == 28


def test_get_layer_by_name_and_index():
    m = _model()
    first = m.layers[0]
    assert m.get_layer(first.name) is first
    assert m.get_layer(index=1) is m.layers[1]
    assert m.get_layer(0) is first
    assert m.get_layer(index=-1) is m.layers[-1]
    with pytest.raises(ValueError, match="no layer named"):
        m.get_layer("nope")
    with pytest.raises(ValueError, match="out of range"):
        m.get_layer(index=5)


def test_summary_table_and_counts():
    m = _model(extra=(layers.BatchNormalization(),))
    lines = []
    m.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f'Model: "{m.name}"' in text
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    for l in m.layers:
        assert f"{l.name} ({type(l).__name__})" in text
    assert "(None, 8)" in text and "(None, 1)" in text
    total = m.count_params()
    assert total == 6 * 8 + 8 + 4 * 8 + 8 + 1
    assert f"Total params: {total:,}" in text
    assert f"Trainable params: {total - 16:,}" in text       # moving mean / variance
    assert "Non-trainable params: 16" in text
    widths = {len(l) for l in lines if l and set(l) <= {"_", "="}}
    assert len(widths) == 1                                   # the table rules line up


def test_get_config_from_config_round_trip():
    m = _model(extra=(layers.Dropout(0.25), layers.BatchNormalization(momentum=0.9),
                      layers.LayerNormalization(), layers.Activation("relu")))
    cfg = m.get_config()
    clone = fastnn.Sequential.from_config(cfg)
    assert clone.get_config() == cfg
    assert [type(l) for l in clone.layers] == [type(l) for l in m.layers]
    assert clone.count_params() == m.count_params()
    assert clone.layers[2].momentum == 0.9 and clone.layers[1].rate == 0.25


def test_model_call_forward_matches_predict():
    m = _model()
    x, _ = _data()
    out = m(x)
    assert isinstance(out, np.ndarray) and out.shape == (96, 1)
    np.testing.assert_array_equal(np.asarray(out), m.predict(x, verbose=0))
    k, b = m.layers[0].get_weights()
    k2, b2 = m.layers[1].get_weights()
    ref = 1 / (1 + np.exp(-(np.tanh(x.astype(np.float64) @ k + b) @ k2 + b2)))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_functional_model_chain():
    fastnn.utils.set_random_seed(1)
    inp = layers.Input(shape=(6,))
    h = layers.Dense(8, activation="tanh")(inp)
    assert h.shape == (None, 8)
    out = layers.Dense(1, activation="sigmoid")(h)
    m = fastnn.Model(inp, out)
    assert isinstance(m, fastnn.Model) and isinstance(fastnn.Sequential(), fastnn.Model)
    assert m.count_params() == 6 * 8 + 8 + 9
    x, y = _data()
    m.compile("adam", "binary_crossentropy")
    h = m.fit(x, y, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    class Custom(fastnn.Model):     # a subclass with call() is traced at build (tests/test_nested_models.py)
        def call(self, x):
            return x
    with pytest.raises(ValueError, match="applies no fastnn layer"):
        Custom().build((None, 3))
    with pytest.raises(NotImplementedError, match="calling a layer on data"):
        layers.Dense(2)(x)


# ------------------------------------------------------------------------------------ compile
@pytest.mark.parametrize("loss,out,act,name,cls", [
    ("binary_crossentropy", 1, "sigmoid", "accuracy", "BinaryAccuracy"),
    ("mse", 1, None, "acc", "BinaryAccuracy"),
    ("categorical_crossentropy", 3, "softmax", "accuracy", "CategoricalAccuracy"),
    ("sparse_categorical_crossentropy", 3, "softmax", "acc", "SparseCategoricalAccuracy"),
])
def test_accuracy_resolved_as_keras(loss, out, act, name, cls):
    m = _model(out=out, act=act)
    m.compile(optimizer="sgd", loss=loss, metrics=[name])
    assert type(m.metrics[0]).__name__ == cls
    assert m.metrics_names == ["loss", name]


def test_compile_accepts_objects():
    m = _model()
    opt = fastnn.optimizers.Adam(learning_rate=0.01)
    m.compile(optimizer=opt, loss=fastnn.losses.BinaryCrossentropy(),
              metrics=[fastnn.metrics.AUC(name="my_auc"), "mae"])
    assert m.optimizer is opt and m.metrics_names == ["loss", "my_auc", "mae"]
    assert m.optimizer.learning_rate == pytest.approx(0.01)
    x, y = _data()
    assert set(m.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "my_auc", "mae"}
    with pytest.raises(ValueError, match="loss is required"):
        _model().compile(optimizer="adam")
    with pytest.raises(ValueError, match="unknown name"):
        _model().compile(optimizer="nope", loss="mse")


def test_fit_before_compile_raises():
    x, y = _data()
    with pytest.raises(RuntimeError, match="compiled"):
        _model().fit(x, y)


# ------------------------------------------------------------------------------------ fit
def test_fit_history_logs_and_model_history():
    x, y = _data()
    m = _model()
    m.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=3, batch_size=16, validation_data=(x[:20], y[:20]), verbose=0)
    assert m.history is h and isinstance(h, fastnn.callbacks.History)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in h.history.values()) and h.epoch == [0, 1, 2]
    assert h.history["loss"][-1] < h.history["loss"][0]
    # The last validation values are evaluate() on the validation data with the final weights.
    ev = m.evaluate(x[:20], y[:20], verbose=0, return_dict=True)
    assert h.history["val_loss"][-1] == pytest.approx(ev["loss"], rel=1e-12)
    assert h.history["val_accuracy"][-1] == pytest.approx(ev["accuracy"])


def test_fit_loss_is_mean_of_batch_losses():
    x, y = _data(n=40)
    a = _model()
    a.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy")
    b = _model()
    b.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy")
    h = a.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    losses, sizes = [], []
    for i in range(0, 40, 16):
        losses.append(b.train_on_batch(x[i:i + 16], y[i:i + 16]))
        sizes.append(len(x[i:i + 16]))
    assert _same(a, b)
    assert h.history["loss"][0] == pytest.approx(np.average(losses, weights=sizes), rel=1e-6)


def test_validation_split_takes_tail_before_shuffling():
    x, y = _data(n=100)
    y_bad = y.copy()
    y_bad[80:] = 1 - y_bad[80:]          # the tail must never be trained on
    for shuffle in (False, True):
        a = _model(seed=3)
        a.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy")
        b = _model(seed=3)
        b.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy")
        ha = a.fit(x, y_bad, batch_size=16, epochs=2, validation_split=0.2, shuffle=shuffle, verbose=0)
        b.fit(x[:80], y_bad[:80], batch_size=16, epochs=2, shuffle=shuffle, verbose=0)
        assert _same(a, b)
        assert ha.history["val_loss"][-1] == pytest.approx(a.evaluate(x[80:], y_bad[80:], verbose=0), rel=1e-12)


def test_validation_split_too_large_raises():
    x, y = _data(n=3)
    m = _model()
    m.compile("sgd", "binary_crossentropy")
    with pytest.raises(ValueError, match="leaves no samples"):
        m.fit(x, y, validation_split=0.9, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        m.fit(x, y, validation_split=1.0, verbose=0)


def test_shuffle_reproducible_with_seed_and_differs_from_unshuffled():
    x, y = _data()

    def train(shuffle, seed):
        m = _model(seed=seed)
        m.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy")
        m.fit(x, y, batch_size=8, epochs=2, shuffle=shuffle, verbose=0)
        return m

    a, b, c = train(True, 5), train(True, 5), train(False, 5)
    assert _same(a, b)
    assert not _same(a, c)


def test_class_weight_equals_sample_weight_and_skips_validation():
    x, y = _data(n=80)
    cw = {0: 0.5, 1: 3.0}
    a = _model()
    a.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy")
    b = _model()
    b.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy")
    ha = a.fit(x, y, batch_size=16, epochs=2, class_weight=cw, shuffle=False,
               validation_data=(x[:30], y[:30]), verbose=0)
    b.fit(x, y, batch_size=16, epochs=2, sample_weight=np.where(y == 1, 3.0, 0.5), shuffle=False, verbose=0)
    assert _same(a, b)
    # Validation is not class-weighted (Keras): val_loss is the plain loss.
    assert ha.history["val_loss"][-1] == pytest.approx(a.evaluate(x[:30], y[:30], verbose=0), rel=1e-12)
    # One-hot targets pick the class by argmax.
    m = _model(out=2, act="softmax")
    m.compile("sgd", "categorical_crossentropy")
    m.fit(x, fastnn.utils.to_categorical(y.astype(int), 2), class_weight={1: 2.0}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        m.fit(x, fastnn.utils.to_categorical(y.astype(int), 2), class_weight={-1: 2.0}, verbose=0)


def test_sample_weight_scales_gradient_and_loss():
    x, y = _data(n=64)
    a = _model()
    a.compile(fastnn.optimizers.SGD(0.05), "binary_crossentropy")
    b = _model()
    b.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy")
    ha = a.fit(x, y, batch_size=16, epochs=2, sample_weight=np.full(64, 2.0), shuffle=False, verbose=0)
    hb = b.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    # Weight 2 doubles every gradient, as doubling the SGD rate does (exact in binary floating point).
    assert _same(a, b)
    assert ha.history["loss"][0] == pytest.approx(2 * hb.history["loss"][0], rel=1e-6)
    zero = np.ones(64)
    zero[:32] = 0
    m = _model()
    m.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy")
    before = m.get_weights()
    m.fit(x[:32], y[:32], sample_weight=zero[:32], batch_size=16, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(before, m.get_weights()))


def test_metrics_ignore_weights_weighted_metrics_use_them():
    x, y = _data(n=64)
    m = _model()
    m.compile("sgd", "binary_crossentropy", metrics=["accuracy"], weighted_metrics=["accuracy"])
    assert m.metrics_names == ["loss", "accuracy", "weighted_accuracy"]
    w = np.where(np.arange(64) < 32, 1.0, 0.0)
    logs = m.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    pred = (m.predict(x, verbose=0)[:, 0] > 0.5).astype(np.float32)
    assert logs["accuracy"] == pytest.approx(np.mean(pred == y))
    assert logs["weighted_accuracy"] == pytest.approx(np.mean(pred[:32] == y[:32]))


def test_loss_weights_scale_the_loss():
    x, y = _data()
    a = _model()
    a.compile("sgd", "binary_crossentropy", loss_weights=[3.0])
    b = _model()
    b.compile("sgd", "binary_crossentropy")
    assert a.evaluate(x, y, verbose=0) == pytest.approx(3 * b.evaluate(x, y, verbose=0), rel=1e-6)


def test_initial_epoch_and_epoch_indices():
    x, y = _data()
    m = _model()
    m.compile("sgd", "binary_crossentropy")
    seen = []
    cb = fastnn.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(e))
    h = m.fit(x, y, epochs=5, initial_epoch=2, callbacks=[cb], verbose=0)
    assert seen == [2, 3, 4] and h.epoch == [2, 3, 4] and len(h.history["loss"]) == 3


def test_steps_per_epoch_caps_batches():
    x, y = _data(n=100)
    m = _model()
    m.compile("sgd", "binary_crossentropy")
    m.fit(x, y, batch_size=10, epochs=3, steps_per_epoch=4, verbose=0)
    assert m.optimizer.iterations == 12
    m2 = _model()
    m2.compile("sgd", "binary_crossentropy")
    m2.fit(x, y, batch_size=10, epochs=2, verbose=0)
    assert m2.optimizer.iterations == 20


def test_validation_freq_and_validation_batch_size():
    x, y = _data()
    m = _model()
    m.compile("sgd", "binary_crossentropy")
    h = m.fit(x, y, epochs=4, validation_data=(x, y), validation_freq=2, verbose=0)
    assert len(h.history["loss"]) == 4 and len(h.history["val_loss"]) == 2
    h = m.fit(x, y, epochs=3, validation_data=(x, y), validation_freq=[1, 3], verbose=0)
    assert len(h.history["val_loss"]) == 2
    a = _model()
    a.compile("sgd", "binary_crossentropy")
    b = _model()
    b.compile("sgd", "binary_crossentropy")
    ha = a.fit(x, y, epochs=1, shuffle=False, validation_data=(x, y), validation_batch_size=7, verbose=0)
    hb = b.fit(x, y, epochs=1, shuffle=False, validation_data=(x, y), validation_batch_size=64, verbose=0)
    assert ha.history["val_loss"][0] == pytest.approx(hb.history["val_loss"][0], rel=1e-12)


def test_validation_data_with_sample_weight():
    x, y = _data()
    m = _model()
    m.compile("sgd", "binary_crossentropy")
    w = np.linspace(0, 2, 20)
    h = m.fit(x, y, epochs=1, validation_data=(x[:20], y[:20], w), verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(m.evaluate(x[:20], y[:20], sample_weight=w, verbose=0), rel=1e-12)


def test_fit_argument_errors():
    x, y = _data()
    m = _model()
    m.compile("sgd", "binary_crossentropy")
    with pytest.raises(ValueError, match="batch_size"):
        m.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        m.fit(x, y, epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="shuffle"):
        m.fit(x, y, shuffle="yes", verbose=0)
    with pytest.raises(ValueError, match="validation_data"):
        m.fit(x, y, validation_data=(x,), verbose=0)
    with pytest.raises(ValueError, match="expected 96 samples"):
        m.fit(x, y[:50], verbose=0)


# ------------------------------------------------------------------------------------ evaluate / predict
def test_evaluate_return_forms_and_sample_weight():
    x, y = _data()
    m = _model()
    m.compile("sgd", "binary_crossentropy")
    loss = m.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)
    p = m.predict(x, verbose=0)[:, 0].astype(np.float64)
    ref = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert loss == pytest.approx(ref, rel=1e-5)
    w = np.linspace(0.1, 2, 96)
    wl = m.evaluate(x, y, sample_weight=w, verbose=0)
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert wl == pytest.approx(np.sum(w * per) / 96, rel=1e-5)   # Keras: sum(w * l) / n
    m.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    res = m.evaluate(x, y, verbose=0)
    assert isinstance(res, list) and len(res) == 2
    d = m.evaluate(x, y, verbose=0, return_dict=True)
    assert d == {"loss": res[0], "accuracy": res[1]}
    assert m.evaluate(x, y, batch_size=5, verbose=0) == pytest.approx(res, rel=1e-12)


def test_predict_batch_size_independent_and_shapes():
    x, _ = _data(n=50)
    m = _model(out=3, act="softmax")
    p = m.predict(x, verbose=0)
    assert p.shape == (50, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(p, m.predict(x, batch_size=7, verbose=0))
    np.testing.assert_array_equal(p[3:4], m.predict(x[3:4], verbose=0))
    np.testing.assert_array_equal(p, m.predict_on_batch(x))


def test_train_test_predict_on_batch():
    x, y = _data(n=32)
    m = _model()
    m.compile(fastnn.optimizers.SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
    before = m.evaluate(x, y, verbose=0, return_dict=True)
    t = m.test_on_batch(x, y, return_dict=True)
    assert t["loss"] == pytest.approx(before["loss"], rel=1e-12)
    loss, acc = m.train_on_batch(x, y)
    assert loss == pytest.approx(before["loss"], rel=1e-5)   # the loss before the update
    assert acc == pytest.approx(before["accuracy"])
    after = m.test_on_batch(x, y)
    assert after[0] < before["loss"]
    assert m.optimizer.iterations == 1
    assert m.predict_on_batch(x).shape == (32, 1)


def test_float64_model():
    x, y = _data()
    m = _model(dtype="float64")
    m.compile("adam", "binary_crossentropy")
    m.fit(x, y, epochs=1, verbose=0)
    assert m.predict(x, verbose=0).dtype == np.float64
    assert all(w.dtype == np.float64 for w in m.get_weights())


# ------------------------------------------------------------------------------------ weights
def test_get_set_weights_keras_layout():
    m = _model(extra=(layers.BatchNormalization(),))
    shapes = [w.shape for w in m.get_weights()]
    assert shapes == [(6, 8), (8,), (8,), (8,), (8,), (8,), (8, 1), (1,)]
    new = [np.full(s, 0.5, np.float32) for s in shapes]
    m.set_weights(new)
    assert all(np.array_equal(a, b) for a, b in zip(m.get_weights(), new))
    dense = m.layers[0]
    assert np.asarray(dense.kernel).shape == (6, 8) and np.asarray(dense.bias).shape == (8,)
    dense.set_weights([np.eye(6, 8, dtype=np.float32), np.arange(8, dtype=np.float32)])
    np.testing.assert_array_equal(np.asarray(dense.kernel), np.eye(6, 8))
    np.testing.assert_array_equal(m.get_weights()[1], np.arange(8))
    with pytest.raises(ValueError, match="expected 8 arrays"):
        m.set_weights(new[:-1])
    with pytest.raises(ValueError, match="shape"):
        dense.set_weights([np.zeros((3, 3)), np.zeros(8)])


def test_frozen_layer_is_not_updated():
    x, y = _data()
    m = _model()
    m.layers[0].trainable = False
    m.compile(fastnn.optimizers.SGD(0.5), "binary_crossentropy")
    frozen = m.layers[0].get_weights()
    last = m.layers[1].get_weights()
    m.fit(x, y, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, m.layers[0].get_weights()))
    assert not np.array_equal(last[0], m.layers[1].get_weights()[0])
    assert len(m.trainable_weights) == 2 and len(m.non_trainable_weights) == 2
    m.layers[0].trainable = True
    m.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(frozen[0], m.layers[0].get_weights()[0])
    m.trainable = False
    assert m.trainable_weights == []
    snap = m.get_weights()
    m.fit(x, y, epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(snap, m.get_weights()))


# ------------------------------------------------------------------------------------ layers in models
def test_flatten_multi_dim_inputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2, 3, 4)).astype(np.float32)
    y = x.reshape(30, -1)[:, :2].sum(1, keepdims=True)
    fastnn.utils.set_random_seed(0)
    m = fastnn.Sequential([layers.Input(shape=(2, 3, 4)), layers.Flatten(), layers.Dense(1)])
    assert m.layers[0].output_shape == (24,) and m.count_params() == 25
    m.compile("sgd", "mse")
    m.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(m.predict(x, verbose=0), m.predict(x.reshape(30, 24), verbose=0))
    k, b = m.layers[1].get_weights()
    np.testing.assert_allclose(m.predict(x, verbose=0), x.reshape(30, -1) @ k + b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="samples of shape"):
        m.predict(x[:, :1], verbose=0)
    # Built from the data's shape when no input shape is declared.
    m2 = fastnn.Sequential([layers.Flatten(), layers.Dense(2)])
    assert m2.predict(x, verbose=0).shape == (30, 2) and m2.input_shape == (None, 2, 3, 4)


def test_dropout_inactive_in_inference_active_in_training_and_seeded():
    x = np.ones((200, 50), np.float32)

    def make(seed):
        fastnn.utils.set_random_seed(seed)
        return fastnn.Sequential([layers.Input(shape=(50,)), layers.Dropout(0.4)])

    m = make(0)
    np.testing.assert_array_equal(m.predict(x, verbose=0), x)
    np.testing.assert_array_equal(m(x), x)
    t = np.asarray(m(x, training=True))
    zeros = np.mean(t == 0)
    assert 0.35 < zeros < 0.45
    np.testing.assert_allclose(t[t != 0], 1 / 0.6, rtol=1e-6)
    t2 = np.asarray(m(x, training=True))
    assert not np.array_equal(t, t2)                       # a new mask each pass
    np.testing.assert_array_equal(np.asarray(make(0)(x, training=True)), t)   # same seed, same masks
    assert not np.array_equal(np.asarray(make(1)(x, training=True)), t)


def test_activation_layer():
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Activation("relu")])
    np.testing.assert_array_equal(m.predict(x, verbose=0), np.maximum(x, 0))
    m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Activation("softmax")])
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(m.predict(x, verbose=0), e / e.sum(1, keepdims=True), rtol=1e-6)


def test_failed_compile_changes_nothing():
    m = _model()
    opt = fastnn.optimizers.SGD(0.1)
    m.compile(opt, "binary_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="Unknown metric"):
        m.compile("adam", "mse", metrics=["no_such_metric"])
    assert m.optimizer is opt and m.metrics_names == ["loss", "accuracy"] and m.loss.kind == "binary_crossentropy"
    other = _model(seed=1)
    with pytest.raises(ValueError, match="another model"):
        other.compile(opt, "mse")
    assert opt._model is m
