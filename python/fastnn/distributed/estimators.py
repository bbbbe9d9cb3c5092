"""Data parallelism for fastnn.sklearn's MLPClassifier and MLPRegressor.

    with fastnn.distributed.DataParallel():      # or est.fit(X, y, distribution=DataParallel())
        est.fit(X, y)

The estimator's native epochs ("sgd" and "adam" on dense input) run the engine's sharded step under
scikit-learn's objective: every rank holds the whole X, y; each batch is cut into shards of
`shard_rows` rows whose gradients are summed in the fixed tree of data_parallel.py, so weights and
loss_curve_ are the same bits on 1, 2, 4 ... ranks. What must agree before the first epoch (the
generator that shuffles, initializes and splits off the validation set; the weights and optimizer
state a warm start or partial_fit continues from) is taken from rank 0; the per-epoch stop decision
reads rank 0's validation score, so the ranks always stop at the same epoch.
"""
from __future__ import annotations

import zlib

import numpy as np
import scipy.sparse as sp


def refuse_unsharded(solver, X, native_epochs):
    """Raises where the fit would not run the sharded native epochs."""
    if solver == "lbfgs":
        raise ValueError("DataParallel: solver='lbfgs' is not data-parallel (scipy's L-BFGS-B drives the "
                         "full-batch objective from one process); use solver='adam' or 'sgd', or fit "
                         "without DataParallel")
    if solver not in ("sgd", "adam"):
        raise ValueError(f"DataParallel: solver={solver!r} trains batch by batch through the manual loop "
                         "(one forward and backward pass over each whole batch), which is not sharded; "
                         "data-parallel fits run the native epochs of solver='adam' and 'sgd'")
    if sp.issparse(X):
        raise ValueError("DataParallel: sparse X trains batch by batch through the manual loop, which is "
                         "not sharded; pass a dense array (X.toarray()) or fit without DataParallel")
    if not native_epochs:
        raise ValueError("DataParallel: the per-batch Python loop (fastnn.sklearn._NATIVE_EPOCHS = False) "
                         "is not sharded; data-parallel fits run the native epochs")


def _crc(a):
    if a is None:
        return 0
    a = np.asarray(a)
    step = max(1, a.shape[0] // 256)
    return zlib.crc32(np.ascontiguousarray(a[::step]).tobytes())


def check_same_fit(dp, est, X, y, sample_weight, incremental):
    """Every rank must fit the same data with the same parameters (refused otherwise, on every rank:
    the comparison is of the gathered values)."""
    comm = dp.communicator
    if comm.size == 1:
        return
    params = est.get_params(deep=False)
    params.pop("random_state", None)       # a generator's repr names its address; rank 0's is used
    text = repr(sorted((k, repr(v)) for k, v in params.items())).encode()
    dp._check_same(comm, "data or estimator parameters",
                   [X.shape[0], X.shape[1], y.size, _crc(X), _crc(y), _crc(sample_weight),
                    zlib.crc32(text), float(bool(incremental))])


def agree_random_state(comm, rs):
    """rs on rank 0; elsewhere a private RandomState in rank 0's state (the global generator or the
    caller's is not touched), so every rank draws rank 0's numbers."""
    if comm.size == 1:
        return rs
    _name, keys, pos, has_gauss, cached = rs.get_state()
    keys = np.ascontiguousarray(keys, dtype=np.uint32)
    rest = np.array([pos, has_gauss, cached], dtype=np.float64)
    comm.broadcast(keys)
    comm.broadcast(rest)
    if comm.rank == 0:
        return rs
    mine = np.random.RandomState()
    mine.set_state(("MT19937", keys, int(rest[0]), int(rest[1]), float(rest[2])))
    return mine


_STATE_ARRAYS = ("velocity", "m", "v")
_STATE_SCALARS = ("learning_rate", "t")


def broadcast_training_state(dp, est, theta, opt):
    """Rank 0's weights and optimizer state on every rank (in place), and a check that the fit's
    bookkeeping (epochs so far, the no-improvement count) is the same: a warm start or partial_fit
    continues from the previous fit, which must have been the same fit on every rank."""
    comm = dp.communicator
    if comm.size == 1:
        return
    dp._check_same(comm, "fit state (warm_start and partial_fit continue from the previous fit, which "
                   "must have run on every rank)",
                   [getattr(est, "n_iter_", 0), getattr(est, "t_", 0), len(getattr(est, "loss_curve_", None) or ()),
                    getattr(est, "_no_improvement_count", 0)])
    comm.broadcast(theta)
    for name in _STATE_ARRAYS:
        a = getattr(opt, name, None)
        if isinstance(a, np.ndarray):
            a = np.ascontiguousarray(a, dtype=np.float64)
            comm.broadcast(a)
            setattr(opt, name, a)
    names = [n for n in _STATE_SCALARS if hasattr(opt, n)]
    vals = np.array([getattr(opt, n) for n in names], dtype=np.float64)
    comm.broadcast(vals)
    for n, v in zip(names, vals):
        setattr(opt, n, int(v) if n == "t" else float(v))


def agree(dp, value):
    """Rank 0's value of a float every rank computed (a validation score), so that a stop decision
    taken from it is the same everywhere."""
    comm = dp.communicator
    if comm.size == 1:
        return value
    buf = np.array([value], dtype=np.float64)
    comm.broadcast(buf)
    return float(buf[0])
