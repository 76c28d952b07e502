"""A sweep's figures: dev loss per arm, the macro-average per arm, a forest plot of every arm's
paired difference to the baseline, the declared primary endpoint seed by seed when the sweep
declares one, and the arms' learning curves when the sweep scores them.

Zero-shot scores of small models sit a few points above chance, so the score plots draw the
chance line and fit their axis to the values (a 0-100 axis would flatten every difference), and
the forest plot draws exactly the paired t-intervals that the tables print.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from antlm.eval.curves import accuracy_interval, average_accuracy
from antlm.eval.macro import PART_LABELS
from antlm.plots import OBJECTIVE_COLOURS, phase_handles, pyplot, tint_phases, words_axis
from antlm.plots.runs import differ_in_length, draw_dev_curve, trained_loss_limits
from antlm.rundir import start_phases
from antlm.sweep.stats import Interval, mean_sd
from antlm.sweep.summary import (
    OBJECTIVES,
    PARTS,
    CurvePoint,
    PrimaryResult,
    SweepSummary,
    dev_axis,
    dev_curves,
    learning_curves,
)

CHANCE = 0.5  # every zero-shot task is a choice between two sentences
# Parts fine-tuned rather than scored zero-shot: the same score under every backend.
BACKEND_FREE = ("glue",)
FOREST_PARTS = (*PARTS, "macro")
FOREST_LABELS = {**PART_LABELS, "macro": "macro-average"}


def _backend_colour(summary: SweepSummary, backend: str | None) -> str:
    """One colour per backend, the same in every sweep figure; black for backend-free parts."""
    return "black" if backend is None else f"C{summary.backends.index(backend)}"


def _phase_spans(summary: SweepSummary, arm: str, axis: str) -> list[tuple[str, float, float]]:
    """``(objective, start, end)`` of the arm's phases on the plot's x axis: in words from the
    first seed's start record, in epochs from the schedule."""
    if axis == "words_seen":
        first = next(iter(summary.dev.get(arm, {}).values()), [])
        return [(p.objective, p.start_words, p.end_words) for p in start_phases(first)]
    spans, start = [], 0.0
    for phase in summary.sweep.plan(arm).phases:
        spans.append((phase.objective, start, start + phase.epochs))
        start += phase.epochs
    return spans


def plot_dev_curves(summary: SweepSummary, out_dir: Path) -> Path:
    """One small panel per arm: its dev CLM and MLM loss over words seen on a background tinted
    by the phase being trained, the baseline's curves dashed behind them. A single panel with
    every arm's curves is unreadable beyond a handful of arms; small multiples keep each
    schedule's story (which loss falls in which phase) visible and comparable to the baseline."""
    plt = pyplot()
    spec = summary.sweep.spec
    curves = dev_curves(summary)
    x_axis = dev_axis(summary)
    arms = [arm for arm, per_objective in curves.items() if any(per_objective.values())]
    columns = max(1, min(4, len(arms)))
    rows = max(1, math.ceil(len(arms) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.8 * rows + 0.6),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")
    baseline = curves.get(spec.baseline, {})
    limits = trained_loss_limits(r for seeds in summary.dev.values() for run in seeds.values()
                                 for r in run)
    top = limits[1] if limits else None
    ends = [max((x for pts in curves[arm].values() for x, _ in pts), default=0) for arm in arms]
    log = x_axis == "words_seen" and differ_in_length(ends)
    edge = min((x for arm in arms for pts in curves[arm].values() for x, _ in pts if x > 0),
               default=1.0) / 2
    phase_kinds: set[str] = set()
    for axis, arm in zip(axes.flat, arms):
        if limits:
            axis.set_ylim(*limits)
        phase_kinds |= tint_phases(axis, _phase_spans(summary, arm, x_axis))
        for objective in OBJECTIVES:
            colour = OBJECTIVE_COLOURS[objective]
            if arm != spec.baseline and baseline.get(objective):
                draw_dev_curve(axis, baseline[objective], top, log, edge, color=colour,
                               linestyle="--", linewidth=0.9, alpha=0.6, marker="")
            draw_dev_curve(axis, curves[arm][objective], top, log, edge, color=colour)
        axis.set_title(f"{arm}: {summary.sweep.schedule(arm)}", fontsize=9)
        axis.grid(alpha=0.3, which="both")
        if x_axis == "words_seen":
            words_axis(axis, log)
            axis.set_xlabel("")
    if log:
        axes[0, 0].set_xlim(edge / 1.25, max(ends) * 1.1)
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
    if log:
        handles.append(plt.Line2D([], [], color="grey", marker="o", mfc="none", linestyle="",
                                  label="untrained (0 words), at the left edge"))
    if top is not None and any(y > top for per in curves.values() for pts in per.values()
                               for _, y in pts):
        handles.append(plt.Line2D([], [], color="grey", marker="^", linestyle="",
                                  label="above the range (value beside it)"))
    fig.suptitle(f"{summary.sweep.name}: dev loss per objective (mean over evaluated seeds)")
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 2 * columns),
               fontsize=8, frameon=False)
    path = out_dir / f"{summary.sweep.name}-dev-loss.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def score_limits(values: list[float], chance: float = 100 * CHANCE) -> tuple[float, float]:
    """A y range (in %) that spans ``values`` and the chance line with a margin, so differences
    of a point stay visible instead of being flattened on a 0-100 axis."""
    low, high = min([*values, chance]), max([*values, chance])
    margin = max(1.0, 0.1 * (high - low))
    return max(0.0, low - margin), min(100.0, high + margin)


def plot_macro(summary: SweepSummary, out_dir: Path) -> Path:
    """The macro-average per arm and backend: each seed a small dot, the mean ± sd a larger
    marker. Points rather than bars, because the axis does not start at zero."""
    plt = pyplot()
    backends = summary.backends
    arms = list(summary.sweep.spec.arms)
    fig, axis = plt.subplots(figsize=(max(6.0, 1.5 + 0.45 * len(arms) * max(1, len(backends))), 4.5),
                             layout="constrained")
    width = 0.7 / max(1, len(backends))
    shown: list[float] = []  # every value drawn, for the y range
    for i, backend in enumerate(backends):
        colour = _backend_colour(summary, backend)
        for a, arm in enumerate(arms):
            values = [100 * v for v in summary.values(arm, backend, "macro").values()]
            if not values:
                continue
            x = a + (i - (len(backends) - 1) / 2) * width
            mean, sd = mean_sd(values)
            axis.scatter([x] * len(values), values, s=14, color=colour, alpha=0.5, linewidth=0)
            axis.errorbar([x], [mean], yerr=None if sd is None else [sd], fmt="o", color=colour,
                          capsize=3)
            shown += [*values, mean - (sd or 0), mean + (sd or 0)]
    axis.axhline(100 * CHANCE, color="grey", linestyle=":", linewidth=1)
    seeds = [len(summary.scores.get(arm, {})) for arm in arms]
    axis.set_xticks(range(len(arms)), [f"{a} (n={n})" for a, n in zip(arms, seeds)],
                    rotation=30, ha="right")
    axis.set_xlim(-0.5, len(arms) - 0.5)
    if shown:
        axis.set_ylim(*score_limits(shown))
    axis.set_ylabel("macro-average (%)")
    axis.set_title(f"{summary.sweep.name}: macro-average per arm (mean ± sd over seeds; "
                   f"dots: seeds)", fontsize=10)
    handles = [plt.Line2D([], [], color=_backend_colour(summary, b), marker="o", linestyle="",
                          label=f"{b} scoring") for b in backends]
    handles.append(plt.Line2D([], [], color="grey", linestyle=":",
                              label=f"chance ({100 * CHANCE:.0f}%)"))
    axis.legend(handles=handles, fontsize=8)
    axis.grid(axis="y", alpha=0.3)
    path = out_dir / f"{summary.sweep.name}-macro.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@dataclass(frozen=True)
class ForestRow:
    """One arm's paired difference to the baseline in one part under one backend (None: a
    part fine-tuned rather than scored zero-shot, the same under every backend)."""

    part: str
    backend: str | None
    arm: str
    delta: Interval
    seeds: int  # paired seeds behind the interval


def forest_rows(summary: SweepSummary) -> list[ForestRow]:
    """Every non-baseline arm's paired difference to the baseline, per part and backend: the
    intervals the tables print (:meth:`SweepSummary.delta`), in the plot's order."""
    rows: list[ForestRow] = []
    if not summary.backends:
        return rows
    for part in FOREST_PARTS:
        backends: list[str | None] = [None] if part in BACKEND_FREE else [*summary.backends]
        for backend in backends:
            read_as = backend or summary.backends[0]
            for arm in summary.sweep.spec.arms:
                delta = summary.delta(arm, read_as, part)
                if arm != summary.sweep.spec.baseline and delta is not None:
                    seeds = len(summary.paired_differences(arm, read_as, part))
                    rows.append(ForestRow(part, backend, arm, delta, seeds))
    return rows


def plot_forest(summary: SweepSummary, rows: list[ForestRow], out_dir: Path) -> Path:
    """A panel per part (the zero-shot tasks, GLUE, the macro-average): each arm's paired
    difference to the baseline in points with its 95% t-interval, one colour per backend, and
    the zero line that an interval must clear to show an effect. One seed gives a hollow
    marker and no interval."""
    plt = pyplot()
    spec = summary.sweep.spec
    arms = [arm for arm in spec.arms if any(r.arm == arm for r in rows)]
    parts = [part for part in FOREST_PARTS if any(r.part == part for r in rows)]
    backends = list(dict.fromkeys(r.backend for r in rows))
    seeds = {arm: max(r.seeds for r in rows if r.arm == arm) for arm in arms}
    fig, axes = plt.subplots(1, max(1, len(parts)), sharey=True, squeeze=False,
                             figsize=(1.8 + 2.7 * max(1, len(parts)), 2.0 + 0.45 * max(1, len(arms))),
                             layout="constrained")
    zero_shot = [b for b in backends if b is not None]
    offset = 0.5 / max(1, len(zero_shot))
    for axis, part in zip(axes.flat, parts):
        axis.axvline(0, color="black", linewidth=0.8)
        for row in (r for r in rows if r.part == part):
            shift = 0.0 if row.backend is None else (
                zero_shot.index(row.backend) - (len(zero_shot) - 1) / 2) * offset
            y = arms.index(row.arm) + shift
            colour = _backend_colour(summary, row.backend)
            mean = 100 * row.delta.mean
            if row.delta.low is None or row.delta.high is None:
                axis.plot([mean], [y], "o", mfc="none", color=colour)
            else:
                axis.errorbar([mean], [y], fmt="o", color=colour, capsize=2.5, xerr=[
                    [mean - 100 * row.delta.low], [100 * row.delta.high - mean]])
        axis.set_title(FOREST_LABELS.get(part, part), fontsize=10)
        axis.set_xlabel("Δ to baseline (points)")
        axis.grid(axis="x", alpha=0.3)
        for y in range(1, len(arms)):  # faint separators keep each arm's markers together
            axis.axhline(y - 0.5, color="grey", linewidth=0.4, alpha=0.4)
    axes[0, 0].set_yticks(range(len(arms)), [f"{arm} (n={seeds[arm]})" for arm in arms])
    axes[0, 0].set_ylim(len(arms) - 0.5, -0.5)
    handles = [plt.Line2D([], [], color=_backend_colour(summary, b), marker="o",
                          label=f"{b} scoring" if b else "fine-tuned (any scoring)")
               for b in backends]
    if any(r.delta.low is None for r in rows):
        handles.append(plt.Line2D([], [], color="grey", marker="o", mfc="none", linestyle="",
                                  label="one seed: no interval"))
    fig.legend(handles=handles, loc="outside lower center", ncol=max(1, len(handles)),
               fontsize=8, frameon=False)
    fig.suptitle(f"{summary.sweep.name}: paired difference to {spec.baseline} "
                 f"(mean and 95% t-interval over seeds)", fontsize=11)
    path = out_dir / f"{summary.sweep.name}-forest.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def seed_labels(values: list[float], seeds: list[int],
                min_gap: float = 0.04) -> list[tuple[float, str]]:
    """One label per cluster of nearby points (``seeds 4, 6, 8``), so eight seeds' labels do not
    print over each other; ``min_gap`` is a fraction of the values' range."""
    order = sorted(zip(values, seeds, strict=True))
    gap = min_gap * ((order[-1][0] - order[0][0]) if order else 0.0)
    clusters: list[list[tuple[float, int]]] = []
    for point in order:
        if clusters and point[0] - clusters[-1][-1][0] <= gap:
            clusters[-1].append(point)
        else:
            clusters.append([point])
    labels = []
    for cluster in clusters:
        names = ", ".join(str(seed) for _, seed in sorted(cluster, key=lambda p: p[1]))
        mean = sum(v for v, _ in cluster) / len(cluster)
        labels.append((mean, f"seed{'s' if len(cluster) > 1 else ''} {names}"))
    return labels


def plot_primary(summary: SweepSummary, result: PrimaryResult, out_dir: Path,
                 number: int = 1) -> Path:
    """The declared endpoint as the pairing sees it: left, each seed's baseline and arm joined by
    a line (parallel lines mean a consistent effect, crossing ones noise); right, each seed's
    difference with their mean and 95% t-interval, against the zero line and the ±margin band
    the study was sized for, so the reading printed above the table can be checked by eye."""
    plt = pyplot()
    fig, (pairs, deltas) = plt.subplots(1, 2, figsize=(9.5, 4.2), layout="constrained",
                                        gridspec_kw={"width_ratios": [1, 1.3]})
    shown: list[float] = []
    for base, mine in zip(result.baseline_values, result.arm_values, strict=True):
        ys = [100 * base, 100 * mine]
        pairs.plot([0, 1], ys, marker="o", color="C0", alpha=0.6)
        shown += ys
    for y, label in seed_labels([100 * v for v in result.arm_values], result.seeds):
        pairs.annotate(label, (1, y), xytext=(4, 0), textcoords="offset points",
                       fontsize=7, va="center")
    pairs.set_xticks([0, 1], [result.baseline, result.arm])
    pairs.set_xlim(-0.3, 1.45)
    if shown:
        pairs.set_ylim(*score_limits(shown))
    pairs.axhline(100 * CHANCE, color="grey", linestyle=":", linewidth=1)
    pairs.set_ylabel(f"mean of {', '.join(result.parts)} (%)", fontsize=8)
    pairs.set_title(f"each seed, {result.backend} scoring", fontsize=10)
    pairs.grid(axis="y", alpha=0.3)

    points = [100 * d for d in result.differences]
    drawn = list(points)  # every x drawn, for a symmetric range around zero
    deltas.axvspan(-result.margin, result.margin, color="grey", alpha=0.15,
                   label=f"±{result.margin:g}: the declared margin")
    deltas.axvline(0, color="black", linewidth=0.8)
    deltas.scatter(points, range(len(points)), color="C0", alpha=0.6, label="one seed")
    interval = result.interval
    if interval is not None:
        mean = 100 * interval.mean
        xerr = None
        if interval.low is not None and interval.high is not None:
            xerr = [[mean - 100 * interval.low], [100 * interval.high - mean]]
            drawn += [100 * interval.low, 100 * interval.high]
        deltas.errorbar([mean], [len(points)], xerr=xerr, fmt="D", color="black", capsize=4,
                        label="mean, 95% t-interval")
    reach = 1.25 * max([result.margin, *(abs(x) for x in drawn)])
    deltas.set_xlim(-reach, reach)  # the band and the zero line in the middle
    deltas.set_yticks(range(len(points) + 1), [f"seed {s}" for s in result.seeds] + ["mean"])
    deltas.set_ylim(len(points) + 0.6, -0.6)
    deltas.set_xlabel(f"{result.arm} − {result.baseline} (points)")
    deltas.set_title(result.verdict, fontsize=8, wrap=True)
    deltas.grid(axis="x", alpha=0.3)
    fig.legend(*deltas.get_legend_handles_labels(), loc="outside lower right", ncol=3,
               fontsize=8, frameon=False)
    fig.suptitle(f"{summary.sweep.name}: primary endpoint (declared before any run)", fontsize=11)
    # The first endpoint keeps the name a sweep with one question has always had.
    suffix = "" if number == 1 else f"-{result.arm}-{result.backend}"
    path = out_dir / f"{summary.sweep.name}-primary{suffix}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _curve_error(summary: SweepSummary, point: CurvePoint) -> tuple[float, float]:
    """The bar below and above a mean (points): ± the seeds' sd, as the macro plot draws it;
    from one seed, its 95% Wilson interval over the pairs scored (the only spread there is)."""
    if point.sd is not None:
        return 100 * point.sd, 100 * point.sd
    (only,) = [curve[point.revision] for curve in summary.curves[point.arm].values()
               if point.revision in curve]
    interval = accuracy_interval(only)
    if interval.low is None or interval.high is None:
        return 0.0, 0.0
    return 100 * (interval.mean - interval.low), 100 * (interval.high - interval.mean)


def plot_learning_curves(summary: SweepSummary, out_dir: Path) -> Path:
    """Every arm's fast-set average at each milestone checkpoint against words seen (mean ± sd
    over seeds, each seed a faint dot; a revision only one seed reached: its binomial
    interval), on one axis: whether and where the arms part."""
    plt = pyplot()
    curves = summary.sweep.spec.learning_curves
    points = learning_curves(summary)
    fig, axis = plt.subplots(figsize=(7.5, 5), layout="constrained")
    shown: list[float] = []
    for a, arm in enumerate(summary.sweep.spec.arms):
        mine = [p for p in points if p.arm == arm]
        if not mine:
            continue
        colour = f"C{a}"
        for curve in summary.curves[arm].values():
            seeds = [100 * average_accuracy(p) for p in curve.values()]
            axis.scatter([p["words_seen"] for p in curve.values()], seeds, s=10, alpha=0.35,
                         color=colour, linewidth=0)
            shown += seeds
        means = [100 * p.mean for p in mine]
        errors = [_curve_error(summary, p) for p in mine]
        axis.errorbar([p.words_seen for p in mine], means, marker="o", color=colour, capsize=3,
                      yerr=[[below for below, _ in errors], [above for _, above in errors]],
                      label=f"{arm}: {summary.sweep.schedule(arm)} (n={len(summary.curves[arm])})")
        shown += [m + e for m, (_, e) in zip(means, errors)]
        shown += [m - e for m, (e, _) in zip(means, errors)]
    axis.axhline(100 * CHANCE, color="grey", linestyle=":", linewidth=1,
                 label=f"chance ({100 * CHANCE:.0f}%)")
    words_axis(axis)
    if points:
        axis.set_xlim(min(p.words_seen for p in points) / 1.15,
                      max(p.words_seen for p in points) * 1.15)
    if shown:
        axis.set_ylim(*score_limits(shown))
    axis.set_ylabel("fast-set average accuracy (%)")
    scope = "" if curves is None else (f"backend {curves.backend}, first {curves.max_pairs} "
                                       "pairs per subtask, ")
    single = ("; one seed: 95% Wilson interval" if any(p.sd is None for p in points) else "")
    axis.set_title(f"{summary.sweep.name}: learning curves\n({scope}mean ± sd over "
                   f"seeds{single})", fontsize=10)
    axis.grid(alpha=0.3, which="both")
    # Below the axes, not in them: inside, the legend covered the last revisions.
    fig.legend(*axis.get_legend_handles_labels(), fontsize=8, loc="outside lower center",
               ncol=2, frameon=False)
    path = out_dir / f"{summary.sweep.name}-learning-curves.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot(summary: SweepSummary, out_dir: Path) -> list[Path]:
    """Every sweep figure, written to ``out_dir`` (the forest plot and the primary endpoint once
    an arm shares a seed with the baseline, the learning curves when there are any)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [plot_dev_curves(summary, out_dir), plot_macro(summary, out_dir)]
    rows = forest_rows(summary)
    if rows:  # no arm paired with the baseline yet: no figure rather than an empty one
        paths.append(plot_forest(summary, rows, out_dir))
    paths += [plot_primary(summary, result, out_dir, number)
              for number, result in enumerate(summary.primaries(), start=1) if result.seeds]
    if learning_curves(summary):
        paths.append(plot_learning_curves(summary, out_dir))
    return paths
