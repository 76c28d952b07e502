"""The (Super)GLUE tasks of the BabyLM evaluation, as the 2024 pipeline reads them.

Each task is a jsonl file per split (``glue/{task}.train.jsonl``, ``glue/{task}.valid.jsonl``).
How a row becomes model input follows the 2024 pipeline's ``finetune_classification.py``, which
is given the files (not a GLUE task name) and so picks its text fields by column name:

* single sentences (CoLA, SST-2): ``sentence``;
* pairs, in this order: ``sentence1``/``sentence2`` (MRPC, RTE), ``question1``/``question2``
  (QQP), ``premise``/``hypothesis`` (MNLI), ``question``/``passage`` (BoolQ),
  ``question``/``sentence`` (QNLI);
* MultiRC: first segment ``Question: {question} Answer: {answer}``, second the ``paragraph``;
* WSC: first segment ``Does "{span2_text}" refer to "{span1_text}" in this passage?``, second the
  ``text``.

The pipeline reports accuracy, with F1 for MRPC and QQP and MCC for CoLA, and selects the best
epoch by F1 on binary tasks and by accuracy otherwise. MNLI's model is also scored on the
mismatched validation set (``mnli-mm``, a *subtask* with no training of its own, as
``finetune_model.sh`` does). Which subtasks a macro-average counts is the suite's
(:mod:`antlm.eval.suites`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from antlm.errors import AntlmError
from antlm.jsonfile import load_json

Metric = Literal["accuracy", "f1", "mcc"]
Segments = tuple[str, str | None]

class GlueDataError(AntlmError, ValueError):
    """A GLUE file that exists but cannot be used (bad rows, labels out of range)."""


def _fields(first: str, second: str | None = None) -> Callable[[dict[str, Any]], Segments]:
    def segments(row: dict[str, Any]) -> Segments:
        return row[first], (row[second] if second else None)

    return segments


def _multirc(row: dict[str, Any]) -> Segments:
    return f"Question: {row['question']} Answer: {row['answer']}", row["paragraph"]


def _wsc(row: dict[str, Any]) -> Segments:
    return f'Does "{row["span2_text"]}" refer to "{row["span1_text"]}" in this passage?', row["text"]


@dataclass(frozen=True)
class GlueTask:
    name: str
    num_labels: int
    metric: Metric  # the score reported for the task
    segments: Callable[[dict[str, Any]], Segments]
    # Extra validation sets scored with the model selected on the main one (MNLI mismatched).
    extra_eval: tuple[str, ...] = ()

    @property
    def selection_metric(self) -> Metric:
        """The pipeline picks the best epoch by F1 on binary tasks, by accuracy otherwise."""
        return "f1" if self.num_labels == 2 else "accuracy"


TASKS: dict[str, GlueTask] = {
    task.name: task
    for task in (
        GlueTask("boolq", 2, "accuracy", _fields("question", "passage")),
        GlueTask("cola", 2, "mcc", _fields("sentence")),
        GlueTask("mnli", 3, "accuracy", _fields("premise", "hypothesis"), extra_eval=("mnli-mm",)),
        GlueTask("mrpc", 2, "f1", _fields("sentence1", "sentence2")),
        GlueTask("multirc", 2, "accuracy", _multirc),
        GlueTask("qnli", 2, "accuracy", _fields("question", "sentence")),
        GlueTask("qqp", 2, "f1", _fields("question1", "question2")),
        GlueTask("rte", 2, "accuracy", _fields("sentence1", "sentence2")),
        GlueTask("sst2", 2, "accuracy", _fields("sentence")),
        GlueTask("wsc", 2, "accuracy", _wsc),
    )
}


# A subtask scored with another task's model (MNLI mismatched) -> that task.
TRAINED_BY: dict[str, str] = {
    extra: task.name for task in TASKS.values() for extra in task.extra_eval
}
GLUE_SUBTASKS: tuple[str, ...] = (*TASKS, *TRAINED_BY)


def subtask_record(glue: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The ``results.json`` record of a GLUE subtask: a task's own record, or for a subtask
    scored with another task's model, a record built from that model's extra evaluation (its
    training facts, the subtask's metric and size). A missing training task's record is
    returned as it is, so its reason ("no train file") names the subtask too; None: not run."""
    trained_by = TRAINED_BY.get(name)
    if trained_by is None:
        return glue.get(name)
    record = glue.get(trained_by)
    if record is None or "score" not in record:
        return record
    extra = (record.get("extra_eval") or {}).get(name)
    if extra is None:
        return None
    metric = TASKS[trained_by].metric
    return {**record, "metric": metric, "score": extra[metric], "n_eval": extra["n_eval"],
            "trained_as": trained_by}


@dataclass(frozen=True)
class Example:
    first: str
    second: str | None
    label: int


def parse_task_names(names: list[str]) -> list[str]:
    """``["rte", "mrpc,wsc"]`` -> ``["rte", "mrpc", "wsc"]``, unknown names rejected early."""
    tasks = [n.strip().lower() for item in names for n in item.split(",") if n.strip()]
    if not tasks:
        raise GlueDataError(f"no GLUE task given (--task / --tasks); allowed: {', '.join(TASKS)}")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise GlueDataError(f"unknown GLUE task(s) {unknown}; allowed: {', '.join(TASKS)}")
    return list(dict.fromkeys(tasks))


def split_path(glue_dir: Path, name: str, split: Literal["train", "valid"]) -> Path:
    return glue_dir / f"{name}.{split}.jsonl"


def read_split(task: GlueTask, path: Path) -> list[Example]:
    """All rows of one split; a label outside ``range(num_labels)`` is an error, not a class."""
    examples = []
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise GlueDataError(f"{path}: not UTF-8 text (byte {exc.start}); restore it from the "
                            "BabyLM evaluation data") from None
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = load_json(line, f"{path}:{line_no}")
            first, second = task.segments(row)
            label = int(row["label"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise GlueDataError(f"{path}:{line_no}: not a {task.name} row ({exc})") from None
        if not 0 <= label < task.num_labels:
            raise GlueDataError(
                f"{path}:{line_no}: label {label} outside 0..{task.num_labels - 1}"
            )
        examples.append(Example(first, second, label))
    if not examples:
        raise GlueDataError(f"{path}: no examples")
    return examples
