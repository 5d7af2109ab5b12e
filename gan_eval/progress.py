"""Progress of long work on stderr: a tqdm bar on a terminal, a plain line every N seconds anywhere else.

A bar redrawn in place is noise in a log file or a cluster job's output, and tqdm turns itself off there, so
long work (training for minutes, extracting features of 50k images) said nothing until it ended. Here, when
stderr is not a terminal, :class:`Progress` writes one line at most every ``GAN_EVAL_PROGRESS_INTERVAL``
seconds (default 30; 0 writes at every update)::

    train: 12,000/100,000 it (12.0%), 51.3 it/s, elapsed 0:03:54, ETA 0:28:35 | modes 8, HQ 61.2%

The rate and ETA are measured over this session's updates (a resumed run's earlier steps do not count).
The core never prints: commands build a :class:`Progress` and hand :func:`progress_wrapper` to the core's
``progress=`` hooks. Nothing here needs typer; tqdm is imported only for a terminal.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, Iterable, Iterator, TextIO

from gan_eval.errors import GanEvalError

INTERVAL_ENV = "GAN_EVAL_PROGRESS_INTERVAL"
DEFAULT_INTERVAL_S = 30.0


def line_interval() -> float:
    """Seconds between progress lines off a terminal: ``$GAN_EVAL_PROGRESS_INTERVAL``, else 30."""
    text = os.environ.get(INTERVAL_ENV, "").strip()
    if not text:
        return DEFAULT_INTERVAL_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses NaN
        raise GanEvalError(f"{INTERVAL_ENV}={text!r}: seconds between progress lines, a number >= 0 (e.g. 30)")
    return value


def clock_time(seconds: float) -> str:
    """``3725.4`` -> ``1:02:05``."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class Progress:
    """Progress of one piece of work: ``done`` of ``total`` units (``total`` None: unknown).

    ``enabled`` False: silent. On a terminal (``stream.isatty()``) a tqdm bar; elsewhere a line on ``stream``
    when ``interval`` seconds (default :func:`line_interval`) have passed since the start or the last line,
    and on :meth:`close` a last one if any was written and it did not show the end. ``clock``: for tests.
    """

    def __init__(
        self,
        total: int | None,
        desc: str,
        unit: str = "it",
        *,
        initial: int = 0,
        enabled: bool = True,
        leave: bool = True,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = None,
    ) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.done = self.initial = initial
        self.postfix = ""
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.interval = line_interval() if interval is None else interval
        self.started = self.last_line = clock()
        self.lines = 0
        self.shown = initial  # units done at the last line
        self.enabled = enabled
        self.bar: Any = None
        if enabled and _is_terminal(self.stream):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=self.stream, leave=leave, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        self.update_to(self.done + n)

    def update_to(self, done: int) -> None:
        """Set the units done so far (for work whose progress is read, not counted)."""
        step, self.done = done - self.done, done
        if self.bar is not None:
            self.bar.update(step)
        elif self.enabled and self.clock() - self.last_line >= self.interval:
            self._line()

    def set_postfix(self, text: str) -> None:
        """What follows the counts, e.g. the last evaluation."""
        self.postfix = text
        if self.bar is not None:
            self.bar.set_postfix_str(text)

    def write(self, message: str) -> None:
        """A message line that does not break the bar (e.g. a finished run)."""
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.lines and self.done != self.shown:
            self._line()
        self.enabled = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        """``desc: done/total unit (pct), rate, elapsed, ETA | postfix``."""
        now = self.clock()
        elapsed = now - self.started
        rate = (self.done - self.initial) / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.done:,}/{self.total:,} {self.unit} ({100 * self.done / self.total:.1f}%)" if self.total else f"{self.done:,} {self.unit}"]
        if rate > 0:
            parts.append(f"{rate:,.1f} {self.unit}/s" if rate >= 1 else f"{1 / rate:,.1f} s/{self.unit}")
        parts.append(f"elapsed {clock_time(elapsed)}")
        if self.total and rate > 0:
            parts.append(f"ETA {clock_time(max(self.total - self.done, 0) / rate)}")
        return f"{self.desc}: {', '.join(parts)}" + (f" | {self.postfix}" if self.postfix else "")

    def _line(self) -> None:
        print(self.describe(), file=self.stream, flush=True)
        self.last_line = self.clock()
        self.lines += 1
        self.shown = self.done


def track(items: Iterable, total: int | None = None, desc: str = "", *, enabled: bool = True, leave: bool = False) -> Iterator:
    """``items``, one :meth:`Progress.update` per item."""
    with Progress(total, desc, enabled=enabled, leave=leave) as progress:
        for item in items:
            yield item
            progress.update()


def progress_wrapper(enabled: bool) -> Callable[..., Iterable]:
    """The ``progress=`` hook the core takes: ``wrap(items, total=None, desc="")`` (identity when disabled)."""

    def wrap(items: Iterable, total: int | None = None, desc: str = "") -> Iterable:
        return track(items, total, desc, enabled=True) if enabled else items

    return wrap


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
