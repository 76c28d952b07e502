"""The ranges of the numeric options a user gives, each written once and checked alike by the
command line (as argparse ``type=`` callables) and the Python API.

Without them a value out of range is not refused but misread: ``--max-pairs 0`` scored no pair
(or, for a learning curve, fell back to the default), ``--batch-size 0`` failed deep inside the
scorer, ``--jobs 0`` ran one job.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any

from antlm.errors import AntlmError

__all__ = ["BATCH_SIZE", "DEVICES", "JOBS", "MAX_PAIRS", "SCALED_EPOCHS", "STEPS_PER_EPOCH",
           "STOP_AFTER_EPOCHS", "Number", "OptionError"]


class OptionError(AntlmError):
    """An option given a value outside its range."""


@dataclass(frozen=True)
class Number:
    """A numeric option: its API keyword (``max_pairs``; the command line spells it
    ``--max-pairs``), what it counts (for the message), its bound (a whole number is at least
    ``minimum``, any other number greater than it) and whether None, "not given", is allowed
    (the API's spelling of an option left out)."""

    name: str
    counts: str
    minimum: int = 1
    whole: bool = True
    optional: bool = False

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value``, or None if it is allowed."""
        if self.whole:
            allowed = isinstance(value, int) and value >= self.minimum
            wanted = f"a whole number of at least {self.minimum}"
        else:
            allowed = isinstance(value, (int, float)) and math.isfinite(value) and value > self.minimum
            wanted = f"a number greater than {self.minimum}"
        if isinstance(value, bool) or not allowed:
            return f"must be {wanted} ({self.counts}), not {value!r}"
        return None

    def check(self, value: Any) -> Any:
        """``value`` if allowed, else an :class:`OptionError` naming the keyword, the value and
        the range: the API's check."""
        problem = None if value is None and self.optional else self.problem(value)
        if problem:
            raise OptionError(f"{self.name}={value!r}: {problem}")
        return value

    def parse(self, text: str) -> int:
        """``text`` as this option's value: the command line's check, an argparse ``type=``
        (argparse names the option and exits 2 on the ``ArgumentTypeError``)."""
        try:
            value: Any = int(text) if self.whole else float(text)
        except ValueError:
            value = text
        problem = self.problem(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value


MAX_PAIRS = Number("max_pairs", "pairs scored per subtask; leave it out to score them all",
                   optional=True)
BATCH_SIZE = Number("batch_size", "rows per forward pass")
JOBS = Number("jobs", "runs trained at once")
DEVICES = Number("devices", "local processes, one per GPU")
SCALED_EPOCHS = Number("epochs", "the epochs the schedule is scaled to", minimum=0, whole=False)
STEPS_PER_EPOCH = Number("steps_per_epoch", "optimizer steps in one epoch")
STOP_AFTER_EPOCHS = Number("stop_after_epochs", "epochs to train before stopping; leave it out "
                           "to train to the end", minimum=0, whole=False, optional=True)
