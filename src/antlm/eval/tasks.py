"""Readers for the BabyLM zero-shot tasks: BLiMP (filtered and original), the BLiMP supplement,
EWoK and entity tracking, all turned into one item type.

Every task is a set of minimal pairs: two texts that differ in one respect, of which the model
should prefer the first. EWoK adds a shared context (the 2024 pipeline scores ``Target1`` against
``Target2`` as continuations of ``Context1``), BLiMP has none. A :class:`MinimalPair` therefore
carries ``(context, good, bad)`` with ``context == ""`` for BLiMP, so one scorer handles both:
``log p(good | context)`` versus ``log p(bad | context)``.

The official *fast* sets (``blimp_fast``, ``supplement_fast``, ``ewok_fast``,
``entity_tracking_fast``: what the 2026 pipeline scores at every milestone checkpoint) are rows
of the full sets in the same formats, so they are read by the same readers from their folders
in the official bundle's layout (``evaluation_data/fast_eval/`` under the data directory).

Entity tracking (Kim & Schuster 2023, as the 2025 pipeline scores it) is a multiple choice
instead: a prefix and several completions, the first the right one. Its items are
:class:`MinimalPair` too, with the third and later completions as ``distractors``, so the same
scorer ranks every candidate (see :func:`_entity_tracking_pairs` for the framing and
:func:`subtask_group` for its two-level mean).

COMPS (Misra et al. 2023; a task of the 2025 and 2026 pipelines) compares two sentences that
share their ending (the property) and differ in their beginning (the concept): ``log p(property
| acceptable prefix)`` against ``log p(property | unacceptable prefix)``. Its items carry the
bad candidate's own context in ``bad_context``; see :func:`_comps_pairs`.

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
from antlm.jsonfile import load_json

__all__ = [
    "COMPS_DIR",
    "EWOK_NOTE",
    "EWOK_PASSWORD",
    "NO_PLAIN_TEXT",
    "PAIR_TASKS",
    "READING",
    "TASKS",
    "WUG_TASKS",
    "MinimalPair",
    "TaskDataError",
    "TaskDataMissing",
    "comps_help",
    "jsonl_records",
    "load_task",
    "load_tasks",
    "parse_task_list",
    "score_notes",
    "subtask_group",
]

EWOK_PASSWORD = b"ewok"
# Tasks whose terms forbid plain-text copies of their items (EWoK ships in a password-protected
# zip for that reason): nothing antlm writes may hold their texts (see antlm.eval.predictions).
NO_PLAIN_TEXT = frozenset({"ewok", "ewok_fast"})

DATA_HELP = (
    "Download the BabyLM evaluation data (https://babylm.github.io, evaluation data on OSF) "
    "into the data directory (--data-dir or ANTLM_DATA_DIR)."
)


class TaskDataError(AntlmError, ValueError):
    """Task data that is missing or malformed; the message says which file/line and why."""


class TaskDataMissing(TaskDataError):
    """A task's data folder is not there at all (as opposed to being there but damaged)."""


@dataclass(frozen=True)
class MinimalPair:
    """One scored comparison: ``good`` must beat ``bad`` (and every one of ``distractors``,
    for a multiple-choice item) as a continuation of ``context``."""

    task: str
    subtask: str
    good: str
    bad: str
    context: str = ""
    source: str = field(default="", compare=False)  # "FILE, line N": what an error names
    distractors: tuple[str, ...] = ()  # further wrong candidates (empty for a minimal pair)
    bad_context: str | None = None  # the bad candidate's own context (COMPS); None: `context`

    @property
    def candidates(self) -> tuple[str, ...]:
        """Every candidate in the item's order: the right one first (the pipelines' label 0)."""
        return (self.good, self.bad, *self.distractors)

    @property
    def contexts(self) -> tuple[str, ...]:
        """The context of each candidate, in the order of :attr:`candidates`."""
        bad = self.context if self.bad_context is None else self.bad_context
        return (self.context, bad, *(self.context for _ in self.distractors))


@dataclass(frozen=True)
class _TaskSpec:
    folder: str  # under the data directory
    good_key: str
    bad_key: str
    context_key: str | None = None
    zipped: bool = False


_FAST_EVAL = "evaluation_data/fast_eval"
# pairID / pair_id differ between the original and filtered BLiMP; neither is needed to score.
_SPECS: dict[str, _TaskSpec] = {
    "blimp_filtered": _TaskSpec("blimp_filtered", "sentence_good", "sentence_bad"),
    "blimp": _TaskSpec("blimp", "sentence_good", "sentence_bad"),
    "blimp_supplement": _TaskSpec("blimp_supplement", "sentence_good", "sentence_bad"),
    "ewok": _TaskSpec("ewok/ewok_filtered.zip", "Target1", "Target2", "Context1", zipped=True),
    # The official fast subsets (rows of the sets above, same formats), named after their
    # folders in the official bundle: the 2026 pipeline scores them at every checkpoint
    # (babylm-eval strict/scripts/eval_zero_shot_fast.sh). The EWoK zip is a re-pack with the
    # password of ewok_filtered.zip (the data directory's PROVENANCE.md).
    "blimp_fast": _TaskSpec(f"{_FAST_EVAL}/blimp_fast", "sentence_good", "sentence_bad"),
    "supplement_fast": _TaskSpec(f"{_FAST_EVAL}/supplement_fast", "sentence_good", "sentence_bad"),
    "ewok_fast": _TaskSpec(f"{_FAST_EVAL}/ewok_fast.zip", "Target1", "Target2", "Context1",
                           zipped=True),
}
# Entity tracking, full and fast sets: the official bundle's layout under the data directory
# (the 2025 pipeline's eval_zero_shot.sh and eval_zero_shot_fast.sh point at these folders).
_ENTITY_TRACKING: dict[str, str] = {
    "entity_tracking": "evaluation_data/full_eval/entity_tracking",
    "entity_tracking_fast": f"{_FAST_EVAL}/entity_tracking_fast",
}
# COMPS, where the 2025 and 2026 pipelines' eval_zero_shot.sh point (full evaluation only).
COMPS = "comps"
COMPS_DIR = "evaluation_data/full_eval/comps"
WORD_ORDER = "word_order"
# Tasks read and scored by their own modules, not as accuracies over pairs: WUG
# (antlm.eval.wug: a Spearman correlation with human ratios) and reading (antlm.eval.reading:
# per-word surprisal in regressions on reading times).
WUG_TASKS: tuple[str, ...] = ("wug_adj", "wug_past")
READING = "reading"
PAIR_TASKS: frozenset[str] = (frozenset(_SPECS) | frozenset(_ENTITY_TRACKING)
                              | {COMPS, WORD_ORDER})
TASKS: frozenset[str] = PAIR_TASKS | set(WUG_TASKS) | {READING}
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


def jsonl_records(lines: Iterable[str], where: str) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` of every non-blank line; a line that is not a JSON object is
    refused naming ``where`` and its line."""
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = load_json(line, f"{where}, line {lineno}")
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
    task: str, folder: str, data_dir: Path, zipped: bool = False
) -> Iterator[tuple[str, str, list[str]]]:
    """Yield ``(file stem, where, lines)`` per file, sorted by stem for stable output."""
    path = data_dir / folder
    if not path.exists():
        raise TaskDataMissing(f"task {task!r}: {path} not found. {DATA_HELP}")
    if zipped:
        for member, text in _zip_members(task, path):
            yield Path(member).stem, f"{path}!{member}", text.splitlines()
        return
    files = sorted(path.glob("*.jsonl"))
    if not files:
        raise TaskDataError(f"task {task!r}: no .jsonl files in {path}. {DATA_HELP}")
    for file in files:
        if not file.is_file():
            raise TaskDataError(f"{file} is a folder or a special file, not a data file; "
                                f"restore it from the BabyLM evaluation data. {DATA_HELP}")
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise TaskDataError(f"{file}: not UTF-8 text (byte {exc.start}); restore it from the "
                                f"BabyLM evaluation data. {DATA_HELP}") from None
        yield file.stem, str(file), text.splitlines()


def _zip_members(task: str, path: Path) -> list[tuple[str, str]]:
    """``(member, text)`` of every ``.jsonl`` member of a password-protected task zip, read in
    memory; a zip that is damaged, or locked by another password, is refused by name."""
    if not path.is_file():
        raise TaskDataError(f"{path} is a folder or a special file, not a zip file; restore "
                            f"it from the BabyLM evaluation data. {DATA_HELP}")
    try:
        with zipfile.ZipFile(path) as archive:
            archive.setpassword(EWOK_PASSWORD)
            members = sorted(n for n in archive.namelist() if n.endswith(".jsonl"))
            texts = [(member, archive.read(member).decode("utf-8")) for member in members]
    except RuntimeError as exc:  # zipfile's "Bad password for file ..."
        raise TaskDataError(f"{path}: cannot be opened with task {task!r}'s password ({exc}); "
                            f"restore it from the BabyLM evaluation data. {DATA_HELP}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        # ValueError: a member that is not UTF-8 (UnicodeDecodeError) among others
        raise TaskDataError(f"{path}: not a readable zip of task data ({exc}); restore it "
                            f"from the BabyLM evaluation data. {DATA_HELP}") from None
    if not texts:
        raise TaskDataError(f"task {task!r}: {path} holds no .jsonl files. {DATA_HELP}")
    return texts


def load_task(
    task: str, data_dir: str | Path, max_pairs_per_subtask: int | None = None,
    comps_dir: str | Path | None = None,
) -> list[MinimalPair]:
    """All pairs of ``task``, subtask by subtask (file order within a subtask).

    ``max_pairs_per_subtask`` keeps the first N pairs of each subtask: deterministic, so quick
    runs are comparable with each other (not with full runs). ``comps_dir``: where COMPS's
    files are, when not at their official place under the data directory (:data:`COMPS_DIR`).
    """
    if task not in PAIR_TASKS:
        raise ValueError(f"unknown pair task {task!r}; allowed: {', '.join(sorted(PAIR_TASKS))}")
    if task == WORD_ORDER:
        return _word_order_pairs(data_dir, max_pairs_per_subtask)
    if task == COMPS:
        folder = Path(comps_dir) if comps_dir is not None else Path(data_dir) / COMPS_DIR
        return _comps_pairs(folder, max_pairs_per_subtask)
    if task in _ENTITY_TRACKING:
        return _entity_tracking_pairs(task, Path(data_dir), max_pairs_per_subtask)
    spec = _SPECS[task]
    pairs: list[MinimalPair] = []
    for subtask, where, lines in _subtask_files(task, spec.folder, Path(data_dir), spec.zipped):
        # every record is parsed, so a damaged file is refused whatever --max-pairs keeps
        records = _file_records(lines, where)
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


def _file_records(lines: list[str], where: str) -> list[tuple[int, dict]]:
    """Every record of one file with its line number; a file without any is refused."""
    if not any(line.strip() for line in lines):
        raise TaskDataError(f"{where} holds no pairs (it is empty or blank); restore it "
                            f"from the BabyLM evaluation data. {DATA_HELP}")
    return list(jsonl_records(lines, where))


def _entity_tracking_pairs(
    task: str, data_dir: Path, max_pairs_per_subtask: int | None
) -> list[MinimalPair]:
    """Every entity-tracking item of ``task``'s folder, as a multiple choice.

    The 2025 pipeline (``evaluation_pipeline/sentence_zero_shot/read_files.py``,
    ``decode_entity_tracking``) scores ``input_prefix + option`` for each option, the first
    one the right answer, and names the subset ``{file}_{numops}_ops``. The text is the plain
    concatenation; every prefix of the official files ends in one space (``"Box 3 contains
    "``), so the item is stored as ``context = prefix`` without that space, which the suite's
    separator puts back: then the scored target is ``" " + option``, the tokens of the whole
    text that overlap the option's characters, as the pipeline's offsets select
    (``dataset.py``). ``max_pairs_per_subtask`` keeps the first N items of each subset.
    """
    pairs: list[MinimalPair] = []
    width: tuple[int, str] | None = None  # the task's candidate count, and where it was first
    for stem, where, lines in _subtask_files(task, _ENTITY_TRACKING[task], data_dir):
        kept: dict[str, int] = {}
        for lineno, record in _file_records(lines, where):
            pair = _entity_tracking_item(task, stem, record, where, lineno)
            width = width or (len(pair.candidates), pair.source)
            if len(pair.candidates) != width[0]:
                raise TaskDataError(
                    f"{pair.source}: {len(pair.candidates)} options, but {width[1]} has "
                    f"{width[0]}; every item of a task is ranked among as many candidates")
            kept[pair.subtask] = kept.get(pair.subtask, 0) + 1
            if max_pairs_per_subtask is None or kept[pair.subtask] <= max_pairs_per_subtask:
                pairs.append(pair)
    return pairs


def _entity_tracking_item(
    task: str, stem: str, record: dict, where: str, lineno: int
) -> MinimalPair:
    """One record as a multiple-choice item, or a :class:`TaskDataError` naming its line."""
    at = f"{where}, line {lineno}"
    numops = record.get("numops")
    if not isinstance(numops, int) or isinstance(numops, bool) or numops < 0:
        raise TaskDataError(f"{at}: field 'numops' is missing or not a whole number >= 0")
    prefix = record.get("input_prefix")
    if not isinstance(prefix, str) or not prefix.strip() or not prefix.endswith(" ") \
            or prefix[:-1] != prefix[:-1].rstrip():
        raise TaskDataError(f"{at}: field 'input_prefix' is missing or does not end in exactly "
                            "one space (the options follow it directly)")
    options = record.get("options")
    if (not isinstance(options, list) or len(options) < 2
            or not all(isinstance(o, str) and o.strip() and o == o.lstrip() for o in options)):
        raise TaskDataError(f"{at}: field 'options' is missing or not a list of at least two "
                            "non-empty strings that start with no space")
    return MinimalPair(task=task, subtask=f"{stem}_{numops}_ops", good=options[0],
                       bad=options[1], context=prefix[:-1], source=at,
                       distractors=tuple(options[2:]))


def comps_help(folder: Path) -> str:
    """What a missing COMPS folder is reported as, and where to get it."""
    return (f"no data: COMPS is not in the data directory (looked in {folder}); get it from "
            f"the BabyLM evaluation data (https://osf.io/ryjfm/, {COMPS_DIR}) or from "
            "https://github.com/kanishkamisra/comps, and place it there or pass --comps-dir")


# The file stems of the official COMPS files and the subset names the 2026 pipeline gives
# them (read_files.py, decode_comps: any other stem is "wugs_dist_in_between").
_COMPS_SUBSETS = {"comps_base": "base", "comps_wugs": "wugs",
                  "comps_wugs_dist-before": "wugs_dist_before",
                  "comps_wugs_dist-in-between": "wugs_dist_in_between"}


def _comps_pairs(folder: Path, max_pairs_per_subtask: int | None) -> list[MinimalPair]:
    """Every COMPS item of ``folder``'s ``comps_*.jsonl`` files.

    The 2026 pipeline (``strict/evaluation_pipeline/sentence_zero_shot/read_files.py``,
    ``decode_comps``) builds ``prefix + " " + property_phrase`` for the acceptable and the
    unacceptable prefix, and scores the completion ``property_phrase`` (``dataset.py``: the
    characters from ``len(sentence) - len(completion)``), label 0 the acceptable one. Here
    the item is ``context = prefix_acceptable``, ``bad_context = prefix_unacceptable`` and
    ``good == bad == property_phrase``: the suite's separator is the pipeline's space. A file
    stem outside the four official ones is refused (its subset name would be a guess).
    """
    if not folder.is_dir():
        raise TaskDataMissing(comps_help(folder))
    pairs: list[MinimalPair] = []
    for stem, where, lines in _subtask_files(COMPS, folder.name, folder.parent):
        if stem not in _COMPS_SUBSETS:
            raise TaskDataError(f"{where}: not a COMPS file (expected one of "
                                f"{', '.join(sorted(_COMPS_SUBSETS))}.jsonl)")
        for lineno, record in _file_records(lines, where)[:max_pairs_per_subtask]:
            phrase = _text(record, "property_phrase", where, lineno)
            pairs.append(MinimalPair(
                task=COMPS, subtask=_COMPS_SUBSETS[stem], good=phrase, bad=phrase,
                context=_text(record, "prefix_acceptable", where, lineno),
                bad_context=_text(record, "prefix_unacceptable", where, lineno),
                source=f"{where}, line {lineno}"))
    return pairs


def subtask_group(task: str, subtask: str) -> str | None:
    """The group a subtask's accuracy is first averaged in, None for a task whose score is
    the plain mean of its subtasks.

    Entity tracking's score is a mean of means (2025 pipeline, ``sentence_zero_shot/run.py``,
    ``process_results``): each file's (``regular``, ``ambiref``, ``move_contents``) accuracy is
    the unweighted mean of its ``{file}_{numops}_ops`` subsets, and the task's the mean of the
    files'. The pipeline finds a file's subsets by those three names as prefixes; antlm takes
    the file name back from the subset's, which is the same for the official files.
    """
    if task not in _ENTITY_TRACKING:
        return None
    return subtask.rsplit("_", 2)[0]


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


# Tasks whose data is not part of every copy of the evaluation data (COMPS came as a hidden
# task): when their folder is absent, an evaluation records them as missing, with the reason,
# and scores the rest, rather than stopping.
OPTIONAL_DATA = frozenset({COMPS})


def load_tasks(
    tasks: Iterable[str], data_dir: str | Path, max_pairs_per_subtask: int | None = None,
    comps_dir: str | Path | None = None,
) -> tuple[dict[str, list[MinimalPair]], dict[str, str]]:
    """``(pairs per task, reason per task left out)``: every task is read before anything is
    scored; a task of :data:`OPTIONAL_DATA` whose folder is absent is left out with the
    reason, any other missing or damaged data raises :class:`TaskDataError`."""
    data: dict[str, list[MinimalPair]] = {}
    missing: dict[str, str] = {}
    for task in tasks:
        try:
            data[task] = load_task(task, data_dir, max_pairs_per_subtask, comps_dir)
        except TaskDataMissing as exc:
            if task not in OPTIONAL_DATA:
                raise
            missing[task] = str(exc)
    return data, missing
