"""The WUG tasks of the BabyLM 2025 pipeline: how human-like a model's choice among inflections
of a nonce word is, as a Spearman correlation with the share of people who chose the first one.

``wug_adj`` (Hofmann et al. 2024: a nonce adjective nominalised with ``-ity`` or ``-ness``) and
``wug_past`` (Weissweiler et al. 2023: the past tense of a nonce verb, three candidates) hold
one record per nonce word: ``sentences``, the candidate sentences joined by tabs, and
``ratio``, the human share of the first candidate. The 2025 pipeline reads them
(``evaluation_pipeline/sentence_zero_shot/read_files.py``, ``decode_wug``) as items whose
candidates are the whole sentences without a prefix, so they are scored exactly as a BLiMP
pair is (the summed log-probability of every token of each sentence, framed by the suite), and
here they are :class:`MinimalPair` items with ``context == ""``, scored by
:func:`antlm.eval.scoring.score_pairs` like any other.

The metric (``compute_results.py``, ``rank_and_evaluate_wug``): a softmax over each item's
candidate scores (temperature 1, the pipeline's default) gives the model's probability of the
first candidate, its ``prob``; the task's score is ``scipy.stats.spearmanr`` of those
probabilities against ``ratio`` over every item of the task (``run.py``,
``process_results_wug``; the leaderboard's ``calculate_results_from_pred.py`` multiplies it by
100, as antlm's tables do). The pipeline's per-item prediction also names the chosen candidate
(``pred``: the first maximum of the scores) under the id ``{task}_{n}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from antlm.atomic import atomic_write_bytes
from antlm.eval.predictions import predictions_path
from antlm.eval.suites import DEFAULT_TIE_SEED, Suite
from antlm.eval.tasks import DATA_HELP, WUG_TASKS, MinimalPair, TaskDataError, jsonl_records

__all__ = ["WugSet", "load_wug", "write_wug_predictions", "wug_probabilities"]

# The official bundle's files under the data directory (the 2025 pipeline's eval_zero_shot.sh
# points at these folders; the fast_eval copies are byte-identical).
_FILES: dict[str, str] = {
    "wug_adj": "evaluation_data/full_eval/wug_adj_nominalization/wug_adj_nominalization.jsonl",
    "wug_past": "evaluation_data/full_eval/wug_past_tense/wug_past_tense.jsonl",
}


@dataclass(frozen=True)
class WugSet:
    """One WUG task's items (in file order) and each item's human ratio."""

    task: str
    pairs: list[MinimalPair]
    ratios: np.ndarray  # float64 [N]: the human share of each item's first candidate

    def summary(self, scores: np.ndarray, max_items: int | None = None) -> dict[str, Any]:
        """The task's ``results.json`` entry from ``[N, k]`` candidate scores: the Spearman
        correlation of the model's probabilities with the human ratios (``metric``); None
        where it is undefined (every probability equal: the official code's NaN), which a
        table shows as missing and JSON can hold."""
        probabilities = wug_probabilities(scores)
        constant = bool(np.all(probabilities == probabilities[0]))
        rho = None if constant else float(spearmanr(probabilities, self.ratios)[0])
        return {"score": rho, "metric": "spearman", "n_pairs": len(self.pairs),
                "max_pairs_per_subtask": max_items, "subtasks": {self.task: rho}}


def wug_probabilities(scores: np.ndarray) -> np.ndarray:
    """Per item, the softmax probability of the first candidate among its ``[N, k]`` scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(shifted)
    return weights[:, 0] / weights.sum(axis=1)


def load_wug(task: str, data_dir: str | Path, max_items: int | None = None) -> WugSet:
    """Every item of ``task`` (``wug_adj`` or ``wug_past``), or its first ``max_items``; every
    record is checked first, so a damaged file is refused whatever ``max_items`` keeps."""
    if task not in WUG_TASKS:
        raise ValueError(f"unknown WUG task {task!r}; allowed: {', '.join(WUG_TASKS)}")
    path = Path(data_dir) / _FILES[task]
    if not path.is_file():
        raise TaskDataError(f"task {task!r}: {path} not found. {DATA_HELP}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise TaskDataError(f"{path}: not UTF-8 text (byte {exc.start}); restore it from the "
                            f"BabyLM evaluation data. {DATA_HELP}") from None
    pairs: list[MinimalPair] = []
    ratios: list[float] = []
    for lineno, record in jsonl_records(lines, str(path)):
        pair, ratio = _item(task, record, f"{path}, line {lineno}")
        if pairs and len(pair.candidates) != len(pairs[0].candidates):
            raise TaskDataError(
                f"{pair.source}: {len(pair.candidates)} sentences, but {pairs[0].source} has "
                f"{len(pairs[0].candidates)}; every item of a task is ranked among as many")
        pairs.append(pair)
        ratios.append(ratio)
    if not pairs:
        raise TaskDataError(f"{path} holds no items (it is empty or blank); restore it from "
                            f"the BabyLM evaluation data. {DATA_HELP}")
    return WugSet(task, pairs[:max_items], np.asarray(ratios[:max_items], np.float64))


def _item(task: str, record: dict, at: str) -> tuple[MinimalPair, float]:
    """One record as an item without context and its ratio, or an error naming its line."""
    joined = record.get("sentences")
    sentences = joined.split("\t") if isinstance(joined, str) else []
    if len(sentences) < 2 or not all(s.strip() for s in sentences):
        raise TaskDataError(f"{at}: field 'sentences' is missing or not at least two non-empty "
                            "sentences separated by tabs")
    ratio = record.get("ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) \
            or not 0.0 <= ratio <= 1.0:
        raise TaskDataError(f"{at}: field 'ratio' is missing or not a number from 0 to 1 (the "
                            "human share of the first sentence)")
    pair = MinimalPair(task=task, subtask=task, good=sentences[0], bad=sentences[1],
                       source=at, distractors=tuple(sentences[2:]))
    return pair, float(ratio)


def write_wug_predictions(
    directory: Path, suite: Suite, wug: WugSet, scores: dict[str, np.ndarray],
    tie_seed: int = DEFAULT_TIE_SEED,
) -> Path:
    """One line per item: the official ``id``, the human ``ratio``, and per backend the
    candidate scores, the chosen candidate (the pipeline's ``pred``, by index; ties drawn as
    the suite draws them, from ``tie_seed``) and the first candidate's probability (its
    ``prob``). ``scores`` maps each backend to ``[N, k]``."""
    chosen = {b: suite.chosen(s, tie_seed) for b, s in scores.items()}
    probs = {b: wug_probabilities(s) for b, s in scores.items()}
    lines = []
    for i, pair in enumerate(wug.pairs):
        record = {
            "task": wug.task, "subtask": pair.subtask, "id": f"{wug.task}_{i}",
            "candidates": list(pair.candidates), "ratio": float(wug.ratios[i]),
            "scores": {b: [float(v) for v in s[i]] for b, s in scores.items()},
            "chosen": {b: int(c[i]) for b, c in chosen.items()},
            "prob": {b: float(p[i]) for b, p in probs.items()},
        }
        lines.append(json.dumps(record))
    path = predictions_path(directory, suite, wug.task)
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path
