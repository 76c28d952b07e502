"""Readers for the BabyLM zero-shot tasks: BLiMP (filtered and original), the BLiMP supplement
and EWoK, all turned into one item type.

Every task is a set of minimal pairs: two texts that differ in one respect, of which the model
should prefer the first. EWoK adds a shared context (the 2024 pipeline scores ``Target1`` against
``Target2`` as continuations of ``Context1``), BLiMP has none. A :class:`MinimalPair` therefore
carries ``(context, good, bad)`` with ``context == ""`` for BLiMP, so one scorer handles both:
``log p(good | context)`` versus ``log p(bad | context)``.

``word_order`` is a diagnostic, not a BabyLM task: each BLiMP-filtered grammatical sentence
against the same words in a shuffled order. A model that learned anything about order scores far
above 50% there long before it leaves chance on BLiMP, so it tells "training did not work" apart
from "training worked but the model is small", and it is not part of any macro-average.

Records are read strictly: a malformed line raises :class:`TaskDataError` naming the file and
line, because a silently skipped pair changes a published number. EWoK is read from its
password-protected zip in memory: its terms forbid plain-text copies, so nothing is extracted.
"""

from __future__ import annotations

import json
import random
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from antlm.config import ConfigError
from antlm.errors import AntlmError

__all__ = [
    "EWOK_NOTE",
    "EWOK_PASSWORD",
    "NO_PLAIN_TEXT",
    "TASKS",
    "MinimalPair",
    "TaskDataError",
    "load_task",
    "load_tasks",
    "parse_task_list",
    "score_notes",
]

EWOK_PASSWORD = b"ewok"
# Tasks whose terms forbid plain-text copies of their items (EWoK ships in a password-protected
# zip for that reason): nothing antlm writes may hold their texts (see antlm.eval.predictions).
NO_PLAIN_TEXT = frozenset({"ewok"})

DATA_HELP = (
    "Download the BabyLM evaluation data (https://babylm.github.io, evaluation data on OSF) "
    "into the data directory (--data-dir or ANTLM_DATA_DIR)."
)


class TaskDataError(AntlmError, ValueError):
    """Task data that is missing or malformed; the message says which file/line and why."""


@dataclass(frozen=True)
class MinimalPair:
    """One scored comparison: ``good`` must beat ``bad`` as a continuation of ``context``."""

    task: str
    subtask: str
    good: str
    bad: str
    context: str = ""
    source: str = field(default="", compare=False)  # "FILE, line N": what an error names


@dataclass(frozen=True)
class _TaskSpec:
    folder: str  # under the data directory
    good_key: str
    bad_key: str
    context_key: str | None = None
    zipped: bool = False


# pairID / pair_id differ between the original and filtered BLiMP; neither is needed to score.
_SPECS: dict[str, _TaskSpec] = {
    "blimp_filtered": _TaskSpec("blimp_filtered", "sentence_good", "sentence_bad"),
    "blimp": _TaskSpec("blimp", "sentence_good", "sentence_bad"),
    "blimp_supplement": _TaskSpec("blimp_supplement", "sentence_good", "sentence_bad"),
    "ewok": _TaskSpec("ewok/ewok_filtered.zip", "Target1", "Target2", "Context1", zipped=True),
}
WORD_ORDER = "word_order"
TASKS: frozenset[str] = frozenset(_SPECS) | {WORD_ORDER}
# Said under every table that shows EWoK, so that an exact 50.0 is not read as a measurement: the
# filtered file writes each item twice, the second time with its contexts and targets swapped,
# so a model that prefers one target whatever the context is right exactly once per item.
EWOK_NOTE = ("Note: each EWoK item appears twice, with its contexts and targets swapped, so a "
             "model that ignores the context scores exactly 50.0.")


def score_notes(tasks: Iterable[str]) -> list[str]:
    """The notes a table of these tasks' scores needs to be read right (one per line)."""
    return [EWOK_NOTE] if "ewok" in set(tasks) else []


def parse_task_list(spec: str) -> list[str]:
    """``"blimp_filtered,ewok"`` -> ``["blimp_filtered", "ewok"]``, rejecting unknown names."""
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in TASKS]
    if unknown or not names:
        allowed = ", ".join(sorted(TASKS))
        raise ConfigError(f"unknown task(s) {unknown or spec!r}; allowed: {allowed}")
    return names


def _jsonl_records(lines: Iterable[str], where: str) -> Iterator[tuple[int, dict]]:
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskDataError(f"{where}, line {lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise TaskDataError(f"{where}, line {lineno}: expected a JSON object")
        yield lineno, record


def _text(record: dict, key: str, where: str, lineno: int) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TaskDataError(
            f"{where}, line {lineno}: field {key!r} is missing or not a non-empty string"
        )
    return value.strip()


def _subtask_files(
    task: str, spec: _TaskSpec, data_dir: Path
) -> Iterator[tuple[str, str, list[str]]]:
    """Yield ``(subtask, where, lines)`` per file, sorted by subtask name for stable output."""
    path = data_dir / spec.folder
    if not path.exists():
        raise TaskDataError(f"task {task!r}: {path} not found. {DATA_HELP}")
    if spec.zipped:
        with zipfile.ZipFile(path) as archive:
            archive.setpassword(EWOK_PASSWORD)
            members = sorted(n for n in archive.namelist() if n.endswith(".jsonl"))
            if not members:
                raise TaskDataError(f"task {task!r}: {path} holds no .jsonl files. {DATA_HELP}")
            for member in members:
                text = archive.read(member).decode("utf-8")
                yield Path(member).stem, f"{path}!{member}", text.splitlines()
        return
    files = sorted(path.glob("*.jsonl"))
    if not files:
        raise TaskDataError(f"task {task!r}: no .jsonl files in {path}. {DATA_HELP}")
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise TaskDataError(f"{file}: not UTF-8 text (byte {exc.start}); restore it from the "
                                f"BabyLM evaluation data. {DATA_HELP}") from None
        yield file.stem, str(file), text.splitlines()


def load_task(
    task: str, data_dir: str | Path, max_pairs_per_subtask: int | None = None
) -> list[MinimalPair]:
    """All pairs of ``task``, subtask by subtask (file order within a subtask).

    ``max_pairs_per_subtask`` keeps the first N pairs of each subtask: deterministic, so quick
    runs are comparable with each other (not with full runs).
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; allowed: {', '.join(sorted(TASKS))}")
    if task == WORD_ORDER:
        return _word_order_pairs(data_dir, max_pairs_per_subtask)
    spec = _SPECS[task]
    pairs: list[MinimalPair] = []
    for subtask, where, lines in _subtask_files(task, spec, Path(data_dir)):
        if not any(line.strip() for line in lines):
            raise TaskDataError(f"{where} holds no pairs (it is empty or blank); restore it "
                                f"from the BabyLM evaluation data. {DATA_HELP}")
        # every record is parsed, so a damaged file is refused whatever --max-pairs keeps
        records = list(_jsonl_records(lines, where))
        for lineno, record in records[:max_pairs_per_subtask]:
            context = _text(record, spec.context_key, where, lineno) if spec.context_key else ""
            pairs.append(
                MinimalPair(
                    task=task,
                    subtask=subtask,
                    good=_text(record, spec.good_key, where, lineno),
                    bad=_text(record, spec.bad_key, where, lineno),
                    context=context,
                    source=f"{where}, line {lineno}",
                )
            )
    return pairs


def _shuffled_words(sentence: str) -> str | None:
    """The sentence's words in another order, the same for the same sentence on any machine
    (seeded by its CRC32); None when no other order exists (fewer than two distinct words)."""
    words = sentence.split()
    if len(set(words)) < 2:
        return None
    rng = random.Random(zlib.crc32(sentence.encode("utf-8")))
    shuffled = words[:]
    while shuffled == words:
        rng.shuffle(shuffled)
    return " ".join(shuffled)


def _word_order_pairs(data_dir: str | Path, max_pairs_per_subtask: int | None) -> list[MinimalPair]:
    pairs = []
    for pair in load_task("blimp_filtered", data_dir, max_pairs_per_subtask):
        shuffled = _shuffled_words(pair.good)
        if shuffled is not None:
            pairs.append(MinimalPair(WORD_ORDER, pair.subtask, pair.good, shuffled,
                                     source=pair.source))
    return pairs


def load_tasks(
    tasks: Iterable[str], data_dir: str | Path, max_pairs_per_subtask: int | None = None
) -> dict[str, list[MinimalPair]]:
    return {task: load_task(task, data_dir, max_pairs_per_subtask) for task in tasks}
