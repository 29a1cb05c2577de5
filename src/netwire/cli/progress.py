"""A one-line download progress bar for a terminal: bytes so far, total, percentage, speed, ETA.

It redraws at most ten times a second (drawing costs far more than reading a 64 KiB block) and
only ever writes to the stream it is given (stderr), so stdout stays the body's alone.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import TextIO

__all__ = ["TransferProgress", "format_duration", "format_size"]

_REDRAW_EVERY = 0.1


def format_size(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``: binary units, three significant digits."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            if unit == "B":
                return f"{int(n)} B"
            return f"{n:.1f} {unit}" if n < 100 else f"{n:.0f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    """``75`` -> ``"1:15"``; ``3700`` -> ``"1:01:40"``."""
    s = int(seconds + 0.5)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TransferProgress:
    """Progress of one download: call :meth:`update` with each block's size, :meth:`finish` at the end.

    ``total`` is the expected size (None when the server did not say); ``start`` counts bytes
    already on disk before this transfer (a resumed download), so the bar shows the whole file.
    """

    def __init__(self, stream: TextIO, total: int | None, *, start: int = 0, label: str = "") -> None:
        self.stream = stream
        self.total = total
        self.start = start
        self.done = start
        self.label = label
        self.started = time.monotonic()
        self._next_draw = 0.0
        self._drawn = False

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now >= self._next_draw:
            self._next_draw = now + _REDRAW_EVERY
            self._draw(now)

    def speed(self, now: float | None = None) -> float:
        elapsed = (now or time.monotonic()) - self.started
        return (self.done - self.start) / elapsed if elapsed > 0 else 0.0

    def line(self, now: float | None = None, *, final: bool = False) -> str:
        """The text of the bar as it would be drawn now."""
        now = now or time.monotonic()
        speed = self.speed(now)
        width = self._columns()
        size = format_size(self.done)
        rate = f"{format_size(speed)}/s"
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            if final:
                tail = f"in {format_duration(now - self.started)}"
            elif speed > 0:
                tail = f"ETA {format_duration((self.total - self.done) / speed)}"
            else:
                tail = "ETA --:--"
            text = f"{fraction * 100:5.1f}% {size} / {format_size(self.total)}  {rate}  {tail}"
            label = f"{self.label} " if self.label else ""
            room = width - len(label) - len(text) - 4
            if room >= 10:
                bar_width = min(room, 40)
                filled = int(bar_width * fraction)
                bar = "#" * filled + "-" * (bar_width - filled)
                return f"{label}[{bar}] {text}"
            return f"{label}{text}"
        tail = f"in {format_duration(now - self.started)}" if final else ""
        return f"{self.label + ' ' if self.label else ''}{size}  {rate}  {tail}".rstrip()

    def _columns(self) -> int:
        # The width of the terminal the bar is drawn on (stderr), even when stdout is a file.
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (OSError, ValueError, AttributeError):
            return shutil.get_terminal_size((80, 24)).columns

    def _draw(self, now: float, *, final: bool = False) -> None:
        self.stream.write("\r\x1b[2K" + self.line(now, final=final))
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """Draw the final state and end the line."""
        self._draw(time.monotonic(), final=True)
        self.stream.write("\n")
        self.stream.flush()

    def abandon(self) -> None:
        """End the line where the bar stopped (an interrupted or failed transfer)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
