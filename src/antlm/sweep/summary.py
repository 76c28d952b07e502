"""Summarise a sweep: mean ± sd per arm, paired differences to the baseline, plots.

Seeds are paired across arms (seed s of every arm sees the same initialisation seed and data
order), so the difference to the baseline is computed per seed and its 95% interval is the
t-interval of those paired differences. With one seed there is no interval, and the table says
so rather than printing a misleading ±0.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scipy import stats

from antlm.eval.scoring import BACKENDS
from antlm.eval.suites import Suite, get_suite
from antlm.plots import OBJECTIVE_COLOURS, phase_handles, pyplot, tint_phases
from antlm.rundir import RunPaths, read_json, read_metrics
from antlm.schedule import parse_schedule
from antlm.sweep.spec import Sweep

PARTS = ("blimp_filtered", "blimp_supplement", "ewok", "glue")
OBJECTIVES = ("CLM", "MLM")  # the objectives whose dev loss a run records


def run_scores(results: dict[str, Any], suite: Suite) -> dict[str, dict[str, float | None]]:
    """``{backend: {part: score or None, "macro": ...}}`` for one run's results.json under
    ``suite``: every backend scored, each named (a study compares arms backend by backend).

    GLUE does not depend on the zero-shot backend; it joins every backend's macro-average."""
    from antlm.eval.macro import compute_macro, zero_shot_section

    scores: dict[str, dict[str, float | None]] = {}
    for backend in zero_shot_section(results, suite).get("scores", {}):
        macro = compute_macro(results, suite, backend)
        scores[backend] = {**{part: macro.parts.get(part) for part in PARTS},
                           "macro": macro.average}
    return scores


@dataclass
class Interval:
    mean: float
    low: float | None
    high: float | None

    def format(self, scale: float = 100.0) -> str:
        if self.low is None or self.high is None:
            return f"{self.mean * scale:+.2f} (n/a)"
        return f"{self.mean * scale:+.2f} [{self.low * scale:+.2f}, {self.high * scale:+.2f}]"


def mean_sd(values: list[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def paired_interval(differences: list[float], confidence: float = 0.95) -> Interval:
    mean = statistics.fmean(differences)
    if len(differences) < 2:
        return Interval(mean, None, None)
    half = stats.t.ppf(0.5 + confidence / 2, len(differences) - 1) * (
        statistics.stdev(differences) / math.sqrt(len(differences))
    )
    return Interval(mean, mean - half, mean + half)


@dataclass
class SweepSummary:
    sweep: Sweep
    # scores[arm][seed][backend][part]
    scores: dict[str, dict[int, dict[str, dict[str, float | None]]]] = field(default_factory=dict)
    # dev[arm][seed]: the run's dev-loss records in order ("start" is the untrained model), read
    # once here for the tables, the JSON and the plot alike.
    dev: dict[str, dict[int, list[dict[str, Any]]]] = field(default_factory=dict)

    @property
    def backends(self) -> list[str]:
        found = {b for seeds in self.scores.values() for runs in seeds.values() for b in runs}
        return [b for b in BACKENDS if b in found] + sorted(found - set(BACKENDS))

    def values(self, arm: str, backend: str, part: str) -> dict[int, float]:
        return {
            seed: row[backend][part]
            for seed, row in self.scores.get(arm, {}).items()
            if backend in row and row[backend].get(part) is not None
        }

    def delta(self, arm: str, backend: str, part: str) -> Interval | None:
        base = self.values(self.sweep.spec.baseline, backend, part)
        mine = self.values(arm, backend, part)
        seeds = sorted(set(base) & set(mine))
        if not seeds:
            return None
        return paired_interval([mine[s] - base[s] for s in seeds])

    def to_json(self) -> dict[str, Any]:
        table = {}
        for arm in self.sweep.spec.arms:
            table[arm] = {}
            for backend in self.backends:
                entry = {}
                for part in (*PARTS, "macro"):
                    per_seed = self.values(arm, backend, part)
                    if not per_seed:
                        entry[part] = None
                        continue
                    mean, sd = mean_sd(list(per_seed.values()))
                    delta = self.delta(arm, backend, part)
                    entry[part] = {
                        "mean": mean, "sd": sd, "n": len(per_seed),
                        "delta": None if delta is None else delta.__dict__,
                        "per_seed": {str(seed): value for seed, value in per_seed.items()},
                    }
                table[arm][backend] = entry
        return {"sweep": self.sweep.name, "baseline": self.sweep.spec.baseline,
                "seeds": self.sweep.spec.seeds, "arms": {
                    arm: {"overrides": self.sweep.spec.arms[arm],
                          "epochs": self.sweep.total_epochs()[arm]} for arm in self.sweep.spec.arms},
                "evaluation": self.sweep.spec.evaluation.model_dump(), "table": table,
                "final_dev_loss": final_dev_losses(self), "dev_curves": dev_curves(self),
                "dev_curves_x": dev_axis(self)}


def collect(sweep: Sweep, root: Path) -> SweepSummary:
    summary = SweepSummary(sweep)
    suite = get_suite(sweep.spec.evaluation.suite)
    for arm in sweep.spec.arms:
        for seed in sweep.spec.seeds:
            results = read_json(RunPaths(sweep.run_dir(root, arm, seed)).results)
            if sweep.is_evaluated(results):
                summary.scores.setdefault(arm, {})[seed] = run_scores(results, suite)
                records = read_metrics(RunPaths(sweep.run_dir(root, arm, seed)))
                summary.dev.setdefault(arm, {})[seed] = [
                    r for r in records if r["event"] in ("dev", "start")]
    return summary


def _cell(values: list[float], scale: float = 100.0) -> str:
    if not values:
        return "–"
    mean, sd = mean_sd(values)
    return f"{mean * scale:.2f}" + (f" ± {sd * scale:.2f}" if sd is not None else "")


def _delta_text(summary: SweepSummary, arm: str, backend: str) -> str:
    if arm == summary.sweep.spec.baseline:
        return "baseline"
    delta = summary.delta(arm, backend, "macro")
    return delta.format() if delta else "–"


def _headline(summary: SweepSummary) -> list[str]:
    """The macro-average under every backend side by side: the table a reader wants first,
    because an alternated model can rank differently under causal and MLM scoring."""
    spec = summary.sweep.spec
    header = ["arm", "schedule", "seeds"]
    for backend in summary.backends:
        header += [f"macro, {backend}", f"Δ {backend}"]
    lines = ["### Macro-average under every backend", "", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    for arm in spec.arms:
        schedule = summary.sweep.schedule(arm)
        seeds = max((len(summary.values(arm, b, "macro")) for b in summary.backends), default=0)
        cells = [arm, f"`{schedule}`", str(seeds)]
        for backend in summary.backends:
            cells += [_cell(list(summary.values(arm, backend, "macro").values())),
                      _delta_text(summary, arm, backend)]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _final_dev_loss_table(summary: SweepSummary) -> list[str]:
    """Dev loss after the last epoch: at CPU scale the objectives' effects show here long
    before they show in the BabyLM scores, and with a far smaller spread over seeds."""
    spec = summary.sweep.spec
    final = final_dev_losses(summary)
    lines = ["### Dev loss after the last epoch (nats, mean ± sd over seeds)", "",
             "| arm | schedule | seeds | dev CLM | dev MLM |", "|---|---|---|---|---|"]
    for arm in spec.arms:
        schedule = summary.sweep.schedule(arm)
        losses = final.get(arm, {})
        seeds = max((len(v) for v in losses.values()), default=0)
        lines.append(f"| {arm} | `{schedule}` | {seeds} | "
                     + " | ".join(_cell(losses.get(o, []), scale=1.0) for o in OBJECTIVES) + " |")
    return [*lines, ""]


def render_markdown(summary: SweepSummary) -> str:
    spec = summary.sweep.spec
    epochs = summary.sweep.total_epochs()
    lines = [f"## Sweep `{spec.name}`", ""]
    evaluation = spec.evaluation
    glue = (f"GLUE: {', '.join(evaluation.glue_tasks)} fine-tuned on at most "
            f"{evaluation.glue_max_train_examples} examples, {evaluation.glue_epochs} epochs"
            if evaluation.glue_tasks else "GLUE: not run (macro-average over the zero-shot parts)")
    pairs = f"{evaluation.max_pairs} pairs per subtask" if evaluation.max_pairs else "all pairs"
    lines += [(f"Scores in %, mean ± sd over seeds {spec.seeds}; Δ = paired difference to "
               f"`{spec.baseline}` with its 95% t-interval over seeds. Suite "
               f"{evaluation.suite}; zero-shot: {pairs}. "
               f"{glue}."), ""]
    lines += _headline(summary)
    lines += _final_dev_loss_table(summary)
    for backend in summary.backends:
        lines += [f"### Backend `{backend}`", "",
                  "| arm | schedule | epochs | seeds | BLiMP-f | supplement | EWoK | GLUE | macro | Δ macro |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for arm in spec.arms:
            schedule = summary.sweep.schedule(arm)
            cells = [_cell(list(summary.values(arm, backend, p).values())) for p in (*PARTS, "macro")]
            n = len(summary.values(arm, backend, "macro"))
            lines.append(f"| {arm} | `{schedule}` | {epochs[arm]:g} | {n} | " + " | ".join(cells)
                         + f" | {_delta_text(summary, arm, backend)} |")
        lines.append("")
    return "\n".join(lines)


def final_dev_losses(summary: SweepSummary) -> dict[str, dict[str, list[float]]]:
    """``{arm: {objective: [last dev loss of each evaluated seed]}}``."""
    final: dict[str, dict[str, list[float]]] = {}
    for arm in summary.sweep.spec.arms:
        for records in summary.dev.get(arm, {}).values():
            for objective in OBJECTIVES:
                value = records[-1].get(f"dev_loss_{objective}") if records else None
                if value is not None:
                    final.setdefault(arm, {}).setdefault(objective, []).append(value)
    return final


def dev_axis(summary: SweepSummary) -> str:
    """What the dev curves are plotted against: ``words_seen`` (the challenge's unit, which
    compares schedules of different lengths fairly) when every record has it, else ``epoch``
    (runs trained before words seen were counted)."""
    records = [r for seeds in summary.dev.values() for run in seeds.values() for r in run]
    return "words_seen" if all("words_seen" in r for r in records) else "epoch"


def dev_curves(summary: SweepSummary) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Mean dev loss per objective over words seen (or epochs, see :func:`dev_axis`), per arm
    (seeds averaged at equal positions).

    Only evaluated runs count, so the curves describe the same runs as the score tables (a run
    still training would otherwise pull a partial curve into the mean).
    """
    axis = dev_axis(summary)
    curves: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for arm in summary.sweep.spec.arms:
        points: dict[str, dict[float, list[float]]] = {o: {} for o in OBJECTIVES}
        for records in summary.dev.get(arm, {}).values():
            for record in records:
                position = round(record.get(axis, 0.0), 3)
                for objective, per_position in points.items():
                    value = record.get(f"dev_loss_{objective}")
                    if value is not None:
                        per_position.setdefault(position, []).append(value)
        curves[arm] = {obj: sorted((e, statistics.fmean(v)) for e, v in pts.items())
                       for obj, pts in points.items()}
    return curves


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


def write_summary(summary: SweepSummary, out_dir: Path) -> list[Path]:
    """summary.json, summary.md and the plots: small files meant to be committed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{summary.sweep.name}.json"
    json_path.write_text(json.dumps(summary.to_json(), indent=2))
    md_path = out_dir / f"{summary.sweep.name}.md"
    md_path.write_text(render_markdown(summary) + "\n")
    return [json_path, md_path, *plot(summary, out_dir)]
