"""What every antlm plot shares: matplotlib on a file-only backend (servers and CI have no
display), one colour per objective (CLM is the same blue in every figure), and the light tint
that shows which objective trained when."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from antlm.errors import AntlmError
from antlm.units import short_count

OBJECTIVE_COLOURS = {"CLM": "tab:blue", "MLM": "tab:orange", "MIX": "tab:purple"}


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class FigurePathError(AntlmError):
    """A figure's path in a format matplotlib cannot write."""


def check_figure_path(path: Path) -> Path:
    """``path`` if matplotlib can write a figure there, judged by its extension; checked before
    any run is read, since ``savefig`` would refuse an unknown one only after all the drawing,
    and would append ``.png`` to a name without one, writing a file the user did not name."""
    from matplotlib.backend_bases import FigureCanvasBase

    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    suffix = path.suffix.lower().removeprefix(".")
    if suffix not in formats:
        written = f"a .{suffix} file" if suffix else "a file without an extension"
        raise FigurePathError(f"{path}: matplotlib cannot write {written}; end the name in one "
                              f"of {', '.join('.' + f for f in formats)}")
    return path


def tint_phases(axis: Any, spans: Iterable[tuple[str, float, float]]) -> set[str]:
    """Shade each ``(objective, start, end)`` span of the x axis in its objective's colour;
    returns the objectives shaded, for :func:`phase_handles`."""
    shaded = set()
    for objective, start, end in spans:
        axis.axvspan(start, end, color=OBJECTIVE_COLOURS[objective], alpha=0.08, linewidth=0)
        shaded.add(objective)
    return shaded


def phase_handles(objectives: set[str]) -> list[Any]:
    """Legend entries for the phase tints of ``objectives``."""
    plt = pyplot()
    return [plt.Rectangle((0, 0), 1, 1, color=colour, alpha=0.15, label=f"{objective} phase")
            for objective, colour in OBJECTIVE_COLOURS.items() if objective in objectives]


def words_formatter(minor: bool = False) -> Any:
    """Tick labels of a log words-seen axis, all in one style (``500K``, ``2M``, ``30M``): the
    ticks matplotlib's log formatter would label (every decade; on an axis spanning about a
    decade or less, some or all of the ticks between), each named by
    :func:`antlm.units.short_count` instead of in a mix of ``1M`` and ``2x10^6``."""
    from matplotlib.ticker import LogFormatter

    class WordsFormatter(LogFormatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return short_count(x) if x > 0 and super().__call__(x, pos) else ""

    return WordsFormatter(labelOnlyBase=not minor)


def words_axis(axis: Any, log: bool = True) -> None:
    """Set up ``axis``'s x axis for words seen: log scale (runs of different lengths, and the
    milestones of a run, spread evenly) or linear, every tick label written alike."""
    from matplotlib.ticker import FuncFormatter

    axis.set_xlabel("words seen")
    if not log:
        axis.xaxis.set_major_formatter(FuncFormatter(lambda x, _: short_count(x)))
        return
    axis.set_xscale("log")
    axis.xaxis.set_major_formatter(words_formatter())
    axis.xaxis.set_minor_formatter(words_formatter(minor=True))
