"""The aggregate of a model under one suite: its parts (the zero-shot tasks, the
human-likeness measures, GLUE), read under the backend declared before scoring, and combined
as the suite's pipeline combines them.

Each zero-shot part's score is the unweighted mean of its subtasks (the zero-shot evaluator
already stores that mean per task); GLUE's is the mean over the suite's GLUE subtasks, each by
its own metric or by accuracy, as the suite says. The parts are then combined by the suite's
:attr:`~antlm.eval.suites.Suite.aggregate`: the mean of the parts (2024), the mean of the
group averages (2025: NLP and human-likeness), or not at all (2026: its scorer prints the
parts). A part that has no result is shown as missing *with the reason* (not implemented in
antlm yet, no data, not evaluated, a GLUE task's own failure), and an average over what is
there is marked partial rather than passed off as the full figure. A part scored on the first
N pairs of each subtask (a quick run) says so. GLUE scores depend heavily on how much
fine-tuning data was used, so the tables always say which ``--max-train-examples`` produced
them.

Where a part's score is read from ``results.json``: a zero-shot task's from
``"zero_shot"[SUITE]["scores"][BACKEND][TASK]["score"]`` (a task whose data was absent is in
``"zero_shot"[SUITE]["missing"][TASK]`` with its reason, see :mod:`antlm.eval.runner`); GLUE
from ``"glue"`` (:mod:`antlm.eval.finetune`); any other part (reading, WUGs, AoA) from
``results[PART]``: ``{"score": fraction, ...}``, or ``{"status": ..., "reason": ...}`` when it
could not be computed. An evaluator that writes such a section adds its part names to
:data:`OTHER_EVALUATORS`, so that a part it has not written yet reads "not evaluated" rather
than "not implemented".

The backend is the one recorded as declared when the zero-shot scores were computed (see
:mod:`antlm.eval.report`); another one is used only when asked for by name, never chosen by
comparing scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from antlm.config import ConfigError
from antlm.eval.glue import subtask_record
from antlm.eval.suites import Suite
from antlm.eval.tables import MISSING, Target, pct, render_table, strong
from antlm.eval.tasks import TASKS, score_notes
from antlm.rundir import RESULTS_FIELDS, RunDirError, present, read_json

PART_LABELS: dict[str, str] = {
    "blimp_filtered": "BLiMP (filtered)",
    "blimp_supplement": "BLiMP supplement",
    "ewok": "EWoK",
    "entity_tracking": "Entity tracking",
    "comps": "COMPS",
    "wug_adj": "WUG adjective nominalization",
    "wug_past": "WUG past tense",
    "reading_spr": "Reading (self-paced reading)",
    "reading_et": "Reading (eye tracking)",
    "aoa": "Age of acquisition",
    "glue": "GLUE",
}
# Parts written into results.json by an evaluator other than the zero-shot runner and GLUE
# fine-tuning (see the module docstring), with the command that computes each: AoA
# (antlm.eval.aoa, under results["aoa"][SUITE]) needs the run's milestone checkpoints.
OTHER_EVALUATORS: dict[str, str] = {"aoa": "antlm eval RUN --checkpoints"}
# Parts that are one score of a task that prints several (reading: eye tracking and self-paced
# reading), and the task that computes them.
PART_TASKS: dict[str, str] = {"reading_et": "reading", "reading_spr": "reading"}
NOT_IMPLEMENTED = "not implemented in antlm yet"


@dataclass
class MacroAverage:
    suite: str
    backend: str | None  # zero-shot backend the parts were read from
    backend_note: str  # why that backend: the declaration, or "asked for by name"
    parts: dict[str, float | None]  # part -> score (fraction), None when it has no result
    glue_tasks: dict[str, float | None]  # the suite's GLUE subtasks -> score, None when missing
    missing: list[str] = field(default_factory=list)  # "ewok (not evaluated)", "glue/boolq (...)"
    max_train_examples: list[int | None] = field(default_factory=list)  # as used by GLUE tasks
    quick: dict[str, int] = field(default_factory=dict)  # part -> N of "first N/subtask"
    reasons: dict[str, str] = field(default_factory=dict)  # part -> why it has no score
    aggregate: str = "mean"  # the suite's Suite.aggregate
    groups: dict[str, list[str]] = field(default_factory=dict)  # label -> its parts
    aggregate_note: str = ""

    def group_average(self, label: str) -> float | None:
        present = [v for p in self.groups[label] if (v := self.parts.get(p)) is not None]
        return float(np.mean(present)) if present else None

    @property
    def average(self) -> float | None:
        """The suite's aggregate over the parts that are there (None: no part, or a suite
        whose pipeline computes no aggregate)."""
        if self.aggregate == "none":
            return None
        if self.aggregate == "mean_of_groups":
            values = [v for g in self.groups if (v := self.group_average(g)) is not None]
        else:
            values = [v for v in self.parts.values() if v is not None]
        return float(np.mean(values)) if values else None

    @property
    def complete(self) -> bool:
        return not self.missing


def zero_shot_section(results: dict[str, Any], suite: Suite) -> dict[str, Any]:
    """The zero-shot results of one suite (empty when that suite was never evaluated)."""
    return (results.get("zero_shot") or {}).get(suite.name) or {}


def glue_status(record: dict[str, Any] | None) -> str:
    """Why a GLUE task has no score: the finetuner's reason, or that it was never run."""
    if record is None:
        return "not run"
    return f"{record.get('status', 'missing')}: {record.get('reason', 'no score')}"


def glue_value(record: dict[str, Any] | None, suite: Suite) -> tuple[str, float | None]:
    """``(metric, value)`` of one GLUE record as ``suite`` counts it."""
    if not record or "score" not in record:
        return MISSING, None
    if suite.glue_metric == "accuracy":
        return "accuracy", record.get("accuracy")
    return record["metric"], record["score"]


def part_reason(part: str, results: dict[str, Any], section: dict[str, Any]) -> str:
    """Why ``part`` has no score in these results."""
    recorded = (section.get("missing") or {}).get(part)
    if recorded:
        return recorded
    other = results.get(part)
    if isinstance(other, dict) and ("status" in other or "reason" in other):
        return f"{other.get('status', 'missing')}: {other.get('reason', 'no score')}"
    if part in OTHER_EVALUATORS:
        return f"not evaluated: run `{OTHER_EVALUATORS[part]}`"
    task = PART_TASKS.get(part, part)
    if task not in TASKS:
        return NOT_IMPLEMENTED
    return f"not evaluated: run `antlm eval --tasks {task}`"


def _other_entry(results: dict[str, Any], part: str, suite: Suite) -> Any:
    """A part's record written by another evaluator: per suite where it keeps one (AoA)."""
    entry = results.get(part)
    if part in OTHER_EVALUATORS and isinstance(entry, dict):
        return entry.get(suite.name)
    return entry


def compute_macro(
    results: dict[str, Any], suite: Suite, backend: str | None = None
) -> MacroAverage:
    """The aggregate of one ``results.json`` under ``suite``: the zero-shot parts under the
    declared backend, or under ``backend`` when it is named."""
    section = zero_shot_section(results, suite)
    scores = section.get("scores") or {}
    if backend is not None and backend not in scores:
        raise ConfigError(
            f"--backend {backend!r}: no {suite.name} zero-shot results under it; the results "
            f"have {', '.join(sorted(scores)) or 'none'}"
        )
    declared = section.get("declared_backend")
    if backend is not None:
        chosen, note = backend, f"asked for by name; the declared one is {declared}"
    elif declared is not None:
        chosen, note = declared, f"declared by {section['declared_by']}"
    else:
        chosen, note = None, f"no {suite.name} zero-shot results"
    tasks = scores.get(chosen, {}) if chosen else {}
    parts: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    missing: list[str] = []
    glue = results.get("glue") or {}
    records = {name: subtask_record(glue, name) for name in suite.glue}
    glue_tasks = {name: glue_value(r, suite)[1] for name, r in records.items()}
    for part in suite.parts:
        if part == "glue":
            present = [v for v in glue_tasks.values() if v is not None]
            parts[part] = float(np.mean(present)) if present else None
            if all(r is None for r in records.values()):
                reasons[part] = "not run"
                missing.append("glue (not run)")
            else:
                missing += [f"glue/{name} ({glue_status(records[name])})"
                            for name, v in glue_tasks.items() if v is None]
            continue
        entry = tasks.get(part) or _other_entry(results, part, suite)
        parts[part] = entry["score"] if isinstance(entry, dict) and "score" in entry else None
        if parts[part] is None:
            reasons[part] = part_reason(part, results, section)
            missing.append(f"{part} ({reasons[part]})")
    quick = {part: tasks[part]["max_pairs_per_subtask"] for part in suite.zero_shot_parts
             if (tasks.get(part) or {}).get("max_pairs_per_subtask") is not None}
    used = sorted(
        {r.get("max_train_examples") for r in glue.values() if "score" in r},
        key=lambda v: (v is None, v or 0),
    )
    return MacroAverage(suite.name, chosen, note, parts, glue_tasks, missing, used, quick,
                        reasons, suite.aggregate, {g: list(ps) for g, ps in suite.groups},
                        suite.aggregate_note)


def describe_train_limit(limits: list[int | None]) -> str:
    if not limits:
        return "no GLUE task fine-tuned"
    text = ", ".join("full train set" if v is None else f"--max-train-examples {v}" for v in limits)
    return f"GLUE fine-tuned with {text}"


def render_glue_table(glue: dict[str, Any], suite: Suite, target: Target = "markdown") -> str:
    """One row per GLUE subtask of the suite (missing ones say why), then any other task that
    was run, marked as outside the suite."""
    names = [*suite.glue, *sorted(n for n in glue if n not in suite.glue)]
    rows = []
    for name in names:
        record = subtask_record(glue, name)
        label = name if name in suite.glue else f"{name} (not in {suite.name})"
        if record is None or "score" not in record:
            rows.append([label, MISSING, glue_status(record), MISSING, MISSING, MISSING])
            continue
        limit = record.get("max_train_examples")
        model = f" ({record['trained_as']} model)" if "trained_as" in record else ""
        metric, value = glue_value(record, suite)
        rows.append([
            label, metric, pct(value),
            f"{record['best_epoch']}/{record['epochs_run']}",
            f"{record['n_train']}" + (f" (max {limit})" if limit is not None else "") + model,
            str(record["n_eval"]),
        ])
    header = ["task", "metric", "score", "best/run epochs", "train examples", "eval examples"]
    return render_table(header, rows, target)


def _part_value(part: str, value: float | None) -> str:
    """A part's score as the official scorer prints it: AoA's Pearson r as it is
    (``calculate_results_from_pred.py``), every other part as a percentage."""
    return f"{value:.2f}" if part == "aoa" and value is not None else pct(value)


def _part_note(macro: MacroAverage, part: str, value: float | None) -> str:
    if value is None:
        return f"missing ({macro.reasons.get(part, 'no result')})"
    if part == "aoa":
        return "Pearson's r, not a percentage"
    n_glue = sum(v is not None for v in macro.glue_tasks.values())
    if part == "glue" and n_glue < len(macro.glue_tasks):
        return f"partial: {n_glue} of {len(macro.glue_tasks)} subtasks"
    if part in macro.quick:
        return f"first {macro.quick[part]} pairs/subtask"
    return ""


def aggregate_label(suite: str) -> str:
    """The name of a suite's aggregate in every table: it always says whose it is."""
    return f"Macro-average ({suite})"


def _aggregate_rows(macro: MacroAverage, target: Target) -> list[list[str]]:
    """The group averages (if the suite has groups) and the aggregate, or the line saying
    that the suite's pipeline computes none."""
    label = strong(aggregate_label(macro.suite), target)
    if macro.aggregate == "none":
        return [[label, MISSING, f"none: {macro.aggregate_note}"]]
    # the reasons are in the parts' rows: the aggregate's note names what it lacks
    lacking = [entry.split(" (")[0] for entry in macro.missing]
    overall = "" if macro.complete else "partial: missing " + ", ".join(lacking)
    rows = []
    for group, parts in macro.groups.items():
        absent = [p for p in parts if macro.parts.get(p) is None]
        note = ("" if not absent else "missing: none of its parts" if len(absent) == len(parts)
                else f"partial: mean of {len(parts) - len(absent)} of {len(parts)} parts")
        rows.append([f"{group} average", pct(macro.group_average(group)), note])
    return [*rows, [label, pct(macro.average), overall]]


def render_macro(
    macro: MacroAverage, glue: dict[str, Any] | None = None, suite: Suite | None = None,
    target: Target = "markdown",
) -> str:
    """The headline table: every part of one suite under one backend (a missing part says
    why), the group averages and the aggregate (and, given a ``"glue"`` section with any
    record and the suite, its per-subtask GLUE table)."""
    rows = [[PART_LABELS.get(p, p), _part_value(p, v), _part_note(macro, p, v)]
            for p, v in macro.parts.items()]
    rows += _aggregate_rows(macro, target)
    title = (
        strong(f"Headline: suite {macro.suite}, zero-shot backend {macro.backend or 'none'}",
               target) + " "
        f"({macro.backend_note}; {describe_train_limit(macro.max_train_examples)})"
    )
    out = [title, "", render_table(["part", "score", "note"], rows, target)]
    if glue and suite is not None:
        out += ["", render_glue_table(glue, suite, target)]
    return "\n".join(out)


def read_results(directory: str | Path) -> dict[str, Any]:
    """A run's (or an evaluated model folder's) ``results.json``."""
    path = Path(directory) / "results.json"
    if not present(path):
        raise RunDirError(f"{directory}: no results.json; run `antlm eval {directory}` first")
    return read_json(path, RESULTS_FIELDS)


def report_macro(
    directory: str | Path, suite: Suite, backend: str | None = None,
    target: Target = "markdown",
) -> str:
    """``antlm macro DIR``: the macro-average table of one results directory."""
    results = read_results(directory)
    glue = results.get("glue") or {}
    macro = compute_macro(results, suite, backend)
    shown = [part for part, value in macro.parts.items() if value is not None]
    return "\n\n".join([render_macro(macro, glue, suite, target), *score_notes(shown)])
