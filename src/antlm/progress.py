"""Progress bars that suit both a terminal and a log file.

On a terminal the bar redraws in place at most every second. When output goes to a file (a
sweep, CI, nohup) every redraw would be one more carriage-return-separated copy of the bar, and
``set_postfix_str`` redraws at each call whatever ``mininterval`` says; there the bar is drawn
at most once every :data:`LOG_INTERVAL_S` seconds (postfix updates wait for the next draw), each
draw a line of its own, so a log holds a readable trace.

The training bar's label (:func:`training_label`) names the phase of the step just taken and
the loss of the objective that phase trains, never a loss left over from another phase.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class LossReading:
    """The mean losses of one readback (every ``train.log_every`` steps: reading a loss waits for
    the device, so it is not done every step), the phase it was read in, and the speed."""

    phase: int  # 0-based index of the phase of the step the losses were read at
    losses: Mapping[str, float]  # objective -> mean loss since the previous readback
    tokens_per_s: float


def training_label(
    phase: int, phases: int, objective: str, trains: Sequence[str],
    reading: LossReading | None, words: str,
) -> str:
    """The training bar's label after a step of phase ``phase`` (0-based) of ``phases``, which
    trains the objectives ``trains``: only their losses, and only when read in this same phase.
    A readback spanning a phase change also averages the previous objective's last steps, and a
    reading from an earlier phase is stale: a label showing either tells the wrong story."""
    current = reading.losses if reading is not None and reading.phase == phase else {}
    losses = ", ".join(f"{name} loss {current[name]:.3f}" for name in trains if name in current)
    speed = f" {reading.tokens_per_s:,.0f} tok/s" if reading is not None else ""
    return (f"phase {phase + 1}/{phases} {objective}" + (f": {losses}" if losses else "")
            + f", {words} words{speed}")
