"""``antlm eval``: score a trained run on the zero-shot tasks and record the results.

The run is read through :func:`antlm.rundir.load_run` only (never the trainer), all task data is
read before any scoring so a missing folder fails in seconds rather than after an hour, and the
results are merged into ``RUN/results.json`` (see :mod:`antlm.eval.report` for the layout).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from antlm.device import resolve_device
from antlm.eval.report import merge_zero_shot, task_summary
from antlm.eval.scoring import resolve_backends, score_pairs
from antlm.eval.tasks import load_tasks
from antlm.rundir import LoadedRun, load_run, merge_results, read_json

__all__ = ["evaluate_loaded", "evaluate_run"]


def evaluate_loaded(
    run: LoadedRun,
    tasks: Sequence[str],
    data_dir: str | Path,
    backend: str = "auto",
    batch_size: int = 64,
    max_pairs_per_subtask: int | None = None,
    precision: str = "fp32",
    progress: bool = True,
) -> dict[str, Any]:
    """Score ``run`` on ``tasks``; returns a ``zero_shot`` update (not yet merged or written)."""
    backends = resolve_backends(run.config, backend)
    data = load_tasks(tasks, data_dir, max_pairs_per_subtask)
    started = time.perf_counter()
    scores: dict[str, dict[str, Any]] = {b: {} for b in backends}
    for task, pairs in data.items():
        per_backend = score_pairs(
            run.model, run.tokenizer, pairs, backends, batch_size, precision, progress, desc=task
        )
        for b, good_bad in per_backend.items():
            correct = good_bad[:, 0] > good_bad[:, 1]
            scores[b][task] = task_summary(pairs, correct, max_pairs_per_subtask)
    seconds = time.perf_counter() - started
    n_pairs = sum(len(pairs) for pairs in data.values())
    meta = {
        "tasks": list(tasks),
        "backend_requested": backend,
        "backends": backends,
        "precision": precision,
        "batch_size": batch_size,
        "device": str(next(run.model.parameters()).device),
        "seconds": round(seconds, 2),
        "pairs_per_second": round(n_pairs / seconds, 1) if seconds else None,
        "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return {"scores": scores, "meta": meta}


def evaluate_run(
    run_dir: str | Path,
    tasks: Sequence[str],
    data_dir: str | Path,
    backend: str = "auto",
    batch_size: int = 64,
    max_pairs_per_subtask: int | None = None,
    precision: str = "fp32",
    device: str = "auto",
    progress: bool = True,
) -> dict[str, Any]:
    """Load, score, merge into ``RUN/results.json``; returns the merged ``zero_shot`` section."""
    run = load_run(run_dir, device=resolve_device(device))
    update = evaluate_loaded(
        run, tasks, data_dir, backend, batch_size, max_pairs_per_subtask, precision, progress
    )
    merged = merge_zero_shot(read_json(run.results_path).get("zero_shot"), update)
    merge_results(run.paths, {"zero_shot": merged})
    return merged
