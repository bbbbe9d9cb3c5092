"""What the ported TensorFlow tutorials need beyond the core (tests/system/keras_scripts/), each
against Keras 3's behaviour (numerically where keras is installed, KERAS_BACKEND=torch) or numpy:
None initializers, 1-D x for one-feature models, Normalization(axis=None) and preprocessing layers
called on data, model.losses, schedules on arrays of steps, tf.linspace / tf.add_n, and the
in-memory tf.data.Dataset (iteration, and fit on its arrays bitwise as on the streamed batches)."""
import pickle

import numpy as np
import pytest

import fastnn
import fastnn as tf
from fastnn import data_adapter, layers


def _np(v):
    return np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)


# ------------------------------------------------------------------------------ None initializers
def test_none_initializers_are_glorot_uniform_as_in_keras_add_weight(keras_module):
    keras = keras_module
    kd = keras.layers.Dense(400, bias_initializer=None, kernel_initializer=None)
    kd.build((None, 30))
    fd = fastnn.Sequential([layers.Input((30,)), layers.Dense(400, bias_initializer=None,
                                                              kernel_initializer=None)], seed=0).layers[0]
    for name, fan_sum in (("bias", 800), ("kernel", 430)):
        k, f = _np(getattr(kd, name).numpy()), getattr(fd, name).numpy()
        bound = np.sqrt(6 / fan_sum)     # glorot_uniform; a vector's fans are both its length
        for v in (k, f):
            assert np.abs(v).max() <= bound * (1 + 1e-6) and np.abs(v).max() > 0.9 * bound
            assert abs(v.std() - bound / np.sqrt(3)) < 0.1 * bound
    assert fd.get_config()["bias_initializer"]["class_name"] == "GlorotUniform"
    bn = fastnn.Sequential([layers.Input((500,)), layers.BatchNormalization(beta_initializer=None)], seed=0)
    assert np.abs(bn.get_weights()[1]).max() > 0   # beta drawn, not zeros


# ------------------------------------------------------------------------------ 1-D x
def _one_feature(seed=3):
    m = fastnn.Sequential([layers.Input((1,)), layers.Dense(4, activation="tanh"), layers.Dense(1)], seed=seed)
    m.compile("adam", "mse")
    return m


def test_1d_x_is_one_sample_per_value_for_a_one_feature_model():
    pd = pytest.importorskip("pandas")
    x = np.linspace(-1, 1, 40)
    y = np.sin(3 * x)
    a, b = _one_feature(), _one_feature()
    ha = a.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0, validation_data=(x, y))
    hb = b.fit(x.reshape(-1, 1), y, epochs=3, batch_size=8, shuffle=False, verbose=0,
               validation_data=(x.reshape(-1, 1), y))
    assert ha.history == hb.history
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x.reshape(-1, 1), verbose=0))
    np.testing.assert_array_equal(a.predict(pd.Series(x), verbose=0), b.predict(x.reshape(-1, 1), verbose=0))
    assert a.evaluate(x, y, verbose=0) == b.evaluate(x.reshape(-1, 1), y, verbose=0)
    assert a.train_on_batch(x, y) == b.train_on_batch(x.reshape(-1, 1), y)
    np.testing.assert_array_equal(np.asarray(a(x)), np.asarray(b(x.reshape(-1, 1))))
    assert a.predict(x, verbose=0).shape == (40, 1)


def test_other_rank_mismatches_are_still_refused(keras_module):
    keras = keras_module
    x = np.linspace(-1, 1, 10).astype("float32")
    km = keras.Sequential([keras.layers.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError):
        km.predict(x, verbose=0)
    assert keras.Sequential([keras.layers.Input((1,)), keras.layers.Dense(1)]).predict(x, verbose=0).shape == (10, 1)
    m = fastnn.Sequential([layers.Input((2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match="2-D array"):
        m.predict(x, verbose=0)
    unbuilt = fastnn.Sequential([layers.Dense(1)])
    unbuilt.compile("adam", "mse")
    with pytest.raises(ValueError, match="2-D array"):
        unbuilt.fit(x, x, verbose=0)


# ------------------------------------------------------------------------------ Normalization
def test_normalization_axis_none_against_keras(keras_module):
    keras = keras_module
    rng = np.random.default_rng(0)
    h = rng.normal(100, 30, size=60).astype("float32")
    k = keras.layers.Normalization(input_shape=[1], axis=None)
    k.adapt(h)
    f = layers.Normalization(input_shape=[1], axis=None)
    f.adapt(h)
    np.testing.assert_allclose(f.mean.numpy(), _np(k.mean), rtol=1e-6)
    np.testing.assert_allclose(f.variance.numpy(), _np(k.variance), rtol=1e-5)
    np.testing.assert_allclose(f(h[:7]), _np(k(h[:7])), rtol=1e-5, atol=1e-6)
    assert f(h[:7]).shape == (7,) and f(h[:7].reshape(-1, 1)).shape == (7, 1)
    model = fastnn.Sequential([f])
    np.testing.assert_allclose(model.predict(h[:7], verbose=0), _np(k(h[:7].reshape(-1, 1))), rtol=1e-5, atol=1e-6)
    x = rng.normal(size=(30, 3)) * [1, 10, 100]
    k2, f2 = keras.layers.Normalization(axis=None), layers.Normalization(axis=None)
    k2.adapt(x.astype("float32"))
    f2.adapt(x)
    np.testing.assert_allclose(float(f2.mean.numpy()[0]), x.mean(), rtol=1e-12)
    np.testing.assert_allclose(f2(x[:4]), _np(k2(x[:4].astype("float32"))), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fastnn.Sequential([f2]).predict(x[:4], verbose=0), f2(x[:4]), rtol=1e-5)
    kin = keras.layers.Normalization(axis=None, mean=3.0, variance=4.0, invert=True)
    fin = layers.Normalization(axis=None, mean=3.0, variance=4.0, invert=True)
    np.testing.assert_allclose(fin(x[:4]), _np(kin(x[:4].astype("float32"))), rtol=1e-6)


def test_normalization_on_data_axis_last_and_rescaling(keras_module):
    keras = keras_module
    x = np.random.default_rng(1).normal(3, 2, size=(25, 4)).astype("float32")
    k, f = keras.layers.Normalization(), layers.Normalization()
    k.adapt(x)
    f.adapt(x)
    np.testing.assert_allclose(f(x[:1]).numpy(), _np(k(x[:1])), rtol=1e-5, atol=1e-6)
    assert f.mean.numpy().shape == (4,) and type(f.mean.numpy()) is np.ndarray
    np.testing.assert_allclose(layers.Rescaling(1 / 255, offset=-1)(x), _np(keras.layers.Rescaling(1 / 255, offset=-1)(x)),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="4 features"):
        f(np.zeros((2, 3)))
    with pytest.raises(NotImplementedError, match="calling a layer on data"):
        layers.Dense(2)(x)


def test_normalization_1d_adapt_and_errors():
    h = np.arange(12.0)
    one = layers.Normalization(input_shape=(1,))
    one.adapt(h)
    np.testing.assert_allclose(one.mean, [h.mean()])
    with pytest.raises(ValueError, match="axis=None"):
        layers.Normalization().adapt(h)
    with pytest.raises(ValueError, match="one mean"):
        layers.Normalization(axis=None, mean=[1.0, 2.0], variance=[1.0, 1.0])
    with pytest.raises(ValueError, match="NaN"):
        layers.Normalization(axis=None).adapt([1.0, np.nan])
    assert layers.Normalization(axis=None).get_config()["axis"] is None


def test_a_normalizer_in_two_models_shares_its_statistics():
    n = layers.Normalization(input_shape=[1], axis=None)
    n.adapt(np.arange(10.0))
    m1 = fastnn.Sequential([n, layers.Dense(1)])
    m2 = fastnn.Sequential([n, layers.Dense(3), layers.Dense(1)])
    assert m1.layers[0] is n and m2.layers[0].name == n.name
    np.testing.assert_allclose(m2.layers[0].mean, [4.5])
    n.adapt(np.arange(20.0))           # a later adapt reaches both models, as one shared layer would
    x = np.array([0.0, 19.0])
    np.testing.assert_allclose(m2.layers[0](x), n(x))
    np.testing.assert_allclose(m2.layers[0].variance, [np.arange(20.0).var()])
    assert pickle.loads(pickle.dumps(n)).mean[0] == 9.5


# ------------------------------------------------------------------------------ model.losses
def test_model_losses_against_keras_and_the_trained_penalty(keras_module):
    keras = keras_module

    def stack(L):
        return [L.Input((3,)), L.Dense(4, kernel_regularizer=keras_or_fastnn(L).regularizers.l2(0.01),
                                       bias_regularizer="l1"),
                L.Dense(2, kernel_regularizer=keras_or_fastnn(L).regularizers.L1L2(0.1, 0.2)), L.Dense(1)]

    def keras_or_fastnn(L):
        return keras if L is keras.layers else fastnn

    fm = fastnn.Sequential(stack(layers), seed=1)
    km = keras.Sequential(stack(keras.layers))
    km.set_weights([w + 0.1 for w in fm.get_weights()])
    fm.set_weights([w + 0.1 for w in fm.get_weights()])
    assert len(fm.losses) == len(km.losses) == 3
    np.testing.assert_allclose([v.numpy() for v in fm.losses], [_np(v) for v in km.losses], rtol=1e-6)
    assert fm.layers[0].losses[1].numpy() == pytest.approx(0.01 * np.abs(fm.layers[0].bias.numpy()).sum(), rel=1e-6)
    fm.compile("sgd", "mse")
    x, y = np.ones((4, 3)), np.zeros((4, 1))
    data_loss = np.mean((fm.predict(x, verbose=0).astype(np.float64) - y) ** 2)
    assert fm.test_on_batch(x, y) == pytest.approx(data_loss + float(sum(fm.losses)), rel=1e-5)
    assert fastnn.Sequential([layers.Dense(2)]).losses == []


# ------------------------------------------------------------------------------ schedules, tf.*
def test_schedule_on_an_array_of_steps(keras_module):
    keras = keras_module
    steps = np.arange(0, 100000, 2500)
    for make in (lambda m: m.InverseTimeDecay(0.001, decay_steps=2000, decay_rate=1),
                 lambda m: m.ExponentialDecay(0.1, 1000, 0.5, staircase=True),
                 lambda m: m.CosineDecay(0.01, 50000)):
        f = make(tf.keras.optimizers.schedules)(steps)
        np.testing.assert_allclose(f.numpy(), _np(make(keras.optimizers.schedules)(steps)), rtol=1e-5, atol=1e-9)
        assert f.shape == steps.shape and f.dtype == np.float32
    s = tf.keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert s([[0, 10], [20, 30]]).shape == (2, 2) and s(np.linspace(0, 100))[0] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="step"):
        s(np.array([1.0, -1.0]))


def test_linspace_and_add_n():
    v = tf.linspace(0.0, 250, 251)
    np.testing.assert_array_equal(v, np.linspace(0, 250, 251, dtype=np.float32))
    assert v.dtype == np.float32 and tf.linspace(0, 4, 5).dtype == np.float64
    np.testing.assert_array_equal(tf.linspace(np.zeros(2), np.ones(2), 3, axis=1), np.linspace(np.zeros(2), np.ones(2), 3, axis=1))
    a, b = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    np.testing.assert_array_equal(tf.add_n([a, b, a]).numpy(), a + b + a)
    assert tf.math.add_n([np.float32(1), np.float32(2)]).numpy() == 3
    for bad in ([], [a, np.ones(3)], a):
        with pytest.raises(ValueError, match="add_n"):
            tf.add_n(bad)
    with pytest.raises(ValueError, match="num"):
        tf.linspace(0.0, 1.0, 0)


# ------------------------------------------------------------------------------ tf.data
XS = np.random.default_rng(5).normal(size=(50, 3)).astype("float32")
YS = (XS @ np.array([1.0, -2.0, 0.5], dtype="float32") > 0).astype("float32")


def test_dataset_iteration_and_cardinality():
    ds = tf.data.Dataset.from_tensor_slices((XS, YS))
    assert ds.cardinality().numpy() == 50 and len(ds) == 50
    x0, y0 = next(iter(ds))
    np.testing.assert_array_equal(x0.numpy(), XS[0])
    assert y0.numpy() == YS[0]
    batches = list(ds.batch(16).as_numpy_iterator())
    assert [b[0].shape[0] for b in batches] == [16, 16, 16, 2] and ds.batch(16).cardinality() == 4
    assert ds.batch(16, drop_remainder=True).cardinality() == 3
    assert len(list(ds.batch(16, drop_remainder=True))) == 3
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), XS)
    shuffled = [b[1] for b in ds.shuffle(50, seed=2).batch(10).as_numpy_iterator()]
    assert sorted(np.concatenate(shuffled).tolist()) == sorted(YS.tolist())
    s = ds.shuffle(50, seed=2).batch(50)
    first, second = (next(s.as_numpy_iterator())[0] for _ in range(2))
    assert not np.array_equal(first, second)         # reshuffled each pass, as in TensorFlow
    fixed = ds.shuffle(50, seed=2, reshuffle_each_iteration=False).batch(50)
    np.testing.assert_array_equal(next(fixed.as_numpy_iterator())[0], next(fixed.as_numpy_iterator())[0])
    small = [e for e in tf.data.Dataset.range(20).shuffle(4, seed=0).as_numpy_iterator()]
    assert sorted(small) == list(range(20)) and small != list(range(20))
    assert ds.repeat().cardinality() == tf.data.INFINITE_CARDINALITY
    assert len(list(ds.repeat(3).batch(25))) == 6 and len(list(ds.repeat().take(120))) == 120
    doubled = ds.map(lambda x, y: (x * 2, y)).batch(50)
    np.testing.assert_array_equal(next(doubled.as_numpy_iterator())[0], XS * 2)
    d = tf.data.Dataset.from_tensor_slices({"a": np.arange(4), "b": np.ones(4)}).batch(3)
    assert [list(e) for e in d.as_numpy_iterator()] == [["a", "b"], ["a", "b"]]
    cached = ds.shuffle(50).cache().batch(50)    # a complete pass is kept, with its order
    np.testing.assert_array_equal(list(cached.as_numpy_iterator())[0][1], list(cached.as_numpy_iterator())[0][1])
    with pytest.raises(TypeError):
        len(ds.repeat())
    with pytest.raises(NotImplementedError, match="Dataset.zip"):
        tf.data.Dataset.zip((ds, ds))
    with pytest.raises(NotImplementedError, match="Dataset.filter"):
        ds.filter(lambda x, y: True)
    with pytest.raises(NotImplementedError, match="cache"):
        ds.cache("file")
    with pytest.raises(ValueError, match="rows"):
        tf.data.Dataset.from_tensor_slices((XS, YS[:3]))


def _model(seed=4):
    m = fastnn.Sequential([layers.Input((3,)), layers.Dense(8, activation="relu"),
                           layers.Dense(1, activation="sigmoid")], seed=seed)
    m.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return m


def test_fit_on_a_batched_dataset_takes_the_array_path_and_matches_fit_on_arrays(monkeypatch):
    a, b = _model(), _model()
    ds = tf.data.Dataset.from_tensor_slices((XS, YS)).cache().batch(8).prefetch(tf.data.AUTOTUNE)
    val = tf.data.Dataset.from_tensor_slices((XS[:20], YS[:20])).batch(7)
    with monkeypatch.context() as mp:
        mp.setattr(data_adapter, "StreamFeed", None)   # the array path never streams
        ha = a.fit(ds, epochs=3, verbose=0, validation_data=val)
        ea = a.evaluate(ds, verbose=0)
        pa = a.predict(tf.data.Dataset.from_tensor_slices(XS).batch(16), verbose=0)
    hb = b.fit(XS, YS, batch_size=8, epochs=3, shuffle=False, verbose=0, validation_data=(XS[:20], YS[:20]))
    assert ha.history == hb.history
    assert ea == b.evaluate(XS, YS, batch_size=8, verbose=0)
    np.testing.assert_array_equal(pa, b.predict(XS, verbose=0))


def test_shuffled_dataset_trains_bitwise_as_its_streamed_batches(monkeypatch):
    def pipeline():
        return tf.data.Dataset.from_tensor_slices((XS, YS)).shuffle(len(XS), seed=9).batch(8, drop_remainder=True)

    a, b = _model(), _model()
    with monkeypatch.context() as mp:
        mp.setattr(data_adapter, "StreamFeed", None)
        ha = a.fit(pipeline(), epochs=3, verbose=0)
        ea = a.evaluate(pipeline(), verbose=0)
    # the same pipeline with an identity map has to stream; its batches are the same
    hb = b.fit(pipeline().map(lambda x, y: (x, y)), epochs=3, verbose=0)
    assert ha.history == hb.history
    assert ea == b.evaluate(pipeline().map(lambda x, y: (x, y)), verbose=0)


def test_streamed_dataset_with_steps_and_repeat():
    m = _model()
    ds = tf.data.Dataset.from_tensor_slices((XS, YS)).shuffle(10, seed=0).repeat().batch(10)
    h = m.fit(ds, steps_per_epoch=5, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    with pytest.raises(ValueError):
        m.fit(tf.data.Dataset.from_tensor_slices(XS).batch(10), epochs=1, verbose=0)
