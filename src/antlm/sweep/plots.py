"""A sweep's figures: dev loss per objective for every arm, and the macro-average per arm."""

from __future__ import annotations

import math
from pathlib import Path

from antlm.plots import OBJECTIVE_COLOURS, phase_handles, pyplot, tint_phases
from antlm.schedule import parse_schedule
from antlm.sweep.stats import mean_sd
from antlm.sweep.summary import OBJECTIVES, SweepSummary, dev_axis, dev_curves


def _phase_spans(summary: SweepSummary, arm: str, axis: str) -> list[tuple[str, float, float]]:
    """``(objective, start, end)`` of the arm's phases on the plot's x axis: in words from the
    first seed's start record, in epochs from the schedule."""
    if axis == "words_seen":
        first = next(iter(summary.dev.get(arm, {}).values()), [])
        phases = first[0].get("phases", []) if first and first[0]["event"] == "start" else []
        return [(p["objective"], p["start_words"], p["start_words"] + p["words"]) for p in phases]
    spans, start = [], 0.0
    for phase in parse_schedule(summary.sweep.schedule(arm)).phases:
        spans.append((phase.objective, start, start + phase.epochs))
        start += phase.epochs
    return spans


def _plot_dev_curves(summary: SweepSummary, curves: dict[str, dict[str, list[tuple[float, float]]]],
                     out_dir: Path) -> Path:
    """One small panel per arm: its dev CLM and MLM loss over words seen on a background tinted
    by the phase being trained, the baseline's curves dashed behind them. A single panel with
    every arm's curves is unreadable beyond a handful of arms; small multiples keep each
    schedule's story (which loss falls in which phase) visible and comparable to the baseline."""
    plt = pyplot()
    spec = summary.sweep.spec
    x_axis = dev_axis(summary)
    arms = [arm for arm, per_objective in curves.items() if any(per_objective.values())]
    columns = max(1, min(4, len(arms)))
    rows = max(1, math.ceil(len(arms) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.8 * rows + 0.6),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")
    baseline = curves.get(spec.baseline, {})
    phase_kinds: set[str] = set()
    for axis, arm in zip(axes.flat, arms):
        phase_kinds |= tint_phases(axis, _phase_spans(summary, arm, x_axis))
        for objective in OBJECTIVES:
            colour = OBJECTIVE_COLOURS[objective]
            if arm != spec.baseline and baseline.get(objective):
                axis.plot(*zip(*baseline[objective]), color=colour, linestyle="--",
                          linewidth=0.9, alpha=0.6)
            if curves[arm][objective]:
                axis.plot(*zip(*curves[arm][objective]), color=colour, marker=".")
        axis.set_title(f"{arm}: {summary.sweep.schedule(arm)}", fontsize=9)
        axis.grid(alpha=0.3)
    for axis in axes.flat[len(arms):]:
        axis.set_visible(False)
    for axis in axes[:, 0]:
        axis.set_ylabel("dev loss (nats)")
    for column in range(columns):  # the lowest panel in each column carries the x axis
        lowest = axes[(len(arms) - 1 - column) // columns, column]
        lowest.xaxis.set_tick_params(labelbottom=True)
        lowest.set_xlabel("words seen" if x_axis == "words_seen" else "epoch")
    handles = [plt.Line2D([], [], color=OBJECTIVE_COLOURS[o], marker=".", label=f"dev {o} loss")
               for o in OBJECTIVES]
    handles.append(plt.Line2D([], [], color="grey", linestyle="--",
                              label=f"baseline ({spec.baseline})"))
    handles += phase_handles(phase_kinds)
    fig.suptitle(f"{summary.sweep.name}: dev loss per objective (mean over evaluated seeds)")
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 2 * columns),
               fontsize=8, frameon=False)
    path = out_dir / f"{summary.sweep.name}-dev-loss.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot(summary: SweepSummary, out_dir: Path) -> list[Path]:
    plt = pyplot()

    out_dir.mkdir(parents=True, exist_ok=True)
    written = [_plot_dev_curves(summary, dev_curves(summary), out_dir)]

    backends = summary.backends
    arms = list(summary.sweep.spec.arms)
    fig, axis = plt.subplots(figsize=(max(6, 1.2 * len(arms) * max(1, len(backends)) / 2), 4.5))
    width = 0.8 / max(1, len(backends))
    all_means: list[float] = []
    for i, backend in enumerate(backends):
        means, sds = [], []
        for arm in arms:
            values = list(summary.values(arm, backend, "macro").values())
            mean, sd = mean_sd(values) if values else (math.nan, None)
            means.append(mean * 100)
            sds.append(math.nan if sd is None else sd * 100)  # one seed: no error bar
        positions = [a + (i - (len(backends) - 1) / 2) * width for a in range(len(arms))]
        axis.bar(positions, means, width, yerr=sds, capsize=3, label=backend)
        all_means += means
    seeds = [len(summary.scores.get(arm, {})) for arm in arms]
    axis.set_xticks(range(len(arms)), [f"{a} (n={n})" for a, n in zip(arms, seeds)],
                    rotation=30, ha="right")
    axis.set_ylabel("macro-average (%)")
    axis.set_title(f"{summary.sweep.name}: macro-average per arm (mean ± sd over seeds)")
    axis.legend(title="scoring", fontsize=8)
    axis.grid(axis="y", alpha=0.3)
    finite = [m for m in all_means if not math.isnan(m)]
    if finite:
        axis.set_ylim(max(0, min(finite) - 10), min(100, max(finite) + 10))
    fig.tight_layout()
    path = out_dir / f"{summary.sweep.name}-macro.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written
