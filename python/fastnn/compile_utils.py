"""What compile() resolves: the loss weight, the metric lists, and the metric entries with their
Keras log names (a repeated name gets _1, _2, ...; a weighted metric whose name is taken gets the
prefix weighted_)."""
from __future__ import annotations

import math

import numpy as np

from . import metrics as _metrics


def loss_weight(loss_weights) -> float:
    """compile's loss_weights (a number, or a one-entry list or dict for the one output) as a float."""
    if loss_weights is None:
        return 1.0
    lw = loss_weights
    if isinstance(lw, dict):
        if len(lw) != 1:
            raise ValueError("loss_weights: a Sequential model has one output; give one weight")
        lw = next(iter(lw.values()))
    if isinstance(lw, (list, tuple)):
        if len(lw) != 1:
            raise ValueError("loss_weights: a Sequential model has one output; give one weight")
        lw = lw[0]
    if isinstance(lw, bool) or not isinstance(lw, (int, float, np.floating, np.integer)) or \
            not math.isfinite(lw) or lw < 0:
        raise ValueError(f"loss_weights: expected a non-negative number, got {loss_weights!r}")
    return float(lw)


def metric_list(name, metrics) -> list:
    """compile's metrics / weighted_metrics argument as a list of identifiers."""
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        if len(metrics) != 1:
            raise ValueError(f"{name}: a Sequential model has one output; give a list of metrics")
        metrics = next(iter(metrics.values()))
    if isinstance(metrics, (str, _metrics.Metric)) or (callable(metrics) and not isinstance(metrics, (list, tuple))):
        metrics = [metrics]
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(f"{name}: expected a list of metrics, got {type(metrics).__name__}")
    return [m for m in metrics if m is not None]


def check_metrics(identifiers):
    """Unknown metric names fail here, before compile changes anything."""
    for m in identifiers:
        if not (isinstance(m, str) and m.lower() in ("accuracy", "acc", "crossentropy", "ce")):
            _metrics.get(m)


def metric_entries(metric_ids, weighted_ids, loss, out_dim) -> list:
    """[(log name, metric object, weighted)] for the compiled metrics of a model with out_dim outputs."""
    entries: list = []
    used: dict = {}

    def resolve(m):
        return _metrics.resolve_accuracy(m, loss.kind, out_dim, from_logits=loss.from_logits)

    for m in metric_ids:
        obj = resolve(m)
        name = obj.name
        if name in used:
            used[name] += 1
            name = f"{name}_{used[obj.name] - 1}"
        used.setdefault(name, 1)
        entries.append((name, obj, False))
    for m in weighted_ids:
        obj = resolve(m)
        name = obj.name
        if name in used:
            name = f"weighted_{obj.name}"
            if name in used:
                used[name] += 1
                name = f"{name}_{used[name] - 1}"
        used.setdefault(name, 1)
        entries.append((name, obj, True))
    return entries


def metric_config(m):
    """A metric for the compile configuration of a saved model: its name, or its class and config."""
    if isinstance(m, str):
        return m
    if isinstance(m, _metrics.Metric):
        if type(m).__name__ in _metrics._REGISTRY and type(m) is _metrics._REGISTRY[type(m).__name__]:
            try:
                return {"class_name": type(m).__name__, "config": m.get_config()}
            except (TypeError, ValueError, NotImplementedError):
                pass
        return getattr(m, "name", None)
    name = getattr(m, "__name__", None)
    return name if name in _metrics._REGISTRY else None


def update_metrics(entries, Y, pred, W):
    for (_name, m, weighted) in entries:
        m.update_state(Y, pred, W if weighted else None)


def metric_logs(entries, logs):
    for (name, m, _w) in entries:
        logs[name] = float(m.result())
    return logs
