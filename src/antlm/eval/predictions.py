"""``--save-predictions``: every scored pair as one JSON line, so a number can be audited and
re-scored without running the model again.

The BabyLM pipelines keep per-item predictions too: the 2025 pipeline's
``sentence_zero_shot/run.py`` writes, per subtask (its ``UID``), items with an ``id`` of the
form ``{UID}_{n}`` and the chosen text; lm-evaluation-harness (2024) logs every request's
arguments and log-likelihoods (``--log_samples``). antlm keeps what both hold and a little
more: the texts, and both scores under every backend, with whether the suite counts the pair
as correct. Files: ``DIR/predictions/SUITE/TASK.jsonl``, rewritten when that task is scored
again. A multiple-choice item (entity tracking) lists its ``candidates`` (the right one first)
with one score each, and which one the suite picks (``chosen``: the pipeline's ``pred``).

A task whose terms forbid plain-text copies (EWoK, :data:`antlm.eval.tasks.NO_PLAIN_TEXT`)
keeps no text: its items are named by their file and line in the archive and a SHA-256 of
their texts, enough to find an item in the archive and to check it is the one scored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from antlm.atomic import atomic_write_bytes
from antlm.eval.suites import DEFAULT_TIE_SEED, Suite
from antlm.eval.tasks import NO_PLAIN_TEXT, MinimalPair

__all__ = ["item_identity", "predictions_path", "write_predictions"]


def predictions_path(directory: Path, suite: Suite, task: str) -> Path:
    return directory / "predictions" / suite.name / f"{task}.jsonl"


def write_predictions(
    directory: Path, suite: Suite, task: str, pairs: Sequence[MinimalPair],
    scores: dict[str, np.ndarray], tie_seed: int = DEFAULT_TIE_SEED,
) -> Path:
    """One line per item of ``task``: ``scores`` maps each backend to ``[N, k]`` (good, bad,
    then any further candidates); ``tie_seed`` is the evaluation's, so a tie is resolved here
    as in its scores."""
    correct = {b: suite.correct(s, tie_seed) for b, s in scores.items()}
    chosen = {b: suite.chosen(s, tie_seed) for b, s in scores.items()}
    seen: dict[str, int] = {}
    lines = []
    for i, pair in enumerate(pairs):
        n = seen[pair.subtask] = seen.get(pair.subtask, -1) + 1
        record = {"task": task, "subtask": pair.subtask, "id": f"{pair.subtask}_{n}",
                  **item_identity(task, pair)}
        if pair.distractors:
            record["scores"] = {b: [float(v) for v in s[i]] for b, s in scores.items()}
            record["chosen"] = {b: int(c[i]) for b, c in chosen.items()}
        else:
            record["scores"] = {b: {"good": float(s[i, 0]), "bad": float(s[i, 1])}
                                for b, s in scores.items()}
        record["correct"] = {b: bool(c[i]) for b, c in correct.items()}
        lines.append(json.dumps(record))
    path = predictions_path(directory, suite, task)
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def item_identity(task: str, pair: MinimalPair) -> dict[str, object]:
    """What a line says the item is: its texts, or for a task without plain text its place
    and hash; a reader checks a line against the data with it."""
    return _item_reference(pair) if task in NO_PLAIN_TEXT else _item_texts(pair)


def _item_texts(pair: MinimalPair) -> dict[str, object]:
    if pair.bad_context is not None:
        return {"good_context": pair.context, "bad_context": pair.bad_context,
                "good": pair.good, "bad": pair.bad}
    if pair.distractors:
        return {"context": pair.context, "candidates": list(pair.candidates)}
    return {"context": pair.context, "good": pair.good, "bad": pair.bad}


def _item_reference(pair: MinimalPair) -> dict[str, str]:
    """Where the item is (the archive's name, the member, the line; not the data directory's
    path) and a hash of its texts, in place of the texts."""
    archive, _, rest = pair.source.partition("!")
    texts = json.dumps([pair.context, *pair.candidates], ensure_ascii=False)
    return {"source": f"{Path(archive).name}!{rest}" if rest else Path(archive).name,
            "sha256": hashlib.sha256(texts.encode("utf-8")).hexdigest()}
