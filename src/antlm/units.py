"""Word counts as people write them: ``100M``, ``1.5M``, ``250K``, ``10_000_000``.

The BabyLM challenge states its budgets and checkpoint milestones in words (10M, 100M, "every 1M
up to 10M"), so the config accepts them in that form, and checkpoint names give them back in the
form the 2025 evaluation pipeline expects (``chck_1M`` ... ``chck_1000M``: whole millions, never
``B``; see ``eval_zero_shot_fast_all_revisions.sh`` in babylm/evaluation-pipeline-2025).

A milestone rule lists sizes and ranges, comma-separated::

    1M..10M step 1M, 20M..100M step 10M, 200M..1000M step 100M     (the challenge's milestones)
    10K..100K step 10K, 500K                                       (a range and a single size)
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "CHALLENGE_MILESTONES",
    "format_count",
    "parse_count",
    "parse_milestones",
    "short_count",
]

# Every 1M words up to 10M, every 10M up to 100M (strict-small ends here) and every 100M up to
# 1B (strict): the revisions the 2025 pipeline evaluates.
CHALLENGE_MILESTONES = "1M..10M step 1M, 20M..100M step 10M, 200M..1000M step 100M"

_MULTIPLIERS = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9}
_COUNT = re.compile(r"^\s*(\d[\d_,]*(?:\.\d*)?|\.\d+)\s*([kKmMbBgG]?)\s*$")
_RANGE = re.compile(r"^(?P<first>\S+?)\s*\.\.\s*(?P<last>\S+?)\s+step\s+(?P<step>\S+)$")


def parse_count(value: float | str) -> int:
    """A whole, non-negative number of words from ``10000000``, ``"10_000_000"``, ``"10M"``,
    ``"1.5M"``, ``"250k"`` (K, M, B or G = 10^3, 10^6, 10^9, 10^9); ``ValueError`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):  # YAML's yes/no are no counts
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        match = _COUNT.match(str(value))
        if not match:
            raise ValueError(
                f"{value!r} is not a number of words (e.g. 100M, 1.5M, 250K, 10_000_000)")
        try:
            number = Decimal(match[1].replace("_", "").replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number of words") from None
        number *= _MULTIPLIERS[match[2].upper()]
    if number < 0 or number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a whole, non-negative number of words")
    return int(number)


def format_count(words: int) -> str:
    """The exact, compact name of a count: ``1M``, ``1000M``, ``10K``, ``1500K``, ``1234``."""
    for suffix, size in (("M", 10**6), ("K", 10**3)):
        if words and words % size == 0:
            return f"{words // size}{suffix}"
    return str(words)


def short_count(words: float) -> str:
    """A count for reading, three significant digits: ``12.3M``, ``950K``, ``812``."""
    for suffix, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(words) >= size:
            return f"{words / size:.3g}{suffix}"
    return f"{words:.3g}"


def parse_milestones(rule: str | list[int | str] | None) -> list[int]:
    """The sorted, distinct, positive word counts of a milestone rule (module docstring) or
    list; ``None`` or an empty rule gives none. ``ValueError`` names the bad part."""
    if rule is None:
        return []
    parts = rule if isinstance(rule, list) else [p for p in rule.split(",") if p.strip()]
    milestones: set[int] = set()
    for part in parts:
        text = part.strip() if isinstance(part, str) else part
        ranged = _RANGE.match(text) if isinstance(text, str) else None
        if ranged:
            first, last, step = (parse_count(ranged[k]) for k in ("first", "last", "step"))
            if step <= 0 or first <= 0 or last < first:
                raise ValueError(f"milestone range {text!r}: expected 0 < FIRST <= LAST and a "
                                 "positive step, e.g. 1M..10M step 1M")
            milestones.update(range(first, last + 1, step))
            continue
        try:
            count = parse_count(text)
        except ValueError:
            raise ValueError(f"milestone {text!r} is neither a size (e.g. 500K) nor a range "
                             "(e.g. 1M..10M step 1M)") from None
        if count <= 0:
            raise ValueError(f"milestone {text!r}: must be positive")
        milestones.add(count)
    return sorted(milestones)
