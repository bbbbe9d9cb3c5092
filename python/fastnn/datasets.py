"""Generated data sets for examples, tests and benchmarks.

Every function builds its data from a ``seed`` with NumPy only (nothing is downloaded) and returns
``(x_train, y_train), (x_test, y_test)`` like ``keras.datasets``. Features are float32 and
C-contiguous. The same arguments always give identical arrays; a different ``seed`` gives different
samples of the same task.

``n_samples`` is the total number of rows; ``round(n_samples * test_split)`` of them go to the test
set and the rest to the training set (``test_split=0`` gives an empty test set).

The rule behind each task (the teacher function of :func:`seed_task` and :func:`regression`, the
class prototypes of :func:`classification`) depends only on the shape arguments, never on ``seed``:
the seed picks which samples are drawn, so models trained on different seeds learn the same task.

Available sets:

* :func:`seed_task` -- 8 standardised features, binary labels from a smooth nonlinear rule.
* :func:`spirals` -- 2-D intertwined spirals, ``n_classes`` integer classes.
* :func:`moons` -- 2-D two interleaving half circles, two classes.
* :func:`blobs` -- isotropic Gaussian clusters, any number of features and classes.
* :func:`classification` -- large prototype-plus-noise classification (MNIST-shaped by default).
* :func:`regression` -- a smooth nonlinear target of standardised features.
"""
from __future__ import annotations

import functools
import math
from typing import Tuple

import numpy as np

__all__ = ["seed_task", "spirals", "moons", "blobs", "classification", "regression"]

Split = Tuple[Tuple[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]

# Fixed entropy for the parts of a task that must not depend on the user's seed.
_TASK_ENTROPY = 0x5EED7A5C


# ---------------------------------------------------------------------------------------------
# argument checks and helpers
# ---------------------------------------------------------------------------------------------
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return value


def _check_float(name: str, value, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name}: expected a finite number >= {minimum}, got {value}")
    return value


def _check_split(test_split) -> float:
    test_split = _check_float("test_split", test_split)
    if test_split >= 1.0:
        raise ValueError(f"test_split: expected a number in [0, 1), got {test_split}")
    return test_split


def _rng(seed) -> np.random.Generator:
    seed = _check_int("seed", seed, 0)
    return np.random.default_rng(seed)


def _task_rng(*shape_args: int) -> np.random.Generator:
    """A generator that depends only on the task's shape, for teachers and prototypes."""
    return np.random.default_rng([_TASK_ENTROPY, *[int(a) for a in shape_args]])


def _split(x: np.ndarray, y: np.ndarray, test_split: float) -> Split:
    n = x.shape[0]
    n_test = int(round(n * test_split))
    n_train = n - n_test
    x = np.ascontiguousarray(x, dtype=np.float32)
    return (
        (np.ascontiguousarray(x[:n_train]), np.ascontiguousarray(y[:n_train])),
        (np.ascontiguousarray(x[n_train:]), np.ascontiguousarray(y[n_train:])),
    )


def _balanced_labels(rng: np.random.Generator, n: int, n_classes: int) -> np.ndarray:
    """``n`` int64 labels with class counts differing by at most one, in random order."""
    labels = np.arange(n, dtype=np.int64) % n_classes
    rng.shuffle(labels)
    return labels


# ---------------------------------------------------------------------------------------------
# seed_task
# ---------------------------------------------------------------------------------------------
_SEED_TASK_FEATURES = 8
_SEED_TASK_MARGIN = 0.25
_SEED_TASK_OFFSET = 1.8


@functools.lru_cache(maxsize=None)
def _seed_task_rotation() -> np.ndarray:
    q, r = np.linalg.qr(_task_rng(1, _SEED_TASK_FEATURES).standard_normal(
        (_SEED_TASK_FEATURES, _SEED_TASK_FEATURES)))
    q = q * np.sign(np.diag(r))  # make the factorisation unique
    q.setflags(write=False)
    return q


def _seed_task_score(x: np.ndarray) -> np.ndarray:
    z = x @ _seed_task_rotation()
    return (0.7 * z[:, 0] + 0.7 * z[:, 1]
            - 0.5 * (z[:, 2] ** 2 + z[:, 3] ** 2 - _SEED_TASK_OFFSET)
            + 0.7 * z[:, 4] * z[:, 5])


def seed_task(n_samples: int = 10000, test_split: float = 0.2, seed: int = 0,
              label_noise: float = 0.01) -> Split:
    """Binary classification on 8 standardised features with a smooth nonlinear rule.

    The rule is fixed: after a fixed rotation ``z`` of the features, the label is the sign of
    ``0.7 z0 + 0.7 z1 - 0.5 (z2^2 + z3^2 - 1.8) + 0.7 z4 z5`` -- a linear part, a quadratic bowl and
    a saddle. Points closer than 0.25 to the decision surface are redrawn, so the classes are
    separated by a thin margin, and then a fraction ``label_noise`` of the labels is flipped.
    A small network (8 -> 10 relu -> 10 relu -> 1 sigmoid, Adam, batch 32, 10 epochs on the
    default 8,000 training rows) reaches about 0.97 test accuracy; a linear model stays near 0.77.
    The classes are close to balanced (about 50% positives).

    Generating 100,000 rows takes about 0.1 s.

    Parameters
    ----------
    n_samples : int, default 10000
        The total number of rows, training and test together; an int >= 1.
    test_split : float, default 0.2
        The share of the rows that go to the test set (``round(n_samples * test_split)`` rows, the
        last ones); in [0, 1).
    seed : int, default 0
        Picks the samples (an int >= 0); the same arguments always give identical arrays.
    label_noise : float, default 0.01
        The probability that a label is flipped after the rule is applied, in [0, 0.5].

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of numpy.ndarray
        ``x``: float32, shape ``(n, 8)``, every column standardised to zero mean and unit
        variance over all ``n_samples`` rows; ``y``: float32, shape ``(n,)``, holding 0.0 or 1.0.

    Raises
    ------
    TypeError, ValueError
        A wrong type (a bool counts as one) raises TypeError, and a value out of range ValueError,
        naming the argument.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    test_split = _check_split(test_split)
    label_noise = _check_float("label_noise", label_noise)
    if label_noise > 0.5:
        raise ValueError(f"label_noise: expected a number in [0, 0.5], got {label_noise}")
    rng = _rng(seed)
    d = _SEED_TASK_FEATURES
    parts_x, parts_s, have = [], [], 0
    while have < n_samples:
        # About 86% of the draws are kept; draw a little more than needed so one round is usual.
        want = n_samples - have
        x = rng.standard_normal((int(want * 1.25) + 64, d))
        s = _seed_task_score(x)
        keep = np.abs(s) > _SEED_TASK_MARGIN
        parts_x.append(x[keep][:want])
        parts_s.append(s[keep][:want])
        have += parts_x[-1].shape[0]
    x = np.concatenate(parts_x) if len(parts_x) > 1 else parts_x[0]
    s = np.concatenate(parts_s) if len(parts_s) > 1 else parts_s[0]
    y = (s > 0).astype(np.float32)
    flip = rng.random(n_samples) < label_noise
    y[flip] = 1.0 - y[flip]
    std = x.std(axis=0)
    std[std == 0] = 1.0
    x = ((x - x.mean(axis=0)) / std).astype(np.float32)
    return _split(x, y, test_split)


# ---------------------------------------------------------------------------------------------
# 2-D toy sets
# ---------------------------------------------------------------------------------------------
def spirals(n_samples: int = 3000, n_classes: int = 3, noise: float = 0.1,
            test_split: float = 0.2, seed: int = 0, turns: float = 1.0) -> Split:
    """Intertwined 2-D spirals, one arm per class.

    Class ``k`` lies on the arm ``r * (cos a, sin a)`` with ``r = t`` and
    ``a = 2 pi (turns * t + k / n_classes)`` for ``t`` uniform in [0.05, 1), plus isotropic
    Gaussian noise of standard deviation ``noise``. Coordinates lie in about [-1, 1]. Classes hold
    equal numbers of points (within one) in random order.

    Parameters
    ----------
    n_samples : int, default 3000
        The total number of rows, training and test together; an int >= 1.
    n_classes : int, default 3
        The number of arms (classes), an int >= 1.
    noise : float, default 0.1
        The standard deviation of the Gaussian noise added to each coordinate, >= 0.
    test_split : float, default 0.2
        The share of the rows that go to the test set (``round(n_samples * test_split)`` rows, the
        last ones); in [0, 1).
    seed : int, default 0
        Picks the samples (an int >= 0); the same arguments always give identical arrays.
    turns : float, default 1.0
        How many times each arm winds around the centre as ``t`` goes from 0 to 1, >= 0.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of numpy.ndarray
        ``x``: float32, shape ``(n, 2)``;
        ``y``: int64, shape ``(n,)``, values ``0 .. n_classes - 1``.

    Raises
    ------
    TypeError, ValueError
        A wrong type (a bool counts as one) raises TypeError, and a value out of range ValueError,
        naming the argument.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_classes = _check_int("n_classes", n_classes, 1)
    noise = _check_float("noise", noise)
    turns = _check_float("turns", turns)
    test_split = _check_split(test_split)
    rng = _rng(seed)
    y = _balanced_labels(rng, n_samples, n_classes)
    t = rng.uniform(0.05, 1.0, n_samples)
    angle = 2.0 * np.pi * (turns * t + y / n_classes)
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    x += noise * rng.standard_normal((n_samples, 2))
    return _split(x, y, test_split)


def moons(n_samples: int = 2000, noise: float = 0.1, test_split: float = 0.2,
          seed: int = 0) -> Split:
    """Two interleaving half circles in 2-D.

    Class 0 is the upper arc ``(cos t, sin t)``, class 1 the lower arc
    ``(1 - cos t, 0.5 - sin t)``, ``t`` uniform in [0, pi], plus isotropic Gaussian noise of
    standard deviation ``noise``. Classes hold equal numbers of points (within one).

    Parameters
    ----------
    n_samples : int, default 2000
        The total number of rows, training and test together; an int >= 1.
    noise : float, default 0.1
        The standard deviation of the Gaussian noise added to each coordinate, >= 0.
    test_split : float, default 0.2
        The share of the rows that go to the test set (``round(n_samples * test_split)`` rows, the
        last ones); in [0, 1).
    seed : int, default 0
        Picks the samples (an int >= 0); the same arguments always give identical arrays.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of numpy.ndarray
        ``x``: float32, shape ``(n, 2)``;
        ``y``: int64, shape ``(n,)``, holding 0 or 1.

    Raises
    ------
    TypeError, ValueError
        A wrong type (a bool counts as one) raises TypeError, and a value out of range ValueError,
        naming the argument.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    noise = _check_float("noise", noise)
    test_split = _check_split(test_split)
    rng = _rng(seed)
    y = _balanced_labels(rng, n_samples, 2)
    t = rng.uniform(0.0, np.pi, n_samples)
    upper = y == 0
    x = np.empty((n_samples, 2))
    x[:, 0] = np.where(upper, np.cos(t), 1.0 - np.cos(t))
    x[:, 1] = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    x += noise * rng.standard_normal((n_samples, 2))
    return _split(x, y, test_split)


def blobs(n_samples: int = 1000, n_features: int = 2, n_classes: int = 3,
          cluster_std: float = 1.0, center_box: Tuple[float, float] = (-10.0, 10.0),
          test_split: float = 0.2, seed: int = 0) -> Split:
    """Isotropic Gaussian clusters, one per class.

    Cluster centres are drawn uniformly from ``center_box`` in every dimension (they depend on
    ``seed``); each point is its class centre plus Gaussian noise of standard deviation
    ``cluster_std``. Classes hold equal numbers of points (within one).

    Parameters
    ----------
    n_samples : int, default 1000
        The total number of rows, training and test together; an int >= 1.
    n_features : int, default 2
        The number of features, an int >= 1.
    n_classes : int, default 3
        The number of clusters (classes), an int >= 1.
    cluster_std : float, default 1.0
        The standard deviation of each cluster in every dimension, >= 0.
    center_box : (float, float), default (-10.0, 10.0)
        (low, high) bounds of the uniform draw of the centres; low <= high.
    test_split : float, default 0.2
        The share of the rows that go to the test set (``round(n_samples * test_split)`` rows, the
        last ones); in [0, 1).
    seed : int, default 0
        Picks the samples (an int >= 0); the same arguments always give identical arrays.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of numpy.ndarray
        ``x``: float32, shape ``(n, n_features)``;
        ``y``: int64, shape ``(n,)``, values ``0 .. n_classes - 1``.

    Raises
    ------
    TypeError, ValueError
        A wrong type (a bool counts as one) raises TypeError, and a value out of range ValueError,
        naming the argument.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_features = _check_int("n_features", n_features, 1)
    n_classes = _check_int("n_classes", n_classes, 1)
    cluster_std = _check_float("cluster_std", cluster_std)
    lo, hi = (float(v) for v in center_box)
    if not lo <= hi:
        raise ValueError(f"center_box: expected (low, high) with low <= high, got {center_box}")
    test_split = _check_split(test_split)
    rng = _rng(seed)
    centers = rng.uniform(lo, hi, (n_classes, n_features))
    y = _balanced_labels(rng, n_samples, n_classes)
    x = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    x *= np.float32(cluster_std)
    x += centers[y].astype(np.float32)
    return _split(x, y, test_split)


# ---------------------------------------------------------------------------------------------
# large classification
# ---------------------------------------------------------------------------------------------
_CHUNK_ROWS = 4096
# 1 / standard deviation of the sum of two independent uniform bytes, each of variance (256^2-1)/12.
_TRIANGLE_SCALE = np.float32(1.0 / math.sqrt(2 * (256 ** 2 - 1) / 12))


def classification(n_samples: int = 60000, n_features: int = 784, n_classes: int = 10,
                   class_sep: float = 0.2, clusters_per_class: int = 2,
                   test_split: float = 0.2, seed: int = 0) -> Split:
    """Prototype-plus-noise classification, MNIST-shaped by default, generated in well under 1 s.

    Each class has ``clusters_per_class`` prototype vectors with entries drawn from
    ``N(0, class_sep^2)`` (fixed for the task's shape). A sample is one prototype of its class,
    chosen at random, plus zero-mean unit-variance noise in every feature (triangular: the sum of
    two uniform draws, much cheaper to generate than normal draws), so each class is a mixture of
    clusters. With the default ``class_sep=0.2`` and 784 features, any two prototypes are about 8
    noise standard deviations apart: a 784-512-512-10 network reaches about 0.95 test accuracy
    after a few epochs on 10,000 rows, and every feature has mean about 0 and variance about 1.04.

    The arrays are filled in blocks, so peak memory while generating stays close to the size of
    the result (60,000 x 784 float32 is 188 MB).

    Parameters
    ----------
    n_samples : int, default 60000
        The total number of rows, training and test together; an int >= 1.
    n_features : int, default 784
        The number of features, an int >= 1.
    n_classes : int, default 10
        The number of classes, an int >= 1.
    class_sep : float, default 0.2
        The standard deviation of the prototypes' entries, >= 0: larger values separate the
        clusters more (0 makes every class the same noise).
    clusters_per_class : int, default 2
        The number of prototypes of each class, an int >= 1.
    test_split : float, default 0.2
        The share of the rows that go to the test set (``round(n_samples * test_split)`` rows, the
        last ones); in [0, 1).
    seed : int, default 0
        Picks the samples (an int >= 0); the same arguments always give identical arrays.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of numpy.ndarray
        ``x``: float32, shape ``(n, n_features)``;
        ``y``: int64, shape ``(n,)``, values ``0 .. n_classes - 1``, classes balanced within one.

    Raises
    ------
    TypeError, ValueError
        A wrong type (a bool counts as one) raises TypeError, and a value out of range ValueError,
        naming the argument.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_features = _check_int("n_features", n_features, 1)
    n_classes = _check_int("n_classes", n_classes, 1)
    clusters_per_class = _check_int("clusters_per_class", clusters_per_class, 1)
    class_sep = _check_float("class_sep", class_sep)
    test_split = _check_split(test_split)

    task = _task_rng(2, n_features, n_classes, clusters_per_class)
    prototypes = (class_sep * task.standard_normal(
        (n_classes * clusters_per_class, n_features))).astype(np.float32)

    rng = _rng(seed)
    y = _balanced_labels(rng, n_samples, n_classes)
    cluster = y * clusters_per_class + rng.integers(0, clusters_per_class, n_samples)
    x = np.empty((n_samples, n_features), dtype=np.float32)
    for start in range(0, n_samples, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, n_samples)
        out = x[start:stop]
        # Noise: the sum of two independent uniform bytes, centred and scaled to unit variance (a
        # triangular distribution). Random bytes are several times cheaper than normal draws.
        raw = np.frombuffer(rng.bytes((stop - start) * n_features * 2), dtype=np.uint8)
        raw = raw.reshape(2, stop - start, n_features)
        np.add(raw[0], raw[1], out=out, dtype=np.float32)
        out -= np.float32(255.0)
        out *= _TRIANGLE_SCALE
        out += prototypes[cluster[start:stop]]
    return _split(x, y, test_split)


# ---------------------------------------------------------------------------------------------
# regression
# ---------------------------------------------------------------------------------------------
_REGRESSION_UNITS = 16


def regression(n_samples: int = 5000, n_features: int = 8, noise: float = 0.1,
               test_split: float = 0.2, seed: int = 0, n_targets: int = 1) -> Split:
    """A smooth nonlinear regression target of standard-normal features.

    The target is a fixed random "teacher" that depends only on ``n_features`` and ``n_targets``:
    ``f(x) = sin(x A + b) B`` with 16 hidden units, shifted and scaled (using its exact
    population mean and variance) so that every noise-free target has mean 0 and variance 1,
    plus Gaussian noise of standard deviation ``noise``.

    Parameters
    ----------
    n_samples : int, default 5000
        The total number of rows, training and test together; an int >= 1.
    n_features : int, default 8
        The number of features, an int >= 1.
    noise : float, default 0.1
        The standard deviation of the Gaussian noise added to the targets, >= 0.
    test_split : float, default 0.2
        The share of the rows that go to the test set (``round(n_samples * test_split)`` rows, the
        last ones); in [0, 1).
    seed : int, default 0
        Picks the samples (an int >= 0); the same arguments always give identical arrays.
    n_targets : int, default 1
        The number of targets, an int >= 1.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of numpy.ndarray
        ``x``: float32, shape ``(n, n_features)``, standard normal;
        ``y``: float32, shape ``(n,)`` when ``n_targets == 1``, else ``(n, n_targets)``.

    Raises
    ------
    TypeError, ValueError
        A wrong type (a bool counts as one) raises TypeError, and a value out of range ValueError,
        naming the argument.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_features = _check_int("n_features", n_features, 1)
    n_targets = _check_int("n_targets", n_targets, 1)
    noise = _check_float("noise", noise)
    test_split = _check_split(test_split)

    h = _REGRESSION_UNITS
    task = _task_rng(3, n_features, n_targets)
    a = task.standard_normal((n_features, h)) * (1.5 / math.sqrt(n_features))
    b = task.uniform(-np.pi, np.pi, h)
    out = task.standard_normal((h, n_targets)) / math.sqrt(h)
    # For x ~ N(0, I), g = x A is Gaussian with covariance S = A^T A, and
    #   E[sin(g_i + b_i)] = sin(b_i) exp(-S_ii / 2)
    #   E[sin(g_i + b_i) sin(g_j + b_j)] = (cos(b_i - b_j) exp(-(S_ii + S_jj - 2 S_ij) / 2)
    #                                      - cos(b_i + b_j) exp(-(S_ii + S_jj + 2 S_ij) / 2)) / 2
    cov = a.T @ a
    d = np.diag(cov)
    first = np.sin(b) * np.exp(-d / 2)
    dd = d[:, None] + d[None, :]
    second = 0.5 * (np.cos(b[:, None] - b[None, :]) * np.exp(-(dd - 2 * cov) / 2)
                    - np.cos(b[:, None] + b[None, :]) * np.exp(-(dd + 2 * cov) / 2))
    mean = first @ out
    var = np.einsum("ik,ij,jk->k", out, second, out) - mean ** 2
    scale = 1.0 / np.sqrt(np.maximum(var, 1e-12))

    rng = _rng(seed)
    x = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    y = np.sin(x @ a.astype(np.float32) + b.astype(np.float32)) @ (out * scale).astype(np.float32)
    y -= (mean * scale).astype(np.float32)
    if noise:
        y += np.float32(noise) * rng.standard_normal(y.shape, dtype=np.float32)
    y = y.astype(np.float32)
    if n_targets == 1:
        y = y[:, 0]
    return _split(x, y, test_split)
