"""Input checks and conversions shared by the model's entry points. Every error names the argument,
what was expected and what was received.

Conversions copy at most once: an array that is already C-contiguous and of the model's dtype
(including read-only arrays and np.memmap) is used in place; anything else (other dtypes, Fortran
order, strided views, lists, pandas objects) is converted by one cast-and-copy. The finiteness checks
use reductions (min / max), so they allocate nothing the size of the data.
"""
from __future__ import annotations

import math
import numbers

import numpy as np


def _is_pandas(a) -> bool:
    return type(a).__module__.split(".", 1)[0] == "pandas"


def _pandas_to_numpy(a, name):
    """A DataFrame / Series as a numpy array. Numeric and boolean columns of pandas' nullable
    extension dtypes (Int64, Float64, boolean) come out as float64 with NaN for missing values (so
    that the NaN check names the problem), instead of an object array."""
    arr = a.to_numpy()
    if arr.dtype != object:
        return arr
    try:
        from pandas.api.types import is_bool_dtype, is_numeric_dtype
    except ImportError:  # pragma: no cover - pandas objects imply pandas
        return arr
    dtypes = list(a.dtypes) if hasattr(a, "columns") else [a.dtype]
    if dtypes and all(is_numeric_dtype(dt) or is_bool_dtype(dt) for dt in dtypes):
        try:
            return a.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{name}: could not convert the {type(a).__name__} to numbers ({e})") from None
    bad = [str(dt) for dt in dtypes if not (is_numeric_dtype(dt) or is_bool_dtype(dt))]
    raise TypeError(f"{name}: expected numeric columns, got a {type(a).__name__} with column dtypes "
                    f"{sorted(set(bad))}")


def _to_numpy(a, name):
    if a is None:
        raise ValueError(f"{name}: expected array data, got None")
    if isinstance(a, (str, bytes)):
        raise TypeError(f"{name}: expected numeric array data, got {type(a).__name__}")
    if isinstance(a, dict):
        raise TypeError(f"{name}: expected array data, got a dict; a Sequential model takes one array")
    if not isinstance(a, np.ndarray) and _is_pandas(a) and hasattr(a, "to_numpy"):
        arr = _pandas_to_numpy(a, name)
    else:
        try:
            arr = np.asarray(a)
        except (ValueError, TypeError, OverflowError) as e:
            raise TypeError(f"{name}: could not be converted to a numeric array ({e})") from None
    if arr.dtype == object:
        raise TypeError(f"{name}: expected a real numeric dtype, got object (mixed types, Python "
                        "objects or integers too large for any numeric dtype)")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name}: complex values are not supported (got {arr.dtype})")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real numeric dtype, got {arr.dtype}")
    return arr


def as_array(a, name):
    """Any accepted form of array data -> a numpy array of a real numeric dtype (no cast, no copy when
    a is already one); for the places that need x's shape before anything else (building a model
    from its first input)."""
    return _to_numpy(a, name)


def _all_finite(a) -> bool:
    """True when every value is finite; min and max propagate NaN and expose +-inf, so no temporary
    the size of the data is allocated."""
    if a.size == 0 or a.dtype.kind in "biu":
        return True
    # the ufuncs' reduce directly: np.min / np.max add microseconds of Python around it
    return bool(np.isfinite(np.minimum.reduce(a, axis=None)) and np.isfinite(np.maximum.reduce(a, axis=None)))


def _cast(arr, name, dtype):
    """One C-contiguous array of dtype: arr itself when it already is one, else a single copy.
    Raises when the data holds NaN / inf, or values the target dtype cannot represent."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(arr, dtype=dtype)
    if not _all_finite(out):
        if out is not arr and _all_finite(arr):
            lim = float(np.finfo(dtype).max)
            raise ValueError(f"{name}: values outside the range of {np.dtype(dtype).name} "
                             f"(|value| <= {lim:.3g}); got values in [{np.min(arr)}, {np.max(arr)}]")
        raise ValueError(f"{name}: contains NaN or infinite values")
    return out


def as_float_matrix(a, name, dtype, n_features=None, input_shape=None):
    """x -> C-contiguous (n, features) array of the model's dtype; copies only when needed."""
    arr = _to_numpy(a, name)
    if arr.ndim == 1 and input_shape is not None and tuple(input_shape) == (1,):
        # Keras 3 reads a 1-D x as one sample per value when the model takes one feature; any other
        # rank mismatch is refused.
        arr = arr.reshape(-1, 1)
    if arr.ndim < 2:
        raise ValueError(
            f"{name}: expected a 2-D array (samples, features), got shape {arr.shape}; "
            "reshape a single sample with x.reshape(1, -1) or a single feature with x.reshape(-1, 1)")
    if input_shape is not None and tuple(arr.shape[1:]) != tuple(input_shape):
        # As Keras, a model declared with flat samples refuses samples of another shape even with as
        # many values (a (2, 4) sample is not an (8,) one). Flat rows of a multi-dimensional sample
        # are accepted (the engine runs on flat rows).
        if int(math.prod(arr.shape[1:])) != int(math.prod(input_shape)) or len(input_shape) == 1:
            raise ValueError(f"{name}: expected samples of shape {tuple(input_shape)}, got {tuple(arr.shape[1:])}")
    if arr.ndim > 2:
        arr = arr.reshape(arr.shape[0], -1)
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one sample, got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one feature, got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} features per sample, got {arr.shape[1]}")
    return _cast(arr, name, dtype)


def as_targets(a, name, n, loss, out_dim, dtype):
    """y -> C-contiguous (n, label_cols) array checked against the loss and the output width."""
    arr = _to_numpy(a, name)
    if arr.ndim == 0:
        raise ValueError(f"{name}: expected one target per sample, got a scalar")
    if arr.shape[0] != n:
        raise ValueError(f"{name}: expected {n} samples to match x, got {arr.shape[0]}")
    kind = loss.kind
    if kind == "sparse_categorical_crossentropy":
        if not (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1)):
            raise ValueError(
                f"{name}: sparse_categorical_crossentropy expects integer labels of shape ({n},) or ({n}, 1), "
                f"got {arr.shape}")
        flat = arr.reshape(-1)
        if flat.dtype.kind == "f":
            if not _all_finite(flat):
                raise ValueError(f"{name}: contains NaN or infinite values")
            if not np.array_equal(flat, np.floor(flat)):
                bad = flat[flat != np.floor(flat)][:3].tolist()
                raise ValueError(f"{name}: sparse labels must be integers (class indices), got values such as {bad}")
        if flat.size and (flat.min() < 0 or flat.max() >= out_dim):
            raise ValueError(
                f"{name}: sparse labels must be in [0, {out_dim}) for an output of {out_dim} classes, "
                f"got values in [{flat.min()}, {flat.max()}]")
        return np.ascontiguousarray(flat.reshape(n, 1), dtype=dtype)
    if arr.ndim == 1:
        arr = arr.reshape(n, 1)
    elif arr.ndim > 2:
        arr = arr.reshape(n, -1)
    if arr.shape[1] != out_dim:
        if kind == "categorical_crossentropy" and arr.shape[1] == 1:
            raise ValueError(
                f"{name}: categorical_crossentropy expects one-hot targets of shape ({n}, {out_dim}), got "
                f"{arr.shape}; use sparse_categorical_crossentropy for integer labels or "
                "fastnn.utils.to_categorical")
        raise ValueError(f"{name}: expected targets of shape ({n}, {out_dim}) to match the model output, got {arr.shape}")
    out = _cast(arr, name, dtype)
    if kind == "binary_crossentropy" and (out.min() < 0 or out.max() > 1):
        raise ValueError(f"{name}: binary_crossentropy targets must be in [0, 1], got values in [{out.min()}, {out.max()}]")
    return out


def as_sample_weight(a, name, n, dtype):
    if a is None:
        return None
    arr = _to_numpy(a, name)
    if arr.ndim == 0 or arr.size != n or (arr.ndim > 1 and arr.shape[0] != n):
        raise ValueError(f"{name}: expected {n} weights (one per sample), got shape {arr.shape}")
    out = _cast(arr.reshape(-1), name, dtype)
    if out.min() < 0:
        raise ValueError(f"{name}: weights must be non-negative, got a minimum of {out.min()}")
    return out


# --- numbers ------------------------------------------------------------------------------------
# Each check returns the value as a plain int / float, or raises a ValueError of the form
# "<name>: expected <what>, got <value>". bool is never a number here.
def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _fail(name, what, v, allow_none):
    raise ValueError(f"{name}: expected {what}{' or None' if allow_none else ''}, got {v!r}")


def positive_int(name, v, allow_none=False, maximum=None):
    """An int >= 1 (and <= maximum when given)."""
    if v is None and allow_none:
        return None
    if not _is_int(v) or v <= 0:
        _fail(name, "a positive int" if maximum is None else f"a positive int <= {maximum}", v, allow_none)
    if maximum is not None and v > maximum:
        _fail(name, f"a positive int <= {maximum}", v, allow_none)
    return int(v)


def nonneg_int(name, v, allow_none=False, maximum=None):
    """An int >= 0 (and <= maximum when given)."""
    if v is None and allow_none:
        return None
    if not _is_int(v) or v < 0 or (maximum is not None and v > maximum):
        _fail(name, "a non-negative int" if maximum is None else f"an int in [0, {maximum}]", v, allow_none)
    return int(v)


def int_in_range(name, v, low, high, allow_none=False):
    """An int in [low, high]."""
    if v is None and allow_none:
        return None
    if not _is_int(v) or not low <= v <= high:
        _fail(name, f"an int in [{low}, {high}]", v, allow_none)
    return int(v)


def finite_float(name, v, allow_none=False):
    """A finite real number, as a float, or a ValueError naming the argument.

    Parameters
    ----------
    name : str
        The argument's name, which starts the error message.
    v : object
        The value to check: an int or float (numpy scalars included). A bool, a non-number, an
        infinity or NaN raises ValueError.
    allow_none : bool, default False
        Whether None is accepted (and returned as None).

    Returns
    -------
    float or None
        ``float(v)``, or None when `v` is None and `allow_none` is set.
    """
    if v is None and allow_none:
        return None
    if not _is_real(v) or not math.isfinite(v):
        _fail(name, "a finite number", v, allow_none)
    return float(v)


def nonneg_float(name, v, allow_none=False):
    """A finite number >= 0, as a float, or a ValueError naming the argument.

    Parameters
    ----------
    name : str
        The argument's name, which starts the error message.
    v : object
        The value to check: an int or float (numpy scalars included). A bool, a non-number, a
        negative number, an infinity or NaN raises ValueError.
    allow_none : bool, default False
        Whether None is accepted (and returned as None).

    Returns
    -------
    float or None
        ``float(v)``, or None when `v` is None and `allow_none` is set.
    """
    if v is None and allow_none:
        return None
    if not _is_real(v) or not math.isfinite(v) or v < 0:
        _fail(name, "a non-negative number", v, allow_none)
    return float(v)


def positive_float(name, v, allow_none=False):
    """A finite number > 0, as a float, or a ValueError naming the argument.

    Parameters
    ----------
    name : str
        The argument's name, which starts the error message.
    v : object
        The value to check: an int or float (numpy scalars included). A bool, a non-number, zero,
        a negative number, an infinity or NaN raises ValueError.
    allow_none : bool, default False
        Whether None is accepted (and returned as None).

    Returns
    -------
    float or None
        ``float(v)``, or None when `v` is None and `allow_none` is set.
    """
    if v is None and allow_none:
        return None
    if not _is_real(v) or not math.isfinite(v) or v <= 0:
        _fail(name, "a positive number", v, allow_none)
    return float(v)


def float_in_range(name, v, low, high, low_open=False, high_open=False, allow_none=False):
    """A number in the interval from low to high, each end closed unless *_open."""
    if v is None and allow_none:
        return None
    ok = _is_real(v) and not math.isnan(v)
    if ok:
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        _fail(name, f"a number in {interval}", v, allow_none)
    return float(v)


def probability(name, v, closed_right=False, allow_none=False):
    """A number in [0, 1) ([0, 1] when closed_right)."""
    return float_in_range(name, v, 0, 1, high_open=not closed_right, allow_none=allow_none)


def one_of(name, v, choices):
    """v itself when it is one of `choices`."""
    if not any(v == c and type(v) is type(c) for c in choices):
        raise ValueError(f"{name}: expected one of {', '.join(repr(c) for c in choices)}, got {v!r}")
    return v


def verbose_level(v, default=1):
    if isinstance(v, str) and v == "auto":
        return default
    if isinstance(v, bool):
        return int(v)
    if not isinstance(v, numbers.Integral) or v not in (0, 1, 2):
        raise ValueError(f"verbose: expected 0, 1, 2 or 'auto', got {v!r}")
    return int(v)
