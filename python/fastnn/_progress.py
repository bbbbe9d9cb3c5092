"""Keras-style text progress bar used by :class:`fastnn.callbacks.ProgbarLogger`.

Output modes:

* ``verbose=1`` on a terminal: a live bar redrawn in place with ``\\r`` at most
  every ``interval`` seconds, e.g.
  ``12/100 [==>...........................] - ETA: 3s - loss: 0.1234``, and a
  final line ``100/100 [==============================] 1s 10ms/step - loss: ...``.
* ``verbose=1`` when the stream is not a terminal (a file, a pipe, captured
  output): nothing while running and the same final line once at the end, so
  logs are not flooded with carriage returns.
* ``verbose=2``: only one summary line at the end,
  ``100/100 - 1s - 10ms/step - loss: ... - val_loss: ...``.
* ``verbose=0``: silent.
"""

from __future__ import annotations

import sys
import time

import numpy as np

__all__ = ["Progbar"]


def write_text(stream, text):
    """Writes `text` to `stream` and flushes it. A stream that is None (sys.stdout of a process
    without a console), closed or failing is skipped: progress output never stops training."""
    if stream is None:
        return
    try:
        stream.write(text)
    except (AttributeError, ValueError, OSError):
        return
    try:
        stream.flush()
    except (AttributeError, ValueError, OSError):
        pass


def _now():
    return time.monotonic()


def format_value(value):
    """Format a metric value as Keras does: 4 decimals, scientific when tiny."""
    if isinstance(value, str):
        return value
    try:
        avg = float(np.mean(value))
    except (TypeError, ValueError):
        return str(value)
    if abs(avg) > 1e-3:
        return f"{avg:.4f}"
    return f"{avg:.4e}"


def _format_eta(eta):
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


def _format_time_per_unit(time_per_unit, unit_name):
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1e3:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1e6:.0f}us/{unit_name}"


class Progbar:
    """Displays a progress bar.

    Args:
        target: Total number of steps expected, ``None`` if unknown.
        width: Width of the bar in characters.
        verbose: 0 (silent), 1 (bar) or 2 (one line at the end).
        interval: Minimum time in seconds between two redraws of the live bar.
        stateful_metrics: Names of values displayed as given. Other values
            are averaged over the steps by the bar (weighted by the number of
            steps between updates).
        unit_name: Name of a step in the time-per-step display.
        stream: Text stream to write to; ``None`` means ``sys.stdout`` as
            looked up at each write.
    """

    def __init__(
        self,
        target,
        width=30,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        unit_name="step",
        stream=None,
    ):
        self.target = target
        self.width = int(width)
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self._stream = stream
        self._seen_so_far = 0
        self._values = {}
        self._values_order = []
        self._start = _now()
        self._last_update = None
        self._time_after_first_step = None
        self._prev_width = 0

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def _dynamic_display(self, stream):
        try:
            if stream.isatty():
                return True
        except (AttributeError, ValueError, OSError):
            pass
        # Jupyter output streams render carriage returns in place.
        return type(stream).__module__.split(".")[0] == "ipykernel"

    def _write(self, stream, text):
        write_text(stream, text)

    def _target_known(self):
        return self.target is not None and self.target > 0

    def _estimate_step_duration(self, current, now):
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    def _metrics_text(self):
        parts = []
        for k in self._values_order:
            total, count = self._values[k]
            if isinstance(total, str):
                parts.append(f" - {k}: {total}")
                continue
            try:
                value = np.asarray(total, dtype=np.float64) / max(1, count)
            except (TypeError, ValueError):
                parts.append(f" - {k}: {total}")
                continue
            parts.append(f" - {k}: {format_value(value)}")
        return "".join(parts)

    def _bar_text(self, current):
        if not self._target_known():
            return "%7d/Unknown" % current
        numdigits = len(str(int(self.target)))
        text = f"{current:>{numdigits}d}/{self.target} ["
        progress = min(max(float(current) / self.target, 0.0), 1.0)
        prog_width = int(self.width * progress)
        if prog_width > 0:
            text += "=" * (prog_width - 1)
            text += ">" if current < self.target else "="
        text += "." * (self.width - prog_width) + "]"
        return text

    def update(self, current, values=None, finalize=None):
        """Update the bar.

        Args:
            current: Index of the current step (number of steps done).
            values: ``(name, value)`` pairs, or a dict.
            finalize: Whether this is the last update; by default
                ``current >= target``.
        """
        if finalize is None:
            finalize = self._target_known() and current >= self.target
        if values is None:
            values = []
        elif isinstance(values, dict):
            values = list(values.items())
        for k, v in values:
            if k not in self._values_order:
                self._values_order.append(k)
            if k in self.stateful_metrics or finalize or isinstance(v, str):
                self._values[k] = [v, 1]
            else:
                base = max(current - self._seen_so_far, 1)
                if k not in self._values:
                    self._values[k] = [v * base, base]
                else:
                    self._values[k][0] += v * base
                    self._values[k][1] += base
        self._seen_so_far = current

        now = _now()
        per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            stream = self.stream
            dynamic = self._dynamic_display(stream)
            if not finalize:
                if not dynamic:
                    return
                if self._last_update is not None and now - self._last_update < self.interval:
                    return
            line = self._bar_text(current)
            if self._target_known() and not finalize:
                line += f" - ETA: {_format_eta(per_unit * (self.target - current))}"
            else:
                line += f" {now - self._start:.0f}s" + _format_time_per_unit(per_unit, self.unit_name)
            line += self._metrics_text()
            if dynamic:
                pad = max(self._prev_width - len(line), 0)
                message = "\r" + line + " " * pad
                self._prev_width = len(line)
            else:
                message = line
            if finalize:
                message += "\n"
                self._prev_width = 0
            self._write(stream, message)
        elif self.verbose == 2 and finalize:
            target = self.target if self._target_known() else current
            numdigits = len(str(int(target))) if target else 1
            line = f"{current:>{numdigits}d}/{target} - {now - self._start:.0f}s"
            line += " -" + _format_time_per_unit(per_unit, self.unit_name)
            line += self._metrics_text()
            self._write(self.stream, line + "\n")
        self._last_update = now

    def add(self, n, values=None):
        """Advance the bar by ``n`` steps."""
        self.update(self._seen_so_far + n, values)
