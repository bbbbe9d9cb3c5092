"""A tf.keras MLP script ported by changing the import: `import tensorflow as tf` became
`import fastnn as tf`; everything below it is written as for TensorFlow.

    python examples/porting_tf_keras.py
"""
import os

import numpy as np

import fastnn as tf   # was: import tensorflow as tf

EPOCHS = int(os.environ.get("FASTNN_EXAMPLE_EPOCHS", "10"))

print("version:", tf.version.VERSION)
tf.random.set_seed(42)

# Three classes from two noisy features (a script would load its CSV here).
rng = np.random.default_rng(0)
x = rng.normal(size=(1200, 2)).astype("float32")
labels = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")
y = tf.keras.utils.to_categorical(labels, num_classes=3)
x_train, x_test, y_train, y_test = x[:1000], x[1000:], y[:1000], y[1000:]

model = tf.keras.Sequential([
    tf.keras.layers.Input(shape=(2,)),
    tf.keras.layers.Dense(64, activation="relu"),
    tf.keras.layers.Dropout(0.1),
    tf.keras.layers.Dense(32),
    tf.keras.layers.LeakyReLU(),
    tf.keras.layers.Dense(3),
])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=1e-2),
              loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_split=0.2, verbose=2,
          callbacks=[tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=3,
                                                      restore_best_weights=True)])
test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_acc:.3f}")

logits = model.predict(x_test[:3], verbose=0)
probabilities = tf.nn.softmax(logits)
print("predicted classes:", tf.math.argmax(probabilities, axis=1), "true:", labels[1000:1003])
