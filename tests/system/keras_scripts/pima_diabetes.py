# A first Keras project: binary classification of the Pima Indians diabetes data (the structure of
# the well-known blog tutorial). Ported: `from keras...` -> `from fastnn.keras...`; loadtxt -> generated.
from numpy import loadtxt  # noqa: F401  (the tutorial's import; the data are generated here)
from fastnn.keras.models import Sequential
from fastnn.keras.layers import Dense
from _data import pima_like

dataset = pima_like()
X = dataset[:, 0:8]
y = dataset[:, 8]

model = Sequential()
model.add(Dense(12, input_shape=(8,), activation="relu"))
model.add(Dense(8, activation="relu"))
model.add(Dense(1, activation="sigmoid"))

model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(X, y, epochs=150, batch_size=10, verbose=0)

_, accuracy = model.evaluate(X, y)
print("Accuracy: %.2f" % (accuracy * 100))

predictions = (model.predict(X) > 0.5).astype(int)
for i in range(5):
    print("%s => %d (expected %d)" % (X[i].tolist(), predictions[i][0], y[i]))
