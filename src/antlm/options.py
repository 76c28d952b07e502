"""The ranges of the numeric options a user gives, each written once and checked alike by the
command line (as argparse ``type=`` callables) and the Python API.

Without them a value out of range is not refused but misread: ``--max-pairs 0`` scored no pair
(or, for a learning curve, fell back to the default), ``--batch-size 0`` failed deep inside the
scorer, ``--jobs 0`` ran one job.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from antlm.errors import AntlmError

__all__ = ["BATCH_SIZE", "DEVICES", "JOBS", "MAX_PAIRS", "Count", "OptionError"]


class OptionError(AntlmError):
    """An option given a value outside its range."""


@dataclass(frozen=True)
class Count:
    """A whole-number option: its API keyword (``max_pairs``; the command line spells it
    ``--max-pairs``), its least allowed value, what it counts (for the message) and whether
    None, "not given", is allowed (the API's spelling of an option left out)."""

    name: str
    minimum: int
    counts: str
    optional: bool = False

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value``, or None if it is allowed."""
        if isinstance(value, bool) or not isinstance(value, int) or value < self.minimum:
            return (f"must be a whole number of at least {self.minimum} ({self.counts}), "
                    f"not {value!r}")
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
            value: Any = int(text)
        except ValueError:
            value = text
        problem = self.problem(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value


MAX_PAIRS = Count("max_pairs", 1, "pairs scored per subtask; leave it out to score them all",
                  optional=True)
BATCH_SIZE = Count("batch_size", 1, "rows per forward pass")
JOBS = Count("jobs", 1, "runs trained at once")
DEVICES = Count("devices", 1, "local processes, one per GPU")
