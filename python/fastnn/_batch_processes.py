"""Worker processes that compute a PyDataset's batches (use_multiprocessing=True).

Each worker unpickles one copy of the dataset and answers dataset[index] for the indices it is sent;
the caller collects the results in the order it asked for them, so training reads the same batches
in the same order as with workers=1 (bitwise the same fit, for a dataset whose __getitem__ depends
only on its index and state).

Processes are started with "forkserver" where the platform has it, else "spawn"; never "fork": the
parent has threads (the prefetcher, the engine's pool) whose locks a forked child would inherit held.
The cost of that choice is Python's usual rule for these start methods: the dataset's class must be
importable in a fresh interpreter (defined at module level; a script guards its top level with
`if __name__ == "__main__":`). Workers ignore SIGINT: Ctrl-C reaches the parent, whose fit ends and
closes the pool. close() cancels what is queued and joins every worker.
"""
from __future__ import annotations

import multiprocessing
import pickle
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

_data = None          # the worker's copy of the dataset
_load_error = None    # why the worker could not unpickle it (reported on the first batch asked for)


def start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def pickled(data) -> bytes:
    """The dataset as the workers receive it; a TypeError that says what to do when it does not pickle."""
    try:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:  # noqa: BLE001 - pickling raises PicklingError, TypeError, AttributeError, ...
        raise TypeError(
            f"PyDataset {type(data).__name__}: use_multiprocessing=True sends the dataset to worker processes, "
            f"but it cannot be pickled ({type(e).__name__}: {e}); define its class at module level and keep "
            "its attributes picklable (no open files, locks, generators or lambdas), or pass "
            "use_multiprocessing=False to read batches in threads") from e


def _load(blob, name):
    global _data, _load_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _data = pickle.loads(blob)
    except BaseException as e:  # noqa: BLE001 - reported to the parent with the first batch
        _load_error = (f"PyDataset {name}: a worker process could not load the dataset "
                       f"({type(e).__name__}: {e}); its class must be importable in a fresh interpreter "
                       "(defined in a module or a script, not in an interactive session or notebook), "
                       "or pass use_multiprocessing=False to read batches in threads")


def _get(index):
    if _load_error is not None:
        raise RuntimeError(_load_error)
    return _data[index]


class BatchProcesses:
    """`workers` processes holding copies of the dataset pickled as `blob`."""

    def __init__(self, blob: bytes, workers: int, name: str):
        self.blob = blob
        self.name = name
        self._pool = ProcessPoolExecutor(max_workers=max(1, int(workers)),
                                         mp_context=multiprocessing.get_context(start_method()),
                                         initializer=_load, initargs=(blob, name))

    def submit(self, index: int):
        return _Result(self._pool.submit(_get, index), self.name)

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Result:
    """A batch being computed; result() raises what __getitem__ raised (the worker's traceback is its
    __cause__), or a RuntimeError naming the dataset when a worker died."""

    __slots__ = ("_future", "_name")

    def __init__(self, future, name):
        self._future, self._name = future, name

    def cancel(self):
        return self._future.cancel()

    def result(self):
        try:
            return self._future.result()
        except BrokenProcessPool as e:
            raise RuntimeError(f"PyDataset {self._name}: a worker process ended abruptly (killed, out of "
                               "memory, or it failed to start; see its output above); pass "
                               "use_multiprocessing=False to read batches in threads") from e
