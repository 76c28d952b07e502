"""``antlm plot RUN [RUN ...]``: the dev loss of both objectives against words seen, for one run
or several overlaid.

Why both objectives, whatever the phase: the point of alternating is that CLM training moves the
MLM loss and vice versa, and the trainer measures both after every epoch and phase (the ``dev``
records of ``metrics.jsonl``, the untrained model's in the ``start`` record). Words seen, not
steps or epochs, is the x axis because it is the BabyLM challenge's unit and compares schedules
of different lengths at equal data; on a log scale when runs differ in length, so that a short
run's curve is not squeezed into a corner of a long one's. The phases are tinted by objective
when every run shares them; runs with different schedules get one phase strip each under the
curves instead.

The y range comes from the trained part (:func:`trained_loss_limits`): the untrained model's
loss (ln of the vocabulary, about 9 nats) would otherwise flatten every difference that
matters. Points beyond the range stay on the figure as a marker on its edge with their value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from antlm.locks import RunLock
from antlm.plots import (
    OBJECTIVE_COLOURS,
    check_figure_path,
    phase_handles,
    pyplot,
    tint_phases,
    words_axis,
)
from antlm.rundir import MetricRecord, RunDirError, RunPaths, read_dev_log, read_phases

__all__ = [
    "OBJECTIVES",
    "dev_curve",
    "differ_in_length",
    "draw_dev_curve",
    "plot_runs",
    "trained_loss_limits",
]

OBJECTIVES = ("CLM", "MLM")
PLOT_FILE = "dev_loss.png"

Span = tuple[str, float, float]
Point = tuple[float, float]
LENGTH_TOLERANCE = 1.05  # runs whose lengths differ by less count as equally long


def trained_loss_limits(records: Iterable[MetricRecord],
                        objectives: Sequence[str] = OBJECTIVES,
                        margin: float = 0.05) -> tuple[float, float] | None:
    """The y range of a dev-loss plot of ``objectives``: every such dev loss measured from the
    end of the first epoch on (runs shorter than an epoch: after step 0), widened by ``margin``
    of its span; None without such a point (matplotlib's own range then). Before that the
    losses fall from the untrained ~9 nats, a drop every run shares and no comparison needs."""
    records = list(records)
    for trained in (lambda r: (r.epoch or 0) >= 1, lambda r: r.step > 0):
        values = [r.dev_losses[o] for r in records if trained(r) for o in objectives
                  if o in r.dev_losses]
        if values:
            low, high = min(values), max(values)
            pad = margin * max(high - low, 0.1)
            return low - pad, high + pad
    return None


def differ_in_length(lengths: Iterable[float]) -> bool:
    """Whether runs of these lengths (words seen) differ enough to need a log axis."""
    lengths = [x for x in lengths if x > 0]
    return bool(lengths) and max(lengths) > LENGTH_TOLERANCE * min(lengths)


def draw_dev_curve(axis: Any, points: Sequence[Point], top: float | None, log: bool,
                   edge: float, **style: Any) -> None:
    """One dev-loss curve. On a log axis the untrained point (0 words) has no place: it is
    drawn unjoined at ``edge``, the axis' left end. A point above ``top`` (the y limit) is
    marked on the upper edge with its value, so that the untrained loss is still read."""
    joined = [(x, y) for x, y in points if x > 0 or not log]
    if joined:
        axis.plot(*zip(*joined), **{"marker": ".", **style})
    if log:
        for _, y in (p for p in points if p[0] <= 0):
            axis.plot([edge], [min(y, top) if top is not None else y], marker="o", mfc="none",
                      linestyle="", clip_on=False, color=style.get("color"))
    if top is None:
        return
    for x, y in points:
        if y > top:
            x = x if x > 0 or not log else edge
            axis.plot([x], [top], marker="^", linestyle="", clip_on=False,
                      color=style.get("color"))
            axis.annotate(f"{y:.1f}", (x, top), xytext=(4, -9), textcoords="offset points",
                          fontsize=7, color=style.get("color"))


def dev_curve(paths: RunPaths) -> dict[str, list[tuple[int, float]]]:
    """``{objective: [(words seen, dev loss), ...]}`` of a run, the untrained model first."""
    records = read_dev_log(paths)
    if not records or any(r.words_seen is None for r in records):
        raise RunDirError(f"{paths.root}: no dev losses with words seen in metrics.jsonl (a run "
                          "trained by antlm writes them after every epoch)")
    return {o: [(r.words_seen, r.dev_losses[o]) for r in records if o in r.dev_losses]
            for o in OBJECTIVES}


def _spans(paths: RunPaths) -> list[Span]:
    return [(p.objective, p.start_words, p.end_words) for p in read_phases(paths)]


def _run_colours(count: int) -> list[Any]:
    """One run: its objective's colour in each panel (None). Several: one colour per run, from
    a palette without the objective colours' blue and orange."""
    if count == 1:
        return [None]
    palette = pyplot().get_cmap("Dark2")
    return [palette(i % palette.N) for i in range(count)]


def _phase_strip(axis: Any, labels: Sequence[str], spans: Sequence[list[Span]]) -> set[str]:
    """One row per run: its phases as bars in their objective's colour."""
    shown: set[str] = set()
    for row, run_spans in enumerate(spans):
        for objective, start, end in run_spans:
            axis.broken_barh([(start, end - start)], (row - 0.4, 0.8),
                             color=OBJECTIVE_COLOURS[objective], alpha=0.6)
            shown.add(objective)
    axis.set_yticks(range(len(labels)), labels, fontsize=8)
    axis.set_ylim(len(labels) - 0.5, -0.5)
    axis.set_xlabel("words seen")
    return shown


def _label(paths: RunPaths) -> str:
    """The run's name, marked when a trainer holds it: its curve stops where training is now."""
    name = paths.root.name or str(paths.root)
    holder = RunLock(paths.root).holder()
    return name if holder is None else f"{name} (being trained, pid {holder}: so far)"


def plot_runs(run_dirs: Sequence[str | Path], out: str | Path | None = None) -> Path:
    """Draw the dev-loss figure of ``run_dirs`` to ``out`` (default: ``RUN/dev_loss.png`` for
    one run, ``./dev_loss.png`` for several); returns the path written."""
    if out is not None:
        check_figure_path(Path(out))
    plt = pyplot()
    paths = [RunPaths(Path(d)) for d in run_dirs]
    if not paths:
        raise RunDirError("give at least one run directory")
    curves = [dev_curve(p) for p in paths]
    labels = [_label(p) for p in paths]
    spans = [_spans(p) for p in paths]
    shared = all(s == spans[0] for s in spans)
    strip_rows = 0 if shared else len(paths)
    records = [r for p in paths for r in read_dev_log(p)]
    xs = [x for curve in curves for points in curve.values() for x, _ in points]
    log = differ_in_length(max((x for points in c.values() for x, _ in points), default=0)
                           for c in curves)
    edge = min((x for x in xs if x > 0), default=1.0) / 2

    fig = plt.figure(figsize=(11, 4.4 + 0.28 * strip_rows), layout="constrained")
    grid = fig.add_gridspec(2 if strip_rows else 1, 2,
                            height_ratios=[4, 0.35 + 0.28 * strip_rows] if strip_rows else [1])
    panels = [fig.add_subplot(grid[0, 0])]
    panels.append(fig.add_subplot(grid[0, 1], sharex=panels[0]))
    shaded: set[str] = set()
    for axis, objective in zip(panels, OBJECTIVES):
        limits = trained_loss_limits(records, [objective])
        if limits:
            axis.set_ylim(*limits)
        if shared:
            shaded |= tint_phases(axis, spans[0])
        for curve, label, colour in zip(curves, labels, _run_colours(len(paths))):
            draw_dev_curve(axis, curve[objective], limits and limits[1], log, edge, label=label,
                           color=colour or OBJECTIVE_COLOURS[objective])
        axis.set_title(f"dev {objective} loss")
        axis.set_ylabel("dev loss (nats)")
        axis.grid(alpha=0.3, which="both")
        words_axis(axis, log)
        if strip_rows:
            axis.set_xlabel("")
    if log:
        panels[0].set_xlim(edge / 1.25, max(xs) * 1.1)
    if strip_rows:
        for column in range(2):
            strip = fig.add_subplot(grid[1, column], sharex=panels[0])
            shaded |= _phase_strip(strip, labels, spans)
            words_axis(strip, log)
    handles = phase_handles(shaded)
    if len(paths) > 1:
        handles = panels[0].get_legend_handles_labels()[0] + handles
    if log:
        handles.append(plt.Line2D([], [], color="grey", marker="o", mfc="none", linestyle="",
                                  label="untrained (0 words), at the left edge"))
    if any(y > panel.get_ylim()[1] for panel, objective in zip(panels, OBJECTIVES)
           for c in curves for _, y in c[objective]):
        handles.append(plt.Line2D([], [], color="grey", marker="^", linestyle="",
                                  label="above the range (value beside it)"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6),
                   fontsize=8, frameon=False)
    fig.suptitle(("dev loss of both objectives against words seen: "
                  + ", ".join(labels))[:120])
    target = Path(out) if out else (paths[0].root / PLOT_FILE if len(paths) == 1
                                    else Path(PLOT_FILE))
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target
