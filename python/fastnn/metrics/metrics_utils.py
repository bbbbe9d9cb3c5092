"""Array helpers shared by the metric families: rank alignment, the Keras sample-weight reduction,
safe division, the confusion-count inputs, and the bridge to the native losses.

Every value is computed in float64 whatever the input dtype, so a metric accumulated over many
chunks equals the metric of the whole data up to float64 rounding.
"""

from __future__ import annotations

import numbers
import re

import numpy as np

EPSILON = 1e-7
# Value given to predictions filtered out by ``top_k``.
_NEG_INF = -1e10


def _snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _align_ranks(x1, x2, expand_rank_1=True):
    """Make two arrays the same rank when their ranks differ by one.

    The array with the extra trailing axis of size 1 is squeezed, except that a
    rank-1 partner is expanded instead when ``expand_rank_1`` is true.
    """
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def _row_sum(x):
    """Float64 sum over the last axis (fast for the short class axis of 2-D data)."""
    if x.ndim == 2 and x.dtype == np.float64:
        return np.einsum("ij->i", x)
    return np.sum(x, axis=-1, dtype=np.float64)


def _row_mean(x):
    """Mean over the last axis; arrays of rank <= 1 are returned unchanged."""
    if x.ndim <= 1:
        return x
    return _row_sum(x) / x.shape[-1]


def _mean_trailing(values):
    """Mean over every axis but the first (per-sample values)."""
    if values.ndim > 1:
        return _row_mean(values.reshape(values.shape[0], -1))
    return values


def _reduce_to_samplewise(values, sample_weight, reduce_fn):
    """Reduce ``values`` to one value per sample and weight them.

    Returns ``(weighted_values, sample_weight)`` where ``sample_weight`` is
    ``None`` or has the same leading shape as the values.
    """
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.ndim == 0 and values.ndim >= 1:
            sample_weight = np.full(values.shape[:1], float(sample_weight))
        values, sample_weight = _align_ranks(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce_fn(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = np.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


def _divide_no_nan(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape, dtype=np.float64)
    np.divide(a, b, out=out, where=(b != 0))
    return out


def _sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _sparse_labels(y_true, y_pred):
    """Integer class ids of shape ``(n,)`` from labels ``(n,)`` or ``(n, 1)``."""
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.ndim >= 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def _in_top_k(targets, predictions, k):
    """Whether ``predictions[i, targets[i]]`` is among the ``k`` largest.

    Ties straddling the top-k boundary all count as inside, as in Keras.
    """
    predictions = np.asarray(predictions)
    if predictions.ndim > 2:
        predictions = predictions.reshape(-1, predictions.shape[-1])
    elif predictions.ndim == 1:
        predictions = predictions[None, :]
    targets = np.asarray(targets).reshape(-1)
    n, c = predictions.shape
    if targets.shape[0] != n:
        raise ValueError(
            f"Expected one label per prediction row; received {targets.shape[0]} "
            f"labels for predictions of shape {predictions.shape}."
        )
    idx = targets.astype(np.int64, copy=False)
    valid = (idx >= 0) & (idx < c) & (idx == targets)
    safe = np.where(valid, idx, 0)
    target_vals = np.take_along_axis(predictions, safe[:, None], axis=-1)[:, 0]
    if k >= c:
        hit = np.ones(n, dtype=bool)
    elif k <= 0:
        hit = np.zeros(n, dtype=bool)
    else:
        kth = np.partition(predictions, c - k, axis=-1)[:, c - k]
        hit = target_vals >= kth
    return hit & valid & np.isfinite(target_vals)


def loss_values(loss, y_true, y_pred):
    """Per-sample values of the native `loss` (a fastnn.losses.Loss), in float64.

    The loss reduces the last axis (mean for the element-wise losses, sum for the categorical
    ones); every leading index is one sample, so values of shape (n, t, c) give (n, t).
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if loss.sparse:
        labels = _sparse_labels(y_true, y_pred)
        if y_pred.ndim < 1 or labels.shape != y_pred.shape[:-1]:
            raise ValueError(
                f"y_true: expected integer labels of shape {y_pred.shape[:-1]} or "
                f"{y_pred.shape[:-1] + (1,)} for y_pred of shape {y_pred.shape}, got {np.shape(y_true)}"
            )
        y_true = np.asarray(labels, dtype=np.float64)[..., None]
    else:
        y_true = np.asarray(y_true, dtype=np.float64)
        y_true, y_pred = _align_ranks(y_true, y_pred)
        try:
            shape = np.broadcast_shapes(y_true.shape, y_pred.shape)
        except ValueError:
            raise ValueError(
                f"y_true: expected a shape compatible with y_pred {y_pred.shape}, got {y_true.shape}"
            ) from None
        y_true = np.broadcast_to(y_true, shape)
        y_pred = np.broadcast_to(y_pred, shape)
    if y_pred.ndim == 0:
        y_pred, y_true = y_pred.reshape(1), y_true.reshape(1)
    lead, cols = y_pred.shape[:-1], y_pred.shape[-1]
    if cols == 0 or y_pred.size == 0:
        return np.zeros(lead, dtype=np.float64)
    p2 = np.ascontiguousarray(y_pred.reshape(-1, cols))
    y2 = np.ascontiguousarray(y_true.reshape(p2.shape[0], -1))
    _value, _grad, per = loss.value_and_grad(y2, p2)
    return np.asarray(per, dtype=np.float64).reshape(lead)


def _filter_top_k(x, k):
    """Keep the ``k`` largest entries of each row (earliest index wins ties)."""
    if x.ndim == 0:
        return x
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return np.where(mask, x, _NEG_INF)


def _confusion_inputs(y_true, y_pred, sample_weight, top_k=None, class_id=None, label_weights=None):
    """Prepare ``(predictions, is_positive, weights)`` arrays of equal shape."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true)
    y_pred, y_true = _align_ranks(y_pred, y_true)
    if y_pred.shape != y_true.shape:
        raise ValueError(
            "y_true and y_pred must have the same shape; received "
            f"y_true.shape={y_true.shape} and y_pred.shape={y_pred.shape}."
        )
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float64)
        if weights.ndim > 0:
            weights = weights[..., None]
            _, weights = _align_ranks(y_true, weights, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes); found shape: {y_pred.shape}."
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if weights is None:
        weights = np.ones(y_pred.shape, dtype=np.float64)
    else:
        weights = np.broadcast_to(weights, y_pred.shape)
    if label_weights is not None:
        weights = weights * np.broadcast_to(np.asarray(label_weights, dtype=np.float64), y_pred.shape)
    return y_pred, y_true.astype(bool), weights


def _weighted_counts_above(values, weight_arrays, thresholds, at_or_below=False):
    """For each threshold ``t`` and weight array ``w``: ``sum(w[values > t])``, and with
    ``at_or_below`` also ``sum(w[values <= t])`` (summed from its own side, so a count that is zero
    comes out exactly zero).

    ``values`` and the weight arrays are 1-D; NaN values are above no
    threshold. Returns one float64 array of ``len(thresholds)`` per weight
    array (a pair of arrays with ``at_or_below``). Cost: one binary search per
    value, no sort of the values.
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    order = np.argsort(thresholds, kind="stable")
    sorted_thr = thresholds[order]
    T = sorted_thr.size
    # number of thresholds strictly below each value
    below = np.searchsorted(sorted_thr, values, side="left")
    nan = np.isnan(values)
    below[nan] = 0
    results = []
    for weights in weight_arrays:
        hist = np.bincount(below, weights=weights, minlength=T + 1)
        # values above sorted threshold j are those with more than j thresholds below
        at_least = np.cumsum(hist[::-1])[::-1]
        above = np.empty(T, dtype=np.float64)
        above[order] = at_least[1 : T + 1]
        if not at_or_below:
            results.append(above)
            continue
        # values at or below sorted threshold j have at most j thresholds below (NaN: below all)
        low = np.cumsum(hist)[:T]
        rest = np.empty(T, dtype=np.float64)
        rest[order] = low
        results.append((above, rest))
    return results


#: Most thresholds a confusion metric (Precision, Recall, the confusion counts, AUC) accepts: its
#: state and each update cost memory and time in proportion, and a model file can ask for it.
MAX_THRESHOLDS = 10**6


def _parse_thresholds(thresholds, argument="thresholds"):
    """Thresholds in [0, 1] as a list of floats (a number gives a list of one)."""
    if isinstance(thresholds, bool):
        raise ValueError(f"{argument}: expected a number or a list of numbers in [0, 1], got {thresholds!r}")
    if isinstance(thresholds, numbers.Real):
        values = [thresholds]
    else:
        try:
            arr = np.asarray(thresholds)
        except (TypeError, ValueError):
            arr = np.asarray([], dtype=object)
        if arr.dtype.kind not in "iuf" or arr.ndim > 1:
            raise ValueError(f"{argument}: expected a number or a list of numbers in [0, 1], got "
                             f"{_short(thresholds)}")
        if arr.size > MAX_THRESHOLDS:
            raise ValueError(f"{argument}: expected at most {MAX_THRESHOLDS} thresholds, got {arr.size}")
        if arr.size == 0:
            raise ValueError(f"{argument}: expected at least one threshold, got an empty list")
        values = arr.ravel().astype(np.float64)
    values = [float(t) for t in values]
    bad = [t for t in values if not 0.0 <= t <= 1.0]
    if bad:
        raise ValueError(f"{argument}: threshold values must be in [0, 1], got {_short(bad)} in "
                         f"{_short(values)}")
    return values


def _short(value, limit=120):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + " ...]"


def last_axis(y_true, y_pred, axis):
    """``(y_true, y_pred)`` as float64 arrays with ``axis`` moved to the end."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    rank = max(y_pred.ndim, 1)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -rank <= axis < rank:
        raise ValueError(f"axis: expected an int in [{-rank}, {rank}) for y_pred of shape {y_pred.shape}, "
                         f"got {axis!r}")
    axis = int(axis) % rank
    if y_pred.ndim <= 1 or axis == y_pred.ndim - 1:
        return y_true, y_pred
    if y_true.ndim == y_pred.ndim:
        y_true = np.moveaxis(y_true, axis, -1)
    return y_true, np.moveaxis(y_pred, axis, -1)
