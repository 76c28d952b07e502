"""The one place where scores become text: percentages and tables, so every report,
macro-average, learning curve and model card formats a number and a missing number the same way.

A table is drawn for one of two targets, from the same rows:

* ``terminal``: plain text columns for a terminal or a log (what the CLI prints): names
  left-aligned, numbers right-aligned, an indented row indented with spaces;
* ``markdown``: a Markdown table for files that are read rendered (model cards, ``.md``
  reports, docs), where leading spaces would be dropped, so an indent becomes ``&nbsp;``.

A row's label starts with :data:`INDENT` to sit under the row above it (a task's subtasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

__all__ = [
    "INDENT",
    "MISSING",
    "Target",
    "code",
    "heading",
    "markdown_table",
    "pct",
    "render_table",
    "strong",
    "target_of",
    "text_table",
]

MISSING = "–"  # a score that does not exist (never a zero)
INDENT = "  "  # the start of a row label that belongs to the row above
Target = Literal["terminal", "markdown"]
_COLUMN_GAP = "  "


def pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal; :data:`MISSING` for None."""
    return MISSING if value is None else f"{100 * value:.1f}"


def target_of(path: str | Path | None) -> Target:
    """The target for output going to ``path``: Markdown for a ``.md`` file, plain text for
    anything else (None: standard output, a terminal or a log)."""
    return "markdown" if path is not None and Path(path).suffix.lower() == ".md" else "terminal"


def _markdown_cell(cell: str) -> str:
    """Markdown drops a cell's leading spaces: keep an indent as non-breaking spaces."""
    stripped = cell.lstrip(" ")
    return "&nbsp;" * (len(cell) - len(stripped)) + stripped


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table: first column left-aligned (names), the others right-aligned (scores)."""
    lines = ["| " + " | ".join(header) + " |", "|:--|" + "--:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(_markdown_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _is_number(cell: str) -> bool:
    """Whether a cell reads as a number (``75.0``, ``-0.3``, ``1/2``, ``500 (max 500)``): those
    line up on the right; words (``not run``, a note) line up on the left."""
    return cell.strip().lstrip("+-−")[:1].isdigit()


def _numeric_column(cells: Sequence[str]) -> bool:
    """A column of scores: some cell is a number, or every cell is a missing one (a run
    without results still lines up with the scores beside it)."""
    only_missing = any(cells) and all(c.strip() in (MISSING, "") for c in cells)
    return only_missing or any(_is_number(c) for c in cells)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain aligned columns under a rule: names and words left-aligned, numbers right-aligned
    (a missing number, and the header, as the column's numbers), so that digits line up. A
    last column of words (notes) gets a rule as long as its header, not its longest note."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    numeric = [i > 0 and _numeric_column([r[i] for r in rows]) for i in range(len(header))]

    def right(cell: str, column: int, is_header: bool) -> bool:
        if not numeric[column]:
            return False
        return is_header or cell.strip() == MISSING or _is_number(cell)

    def line(cells: Sequence[str], is_header: bool = False) -> str:
        padded = [c.rjust(w) if right(c, i, is_header) else c.ljust(w)
                  for i, (c, w) in enumerate(zip(cells, widths))]
        return _COLUMN_GAP.join(padded).rstrip()

    rule_widths = widths[:-1] + [widths[-1] if numeric[-1] else len(header[-1])]
    rule = _COLUMN_GAP.join("-" * w for w in rule_widths)
    return "\n".join([line(header, is_header=True), rule, *(line(row) for row in rows)])


def render_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], target: Target = "markdown"
) -> str:
    """``header`` and ``rows`` as a table for ``target`` (see the module docstring)."""
    if target == "markdown":
        return markdown_table(header, rows)
    return text_table(header, rows)


def strong(text: str, target: Target = "markdown") -> str:
    """Emphasised text: bold in Markdown, as it is on a terminal (asterisks would be noise)."""
    return f"**{text}**" if target == "markdown" else text


def code(text: str, target: Target = "markdown") -> str:
    """A name as typed (a backend, a revision): in backticks in Markdown, bare on a terminal."""
    return f"`{text}`" if target == "markdown" else text


def heading(text: str, target: Target = "markdown") -> str:
    """A section heading: a Markdown ``##`` heading, or the text underlined on a terminal."""
    return f"## {text}" if target == "markdown" else f"{text}\n{'=' * len(text)}"
