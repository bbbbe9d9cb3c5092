"""Confusion-matrix metrics: the counts (TruePositives, FalsePositives, TrueNegatives,
FalseNegatives), Precision, Recall and AUC.

A prediction is positive at threshold ``t`` when it is strictly above ``t``; labels are read as
booleans; sample weights weigh each entry (Keras 3 semantics). With one threshold a metric's
result is a float, with several a numpy array of one value per threshold.
"""

from __future__ import annotations

import numpy as np

from .._validation import int_in_range, nonneg_int, positive_int
from .metric import Metric
from .metrics_utils import (
    _NEG_INF,
    EPSILON,
    MAX_THRESHOLDS,
    _confusion_inputs,
    _divide_no_nan,
    _parse_thresholds,
    _short,
    _sigmoid,
    _weighted_counts_above,
)

#: Largest AUC state, ``num_thresholds * num_labels`` cells (each of four float64 arrays).
MAX_AUC_CELLS = 10**7


def _confusion_counts(y_true, y_pred, sample_weight, thresholds, top_k=None, class_id=None):
    """Weighted (tp, fp, tn, fn), one value per threshold."""
    pred, pos, weights = _confusion_inputs(y_true, y_pred, sample_weight, top_k=top_k, class_id=class_id)
    pred = pred.ravel()
    pos_w = np.where(pos, weights, 0.0).ravel()
    neg_w = np.where(pos, 0.0, weights).ravel()
    (tp, fn), (fp, tn) = _weighted_counts_above(pred, (pos_w, neg_w), thresholds, at_or_below=True)
    return tp, fp, tn, fn


def _one_per_threshold(thresholds, values):
    if len(thresholds) == 1:
        return float(values[0])
    return values


def _many_thresholds_reason(metric):
    n = len(metric.thresholds)
    if n == 1:
        return None
    return (f"{type(metric).__name__}(thresholds=...) with {n} thresholds gives {n} values; give one "
            f"{type(metric).__name__} per threshold, each with its own name")


class _ConfusionCount(Metric):
    """Weighted count of one cell of the confusion matrix at each threshold (default 0.5)."""

    _direction: str | None = None
    _cell = 0  # index in (tp, fp, tn, fn)

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = [0.5] if thresholds is None else _parse_thresholds(thresholds)
        self._thresholds_array = np.asarray(self.thresholds, dtype=np.float64)
        self.reset_state()

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds), dtype=np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = _confusion_counts(y_true, y_pred, sample_weight, self._thresholds_array)
        self.accumulator += counts[self._cell]

    def result(self):
        return _one_per_threshold(self.thresholds, self.accumulator.copy())

    def _vector_result_reason(self):
        return _many_thresholds_reason(self)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """Weighted number of positive labels predicted above the threshold.

    Parameters
    ----------
    thresholds : float or list of float, optional
        Threshold(s) in ``[0, 1]``; a prediction strictly above one counts as positive there.
        ``None`` (default) means 0.5. With several, ``result()`` is an array of one count per
        threshold (and ``compile`` refuses it: logs hold one number). Values outside
        ``[0, 1]``, an empty list or more than ``MAX_THRESHOLDS`` raise a ValueError.
    name : str, optional
        Display name (default ``"true_positives"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``); counts are float64.
    """

    _direction = "up"
    _cell = 0

    def __init__(self, thresholds=None, name="true_positives", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)


class FalsePositives(_ConfusionCount):
    """Weighted number of negative labels predicted above the threshold.

    Parameters
    ----------
    thresholds : float or list of float, optional
        Threshold(s) in ``[0, 1]``; a prediction strictly above one counts as positive there.
        ``None`` (default) means 0.5. With several, ``result()`` is an array of one count per
        threshold (and ``compile`` refuses it: logs hold one number). Values outside
        ``[0, 1]``, an empty list or more than ``MAX_THRESHOLDS`` raise a ValueError.
    name : str, optional
        Display name (default ``"false_positives"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``); counts are float64.
    """

    _direction = "down"
    _cell = 1

    def __init__(self, thresholds=None, name="false_positives", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)


class TrueNegatives(_ConfusionCount):
    """Weighted number of negative labels predicted at or below the threshold.

    Parameters
    ----------
    thresholds : float or list of float, optional
        Threshold(s) in ``[0, 1]``; a prediction strictly above one counts as positive there.
        ``None`` (default) means 0.5. With several, ``result()`` is an array of one count per
        threshold (and ``compile`` refuses it: logs hold one number). Values outside
        ``[0, 1]``, an empty list or more than ``MAX_THRESHOLDS`` raise a ValueError.
    name : str, optional
        Display name (default ``"true_negatives"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``); counts are float64.
    """

    _direction = "up"
    _cell = 2

    def __init__(self, thresholds=None, name="true_negatives", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)


class FalseNegatives(_ConfusionCount):
    """Weighted number of positive labels predicted at or below the threshold.

    Parameters
    ----------
    thresholds : float or list of float, optional
        Threshold(s) in ``[0, 1]``; a prediction strictly above one counts as positive there.
        ``None`` (default) means 0.5. With several, ``result()`` is an array of one count per
        threshold (and ``compile`` refuses it: logs hold one number). Values outside
        ``[0, 1]``, an empty list or more than ``MAX_THRESHOLDS`` raise a ValueError.
    name : str, optional
        Display name (default ``"false_negatives"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``); counts are float64.
    """

    _direction = "down"
    _cell = 3

    def __init__(self, thresholds=None, name="false_negatives", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)


class _PrecisionRecallBase(Metric):
    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = positive_int("top_k", top_k, allow_none=True)
        self.class_id = nonneg_int("class_id", class_id, allow_none=True)
        default = 0.5 if top_k is None else _NEG_INF
        self.thresholds = [default] if thresholds is None else _parse_thresholds(thresholds)
        self._thresholds_array = np.asarray(self.thresholds, dtype=np.float64)
        self.reset_state()

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives = np.zeros(n, dtype=np.float64)
        self.false_positives = np.zeros(n, dtype=np.float64)
        self.false_negatives = np.zeros(n, dtype=np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, _tn, fn = _confusion_counts(
            y_true, y_pred, sample_weight, self._thresholds_array, top_k=self.top_k, class_id=self.class_id
        )
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn

    def _finish(self, values):
        return _one_per_threshold(self.thresholds, values)

    def _vector_result_reason(self):
        return _many_thresholds_reason(self)

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecallBase):
    """Precision ``tp / (tp + fp)`` of binary (or multi-label) predictions.

    A prediction counts as positive when it is strictly above the threshold
    (0.5 by default). With a list of thresholds, ``result()`` is an array.
    Labels are read as booleans (any non-zero is positive).

    Parameters
    ----------
    thresholds : float or list of float, optional
        Threshold(s) in ``[0, 1]``. ``None`` (default) means 0.5, or, with
        ``top_k``, no threshold at all (every kept prediction is positive).
        Values outside ``[0, 1]`` or an empty list raise a ValueError.
    top_k : int, optional
        Only the ``top_k`` highest predictions of a row can count as positive
        (the others are treated as negative; ties go to the earlier column).
        ``None`` (default) keeps all; a value below 1 raises a ValueError.
    class_id : int, optional
        Only compute the metric for this column of 2-D predictions (an index
        past the last column raises numpy's IndexError on update). ``None``
        (default) pools every entry.
    name : str, optional
        Display name (default ``"precision"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        """Return ``tp / (tp + fp)`` over everything seen.

        Returns
        -------
        float or numpy.ndarray
            One value per threshold (a float for one threshold); 0.0 where nothing was
            predicted positive.
        """
        return self._finish(
            _divide_no_nan(self.true_positives, self.true_positives + self.false_positives)
        )


class Recall(_PrecisionRecallBase):
    """Recall ``tp / (tp + fn)`` of binary (or multi-label) predictions.

    Parameters
    ----------
    thresholds : float or list of float, optional
        Threshold(s) in ``[0, 1]``, a prediction strictly above counting as
        positive; ``None`` (default) means 0.5, or no threshold with ``top_k``.
    top_k : int, optional
        Only the ``top_k`` highest predictions of a row can be positive;
        ``None`` (default) keeps all.
    class_id : int, optional
        Only compute the metric for this column; ``None`` (default) pools
        every entry.
    name : str, optional
        Display name (default ``"recall"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        """Return ``tp / (tp + fn)`` over everything seen.

        Returns
        -------
        float or numpy.ndarray
            One value per threshold (a float for one threshold); 0.0 where there was no
            positive label.
        """
        return self._finish(
            _divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
        )


def _is_evenly_distributed(thresholds):
    thresholds = np.asarray(thresholds, dtype=np.float64)
    n = thresholds.size
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


class AUC(Metric):
    """Approximate area under the ROC or precision-recall curve.

    Predictions are bucketed by ``num_thresholds`` thresholds evenly spaced in
    ``[0, 1]`` (the first is ``-eps`` and the last ``1 + eps`` so that 0 and 1
    fall inside); true/false positive and negative counts are accumulated per
    threshold and the area is summed with the chosen Riemann method.
    ``summation_method="interpolation"`` is the trapezoid rule for ROC and the
    Davis & Goadrich interpolation for PR.

    The result approximates the exact area (scikit-learn's
    ``roc_auc_score`` / ``average_precision_score`` compute it from every
    distinct score); more thresholds bring it closer.

    Parameters
    ----------
    num_thresholds : int, optional
        Number of thresholds (default 200), in ``[2, MAX_THRESHOLDS]``
        (10**6): the state and the cost of each update grow with it. Other
        values raise a ValueError.
    curve : str, optional
        ``"ROC"`` (default) or ``"PR"``, any case; anything else raises a
        ValueError.
    summation_method : str, optional
        ``"interpolation"`` (default), ``"minoring"`` (the lower of the two
        heights of each step) or ``"majoring"`` (the higher), any case.
    name : str, optional
        Display name (default ``"auc"``).
    dtype : str or numpy dtype, optional
        Nominal dtype (``"float32"`` when ``None``).
    thresholds : list of float, optional
        Explicit thresholds in ``[0, 1]`` (sorted here), overriding
        ``num_thresholds``; ``-eps`` and ``1 + eps`` are added at the ends.
        ``None`` (default) spaces them evenly.
    multi_label : bool, optional
        Treat each column as a separate label and average the per-label AUCs
        (weighted by ``label_weights`` if given). False (default) pools all
        entries into one curve.
    num_labels : int, optional
        Number of labels when ``multi_label``; ``None`` (default) takes it
        from the first batch. ``num_thresholds * num_labels`` is at most
        ``MAX_AUC_CELLS`` (10**7).
    label_weights : array-like, optional
        Per-column weights (finite, non-negative): with ``multi_label`` they
        weigh the per-label AUCs, otherwise each entry's column.
    from_logits : bool, optional
        Apply a sigmoid to ``y_pred`` first (default False: predictions are
        probabilities, values outside ``[0, 1]`` fall in the end buckets).
    """

    _direction = "up"

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name="auc",
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        super().__init__(name=name, dtype=dtype)
        curve_key = str(curve).upper()
        if curve_key not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        self.curve = curve_key
        method = str(summation_method).lower()
        if method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". '
                'Expected values are ["interpolation", "majoring", "minoring"]'
            )
        self.summation_method = method
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = np.sort(np.asarray(_parse_thresholds(thresholds), dtype=np.float64))
            if inner.size > MAX_THRESHOLDS - 2:
                raise ValueError(f"thresholds: expected at most {MAX_THRESHOLDS - 2} thresholds, got {inner.size}")
            self.num_thresholds = int(inner.size) + 2
            self._thresholds_distributed_evenly = _is_evenly_distributed(np.concatenate(([0.0], inner, [1.0])))
        else:
            self.num_thresholds = int_in_range("num_thresholds", num_thresholds, 2, MAX_THRESHOLDS)
            # the same values as (i + 1) * 1.0 / (n - 1), one division each
            inner = np.arange(1, self.num_thresholds - 1, dtype=np.float64) / (self.num_thresholds - 1)
            self._thresholds_distributed_evenly = True
        self._thresholds = np.concatenate(([0.0 - EPSILON], inner, [1.0 + EPSILON]))
        self.multi_label = bool(multi_label)
        if label_weights is not None:
            label_weights = np.asarray(label_weights, dtype=np.float64).reshape(-1)
            if label_weights.size > MAX_AUC_CELLS or not np.all(np.isfinite(label_weights)) or np.any(label_weights < 0):
                raise ValueError(f"label_weights: expected at most {MAX_AUC_CELLS} finite non-negative "
                                 f"numbers, got {_short(label_weights.tolist())}")
        self.label_weights = label_weights
        self.num_labels = positive_int("num_labels", num_labels, allow_none=True,
                                       maximum=MAX_AUC_CELLS // self.num_thresholds)
        self._from_logits = bool(from_logits)
        self.reset_state()

    @property
    def thresholds(self):
        """The thresholds used, including the ``-eps`` / ``1 + eps`` ends."""
        return list(self._thresholds)

    def reset_state(self):
        if self.multi_label and self.num_labels is None:
            shape = None
        elif self.multi_label:
            shape = (self.num_thresholds, int(self.num_labels))
        else:
            shape = (self.num_thresholds,)
        self._allocate(shape)

    def _allocate(self, shape):
        if shape is None:
            self.true_positives = self.false_positives = None
            self.true_negatives = self.false_negatives = None
            return
        self.true_positives = np.zeros(shape, dtype=np.float64)
        self.false_positives = np.zeros(shape, dtype=np.float64)
        self.true_negatives = np.zeros(shape, dtype=np.float64)
        self.false_negatives = np.zeros(shape, dtype=np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch's weighted confusion counts at every threshold.

        Parameters
        ----------
        y_true : array-like
            Labels, read as booleans, of the shape of ``y_pred`` (a trailing axis of size 1 may
            differ).
        y_pred : array-like
            Probabilities (logits with ``from_logits``); with ``multi_label`` of shape
            ``(n, num_labels)``, the same number of labels on every update.
        sample_weight : array-like, optional
            Weight per sample or per entry; ``None`` (default) weighs each entry 1.

        Raises
        ------
        ValueError
            When the shapes differ, or with ``multi_label`` when the input is not 2-D or its
            number of labels changes.
        """
        y_pred = np.asarray(y_pred, dtype=np.float64)
        if self._from_logits:
            y_pred = _sigmoid(y_pred)
        label_weights = None if self.multi_label else self.label_weights
        pred, pos, weights = _confusion_inputs(
            y_true, y_pred, sample_weight, label_weights=label_weights
        )
        if self.multi_label:
            if pred.ndim != 2:
                raise ValueError(
                    "AUC(multi_label=True) expects 2D inputs of shape "
                    f"(num_samples, num_labels); received {pred.shape}."
                )
            num_labels = pred.shape[1]
            if self.true_positives is None:
                positive_int("num_labels", num_labels, maximum=MAX_AUC_CELLS // self.num_thresholds)
                self.num_labels = num_labels
                self._allocate((self.num_thresholds, num_labels))
            elif self.true_positives.shape[1] != num_labels:
                raise ValueError(
                    f"Expected {self.true_positives.shape[1]} labels; received {num_labels}."
                )
        else:
            pred = pred.reshape(-1, 1)
            pos = pos.reshape(-1, 1)
            weights = weights.reshape(-1, 1)
            num_labels = 1
        pos_w = np.where(pos, weights, 0.0)
        neg_w = np.where(pos, 0.0, weights)
        T = self.num_thresholds
        if self._thresholds_distributed_evenly:
            # Bucket index b holds predictions in (b/(T-1), (b+1)/(T-1)];
            # predictions of exactly 0 join bucket 0 (above the -eps threshold).
            clipped = np.clip(np.nan_to_num(pred, nan=0.0), 0.0, 1.0)
            buckets = np.maximum(np.ceil(clipped * (T - 1)) - 1.0, 0.0).astype(np.int64)
            flat = (buckets * num_labels + np.arange(num_labels)[None, :]).ravel()
            tp_b = np.bincount(flat, weights=pos_w.ravel(), minlength=T * num_labels)
            fp_b = np.bincount(flat, weights=neg_w.ravel(), minlength=T * num_labels)
            tp_b = tp_b[: T * num_labels].reshape(T, num_labels)
            fp_b = fp_b[: T * num_labels].reshape(T, num_labels)
            tp = np.cumsum(tp_b[::-1], axis=0)[::-1]
            fp = np.cumsum(fp_b[::-1], axis=0)[::-1]
            total_pos = tp[0]
            total_neg = fp[0]
        else:
            tp = np.empty((T, num_labels), dtype=np.float64)
            fp = np.empty((T, num_labels), dtype=np.float64)
            for j in range(num_labels):
                tp[:, j], fp[:, j] = _weighted_counts_above(
                    pred[:, j], (pos_w[:, j], neg_w[:, j]), self._thresholds
                )
            total_pos = pos_w.sum(axis=0)
            total_neg = neg_w.sum(axis=0)
        fn = total_pos[None, :] - tp
        tn = total_neg[None, :] - fp
        if not self.multi_label:
            tp, fp, tn, fn = tp[:, 0], fp[:, 0], tn[:, 0], fn[:, 0]
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _average_labels(self, by_label):
        if not self.multi_label:
            return float(np.sum(by_label))
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(
            _divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))
        )

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, np.maximum(dp, 0.0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        safe_p_ratio = np.where(
            both_positive, _divide_no_nan(p[:-1], np.maximum(p[1:], 0.0)), 1.0
        )
        increment = _divide_no_nan(
            prec_slope * (dtp + intercept * np.log(safe_p_ratio)),
            np.maximum(tp[1:] + fn[1:], 0.0),
        )
        if self.multi_label:
            return self._average_labels(np.sum(increment, axis=0))
        return float(np.sum(increment))

    def result(self):
        """Return the area under the chosen curve.

        Returns
        -------
        float
            The area, in ``[0, 1]``; 0.0 before the first update of a ``multi_label`` AUC
            without ``num_labels``.
        """
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x = _divide_no_nan(fp, fp + tn)
            y = recall
        else:
            x = recall
            y = _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        terms = (x[:-1] - x[1:]) * heights
        if self.multi_label:
            return self._average_labels(np.sum(terms, axis=0))
        return float(np.sum(terms))

    def get_config(self):
        """Return the constructor arguments (explicit thresholds without their ``-eps`` ends).

        Returns
        -------
        dict
            ``name``, ``dtype``, ``num_thresholds``, ``curve``, ``summation_method``,
            ``multi_label``, ``num_labels``, ``label_weights`` (a list), ``from_logits`` and,
            when given, ``thresholds``.
        """
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


