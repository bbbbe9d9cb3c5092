"""The CUDA backend's streaming plan, on the CPU (fastnn/device/stream_plan.h through fastnn._testing):
a data set above its device budget is uploaded in chunks of whole batches gathered by the epoch's
row order; concatenated, the chunks must be the whole upload's batches in the whole upload's order,
each chunk within its share of the budget. The reference is plain numpy indexing."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastnn import _testing


def _batches_of_whole_upload(n, batch, first, count):
    """The batches [first, first + count) as (start, stop) in the epoch's row order."""
    nb = -(-n // batch)
    return [(b * batch, min(n, (b + 1) * batch)) for b in range(first, min(nb, first + count))]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 500), batch=st.integers(1, 64), first=st.integers(0, 20), count=st.integers(1, 30),
       cap=st.integers(0, 400))
def test_chunks_are_whole_batches_in_order(n, batch, first, count, cap):
    plan = _testing.stream_plan(n, batch, first, count, cap)
    want = _batches_of_whole_upload(n, batch, first, count)
    got = []
    for first_batch, batches, first_row, rows in plan:
        assert batches >= 1
        assert first_row == first_batch * batch
        # at most the limit, except a single batch (always allowed: one batch must fit)
        assert rows <= max(cap, batch) if batches > 1 else rows <= batch
        assert batches == 1 or batches * batch <= max(cap, batch)
        stop = first_row + rows
        for b in range(first_batch, first_batch + batches):
            got.append((b * batch, min(b * batch + batch, stop)))
        assert got[-1][1] == stop
    assert got == want


def test_chunk_rows_share_the_budget_between_two_buffers():
    assert _testing.stream_chunk_rows(1000 * 40, 40, 8) == 500
    assert _testing.stream_chunk_rows(100, 40, 8) == 8  # below one batch: one batch
    assert _testing.stream_chunk_rows(10**6, 0, 8) == 8


def test_gather_follows_the_shuffled_order_and_matches_the_whole_upload():
    rng = np.random.default_rng(0)
    n, din, batch = 103, 5, 16
    X = rng.standard_normal((n, din)).astype("float32")
    perm = rng.permutation(n).astype("int64")
    for first, count, cap in [(0, 7, 40), (2, 3, 16), (0, 100, 1000), (5, 2, 0)]:
        plan = _testing.stream_plan(n, batch, first, count, cap)
        parts = [_testing.stream_gather(X, perm, fr, rows) for _fb, _nb, fr, rows in plan]
        streamed = np.concatenate(parts) if parts else np.zeros((0, din), "float32")
        lo = first * batch
        hi = min(n, (first + count) * batch)
        np.testing.assert_array_equal(streamed, X[perm[lo:hi]])
    # in order (no shuffle): plain slices
    np.testing.assert_array_equal(_testing.stream_gather(X, None, 10, 7), X[10:17])
    with pytest.raises(ValueError):
        _testing.stream_gather(X, None, 100, 7)
    with pytest.raises(ValueError):
        _testing.stream_gather(X, np.full(n, n, "int64"), 0, 3)


def test_budget_default_and_overrides():
    gib = 1 << 30
    assert _testing.stream_data_budget_env() == "FASTNN_CUDA_DATA_BUDGET"
    assert _testing.stream_data_budget(8 * gib, None) == 4 * gib  # default: half the free memory
    assert _testing.stream_data_budget(8 * gib, "") == 4 * gib
    assert _testing.stream_data_budget(8 * gib, "0.25") == 2 * gib
    assert _testing.stream_data_budget(8 * gib, "1.0") == 8 * gib
    assert _testing.stream_data_budget(8 * gib, "512M") == 512 << 20
    assert _testing.stream_data_budget(8 * gib, "2G") == 2 * gib
    assert _testing.stream_data_budget(8 * gib, "64k") == 64 << 10
    assert _testing.stream_data_budget(8 * gib, "4096") == 4096
    for bad in ["abc", "-1", "0", "1.5", "2X", "0.0", "nan"]:
        with pytest.raises(ValueError, match="FASTNN_CUDA_DATA_BUDGET"):
            _testing.stream_data_budget(8 * gib, bad)
