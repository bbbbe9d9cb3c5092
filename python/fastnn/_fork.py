"""Keeps native networks usable in a child made by os.fork.

A fork copies a lock held by another thread (one that was training or predicting at that moment)
into the child, where that thread does not exist; each live network's locks are reset there. The
engine's thread pool rebuilds its own workers after fork."""
from __future__ import annotations

import os
import weakref

_live: weakref.WeakSet = weakref.WeakSet()


def track(net):
    _live.add(net)
    return net


def _after_fork_in_child():
    for net in list(_live):
        net.reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
