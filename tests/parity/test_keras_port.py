"""fastnn.keras: typical tf.keras MLP scripts run unchanged with `tf` bound to fastnn."""
import importlib.util
import sys

import numpy as np
import pytest

import fastnn

CLASSIFIER_SCRIPT = '''
import numpy as np

tf.random.set_seed(42)
tf.keras.utils.set_random_seed(42)

rng = np.random.default_rng(0)
x = rng.normal(size=(600, 10)).astype("float32")
labels = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")
x_train, x_test = x[:500], x[500:]
y_train = tf.keras.utils.to_categorical(labels[:500], num_classes=3)
y_test = tf.keras.utils.to_categorical(labels[500:], num_classes=3)

model = tf.keras.Sequential([
    tf.keras.layers.Input(shape=(10,)),
    tf.keras.layers.Dense(32, activation="relu", kernel_initializer=tf.keras.initializers.HeNormal(),
                          kernel_regularizer=tf.keras.regularizers.l2(1e-4)),
    tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Dropout(0.1),
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.Dense(3, activation="softmax"),
])
lr_schedule = tf.keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate=0.01, decay_steps=100, decay_rate=0.9)
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=lr_schedule),
              loss=tf.keras.losses.CategoricalCrossentropy(),
              metrics=["accuracy", tf.keras.metrics.AUC(name="auc")])
model.summary()

callbacks = [
    tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True),
    tf.keras.callbacks.ModelCheckpoint(CHECKPOINT, monitor="val_accuracy", save_best_only=True),
]
history = model.fit(x_train, y_train, epochs=15, batch_size=32, validation_split=0.2,
                    callbacks=callbacks, verbose=2)
test_loss, test_acc, test_auc = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {test_acc:.3f}")
predictions = model.predict(x_test)
predicted_classes = np.argmax(predictions, axis=1)

model.save(SAVED)
restored = tf.keras.models.load_model(SAVED)
'''

REGRESSION_SCRIPT = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

keras.utils.set_random_seed(7)
rng = np.random.default_rng(1)
x = rng.uniform(-1, 1, size=(400, 4)).astype("float32")
y = (np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2]).reshape(-1, 1).astype("float32")

inputs = keras.Input(shape=(4,))
h = layers.Dense(32, activation="tanh")(inputs)
h = layers.LayerNormalization()(h)
outputs = layers.Dense(1)(h)
model = keras.Model(inputs=inputs, outputs=outputs, name="regressor")
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
              loss=keras.losses.MeanSquaredError(),
              metrics=[keras.metrics.RootMeanSquaredError(), "mae"])
history = model.fit(x, y, epochs=20, batch_size=16, verbose=0,
                    validation_data=(x[:100], y[:100]),
                    callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=3)])
mse, rmse, mae = model.evaluate(x, y, verbose=0)
'''


def _run(script, **names):
    g = {"tf": fastnn, **names}
    exec(compile(script, "<tf.keras script>", "exec"), g)
    return g


def test_classifier_script_runs_unchanged(tmp_path, capsys):
    g = _run(CLASSIFIER_SCRIPT, CHECKPOINT=str(tmp_path / "best.keras"), SAVED=str(tmp_path / "final.keras"))
    out = capsys.readouterr().out
    assert 'Model: "sequential' in out and "Test accuracy:" in out and "Epoch 1/15" in out
    hist = g["history"].history
    assert {"loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc"} <= set(hist)
    assert g["test_acc"] > 0.8 and g["test_auc"] > 0.9
    assert g["predicted_classes"].shape == (100,)
    np.testing.assert_array_equal(g["restored"].predict(g["x_test"], verbose=0), g["predictions"])
    assert (tmp_path / "best.keras").exists()
    assert isinstance(g["model"], fastnn.keras.Sequential)


def test_regression_script_with_tensorflow_imports(monkeypatch):
    # `import tensorflow as tf`, `from tensorflow import keras` and `from tensorflow.keras import
    # layers` resolve to fastnn when fastnn stands in for the tensorflow module.
    monkeypatch.setitem(sys.modules, "tensorflow", fastnn)
    monkeypatch.setitem(sys.modules, "tensorflow.keras", fastnn.keras)
    g = _run(REGRESSION_SCRIPT)
    assert g["tf"] is fastnn and g["keras"] is fastnn.keras
    assert g["model"].name == "regressor"
    assert g["history"].history["loss"][-1] < g["history"].history["loss"][0] / 4
    assert g["rmse"] == pytest.approx(np.sqrt(g["mse"]), rel=1e-4)


def test_names_resolve_to_fastnn():
    k = fastnn.keras
    assert k.Sequential is fastnn.Sequential and k.models.Sequential is fastnn.Sequential
    # fastnn.keras.layers mirrors fastnn.layers (its own module, so that names fastnn lacks raise
    # NotImplementedError); every name it has is fastnn's object.
    assert k.layers.Dense is fastnn.layers.Dense and k.layers.Dropout is fastnn.layers.Dropout
    assert k.optimizers.Adam is fastnn.optimizers.Adam
    assert k.optimizers.schedules.ExponentialDecay is fastnn.schedules.ExponentialDecay
    assert k.losses.BinaryCrossentropy is fastnn.losses.BinaryCrossentropy
    assert k.metrics.AUC is fastnn.metrics.AUC
    assert k.callbacks.EarlyStopping is fastnn.callbacks.EarlyStopping
    assert k.models.load_model is fastnn.models.load_model
    assert k.initializers.GlorotUniform is fastnn.initializers.GlorotUniform
    assert k.regularizers.l2 is fastnn.regularizers.l2
    np.testing.assert_array_equal(k.utils.to_categorical([0, 2], 3), [[1, 0, 0], [0, 0, 1]])
    k.backend.clear_session()
    fastnn.random.set_seed(3)
    a = fastnn.keras.Sequential([k.layers.Dense(2, input_shape=(3,))]).get_weights()
    k.utils.set_random_seed(3)
    b = fastnn.keras.Sequential([k.layers.Dense(2, input_shape=(3,))]).get_weights()
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


@pytest.mark.parametrize("expr,feature", [
    ("tf.keras.layers.Conv2D(32, 3)", "Conv2D"),
    ("tf.keras.layers.LSTM(16)", "LSTM"),
    ("tf.keras.layers.Embedding(100, 8)", "Embedding"),
    ("tf.keras.datasets.mnist.load_data()", "datasets"),
    pytest.param("tf.keras.mixed_precision", "mixed_precision", marks=pytest.mark.skipif(
        importlib.util.find_spec("fastnn.mixed_precision") is not None,
        reason="this fastnn has fastnn.mixed_precision")),
    ("tf.keras.Model()", "subclassed"),
])
def test_out_of_scope_names_raise_not_implemented(expr, feature):
    with pytest.raises(NotImplementedError, match=feature):
        eval(expr, {"tf": fastnn})


def test_private_and_dunder_lookups_stay_attribute_errors():
    assert not hasattr(fastnn.keras, "__wrapped__")
    assert not hasattr(fastnn.keras.utils, "_private")
    with pytest.raises(AttributeError):
        fastnn.keras.layers.NotALayer
