"""Reduction metrics: the weighted :class:`Mean` and :class:`Sum`, and :class:`MeanMetricWrapper`
(the weighted mean of a per-sample function), on which the function-based metrics build.

Per-sample values are reduced with the Keras rule: values with more dimensions than
``sample_weight`` are averaged over the extra trailing axes, then the weighted mean
``sum(value * weight) / sum(weight)`` is taken.
"""

from __future__ import annotations

import numpy as np

from .metric import Metric
from .metrics_utils import _reduce_to_samplewise, _snake_case

class Mean(Metric):
    """Weighted mean of the given values: ``sum(v * w) / sum(w)``.

    Values with more dimensions than the weights are first averaged over the
    extra trailing axes. The result is 0.0 while nothing (or only zero weight)
    has been seen.

    Parameters
    ----------
    name : str, optional
        Display name in logs (default ``"mean"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``); the sums are float64.
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        """Add values (and their weights) to the running mean.

        Parameters
        ----------
        values : number or array-like
            Values to average; the first axis is over samples, further axes are averaged per
            sample first. A scalar counts as one sample.
        sample_weight : number or array-like, optional
            Weight per sample (a scalar applies to every sample); ``None`` (default) weighs
            each sample 1. Weights with extra axes are averaged over them.
        """
        values, sample_weight = _reduce_to_samplewise(values, sample_weight, np.mean)
        self.total += float(np.sum(values))
        if sample_weight is not None:
            self.count += float(np.sum(sample_weight))
        elif values.ndim >= 1:
            self.count += float(values.shape[0])
        else:
            self.count += 1.0

    def result(self):
        """Return ``sum(v * w) / sum(w)`` so far.

        Returns
        -------
        float
            The weighted mean, 0.0 when the total weight is zero.
        """
        return self.total / self.count if self.count != 0 else 0.0


class Sum(Metric):
    """Weighted sum of the given values.

    Parameters
    ----------
    name : str, optional
        Display name in logs (default ``"sum"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``); the sum is float64.
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        """Add the (weighted) values to the total.

        Parameters
        ----------
        values : number or array-like
            Values to add; every entry counts (trailing axes are summed, not averaged).
        sample_weight : number or array-like, optional
            Weight per sample multiplying its values; ``None`` (default) is weight 1.
        """
        values, _ = _reduce_to_samplewise(values, sample_weight, np.sum)
        self.total += float(np.sum(values))

    def result(self):
        """Return the total so far.

        Returns
        -------
        float
            The weighted sum (0.0 before any update).
        """
        return self.total


_DOWN_FUNCTION_NAMES = {
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "huber",
    "log_cosh",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "kl_divergence",
    "poisson",
    "mse",
    "mae",
    "mape",
    "msle",
}


class MeanMetricWrapper(Mean):
    """Weighted mean of ``fn(y_true, y_pred, **kwargs)``.

    ``fn`` returns one value per sample (extra trailing axes are averaged).
    This is how a plain function given in ``compile(metrics=[...])`` becomes
    a metric.

    Parameters
    ----------
    fn : callable
        Metric function ``fn(y_true, y_pred, **kwargs)`` returning an array
        with one value per sample; anything not callable raises a TypeError.
    name : str, optional
        Display name; ``None`` (default) takes ``fn.__name__`` (the snake-case
        class name for a callable object without one).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    **kwargs
        Keyword arguments passed to ``fn`` on every update and stored in the
        configuration.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper expects a callable; received {fn!r}.")
        if name is None:
            name = getattr(fn, "__name__", None) or _snake_case(type(fn).__name__)
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if type(self)._direction is None:
            fn_name = getattr(fn, "__name__", "")
            if fn_name in _DOWN_FUNCTION_NAMES:
                self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Evaluate ``fn`` on the batch and add its per-sample values to the mean.

        Parameters
        ----------
        y_true : array-like
            Labels of the batch, passed to ``fn`` as they are.
        y_pred : array-like
            Predictions of the batch, passed to ``fn`` as they are.
        sample_weight : number or array-like, optional
            Weight per sample; ``None`` (default) weighs each sample 1.
        """
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        """Return the configuration; a bare wrapper also records ``fn`` and its keyword arguments.

        Returns
        -------
        dict
            ``name`` and ``dtype``; for :class:`MeanMetricWrapper` itself also ``"fn"`` (the
            function object, so this config is not JSON-serialisable) and the ``**kwargs``.
        """
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            config["fn"] = self._fn
            config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        """Build a metric from :meth:`get_config`'s output.

        Parameters
        ----------
        config : dict
            Constructor arguments; for :class:`MeanMetricWrapper` itself it must hold ``"fn"``
            (a KeyError otherwise).

        Returns
        -------
        MeanMetricWrapper
            A new metric with empty state.
        """
        if cls is MeanMetricWrapper:
            config = dict(config)
            fn = config.pop("fn")
            return cls(fn, **config)
        return cls(**config)


