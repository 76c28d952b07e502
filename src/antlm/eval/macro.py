"""The BabyLM macro-average of a model under one suite: its zero-shot parts (BLiMP filtered,
BLiMP supplement, EWoK) and GLUE, read under the backend declared before scoring.

Each part's score is the unweighted mean of its subtasks (the zero-shot evaluator already stores
that mean per task; GLUE's is the mean over the suite's GLUE subtasks), and the macro-average is
the unweighted mean of the parts, as both BabyLM pipelines' READMEs define it. A part or GLUE
subtask that has no result is named, and the average over what is there is marked partial
rather than passed off as the full figure. A part scored on the first N pairs of each subtask
(a quick run) says so. GLUE scores depend heavily on how much fine-tuning data was used, so the
tables always say which ``--max-train-examples`` produced them.

The backend is the one recorded as declared when the zero-shot scores were computed (see
:mod:`antlm.eval.report`); another one is used only when asked for by name, never chosen by
comparing scores. Inputs are ``results.json`` dicts: ``"zero_shot"`` as written by
:mod:`antlm.eval.report` and ``"glue"`` as written by :mod:`antlm.eval.finetune`.
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
from antlm.eval.tasks import score_notes
from antlm.rundir import RESULTS_FIELDS, RunDirError, present, read_json

PART_LABELS: dict[str, str] = {
    "blimp_filtered": "BLiMP (filtered)",
    "blimp_supplement": "BLiMP supplement",
    "ewok": "EWoK",
    "glue": "GLUE",
}


@dataclass
class MacroAverage:
    suite: str
    backend: str | None  # zero-shot backend the parts were read from
    backend_note: str  # why that backend: the declaration, or "asked for by name"
    parts: dict[str, float | None]  # part -> score (fraction), None when it has no result
    glue_tasks: dict[str, float | None]  # the suite's GLUE subtasks -> score, None when missing
    missing: list[str] = field(default_factory=list)  # "ewok", "glue/boolq (missing: ...)"
    max_train_examples: list[int | None] = field(default_factory=list)  # as used by GLUE tasks
    quick: dict[str, int] = field(default_factory=dict)  # part -> N of "first N/subtask"

    @property
    def average(self) -> float | None:
        present = [v for v in self.parts.values() if v is not None]
        return float(np.mean(present)) if present else None

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


def compute_macro(
    results: dict[str, Any], suite: Suite, backend: str | None = None
) -> MacroAverage:
    """The macro-average of one ``results.json`` under ``suite``: the zero-shot parts under
    the declared backend, or under ``backend`` when it is named."""
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
    parts: dict[str, float | None] = {
        part: tasks[part]["score"] if "score" in tasks.get(part, {}) else None
        for part in suite.zero_shot_parts
    }
    missing = [part for part, value in parts.items() if value is None]
    quick = {part: tasks[part]["max_pairs_per_subtask"] for part in suite.zero_shot_parts
             if (tasks.get(part) or {}).get("max_pairs_per_subtask") is not None}

    glue = results.get("glue") or {}
    records = {name: subtask_record(glue, name) for name in suite.glue}
    glue_tasks = {name: r.get("score") if r else None for name, r in records.items()}
    present = [v for v in glue_tasks.values() if v is not None]
    parts["glue"] = float(np.mean(present)) if present else None
    if all(r is None for r in records.values()):
        missing.append("glue (not run)")
    else:
        missing += [f"glue/{name} ({glue_status(records[name])})"
                    for name, v in glue_tasks.items() if v is None]
    used = sorted(
        {r.get("max_train_examples") for r in glue.values() if "score" in r},
        key=lambda v: (v is None, v or 0),
    )
    return MacroAverage(suite.name, chosen, note, parts, glue_tasks, missing, used, quick)


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
        rows.append([
            label, record["metric"], pct(record["score"]),
            f"{record['best_epoch']}/{record['epochs_run']}",
            f"{record['n_train']}" + (f" (max {limit})" if limit is not None else "") + model,
            str(record["n_eval"]),
        ])
    header = ["task", "metric", "score", "best/run epochs", "train examples", "eval examples"]
    return render_table(header, rows, target)


def _part_note(macro: MacroAverage, part: str, value: float | None) -> str:
    if value is None:
        return "missing"
    n_glue = sum(v is not None for v in macro.glue_tasks.values())
    if part == "glue" and n_glue < len(macro.glue_tasks):
        return f"partial: {n_glue} of {len(macro.glue_tasks)} subtasks"
    if part in macro.quick:
        return f"first {macro.quick[part]} pairs/subtask"
    return ""


def render_macro(
    macro: MacroAverage, glue: dict[str, Any] | None = None, suite: Suite | None = None,
    target: Target = "markdown",
) -> str:
    """The headline table: the macro-average under one suite and backend (and, given a
    ``"glue"`` section with any record and the suite, its per-subtask GLUE table)."""
    rows = [[PART_LABELS[p], pct(v), _part_note(macro, p, v)] for p, v in macro.parts.items()]
    overall = "" if macro.complete else "partial: missing " + ", ".join(macro.missing)
    rows.append([strong("Macro-average", target), pct(macro.average), overall])
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
