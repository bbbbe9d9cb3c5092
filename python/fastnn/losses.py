"""Losses with Keras 3 names, arguments and reduction, computed by the native engine.

Reduction is Keras's "sum_over_batch_size": each sample's loss (mean over the last axis for the
elementwise losses, sum for the categorical ones) times its sample weight, summed, divided by the
batch size.

When the model's last activation is sigmoid and the loss is binary cross-entropy, or softmax with
(sparse) categorical cross-entropy, fit/evaluate compute the loss from the logits (stable for any
logit; gradient (p - y) / N). This is what Keras's TensorFlow backend does too; the values agree with
the probability form wherever that is finite and unclipped.

Calling a loss object on numpy arrays returns the reduced value; calling it on the output of
`model(x)` returns a value with `.backward()` for the manual training loop.
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._registry import Registry
from .manual import LossValue

# Native kinds, from the engine (LossKind in src/cpp/include/fastnn/losses.h)
_KIND = {name: int(kind) for name, kind in _core.LossKind.__members__.items()}
_ALIASES = {
    "mse": "mean_squared_error", "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "kullback_leibler_divergence": "kl_divergence",
    "huber_loss": "huber", "logcosh": "log_cosh", "bce": "binary_crossentropy",
    "cce": "categorical_crossentropy", "scce": "sparse_categorical_crossentropy",
}


class Loss:
    """Base class of the losses. `name` is the Keras name used in logs and configs."""

    kind: str = ""

    def __init__(self, name=None, reduction="sum_over_batch_size", **kwargs):
        if reduction not in ("sum_over_batch_size", "auto", None, "none", "sum"):
            raise ValueError(
                f"reduction: expected 'sum_over_batch_size', 'sum' or 'none', got {reduction!r}"
            )
        self.name = name or self.kind
        self.reduction = "sum_over_batch_size" if reduction == "auto" else reduction
        self.from_logits = bool(kwargs.pop("from_logits", False))
        self.label_smoothing = float(kwargs.pop("label_smoothing", 0.0))
        self.delta = float(kwargs.pop("delta", 1.0))
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        if not 0.0 <= self.label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing: expected a value in [0, 1], got {self.label_smoothing}")
        if self.delta <= 0:
            raise ValueError(f"delta: expected a positive value, got {self.delta}")

    def spec(self) -> tuple:
        return (_KIND[self.kind], self.from_logits, self.label_smoothing, self.delta)

    @property
    def sparse(self) -> bool:
        return self.kind == "sparse_categorical_crossentropy"

    def get_config(self) -> dict:
        cfg = {"name": self.name, "reduction": self.reduction}
        if self.kind in ("binary_crossentropy", "categorical_crossentropy",
                         "sparse_categorical_crossentropy"):
            cfg["from_logits"] = self.from_logits
        if self.kind in ("binary_crossentropy", "categorical_crossentropy"):
            cfg["label_smoothing"] = self.label_smoothing
        if self.kind == "huber":
            cfg["delta"] = self.delta
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Keras order is loss(y_true, y_pred); PyTorch's is criterion(outputs, labels). A model's
        # output is recognised in either place.
        if getattr(y_true, "_fastnn_source", None) is not None and getattr(y_pred, "_fastnn_source", None) is None:
            y_true, y_pred = y_pred, y_true
        source = getattr(y_pred, "_fastnn_source", None)
        if source is not None and source() is not None:
            model = source()
            return model._loss_on_cached_output(self, y_pred, y_true, sample_weight)
        value, _grad, per = self.value_and_grad(y_true, y_pred, sample_weight)
        if self.reduction in ("none", None):
            return per
        if self.reduction == "sum":
            return LossValue(float(np.sum(per)))
        return LossValue(value)

    def value_and_grad(self, y_true, y_pred, sample_weight=None):
        """Returns (reduced value, d value / d y_pred, per-sample weighted losses)."""
        from . import _core

        y_pred = np.asarray(y_pred)
        dtype = np.float64 if y_pred.dtype == np.float64 else np.float32
        p = np.ascontiguousarray(y_pred, dtype=dtype)
        p2 = p.reshape(-1, 1) if p.ndim == 1 else p.reshape(p.shape[0], -1)
        y = np.ascontiguousarray(np.asarray(y_true), dtype=dtype)
        if not self.sparse and y.size != p2.size:
            raise ValueError(
                f"y_true: expected {p2.shape} values to match y_pred, got shape {y.shape}"
            )
        w = None
        if sample_weight is not None:
            w = np.ascontiguousarray(np.asarray(sample_weight, dtype=dtype).reshape(-1))
        fn = _core.loss_f64 if dtype == np.float64 else _core.loss_f32
        total, grad, per = fn(self.spec(), p2, y.reshape(p2.shape[0], -1), w)
        n = max(p2.shape[0], 1)
        return total / n, grad.reshape(p.shape), per

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


def _loss_class(kind: str, cls_name: str, doc: str, args=()):
    def __init__(self, *pos, name=None, reduction="sum_over_batch_size", **kwargs):
        if len(pos) > len(args):
            raise TypeError(f"{cls_name}: too many positional arguments")
        for k, v in zip(args, pos):
            kwargs[k] = v
        Loss.__init__(self, name=name or kind, reduction=reduction, **kwargs)

    return type(cls_name, (Loss,), {"kind": kind, "__init__": __init__, "__doc__": doc})


MeanSquaredError = _loss_class("mean_squared_error", "MeanSquaredError", "mean((y - p)^2) over the last axis.")
MeanAbsoluteError = _loss_class("mean_absolute_error", "MeanAbsoluteError", "mean(|y - p|) over the last axis.")
MeanAbsolutePercentageError = _loss_class(
    "mean_absolute_percentage_error", "MeanAbsolutePercentageError",
    "100 * mean(|y - p| / max(|y|, 1e-7)).")
MeanSquaredLogarithmicError = _loss_class(
    "mean_squared_logarithmic_error", "MeanSquaredLogarithmicError",
    "mean((log(max(p, eps) + 1) - log(max(y, eps) + 1))^2).")
Huber = _loss_class("huber", "Huber", "0.5 e^2 for |e| <= delta, else delta (|e| - 0.5 delta).", ("delta",))
LogCosh = _loss_class("log_cosh", "LogCosh", "mean(log(cosh(p - y))).")
BinaryCrossentropy = _loss_class(
    "binary_crossentropy", "BinaryCrossentropy",
    "Binary cross-entropy; probabilities clipped to [1e-7, 1 - 1e-7] as Keras does; "
    "label_smoothing moves targets toward 0.5.", ("from_logits", "label_smoothing"))
CategoricalCrossentropy = _loss_class(
    "categorical_crossentropy", "CategoricalCrossentropy",
    "Cross-entropy with one-hot targets; probabilities are normalised then clipped (Keras).",
    ("from_logits", "label_smoothing"))
SparseCategoricalCrossentropy = _loss_class(
    "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
    "Cross-entropy with integer class labels.", ("from_logits",))
Hinge = _loss_class("hinge", "Hinge", "mean(max(1 - y p, 0)); 0/1 labels are mapped to -1/1 (Keras).")
SquaredHinge = _loss_class("squared_hinge", "SquaredHinge", "mean(max(1 - y p, 0)^2).")
CategoricalHinge = _loss_class("categorical_hinge", "CategoricalHinge", "max(max((1 - y) p) - sum(y p) + 1, 0).")
KLDivergence = _loss_class("kl_divergence", "KLDivergence", "sum(y log(y / p)), both clipped to [1e-7, 1].")
Poisson = _loss_class("poisson", "Poisson", "mean(p - y log(p + 1e-7)).")
CosineSimilarity = _loss_class("cosine_similarity", "CosineSimilarity", "-sum(l2_normalize(y) * l2_normalize(p)).")

_CLASSES = {c.kind: c for c in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    Huber, LogCosh, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, CosineSimilarity)}
_BY_CLASS_NAME = {c.__name__: c for c in _CLASSES.values()}
ALL = sorted(_CLASSES) + sorted(_ALIASES)


_REGISTRY = Registry("loss")
for _cls in _CLASSES.values():
    _REGISTRY.register(_cls, _cls.kind)
for _alias, _kind in _ALIASES.items():
    _REGISTRY.register(_CLASSES[_kind], _alias)


def get(identifier) -> Loss:
    """Resolves a loss name (Keras's, e.g. "binary_crossentropy", "mse"), class, instance or config."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _REGISTRY.lookup(identifier)()
    if callable(identifier) and getattr(identifier, "_fastnn_loss", None):
        return _CLASSES[identifier._fastnn_loss]()
    raise TypeError(
        f"loss: expected a name, a fastnn.losses.Loss or a config dict, got {identifier!r}; "
        "arbitrary Python callables cannot run in the native loop"
    )


def serialize(loss: Loss) -> dict:
    return _REGISTRY.serialize(loss)


def deserialize(config: dict) -> Loss:
    """A loss from {"class_name": ..., "config": {...}}."""
    return _REGISTRY.deserialize(config)


def _fn(kind):
    def f(y_true, y_pred, **kwargs):
        cls = _CLASSES[kind]
        return cls(reduction="none", **kwargs)(y_true, y_pred)

    f.__name__ = kind
    f._fastnn_loss = kind
    f.__doc__ = f"Per-sample {kind} (Keras definition) of numpy arrays."
    return f


mean_squared_error = mse = _fn("mean_squared_error")
mean_absolute_error = mae = _fn("mean_absolute_error")
mean_absolute_percentage_error = mape = _fn("mean_absolute_percentage_error")
mean_squared_logarithmic_error = msle = _fn("mean_squared_logarithmic_error")
huber = _fn("huber")
log_cosh = _fn("log_cosh")
binary_crossentropy = _fn("binary_crossentropy")
categorical_crossentropy = _fn("categorical_crossentropy")
sparse_categorical_crossentropy = _fn("sparse_categorical_crossentropy")
hinge = _fn("hinge")
squared_hinge = _fn("squared_hinge")
categorical_hinge = _fn("categorical_hinge")
kl_divergence = kld = _fn("kl_divergence")
poisson = _fn("poisson")
cosine_similarity = _fn("cosine_similarity")
