"""Zero-shot results: aggregation, the ``results.json`` section, and Markdown tables.

Aggregation follows the BabyLM 2024 pipeline: accuracy per subtask (a BLiMP paradigm, a
supplement task, an EWoK domain), and a task's score is the *unweighted* mean of its subtasks,
so a 1,000-pair paradigm counts as much as a 100-pair one.

The run's ``results.json`` holds one ``zero_shot`` key (other evaluators add their own keys)::

    {"zero_shot": {
        "scores": {BACKEND: {TASK: {"score": 0.71,            # mean of subtask accuracies
                                    "n_pairs": 59875,
                                    "max_pairs_per_subtask": null,   # N for quick runs
                                    "subtasks": {SUBTASK: 0.83, ...}}}},
        "best_backend": "causal",     # highest mean task score over tasks every backend has
        "meta": {...}}}               # how the latest evaluation ran (device, precision, time)

New results are merged per (backend, task), so evaluating EWoK after BLiMP keeps both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from antlm.eval.scoring import BACKENDS
from antlm.eval.tasks import MinimalPair
from antlm.rundir import RunDirError

__all__ = [
    "best_backend",
    "compare_runs",
    "merge_zero_shot",
    "render_markdown",
    "report_runs",
    "task_summary",
]

# Tasks with at most this many subtasks are shown subtask by subtask (EWoK domains, the
# supplement's five tasks); BLiMP's 67 paradigms only with detail=True.
_MAX_INLINE_SUBTASKS = 12


def task_summary(
    pairs: Sequence[MinimalPair], correct: np.ndarray, max_pairs_per_subtask: int | None = None
) -> dict[str, Any]:
    """Accuracy per subtask and the task score (their unweighted mean) for one backend."""
    if len(pairs) != len(correct):
        raise ValueError(f"{len(pairs)} pairs but {len(correct)} results")
    if not pairs:
        raise ValueError("no pairs to summarise")
    hits: dict[str, list[bool]] = {}
    for pair, ok in zip(pairs, correct):
        hits.setdefault(pair.subtask, []).append(bool(ok))
    subtasks = {name: float(np.mean(values)) for name, values in sorted(hits.items())}
    return {
        "score": float(np.mean(list(subtasks.values()))),
        "n_pairs": len(pairs),
        "max_pairs_per_subtask": max_pairs_per_subtask,
        "subtasks": subtasks,
    }


def best_backend(scores: dict[str, dict[str, dict[str, Any]]]) -> str | None:
    """The backend with the highest mean task score, over the tasks all backends have.

    Comparing on common tasks only keeps a backend run on an easy task alone from winning.
    Ties go to the earlier backend in ``BACKENDS`` (causal first: the cheapest).
    """
    if not scores:
        return None
    common = set.intersection(*(set(tasks) for tasks in scores.values()))
    if not common:
        return None
    ranked = sorted(scores, key=lambda b: BACKENDS.index(b) if b in BACKENDS else len(BACKENDS))
    return max(ranked, key=lambda b: np.mean([scores[b][t]["score"] for t in sorted(common)]))


def merge_zero_shot(existing: dict[str, Any] | None, update: dict[str, Any]) -> dict[str, Any]:
    """Merge a new ``zero_shot`` section into an old one, per (backend, task)."""
    scores = {b: dict(tasks) for b, tasks in ((existing or {}).get("scores") or {}).items()}
    for backend, tasks in update.get("scores", {}).items():
        scores.setdefault(backend, {}).update(tasks)
    return {
        "scores": scores,
        "best_backend": best_backend(scores),
        "meta": update.get("meta", (existing or {}).get("meta", {})),
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _ordered_backends(scores: dict[str, Any]) -> list[str]:
    return sorted(scores, key=lambda b: BACKENDS.index(b) if b in BACKENDS else len(BACKENDS))


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|:--|" + "--:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(zero_shot: dict[str, Any], detail: bool = False) -> str:
    """Accuracy (%) per task (and subtask) and backend; the best backend is starred."""
    scores = zero_shot.get("scores") or {}
    if not scores:
        return "(no zero-shot results)"
    backends = _ordered_backends(scores)
    best = zero_shot.get("best_backend")
    header = ["task", "pairs"] + [f"{b} *" if b == best else b for b in backends]
    tasks = sorted({t for b in backends for t in scores[b]})
    rows: list[list[str]] = []
    for task in tasks:
        entries = [scores[b].get(task) for b in backends]
        first = next(e for e in entries if e)
        quick = first.get("max_pairs_per_subtask")
        label = task if quick is None else f"{task} (first {quick}/subtask)"
        rows.append([label, str(first["n_pairs"])] + [_pct(e and e["score"]) for e in entries])
        if detail or len(first["subtasks"]) <= _MAX_INLINE_SUBTASKS:
            for sub in first["subtasks"]:
                values = [e and e["subtasks"].get(sub) for e in entries]
                rows.append([f"&nbsp;&nbsp;{sub}", ""] + [_pct(v) for v in values])
    if len(tasks) > 1:
        common = [t for t in tasks if all(t in scores[b] for b in backends)]
        rows.append(
            [f"mean of {len(common)} tasks", ""]
            + [_pct(float(np.mean([scores[b][t]["score"] for t in common]))) for b in backends]
        )
    note = f"\n\n\\* best backend: {best}" if best else ""
    return _table(header, rows) + note


def _read_zero_shot(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "results.json"
    if not path.is_file():
        raise RunDirError(f"{run_dir}: no results.json; run `antlm eval {run_dir}` first")
    return json.loads(path.read_text()).get("zero_shot") or {}


def compare_runs(run_dirs: Sequence[str | Path]) -> str:
    """Side-by-side task scores (%) of several runs, each under its own best backend."""
    columns: list[tuple[str, dict[str, Any]]] = []
    for run_dir in map(Path, run_dirs):
        zero_shot = _read_zero_shot(run_dir)
        backend = zero_shot.get("best_backend")
        tasks = (zero_shot.get("scores") or {}).get(backend, {}) if backend else {}
        columns.append((f"{run_dir.name} ({backend or 'no results'})", tasks))
    from antlm.eval.macro import compute_macro  # macro imports nothing from here

    names = sorted({t for _, tasks in columns for t in tasks})
    rows = [[t] + [_pct(tasks[t]["score"] if t in tasks else None) for _, tasks in columns]
            for t in names]
    macros = [compute_macro(json.loads((Path(r) / "results.json").read_text())) for r in run_dirs]
    rows.append(["glue"] + [_pct(m.parts["glue"]) for m in macros])
    rows.append(["**macro-average**"] + [
        _pct(m.average) + ("" if m.complete else " (partial)") for m in macros])
    return _table(["task"] + [label for label, _ in columns], rows)


def report_runs(run_dirs: Sequence[str | Path], detail: bool = False) -> str:
    """``antlm report``: one run's full table, or several runs side by side."""
    from antlm.eval.macro import report_macro  # macro imports nothing from here

    if len(run_dirs) == 1:
        run_dir = Path(run_dirs[0])
        return (f"## {run_dir.name}\n\n" + render_markdown(_read_zero_shot(run_dir), detail)
                + "\n\n" + report_macro(run_dir))
    return compare_runs(run_dirs)
