"""Data adapters: every kind of streamed data trains, evaluates and predicts exactly as the same rows
given as in-memory arrays (bitwise weights and losses, same batch order), with Keras 3's epoch
rules for steps_per_epoch; producer errors surface in fit with their traceback; no thread outlives
fit; class_weight and sparse-label bounds (issue 10)."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import traceback
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import layers
from fastnn.utils import PyDataset, Sequence

N, D, BS = 203, 6, 16  # 203 rows: 12 full batches and a ragged one of 11


def _data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, D)).astype(np.float32)
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(np.float32)
    w = rng.uniform(0.5, 2.0, n).astype(np.float32)
    return x, y, w


def _model(metrics=("accuracy",), dtype="float32"):
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(7, activation="relu"),
                           layers.Dense(1, activation="sigmoid")], seed=3, dtype=dtype)
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=list(metrics))
    return m


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for p, q in zip(wa, wb):
        np.testing.assert_array_equal(p, q)


def _reference(x, y, w=None, epochs=2, **kw):
    m = _model()
    h = m.fit(x, y, sample_weight=w, batch_size=BS, epochs=epochs, shuffle=False, verbose=0, **kw)
    return m, h


def _batches(x, y, w=None, bs=BS):
    for i in range(0, x.shape[0], bs):
        yield (x[i:i + bs], y[i:i + bs]) if w is None else (x[i:i + bs], y[i:i + bs], w[i:i + bs])


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name.startswith("fastnn-")]


@pytest.fixture(autouse=True)
def _no_thread_left():
    yield
    assert _prefetch_threads() == []


class _Batches(PyDataset):
    def __init__(self, x, y, w=None, bs=BS, **kw):
        super().__init__(**kw)
        self.x, self.y, self.w, self.bs = x, y, w, bs
        self.seen, self.epochs_ended = [], 0

    def __len__(self):
        return (self.x.shape[0] + self.bs - 1) // self.bs

    def __getitem__(self, i):
        self.seen.append(i)
        s = slice(i * self.bs, (i + 1) * self.bs)
        return (self.x[s], self.y[s]) if self.w is None else (self.x[s], self.y[s], self.w[s])

    def on_epoch_end(self):
        self.epochs_ended += 1


class _Repeating:
    """A re-iterable (its own class: neither an iterator nor a PyDataset)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __iter__(self):
        return _batches(self.x, self.y)


class _TFLike:
    """Duck-typed tf.data.Dataset: as_numpy_iterator() gives a fresh pass; len() its batches."""

    def __init__(self, x, y, w=None):
        self.x, self.y, self.w = x, y, w

    def as_numpy_iterator(self):
        return _batches(self.x, self.y, self.w)

    def __iter__(self):
        raise AssertionError("a dataset is read through as_numpy_iterator()")

    def __len__(self):
        return (self.x.shape[0] + BS - 1) // BS


# ----------------------------------------------------------------------------------------- same training
@pytest.mark.parametrize("kind", ["generator", "generator_w", "tuple", "tuple_w", "pydataset", "pydataset_workers",
                                  "iterable", "tf_like", "dict", "float64_batches"])
def test_each_adapter_trains_bitwise_like_arrays(kind):
    x, y, w = _data()
    weighted = kind.endswith("_w")
    ref, href = _reference(x, y, w if weighted else None)
    m = _model()
    steps = (N + BS - 1) // BS
    if kind in ("generator", "generator_w"):
        def forever():
            while True:
                yield from _batches(x, y, w if weighted else None)
        h = m.fit(forever(), steps_per_epoch=steps, epochs=2, verbose=0)
    elif kind == "tuple":
        h = m.fit((x, y), batch_size=BS, epochs=2, shuffle=False, verbose=0)
    elif kind == "tuple_w":
        h = m.fit((x, y, w), batch_size=BS, epochs=2, shuffle=False, verbose=0)
    elif kind == "pydataset":
        h = m.fit(_Batches(x, y), epochs=2, shuffle=False, verbose=0)
    elif kind == "pydataset_workers":
        h = m.fit(_Batches(x, y, workers=3, max_queue_size=4), epochs=2, shuffle=False, verbose=0)
    elif kind == "iterable":
        h = m.fit(_Repeating(x, y), epochs=2, verbose=0)
    elif kind == "tf_like":
        h = m.fit(_TFLike(x, y), epochs=2, verbose=0)
    elif kind == "dict":
        h = m.fit({"features": x}, {"out": y}, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    else:
        h = m.fit(((a.astype(np.float64), b.astype(np.int64)) for a, b in _batches(x, y)), epochs=1, verbose=0)
        ref, href = _reference(x, y, epochs=1)
    _same_weights(ref, m)
    assert h.history["loss"] == href.history["loss"]
    np.testing.assert_allclose(h.history["accuracy"], href.history["accuracy"], rtol=0, atol=1e-12)


def test_blocks_of_many_batches_match_any_chunking():
    # Enough batches that the native loop gets many per call (the chunk grows from 1 by 8x).
    x, y, _ = _data(n=20000, seed=1)
    ref = _model(metrics=())
    href = ref.fit(x, y, batch_size=BS, epochs=1, shuffle=False, verbose=0)
    m = _model(metrics=())
    h = m.fit(_batches(x, y), epochs=1, verbose=0)
    _same_weights(ref, m)
    assert h.history["loss"] == href.history["loss"]


def test_batches_of_varying_size():
    # 10, 10, 7, 10, 3: a smaller batch ends a native call; the in-memory reference trains each
    # batch by train_on_batch, which is one step on exactly those rows.
    x, y, _ = _data(n=40)
    sizes = [10, 10, 7, 10, 3]
    ref = _model(metrics=())
    start = 0
    for s in sizes:
        ref.train_on_batch(x[start:start + s], y[start:start + s])
        start += s
    cuts = np.cumsum([0] + sizes)
    m = _model(metrics=())
    m.fit(((x[a:b], y[a:b]) for a, b in zip(cuts[:-1], cuts[1:])), epochs=1, verbose=0)
    _same_weights(ref, m)


def test_pydataset_shuffle_permutes_batch_order():
    x, y, _ = _data()
    ds = _Batches(x, y)
    m = _model(metrics=())
    m.fit(ds, epochs=2, shuffle=True, verbose=0)
    nb = len(ds)
    first, second = ds.seen[:nb], ds.seen[nb:]
    assert sorted(first) == list(range(nb)) and sorted(second) == list(range(nb))
    assert first != list(range(nb)) and first != second
    assert ds.epochs_ended == 2
    # The same batches in that order, trained one by one, give the same weights.
    ref = _model(metrics=())
    for i in first + second:
        s = slice(i * BS, min(N, (i + 1) * BS))
        ref.train_on_batch(x[s], y[s])
    _same_weights(ref, m)


def test_sequence_is_pydataset():
    assert Sequence is PyDataset
    with pytest.raises(NotImplementedError, match="__len__"):
        len(PyDataset())
    with pytest.raises(ValueError, match="workers"):
        PyDataset(workers=-1)


def test_validation_data_kinds_match_arrays():
    x, y, w = _data()
    xv, yv, wv = _data(n=77, seed=5)
    ref, href = _reference(x, y, validation_data=(xv, yv, wv))
    for val in (_TFLike(xv, yv, wv), _Batches(xv, yv, wv)):
        m = _model()
        h = m.fit(x, y, batch_size=BS, epochs=2, shuffle=False, verbose=0, validation_data=val)
        assert h.history["val_loss"] == href.history["val_loss"]
        np.testing.assert_allclose(h.history["val_accuracy"], href.history["val_accuracy"], atol=1e-12)
        _same_weights(ref, m)
    # A generator is read once: the second validation finds no data, warns and is skipped.
    m = _model()
    with pytest.warns(UserWarning, match="validation_data ran out of data in epoch 2"):
        h = m.fit(x, y, batch_size=BS, epochs=2, shuffle=False, verbose=0, validation_data=_batches(xv, yv, wv))
    assert h.history["val_loss"] == href.history["val_loss"][:1]
    _same_weights(ref, m)


def test_validation_generator_with_validation_steps_continues_the_stream():
    x, y, _ = _data()
    xv, yv, _ = _data(n=64, seed=5)

    def forever():
        while True:
            yield from _batches(xv, yv)
    m = _model()
    h = m.fit(x, y, batch_size=BS, epochs=3, shuffle=False, verbose=0, validation_data=forever(),
              validation_steps=2)
    # 4 validation batches repeat: epochs 1 and 3 read batches 0-1, epoch 2 reads batches 2-3.
    ev = _model()
    ev.set_weights(m.get_weights())
    first = ev.evaluate(xv[:32], yv[:32], verbose=0, return_dict=True)["loss"]
    assert h.history["val_loss"][2] == first


def test_evaluate_and_predict_streams():
    x, y, w = _data()
    m, _ = _reference(x, y)
    full = m.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    for data in (_batches(x, y, w), _TFLike(x, y, w), _Batches(x, y, w), (x, y, w)):
        got = m.evaluate(data, verbose=0, return_dict=True)
        assert got["loss"] == full["loss"]
        np.testing.assert_allclose(got["accuracy"], full["accuracy"], atol=1e-12)
    pred = m.predict(x, verbose=0)
    np.testing.assert_array_equal(m.predict((b[0] for b in _batches(x, y)), verbose=0), pred)
    np.testing.assert_array_equal(m.predict(_Batches(x, y), verbose=0), pred)
    np.testing.assert_array_equal(m.predict(_batches(x, y), verbose=0), pred)  # y ignored
    np.testing.assert_array_equal(m.predict({"in": x}, verbose=0), pred)
    assert m.evaluate(_batches(x, y), steps=2, verbose=0) == m.evaluate(x[:32], y[:32], verbose=0)


def test_unbuilt_model_builds_from_the_first_batch():
    x, y, _ = _data()
    ref, href = _reference(x, y)
    m = fastnn.Sequential([layers.Dense(7, activation="relu"), layers.Dense(1, activation="sigmoid")], seed=3)
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    gen = (b for _ in range(2) for b in _batches(x, y))
    h = m.fit(gen, steps_per_epoch=(N + BS - 1) // BS, epochs=2, verbose=0)
    _same_weights(ref, m)
    assert h.history["loss"] == href.history["loss"]


def test_pandas_and_memmap_as_today(tmp_path):
    pd = pytest.importorskip("pandas")
    x, y, _ = _data()
    ref, href = _reference(x, y)
    m = _model()
    m.fit(pd.DataFrame(x), pd.Series(y), batch_size=BS, epochs=2, shuffle=False, verbose=0)
    _same_weights(ref, m)
    mm = np.memmap(tmp_path / "x.bin", dtype=np.float32, mode="w+", shape=x.shape)
    mm[:] = x
    m2 = _model()
    m2.fit((mm, y), batch_size=BS, epochs=2, shuffle=False, verbose=0)
    _same_weights(ref, m2)
    # pandas frames inside the batches of a generator
    m3 = _model()
    m3.fit(((pd.DataFrame(a), pd.Series(b)) for a, b in _batches(x, y)), epochs=1, verbose=0)
    ref1, _ = _reference(x, y, epochs=1)
    _same_weights(ref1, m3)


# ----------------------------------------------------------------------------------------- torch
def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_torch_dataloader_tensor_dataset(shuffle, drop_last):
    torch = _torch()
    from torch.utils.data import DataLoader, TensorDataset
    x, y, w = _data()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(w)),
                        batch_size=BS, shuffle=shuffle, drop_last=drop_last)
    # Reference: the batches the loader itself gives, trained one by one.
    torch.manual_seed(11)
    ref = _model(metrics=())
    for _ in range(2):
        for xb, yb, wb in loader:
            ref.train_on_batch(xb.numpy(), yb.numpy(), sample_weight=wb.numpy())
    torch.manual_seed(11)
    m = _model(metrics=())
    m.fit(loader, epochs=2, verbose=0)
    _same_weights(ref, m)
    # The loader read through its generic path (a custom dataset) trains the same.
    torch.manual_seed(11)

    class Rows(torch.utils.data.Dataset):
        def __len__(self):
            return N

        def __getitem__(self, i):
            return torch.from_numpy(x[i]), torch.tensor(y[i]), torch.tensor(w[i])
    m2 = _model(metrics=())
    m2.fit(DataLoader(Rows(), batch_size=BS, shuffle=shuffle, drop_last=drop_last), epochs=2, verbose=0)
    _same_weights(ref, m2)


def test_torch_dataloader_evaluate_predict_and_validation():
    torch = _torch()
    from torch.utils.data import DataLoader, TensorDataset
    x, y, _ = _data()
    m, _ = _reference(x, y)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=BS)
    assert m.evaluate(loader, verbose=0) == m.evaluate(x, y, verbose=0)
    np.testing.assert_array_equal(m.predict(loader, verbose=0), m.predict(x, verbose=0))
    ref, href = _reference(x, y, validation_data=(x[:50], y[:50]))
    m2 = _model()
    vl = DataLoader(TensorDataset(torch.from_numpy(x[:50]), torch.from_numpy(y[:50])), batch_size=BS)
    h = m2.fit(x, y, batch_size=BS, epochs=2, shuffle=False, verbose=0, validation_data=vl)
    assert h.history["val_loss"] == href.history["val_loss"]
    # tensors that require grad are read without autograd
    xt = torch.from_numpy(x).requires_grad_(True)
    np.testing.assert_array_equal(m.predict(((xt[i:i + BS],) for i in range(0, N, BS)), verbose=0),
                                  m.predict(x, verbose=0))


# ----------------------------------------------------------------------------------------- epochs
def test_steps_per_epoch_continues_the_pass_and_restarts_reiterables():
    x, y, _ = _data(n=64)  # 4 batches
    ref = _model(metrics=())
    order = [0, 1, 2, 3, 0, 1]  # 3 epochs of 2 batches continue, then a new pass
    for i in order:
        ref.train_on_batch(x[i * BS:(i + 1) * BS], y[i * BS:(i + 1) * BS])
    m = _model(metrics=())
    h = m.fit(_Repeating(x, y), steps_per_epoch=2, epochs=3, verbose=0)
    assert len(h.history["loss"]) == 3
    _same_weights(ref, m)
    ds = _Batches(x, y)
    m2 = _model(metrics=())
    m2.fit(ds, steps_per_epoch=2, epochs=3, shuffle=False, verbose=0)
    assert ds.seen == [0, 1, 2, 3, 0, 1]
    _same_weights(ref, m2)


def test_finite_generator_ends_epoch_and_then_training_with_a_warning():
    x, y, _ = _data()
    ref, href = _reference(x, y, epochs=1)
    m = _model()
    with pytest.warns(UserWarning, match="ran out of data"):
        h = m.fit(_batches(x, y), epochs=3, verbose=0)
    assert len(h.history["loss"]) == 1
    assert h.history["loss"] == href.history["loss"]
    _same_weights(ref, m)


def test_steps_per_epoch_longer_than_a_finite_generator_warns():
    x, y, _ = _data(n=64)
    m = _model(metrics=())
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        h = m.fit(_batches(x, y), steps_per_epoch=6, epochs=2, verbose=0)
    msgs = [str(w.message) for w in got]
    assert "ran out of data after 4 of 6 batches in epoch 1" in msgs[0]
    assert "training stops" in msgs[1] and len(msgs) == 2
    assert len(h.history["loss"]) == 1


def test_generator_progress_bar_without_a_length(capsys):
    x, y, _ = _data()
    _model().fit(_batches(x, y), epochs=1, verbose=1)
    assert "loss" in capsys.readouterr().out


def test_endless_pydataset_needs_steps():
    class Endless(PyDataset):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, i):
            x, y, _ = _data(n=BS, seed=i)
            return x, y
    with pytest.raises(ValueError, match="steps_per_epoch"):
        _model().fit(Endless(), epochs=1, verbose=0)
    h = _model().fit(Endless(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2


# ----------------------------------------------------------------------------------------- errors and threads
def test_producer_exception_surfaces_with_its_traceback():
    x, y, _ = _data()

    def broken():
        yield x[:BS], y[:BS]
        yield x[BS:2 * BS], y[BS:2 * BS]
        raise KeyError("disk went away")
    with pytest.raises(KeyError, match="disk went away") as info:
        _model().fit(broken(), epochs=1, verbose=0)
    assert any(fr.name == "broken" for fr in traceback.extract_tb(info.value.__traceback__))

    class Bad(_Batches):
        def __getitem__(self, i):
            if i == 3:
                raise IndexError("batch 3 is corrupt")
            return super().__getitem__(i)
    with pytest.raises(IndexError, match="batch 3 is corrupt"):
        _model().fit(Bad(x, y, workers=2), epochs=1, shuffle=False, verbose=0)


def test_bad_batches_name_the_batch():
    x, y, _ = _data()
    bad = [(x[:BS], y[:BS]), (x[BS:2 * BS, :3], y[BS:2 * BS])]
    with pytest.raises(ValueError, match=r"batch 1: expected samples of shape \(6,\)|x of batch 1"):
        _model().fit(iter(bad), epochs=1, verbose=0)
    xn = x[:BS].copy()
    xn[2, 2] = np.nan
    with pytest.raises(ValueError, match=r"x of batch 0: contains NaN"):
        _model().fit(iter([(xn, y[:BS])]), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"batch 0: expected \(x, y\)"):
        _model().fit(iter([x[:BS]]), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"y of batch 0: expected 16 samples"):
        _model().fit(iter([(x[:BS], y[:3])]), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="yielded no batches"):
        _model().fit(iter([]), epochs=1, verbose=0)


def test_stream_refuses_arguments_it_carries():
    x, y, w = _data()
    with pytest.raises(ValueError, match="fit: y is not supported when x is a generator"):
        _model().fit(_batches(x, y), y, verbose=0)
    with pytest.raises(ValueError, match="sample_weight is not supported when x is a PyDataset"):
        _model().fit(_Batches(x, y), sample_weight=w, verbose=0)
    with pytest.raises(ValueError, match="validation_split is not supported"):
        _model().fit(_TFLike(x, y), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="fit: y is required with array data"):
        _model().fit(x, verbose=0)


def test_stop_training_mid_stream_leaves_no_thread():
    x, y, _ = _data(n=4000)

    class StopAt(fastnn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 5:
                self.model.stop_training = True

    def forever():
        while True:
            yield from _batches(x, y)
    m = _model(metrics=())
    m.fit(forever(), steps_per_epoch=100, epochs=5, callbacks=[StopAt()], verbose=0)
    assert m.optimizer.iterations == 6


def test_keyboard_interrupt_in_the_consumer_stops_cleanly():
    x, y, _ = _data()

    class Interrupt(fastnn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 3:
                raise KeyboardInterrupt

    def forever():
        while True:
            yield from _batches(x, y)
    m = _model(metrics=())
    with pytest.raises(KeyboardInterrupt):
        m.fit(forever(), steps_per_epoch=50, epochs=2, callbacks=[Interrupt()], verbose=0)
    assert _prefetch_threads() == []
    m.fit(x, y, epochs=1, verbose=0)  # the model is usable afterwards


# ----------------------------------------------------------------------------------------- issue 10
def test_class_weight_on_streams_matches_arrays():
    x, y, _ = _data()
    cw = {0: 0.5, 1: 3.0}
    ref, href = _reference(x, y, class_weight=cw)
    m = _model()
    h = m.fit(_Batches(x, y), class_weight=cw, epochs=2, shuffle=False, verbose=0)
    _same_weights(ref, m)
    assert h.history["loss"] == href.history["loss"]


def test_class_weight_with_regression_targets_is_refused_without_allocating():
    x, _, _ = _data()
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(1)], seed=0)
    m.compile("sgd", "mse")
    y = np.full(N, 2.0e9, dtype=np.float32)  # used to index a table of 2e9 slots (15 GB)
    with pytest.raises(ValueError, match=r"class_weight: y must hold class indices in \[0, 2\)"):
        m.fit(x, y, class_weight={0: 1.0, 1: 2.0}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"class_weight: .*class indices"):
        m.fit(x, np.linspace(-3, 3, N), class_weight={1: 2.0}, epochs=1, verbose=0)


def test_sparse_labels_above_float32_precision_are_refused():
    classes = 2 ** 24 + 3
    m = fastnn.Sequential([layers.Input(shape=(1,)), layers.Dense(classes)], seed=0)
    m.compile("sgd", "sparse_categorical_crossentropy")
    x = np.ones((2, 1), np.float32)
    with pytest.raises(ValueError, match=r"sparse label 16777217 cannot be held exactly by a float32 model"):
        m.evaluate(x, np.array([2 ** 24 + 1, 0]), verbose=0)
    with pytest.raises(ValueError, match="cannot be held exactly"):
        m.evaluate(iter([(x, np.array([2 ** 24 + 1, 0]))]), verbose=0)
    # exactly representable labels above 2^24 are fine
    assert np.isfinite(m.evaluate(x, np.array([2 ** 24 + 2, 0]), verbose=0))


def test_no_warning_for_plain_array_fit():
    x, y, _ = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _reference(x, y)


_SIGINT_CHILD = r"""
import json, os, signal, sys, threading, time
# A process started in the background by a non-interactive shell (nohup, `cmd &`) inherits SIGINT
# ignored, and Python then installs no handler: Ctrl-C is what this child tests, so install it.
signal.signal(signal.SIGINT, signal.default_int_handler)
import numpy as np
import fastnn
from fastnn import layers
m = fastnn.Sequential([layers.Input(shape=(4,)), layers.Dense(3), layers.Dense(1)], seed=0)
m.compile("sgd", "mse")
def slow():
    rng = np.random.default_rng(0)
    while True:
        time.sleep(0.01)
        yield rng.random((8, 4), dtype=np.float32), rng.random((8, 1), dtype=np.float32)
threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
t = time.perf_counter()
try:
    m.fit(slow(), steps_per_epoch=10 ** 6, epochs=1, verbose=0)
    out = {"interrupted": False}
except KeyboardInterrupt:
    out = {"interrupted": True}
out["seconds"] = time.perf_counter() - t
time.sleep(0.05)
out["threads"] = [th.name for th in threading.enumerate() if th is not threading.main_thread()]
out["usable"] = float(m.evaluate(np.ones((2, 4), np.float32), np.ones((2, 1), np.float32), verbose=0))
print(json.dumps(out))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_waiting_for_a_slow_generator():
    r = subprocess.run([sys.executable, "-c", _SIGINT_CHILD], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["interrupted"] and out["seconds"] < 10
    assert out["threads"] == []
    assert np.isfinite(out["usable"])


def test_unbatched_elements_are_refused_with_the_way_out():
    # A dataset of single samples (tf.data's from_tensor_slices before .batch()) is named as such.
    import fastnn as tf
    x = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    m = fastnn.Sequential([fastnn.layers.Input((4,)), fastnn.layers.Dense(1)], seed=0)
    m.compile("sgd", "mse")
    for data in (tf.data.Dataset.from_tensor_slices((x, y)), ((x[i], y[i]) for i in range(20))):
        with pytest.raises(ValueError, match=r"batch 0: got one sample \(x of shape \(4,\), y a scalar\)"):
            m.fit(data, epochs=1, verbose=0)
    # batched, the same data trains
    m.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(5), epochs=1, verbose=0)
