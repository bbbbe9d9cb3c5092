"""scikit-learn estimators around any fastnn model, as Keras 3's keras.wrappers has them
(SKLearnClassifier, SKLearnRegressor; also reachable as fastnn.keras.wrappers.*). Needs
scikit-learn >= 1.6.

    def build(X, y, layers=(32,)):
        model = fastnn.Sequential([fastnn.layers.Input(shape=(X.shape[1],))] +
                                  [fastnn.layers.Dense(u, activation="relu") for u in layers] +
                                  [fastnn.layers.Dense(y.shape[1], activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        return model

    clf = SKLearnClassifier(model=build, model_kwargs={"layers": (64,)}, fit_kwargs={"epochs": 20})

Keras 3's arguments and behaviour: `model` is a compiled fastnn model (a fresh copy with the same
architecture and compile settings is trained, unless warm_start=True and a fit already happened) or
a callable called as model(X=X, y=y, **model_kwargs) that returns a compiled model; fit_kwargs go to
model.fit, and keyword arguments given to fit() override them. The classifier one-hot encodes the
labels (the model's output has one unit per class, as with Keras's wrapper); predict_proba returns
the model's output.

Two additions, both keyword arguments Keras does not have: random_state (an int makes every fit
reproducible: the model's initial weights, shuffling and dropout draw from a stream seeded by it,
without touching fastnn's global seed; None, the default, draws fresh seeds as Keras does) and the
default verbose=0 for model.fit (a progress bar per fit would flood grid searches; pass
fit_kwargs={"verbose": 1} to see it).
"""
from __future__ import annotations

import contextlib
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import _random
from .models import Model, clone_model

__all__ = ["SKLearnClassifier", "SKLearnRegressor"]


def _fresh_copy(model):
    """The same architecture and compile settings with newly initialized weights (Keras's
    clone_model followed by the original's compile)."""
    clone = clone_model(model)
    cfg = model.get_compile_config()
    clone.compile(optimizer=cfg["optimizer"], loss=cfg["loss"], metrics=cfg["metrics"] or None,
                  weighted_metrics=cfg["weighted_metrics"] or None, loss_weights=cfg["loss_weights"])
    return clone


class _SKLBase(BaseEstimator):

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None, *, random_state=None):
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs
        self.random_state = random_state

    def _seeded(self):
        rs = self.random_state
        if rs is None:
            return contextlib.nullcontext()
        if isinstance(rs, bool) or not isinstance(rs, Integral) or rs < 0:
            raise ValueError(f"random_state: expected None or a non-negative int, got {rs!r}")
        return _random.seeded(int(rs))

    def _get_model(self, X, y):
        if isinstance(self.model, Model):
            if not self.model.compiled:
                raise ValueError(f"{type(self).__name__}: model must be a compiled fastnn model; call "
                                 "model.compile(optimizer, loss) first")
            return _fresh_copy(self.model)
        if not callable(self.model):
            raise TypeError(f"{type(self).__name__}: model must be a compiled fastnn model or a callable "
                            f"model(X=..., y=..., **model_kwargs) returning one, got {type(self.model).__name__}")
        model = self.model(X=X, y=y, **(self.model_kwargs or {}))
        if not isinstance(model, Model):
            raise TypeError(f"{type(self).__name__}: the model function returned {type(model).__name__}, "
                            "expected a fastnn model")
        if not model.compiled:
            raise ValueError(f"{type(self).__name__}: the model function must return a compiled model")
        return model

    def fit(self, X, y, **kwargs):
        """Trains a fresh model (or keeps training with warm_start=True) on X, y; keyword
        arguments go to model.fit (epochs=, batch_size=, sample_weight=, callbacks=...)."""
        X, y = validate_data(self, X, y, multi_output=True, dtype=np.float32)
        Y = self._process_target(y, reset=True)
        fit_kwargs = {"verbose": 0, **(self.fit_kwargs or {}), **kwargs}
        with self._seeded():
            if self.warm_start and hasattr(self, "model_"):
                model = self.model_
            else:
                model = self._get_model(X, Y)
            history = model.fit(X, Y, **fit_kwargs)
        self.model_ = model
        self.history_ = dict(history.history) if history is not None else {}
        return self

    def _raw_predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return np.asarray(self.model_.predict(X, verbose=0), dtype=np.float64)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class SKLearnClassifier(ClassifierMixin, _SKLBase):
    """A scikit-learn classifier around a fastnn model (Keras 3's SKLearnClassifier).

    Binary and multiclass labels, one-hot encoded for a model with one output unit per class
    (multilabel and continuous targets raise ValueError).

    Parameters
    ----------
    model : Model or callable
        A compiled fastnn model, whose architecture and compile settings each fit copies with
        fresh weights (the given model itself is never trained), or a callable called as
        model(X=X, y=y, **model_kwargs) that returns a compiled fastnn model. An uncompiled model
        raises ValueError and anything else TypeError, when fit is called.
    warm_start : bool, default False
        Whether a later fit keeps training model_ instead of starting from a fresh model.
    model_kwargs : dict, optional
        Extra keyword arguments of a callable `model`.
    fit_kwargs : dict, optional
        Keyword arguments of model.fit (epochs, batch_size, callbacks, ...); those given to fit()
        override them. verbose defaults to 0 here (Keras's wrapper prints a progress bar).
    random_state : int, optional
        fastnn's addition (keyword only): a non-negative int makes every fit reproducible (initial
        weights, shuffling and dropout draw from a stream it seeds, without touching fastnn's global
        seed). None (the default) draws fresh seeds, as Keras does; another value raises ValueError.

    Attributes
    ----------
    model_ : Model
        The trained model.
    history_ : dict
        Its History.history (metric name -> per-epoch values).
    classes_ : numpy.ndarray
        The sorted labels, the order of the model's output columns.
    """

    def _process_target(self, y, reset=False):
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            y = column_or_1d(y, warn=True)
        target_type = type_of_target(y, input_name="y", raise_unknown=True)
        if target_type not in ("binary", "multiclass"):
            raise ValueError(f"Only binary and multiclass target types are supported. Target type: {target_type}")
        y = np.asarray(y).reshape(-1)
        if reset:
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
        index = np.searchsorted(self.classes_, y)
        Y = np.zeros((y.shape[0], len(self.classes_)), dtype=np.float32)
        Y[np.arange(y.shape[0]), index] = 1.0
        return Y

    def predict_proba(self, X):
        """The model's output, one column per class.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            The samples, with the n_features seen in fit; converted to float32.

        Returns
        -------
        numpy.ndarray
            float64, shape (n_samples, n_classes), columns in the order of classes_: whatever the
            model's last layer gives (probabilities when it ends in softmax).
        """
        return self._raw_predict(X)

    def predict(self, X):
        """The predicted labels: the class of each row's largest output.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            The samples, with the n_features seen in fit; converted to float32.

        Returns
        -------
        numpy.ndarray
            Shape (n_samples,), values from classes_.
        """
        proba = self._raw_predict(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True   # the score is the user's model's, not ours
        return tags


class SKLearnRegressor(RegressorMixin, _SKLBase):
    """A scikit-learn regressor around a fastnn model (Keras 3's SKLearnRegressor).

    Targets of shape (n,) are given to the model as (n, 1) and predictions returned as (n,).

    Parameters
    ----------
    model : Model or callable
        A compiled fastnn model, whose architecture and compile settings each fit copies with
        fresh weights (the given model itself is never trained), or a callable called as
        model(X=X, y=y, **model_kwargs) that returns a compiled fastnn model. An uncompiled model
        raises ValueError and anything else TypeError, when fit is called.
    warm_start : bool, default False
        Whether a later fit keeps training model_ instead of starting from a fresh model.
    model_kwargs : dict, optional
        Extra keyword arguments of a callable `model`.
    fit_kwargs : dict, optional
        Keyword arguments of model.fit (epochs, batch_size, callbacks, ...); those given to fit()
        override them. verbose defaults to 0 here (Keras's wrapper prints a progress bar).
    random_state : int, optional
        fastnn's addition (keyword only): a non-negative int makes every fit reproducible (initial
        weights, shuffling and dropout draw from a stream it seeds, without touching fastnn's global
        seed). None (the default) draws fresh seeds, as Keras does; another value raises ValueError.

    Attributes
    ----------
    model_ : Model
        The trained model.
    history_ : dict
        Its History.history (metric name -> per-epoch values).
    """

    def _process_target(self, y, reset=False):
        type_of_target(y, input_name="y", raise_unknown=True)
        y = np.asarray(y, dtype=np.float32)
        if reset:
            self._y_ndim = y.ndim
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def predict(self, X):
        """The model's predictions.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            The samples, with the n_features seen in fit; converted to float32.

        Returns
        -------
        numpy.ndarray
            float64; shape (n_samples,) when fit's y was 1-D and the model has one output, else
            (n_samples, n_outputs).
        """
        out = self._raw_predict(X)
        return out.ravel() if self._y_ndim == 1 and out.shape[1] == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.multi_output = True
        return tags
