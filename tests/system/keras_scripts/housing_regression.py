# Regression of house prices with K-fold validation (the structure of the classic Boston-housing
# chapter). Ported: `from tensorflow import keras` -> `from fastnn import keras`; load_data -> generated.
import numpy as np
from fastnn import keras
from fastnn.keras import layers
from _data import housing_like

(train_data, train_targets), (test_data, test_targets) = housing_like()

mean = train_data.mean(axis=0)
train_data -= mean
std = train_data.std(axis=0)
train_data /= std
test_data -= mean
test_data /= std


def build_model():
    model = keras.Sequential([
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


k = 4
num_val_samples = len(train_data) // k
num_epochs = 100
all_mae_histories = []
for i in range(k):
    print(f"Processing fold #{i}")
    val_data = train_data[i * num_val_samples: (i + 1) * num_val_samples]
    val_targets = train_targets[i * num_val_samples: (i + 1) * num_val_samples]
    partial_train_data = np.concatenate(
        [train_data[:i * num_val_samples], train_data[(i + 1) * num_val_samples:]], axis=0)
    partial_train_targets = np.concatenate(
        [train_targets[:i * num_val_samples], train_targets[(i + 1) * num_val_samples:]], axis=0)
    model = build_model()
    history = model.fit(partial_train_data, partial_train_targets,
                        validation_data=(val_data, val_targets),
                        epochs=num_epochs, batch_size=16, verbose=0)
    mae_history = history.history["val_mae"]
    all_mae_histories.append(mae_history)

average_mae_history = [np.mean([x[i] for x in all_mae_histories]) for i in range(num_epochs)]
print("best epoch:", int(np.argmin(average_mae_history)) + 1)

model = build_model()
model.fit(train_data, train_targets, epochs=130, batch_size=16, verbose=0,
          callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=10)])
test_mse_score, test_mae_score = model.evaluate(test_data, test_targets)
print("test MAE:", test_mae_score)
predictions = model.predict(test_data)
print(predictions[0])
