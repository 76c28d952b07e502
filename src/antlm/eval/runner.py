"""``antlm eval``: score a run or a Hugging Face model folder on the zero-shot tasks under one
suite, and record the results.

The subject is opened through :mod:`antlm.eval.subject` (a run through
:func:`antlm.rundir.load_run`, never the trainer), all task data is read before any scoring so
a missing folder fails in seconds rather than after an hour, and the results are merged into
the subject's ``results.json`` (see :mod:`antlm.eval.report` for the layout). Scores are kept
chunk by chunk while a task is scored (:mod:`antlm.eval.partial`), so an interrupted evaluation
resumes rather than starting again.

The headline backend is fixed before anything is scored: ``--backend`` when it names exactly
one backend, else the subject's declaration. It is always among the backends scored; the others
(``auto``: the subject's own list, ``all``: every backend its views allow) are exploratory.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from antlm.device import resolve_device
from antlm.eval.partial import PartialScores
from antlm.eval.predictions import write_predictions
from antlm.eval.reading import (
    READING_BACKENDS,
    ReadingData,
    load_reading,
    reading_results,
    write_reading_predictions,
)
from antlm.eval.report import merge_zero_shot, task_summary
from antlm.eval.scoring import resolve_backends, score_pairs
from antlm.eval.settings import EvaluationSettings
from antlm.eval.subject import EvalSubject, open_subject
from antlm.eval.suites import DEFAULT_SUITE, DEFAULT_TIE_SEED, SUITES, Suite
from antlm.eval.tasks import PAIR_TASKS, READING, WUG_TASKS, MinimalPair, load_tasks
from antlm.eval.wug import WugSet, load_wug, write_wug_predictions
from antlm.rundir import RunPaths, update_results
from antlm.speeds import Workload, estimate, machine, record_speed
from antlm.tracking import report_evaluation

# Pairs scored (and thrown away) for a first time estimate where none was measured here: one
# batch at the default batch size, a second or two for a tiny model, 1-2% of a fast set.
PROBE_PAIRS = 64

__all__ = ["TaskItems", "evaluate_path", "evaluate_subject", "headline_and_backends",
           "load_items"]


@dataclass(frozen=True)
class TaskItems:
    """The items of some tasks, read once: a command that scores several models on the same
    tasks (the revisions of a learning curve or of a submission) reads its data once, not per
    model."""

    tasks: tuple[str, ...]
    max_pairs_per_subtask: int | None
    pairs: dict[str, list[MinimalPair]]  # per minimal-pair task (COMPS, when present)
    missing: dict[str, str]  # an optional task left out, with the reason
    wugs: dict[str, WugSet]
    reading: ReadingData | None

    @classmethod
    def combine(cls, parts: Sequence[TaskItems]) -> TaskItems:
        """One set of the items of several, read apart under the same ``max_pairs``."""
        limits = {part.max_pairs_per_subtask for part in parts}
        if len(limits) > 1:
            raise ValueError(f"items read under different max pairs: {sorted(map(str, limits))}")
        readings = [part.reading for part in parts if part.reading is not None]
        return cls(tuple(t for part in parts for t in part.tasks), limits.pop() if limits else None,
                   {t: v for part in parts for t, v in part.pairs.items()},
                   {t: v for part in parts for t, v in part.missing.items()},
                   {t: v for part in parts for t, v in part.wugs.items()},
                   readings[0] if readings else None)

    def task_pairs(self, task: str) -> list[MinimalPair]:
        """The pairs a minimal-pair or WUG task scores."""
        return self.wugs[task].pairs if task in self.wugs else self.pairs[task]


def load_items(tasks: Sequence[str], data_dir: str | Path,
               max_pairs_per_subtask: int | None = None,
               comps_dir: str | Path | None = None) -> TaskItems:
    """Every task's items, all read before anything is scored: a missing folder fails in
    seconds rather than after an hour (an optional one is left out with its reason)."""
    pairs, missing = load_tasks([t for t in tasks if t in PAIR_TASKS], data_dir,
                                max_pairs_per_subtask, comps_dir)
    wugs = {t: load_wug(t, data_dir, max_pairs_per_subtask) for t in tasks if t in WUG_TASKS}
    return TaskItems(tuple(tasks), max_pairs_per_subtask, pairs, missing, wugs,
                     load_reading(data_dir) if READING in tasks else None)


def headline_and_backends(subject: EvalSubject, backend: str) -> tuple[str, str, list[str]]:
    """``(declared backend, declared by, backends to score)`` for a ``--backend`` value."""
    views = subject.model.views
    requested = resolve_backends(backend, subject.auto_backends, views,
                                 subject.missing_view_hint)
    if backend not in ("auto", "all", "declared") and len(requested) == 1:
        declared, declared_by = requested[0], "--backend on the command line"
    else:
        declared, declared_by = subject.declared_backend, subject.declared_by
    backends = requested if declared in requested else [*requested, declared]
    resolve_backends(",".join(backends), [], views, subject.missing_view_hint)
    return declared, declared_by, backends


def _workload(subject: EvalSubject, backends: Sequence[str], precision: str,
              batch_size: int) -> Workload:
    """Pairs scored under these backends by a model of this size on this machine: what
    :mod:`antlm.speeds` keys the measured rate by."""
    model = subject.model
    size = sum(p.numel() for p in model.parameters())
    device = next(model.parameters()).device
    return Workload(f"score {'+'.join(backends)} {type(model).__name__} {size:,} parameters "
                    f"{precision} batch {batch_size} on {machine(device)}", "pairs")


def evaluate_subject(
    subject: EvalSubject,
    tasks: Sequence[str],
    data_dir: str | Path,
    suite: Suite = SUITES[DEFAULT_SUITE],
    backend: str = "auto",
    batch_size: int = 64,
    max_pairs_per_subtask: int | None = None,
    precision: str = "fp32",
    progress: bool = True,
    save_predictions: bool = False,
    label: str = "",
    comps_dir: str | Path | None = None,
    tie_seed: int = DEFAULT_TIE_SEED,
    loaded: TaskItems | None = None,
) -> dict[str, Any]:
    """Score ``subject`` on ``tasks``; returns its ``suite`` section (not yet merged or
    written; predictions, when asked for, are written at once). ``label`` leads every progress
    bar's name (a learning curve's revision). ``loaded``: the tasks' items as
    :func:`load_items` read them for this command (at least ``tasks``, under the same
    ``max_pairs_per_subtask``), so that scoring many models reads the data once.

    A task whose data is optional and absent (COMPS) is not scored: the section's
    ``"missing"`` names it with the reason, which every table then shows. Under a suite that
    draws ties at random, every (task, backend) draws from a generator seeded with
    ``tie_seed``, recorded in the meta."""
    declared, declared_by, backends = headline_and_backends(subject, backend)
    if loaded is None:
        loaded = load_items(tasks, data_dir, max_pairs_per_subtask, comps_dir)
    elif not set(tasks) <= set(loaded.tasks) or (
            loaded.max_pairs_per_subtask != max_pairs_per_subtask):
        raise ValueError(f"items loaded for {loaded.tasks} (max pairs "
                         f"{loaded.max_pairs_per_subtask}) cannot score {tasks} (max pairs "
                         f"{max_pairs_per_subtask})")
    missing = {t: why for t, why in loaded.missing.items() if t in tasks}
    for task, reason in missing.items():
        print(f"antlm: {task} left out: {reason}", file=sys.stderr, flush=True)
    data = {t: loaded.pairs[t] for t in tasks if t in loaded.pairs}
    wugs = {t: loaded.wugs[t] for t in tasks if t in loaded.wugs}
    data.update({t: wug.pairs for t, wug in wugs.items()})
    reading = loaded.reading if READING in tasks else None
    work = _workload(subject, backends, precision, batch_size)
    total = sum(len(pairs) for pairs in data.values())
    def probe() -> tuple[float, float]:
        # a first estimate where nothing was measured: a few pairs, scored and thrown away
        sample = next(iter(data.values()), [])[:PROBE_PAIRS]
        started = time.perf_counter()
        if sample:
            score_pairs(subject.model, subject.tokenizer, sample, backends, batch_size,
                        precision, progress=False, suite=suite)
        return len(sample), time.perf_counter() - started

    words = f" and the {len(reading):,} words of reading" if reading is not None else ""
    print(f"antlm: scoring {subject.name} on {total:,} pairs ({', '.join(data)}){words} under "
          f"{', '.join(backends)}, {estimate(work, total, probe=probe)}", file=sys.stderr,
          flush=True)
    started = time.perf_counter()
    scores: dict[str, dict[str, Any]] = {b: {} for b in backends}
    partial = PartialScores(subject.results_dir, subject.model, {
        "suite": suite.name, "backends": backends, "precision": precision,
        "batch_size": batch_size})

    def score_chunk(chunk: Sequence[MinimalPair], label: str) -> dict[str, np.ndarray]:
        return score_pairs(subject.model, subject.tokenizer, chunk, backends, batch_size,
                           precision, progress, desc=label, suite=suite)

    for task, pairs in data.items():
        per_backend = partial.score(pairs, score_chunk, desc=f"{label} {task}".strip())
        for b, item_scores in per_backend.items():
            scores[b][task] = (wugs[task].summary(item_scores, max_pairs_per_subtask)
                               if task in wugs else
                               task_summary(pairs, suite.correct(item_scores, tie_seed),
                                            max_pairs_per_subtask))
        if save_predictions and task in wugs:
            write_wug_predictions(subject.results_dir, suite, wugs[task], per_backend, tie_seed)
        elif save_predictions:
            write_predictions(subject.results_dir, suite, task, pairs, per_backend, tie_seed)
    partial.clear()
    if reading is not None:
        _score_reading(subject, reading, backends, batch_size, precision, progress, scores,
                       suite if save_predictions else None)
    seconds = time.perf_counter() - started
    n_pairs = total - partial.resumed_pairs
    record_speed(work, n_pairs, seconds)
    meta = {
        "suite_pipeline": suite.pipeline,
        "tasks": list(tasks),
        "tie_rule": suite.tie_rule,
        "tie_seed": suite.tie_seed(tie_seed),  # None: ties are not drawn under this suite
        "backend_requested": backend,
        "backends": backends,
        "precision": precision,
        "batch_size": batch_size,
        "device": str(next(subject.model.parameters()).device),
        "trained_step": subject.trained_step,  # a run's weights scored (None: a model folder)
        "seconds": round(seconds, 2),
        "pairs_per_second": round(n_pairs / seconds, 1) if seconds else None,
        "pairs_resumed": partial.resumed_pairs,  # read back from an interrupted attempt
        "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return {"declared_backend": declared, "declared_by": declared_by, "scores": scores,
            "missing": missing, "meta": meta}


def _score_reading(subject: EvalSubject, reading: ReadingData, backends: Sequence[str],
                   batch_size: int, precision: str, progress: bool,
                   scores: dict[str, dict[str, Any]], predictions_suite: Suite | None) -> None:
    """Add the reading entries of each backend the official code defines a surprisal for to
    ``scores`` (the others are said to be skipped), and their predictions when asked."""
    skipped = [b for b in backends if b not in READING_BACKENDS]
    if skipped:
        print(f"antlm: reading is not scored under {', '.join(skipped)} (the official pipeline "
              f"defines a word's surprisal under {', '.join(READING_BACKENDS)} only)",
              file=sys.stderr, flush=True)
    surprisals = {}
    for b in backends:
        if b in READING_BACKENDS:
            entries, surprisals[b] = reading_results(subject.model, subject.tokenizer, reading,
                                                     b, batch_size, precision, progress)
            scores[b].update(entries)
    if predictions_suite is not None and surprisals:
        write_reading_predictions(subject.results_dir, predictions_suite, surprisals)


def evaluate_path(
    path: str | Path,
    tasks: Sequence[str],
    data_dir: str | Path,
    suite: Suite = SUITES[DEFAULT_SUITE],
    settings: EvaluationSettings | None = None,
) -> tuple[EvalSubject, dict[str, Any]]:
    """Open, score under ``settings`` (None: the defaults), merge into the subject's
    ``results.json``; returns the subject and its whole results."""
    settings = settings or EvaluationSettings()
    subject = open_subject(path, resolve_device(settings.device), settings.trust_remote_code,
                           settings.out)
    update = evaluate_subject(
        subject, tasks, data_dir, suite, settings.backend, settings.batch_size,
        settings.max_pairs, settings.precision, settings.progress, settings.save_predictions,
        comps_dir=settings.comps_dir, tie_seed=settings.tie_seed)

    def with_update(results: dict[str, Any]) -> dict[str, Any]:
        # merged per suite, backend and task, under the lock: another evaluation's suite or
        # backend that landed while this one scored is kept
        results["zero_shot"] = merge_zero_shot(results.get("zero_shot"), suite, update)
        return results

    results = update_results(RunPaths(subject.results_dir), with_update,
                             scored_step=subject.trained_step)
    report_evaluation(subject.results_dir, suite.name, update)
    return subject, results
