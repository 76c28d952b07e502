"""What a sweep produced, read once from its run directories: every evaluated run's scores per
backend and part, and its dev-loss records, with the derived figures (paired differences to the
baseline, final dev losses, mean dev curves) that the Markdown, the JSON and the plots share.

Statistics live in :mod:`antlm.sweep.stats`, text in :mod:`antlm.sweep.markdown`, figures in
:mod:`antlm.sweep.plots`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from antlm.eval.curves import average_accuracy, curve_settings
from antlm.eval.scoring import BACKENDS
from antlm.eval.suites import Suite, get_suite
from antlm.rundir import (
    CURVE_FIELDS,
    MetricRecord,
    RunPaths,
    dev_loss_records,
    read_json,
    read_results,
)
from antlm.sweep.spec import DECLARED, Sweep, SweepComparison, SweepPrimary
from antlm.sweep.stats import Interval, mean_sd, paired_interval, seed_rule, verdict

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
class SweepSummary:
    sweep: Sweep
    # scores[arm][seed][backend][part]
    scores: dict[str, dict[int, dict[str, dict[str, float | None]]]] = field(default_factory=dict)
    # dev[arm][seed]: the run's dev-loss records in order ("start" is the untrained model), read
    # once here for the tables, the JSON and the plot alike.
    dev: dict[str, dict[int, list[MetricRecord]]] = field(default_factory=dict)
    # curves[arm][seed]: the run's learning-curve points by revision (``chck_1M``, ..., ``main``),
    # when the sweep asks for curves and the run's were scored under the sweep's settings.
    curves: dict[str, dict[int, dict[str, dict[str, Any]]]] = field(default_factory=dict)

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

    def paired_differences(self, arm: str, backend: str, part: str) -> list[float]:
        """``arm`` minus the baseline, seed by seed, over the seeds both have evaluated."""
        base = self.values(self.sweep.spec.baseline, backend, part)
        mine = self.values(arm, backend, part)
        return [mine[s] - base[s] for s in sorted(set(base) & set(mine))]

    def delta(self, arm: str, backend: str, part: str) -> Interval | None:
        """The paired difference to the baseline with its interval; None without a shared seed."""
        differences = self.paired_differences(arm, backend, part)
        return paired_interval(differences) if differences else None

    def endpoint_values(self, arm: str, comparison: SweepComparison) -> dict[int, float]:
        """Each evaluated seed's value of ``comparison``'s endpoint for ``arm``: the mean of its
        parts under its backend (or the arm's declared one); a seed lacking a part has no value
        rather than a mean of fewer."""
        backend = comparison.backend
        if backend == DECLARED:
            backend = self.sweep.declared_backend(arm)
        parts = [self.values(arm, backend, part) for part in comparison.parts]
        seeds = set.intersection(*(set(p) for p in parts))
        return {seed: statistics.fmean(p[seed] for p in parts) for seed in sorted(seeds)}

    def compare(self, comparison: SweepComparison) -> ComparisonResult:
        """One declared comparison, over the seeds both of its arms have evaluated."""
        baseline = comparison.baseline or self.sweep.spec.baseline
        base = self.endpoint_values(baseline, comparison)
        mine = self.endpoint_values(comparison.arm, comparison)
        seeds = sorted(set(base) & set(mine))
        paired = ([base[s] for s in seeds], [mine[s] for s in seeds])
        if isinstance(comparison, SweepPrimary):
            return PrimaryResult(comparison.arm, baseline, comparison.backend,
                                 list(comparison.parts), seeds, *paired, comparison.margin,
                                 comparison.max_seeds)
        return ComparisonResult(comparison.arm, baseline, comparison.backend,
                                list(comparison.parts), seeds, *paired)

    def primaries(self) -> list[PrimaryResult]:
        """The declared endpoints' paired comparisons, in the sweep file's order."""
        return [self.compare(primary) for primary in self.sweep.spec.primary]

    def secondaries(self) -> list[ComparisonResult]:
        return [self.compare(comparison) for comparison in self.sweep.spec.secondary]

    def interim(self) -> str | None:
        """Why the declared endpoints are not complete yet (planned seeds without both arms'
        value), or None when they are, or when the sweep declares none."""
        reasons = []
        for result in self.primaries():
            missing = [seed for seed in self.sweep.spec.seeds if seed not in result.seeds]
            if missing:
                reasons.append(
                    f"{len(result.seeds)} of the {len(self.sweep.spec.seeds)} planned seeds of "
                    f"{result.arm} and {result.baseline} are evaluated (missing: seeds "
                    f"{', '.join(map(str, missing))})")
        return "; ".join(reasons) or None

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
                "dev_curves_x": dev_axis(self),
                "learning_curves": [point.__dict__ for point in learning_curves(self)],
                "primary": [result.to_json() for result in self.primaries()],
                "secondary": [result.to_json() for result in self.secondaries()]}


@dataclass(frozen=True)
class ComparisonResult:
    """A paired comparison over the seeds both arms have evaluated (differences in fractions)."""

    arm: str
    baseline: str
    backend: str  # one backend, or ``declared``: each arm under its own
    parts: list[str]
    seeds: list[int]
    baseline_values: list[float]  # per paired seed, in ``seeds`` order
    arm_values: list[float]

    @property
    def differences(self) -> list[float]:
        return [mine - base for base, mine in zip(self.baseline_values, self.arm_values,
                                                  strict=True)]

    @property
    def interval(self) -> Interval | None:
        """The paired t-interval; None before any seed is paired."""
        differences = self.differences
        return paired_interval(differences) if differences else None

    def to_json(self) -> dict[str, Any]:
        interval = self.interval
        return {"arm": self.arm, "baseline": self.baseline, "backend": self.backend,
                "parts": self.parts, "seeds": self.seeds, "differences": self.differences,
                "delta": None if interval is None else interval.__dict__}


@dataclass(frozen=True)
class PrimaryResult(ComparisonResult):
    """A declared endpoint: the answer to one of the study's questions, read by its margin (in
    points) and its seed rule."""

    margin: float
    max_seeds: int | None

    @property
    def verdict(self) -> str:
        return verdict(self.interval, self.margin, self.arm, self.baseline)

    @property
    def seed_rule(self) -> str:
        return seed_rule(self.interval, self.seeds, self.margin, self.max_seeds)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "margin_points": self.margin, "verdict": self.verdict,
                "seed_rule": self.seed_rule}


def collect(sweep: Sweep, root: Path) -> SweepSummary:
    summary = SweepSummary(sweep)
    suite = get_suite(sweep.spec.evaluation.suite)
    wanted_curve = curve_settings_of(sweep)
    for arm in sweep.spec.arms:
        for seed in sweep.spec.seeds:
            paths = RunPaths(sweep.run_dir(root, arm, seed))
            results = read_results(paths)
            if not sweep.is_evaluated(results):
                continue
            summary.scores.setdefault(arm, {})[seed] = run_scores(results, suite)
            summary.dev.setdefault(arm, {})[seed] = dev_loss_records(paths)
            curve = read_json(paths.learning_curve, CURVE_FIELDS)
            if wanted_curve is not None and curve.get("settings") == wanted_curve:
                summary.curves.setdefault(arm, {})[seed] = curve["points"]
    return summary


def curve_settings_of(sweep: Sweep) -> dict[str, Any] | None:
    """The settings the sweep's learning curves are scored under; None when it asks for none."""
    curves = sweep.spec.learning_curves
    if curves is None:
        return None
    return curve_settings(sweep.spec.evaluation.suite, curves.backend, curves.tasks,
                          max_pairs_per_subtask=curves.max_pairs)


@dataclass(frozen=True)
class CurvePoint:
    """One revision of one arm's learning curve, over the seeds that reached it."""

    arm: str
    revision: str  # chck_1M, ..., main (the final weights)
    words_seen: float  # mean over seeds (runs of one arm see the same words, to a batch)
    mean: float  # of the fast sets' average accuracy
    sd: float | None
    n: int


def learning_curves(summary: SweepSummary) -> list[CurvePoint]:
    """Each arm's learning curve, seeds averaged revision by revision, in order of words seen."""
    points = []
    for arm, per_seed in summary.curves.items():
        revisions: dict[str, list[dict[str, Any]]] = {}
        for curve in per_seed.values():
            for name, point in curve.items():
                revisions.setdefault(name, []).append(point)
        for name, seen in revisions.items():
            mean, sd = mean_sd([average_accuracy(p) for p in seen])
            words = statistics.fmean(p["words_seen"] for p in seen)
            points.append(CurvePoint(arm, name, words, mean, sd, len(seen)))
    return sorted(points, key=lambda p: (list(summary.sweep.spec.arms).index(p.arm),
                                         p.words_seen))


def final_dev_losses(summary: SweepSummary) -> dict[str, dict[str, list[float]]]:
    """``{arm: {objective: [last dev loss of each evaluated seed]}}``."""
    final: dict[str, dict[str, list[float]]] = {}
    for arm in summary.sweep.spec.arms:
        for records in summary.dev.get(arm, {}).values():
            for objective in OBJECTIVES:
                value = records[-1].dev_losses.get(objective) if records else None
                if value is not None:
                    final.setdefault(arm, {}).setdefault(objective, []).append(value)
    return final


def dev_axis(summary: SweepSummary) -> str:
    """What the dev curves are plotted against: ``words_seen`` (the challenge's unit, which
    compares schedules of different lengths fairly) when every record has it, else ``epoch``
    (runs trained before words seen were counted)."""
    records = [r for seeds in summary.dev.values() for run in seeds.values() for r in run]
    return "words_seen" if all(r.words_seen is not None for r in records) else "epoch"


def dev_curves(summary: SweepSummary) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Mean dev loss per objective over words seen (or epochs, see :func:`dev_axis`), per arm
    (seeds averaged at equal steps, their positions too).

    Only evaluated runs count, so the curves describe the same runs as the score tables (a run
    still training would otherwise pull a partial curve into the mean).
    """
    axis = dev_axis(summary)
    curves: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for arm in summary.sweep.spec.arms:
        # By step, the same in every seed of an arm: the seeds' words seen differ by a few
        # words at equal steps, so grouping by position averaged nothing.
        points: dict[str, dict[int, list[tuple[float, float]]]] = {o: {} for o in OBJECTIVES}
        for records in summary.dev.get(arm, {}).values():
            for record in records:
                for objective, per_step in points.items():
                    value = record.dev_losses.get(objective)
                    if value is not None:
                        position = record.words_seen if axis == "words_seen" else record.epoch
                        per_step.setdefault(record.step, []).append((position or 0.0, value))
        curves[arm] = {obj: [(statistics.fmean(x for x, _ in seen),
                              statistics.fmean(v for _, v in seen))
                             for _, seen in sorted(pts.items())]
                       for obj, pts in points.items()}
    return curves
