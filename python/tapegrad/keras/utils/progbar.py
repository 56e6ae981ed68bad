"""Keras 3's progress bar (``tg.keras.utils.Progbar``), with its exact output format.

verbose=1 redraws one line: bold ``current/target``, a 20-character bar of ``━`` (done part green,
rest white), the ETA (or the elapsed time once finalized), the time per step and ``- name: value``
for each value (``.4f``, or ``.4e`` when ``|value| <= 1e-3``). verbose=2 prints one line when
finalized. Updates closer than ``interval`` seconds apart are not drawn (except the final one).

>>> import io, contextlib, tapegrad as tg
>>> out = io.StringIO()
>>> with contextlib.redirect_stdout(out):
...     bar = tg.keras.utils.Progbar(2, verbose=2)
...     bar.update(1, [("loss", 0.5)])
...     bar.update(2, [("loss", 0.25)])
>>> out.getvalue().startswith("2/2 - 0s - ") and out.getvalue().endswith(" - loss: 0.2500\\n")
True
"""

import math
import os
import sys
import time

import numpy as np

_BOLD, _RESET, _GREEN, _WHITE = "\x1b[1m", "\x1b[0m", "\33[32m", "\33[37m"


def _dynamic_display():
    # Keras's test: a tty, IPython, PyCharm, or a POSIX system (the `posix` module is loaded on
    # every Linux/macOS Python, so there Keras always redraws in place with \b and \r).
    return (
        (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
        or "ipykernel" in sys.modules
        or "posix" in sys.modules
        or "PYCHARM_HOSTED" in os.environ
    )


def print_msg(message, line_break=True):
    """Writes `message` to stdout and flushes (Keras's ``io_utils.print_msg``)."""
    message = str(message)
    if line_break:
        message += "\n"
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:
        enc = sys.stdout.encoding or "utf-8"
        sys.stdout.write(message.replace("━", "=").encode(enc, errors="ignore").decode(enc))
    sys.stdout.flush()


class Progbar:
    """Displays a progress bar (``keras.utils.Progbar``).

    Args:
        target: total number of steps, None if unknown.
        width: bar width in characters.
        verbose: 0 (silent), 1 (one redrawn line), 2 (one line when finalized).
        interval: minimum seconds between two drawn updates.
        stateful_metrics: names shown as given; the others are averaged over steps.
        stateless_metrics: names averaged over steps; the others are shown as given. At most one of
            the two may be given.
        unit_name: the unit of the time per step ("step").
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. `stateful_metrics` is "
                "used to make metrics stateless by default (with an exclusion list), while `stateless_metrics` "
                "is used to make metrics stateful by default (with an exclusion list)."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateful_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = set(stateful_metrics), None
        elif stateless_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = None, set(stateless_metrics)
        else:
            self.stateful_metrics, self.stateless_metrics = set(), None
        self._dynamic_display = _dynamic_display()
        self._seen_so_far = 0
        self._values = {}
        self._values_order = []
        self._start = time.time()
        self._last_update = 0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _is_averaged(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        """Shows step `current`; `values` is a list of ``(name, value)`` pairs. `finalize` defaults
        to ``current >= target``."""
        if finalize is None:
            finalize = False if self.target is None else current >= self.target
        for k, v in values or []:
            if k not in self._values_order:
                self._values_order.append(k)
            if self._is_averaged(k) and not finalize:
                n = max(current - self._seen_so_far, 1)
                if k in self._values:
                    self._values[k][0] += v * n
                    self._values[k][1] += n
                else:
                    self._values[k] = [v * n, n]
            else:
                self._values[k] = [v, 1]
        self._seen_so_far = current
        now = time.time()
        per_unit = self._step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw(current, now, per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            line = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
            line += self._format_time(per_unit)
            for k in self._values_order:
                avg = self._average(k)
                line += f" - {k}: {avg:.4f}" if avg > 1e-3 else f" - {k}: {avg:.4e}"
            print_msg(line + "\n", line_break=False)
        self._last_update = now

    def _draw(self, current, now, per_unit, finalize):
        message = ("\b" * self._prev_total_width + "\r") if self._dynamic_display else "\n"
        invisible = 0  # characters of the escape codes, not counted in the line's width
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            bar = f"{_BOLD}{current:{digits}d}/{self.target}{_RESET} "
            invisible += 8
            done = int(self.width * float(current) / self.target)
            if done > 0:
                bar += f"{_GREEN}{'━' * done}{_RESET}"
                invisible += 9
            bar += f"{_WHITE}{'━' * (self.width - done)}{_RESET}"
            invisible += 9
        else:
            bar = "%7d/Unknown" % current
        if self.target is not None and self.target > 0 and not finalize:
            eta = per_unit * (self.target - current)
            if eta > 3600:
                eta_text = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                eta_text = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_text = "%ds" % eta
            info = f" {_BOLD}{eta_text}{_RESET}"
        else:
            info = f" {_BOLD}{now - self._start:.0f}s{_RESET}"
        invisible += 8
        info += self._format_time(per_unit)
        for k in self._values_order:
            avg = self._average(k)
            info += f" - {k}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {k}: {avg:.4e}"
        total_width = len(bar) + len(info) - invisible
        message += bar + info
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        print_msg(message, line_break=False)
        self._prev_total_width = total_width

    def _average(self, k):
        total, count = self._values[k]
        if not isinstance(total, float):
            total = np.mean(total)
        return total / max(1, count)

    def add(self, n, values=None):
        """Advances by `n` steps."""
        self.update(self._seen_so_far + n, values)

    def _format_time(self, per_unit):
        if per_unit >= 1 or per_unit == 0:
            return f" {per_unit:.0f}s/{self.unit_name}"
        if per_unit >= 1e-3:
            return f" {per_unit * 1e3:.0f}ms/{self.unit_name}"
        return f" {per_unit * 1e6:.0f}us/{self.unit_name}"

    def _step_duration(self, current, now):
        # the first step (tracing, warm-up) is left out of the estimate once there are more
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit
