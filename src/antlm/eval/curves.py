"""``antlm eval RUN --checkpoints``: learning curves, every milestone checkpoint (and the final
model) scored against the words it had seen.

Each revision is scored with one backend, the run's declared one
(:func:`antlm.eval.scoring.declared_backend`: fixed by the config, never chosen by the scores;
``--backend`` overrides it), on the *fast* zero-shot sets. The 2025 pipeline reports its
intermediate checkpoints on fast subsets of its tasks (its ``eval_zero_shot_fast.sh``); those
subsets are not in the data directory, so fast here means the first :data:`FAST_PAIRS` pairs of
every subtask of BLiMP (filtered), the BLiMP supplement and EWoK (8,300 pairs, about a seventh
of the full sets), which every table and plot states.

Results go to ``RUN/learning_curve.json`` after each revision, so an interrupted evaluation
resumes where it stopped (a revision is scored again only under other settings, or the final
model once it has trained further), and ``learning_curve.md`` / ``.png`` (accuracy against words
seen on a log axis, the phases tinted by objective) are drawn from it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from antlm.atomic import atomic_write_bytes
from antlm.config import ConfigError
from antlm.device import resolve_device
from antlm.eval.runner import evaluate_subject
from antlm.eval.scoring import BACKENDS, check_precision, declared_backend
from antlm.eval.subject import subject_of_run
from antlm.eval.suites import get_suite
from antlm.eval.tables import Target, code, heading, pct, render_table
from antlm.eval.tasks import score_notes
from antlm.intervals import Interval, effective_pairs, wilson_interval
from antlm.plots import phase_handles, pyplot, tint_phases, words_axis
from antlm.rundir import (
    CURVE_FIELDS,
    RunDirError,
    RunPaths,
    list_checkpoints,
    load_run,
    present,
    read_config,
    read_json,
    read_phases,
    read_state,
    refuse_while_training,
)

__all__ = ["FAST_PAIRS", "FAST_TASKS", "accuracy_interval", "average_accuracy", "curve_settings", "evaluate_checkpoints",
           "render_curve"]

FAST_TASKS = ("blimp_filtered", "blimp_supplement", "ewok")
FAST_PAIRS = 100  # per subtask


def _revisions(paths: RunPaths) -> list[tuple[str, int, int]]:
    """``(name, words seen, step)`` of every checkpoint, then of the final weights."""
    revisions = [(c.name, c.words_seen, c.step) for c in list_checkpoints(paths)]
    if not revisions:
        raise RunDirError(
            f"{paths.root} has no milestone checkpoints (train.checkpoint_words; a run that sees "
            "fewer words than the first milestone writes none)")
    state = read_state(paths)
    if present(paths.weights) and state is not None and state.words_seen is not None:
        revisions.append(("main", state.words_seen, state.step))
    return revisions


def curve_settings(suite: str | None, backend: str, tasks: Sequence[str] = FAST_TASKS,
                   max_pairs_per_subtask: int | None = FAST_PAIRS,
                   precision: str = "fp32") -> dict[str, Any]:
    """What a curve was scored under, as ``learning_curve.json`` records it: curves compare
    (across seeds, across arms) only when these are equal."""
    return {"suite": get_suite(suite).name, "backend": backend, "tasks": list(tasks),
            "max_pairs_per_subtask": max_pairs_per_subtask, "precision": precision}


def evaluate_checkpoints(
    run_dir: str | Path,
    data_dir: str | Path,
    backend: str | None = None,
    tasks: Sequence[str] = FAST_TASKS,
    max_pairs_per_subtask: int | None = FAST_PAIRS,
    batch_size: int = 64,
    precision: str = "fp32",
    device: str = "auto",
    progress: bool = True,
    suite: str | None = None,
) -> dict[str, Any]:
    """Score every revision (see the module docstring) and write the curve's files; returns the
    curve as written to ``learning_curve.json``."""
    check_precision(precision)
    paths = RunPaths(Path(run_dir))
    refuse_while_training(paths)  # before the milestones are scored, not at the final model
    if backend in (None, "auto", "declared"):
        backend = declared_backend(read_config(paths))
    elif backend not in BACKENDS:
        raise ConfigError(f"--backend {backend!r}: a learning curve scores one backend; "
                          f"name one of {', '.join(BACKENDS)}, or leave it to the run's declared one")
    settings = curve_settings(suite, backend, tasks, max_pairs_per_subtask, precision)
    suite = settings["suite"]
    curve = read_json(paths.learning_curve, CURVE_FIELDS)
    if curve.get("settings") != settings:
        curve = {"settings": settings, "points": {}}
    points: dict[str, dict[str, Any]] = curve["points"]
    revisions = [(name, words, step) for name, words, step in _revisions(paths)
                 if points.get(name, {}).get("step") != step]
    # Every revision to score is read once before any is scored: a damaged one stops the
    # command before the curve's files change, not after the revisions before it were scored.
    read_phases(paths)
    for name, _, _ in revisions:
        load_run(paths.root, "cpu", None if name == "main" else name)
    for name, words, step in revisions:
        run = load_run(paths.root, resolve_device(device), None if name == "main" else name)
        scores = evaluate_subject(subject_of_run(run), tasks, data_dir, get_suite(suite),
                                  backend, batch_size, max_pairs_per_subtask, precision,
                                  progress)["scores"][backend]
        points[name] = {"words_seen": words, "step": step,
                        "scores": {task: scores[task]["score"] for task in tasks},
                        "pairs": {task: scores[task]["n_pairs"] for task in tasks}}
        atomic_write_bytes(paths.learning_curve, json.dumps(curve, indent=2).encode())
    atomic_write_bytes(paths.learning_curve.with_suffix(".md"),
                       (render_curve(curve, paths.root.name) + "\n").encode())
    plot_curve(curve, paths)
    return curve


def _ordered(curve: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(curve["points"].items(), key=lambda item: (item[0] == "main", item[1]["step"]))


def average_accuracy(point: dict[str, Any]) -> float:
    """A revision's mean over its tasks (each task's score is already its subtasks' mean)."""
    return sum(point["scores"].values()) / len(point["scores"])


def _scope(settings: dict[str, Any], target: Target) -> str:
    pairs = settings["max_pairs_per_subtask"]
    return (f"suite {settings['suite']}, backend {code(settings['backend'], target)}, "
            + (f"the first {pairs} pairs of every subtask" if pairs else "all pairs"))


def render_curve(curve: dict[str, Any], title: str, target: Target = "markdown") -> str:
    """The curve as a table: accuracy (%) per task and their mean, per revision (Markdown for
    ``learning_curve.md``, plain text for a terminal)."""
    settings = curve["settings"]
    tasks = settings["tasks"]
    header = ["revision", "words seen", "step", *tasks, "average"]
    rows = [[name, f"{point['words_seen']:,}", f"{point['step']:,}",
             *(pct(point["scores"][t]) for t in tasks), pct(average_accuracy(point))]
            for name, point in _ordered(curve)]
    return "\n".join([
        heading(f"Learning curve of {code(title, target)}", target), "",
        (f"Zero-shot accuracy (%), {_scope(settings, target)}; {code('main', target)} is the "
         "final model."), "",
        render_table(header, rows, target), *("\n" + n for n in score_notes(tasks))])


def accuracy_interval(point: dict[str, Any], task: str | None = None) -> Interval:
    """The 95% Wilson interval of a revision's accuracy on ``task`` from its recorded pair
    count, or of its average over tasks (``task=None``: the tasks' pairs pooled as
    :func:`antlm.intervals.effective_pairs` says). The scoring noise of one model on a sample of
    pairs, which decides whether a step between two revisions is more than noise; no bounds
    for a point that recorded no pairs."""
    pairs = point.get("pairs", {})
    if task is not None:
        return wilson_interval(point["scores"][task], pairs.get(task, 0))
    counts = [pairs.get(t, 0) for t in point["scores"]]
    return wilson_interval(average_accuracy(point), effective_pairs(counts))


def _bounds(intervals: Sequence[Interval]) -> tuple[list[float], list[float]]:
    """Lower and upper bounds in %, a point without an interval collapsing to its value."""
    return ([100 * (i.mean if i.low is None else i.low) for i in intervals],
            [100 * (i.mean if i.high is None else i.high) for i in intervals])


def plot_curve(curve: dict[str, Any], paths: RunPaths) -> Path:
    """Accuracy against words seen (log axis), one line per task and their mean, each with its
    95% binomial interval over the pairs scored (a band per task, bars on the mean), the phases
    tinted by objective: where CLM's early gains and MLM's later ones show, if they do, and
    whether a step between revisions is more than the noise of scoring a sample of pairs."""
    plt = pyplot()
    ordered = [point for _, point in _ordered(curve)]
    words = [p["words_seen"] for p in ordered]
    fig, axis = plt.subplots(figsize=(9, 4.5), layout="constrained")
    low, high = min(words) / 1.5, max(words) * 1.5
    shaded = tint_phases(axis, [(p.objective, max(low, p.start_words), min(high, p.end_words))
                                for p in read_phases(paths)
                                if p.end_words > low and p.start_words < high])
    for task in curve["settings"]["tasks"]:
        line, = axis.plot(words, [100 * p["scores"][task] for p in ordered], marker=".",
                          linewidth=1, label=task)
        axis.fill_between(words, *_bounds([accuracy_interval(p, task) for p in ordered]),
                          color=line.get_color(), alpha=0.12, linewidth=0)
    means = [100 * average_accuracy(p) for p in ordered]
    below, above = _bounds([accuracy_interval(p) for p in ordered])
    axis.errorbar(words, means, yerr=[[m - b for m, b in zip(means, below)],
                                      [a - m for m, a in zip(means, above)]],
                  marker="o", color="black", linewidth=2, capsize=3, label="average")
    axis.axhline(50, color="grey", linestyle=":", linewidth=1, label="chance")
    words_axis(axis)
    axis.set_xlim(low, high)
    axis.set_ylabel("accuracy (%)")
    axis.grid(alpha=0.3, which="both")
    axis.set_title(f"{paths.root.name}: {_scope(curve['settings'], 'terminal')}\n"
                   "(bands and bars: 95% Wilson interval over the pairs scored)", fontsize=10)
    handles, _ = axis.get_legend_handles_labels()
    # Beside the axes, not in them: inside, the legend covered the last revisions.
    fig.legend(handles=handles + phase_handles(shaded), fontsize=8, loc="outside right upper")
    path = paths.learning_curve.with_suffix(".png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
