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
    """Base class of the losses; each subclass is one kind the native engine computes.

    Training runs the loss in the native engine, so a custom subclass with its own Python
    formula is not supported (``compile`` only takes the built-in kinds). Calling a loss on
    numpy arrays gives a :class:`~fastnn.manual.LossValue` (a float; the per-sample array with
    ``reduction="none"``); on the output of ``model(x)`` a value whose ``backward()`` trains
    the model. Both argument orders work there: ``loss(y_true, model(x))`` as in Keras and
    ``loss(model(x), y_true)`` as a PyTorch criterion.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the kind's Keras name.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same), ``"sum"``, or
        ``"none"`` / ``None`` for the per-sample array. Any other value raises a ValueError.
    **kwargs
        ``from_logits`` (bool, default False), ``label_smoothing`` (in ``[0, 1]``, default 0)
        and ``delta`` (> 0, default 1.0), used by the kinds they concern; any other keyword
        raises a TypeError.
    """

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
        """Return the loss as the native engine takes it.

        Returns
        -------
        tuple
            ``(kind, from_logits, label_smoothing, delta)``, ``kind`` being the engine's integer
            code of the loss.
        """
        return (_KIND[self.kind], self.from_logits, self.label_smoothing, self.delta)

    @property
    def sparse(self) -> bool:
        """Whether targets are integer class ids (sparse categorical cross-entropy), not arrays like y_pred."""
        return self.kind == "sparse_categorical_crossentropy"

    def get_config(self) -> dict:
        """Return the constructor arguments, as Keras writes them.

        Returns
        -------
        dict
            ``name`` and ``reduction``, plus ``from_logits`` for the cross-entropies,
            ``label_smoothing`` for binary and categorical cross-entropy and ``delta`` for Huber.
        """
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
        """Build a loss from :meth:`get_config`'s output.

        Parameters
        ----------
        config : dict
            Keyword arguments of the constructor; an unknown key raises a TypeError.

        Returns
        -------
        Loss
            A new instance of ``cls``.
        """
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
        """Evaluate the loss and its gradient on numpy arrays in one native call.

        The arithmetic is float64 when ``y_pred`` is float64, float32 otherwise. The reduction is
        always ``sum_over_batch_size``, whatever this loss's ``reduction`` says.

        Parameters
        ----------
        y_true : array-like
            Targets with as many values as ``y_pred`` (class ids of shape ``(n,)`` or ``(n, 1)``
            for the sparse cross-entropy); a size mismatch raises a ValueError.
        y_pred : array-like
            Predictions, first axis over samples (1-D means one value per sample).
        sample_weight : array-like, optional
            One weight per sample; ``None`` (default) weighs each sample 1.

        Returns
        -------
        value : float
            ``sum(per_sample) / n``, n being the number of samples.
        grad : numpy.ndarray
            ``d value / d y_pred``, of ``y_pred``'s shape.
        per_sample : numpy.ndarray
            The weighted loss of each sample, shape ``(n,)``.
        """
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


MeanSquaredError = _loss_class("mean_squared_error", "MeanSquaredError", """Mean squared error: ``mean((y - p)^2)`` over the last axis.

    Each sample's loss is the mean over the last axis.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"mean_squared_error"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
MeanAbsoluteError = _loss_class("mean_absolute_error", "MeanAbsoluteError", """Mean absolute error: ``mean(|y - p|)`` over the last axis.

    Each sample's loss is the mean over the last axis.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"mean_absolute_error"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
MeanAbsolutePercentageError = _loss_class(
    "mean_absolute_percentage_error", "MeanAbsolutePercentageError",
    """Mean absolute percentage error: ``100 * mean(|y - p| / max(|y|, 1e-7))``.

    Targets near zero make it very large; the 1e-7 floor only prevents a division by zero.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"mean_absolute_percentage_error"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
MeanSquaredLogarithmicError = _loss_class(
    "mean_squared_logarithmic_error", "MeanSquaredLogarithmicError",
    """Mean squared logarithmic error: ``mean((log(max(p, eps) + 1) - log(max(y, eps) + 1))^2)``.

    eps is 1e-7, so negative values count as zero, as in Keras.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"mean_squared_logarithmic_error"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
Huber = _loss_class("huber", "Huber", """Huber loss: ``0.5 e^2`` for ``|e| <= delta``, else ``delta (|e| - 0.5 delta)``.

    ``e = y - p``; each sample's loss is the mean over the last axis.

    Parameters
    ----------
    delta : float, optional
        Where the loss turns from quadratic to linear (default 1.0), also accepted as the first
        positional argument; must be > 0 (a ValueError otherwise).
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"huber"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """, ("delta",))
LogCosh = _loss_class("log_cosh", "LogCosh", """Log-cosh loss: ``mean(log(cosh(p - y)))`` over the last axis.

    About ``e^2 / 2`` for small errors and ``|e| - log 2`` for large ones.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"log_cosh"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
BinaryCrossentropy = _loss_class(
    "binary_crossentropy", "BinaryCrossentropy",
    """Binary cross-entropy of targets in ``[0, 1]``.

    Probabilities are clipped to ``[1e-7, 1 - 1e-7]`` as Keras does; each sample's loss is the
    mean over the last axis. ``from_logits`` and ``label_smoothing`` may also be given
    positionally, in that order.

    Parameters
    ----------
    from_logits : bool, optional
        ``y_pred`` holds logits (default False). The loss then uses the stable log-sigmoid /
        log-softmax form.
    label_smoothing : float, optional
        In ``[0, 1]`` (default 0): targets become ``y * (1 - s) + s / 2``; outside the range a
        ValueError.
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"binary_crossentropy"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.

    Notes
    -----
    Unlike Keras there is no ``axis`` (nor ``dtype``) argument: the last axis is reduced, and
    an unknown keyword raises a TypeError.
    """, ("from_logits", "label_smoothing"))
CategoricalCrossentropy = _loss_class(
    "categorical_crossentropy", "CategoricalCrossentropy",
    """Cross-entropy with one-hot (or soft) targets.

    Probabilities are normalised to sum to 1 then clipped, as Keras does; each sample's loss is
    the sum over the class axis (the last). ``from_logits`` and ``label_smoothing`` may also
    be given positionally.

    Parameters
    ----------
    from_logits : bool, optional
        ``y_pred`` holds logits (default False). The loss then uses the stable log-sigmoid /
        log-softmax form.
    label_smoothing : float, optional
        In ``[0, 1]`` (default 0): targets become ``y * (1 - s) + s / num_classes``; outside the
        range a ValueError.
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"categorical_crossentropy"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.

    Notes
    -----
    Unlike Keras there is no ``axis`` (nor ``dtype``) argument: the last axis is reduced, and
    an unknown keyword raises a TypeError.
    """,
    ("from_logits", "label_smoothing"))
SparseCategoricalCrossentropy = _loss_class(
    "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
    """Cross-entropy with integer class labels.

    Targets are class ids of shape ``(n,)`` or ``(n, 1)``; predictions have one column per
    class. ``from_logits`` may also be given positionally.

    Parameters
    ----------
    from_logits : bool, optional
        ``y_pred`` holds logits (default False). The loss then uses the stable log-sigmoid /
        log-softmax form.
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"sparse_categorical_crossentropy"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.

    Notes
    -----
    Keras's ``ignore_class`` and ``axis`` are not supported (a TypeError): every label
    counts and the class axis is the last.
    """, ("from_logits",))
Hinge = _loss_class("hinge", "Hinge", """Hinge loss: ``mean(max(1 - y p, 0))`` over the last axis.

    Labels are -1 or 1; labels that are all 0 or 1 are mapped to -1 / 1, as in Keras.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"hinge"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
SquaredHinge = _loss_class("squared_hinge", "SquaredHinge", """Squared hinge loss: ``mean(max(1 - y p, 0)^2)`` over the last axis.

    Labels are -1 or 1; labels that are all 0 or 1 are mapped to -1 / 1, as in Keras.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"squared_hinge"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
CategoricalHinge = _loss_class("categorical_hinge", "CategoricalHinge", """Categorical hinge loss: ``max(max((1 - y) p) - sum(y p) + 1, 0)`` per sample.

    Targets are one-hot along the last axis.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"categorical_hinge"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
KLDivergence = _loss_class("kl_divergence", "KLDivergence", """Kullback-Leibler divergence: ``sum(y log(y / p))``, both clipped to ``[1e-7, 1]``.

    Each sample's loss is the sum over the last axis.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"kl_divergence"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
Poisson = _loss_class("poisson", "Poisson", """Poisson loss: ``mean(p - y log(p + 1e-7))`` over the last axis.

    ``p`` is a predicted rate (positive); ``y`` an observed count.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"poisson"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.
    """)
CosineSimilarity = _loss_class("cosine_similarity", "CosineSimilarity", """Negative cosine similarity: ``-sum(l2_normalize(y) * l2_normalize(p))``.

    Per sample over the last axis, in ``[-1, 1]``: -1 when target and prediction point the same way.

    Parameters
    ----------
    name : str, optional
        Name in logs and configs; ``None`` (default) gives the Keras name ``"cosine_similarity"``.
    reduction : str or None, optional
        ``"sum_over_batch_size"`` (default; ``"auto"`` means the same): the weighted per-sample
        losses summed and divided by the batch size; ``"sum"``: their sum; ``"none"`` or
        ``None``: the per-sample array. Any other value raises a ValueError.

    Notes
    -----
    Unlike Keras there is no ``axis`` argument: the vectors lie along the last axis.
    """)

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
    """Resolve a loss name (Keras's, e.g. "binary_crossentropy", "mse"), class, instance or config.

    Parameters
    ----------
    identifier : str, Loss, type, dict or callable
        A name or alias, any case (``"mse"``, ``"Huber"``, ``"bce"``...), giving a new
        instance with defaults; a :class:`Loss` instance (returned as is) or subclass
        (instantiated); a ``{"class_name": ..., "config": {...}}`` dict; or one of this
        module's loss functions (``fastnn.losses.mse``...). Unlike Keras, an arbitrary Python
        function is refused: the training loop runs the loss natively.

    Returns
    -------
    Loss
        The loss object.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid names.
    TypeError
        For any other object, such as a Python function of your own.
    """
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
    """Return the ``{"class_name": ..., "config": {...}}`` of a loss.

    Parameters
    ----------
    loss : Loss
        The loss to describe.

    Returns
    -------
    dict
        The class name and :meth:`Loss.get_config`, the form :func:`deserialize` reads.
    """
    return _REGISTRY.serialize(loss)


def deserialize(config: dict) -> Loss:
    """Build a loss from ``{"class_name": ..., "config": {...}}``.

    Parameters
    ----------
    config : dict
        ``class_name`` is the exact class name (``"Huber"``); ``config`` holds the constructor
        arguments (without that key, the other keys are taken as them).

    Returns
    -------
    Loss
        A new loss object.

    Raises
    ------
    TypeError
        When ``config`` (or its ``"config"`` entry) is not a dict.
    ValueError
        For a class name that is not a built-in loss; the message lists the valid ones.
    """
    return _REGISTRY.deserialize(config)


def _fn(kind):
    def f(y_true, y_pred, **kwargs):
        cls = _CLASSES[kind]
        return cls(reduction="none", **kwargs)(y_true, y_pred)

    f.__name__ = kind
    f._fastnn_loss = kind
    f.__doc__ = f"""Per-sample {kind} (Keras definition) of numpy arrays.

    Usable as ``compile(loss=...)``: it stands for its loss class.

    Parameters
    ----------
    y_true : array-like
        Targets (integer class ids of shape ``(n,)`` or ``(n, 1)`` for the sparse cross-entropy).
    y_pred : array-like
        Predictions, first axis over samples.
    **kwargs
        Options of the loss class (``from_logits``, ``label_smoothing``, ``delta``, where the
        kind takes them); an unknown keyword raises a TypeError.

    Returns
    -------
    numpy.ndarray
        One unweighted value per sample, shape ``(n,)``: float64 for float64 predictions,
        float32 otherwise.
    """
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
