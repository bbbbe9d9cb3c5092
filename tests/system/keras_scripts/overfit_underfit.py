# Overfit and underfit (structure of tensorflow.org/tutorials/keras/overfit_and_underfit).
# Ported: `import tensorflow as tf` -> `import fastnn as tf`; the Higgs CSV and its tf.data pipeline ->
# generated arrays and a generator of shuffled batches; N_TRAIN 1e4 -> 4e3 and max_epochs 10000 -> 4 so
# the test takes seconds.
# Not ported: tensorflow_docs (EpochDots, HistoryPlotter), a helper package outside TensorFlow; the
# histories are printed in its place.
import pathlib
import shutil
import tempfile

import numpy as np
import fastnn as tf
from fastnn.keras import layers
from fastnn.keras import regularizers
from _data import higgs_like

print(tf.__version__)

logdir = pathlib.Path(tempfile.mkdtemp()) / "tensorboard_logs"
shutil.rmtree(logdir, ignore_errors=True)

FEATURES = 28
N_VALIDATION = int(1e3)
N_TRAIN = int(4e3)
BUFFER_SIZE = int(1e4)
BATCH_SIZE = 500
STEPS_PER_EPOCH = N_TRAIN // BATCH_SIZE
MAX_EPOCHS = 4

features, labels = higgs_like(N_VALIDATION + N_TRAIN, FEATURES)
validate_ds = (features[:N_VALIDATION], labels[:N_VALIDATION])
train_features, train_labels = features[N_VALIDATION:], labels[N_VALIDATION:]


def shuffled_batches(seed=0):
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(N_TRAIN)
        for i in range(0, N_TRAIN, BATCH_SIZE):
            rows = order[i:i + BATCH_SIZE]
            yield train_features[rows], train_labels[rows]


train_ds = shuffled_batches()

lr_schedule = tf.keras.optimizers.schedules.InverseTimeDecay(
    0.001, decay_steps=STEPS_PER_EPOCH * 1000, decay_rate=1, staircase=False)


def get_optimizer():
    return tf.keras.optimizers.Adam(lr_schedule)


# Not ported: the plot of lr_schedule(step) over an array of steps (fastnn's schedules take one
# step at a time).


def get_callbacks(name):
    return [
        tf.keras.callbacks.EarlyStopping(monitor="val_binary_crossentropy", patience=200),
        tf.keras.callbacks.TensorBoard(logdir / name),
    ]


def compile_and_fit(model, name, optimizer=None, max_epochs=MAX_EPOCHS):
    if optimizer is None:
        optimizer = get_optimizer()
    model.compile(optimizer=optimizer,
                  loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[tf.keras.metrics.BinaryCrossentropy(from_logits=True, name="binary_crossentropy"),
                           "accuracy"])
    model.summary()
    history = model.fit(train_ds, steps_per_epoch=STEPS_PER_EPOCH, epochs=max_epochs,
                        validation_data=validate_ds, callbacks=get_callbacks(name), verbose=0)
    return history


tiny_model = tf.keras.Sequential([
    layers.Dense(16, activation="elu", input_shape=(FEATURES,)),
    layers.Dense(1),
])
size_histories = {}
size_histories["Tiny"] = compile_and_fit(tiny_model, "sizes/Tiny")

small_model = tf.keras.Sequential([
    layers.Dense(16, activation="elu", input_shape=(FEATURES,)),
    layers.Dense(16, activation="elu"),
    layers.Dense(1),
])
size_histories["Small"] = compile_and_fit(small_model, "sizes/Small")

medium_model = tf.keras.Sequential([
    layers.Dense(64, activation="elu", input_shape=(FEATURES,)),
    layers.Dense(64, activation="elu"),
    layers.Dense(64, activation="elu"),
    layers.Dense(1),
])
size_histories["Medium"] = compile_and_fit(medium_model, "sizes/Medium")

large_model = tf.keras.Sequential([
    layers.Dense(512, activation="elu", input_shape=(FEATURES,)),
    layers.Dense(512, activation="elu"),
    layers.Dense(512, activation="elu"),
    layers.Dense(512, activation="elu"),
    layers.Dense(1),
])
size_histories["large"] = compile_and_fit(large_model, "sizes/large")

shutil.rmtree(logdir / "regularizers/Tiny", ignore_errors=True)
shutil.copytree(logdir / "sizes/Tiny", logdir / "regularizers/Tiny")
regularizer_histories = {}
regularizer_histories["Tiny"] = size_histories["Tiny"]

l2_model = tf.keras.Sequential([
    layers.Dense(512, activation="elu", kernel_regularizer=regularizers.l2(0.001), input_shape=(FEATURES,)),
    layers.Dense(512, activation="elu", kernel_regularizer=regularizers.l2(0.001)),
    layers.Dense(512, activation="elu", kernel_regularizer=regularizers.l2(0.001)),
    layers.Dense(512, activation="elu", kernel_regularizer=regularizers.l2(0.001)),
    layers.Dense(1),
])
regularizer_histories["l2"] = compile_and_fit(l2_model, "regularizers/l2")

dropout_model = tf.keras.Sequential([
    layers.Dense(512, activation="elu", input_shape=(FEATURES,)),
    layers.Dropout(0.5),
    layers.Dense(512, activation="elu"),
    layers.Dropout(0.5),
    layers.Dense(512, activation="elu"),
    layers.Dropout(0.5),
    layers.Dense(512, activation="elu"),
    layers.Dropout(0.5),
    layers.Dense(1),
])
regularizer_histories["dropout"] = compile_and_fit(dropout_model, "regularizers/dropout")

combined_model = tf.keras.Sequential([
    layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001), activation="elu", input_shape=(FEATURES,)),
    layers.Dropout(0.5),
    layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001), activation="elu"),
    layers.Dropout(0.5),
    layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001), activation="elu"),
    layers.Dropout(0.5),
    layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001), activation="elu"),
    layers.Dropout(0.5),
    layers.Dense(1),
])
regularizer_histories["combined"] = compile_and_fit(combined_model, "regularizers/combined")

for name, history in {**size_histories, **regularizer_histories}.items():
    h = history.history
    print(f"{name}: epochs {len(h['loss'])} binary_crossentropy {h['binary_crossentropy'][0]:.4f} -> "
          f"{h['binary_crossentropy'][-1]:.4f} val_accuracy {h['val_accuracy'][-1]:.4f}")
