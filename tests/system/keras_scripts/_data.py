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


def higgs_like(n=11000, features=28, seed=0):
    """(features, labels): float32 features, 0/1 labels that depend on them non-linearly and noisily
    (the Higgs set's 28 columns; a model can overfit it)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    z = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] - 0.5 * x[:, 3] ** 2 + 0.3 * x[:, 4:8].sum(1)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * z))).astype("float32")
    return x, y


def creditcard_like(n=30000, seed=0):
    """A DataFrame shaped like the credit-card fraud table: Time, V1..V28, Amount, Class (about 0.3% ones)."""
    import pandas as pd
    rng = np.random.default_rng(seed)
    cls = (rng.random(n) < 0.003).astype("int64")
    v = rng.normal(size=(n, 28))
    v[cls == 1, :6] += rng.normal(2.5, 1.0, size=(int(cls.sum()), 6))
    df = pd.DataFrame(v, columns=[f"V{i}" for i in range(1, 29)])
    df.insert(0, "Time", np.sort(rng.uniform(0, 172792, n)))
    df["Amount"] = rng.gamma(1.2, 70, n) * np.where(cls == 1, 1.6, 1.0)
    df["Class"] = cls
    return df



def auto_mpg_like(n=398, seed=0):
    """A DataFrame shaped like the Auto MPG table: MPG, Cylinders, Displacement, Horsepower (6 missing),
    Weight, Acceleration, Model Year, Origin (1, 2, 3); MPG falls with weight and horsepower."""
    import pandas as pd
    rng = np.random.default_rng(seed)
    cyl = rng.choice([4, 6, 8], size=n, p=[0.5, 0.25, 0.25])
    disp = cyl * rng.uniform(18, 45, n)
    hp = 20 + 0.55 * disp + rng.normal(0, 12, n)
    weight = 1500 + 9.0 * disp + rng.normal(0, 250, n)
    accel = 24 - 0.04 * hp + rng.normal(0, 1.5, n)
    year = rng.integers(70, 83, n)
    origin = np.where(cyl == 4, rng.choice([1, 2, 3], size=n), 1)
    mpg = 60 * np.exp(-hp / 160) + 0.8 * (year - 70) - 0.002 * (weight - 3000) + rng.normal(0, 1.8, n)
    hp_col = np.round(hp).astype(float)
    hp_col[rng.choice(n, 6, replace=False)] = np.nan
    return pd.DataFrame({"MPG": np.round(mpg, 1), "Cylinders": cyl, "Displacement": np.round(disp),
                         "Horsepower": hp_col, "Weight": np.round(weight), "Acceleration": np.round(accel, 1),
                         "Model Year": year, "Origin": origin})
