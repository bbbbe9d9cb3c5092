"""LambdaCallback: a callback made of plain functions.
"""

from __future__ import annotations

from .callback import _HOOK_NAMES, Callback



class LambdaCallback(Callback):
    """Build a callback from plain functions.

    Each argument is a function used as the hook of the same name, called
    with that hook's arguments: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``, ``on_train_batch_begin(batch, logs)``,
    ``on_train_batch_end(batch, logs)``. Any other hook (``on_test_end``,
    ``on_batch_end``, ``on_train_chunk_end``...) can be given by keyword.
    Giving a batch hook makes the training loop call it after every batch.

    Parameters
    ----------
    on_epoch_begin, on_epoch_end : callable, optional
        ``f(epoch, logs)``, called at the start / end of every epoch.
    on_train_begin, on_train_end : callable, optional
        ``f(logs)``, called once at the start / end of fit().
    on_train_batch_begin, on_train_batch_end : callable, optional
        ``f(batch, logs)``, called around every training batch.
    **kwargs
        Any other hook of :class:`Callback` by its name, for example
        ``on_train_chunk_end=lambda step, logs: ...``. An unknown hook name raises ValueError
        listing the valid ones; a value that is not callable (for any hook) raises TypeError.
        None leaves a hook as the no-op.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name in kwargs:
            if name not in _HOOK_NAMES:
                raise ValueError(
                    f"LambdaCallback received an unknown hook {name!r}. Valid hooks are: "
                    + ", ".join(_HOOK_NAMES)
                )
        hooks.update(kwargs)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback hook {name!r} must be callable; received {fn!r}.")
            setattr(self, name, fn)
