"""``antlm eval RUN --checkpoints``: learning curves, every milestone checkpoint (and the final
model) scored against the words it had seen, and the age of acquisition of words over them.

Each revision is scored with one backend, the run's declared one
(:func:`antlm.eval.scoring.declared_backend`: fixed by the config, never chosen by the scores;
``--backend`` overrides it), on the official *fast* sets: the 2026 pipeline scores every
checkpoint on ``blimp_fast`` (67 paradigms x 200 pairs), ``supplement_fast`` (5 x 50) and
``ewok_fast`` (11 x 100), plus entity tracking, WUG and reading
(babylm-eval ``strict/scripts/eval_zero_shot_fast.sh``; ``collate_preds.py`` checks those
sizes). :data:`FAST_TASKS` are the minimal-pair ones; ``entity_tracking_fast`` is read too but
asked for by name (``--tasks``), since its items (about 350 tokens) exceed the 128-token window
of antlm's configs. Curves recorded by earlier versions on the first 100 pairs of the full sets
still read; their settings differ, so they are scored again, never mixed with the new points.

Results go to ``RUN/learning_curve.json`` after each revision, so an interrupted evaluation
resumes where it stopped (a revision is scored again only under other settings, or the final
model once it has trained further), and ``learning_curve.md`` / ``.png`` (one panel per task:
accuracy against words seen on a log axis, with each point's 95% interval, the phases tinted by
objective) are drawn from it.

The revisions may also be those of a git repository that ``antlm export --checkpoints`` wrote
(:mod:`antlm.eval.revisions`): each is checked out outside it and scored as a model folder, and
the files above go to ``--out`` or ``results/NAME/``, never into the repository.

Age of acquisition (:mod:`antlm.eval.aoa`) is scored at each milestone checkpoint with the same
backend (the final model is not one of the pipeline's AoA revisions), kept revision by revision
in ``RUN/aoa_surprisals.json``, and written to ``results.json`` under ``aoa.SUITE``.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from antlm.atomic import atomic_write_bytes
from antlm.config import ConfigError
from antlm.device import resolve_device
from antlm.eval.aoa import (
    aoa_settings,
    keep_surprisals,
    load_aoa_data,
    revision_surprisals,
    stored_surprisals,
    write_aoa,
)
from antlm.eval.revisions import RepositoryRevisions, RunRevisions, open_revisions
from antlm.eval.runner import evaluate_subject, load_items
from antlm.eval.scoring import BACKENDS, declared_backend
from antlm.eval.settings import check_precision
from antlm.eval.suites import get_suite
from antlm.eval.tables import Target, code, heading, pct, render_table
from antlm.eval.tasks import score_notes
from antlm.intervals import Interval, effective_pairs, wilson_interval
from antlm.plots import phase_handles, pyplot, tint_phases, words_axis
from antlm.rundir import CURVE_FIELDS, PhaseSpan, RunPaths, read_json, refuse_while_training

__all__ = ["FAST_TASKS", "accuracy_interval", "average_accuracy", "curve_settings", "evaluate_checkpoints",
           "render_curve"]

FAST_TASKS = ("blimp_fast", "supplement_fast", "ewok_fast")


def curve_settings(suite: str | None, backend: str, tasks: Sequence[str] = FAST_TASKS,
                   max_pairs_per_subtask: int | None = None,
                   precision: str = "fp32") -> dict[str, Any]:
    """What a curve was scored under, as ``learning_curve.json`` records it: curves compare
    (across seeds, across arms) only when these are equal."""
    return {"suite": get_suite(suite).name, "backend": backend, "tasks": list(tasks),
            "max_pairs_per_subtask": max_pairs_per_subtask, "precision": precision}


def evaluate_checkpoints(
    path: str | Path,
    data_dir: str | Path,
    backend: str | None = None,
    tasks: Sequence[str] = FAST_TASKS,
    max_pairs_per_subtask: int | None = None,
    batch_size: int = 64,
    precision: str = "fp32",
    device: str = "auto",
    progress: bool = True,
    suite: str | None = None,
    aoa: bool = True,
    out: str | Path | None = None,
    trust_remote_code: bool = False,
) -> dict[str, Any]:
    """Score every revision of ``path``, a run directory or a git repository of revisions
    (:mod:`antlm.eval.revisions`; ``out``: a repository's results folder), and write the
    curve's files, and with ``aoa`` the age of acquisition; returns the curve as written to
    ``learning_curve.json``."""
    check_precision(precision)
    if (Path(path) / "config.yaml").exists():
        refuse_while_training(RunPaths(Path(path)))  # before the milestones are scored
    with tempfile.TemporaryDirectory(prefix="antlm-revisions-") as scratch:
        source = open_revisions(path, Path(scratch), out, trust_remote_code)
        return _score_revisions(source, data_dir, backend, tasks, max_pairs_per_subtask,
                                batch_size, precision, device, progress, suite, aoa)


def _curve_backend(backend: str | None, source: RunRevisions | RepositoryRevisions) -> str:
    """The one backend a curve scores: ``backend`` if it names one, else the declared one."""
    if backend not in (None, "auto", "declared"):
        if backend not in BACKENDS:
            raise ConfigError(f"--backend {backend!r}: a learning curve scores one backend; name "
                              f"one of {', '.join(BACKENDS)}, or leave it to the declared one")
        return backend
    if source.config is None:
        raise ConfigError(f"{source.title} carries no antlm_config.yaml (not an antlm export), "
                          f"so it declares no backend: name one with --backend "
                          f"({', '.join(BACKENDS)})")
    return declared_backend(source.config)


def _score_revisions(
    source: RunRevisions | RepositoryRevisions, data_dir: str | Path, backend: str | None,
    tasks: Sequence[str], max_pairs_per_subtask: int | None, batch_size: int, precision: str,
    device: str, progress: bool, suite: str | None, aoa: bool,
) -> dict[str, Any]:
    backend = _curve_backend(backend, source)
    settings = curve_settings(suite, backend, tasks, max_pairs_per_subtask, precision)
    suite = settings["suite"]
    paths = source.results
    curve = read_json(paths.learning_curve, CURVE_FIELDS)
    if curve.get("settings") != settings:
        curve = {"settings": settings, "points": {}}
    points: dict[str, dict[str, Any]] = curve["points"]
    on_curve = {r.name for r in source.revisions
                if points.get(r.name, {}).get("step") != r.step or r.name not in points}
    aoa_data = load_aoa_data(data_dir) if aoa else None  # a missing file fails before scoring
    store = stored_surprisals(paths, aoa_settings(backend, precision)) if aoa else None
    for_aoa = {r.name for r in source.revisions
               if aoa and r.milestone is not None and r.name not in store["revisions"]}
    # Every revision to score is checked before any is scored: a damaged one stops the
    # command before the curve's files change, not after the revisions before it were scored.
    source.check(on_curve | for_aoa)
    items = load_items(tasks, data_dir, max_pairs_per_subtask) if on_curve else None
    for revision in source.revisions:
        name = revision.name
        if name not in on_curve | for_aoa:
            continue
        with source.open(name, resolve_device(device)) as subject:
            if name in on_curve:
                scores = evaluate_subject(subject, tasks, data_dir, get_suite(suite), backend,
                                          batch_size, max_pairs_per_subtask, precision,
                                          progress, label=name, loaded=items)["scores"][backend]
                points[name] = {"words_seen": revision.words_seen, "step": revision.step,
                                "scores": {task: scores[task]["score"] for task in tasks},
                                "pairs": {task: scores[task]["n_pairs"] for task in tasks}}
                atomic_write_bytes(paths.learning_curve, json.dumps(curve, indent=2).encode())
            if name in for_aoa:
                started = time.perf_counter()
                surprisals = revision_surprisals(subject.model, subject.tokenizer, aoa_data,
                                                 backend, batch_size, precision, progress,
                                                 desc=f"{name} aoa")
                keep_surprisals(paths, store, revision, surprisals,
                                time.perf_counter() - started)
    atomic_write_bytes(paths.learning_curve.with_suffix(".md"),
                       (render_curve(curve, source.title) + "\n").encode())
    plot_curve(curve, paths, source.title, source.phases())
    if aoa:
        write_aoa(paths, store, aoa_data, suite)
    return curve


def _ordered(curve: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(curve["points"].items(),
                  key=lambda item: (item[0] == "main", item[1]["words_seen"]))


def _step(point: dict[str, Any]) -> str:
    return "not recorded" if point["step"] is None else f"{point['step']:,}"


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
    rows = [[name, f"{point['words_seen']:,}", _step(point),
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


def plot_curve(curve: dict[str, Any], paths: RunPaths, title: str,
               phases: Sequence[PhaseSpan] = ()) -> Path:
    """One panel per task and one for their mean: accuracy against words seen (log axis), each
    point with its 95% binomial interval over the pairs scored, the phases tinted by
    objective: where CLM's early gains and MLM's later ones show, if they do, and whether a
    step between revisions is more than the noise of scoring a sample of pairs."""
    plt = pyplot()
    ordered = [point for _, point in _ordered(curve)]
    words = [p["words_seen"] for p in ordered]
    tasks = curve["settings"]["tasks"]
    panels: list[str | None] = [*tasks, None]  # None: the mean over tasks
    columns = min(2, len(panels))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 3.2 * rows), sharex=True,
                             squeeze=False, layout="constrained")
    low, high = min(words) / 1.5, max(words) * 1.5
    spans = [(p.objective, max(low, p.start_words), min(high, p.end_words))
             for p in phases if p.end_words > low and p.start_words < high]
    shaded: set[str] = set()
    for axis, task in zip(axes.flat, panels):
        shaded |= tint_phases(axis, spans)
        values = [100 * (p["scores"][task] if task else average_accuracy(p)) for p in ordered]
        below, above = _bounds([accuracy_interval(p, task) for p in ordered])
        axis.errorbar(words, values, yerr=[[v - b for v, b in zip(values, below)],
                                           [a - v for v, a in zip(values, above)]],
                      marker="o", markersize=3, color="black" if task is None else None,
                      linewidth=1, capsize=2)
        if not (task or "").startswith("entity_tracking"):  # those rank more than 2 options
            axis.axhline(50, color="grey", linestyle=":", linewidth=1)
        axis.set_title(task or "average over tasks", fontsize=10)
        words_axis(axis)
        axis.set_xlim(low, high)
        axis.set_ylabel("accuracy (%)")
        axis.grid(alpha=0.3, which="both")
    for axis in axes.flat[len(panels):]:
        axis.set_visible(False)
    fig.suptitle(f"{title}: {_scope(curve['settings'], 'terminal')}\n"
                 "(bars: 95% Wilson interval over the pairs scored; dotted: chance)", fontsize=10)
    if shaded:
        fig.legend(handles=phase_handles(shaded), fontsize=8, loc="outside lower center",
                   ncols=len(shaded))
    path = paths.learning_curve.with_suffix(".png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
