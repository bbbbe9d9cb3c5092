"""The sizes fastnn accepts, in one place (documented in docs/LIMITS.md).

Each bound sits far above any model the engine can usefully run and far below the point where a
product of sizes could wrap around in the engine's 64-bit arithmetic, so every size is checked here,
in Python integers (which never overflow), before anything is allocated.
"""
from __future__ import annotations

import os

#: Features per sample, units of a layer, the flat width of any layer's output.
MAX_WIDTH = 2**31 - 1
#: Weights of one model (every variable together); the optimizer's slots are a small multiple of it.
MAX_PARAMS = 2**40
#: Layers a model, or a model file, may hold.
MAX_LAYERS = 10_000
#: Characters of a name (a model's, a layer's, a variable's) or of any string a model file carries.
MAX_STRING = 1_024
#: Nesting depth of the JSON values a model file's header may carry.
MAX_DEPTH = 32


def max_threads() -> int:
    """The largest thread count set_num_threads accepts: 4 per logical CPU (a few more threads than
    CPUs can hide stalls; many more only add wake-ups), and at most the engine's 1,024."""
    return max(1, min(1024, 4 * (os.cpu_count() or 1)))
