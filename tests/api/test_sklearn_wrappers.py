"""fastnn.wrappers (Keras 3's SKLearnClassifier / SKLearnRegressor) around fastnn models."""
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn", minversion="1.6")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

import fastnn  # noqa: E402
from fastnn.wrappers import SKLearnClassifier, SKLearnRegressor  # noqa: E402


def build(X, y, hidden=16):
    model = fastnn.Sequential([fastnn.layers.Input(shape=(X.shape[1],)), fastnn.layers.Dense(hidden, activation="relu"),
                               fastnn.layers.Dense(y.shape[1], activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


def test_builder_fit_predict_and_reproducible():
    X, y = _digits()
    a = SKLearnClassifier(build, model_kwargs={"hidden": 32}, fit_kwargs={"epochs": 20}, random_state=1).fit(X, y)
    b = SKLearnClassifier(build, model_kwargs={"hidden": 32}, fit_kwargs={"epochs": 20}, random_state=1).fit(X, y)
    assert a.score(X, y) > 0.9
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.predict_proba(X).dtype == np.float64 and len(a.history_["loss"]) == 20
    np.testing.assert_array_equal(a.classes_, np.arange(10))
    again = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(again.predict(X), a.predict(X))


def test_model_instance_is_copied_fresh_unless_warm_start():
    X, y = _digits()
    model = build(X, np.zeros((1, 10)))
    before = model.get_weights()
    est = SKLearnClassifier(model, fit_kwargs={"epochs": 2}, random_state=0).fit(X, y)
    for p, q in zip(before, model.get_weights()):
        np.testing.assert_array_equal(p, q)        # the given model is untouched
    assert est.model_ is not model and est.model_.get_compile_config() == model.get_compile_config()
    warm = SKLearnClassifier(model, warm_start=True, fit_kwargs={"epochs": 1}, random_state=0).fit(X, y)
    first = warm.model_
    warm.fit(X, y)
    assert warm.model_ is first


def test_regressor_and_grid_search():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=200)

    def reg(X, y, lr=0.01):
        m = fastnn.Sequential([fastnn.layers.Input(shape=(X.shape[1],)), fastnn.layers.Dense(y.shape[1])])
        m.compile(optimizer=fastnn.optimizers.Adam(lr), loss="mse")
        return m

    grid = GridSearchCV(SKLearnRegressor(reg, fit_kwargs={"epochs": 40}, random_state=0),
                        {"model_kwargs": [{"lr": 1e-4}, {"lr": 0.05}]}, cv=2).fit(X, y)
    assert grid.best_params_ == {"model_kwargs": {"lr": 0.05}} and grid.best_score_ > 0.9
    assert grid.predict(X).shape == (200,)


def test_bad_models_are_refused_and_keras_path():
    X, y = _digits()
    with pytest.raises(TypeError, match="model"):
        SKLearnClassifier("not a model").fit(X, y)
    uncompiled = fastnn.Sequential([fastnn.layers.Input(shape=(64,)), fastnn.layers.Dense(10)])
    with pytest.raises(ValueError, match="compiled"):
        SKLearnClassifier(uncompiled).fit(X, y)
    with pytest.raises(ValueError, match="one class"):
        SKLearnClassifier(build).fit(X, np.zeros(len(X)))
    assert fastnn.keras.wrappers.SKLearnClassifier is SKLearnClassifier
    assert fastnn.keras.wrappers.SKLearnRegressor is SKLearnRegressor
