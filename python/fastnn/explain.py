"""Attributions: which input features a model's output depends on, and by how much.

Gradient attributions with captum's names and semantics, so that results can be cross-checked
against captum on the same weights:

- `input_gradients`     captum's Saliency(abs=False): d output[target] / d x
- `input_x_gradient`    captum's InputXGradient: x * d output[target] / d x
- `integrated_gradients` captum's IntegratedGradients (every approximation method), plus
                        method="exact" for networks whose hidden activations are piecewise linear
- `smoothgrad`          captum's NoiseTunnel around gradients or integrated gradients

Numpy in, numpy out, in the model's dtype (float32 or float64), shaped like x. Every gradient is the
engine's input gradient in inference mode (Dropout off, BatchNormalization with its moving statistics,
LayerNormalization as in predict), computed natively with the GIL released; the interpolation points of
many rows go to the engine in one call, since rows are independent.

`model` is a fastnn Model, or an object that holds one in its `model_` attribute (the fitted
fastnn.sklearn estimators).
"""
from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from . import _random
from . import layers as _layers
from ._validation import as_array, as_float_matrix

__all__ = ["input_gradients", "input_x_gradient", "integrated_gradients", "smoothgrad"]

METHODS = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle", "exact")
NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")
INNER = ("gradients", "integrated_gradients")

# Values per native call (about 32 MB of float64 input): large enough that the engine's thread pool
# has whole blocks of rows to share, small enough that interpolation batches stay bounded.
_CALL_ELEMENTS = 1 << 22


# ------------------------------------------------------------------------------------------ plumbing
def _as_model(obj):
    """A built fastnn Model: obj itself; the model an estimator keeps in `model_` (fastnn's Keras-style
    wrappers) or `_model`; or, for a fitted multilayer perceptron estimator in scikit-learn's form
    (coefs_, intercepts_, activation, out_activation_: fastnn.sklearn's MLPClassifier / MLPRegressor, and
    scikit-learn's own), a float64 fastnn network holding its weights."""
    from .models import Model

    if isinstance(obj, Model):
        model = obj
    else:
        model = None
        for attr in ("model_", "_model"):
            inner = getattr(obj, attr, None)
            if isinstance(inner, Model):
                model = inner
                break
        if model is None and hasattr(obj, "coefs_") and hasattr(obj, "out_activation_"):
            model = _from_mlp_estimator(obj)
        if model is None:
            hint = (" (an estimator that is not fitted yet has no model: call fit first)"
                    if hasattr(obj, "fit") else "")
            raise TypeError(f"model: expected a fastnn Model, an estimator holding one in `model_`, or a fitted "
                            f"MLP estimator (coefs_, intercepts_), got {type(obj).__name__}{hint}")
    if not model.built:
        raise ValueError("model: the model is not built yet; call build() or fit() first, or give the "
                         "first layer an input shape")
    return model


# scikit-learn's activation names; fastnn's own names pass through
_SKLEARN_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                        "softmax": "softmax"}


def _from_mlp_estimator(est):
    """The network of a fitted scikit-learn-style MLP: Dense layers with its coefs_ and intercepts_.
    A binary classifier has one logistic output, the probability of classes_[1]."""
    from .models import Sequential

    coefs, intercepts = list(est.coefs_), list(est.intercepts_)
    if not coefs or len(coefs) != len(intercepts):
        raise ValueError(f"model: {type(est).__name__} has {len(coefs)} coefs_ and {len(intercepts)} "
                         "intercepts_; expected one of each per layer")
    hidden = _SKLEARN_ACTIVATIONS.get(est.activation, est.activation)
    last = _SKLEARN_ACTIVATIONS.get(est.out_activation_, est.out_activation_)
    body = [_layers.Input(shape=(int(np.shape(coefs[0])[0]),))]
    for i, c in enumerate(coefs):
        body.append(_layers.Dense(int(np.shape(c)[1]), activation=last if i == len(coefs) - 1 else hidden))
    with _random.seeded(0):   # the weights are set below: no draw from the global stream is spent
        model = Sequential(body, dtype="float64")
    model.set_weights([w for pair in zip(coefs, intercepts) for w in pair])
    return model


def _native_input_gradient(model, x, weights):
    """The one place that reaches the native network: d sum(model(x) * weights) / d x for C-contiguous
    x (n, input_dim) and weights (n, output_dim) of the model's dtype, inference mode, GIL released."""
    return model._engine.input_gradient(x, weights)


def _dims(model):
    n_in = int(math.prod(model.input_shape[1:]))
    n_out = int(math.prod(model.output_shape[1:]))
    return n_in, n_out


def _inputs(model, x, name="x"):
    """x -> (C-contiguous (n, input_dim) array of the model's dtype, shape of the attributions)."""
    arr = as_array(x, name)
    n_in, _ = _dims(model)
    X = as_float_matrix(arr, name, model.dtype, n_in, tuple(model.input_shape[1:]))
    return X, arr.shape if arr.ndim > 2 else X.shape


def _targets(target, n, n_out):
    """target -> (n,) int64 output indices; None only for a model with one output."""
    if target is None:
        if n_out != 1:
            raise ValueError(f"target: the model has {n_out} outputs; give an output index (an int) or one "
                             "index per row (an array of ints); None (the sum) is only for one output")
        return np.zeros(n, dtype=np.int64)
    if isinstance(target, (bool, np.bool_)):
        raise TypeError(f"target: expected an int output index or an array of them, got {target!r}")
    if isinstance(target, numbers.Integral):
        idx = np.full(n, int(target), dtype=np.int64)
    else:
        try:
            arr = np.asarray(target)
        except (TypeError, ValueError) as e:
            raise TypeError(f"target: expected an int or an array of ints, got {type(target).__name__} ({e})") \
                from None
        if arr.dtype.kind not in "iu":
            raise TypeError(f"target: expected integer output indices, got an array of dtype {arr.dtype}")
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr.reshape(-1)
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValueError(f"target: expected one index per row, shape ({n},), got shape {arr.shape}")
        idx = arr.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= n_out):
        raise ValueError(f"target: output indices must be in [0, {n_out}) for a model with {n_out} outputs, "
                         f"got values in [{idx.min()}, {idx.max()}]")
    return idx


def _one_hot(idx, n_out, dtype):
    w = np.zeros((idx.shape[0], n_out), dtype=dtype)
    w[np.arange(idx.shape[0]), idx] = 1
    return w


def _gradients(model, X, idx):
    """d output[row, idx[row]] / d x for every row of X, in native calls of bounded size."""
    n_in, n_out = _dims(model)
    n = X.shape[0]
    per_call = max(1, _CALL_ELEMENTS // max(n_in, n_out))
    if n <= per_call:
        return _native_input_gradient(model, X, _one_hot(idx, n_out, X.dtype))
    out = np.empty_like(X)
    for s in range(0, n, per_call):
        e = min(n, s + per_call)
        out[s:e] = _native_input_gradient(model, X[s:e], _one_hot(idx[s:e], n_out, X.dtype))
    return out


def _outputs(model, X, idx):
    return model.predict(X, verbose=0)[np.arange(X.shape[0]), idx]


# ------------------------------------------------------------------------------------------ saliency
def input_gradients(model, x, target=None):
    """The gradient of the chosen output with respect to the input (captum's Saliency(abs=False)).

    The absolute value (captum's default abs=True) is np.abs of the result.

    Parameters
    ----------
    model : Model or estimator
        A built fastnn model, an object holding one in `model_` (fastnn.wrappers' estimators), or a
        fitted multilayer perceptron in scikit-learn's form (fastnn.sklearn's MLPClassifier /
        MLPRegressor, and scikit-learn's own), whose weights are copied into a float64 network.
    x : array_like
        The rows to explain: shape (n, *input_shape), finite, converted to the model's dtype.
    target : int, array_like of int or None, default None
        The output explained: one index for every row, one index per row (shape (n,) or (n, 1)),
        or None for a model with one output (None on several outputs raises ValueError). Indices
        must be in [0, outputs); a bool or float raises TypeError.

    Returns
    -------
    numpy.ndarray
        d output[row, target] / d x for every row, shaped like x, in the model's dtype.
    """
    model = _as_model(model)
    X, shape = _inputs(model, x)
    idx = _targets(target, X.shape[0], _dims(model)[1])
    return _gradients(model, X, idx).reshape(shape)


def input_x_gradient(model, x, target=None):
    """x times the gradient of the chosen output (captum's InputXGradient).

    Parameters
    ----------
    model : Model or estimator
        A built fastnn model, an object holding one in `model_` (fastnn.wrappers' estimators), or a
        fitted multilayer perceptron in scikit-learn's form (fastnn.sklearn's MLPClassifier /
        MLPRegressor, and scikit-learn's own), whose weights are copied into a float64 network.
    x : array_like
        The rows to explain: shape (n, *input_shape), finite, converted to the model's dtype.
    target : int, array_like of int or None, default None
        The output explained: one index for every row, one index per row (shape (n,) or (n, 1)),
        or None for a model with one output (None on several outputs raises ValueError). Indices
        must be in [0, outputs); a bool or float raises TypeError.

    Returns
    -------
    numpy.ndarray
        x * d output[row, target] / d x, shaped like x, in the model's dtype.
    """
    model = _as_model(model)
    X, shape = _inputs(model, x)
    idx = _targets(target, X.shape[0], _dims(model)[1])
    return (X * _gradients(model, X, idx)).reshape(shape)


# ------------------------------------------------------------------------------------------ integrated gradients
def _baselines(baselines, X, x_shape, dtype, name="baselines"):
    """baselines -> an (n, input_dim) array (a broadcast view where possible) of the model's dtype."""
    n, d = X.shape
    if isinstance(baselines, str):
        if baselines != "mean":
            raise ValueError(f"{name}: expected a number, an array, 'mean' or a callable, got {baselines!r}")
        return np.broadcast_to(X.mean(axis=0, dtype=np.float64).astype(dtype), (n, d))
    if callable(baselines):
        baselines = baselines(X.reshape(x_shape).copy())
    if isinstance(baselines, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a number or an array, got {baselines!r}")
    arr = as_array(baselines, name)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    sample = tuple(x_shape[1:])
    if arr.ndim == 0:
        return np.broadcast_to(arr.astype(dtype), (n, d))
    for shape in ((n,) + sample, (1,) + sample, sample):
        if arr.shape == shape:
            return np.broadcast_to(arr.astype(dtype).reshape(-1, d), (n, d))
    if arr.ndim == 2 and arr.shape in ((n, d), (1, d)):
        return np.broadcast_to(arr.astype(dtype), (n, d))
    if arr.ndim == 1 and arr.shape[0] == d:
        return np.broadcast_to(arr.astype(dtype), (n, d))
    raise ValueError(f"{name}: expected a scalar or an array of shape {(n,) + sample}, {(1,) + sample} or "
                     f"{sample} (one baseline per row, or one for all rows), got shape {arr.shape}")


def _quadrature(method, n_steps):
    """captum's interpolation points alpha in [0, 1] and their weights for `method`.

    gausslegendre: numpy's Gauss-Legendre nodes and weights mapped from [-1, 1] to [0, 1].
    riemann_*: weights 1/n_steps; points left: 0 .. 1 - 1/n, right: 1/n .. 1, middle: 1/(2n) ..
    1 - 1/(2n), trapezoid: 0 .. 1 (n points) with the two end weights halved, so that the trapezoid's
    weights sum to 1 - 1/n_steps, exactly as in captum."""
    if method == "gausslegendre":
        nodes, weights = _leggauss(n_steps)
        return 0.5 * (nodes + 1.0), 0.5 * weights
    if n_steps < 2:
        raise ValueError(f"n_steps: {method} needs at least 2 steps, got {n_steps}")
    n = n_steps
    weights = np.full(n, 1.0 / n)
    if method == "riemann_trapezoid":
        weights[0] /= 2
        weights[-1] /= 2
        return np.linspace(0.0, 1.0, n), weights
    if method == "riemann_left":
        return np.linspace(0.0, 1.0 - 1.0 / n, n), weights
    if method == "riemann_right":
        return np.linspace(1.0 / n, 1.0, n), weights
    return np.linspace(1.0 / (2 * n), 1.0 - 1.0 / (2 * n), n), weights


@functools.lru_cache(maxsize=16)
def _leggauss(n):
    """Gauss-Legendre nodes and weights on [-1, 1]: numpy's leggauss up to 128 points (what captum
    uses), Newton's method on the Legendre recurrence beyond, where leggauss's dense eigenvalue problem
    costs O(n^3) (minutes at 10,000 points) and this costs O(n^2)."""
    if n <= 128:
        x, w = np.polynomial.legendre.leggauss(n)
    else:
        k = np.arange(1, n // 2 + 1)
        x = np.cos(np.pi * (k - 0.25) / (n + 0.5))  # the positive roots, largest first
        for _ in range(100):
            p0, p1 = np.ones_like(x), x.copy()
            for j in range(2, n + 1):
                p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
            dp = n * (x * p1 - p0) / (x * x - 1.0)
            step = p1 / dp
            x = x - step
            if np.abs(step).max() < 1e-16:
                break
        w = 2.0 / ((1.0 - x * x) * dp * dp)
        if n % 2:
            p0, p1 = 1.0, 0.0  # P_n'(0) for odd n from the same recurrence
            for j in range(2, n + 1):
                p0, p1 = p1, (-(j - 1) * p0) / j
            d0 = n * p0  # P_n'(0) = n P_{n-1}(0)
            x = np.concatenate([-x, [0.0], x[::-1]])
            w = np.concatenate([w, [2.0 / (d0 * d0)], w[::-1]])
        else:
            x = np.concatenate([-x, x[::-1]])
            w = np.concatenate([w, w[::-1]])
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def _ig_quadrature(model, X, B, idx, alphas, weights, internal_batch_size):
    """sum_j weights[j] * grad(B + alphas[j] (X - B)), accumulated in float64 in the order of j, so the
    result does not depend on how the interpolation points are split into native calls."""
    n, d = X.shape
    n_out = _dims(model)[1]
    steps = alphas.shape[0]
    budget = internal_batch_size or max(steps, _CALL_ELEMENTS // max(d, n_out))
    rows = max(1, budget // steps)
    step_chunk = steps if rows * steps <= budget else budget
    a = alphas.astype(X.dtype)
    total = np.zeros((n, d))
    for s in range(0, n, rows):
        e = min(n, s + rows)
        xc, bc = X[s:e], B[s:e]
        diff = xc - bc
        w = _one_hot(idx[s:e], n_out, X.dtype)
        acc = total[s:e]
        for j0 in range(0, steps, step_chunk):
            j1 = min(steps, j0 + step_chunk)
            scaled = (bc[None] + a[j0:j1, None, None] * diff[None]).reshape(-1, d)
            g = _native_input_gradient(model, scaled, np.tile(w, (j1 - j0, 1))).reshape(j1 - j0, e - s, d)
            for j in range(j1 - j0):
                acc += weights[j0 + j] * g[j]
    return total * (X - B)


def integrated_gradients(model, x, target=None, baselines=0.0, n_steps=50, method="gausslegendre",
                         return_convergence_delta=False, internal_batch_size=None):
    """Integrated gradients (Sundararajan et al. 2017), with captum's semantics.

    attribution_i = (x_i - baseline_i) * integral over alpha in [0, 1] of
                    d output[target] / d x_i at baseline + alpha (x - baseline),
    so that the attributions of a row sum to output(x) - output(baseline) (completeness).

    The quadrature rules are captum's, with n_steps interpolation points: "gausslegendre" (numpy's
    Gauss-Legendre nodes and weights mapped to [0, 1]), "riemann_left", "riemann_right",
    "riemann_middle" (weights 1/n_steps) and "riemann_trapezoid" (captum's weights: 1/n_steps with
    the two end points halved; they sum to 1 - 1/n_steps, so a linear model gets (1 - 1/n_steps) of
    its exact attribution, as in captum). Gauss-Legendre converges spectrally for smooth networks
    (1e-8 at 50 steps is usual) but only about as 1/n_steps for ReLU networks, whose gradient jumps
    along the path.

    method="exact": the path integral computed exactly, n_steps ignored. Along the straight path the
    pre-activations of a network of affine maps (Dense, BatchNormalization in inference mode, Dropout
    off) and piecewise linear activations (linear, relu with its negative_slope / max_value and a
    threshold that leaves it continuous, leaky_relu, relu6, hard_sigmoid) are piecewise linear in alpha:
    the points where a unit crosses a kink are found layer by layer, and on each piece between them the
    gradient is constant and integrated exactly. The last activation may also be smooth and elementwise
    (sigmoid, tanh, softplus, ... the founding network's sigmoid output) when it is the network's last
    layer: the output is then g(z) of a logit z that is linear on each piece, and the integral of
    g'(z(alpha)) over a piece is (g(z_end) - g(z_start)) / (z_end - z_start), exactly (a Gauss-Legendre
    rule of 8 points where the piece changes z by less than 0.01, which is exact to rounding there).
    Refused with a ValueError: smooth hidden activations (the gradient is not piecewise constant),
    LayerNormalization (not piecewise linear in its input), softmax and log_softmax (each output
    depends on every logit), a smooth activation followed by further layers, and relu with a threshold
    at which it jumps. The computation runs in float64 with numpy from the model's weights (also for a
    float32 model, whose result is then cast to float32); its cost grows with the number of kinks
    crossed, about one forward pass per piece.

    Parameters
    ----------
    model : Model or estimator
        A built fastnn model, an object holding one in `model_` (fastnn.wrappers' estimators), or a
        fitted multilayer perceptron in scikit-learn's form (fastnn.sklearn's MLPClassifier /
        MLPRegressor, and scikit-learn's own), whose weights are copied into a float64 network.
    x : array_like
        The rows to explain: shape (n, *input_shape), finite, converted to the model's dtype.
    target : int, array_like of int or None, default None
        The output explained: one index for every row, one index per row (shape (n,) or (n, 1)),
        or None for a model with one output (None on several outputs raises ValueError). Indices
        must be in [0, outputs); a bool or float raises TypeError.
    baselines : float, array_like, "mean" or callable, default 0.0
        The path's starting point: a number (every feature), an array of one sample's shape (every
        row) or of x's shape (one per row), "mean" (the feature means of the x given here: pass a
        representative batch, or the training set's means as an array), or a callable that takes x
        and returns one of those.
    n_steps : int, default 50
        The number of interpolation points, a positive int; ignored by method="exact".
    method : str, default "gausslegendre"
        One of "gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right",
        "riemann_middle" (captum's) or "exact" (fastnn's, above); another value raises ValueError.
    return_convergence_delta : bool, default False
        Whether to also return, per row, sum(attributions) - (output(x) - output(baseline)).
    internal_batch_size : int, optional
        At most this many interpolated rows per native call (the results do not depend on it);
        None picks a size of about 2**22 values per call.

    Returns
    -------
    attributions : numpy.ndarray
        Shaped like x, in the model's dtype.
    delta : numpy.ndarray
        Only with return_convergence_delta=True (then the result is the pair): shape (n,), in the
        model's dtype.
    """
    model = _as_model(model)
    X, shape = _inputs(model, x)
    n = X.shape[0]
    idx = _targets(target, n, _dims(model)[1])
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 1:
        raise ValueError(f"n_steps: expected a positive int, got {n_steps!r}")
    if internal_batch_size is not None and (isinstance(internal_batch_size, bool) or
                                            not isinstance(internal_batch_size, numbers.Integral) or
                                            internal_batch_size < 1):
        raise ValueError(f"internal_batch_size: expected a positive int or None, got {internal_batch_size!r}")
    if not isinstance(return_convergence_delta, (bool, np.bool_)):
        raise TypeError(f"return_convergence_delta: expected a bool, got {return_convergence_delta!r}")
    B = _baselines(baselines, X, shape, X.dtype)
    if method == "exact":
        from ._exact_ig import exact_integrated_gradients

        attr = exact_integrated_gradients(model, X, B, idx).astype(X.dtype)
    else:
        alphas, weights = _quadrature(method, int(n_steps))
        attr = _ig_quadrature(model, X, B, idx, alphas, weights,
                              None if internal_batch_size is None else int(internal_batch_size)).astype(X.dtype)
    attr = attr.reshape(shape)
    if not return_convergence_delta:
        return attr
    return attr, _convergence_delta(model, attr.reshape(n, -1), X, B, idx)


def _convergence_delta(model, attr, X, B, idx):
    gap = _outputs(model, X, idx).astype(np.float64) - _outputs(model, np.ascontiguousarray(B), idx)
    return (attr.sum(axis=1, dtype=np.float64) - gap).astype(X.dtype)


# ------------------------------------------------------------------------------------------ smoothgrad
def smoothgrad(model, x, target=None, nt_samples=50, stdevs=0.15, nt_type="smoothgrad", inner="gradients",
               random_state=None, **inner_kwargs):
    """SmoothGrad (Smilkov et al. 2017) with captum's NoiseTunnel semantics.

    The inner attribution ("gradients": input_gradients, or "integrated_gradients" with
    **inner_kwargs such as n_steps, method, baselines, internal_batch_size) is computed for
    nt_samples noisy copies of each row, x + N(0, stdevs^2), and aggregated: "smoothgrad" is their
    mean, "smoothgrad_sq" the mean of their squares, "vargrad" their variance (mean of squares minus
    the squared mean).

    The baselines of integrated gradients are not noised ("mean" and callables see the x given
    here).

    Parameters
    ----------
    model : Model or estimator
        A built fastnn model, an object holding one in `model_` (fastnn.wrappers' estimators), or a
        fitted multilayer perceptron in scikit-learn's form (fastnn.sklearn's MLPClassifier /
        MLPRegressor, and scikit-learn's own), whose weights are copied into a float64 network.
    x : array_like
        The rows to explain: shape (n, *input_shape), finite, converted to the model's dtype.
    target : int, array_like of int or None, default None
        The output explained: one index for every row, one index per row (shape (n,) or (n, 1)),
        or None for a model with one output (None on several outputs raises ValueError). Indices
        must be in [0, outputs); a bool or float raises TypeError.
    nt_samples : int, default 50
        The number of noisy copies of each row, a positive int.
    stdevs : float or array_like, default 0.15
        The absolute standard deviation of the Gaussian noise added to every input value, in the
        units of x, as in captum (not relative to the range of x, as in the SmoothGrad paper: for
        standardised features 0.15 is 15% of a feature's spread); a non-negative number, or an
        array of one sample's shape for one deviation per feature.
    nt_type : {"smoothgrad", "smoothgrad_sq", "vargrad"}, default "smoothgrad"
        How the noisy attributions are aggregated (above).
    inner : {"gradients", "integrated_gradients"}, default "gradients"
        The attribution computed on each noisy copy.
    random_state : int, numpy.random.Generator or None, default None
        The noise's seed (a non-negative int) or generator; the same seed gives the same result.
        None draws fresh entropy.
    **inner_kwargs
        Arguments of integrated_gradients for inner="integrated_gradients" (baselines, n_steps,
        method, internal_batch_size); any other keyword, or any keyword with inner="gradients",
        raises TypeError.

    Returns
    -------
    numpy.ndarray
        The aggregated attributions, shaped like x, in the model's dtype.
    """
    model = _as_model(model)
    X, shape = _inputs(model, x)
    n, d = X.shape
    idx = _targets(target, n, _dims(model)[1])
    if isinstance(nt_samples, bool) or not isinstance(nt_samples, numbers.Integral) or nt_samples < 1:
        raise ValueError(f"nt_samples: expected a positive int, got {nt_samples!r}")
    if nt_type not in NT_TYPES:
        raise ValueError(f"nt_type: expected one of {', '.join(NT_TYPES)}, got {nt_type!r}")
    if inner not in INNER:
        raise ValueError(f"inner: expected one of {', '.join(INNER)}, got {inner!r}")
    sd = _stdevs(stdevs, shape, d)
    rng = _generator(random_state)
    if inner == "gradients":
        if inner_kwargs:
            raise TypeError(f"smoothgrad: unexpected arguments {sorted(inner_kwargs)} for inner='gradients' "
                            "(keyword arguments are passed to integrated_gradients)")
        B = None
    else:
        allowed = {"baselines", "n_steps", "method", "internal_batch_size"}
        bad = sorted(set(inner_kwargs) - allowed)
        if bad:
            raise TypeError(f"smoothgrad: unexpected arguments {bad} for inner='integrated_gradients' "
                            f"(accepted: {', '.join(sorted(allowed))})")
        B = _baselines(inner_kwargs.pop("baselines", 0.0), X, shape, X.dtype)
    S = int(nt_samples)
    rows = max(1, _CALL_ELEMENTS // (S * max(d, 1)))
    out = np.empty((n, d))
    for s in range(0, n, rows):
        e = min(n, s + rows)
        # rows drawn in order, each row's samples together: the same stream for any chunking
        noise = rng.standard_normal((e - s, S, d)) * sd
        noisy = np.ascontiguousarray((X[s:e, None, :] + noise).reshape(-1, d), dtype=X.dtype)
        rep = np.repeat(idx[s:e], S)
        if B is None:
            a = _gradients(model, noisy, rep)
        else:
            a = integrated_gradients(model, noisy, rep, np.repeat(B[s:e], S, axis=0), **inner_kwargs)
        a = a.reshape(e - s, S, d).astype(np.float64)
        if nt_type == "smoothgrad":
            out[s:e] = a.mean(axis=1)
        elif nt_type == "smoothgrad_sq":
            out[s:e] = (a * a).mean(axis=1)
        else:
            out[s:e] = (a * a).mean(axis=1) - a.mean(axis=1) ** 2
    return out.astype(X.dtype).reshape(shape)


def _stdevs(stdevs, shape, d):
    if isinstance(stdevs, (bool, np.bool_)):
        raise TypeError(f"stdevs: expected a non-negative number or an array of them, got {stdevs!r}")
    arr = as_array(stdevs, "stdevs").astype(np.float64)
    if arr.ndim != 0:
        if arr.shape not in (tuple(shape[1:]), (d,)):
            raise ValueError(f"stdevs: expected a number or an array of one sample's shape {tuple(shape[1:])}, "
                             f"got shape {arr.shape}")
        arr = arr.reshape(d)
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError(f"stdevs: expected non-negative finite standard deviations, got {stdevs!r}")
    return arr


def _generator(random_state):
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral) \
            or random_state < 0:
        raise ValueError(f"random_state: expected None, a non-negative int or a numpy Generator, got "
                         f"{random_state!r}")
    return np.random.default_rng(int(random_state))
