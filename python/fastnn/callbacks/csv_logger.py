"""CSVLogger: the epoch logs streamed to a CSV file.
"""

from __future__ import annotations

import collections
import collections.abc
import csv
import os

import numpy as np

from .callback import Callback, _public_items



class CSVLogger(Callback):
    """Stream the epoch logs to a CSV file.

    The header is ``epoch`` followed by the sorted log names of the first
    epoch (plus the model's ``val_`` metric names, if it reports them, so
    columns exist when validation runs only on some epochs). ``epoch`` is
    0-based; missing values are written as ``NA``; 1-D array values are
    written as ``"[a, b, ...]"``. The file is flushed after every epoch.

    Parameters
    ----------
    filename : str or os.PathLike
        Path of the CSV file; its folder is created when missing. The file is opened when
        training begins.
    separator : str, default ","
        Field separator, a one-character string (the csv module's rule: anything else raises
        TypeError when the first row is written).
    append : bool, default False
        Append to an existing file (the header is written only if the file is empty) instead of
        overwriting it; useful when fit() is called again to continue training.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r", newline="") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        dirname = os.path.dirname(self.filename)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    @staticmethod
    def _handle_value(value):
        if isinstance(value, str):
            return value
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return value.item()
        if isinstance(value, collections.abc.Iterable):
            return f'"[{", ".join(map(str, value))}]"'
        return value

    def on_epoch_end(self, epoch, logs=None):
        if self.csv_file is None or self.csv_file.closed:
            self.on_train_begin()
        logs = dict(_public_items(logs))
        if self.keys is None:
            self.keys = sorted(logs.keys())
            try:
                expected = list(getattr(self.model, "metrics_names", None) or [])
            except Exception:
                expected = []
            for name in expected:
                if isinstance(name, str) and name.startswith("val_") and name not in self.keys:
                    self.keys.append(name)
        if self.writer is None:
            sep = self.sep

            class _Dialect(csv.excel):
                delimiter = sep

            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch"] + self.keys, dialect=_Dialect
            )
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((k, self._handle_value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
