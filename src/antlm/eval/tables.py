"""The one place where scores become text: percentages and Markdown tables, so every report,
macro-average and model card formats a number and a missing number the same way."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MISSING", "markdown_table", "pct"]

MISSING = "–"  # a score that does not exist (never a zero)


def pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal; :data:`MISSING` for None."""
    return MISSING if value is None else f"{100 * value:.1f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table: first column left-aligned (names), the others right-aligned (scores)."""
    lines = ["| " + " | ".join(header) + " |", "|:--|" + "--:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
