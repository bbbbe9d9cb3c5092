"""Batch prediction over Dask (pip install fastnn[dask]).

    import dask.array as da
    y = fastnn.dask.predict(model, da.from_array(x, chunks=(100_000, None)))   # a dask array
    y.compute()

The model is pickled once into the graph (or scattered to every worker when a distributed Client
is active) and each block of rows is scored by model.predict on the worker that holds it. Rows are
independent in fastnn's inference, so the result equals model.predict(x) bitwise, whatever the
chunking. A dask DataFrame gives a dask DataFrame with the same partitions and index, one column
per output (named 0, 1, ...). scikit-learn-style estimators (fastnn.sklearn) also work with
dask_ml.wrappers.ParallelPostFit.
"""
from __future__ import annotations

import numpy as np


def _require():
    try:
        import dask
        import dask.array as da
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("fastnn.dask needs dask; pip install 'fastnn[dask]'") from e
    return dask, da


def _predict_block(block, model, batch_size):
    return model.predict(np.asarray(block), batch_size=batch_size, verbose=0)


def _predict_frame(frame, model, batch_size, columns):
    import pandas as pd
    out = model.predict(frame.to_numpy(), batch_size=batch_size, verbose=0)
    return pd.DataFrame(out, index=frame.index, columns=columns)


def _shared(model):
    """The model as one graph dependency: scattered to every worker under a distributed Client,
    else one delayed object (pickled once)."""
    dask, _ = _require()
    try:
        from distributed import get_client
        client = get_client()
    except (ImportError, ValueError):
        client = None
    if client is not None:
        return client.scatter(model, broadcast=True, hash=False)
    return dask.delayed(model, pure=True, traverse=False)


def predict(model, X, batch_size=None):
    """model.predict over a dask array or DataFrame, block by block on the workers (lazy).

    The result equals model.predict(x) bitwise, whatever the chunking. Needs dask (ImportError
    naming the extra otherwise).

    Parameters
    ----------
    model : Model
        A built fastnn model (ValueError otherwise; for fastnn.sklearn estimators use
        dask_ml.wrappers.ParallelPostFit). It is pickled once into the graph, or scattered to every
        worker when a distributed Client is active.
    X : dask.array.Array or dask.dataframe.DataFrame
        The rows: a 2-D dask array, chunked along the rows any way (its column chunks are merged
        into one), or a dask DataFrame of numeric columns. Anything else raises TypeError.
    batch_size : int, optional
        model.predict's batch size within each block, a positive int; None is predict's default.

    Returns
    -------
    dask.array.Array or dask.dataframe.DataFrame
        Not yet computed: an array of shape (rows, outputs) with X's row chunks in the model's
        dtype, or a DataFrame with X's partitions and index and one column per output (named
        0, 1, ...).
    """
    _, da = _require()
    if not hasattr(model, "output_shape") or not getattr(model, "built", False):
        raise ValueError("model: expected a built fastnn model (for fastnn.sklearn estimators use "
                         "dask_ml.wrappers.ParallelPostFit)")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0):
        raise ValueError(f"batch_size: expected a positive int or None, got {batch_size!r}")
    shared = _shared(model)
    try:
        import dask.dataframe as dd
    except ImportError:
        dd = None
    if dd is not None and isinstance(X, dd.DataFrame):
        k = int(model.output_shape[-1])
        columns = list(range(k))
        import pandas as pd
        meta = pd.DataFrame({c: np.empty(0, dtype=model.dtype) for c in columns})
        return X.map_partitions(_predict_frame, shared, batch_size, columns, meta=meta)
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X: expected a 2-D dask array (rows, features), got {X.ndim} dimensions")
        X = X.rechunk({1: -1})
        k = int(model.output_shape[-1])
        return X.map_blocks(_predict_block, shared, batch_size, dtype=np.dtype(model.dtype),
                            chunks=(X.chunks[0], (k,)), meta=np.empty((0, k), dtype=model.dtype))
    raise TypeError(f"X: expected a dask array or dask DataFrame, got {type(X).__name__}")
