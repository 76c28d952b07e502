"""Zero-shot results: aggregation, the ``results.json`` section, and the report tables.

Aggregation follows both BabyLM pipelines: accuracy per subtask (a BLiMP paradigm, a
supplement task, an EWoK domain), and a task's score is the *unweighted* mean of its subtasks,
so a 1,000-pair paradigm counts as much as a 100-pair one. Entity tracking is a mean of means
(:func:`antlm.eval.tasks.subtask_group`): its subsets are averaged per file into ``groups``,
and the task's score is the mean of the groups.

``results.json`` holds one ``zero_shot`` key with a section per suite (other evaluators add
their own keys)::

    {"zero_shot": {"babylm2025": {
        "declared_backend": "causal",   # the headline backend, fixed before scoring
        "declared_by": "the run config: train.schedule '...' ends on CLM",
        "scores": {BACKEND: {TASK: {"score": 0.71,            # mean of subtask accuracies
                                    "n_pairs": 59875,
                                    "max_pairs_per_subtask": null,   # N for quick runs
                                    "subtasks": {SUBTASK: 0.83, ...},
                                    "groups": {GROUP: 0.8, ...},  # entity tracking only
                                    "metric": "spearman"}}},  # absent: an accuracy
        "meta": {...}}}}               # how the latest evaluation ran (device, precision, time)

A task whose score is no accuracy names its ``metric`` (:data:`METRICS`): WUG's is a Spearman
correlation (``subtasks`` holds the task's own), and ``antlm eval --tasks reading`` writes two
entries, ``reading_et`` and ``reading_spr``, whose score is a share of variance and whose
``subtasks`` are the regressed outcomes (with each fit's figures under ``fits``). Tables label
such rows with their metric and never average them with accuracies.

New results are merged per (suite, backend, task), so evaluating EWoK after BLiMP keeps both,
and a suite's scores are never mixed with another's. The headline of a report is the declared
backend's; the table of every backend that was scored is printed too, labelled exploratory,
and no code path ranks backends by their scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from antlm.eval.macro import (
    MacroAverage,
    aggregate_label,
    compute_macro,
    read_results,
    render_macro,
    zero_shot_section,
)
from antlm.eval.scoring import BACKENDS
from antlm.eval.suites import SUITES, Suite
from antlm.eval.tables import INDENT, MISSING, Target, heading, pct, render_table, strong
from antlm.eval.tasks import WORD_ORDER, MinimalPair, score_notes, subtask_group
from antlm.rundir import RunDirError

__all__ = [
    "METRICS",
    "compare_runs",
    "merge_zero_shot",
    "metric_of",
    "render_backend_table",
    "render_evaluation",
    "render_suite",
    "render_word_order",
    "report_runs",
    "task_summary",
]

# What a task entry's ``score`` is (its ``metric``; an entry without one is an accuracy), as a
# table labels it. Every score is stored as a fraction and shown times 100, as the official
# leaderboard shows them.
METRICS: dict[str, str] = {
    "accuracy": "accuracy",
    "spearman": "Spearman's rho",  # WUG (antlm.eval.wug)
    "delta_r2": "share of unexplained variance",  # reading (antlm.eval.reading)
}


def metric_of(entry: dict[str, Any]) -> str:
    """The metric of a task's ``results.json`` entry (see :data:`METRICS`)."""
    return entry.get("metric", "accuracy")


# Tasks with at most this many subtasks are shown subtask by subtask (EWoK domains, the
# supplement's five tasks); BLiMP's 67 paradigms only with detail=True.
_MAX_INLINE_SUBTASKS = 12


def task_summary(
    pairs: Sequence[MinimalPair], correct: np.ndarray, max_pairs_per_subtask: int | None = None
) -> dict[str, Any]:
    """Accuracy per subtask and the task score for one backend: the unweighted mean of the
    subtasks, or for a task whose subtasks form groups (entity tracking) the mean of the
    groups' means, each group's mean kept under ``groups``."""
    if len(pairs) != len(correct):
        raise ValueError(f"{len(pairs)} pairs but {len(correct)} results")
    if not pairs:
        raise ValueError("no pairs to summarise")
    hits: dict[str, list[bool]] = {}
    for pair, ok in zip(pairs, correct):
        hits.setdefault(pair.subtask, []).append(bool(ok))
    subtasks = {name: float(np.mean(values)) for name, values in sorted(hits.items())}
    summary: dict[str, Any] = {
        "score": float(np.mean(list(subtasks.values()))),
        "n_pairs": len(pairs),
        "max_pairs_per_subtask": max_pairs_per_subtask,
        "subtasks": subtasks,
    }
    groups = _group_means(pairs[0].task, subtasks)
    if groups is not None:
        summary["groups"] = groups
        summary["score"] = float(np.mean(list(groups.values())))
    return summary


def _group_means(task: str, subtasks: dict[str, float]) -> dict[str, float] | None:
    """Each group's unweighted mean of its subtasks' accuracies; None for an ungrouped task."""
    members: dict[str, list[float]] = {}
    for name, accuracy in subtasks.items():
        group = subtask_group(task, name)
        if group is None:
            return None
        members.setdefault(group, []).append(accuracy)
    return {group: float(np.mean(values)) for group, values in sorted(members.items())}


def merge_zero_shot(
    existing: dict[str, Any] | None, suite: Suite, update: dict[str, Any]
) -> dict[str, Any]:
    """The whole ``zero_shot`` key with ``update`` (one suite's new section) merged in per
    (backend, task); the declaration and meta are the update's. Sections of other suites are
    kept; anything else there (a layout from before suites were recorded) is dropped."""
    merged = {name: section for name, section in (existing or {}).items() if name in SUITES}
    old = merged.get(suite.name) or {}
    scores = {b: dict(tasks) for b, tasks in (old.get("scores") or {}).items()}
    for backend, tasks in update.get("scores", {}).items():
        scores.setdefault(backend, {}).update(tasks)
    # a task left out for want of data stays listed until a later evaluation scores it
    scored = {task for tasks in update.get("scores", {}).values() for task in tasks}
    missing = {task: reason for task, reason in (old.get("missing") or {}).items()
               if task not in scored}
    missing.update(update.get("missing") or {})
    merged[suite.name] = {**old, **update, "scores": scores, "missing": missing}
    return merged


def _ordered_backends(scores: dict[str, Any]) -> list[str]:
    return sorted(scores, key=lambda b: BACKENDS.index(b) if b in BACKENDS else len(BACKENDS))


def _subset(entry: dict[str, Any]) -> tuple[int | None, int]:
    """Which pairs a task's score was computed on: its ``--max-pairs`` and its pair count."""
    return entry.get("max_pairs_per_subtask"), entry["n_pairs"]


def render_backend_table(
    section: dict[str, Any], suite: Suite, detail: bool = False, target: Target = "markdown"
) -> str:
    """Accuracy (%) per task (and subtask) under every backend that was scored: exploratory,
    the declared backend's column marked."""
    scores = section.get("scores") or {}
    if not scores:
        return f"(no {suite.name} zero-shot results)"
    backends = _ordered_backends(scores)
    declared = section.get("declared_backend")
    header = ["task", "pairs"] + [f"{b} (declared)" if b == declared else b for b in backends]
    tasks = sorted({t for b in backends for t in scores[b]})
    rows: list[list[str]] = []
    for task in tasks:
        # One row per subset of pairs: backends scored on different --max-pairs never share one.
        entries = [scores[b].get(task) for b in backends]
        for subset in dict.fromkeys(_subset(e) for e in entries if e):
            row = [e if e and _subset(e) == subset else None for e in entries]
            first = next(e for e in row if e)
            quick = first.get("max_pairs_per_subtask")
            label = task if quick is None else f"{task} (first {quick}/subtask)"
            if metric_of(first) != "accuracy":
                label += f" ({METRICS[metric_of(first)]})"
            rows.append([label, str(first["n_pairs"])] + [pct(e and e["score"]) for e in row])
            for part in ("groups", "subtasks"):
                names = first.get(part) or {}
                if list(names) == [task]:  # one subtask, the task itself (WUG): no new figure
                    continue
                if part == "groups" or detail or len(names) <= _MAX_INLINE_SUBTASKS:
                    for name in names:
                        values = [e and (e.get(part) or {}).get(name) for e in row]
                        rows.append([f"{INDENT}{name}", ""] + [pct(v) for v in values])
    # the diagnostic is no BabyLM task: it never enters a mean of tasks
    # and only accuracies are averaged: a mean of an accuracy and a correlation means nothing
    accuracies = [t for t in tasks if t != WORD_ORDER
                  and all(metric_of(scores[b][t]) == "accuracy" for b in backends if t in scores[b])]
    common = [t for t in accuracies if all(t in scores[b] for b in backends)
              and len({_subset(scores[b][t]) for b in backends}) == 1]
    others = [t for t in tasks if t != WORD_ORDER and t not in accuracies]
    if len(accuracies) > 1 and common:
        rows.append(
            [f"mean of {len(common)} {'accuracies' if others else 'tasks'}", ""]
            + [pct(float(np.mean([scores[b][t]["score"] for t in common]))) for b in backends]
        )
    title = (f"Zero-shot, suite {suite.name}, every backend scored (exploratory: the headline "
             f"is the declared backend's, below)" if backends != [declared] else
             f"Zero-shot, suite {suite.name}, the declared backend {declared} alone")
    return title + "\n\n" + render_table(header, rows, target)


def render_word_order(section: dict[str, Any], target: Target = "markdown") -> str | None:
    """The word-order diagnostic under the declared backend, next to chance: a tiny model still
    at chance on BLiMP is already far above it here, which tells a run that learned from one
    that did not (None when it was not scored)."""
    declared = section.get("declared_backend")
    entry = (section.get("scores") or {}).get(declared, {}).get(WORD_ORDER)
    if entry is None:
        return None
    return (f"{strong('Word-order diagnostic', target)} (not a BabyLM task: each BLiMP sentence against its own "
            f"words shuffled; {entry['n_pairs']} pairs): {pct(entry['score'])}% under {declared}, "
            f"chance {pct(0.5)}%")


def render_suite(
    results: dict[str, Any], suite: Suite, detail: bool = False, target: Target = "markdown"
) -> str:
    """One suite's results: the exploratory table of every backend, then the headline (the
    macro-average under the declared backend, and the GLUE table), then the word-order
    diagnostic when it was scored."""
    section = zero_shot_section(results, suite)
    table = render_backend_table(section, suite, detail, target)
    headline = render_macro(compute_macro(results, suite), results.get("glue") or {}, suite,
                            target)
    word_order = render_word_order(section, target)
    shown = {task for tasks in (section.get("scores") or {}).values() for task in tasks}
    notes = [word_order] if word_order else []
    notes += score_notes(shown)
    return "\n\n".join([table, headline, *notes])


def render_evaluation(
    results: dict[str, Any], suite: Suite, name: str, detail: bool = False,
    target: Target = "markdown",
) -> str:
    """One model's report under ``suite``, titled with its name."""
    return f"{heading(name, target)}\n\n{render_suite(results, suite, detail, target)}"


def _read_or_none(directory: str | Path) -> dict[str, Any] | None:
    """A run's results, or None when it has none yet: one run not evaluated leaves its column
    empty instead of hiding the others' scores."""
    try:
        return read_results(directory)
    except RunDirError:
        return None


def _pairs_note(entries: Sequence[dict[str, Any] | None]) -> str:
    """``pairs differ: 1650 / 165`` when the runs scored a task on different pairs (a quick
    ``--max-pairs`` run beside a full one): their scores are then not like for like."""
    subsets = {_subset(e) for e in entries if e}
    if len(subsets) <= 1:
        return ""
    counts = [str(e["n_pairs"]) if e else MISSING for e in entries]
    return "pairs differ: " + " / ".join(counts)


def _missing_lines(names: Sequence[str], results: Sequence[dict[str, Any] | None],
                   columns: Sequence[dict[str, Any]], tasks: Sequence[str]) -> list[str]:
    """A list, one line per run whose cells are dashes: no results at all, or none for some
    tasks (empty when every run has every task)."""
    lines = []
    for name, result, column in zip(names, results, columns):
        if result is None:
            lines.append(f"- {name}: no results.json (run `antlm eval` on it first)")
        elif lacking := [t for t in tasks if t not in column]:
            lines.append(f"- {name}: no results for {', '.join(lacking)}")
    return ["\n".join(lines)] if lines else []


def _cell(task: str, column: dict[str, Any], macro: MacroAverage) -> float | None:
    """A run's score of ``task``: its zero-shot entry, else the part as the macro read it
    (the parts other evaluators write)."""
    return column[task]["score"] if task in column else macro.parts.get(task)


def _absent_note(part: str, macros: Sequence[MacroAverage]) -> str:
    """``missing (reason)`` when no run has ``part``: the reason of the first run that gives
    one (every run lacks it, most often for the same reason)."""
    if any(m.parts.get(part) is not None for m in macros):
        return ""
    reasons = [m.reasons[part] for m in macros if part in m.reasons]
    return f"missing ({reasons[0]})" if reasons else ""


def compare_runs(
    directories: Sequence[str | Path], suite: Suite, target: Target = "markdown"
) -> str:
    """Side-by-side task scores (%) of several models, each under its own declared backend. A
    run without results, or without a task, shows dashes there (said below the table), and a
    task scored on different pairs by different runs says so in its row."""
    read = [_read_or_none(d) for d in directories]
    if all(r is None for r in read):
        read_results(directories[0])  # nothing to compare: the first run's error says why
    results = [r or {} for r in read]
    macros = [compute_macro(r, suite) for r in results]
    names = [Path(d).name for d in directories]
    labels = [f"{n} ({m.backend or 'no results'})" for n, m in zip(names, macros)]
    columns = [zero_shot_section(r, suite).get("scores", {}).get(m.backend, {})
               for r, m in zip(results, macros)]
    found = sorted({t for tasks in columns for t in tasks})
    tasks = [*suite.zero_shot_parts, *(t for t in found if t not in suite.parts)]
    rows = [[t] + [pct(_cell(t, c, m)) for c, m in zip(columns, macros)]
            + [_pairs_note([c.get(t) for c in columns]) or _absent_note(t, macros)]
            for t in tasks]
    if "glue" in suite.parts:
        rows.append(["glue"] + [pct(m.parts["glue"]) for m in macros]
                    + [_absent_note("glue", macros)])
    aggregate = strong(aggregate_label(suite.name).lower(), target)
    if suite.aggregate == "none":
        rows.append([aggregate] + [MISSING for _ in macros] + [f"none: {suite.aggregate_note}"])
    else:
        rows.append([aggregate] + [
            MISSING if r is None else pct(m.average) + ("" if m.complete else " (partial)")
            for r, m in zip(read, macros)] + [""])
    header = ["task", *labels, "note"]
    if not any(row[-1] for row in rows):  # no note: no empty column
        header, rows = header[:-1], [row[:-1] for row in rows]
    title = (f"Suite {suite.name}; each model under its declared backend (in brackets), fixed "
             "before scoring")
    below = _missing_lines(names, read, columns, found) + score_notes(found)
    return "\n\n".join([title, render_table(header, rows, target), *below])


def report_runs(
    directories: Sequence[str | Path], suite: Suite, detail: bool = False,
    target: Target = "markdown",
) -> str:
    """``antlm report``: one model's full report, or several side by side, for ``target``
    (plain text for a terminal, Markdown for a file)."""
    if len(directories) == 1:
        directory = Path(directories[0])
        return render_evaluation(read_results(directory), suite, directory.name, detail, target)
    return compare_runs(directories, suite, target)
