"""The BabyLM macro-average of a run: BLiMP (filtered), BLiMP supplement, EWoK and GLUE.

Each part's score is the unweighted mean of its subtasks (the zero-shot evaluator already
stores that mean per task; GLUE's is the mean over the BabyLM 2024 task subset), and the
macro-average is the unweighted mean of the parts. A part or GLUE task that has no result is
named, and the average over what is there is marked partial rather than passed off as the
full figure. GLUE scores depend heavily on how much fine-tuning data was used, so the tables
always say which ``--max-train-examples`` produced them.

Inputs are ``results.json`` dicts: ``"zero_shot"`` as written by :mod:`antlm.eval.report` and
``"glue"`` as written by :mod:`antlm.eval.finetune`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from antlm.eval.glue import BABYLM_2024_GLUE
from antlm.rundir import RunPaths, read_config, read_json

ZERO_SHOT_PARTS: dict[str, str] = {
    "blimp_filtered": "BLiMP (filtered)",
    "blimp_supplement": "BLiMP supplement",
    "ewok": "EWoK",
}
PART_LABELS: dict[str, str] = {**ZERO_SHOT_PARTS, "glue": "GLUE"}


@dataclass
class MacroAverage:
    backend: str | None  # zero-shot backend the parts were read from
    parts: dict[str, float | None]  # part -> score (fraction), None when it has no result
    glue_tasks: dict[str, float | None]  # BabyLM 2024 GLUE task -> score, None when missing
    missing: list[str] = field(default_factory=list)  # "ewok", "glue/boolq (no train file)"
    max_train_examples: list[int | None] = field(default_factory=list)  # as used by GLUE tasks

    @property
    def average(self) -> float | None:
        present = [v for v in self.parts.values() if v is not None]
        return float(np.mean(present)) if present else None

    @property
    def complete(self) -> bool:
        return not self.missing


def _zero_shot_scores(zero_shot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``backend -> task -> {"score": ...}``. :mod:`antlm.eval.report` nests it under
    ``"scores"``; a bare backend mapping is accepted too, as the issue first specified it."""
    return zero_shot.get("scores", zero_shot) if zero_shot else {}


def _pick_backend(scores: dict[str, dict[str, Any]], preferred: str | None) -> str | None:
    """The highest mean over the zero-shot parts, counting parts a backend lacks as 0, so a
    backend that ran only the easiest task cannot win."""
    if not scores:
        return None

    def mean(backend: str) -> float:
        tasks = scores[backend]
        return float(np.mean([tasks.get(t, {}).get("score", 0.0) for t in ZERO_SHOT_PARTS]))

    return preferred if preferred in scores else max(sorted(scores), key=mean)


def glue_status(record: dict[str, Any] | None) -> str:
    """Why a GLUE task has no score: the finetuner's reason, or that it was never run."""
    if record is None:
        return "not run"
    return f"{record.get('status', 'missing')}: {record.get('reason', 'no score')}"


def compute_macro(results: dict[str, Any], backend: str | None = None) -> MacroAverage:
    """The macro-average of one run's ``results.json``. ``backend`` picks the zero-shot
    backend; by default the one the evaluator marked best, else the best mean score."""
    zero_shot = results.get("zero_shot") or {}
    scores = _zero_shot_scores(zero_shot)
    if backend is not None and backend not in scores:
        raise ValueError(f"no zero-shot results for backend {backend!r}; have {sorted(scores)}")
    chosen = _pick_backend(scores, backend or zero_shot.get("best_backend"))
    tasks = scores.get(chosen, {}) if chosen else {}
    parts: dict[str, float | None] = {
        part: tasks[part]["score"] if "score" in tasks.get(part, {}) else None
        for part in ZERO_SHOT_PARTS
    }
    missing = [part for part, value in parts.items() if value is None]

    glue = results.get("glue") or {}
    glue_tasks: dict[str, float | None] = {}
    for name in BABYLM_2024_GLUE:
        record = glue.get(name)
        glue_tasks[name] = record.get("score") if record else None
        if glue_tasks[name] is None:
            missing.append(f"glue/{name} ({glue_status(record)})")
    present = [v for v in glue_tasks.values() if v is not None]
    parts["glue"] = float(np.mean(present)) if present else None
    if not present:
        missing.append("glue")
    used = sorted(
        {r.get("max_train_examples") for r in glue.values() if "score" in r},
        key=lambda v: (v is None, v or 0),
    )
    return MacroAverage(chosen, parts, glue_tasks, missing, used)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def describe_train_limit(limits: list[int | None]) -> str:
    if not limits:
        return "no GLUE task fine-tuned"
    text = ", ".join("full train set" if v is None else f"--max-train-examples {v}" for v in limits)
    return f"GLUE fine-tuned with {text}"


def render_glue_table(glue: dict[str, Any]) -> str:
    """One row per GLUE task: the BabyLM 2024 subset always (missing ones say why), then any
    other task that was run."""
    names = [*BABYLM_2024_GLUE, *sorted(n for n in glue if n not in BABYLM_2024_GLUE)]
    rows = []
    for name in names:
        record = glue.get(name)
        if record is None or "score" not in record:
            rows.append([name, "-", glue_status(record), "-", "-", "-"])
            continue
        limit = record.get("max_train_examples")
        rows.append([
            name, record["metric"], _pct(record["score"]),
            f"{record['best_epoch']}/{record['epochs_run']}",
            f"{record['n_train']}" + (f" (max {limit})" if limit is not None else ""),
            str(record["n_eval"]),
        ])
    header = ["task", "metric", "score", "best/run epochs", "train examples", "eval examples"]
    return _table(header, rows)


def render_macro_markdown(macro: MacroAverage, glue: dict[str, Any] | None = None) -> str:
    """The macro-average table (and, given the ``"glue"`` section, its per-task table)."""
    n_glue = sum(v is not None for v in macro.glue_tasks.values())
    notes = {part: "" if value is not None else "missing" for part, value in macro.parts.items()}
    if macro.parts["glue"] is not None and n_glue < len(macro.glue_tasks):
        notes["glue"] = f"partial: {n_glue} of {len(macro.glue_tasks)} tasks"
    rows = [[PART_LABELS[p], _pct(v), notes[p]] for p, v in macro.parts.items()]
    overall = "" if macro.complete else "partial: missing " + ", ".join(macro.missing)
    rows.append(["**Macro-average**", _pct(macro.average), overall])
    title = (
        f"Macro-average (zero-shot backend: {macro.backend or 'none'}; "
        f"{describe_train_limit(macro.max_train_examples)})"
    )
    out = [title, "", _table(["part", "score", "note"], rows)]
    if glue is not None:
        out += ["", render_glue_table(glue)]
    return "\n".join(out)


def report_macro(run_dir: str | Path, backend: str | None = None) -> str:
    """``antlm macro RUN``: the macro-average table of one run, from its results.json."""
    paths = RunPaths(Path(run_dir))
    read_config(paths)  # raises if this is not a run directory
    results = read_json(paths.results)
    return render_macro_markdown(compute_macro(results, backend), results.get("glue") or {})
