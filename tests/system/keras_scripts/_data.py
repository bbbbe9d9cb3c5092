"""Generated stand-ins for the data the ported scripts download (MNIST, Pima diabetes, housing
prices, credit-card fraud): same shapes, dtypes and value ranges, learnable, no network."""
import numpy as np


def mnist_like(n_train=60000, n_test=10000, seed=0):
    """((x_train, y_train), (x_test, y_test)): uint8 28x28 images whose class sets a bright stroke."""
    rng = np.random.default_rng(seed)
    protos = rng.random((10, 28, 28)) < 0.15

    def make(n):
        y = rng.integers(0, 10, size=n).astype(np.uint8)
        noise = rng.random((n, 28, 28)) < 0.08
        x = np.where(protos[y] ^ noise, 255, 0).astype(np.uint8)
        return x, y

    return make(n_train), make(n_test)


def pima_like(n=768, seed=0):
    """An (n, 9) float array: 8 clinical-looking features, then the 0/1 outcome (about 35% ones)."""
    rng = np.random.default_rng(seed)
    scale = np.array([3.4, 32.0, 19.0, 16.0, 115.0, 7.9, 0.33, 11.8])
    mean = np.array([3.8, 121.0, 69.0, 20.0, 80.0, 32.0, 0.47, 33.0])
    x = np.abs(mean + scale * rng.normal(size=(n, 8)))
    z = 0.035 * (x[:, 1] - 121) + 0.09 * (x[:, 5] - 32) + 0.03 * (x[:, 7] - 33) + 0.8 * (x[:, 6] - 0.47) - 0.7
    y = (rng.random(n) < 1 / (1 + np.exp(-2.5 * z))).astype(float)
    return np.column_stack([x, y])


def housing_like(n_train=404, n_test=102, seed=0):
    """((x_train, y_train), (x_test, y_test)) with 13 features and prices in thousands."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=13)

    def make(n):
        x = rng.gamma(2.0, 2.0, size=(n, 13))
        y = 22 + 2.0 * np.tanh((x - 4) @ w / 8) * 5 + rng.normal(scale=1.5, size=n)
        return x, y

    return make(n_train), make(n_test)


def fraud_like(n=20000, seed=0):
    """(features, targets): 30 float features and (n, 1) int targets with about 0.5% positives."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 30)) * rng.uniform(0.5, 20, size=30)
    y = (rng.random(n) < 0.005).astype("uint8")
    x[y == 1, :4] += rng.normal(3.0, 1.0, size=(int(y.sum()), 4)) * rng.uniform(0.5, 20, size=4)
    return x.astype("float32"), y.reshape(-1, 1)
