# The functional API (the structure of the keras.io guide's first sections). Ported: `import keras`
# -> `from fastnn import keras`, `from keras import layers, ops` -> `from fastnn.keras import ...`;
# mnist.load_data() -> generated images.
import numpy as np  # noqa: F401
from fastnn import keras
from fastnn.keras import layers
from fastnn.keras import ops  # noqa: F401
from _data import mnist_like

inputs = keras.Input(shape=(784,))
print(inputs.shape)
print(inputs.dtype)

dense = layers.Dense(64, activation="relu")
x = dense(inputs)
x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
model.summary()

(x_train, y_train), (x_test, y_test) = mnist_like()
x_train = x_train.reshape(60000, 784).astype("float32") / 255
x_test = x_test.reshape(10000, 784).astype("float32") / 255

model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2)
test_scores = model.evaluate(x_test, y_test, verbose=2)
print("Test loss:", test_scores[0])
print("Test accuracy:", test_scores[1])

model.save("my_model.keras")
del model
model = keras.models.load_model("my_model.keras")
