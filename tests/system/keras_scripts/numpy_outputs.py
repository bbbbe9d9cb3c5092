# Classification where the script reads results with .numpy() and tf.* reductions (the pattern of
# TensorFlow's "basic classification" and "customization basics" tutorials). Ported: `import
# tensorflow as tf` -> `import fastnn as tf`; the dataset -> generated images.
import numpy as np
import fastnn as tf
from _data import mnist_like

tf.random.set_seed(0)
(train_images, train_labels), (test_images, test_labels) = mnist_like(n_train=6000, n_test=1000)
class_names = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"]
train_images = train_images / 255.0
test_images = test_images / 255.0

model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation="relu"),
    tf.keras.layers.Dense(10),
])
model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(train_images, train_labels, epochs=3)
test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=2)
print("\nTest accuracy:", test_acc)

logits = model(test_images[:100])
probabilities = tf.nn.softmax(logits).numpy()
predicted = tf.argmax(probabilities, axis=1).numpy()
print("predicted:", [class_names[i] for i in predicted[:3]])
print("mean max probability:", tf.reduce_mean(tf.reduce_max(probabilities, axis=1)).numpy())
print(tf.math.confusion_matrix(test_labels[:100], predicted, num_classes=10).numpy())
loss_value = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(test_labels[:100], logits)
print("loss on the first 100:", float(loss_value))
print("outputs as numpy:", model(test_images[:2]).numpy().shape)
