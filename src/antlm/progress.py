"""Progress bars that suit both a terminal and a log file.

On a terminal the bar redraws in place at most every second. When output goes to a file (a
sweep, CI, nohup) every redraw would be one more carriage-return-separated copy of the bar, and
``set_postfix_str`` redraws at each call whatever ``mininterval`` says; there the bar is drawn
at most once every :data:`LOG_INTERVAL_S` seconds (postfix updates wait for the next draw), each
draw a line of its own, so a log holds a readable trace.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar, TextIO
from weakref import WeakSet

from tqdm.auto import tqdm

LOG_INTERVAL_S = 30.0


class _Lines:
    """A stream for a log file: tqdm's in-place redraws (``\\r`` + bar) become whole lines,
    its erasures (``\\r`` + spaces) disappear; any other text passes unchanged."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._after_bar = False

    def write(self, text: str) -> None:
        if text.startswith("\r"):
            line = text.strip("\r").rstrip()
            if line:
                self.stream.write(line + "\n")
                self._after_bar = True
            return
        if not (text == "\n" and self._after_bar):  # the newline tqdm ends a closed bar with
            self.stream.write(text)
        self._after_bar = False

    def flush(self) -> None:
        self.stream.flush()


class _LogBar(tqdm):
    """A bar whose postfix never forces a draw: it waits for the next ``mininterval``.

    Out of reach of tqdm's monitor thread: every ``maxinterval`` (10 s) it redraws a bar that
    has raised its ``miniters``, which in a log doubled the lines (measured: a line every 10-20 s
    of ``make demo`` under a 30 s ``mininterval``). Log bars start no monitor, and keep their own
    set of instances, so that a monitor started by any other bar in the process never sees them.
    """

    monitor_interval = 0
    _instances: ClassVar[WeakSet] = WeakSet()

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        super().set_postfix_str(s, refresh=False)

    def set_postfix(self, ordered_dict: Any = None, refresh: bool = True, **kwargs: Any) -> None:
        super().set_postfix(ordered_dict, refresh=False, **kwargs)


def progress_bar(iterable: Any = None, **kwargs: Any) -> tqdm:
    stream = kwargs.pop("file", None) or sys.stderr
    if stream.isatty():
        kwargs.setdefault("mininterval", 1.0)
        return tqdm(iterable, file=stream, dynamic_ncols=True, **kwargs)
    kwargs.setdefault("mininterval", LOG_INTERVAL_S)
    return _LogBar(iterable, file=_Lines(stream), **kwargs)
