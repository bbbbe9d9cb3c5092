"""F-scores: :class:`FBetaScore` and :class:`F1Score` of multi-class / multi-label predictions."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import positive_float
from .metric import Metric
from .metrics_utils import EPSILON, _align_ranks


class FBetaScore(Metric):
    """F-beta score of multi-class / multi-label predictions.

    Inputs have shape ``(n, num_classes)`` (``(n,)`` is read as one class).
    Without ``threshold``, the highest prediction of each row counts as the
    positive one (all tied maxima do, a row of zeros counts none); with a
    threshold, every entry strictly above it counts as positive.

    Parameters
    ----------
    average : str, optional
        ``None`` (default: one score per class, as a numpy array, which
        ``compile`` refuses since logs hold one number), ``"micro"`` (pooled
        counts), ``"macro"`` (mean of class scores) or ``"weighted"`` (class
        scores weighted by label support). Anything else raises a ValueError.
    beta : float, optional
        Weight of recall relative to precision (default 1.0); must be a
        finite number > 0.
    threshold : float, optional
        A float in ``(0, 1]``; ``None`` (default) selects the row maximum
        instead. Other values raise a ValueError.
    name : str, optional
        Display name (default ``"fbeta_score"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                "{None, 'micro', 'macro', 'weighted'}. "
                f"Received: average={average}"
            )
        beta = positive_float("beta", beta)
        if threshold is not None:
            if not isinstance(threshold, numbers.Real) or not 0.0 < float(threshold) <= 1.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float "
                    f"in the range ]0, 1]. Received: threshold={threshold}"
                )
            threshold = float(threshold)
        self.average = average
        self.beta = float(beta)
        self.threshold = threshold
        self.reset_state()

    def _vector_result_reason(self):
        if self.average is not None:
            return None
        return (f"{type(self).__name__}(average=None) gives one value per class; pass average='macro', "
                "'micro' or 'weighted' for one number")

    def reset_state(self):
        self._num_classes = None
        self.true_positives = None
        self.false_positives = None
        self.false_negatives = None
        self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch's weighted true positive, false positive and false negative counts.

        Parameters
        ----------
        y_true : array-like
            One-hot or multi-hot labels of shape ``(n, num_classes)``.
        y_pred : array-like
            Scores of the same shape; the number of classes may not change between updates.
        sample_weight : array-like, optional
            Weight per sample, or one scalar for all; ``None`` (default) weighs each sample 1.

        Raises
        ------
        ValueError
            When the inputs are not 2-D of equal shape or the number of classes changes.
        """
        y_pred = np.asarray(y_pred, dtype=np.float64)
        y_true = np.asarray(y_true, dtype=np.float64)
        y_pred, y_true = _align_ranks(y_pred, y_true)
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
            y_true = y_true[:, None]
        if y_pred.ndim != 2 or y_pred.shape != y_true.shape:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape "
                "(batch_size, output_dim). Received input shapes: "
                f"y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}."
            )
        num_classes = y_pred.shape[1]
        if self._num_classes is None:
            self._num_classes = num_classes
            shape = () if self.average == "micro" else (num_classes,)
            self.true_positives = np.zeros(shape, dtype=np.float64)
            self.false_positives = np.zeros(shape, dtype=np.float64)
            self.false_negatives = np.zeros(shape, dtype=np.float64)
            self.intermediate_weights = np.zeros((num_classes,), dtype=np.float64)
        elif num_classes != self._num_classes:
            raise ValueError(
                f"Expected {self._num_classes} classes; received {num_classes}."
            )
        if self.threshold is None:
            row_max = np.max(y_pred, axis=-1, keepdims=True)
            predicted = (y_pred >= row_max) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if w.size == 1 and y_pred.shape[0] != 1:
                w = np.full(y_pred.shape[0], float(w[0]))
        else:
            w = np.ones(y_pred.shape[0], dtype=np.float64)
        # per-class weighted column sums as matrix-vector products
        tp = w @ (predicted * y_true)
        n_pred = w @ predicted
        n_true = w @ y_true
        fp = n_pred - tp
        fn = n_true - tp
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        self.true_positives = self.true_positives + tp
        self.false_positives = self.false_positives + fp
        self.false_negatives = self.false_negatives + fn
        self.intermediate_weights = self.intermediate_weights + n_true

    def result(self):
        """Return the F-beta score over everything seen.

        Returns
        -------
        float or numpy.ndarray
            A float for ``micro`` / ``macro`` / ``weighted``; with ``average=None`` a float64
            array with one score per class (empty before the first update).
        """
        if self._num_classes is None:
            return 0.0 if self.average is not None else np.zeros((0,), dtype=np.float64)
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta**2
        score = (1.0 + b2) * (precision * recall) / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + EPSILON)
            return float(np.sum(score * weights))
        if self.average is not None:
            return float(np.mean(score))
        return np.asarray(score, dtype=np.float64)

    def get_config(self):
        """Return ``name``, ``dtype``, ``average``, ``beta`` and ``threshold``.

        Returns
        -------
        dict
            The constructor arguments.
        """
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 score: :class:`FBetaScore` with ``beta=1``, the harmonic mean of precision and recall.

    Parameters
    ----------
    average : str, optional
        ``None`` (default, one score per class), ``"micro"``, ``"macro"`` or ``"weighted"``,
        as for :class:`FBetaScore`.
    threshold : float, optional
        A float in ``(0, 1]``; ``None`` (default) selects the row maximum.
    name : str, optional
        Display name (default ``"f1_score"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        """Return ``name``, ``dtype``, ``average`` and ``threshold`` (``beta`` is fixed at 1).

        Returns
        -------
        dict
            The constructor arguments.
        """
        config = super().get_config()
        del config["beta"]
        return config


