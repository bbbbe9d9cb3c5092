"""Seeds for everything random in fastnn (initializers, shuffling, dropout).

`fastnn.utils.set_random_seed(seed)` makes every later draw reproducible. Without it, seeds come from
the operating system's entropy. Each model keeps its own generator for shuffling and dropout, seeded
once from here when it is built, so two models never share random state.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

_lock = threading.Lock()
_generator: np.random.Generator | None = None
_local = threading.local()   # a stream set by seeded() for this thread only


def set_seed(seed: int) -> None:
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed}")
    with _lock:
        _generator = np.random.Generator(np.random.PCG64(int(seed)))


@contextlib.contextmanager
def seeded(seed: int):
    """Within the block, this thread's models draw their seeds from a stream of their own started
    at `seed`, and the global stream is left untouched: an estimator with a random_state builds
    the same model every time, whatever other threads or the caller's set_random_seed do."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    previous = getattr(_local, "generator", None)
    _local.generator = np.random.Generator(np.random.PCG64(int(seed)))
    try:
        yield
    finally:
        _local.generator = previous


def next_seed() -> int:
    """A fresh 63-bit seed from the global stream (or from OS entropy when no seed was set)."""
    local = getattr(_local, "generator", None)
    if local is not None:
        return int(local.integers(0, 2**63 - 1))
    with _lock:
        if _generator is None:
            return int(np.random.SeedSequence().generate_state(2, np.uint32).view(np.uint64)[0] >> 1)
        return int(_generator.integers(0, 2**63 - 1))
