"""A background producer behind a bounded queue: streamed batches are read and converted while the
native loop trains on the previous ones.

The producer is a generator function run in one daemon thread; the consumer takes its items in
order with get(). An exception raised by the producer is handed to the consumer and raised there
(the same object, so its traceback still shows where the producer failed). close() stops the
producer at its next item and joins the thread: no thread outlives the call that started it.
"""
from __future__ import annotations

import queue
import threading

_POLL_S = 0.05  # how often a blocked side looks at the stop flag (and the consumer lets Ctrl-C in)


class Prefetcher:
    def __init__(self, produce, maxsize=2, name="fastnn-prefetch"):
        """produce(stop_event) -> an iterator of items; it runs in the background thread."""
        self._produce = produce
        self._queue = queue.Queue(maxsize=max(1, int(maxsize)))
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, message) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self):
        try:
            for item in self._produce(self._stop):
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as e:  # noqa: BLE001 - every failure goes to the consumer
            self._put(("error", e))

    def get(self):
        """The next item, or None once the producer has finished. Raises what the producer raised."""
        if self._done:
            return None
        while True:
            try:
                kind, value = self._queue.get(timeout=_POLL_S)
                break
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    self._done = True
                    return None
        if kind == "item":
            return value
        self._done = True
        if kind == "error":
            try:
                raise value
            finally:
                value = None  # no reference cycle through this frame
        return None

    def close(self):
        """Stops the producer and waits for its thread to end (it finishes the item it is reading)."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(_POLL_S)
        self._done = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
