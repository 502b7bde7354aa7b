"""Progress of long runs on stderr: a tqdm bar (rate and ETA) on a terminal, and one plain line
every few seconds when stderr is a pipe or a file, so that logs never fill with carriage-return
redraws (``htt-replay: 1200/18000 frames, 30.0 frames/s, ETA 9 min 20 s``)."""

import sys
import time
from collections.abc import Iterable, Iterator, Sized
from typing import TextIO, TypeVar

from tqdm import tqdm

LINE_PERIOD_S = 5.0  # seconds between two plain lines
T = TypeVar("T")


def duration(seconds: float) -> str:
    """``9 min 0 s``, ``1 h 2 min``, ``12 s``: a rounded time span for people."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


class Progress:
    """Counts done items of ``total`` (None when unknown) and shows it on ``stream``.

    Use as a context manager (or call :meth:`close`): the plain form prints a last line with the
    final count and rate on closing. ``enabled=False`` shows nothing.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        unit: str = "frames",
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.count = 0
        self._postfix = ""
        self._stream = stream or sys.stderr
        self._enabled = enabled
        self._start = self._last_line = time.monotonic()
        self._bar = None
        if enabled and self._stream.isatty():
            self._bar = tqdm(
                total=total, desc=label, unit=unit.rstrip("s"), file=self._stream, leave=False
            )

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, done: int = 1) -> None:
        """``done`` more items finished."""
        self.count += done
        if self._bar is not None:
            self._bar.update(done)
            return
        now = time.monotonic()
        if self._enabled and now - self._last_line >= LINE_PERIOD_S:
            self._last_line = now
            self._print(now)

    def iterate(self, items: Iterable[T]) -> Iterator[T]:
        """``items`` one by one, each counted once the caller is done with it; closes at the
        end."""
        try:
            for item in items:
                yield item
                self.update()
        finally:
            self.close()

    def set_postfix(self, text: str) -> None:
        """A short note after the counts (the bar's postfix; the next plain line's tail)."""
        self._postfix = text
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._enabled:
            self._print(time.monotonic(), final=True)
        self._enabled = False

    def line(self, elapsed: float, final: bool = False) -> str:
        """The plain progress line ``elapsed`` seconds after the start."""
        rate = self.count / elapsed if elapsed > 0 else 0.0
        counts = f"{self.count}/{self.total}" if self.total else f"{self.count}"
        text = f"{self.label}: {counts} {self.unit}, {rate:.1f} {self.unit}/s"
        if final:
            text += f", done in {duration(elapsed)}"
        elif self.total and rate > 0:
            text += f", ETA {duration(max(0, self.total - self.count) / rate)}"
        if self._postfix:
            text += f", {self._postfix}"
        return text

    def _print(self, now: float, final: bool = False) -> None:
        print(self.line(now - self._start, final), file=self._stream, flush=True)


def progress_iter(
    items: Iterable[T],
    label: str,
    total: int | None = None,
    unit: str = "frames",
    enabled: bool = True,
) -> Iterator[T]:
    """``items`` counted on a new :class:`Progress`; ``total`` defaults to ``len(items)`` when
    it has one."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    return Progress(label, total, unit, enabled).iterate(items)
