"""PyDataset with use_multiprocessing=True: batches computed in worker processes train bitwise like
workers=1, errors in __getitem__ reach fit with their message, a dataset that cannot be pickled is
refused with what to do, and no worker process outlives fit on any path."""
import multiprocessing
import os

import numpy as np
import pytest

import fastnn
from fastnn import layers
from fastnn.utils import PyDataset

N, D, BS = 150, 5, 16


def _data(n=N):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, D)).astype(np.float32)
    y = (x[:, 0] + 0.3 * x[:, 2] > 0).astype(np.float32)
    return x, y


def _model():
    m = fastnn.Sequential([layers.Input(shape=(D,)), layers.Dense(8, activation="relu"),
                           layers.Dense(1, activation="sigmoid")], seed=5)
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return m


class Rows(PyDataset):
    """Batches of rows; on_epoch_end reshuffles which rows make each batch (from its own seeded
    generator), so the workers must see the state the main process has. Each worker call records its
    process id as a file name under pid_dir."""

    def __init__(self, x, y, pid_dir=None, reshuffle=True, **kw):
        super().__init__(**kw)
        self.x, self.y, self.pid_dir, self.reshuffle = x, y, pid_dir, reshuffle
        self.rows = np.arange(len(x))
        self.rng = np.random.default_rng(1)

    def __len__(self):
        return (len(self.x) + BS - 1) // BS

    def __getitem__(self, i):
        if self.pid_dir is not None:
            open(os.path.join(self.pid_dir, str(os.getpid())), "a").close()
        r = self.rows[i * BS:(i + 1) * BS]
        return self.x[r], self.y[r]

    def on_epoch_end(self):
        if self.reshuffle:
            self.rows = self.rng.permutation(len(self.x))


class Corrupt(Rows):
    def __getitem__(self, i):
        if i == 3:
            raise IndexError(f"batch {i} is corrupt")
        return super().__getitem__(i)


class NotLoadableThere(Rows):
    """Pickles in the main process, fails to unpickle in any other."""

    def __getstate__(self):
        return {**self.__dict__, "_home": os.getpid()}

    def __setstate__(self, state):
        if state["_home"] != os.getpid():
            raise ImportError("a module only the main process has")
        self.__dict__.update(state)


class _StopAt(fastnn.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def _no_child_left():
    # Children started by earlier tests (joblib's worker pool of scikit-learn's n_jobs searches
    # stays up between tests) are not this file's business: only new ones must be gone.
    before = {p.pid for p in multiprocessing.active_children()}
    yield
    assert [p for p in multiprocessing.active_children() if p.pid not in before] == []


def _same_weights(a, b):
    for p, q in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_process_workers_train_bitwise_like_one_worker(tmp_path):
    x, y = _data()
    xv, yv = _data(40)
    ref = _model()
    h_ref = ref.fit(Rows(x, y), validation_data=Rows(xv, yv, reshuffle=False), epochs=2, verbose=0)
    m = _model()
    ds = Rows(x, y, pid_dir=str(tmp_path), workers=2, use_multiprocessing=True, max_queue_size=3)
    h = m.fit(ds, validation_data=Rows(xv, yv, reshuffle=False, workers=2, use_multiprocessing=True),
              epochs=2, verbose=0)
    assert h.history == h_ref.history
    _same_weights(m, ref)
    # the batches were computed in other processes, all of them gone once fit returned
    pids = [int(p) for p in os.listdir(tmp_path)]
    assert pids and os.getpid() not in pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    # evaluate and predict read the same batches too
    assert m.evaluate(Rows(xv, yv, reshuffle=False, workers=1, use_multiprocessing=True), verbose=0) == \
        m.evaluate(Rows(xv, yv, reshuffle=False), verbose=0)
    np.testing.assert_array_equal(m.predict(Rows(xv, yv, reshuffle=False, workers=1, use_multiprocessing=True),
                                            verbose=0), m.predict(xv, batch_size=BS, verbose=0))


def test_exception_in_getitem_reaches_fit_and_workers_end():
    x, y = _data()
    with pytest.raises(IndexError, match="batch 3 is corrupt"):
        _model().fit(Corrupt(x, y, workers=2, use_multiprocessing=True), epochs=1, shuffle=False, verbose=0)


def test_keyboard_interrupt_closes_the_workers():
    x, y = _data()
    with pytest.raises(KeyboardInterrupt):
        _model().fit(Rows(x, y, reshuffle=False, workers=2, use_multiprocessing=True), epochs=3,
                     callbacks=[_StopAt()], verbose=0)


def test_unpicklable_dataset_is_refused_with_the_way_out():
    x, y = _data()
    ds = Rows(x, y, workers=2, use_multiprocessing=True)
    ds.transform = lambda a: a
    with pytest.raises(TypeError, match=r"PyDataset Rows: .*cannot be pickled.*use_multiprocessing=False"):
        _model().fit(ds, epochs=1, verbose=0)

    class Local(Rows):
        pass
    with pytest.raises(TypeError, match="PyDataset Local: .*cannot be pickled"):
        _model().fit(Local(x, y, workers=1, use_multiprocessing=True), epochs=1, verbose=0)


def test_dataset_a_worker_cannot_load_is_reported():
    x, y = _data()
    with pytest.raises(RuntimeError, match=r"PyDataset NotLoadableThere: a worker process could not load the "
                                           r"dataset \(ImportError: a module only the main process has\)"):
        _model().fit(NotLoadableThere(x, y, workers=1, use_multiprocessing=True), epochs=1, verbose=0)
