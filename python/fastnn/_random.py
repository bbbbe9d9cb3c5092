"""Seeds for everything random in fastnn (initializers, shuffling, dropout).

`fastnn.utils.set_random_seed(seed)` makes every later draw reproducible. Without it, seeds come from
the operating system's entropy. Each model has its own seed (`seed=` on the model, or one draw from
the global stream when it is built); its generator and its initializers' seeds derive from that seed
alone (`derive`), so a model's weights never depend on what other models, in this thread or another,
drew before or meanwhile.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

_lock = threading.Lock()
_generator: np.random.Generator | None = None
_local = threading.local()   # a stream set by seeded() for this thread only
_MASK63 = (1 << 63) - 1


def check_seed(seed, name="seed"):
    """A seed argument: None or a non-negative int (returned as a Python int)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name}: expected an int or None, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{name}: expected a non-negative int, got {seed}")
    return int(seed)


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


def _words_to_seed(words) -> int:
    # Python ints throughout: numpy 1.x refuses to mix uint64 arrays with Python ints in shifts.
    return (int(words[0]) | (int(words[1]) << 32)) & _MASK63


def next_seed() -> int:
    """A fresh 63-bit seed from the global stream (or from OS entropy when no seed was set)."""
    local = getattr(_local, "generator", None)
    if local is not None:
        return int(local.integers(0, 2**63 - 1))
    with _lock:
        if _generator is None:
            return _words_to_seed(np.random.SeedSequence().generate_state(2, np.uint32))
        return int(_generator.integers(0, 2**63 - 1))


def derive(seed: int, *path: int) -> int:
    """A 63-bit seed for one use of a model's seed (path: what it seeds, e.g. (layer, variable)),
    independent of every other path's."""
    entropy = [int(seed) & 0xFFFFFFFF, int(seed) >> 32] + [int(p) for p in path]
    return _words_to_seed(np.random.SeedSequence(entropy).generate_state(2, np.uint32))
