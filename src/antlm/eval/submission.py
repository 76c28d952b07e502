"""``antlm submission``: a run's BabyLM 2026 leaderboard submission, in the official layout.

The leaderboard takes one collated file, written by the official ``collate_preds.py`` from
per-task ``predictions.json`` files, and scores it with ``calculate_results_from_pred.py``
(babylm-org/babylm-eval, ``strict/evaluation_pipeline/``). Both are read here for facts, never
copied:

* the layout (``collate_preds.py``, ``_check_validity_of_dir``, and the ``output_path`` of
  ``sentence_zero_shot/run.py`` and ``finetune/run.py``):
  ``RESULTS/MODEL/REVISION/zero_shot/BACKEND/TASK/DATASET/predictions.json`` and
  ``RESULTS/MODEL/REVISION/finetune/TASK/predictions.json``; ``MODEL`` is the stem of the model's
  name, ``REVISION`` ``main`` for the final model and ``chck_*M`` for the fast evaluations;
* a ``predictions.json`` (``sentence_zero_shot/compute_results.py``):
  ``{UID: {"predictions": [{"id": "UID_n", "pred": TEXT}, ...]}}`` in data-file order, where
  ``TEXT`` is the completion of the candidate the model ranks first (``read_files.py``): the
  sentence for BLiMP and its supplement, ``" " + target`` for EWoK, the option for entity
  tracking, and for COMPS the whole sentence, prefix and property (``rank_and_evaluate``
  writes COMPS's ``sentences``, every other task's ``completions``); for GLUE
  (``finetune/run.py``) ``{TASK: {"predictions": [{"id": "TASK_i", "pred": LABEL}]}}`` over
  the validation file;
* the collated file ``MODEL/all_full_preds_and_fast_scores_BACKEND.json`` (``collate_preds``):
  the final model's predictions by benchmark (``blimp``, ``blimp_supplement``, ``ewok``,
  ``entity_tracking``, ..., ``glue``: every GLUE task's dict merged), and with ``--fast``
  ``fast_eval_results``: per fast task, one dict of subtask accuracies per revision of the
  track (``STRICT_SMALL_FAST_REVISIONS`` / ``OTHER_FAST_REVISIONS``);
* ``calculate_results_from_pred.py`` reads ``MODEL/main/all_full_preds_BACKEND.json``, not the
  collated file's name, so the same predictions are written there too, for the official scorer
  to run on as it is; with ``--fast --revision_name REVISION`` it reads
  ``MODEL/REVISION/all_fast_preds_BACKEND.json``, the seven fast parts' predictions of that
  revision under the same keys, written for every revision that has all seven.

Every required part is a :class:`Part` of :data:`FULL_PARTS` or :data:`FAST_PARTS` (the seven
files ``collate_preds.py`` requires at every revision). A zero-shot part is scored by
:func:`antlm.eval.runner.evaluate_subject` with predictions saved, and its *kind* turns those
into the official file, its leaderboard score(s) and its ``fast_eval_results`` entry
(:data:`_CONVERTERS`: multiple choice, WUG, reading); AoA is computed over the run's milestone
checkpoints (:func:`_aoa`), GLUE by fine-tuning. A part whose data is not here (COMPS, unless
its folder is given) is listed as missing with its reason. What is missing, and why (no data
here, a GLUE train file absent, items longer than the model's context, revisions the run never
reached), is in the report; a collated file with a part missing is marked incomplete and the
leaderboard would refuse it, as ``collate_preds.py`` would. Damaged data is refused by name, as
everywhere in antlm, never listed as missing.

The submission folder keeps what it computed: ``antlm_submission.json`` records each part with
the hash of the weights and the settings it was computed under, so a rerun reuses a part only
when both are the same; an interrupted scoring resumes from its kept chunks
(:mod:`antlm.eval.partial`, under ``MODEL/.antlm-work/``). The two differ on damage. A kept
chunk or a revision's kept AoA surprisals that cannot be read is scored again, as a cache
entry is: it holds nothing that scoring does not give back. A damaged manifest is refused by
name before any work: it is the index of the submission's files and of the scores the report
shows, so a silent rebuild would redo hours of scoring and fine-tuning, overwrite every part,
and hide whatever damaged the folder (which may have reached the parts' files too); deleting
it is the user's one-line choice to compute everything again.

The submission holds EWoK's targets as text, as the official format requires: it is for the
leaderboard only, and must not be published (EWoK terms).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from antlm.atomic import atomic_write_bytes
from antlm.config import ConfigError, FinetuneConfig
from antlm.device import resolve_device
from antlm.errors import AntlmError
from antlm.eval.aoa import compute_aoa, load_aoa_data, revision_surprisals
from antlm.eval.finetune import finetune_run
from antlm.eval.glue import TASKS as GLUE_TASK_SPECS
from antlm.eval.glue import read_split, split_path
from antlm.eval.partial import weights_digest
from antlm.eval.predictions import item_identity, predictions_path
from antlm.eval.reading import reading_scores
from antlm.eval.runner import TaskItems, evaluate_subject, load_items
from antlm.eval.scoring import check_fits, declared_backend
from antlm.eval.subject import subject_of_run
from antlm.eval.suites import Suite
from antlm.eval.tables import render_table
from antlm.eval.tasks import COMPS, MinimalPair, TaskDataError
from antlm.jsonfile import read_json_file
from antlm.outputs import OutputError, refuse_run_directory
from antlm.rules import check_submission_rules
from antlm.rundir import (
    CHECKPOINT_PREFIX,
    Checkpoint,
    RunPaths,
    list_checkpoints,
    load_run,
    read_config,
    read_state,
)
from antlm.speeds import format_duration

__all__ = [
    "FAST_PARTS",
    "FULL_PARTS",
    "OFFICIAL_BACKENDS",
    "TRACK_REVISIONS",
    "Part",
    "SubmissionError",
    "SubmissionReport",
    "glue_recipe",
    "official_predictions",
    "write_submission",
]

# collate_preds.py: --backend choices that antlm's backends can be (enc_dec_* are not).
OFFICIAL_BACKENDS = ("causal", "mlm", "mntp")
# collate_preds.py: STRICT_SMALL_FAST_REVISIONS and OTHER_FAST_REVISIONS.
_SMALL = [f"{CHECKPOINT_PREFIX}{i}M" for i in range(1, 10)]
TRACK_REVISIONS: dict[str, tuple[str, ...]] = {
    "strict-small": (*_SMALL, *(f"{CHECKPOINT_PREFIX}{10 * i}M" for i in range(1, 11))),
    "strict": (*_SMALL, *(f"{CHECKPOINT_PREFIX}{10 * i}M" for i in range(1, 10)),
               *(f"{CHECKPOINT_PREFIX}{100 * i}M" for i in range(1, 11))),
}
MANIFEST = "antlm_submission.json"
WORK_DIR = ".antlm-work"


class SubmissionError(AntlmError):
    """A submission that cannot be written as asked (a backend the leaderboard does not take,
    predictions that do not match the data)."""


@dataclass(frozen=True)
class Part:
    """One ``predictions.json`` the leaderboard requires.

    ``key``: its key in the collated file (a GLUE task's name, under ``glue``); ``where``: its
    path under ``REVISION/`` (``{backend}`` filled in); ``task``: the antlm task that makes it,
    ``"glue"`` for a fine-tuned task; ``kind``: how antlm's predictions of a zero-shot task
    become the official file and the leaderboard's score (a key of :data:`_CONVERTERS`;
    ``aoa`` and GLUE have their own paths).
    """

    key: str
    where: str
    task: str
    kind: str = "choice"

    def path(self, backend: str) -> str:
        return self.where.format(backend=backend)


_ZS = "zero_shot/{backend}/"
_WUG_ADJ = _ZS + "wug_adj/wug_adj_nominalization/predictions.json"
_WUG_PAST = _ZS + "wug_past/wug_past_tense/predictions.json"
_READING = _ZS + "reading/predictions.json"
FULL_PARTS: tuple[Part, ...] = (
    Part("blimp", _ZS + "blimp/blimp_filtered/predictions.json", "blimp_filtered"),
    Part("blimp_supplement", _ZS + "blimp/supplement_filtered/predictions.json",
         "blimp_supplement"),
    Part("ewok", _ZS + "ewok/ewok_filtered/predictions.json", "ewok"),
    Part("entity_tracking", _ZS + "entity_tracking/entity_tracking/predictions.json",
         "entity_tracking"),
    Part("wug_adj", _WUG_ADJ, "wug_adj", kind="wug"),
    Part("wug_past", _WUG_PAST, "wug_past", kind="wug"),
    Part("comps", _ZS + "comps/comps/predictions.json", COMPS),
    Part("reading", _READING, "reading", kind="reading"),
    Part("aoa", _ZS + "AoA_word/surprisal.json", "aoa", kind="aoa"),
    *(Part(task, f"finetune/{task}/predictions.json", "glue", kind="glue")
      for task in ("boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc")),
)
# collate_preds.py (_check_validity_of_dir with fast=True, get_revision_fast_eval_metrics):
# exactly these seven files at every revision of the track; WUG and reading are the full sets.
FAST_PARTS: tuple[Part, ...] = (
    Part("blimp", _ZS + "blimp/blimp_fast/predictions.json", "blimp_fast"),
    Part("blimp_supplement", _ZS + "blimp/supplement_fast/predictions.json", "supplement_fast"),
    Part("ewok", _ZS + "ewok/ewok_fast/predictions.json", "ewok_fast"),
    Part("entity_tracking", _ZS + "entity_tracking/entity_tracking_fast/predictions.json",
         "entity_tracking_fast"),
    Part("wug_adj", _WUG_ADJ, "wug_adj", kind="wug"),
    Part("wug_past", _WUG_PAST, "wug_past", kind="wug"),
    Part("reading", _READING, "reading", kind="reading"),
)
# The candidate's text as the official pipeline writes it (read_files.py: EWoK's completions
# are " " + target; every other task's are the candidates themselves).
_LEADING_SPACE = frozenset({"ewok", "ewok_fast"})


@dataclass
class SubmissionReport:
    """What was written, what is missing and why, and the scores by the leaderboard's rule."""

    folder: Path
    model: str
    backend: str
    written: dict[str, str] = field(default_factory=dict)  # "REVISION/key" -> path
    missing: dict[str, str] = field(default_factory=dict)  # "REVISION/key" or key -> why
    scores: dict[str, float] = field(default_factory=dict)  # key -> score (%), official rule
    reused: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # work done now, by part(s)
    collated: Path | None = None

    @property
    def complete(self) -> bool:
        return not self.missing

    def render(self) -> str:
        rows = [[key, f"{score:.2f}"] for key, score in self.scores.items()]
        state = "complete" if self.complete else "INCOMPLETE, the leaderboard would refuse it"
        lines = [f"Submission of {self.model} (backend {self.backend}): {state}",
                 f"collated file: {self.collated}", "",
                 ("Scores by the leaderboard's rule (calculate_results_from_pred.py): %, "
                  "except AoA's Pearson r"),
                 render_table(["part", "score"], rows, "terminal")]
        if self.seconds:
            lines += ["", "time: " + ", ".join(f"{key} {format_duration(s)}"
                                               for key, s in self.seconds.items())]
        if self.reused:
            lines += ["", f"reused from an earlier run of this command: {', '.join(self.reused)}"]
        if self.missing:
            lines += ["", "missing:"] + [f"  {key}: {why}" for key, why in self.missing.items()]
        return "\n".join(lines)


# ---------------------------------------------------------------------------- formats
def official_predictions(
    task: str, pairs: Sequence[MinimalPair], chosen: Sequence[int]
) -> dict[str, dict[str, list[dict[str, str]]]]:
    """``{UID: {"predictions": [{"id": "UID_n", "pred": TEXT}]}}``: per item, the text of the
    candidate ranked first, as the official pipeline writes it (see the module docstring)."""
    out: dict[str, dict[str, list[dict[str, str]]]] = {}
    for pair, index in zip(pairs, chosen, strict=True):
        items = out.setdefault(pair.subtask, {"predictions": []})["predictions"]
        items.append({"id": f"{pair.subtask}_{len(items)}",
                      "pred": _official_text(task, pair, int(index))})
    return out


def _official_text(task: str, pair: MinimalPair, index: int) -> str:
    """The text the official pipeline writes for candidate ``index`` of ``pair``: EWoK's
    completion with its leading space, COMPS's whole sentence (its candidates share the
    property and differ in the prefix, antlm's ``context`` and ``bad_context``), every other
    task's candidate itself."""
    if task == COMPS:
        prefix = pair.context if index == 0 else pair.bad_context
        return f"{prefix} {pair.candidates[index]}"
    return (" " if task in _LEADING_SPACE else "") + pair.candidates[index]


def _chosen_from_records(
    path: Path, pairs: Sequence[MinimalPair], suite: Suite, backend: str
) -> np.ndarray:
    """Per pair, the candidate the suite picks under ``backend``, read from antlm's
    ``--save-predictions`` file and checked item by item against the data: a file from other
    data, or in another order, is refused rather than turned into wrong predictions."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if len(lines) != len(pairs):
        raise SubmissionError(f"{path}: {len(lines)} items, but the data has {len(pairs)}")
    scores = []
    for lineno, (record, pair) in enumerate(zip(lines, pairs), start=1):
        identity = item_identity(pair.task, pair)
        if record.get("subtask") != pair.subtask or any(
                record.get(key) != value for key, value in identity.items()):
            raise SubmissionError(f"{path}:{lineno}: not the data's item {pair.source}")
        item = record["scores"][backend]
        scores.append(item if isinstance(item, list) else [item["good"], item["bad"]])
    return suite.chosen(np.array(scores, dtype=np.float64))


def _shares(official: dict[str, dict[str, list[dict[str, Any]]]],
            targets: dict[str, list[Any]]) -> dict[str, float]:
    """Per subtask, the share of items whose prediction equals the target: the fast sets'
    ``fast_eval_results`` entry (``collate_preds.py``, ``_calculate_target_results``)."""
    return {subtask: sum(_same(item["pred"], target) for item, target
                         in zip(block["predictions"], targets[subtask], strict=True))
            / len(block["predictions"]) for subtask, block in official.items()}


def _accuracy(official: dict[str, dict[str, list[dict[str, Any]]]],
              targets: dict[str, list[Any]]) -> float:
    """The leaderboard's score of one part (calculate_results_from_pred.py): the unweighted
    mean over subtasks (entity tracking: over its ``FILE_N_ops`` subsets, all files together)
    of the percentage of items whose prediction equals the target."""
    shares = _shares(official, targets)
    return 100 * sum(shares.values()) / len(shares)


def _same(pred: Any, target: Any) -> bool:
    return pred.strip() == target.strip() if isinstance(pred, str) else pred == target


def _targets(task: str, pairs: Sequence[MinimalPair]) -> dict[str, list[str]]:
    """Per subtask, the right answer of every item as the scorer compares it (candidate 0's
    official text: ``sentence_good``, ``Target1``, ``options[0]``, COMPS's acceptable
    sentence)."""
    out: dict[str, list[str]] = {}
    for pair in pairs:
        out.setdefault(pair.subtask, []).append(_official_text(task, pair, 0))
    return out


# ---------------------------------------------------------------------------- converters
@dataclass(frozen=True)
class _Converted:
    """A zero-shot part made official: its file, its leaderboard score(s) and its fast entry."""

    official: dict[str, Any]  # the part's predictions.json
    scores: dict[str, float]  # report row -> score by calculate_results_from_pred.py's rule
    fast: dict[str, float]  # its fast_eval_results entry at a revision (collate_preds.py)


def _records(path: Path, count: int, what: str) -> list[dict[str, Any]]:
    """antlm's ``--save-predictions`` lines, refused unless there is one per data item."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if len(lines) != count:
        raise SubmissionError(f"{path}: {len(lines)} items, but {what} has {count}")
    return lines


def _choice(work: Path, part: Part, items: TaskItems, suite: Suite, backend: str
            ) -> _Converted:
    """A multiple-choice part: ``pred`` the text of the candidate ranked first, scored by
    accuracy (see :func:`official_predictions`)."""
    task = part.task
    pairs = items.pairs[task]
    chosen = _chosen_from_records(predictions_path(work, suite, task), pairs, suite,
                                  backend)
    official = official_predictions(task, pairs, chosen)
    targets = _targets(task, pairs)
    return _Converted(official, {part.key: _accuracy(official, targets)},
                      _shares(official, targets))


def _wug(work: Path, part: Part, items: TaskItems, suite: Suite, backend: str
         ) -> _Converted:
    """A WUG part (compute_results.py, ``rank_and_evaluate_wug``): ``{TASK: {"predictions":
    [{"id": "TASK_n", "pred": the chosen sentence, "prob": the first's probability}]}}``;
    the leaderboard's score is Spearman's rho of ``prob`` against the data's ``ratio`` times
    100 (``_calculate_wug_results``), the fast entry rho itself (``_calculate_wugs_results``)."""
    wug = items.wugs[part.task]
    path = predictions_path(work, suite, part.task)
    items, scores = [], []
    for lineno, (record, pair) in enumerate(zip(_records(path, len(wug.pairs), "the data"),
                                                wug.pairs), start=1):
        if record.get("candidates") != list(pair.candidates):
            raise SubmissionError(f"{path}:{lineno}: not the data's item {pair.source}")
        items.append({"id": record["id"],
                      "pred": pair.candidates[record["chosen"][backend]],
                      "prob": record["prob"][backend]})
        scores.append(record["scores"][backend])
    rho = wug.summary(np.asarray(scores, dtype=np.float64))["score"]
    rho = math.nan if rho is None else rho  # every prob equal: scipy's NaN, as upstream
    return _Converted({wug.task: {"predictions": items}}, {part.key: 100 * rho},
                      {wug.task: rho})


def _reading(work: Path, part: Part, items: TaskItems, suite: Suite, backend: str
             ) -> _Converted:
    """The reading part (reading/run.py): ``{"reading": {"predictions": [{"id": ROW, "pred",
    "prev_pred"}]}}``, NaN where a row has no previous word (as run.py writes it); the
    leaderboard's two scores are the regressions' gains of :func:`reading_scores` times 100
    (``_calculate_reading_results``), the fast entry the gains as ``spr`` and ``rt``."""
    data = items.reading
    assert data is not None  # the items of the reading task
    path = predictions_path(work, suite, part.task)
    records = _records(path, len(data), "the data")
    pred = np.array([_nan(r["pred"][backend]) for r in records])
    prev = np.array([_nan(r["prev_pred"][backend]) for r in records])
    items = [{"id": r["id"], "pred": p, "prev_pred": q}
             for r, p, q in zip(records, pred.tolist(), prev.tolist())]
    gains = {measure: float(np.mean([fit["gain"] for fit in fits.values()]))
             for measure, fits in reading_scores(data.measures, pred, prev).items()}
    return _Converted({part.key: {"predictions": items}},
                      {measure: 100 * gain for measure, gain in gains.items()},
                      {"spr": gains["reading_spr"], "rt": gains["reading_et"]})


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


# How each kind of zero-shot part is made official and scored (from antlm's predictions under
# ``work``, for the items scored, as ``suite`` chooses under ``backend``).
_CONVERTERS = {"choice": _choice, "wug": _wug, "reading": _reading}
# The kinds whose items must fit the model's context before they are scored (reading checks
# its own texts).
_FITTED = frozenset({"choice", "wug"})


# ---------------------------------------------------------------------------- the work
@dataclass
class _Context:
    run_dir: Path
    model_dir: Path  # OUT/MODEL
    data_dir: Path
    suite: Suite
    backend: str
    batch_size: int
    device: str
    progress: bool
    glue: FinetuneConfig
    manifest: dict[str, Any]
    report: SubmissionReport
    comps_dir: Path | None = None  # COMPS's folder when not under the data directory
    loaded: dict[str, TaskItems] = field(default_factory=dict)  # per task, read once

    def items(self, tasks: Sequence[str]) -> TaskItems:
        """The items of ``tasks``, each read once for the whole command: the final model and
        every revision score overlapping tasks (WUG and reading at all of them), and each
        part's file is made from the items it was scored on."""
        for task in tasks:
            if task not in self.loaded:
                self.loaded[task] = load_items([task], self.data_dir,
                                               comps_dir=self.comps_dir)
        return TaskItems.combine([self.loaded[task] for task in tasks])

    def save_manifest(self) -> None:
        atomic_write_bytes(self.model_dir / MANIFEST,
                           json.dumps(self.manifest, indent=1).encode())


def _stamp(ctx: _Context, digest: str, part: Part) -> dict[str, Any]:
    """What a part's file depends on: reused only when all of it is the same."""
    stamp = {"weights": digest, "suite": ctx.suite.name, "backend": ctx.backend}
    if part.kind == "glue":
        stamp["glue"] = dataclasses.asdict(ctx.glue)
    return stamp


def _zero_shot(ctx: _Context, revision: str, parts: Sequence[Part], digest: str,
               loaded: Any) -> None:
    """Score the parts not yet written for these weights, with predictions, and write each
    part's official file through its kind's converter."""
    todo = [part for part in parts if not _reused(ctx, revision, part, digest)]
    for part in list(todo):
        items = ctx.items([part.task])  # damaged data stops here, named: never "missing"
        absent = items.missing.get(part.task)
        if absent is not None:  # an optional task's folder (COMPS's) is not here
            ctx.report.missing[part.key] = absent  # "no data: ..., get it from ..."
            todo.remove(part)
            continue
        if part.kind not in _FITTED:
            continue
        try:
            check_fits(loaded.model, loaded.tokenizer, items.task_pairs(part.task),
                       [ctx.backend], ctx.suite)
        except TaskDataError as exc:
            ctx.report.missing[f"{revision}/{part.key}"] = f"the model cannot score it: {exc}"
            todo.remove(part)
    if not todo:
        return
    work = ctx.model_dir / WORK_DIR / revision
    subject = dataclasses.replace(subject_of_run(loaded), results_dir=work)
    tasks = [part.task for part in todo]
    items = ctx.items(tasks)
    meta = evaluate_subject(subject, tasks, ctx.data_dir, ctx.suite, ctx.backend,
                            ctx.batch_size, None, "fp32", ctx.progress,
                            save_predictions=True, loaded=items)["meta"]
    ctx.report.seconds[f"{revision}: {', '.join(tasks)}"] = meta["seconds"]
    for part in todo:
        converted = _CONVERTERS[part.kind](work, part, items, ctx.suite, ctx.backend)
        _record(ctx, revision, part, converted.official, converted.scores, digest,
                None if revision == "main" else converted.fast)


def _reused(ctx: _Context, revision: str, part: Part, digest: str) -> bool:
    """Whether the part's file of an earlier run of the command holds for these weights and
    settings; if so it is reported as written, with its recorded scores."""
    label = f"{revision}/{part.key}"
    entry = ctx.manifest.get(label)
    target = ctx.model_dir / revision / part.path(ctx.backend)
    if not (entry and entry.get("stamp") == _stamp(ctx, digest, part) and target.exists()
            and "scores" in entry):
        return False
    ctx.report.written[label] = str(target)
    ctx.report.reused.append(label)
    if revision == "main":
        ctx.report.scores.update(entry["scores"])
    return True


def _record(ctx: _Context, revision: str, part: Part, official: dict[str, Any],
            scores: dict[str, float], digest: str, fast: dict[str, float] | None = None) -> None:
    """Write a part's official file and note it, its scores and its fast entry."""
    label = f"{revision}/{part.key}"
    target = ctx.model_dir / revision / part.path(ctx.backend)
    atomic_write_bytes(target, json.dumps(official).encode("utf-8"))
    ctx.manifest[label] = {"stamp": _stamp(ctx, digest, part), "scores": scores, "fast": fast}
    ctx.save_manifest()
    ctx.report.written[label] = str(target)
    if revision == "main":
        ctx.report.scores.update(scores)


def _glue(ctx: _Context, part: Part, digest: str) -> None:
    glue_dir = ctx.data_dir / "glue"
    absent = [split for split in ("train", "valid")
              if not split_path(glue_dir, part.key, split).exists()]
    if absent:
        ctx.report.missing[part.key] = (
            f"GLUE {' and '.join(absent)} file absent ({part.key}.{absent[0]}.jsonl)")
        return
    if _reused(ctx, "main", part, digest):
        return
    outcome = finetune_run(ctx.run_dir, [part.key], ctx.data_dir, ctx.glue, ctx.device,
                           ctx.progress)[part.key]
    assert outcome.predictions is not None  # both files exist
    ctx.report.seconds[f"glue/{part.key}"] = outcome.record["seconds"]
    labels = [e.label for e in read_split(GLUE_TASK_SPECS[part.key],
                                          split_path(glue_dir, part.key, "valid"))]
    official = {part.key: {"predictions": [{"id": f"{part.key}_{i}", "pred": int(p)}
                                           for i, p in enumerate(outcome.predictions)]}}
    _record(ctx, "main", part, official,
            {f"glue/{part.key}": _accuracy(official, {part.key: labels})}, digest)


def _combined(ctx: _Context, revision: str, parts: Sequence[Part]) -> dict[str, Any]:
    """The predictions of a revision's written ``parts`` in one object, by collated key (every
    GLUE task's under ``glue``), as ``collate_preds.py`` combines them."""
    combined: dict[str, Any] = {}
    for part in parts:
        if f"{revision}/{part.key}" not in ctx.report.written:
            continue
        path = ctx.model_dir / revision / part.path(ctx.backend)
        predictions = json.loads(path.read_text(encoding="utf-8"))
        if part.kind == "glue":
            combined.setdefault("glue", {}).update(predictions)
        else:
            combined[part.key] = predictions
    return combined


def _collate(ctx: _Context, fast_results: dict[str, list[dict[str, float]]] | None) -> Path:
    """The collated file, and the copy the official scorer reads (see the module docstring)."""
    full = _combined(ctx, "main", FULL_PARTS)
    atomic_write_bytes(ctx.model_dir / "main" / f"all_full_preds_{ctx.backend}.json",
                       json.dumps(full).encode("utf-8"))
    if fast_results is not None:
        full["fast_eval_results"] = fast_results
    collated = ctx.model_dir / f"all_full_preds_and_fast_scores_{ctx.backend}.json"
    atomic_write_bytes(collated, json.dumps(full).encode("utf-8"))
    return collated


def _fast(ctx: _Context, revisions: Sequence[str]) -> dict[str, list[dict[str, float]]] | None:
    """Score the fast parts at every revision of the track the run has; the
    ``fast_eval_results`` when every fast part is there at every revision, else None (and the
    report says what is missing)."""
    have = [c.name for c in list_checkpoints(RunPaths(ctx.run_dir))]  # in words-seen order
    unreached = [r for r in revisions if r not in have]
    if unreached:
        ctx.report.missing["fast revisions"] = (
            f"not reached by the run: {', '.join(unreached)} (the run has "
            f"{', '.join(have) or 'no milestone checkpoints'})")
    for revision in revisions:
        if revision in have:
            loaded = load_run(ctx.run_dir, resolve_device(ctx.device), revision)
            _zero_shot(ctx, revision, FAST_PARTS, weights_digest(loaded.model), loaded)
            fast = _combined(ctx, revision, FAST_PARTS)
            if len(fast) == len(FAST_PARTS):  # what the scorer's --fast reads, per revision
                atomic_write_bytes(
                    ctx.model_dir / revision / f"all_fast_preds_{ctx.backend}.json",
                    json.dumps(fast).encode("utf-8"))
    if unreached or any(
            f"{r}/{part.key}" not in ctx.report.written for r in revisions for part in FAST_PARTS):
        return None
    return {part.key: [ctx.manifest[f"{r}/{part.key}"]["fast"] for r in revisions]
            for part in FAST_PARTS}


def _aoa(ctx: _Context, part: Part, revisions: Sequence[str]) -> None:
    """The AoA part (``AoA_word/run.py``, ``evaluation_functions.py``, ``analyze_steps``):
    ``{"metadata": {...}, "results": [{"step": REVISION, "word_count": its words,
    "target_word", "context_id": the context's index among its word's, "context",
    "surprisal"}]}``, revision by revision, written under ``main/`` and scored as
    ``calculate_results_from_pred.py`` does (``AoAEvaluator.compute_curve_fitness``: Pearson's
    r, printed as it is, not as a percentage) by :func:`antlm.eval.aoa.compute_aoa`.

    The leaderboard takes exactly the track's revisions (``collate_preds.py``,
    ``_check_size_aoa``): it is computed over those the run has; a run that reached none of
    them (a test's) gets it over every milestone checkpoint it has, so that the file and its
    score can be checked, and the report says the leaderboard would refuse it."""
    checkpoints = list_checkpoints(RunPaths(ctx.run_dir))
    chosen = [c for c in checkpoints if c.name in revisions] or checkpoints
    if not chosen:
        ctx.report.missing[part.key] = "the run has no milestone checkpoints"
        return
    if [c.name for c in chosen] != list(revisions):
        ctx.report.missing[f"main/{part.key}"] = (
            f"the leaderboard needs it at {revisions[0]} .. {revisions[-1]}; written over "
            f"{', '.join(c.name for c in chosen)}")
    data = load_aoa_data(ctx.data_dir)
    surprisals = [_aoa_surprisals(ctx, data, checkpoint) for checkpoint in chosen]
    digest = hashlib.sha256(" ".join(d for d, _ in surprisals).encode()).hexdigest()
    if _reused(ctx, "main", part, digest):
        return
    context_ids = [0] * len(data.words)  # a context's index among its word's (load_eval)
    for indices in data.word_indices().values():
        for number, index in enumerate(indices):
            context_ids[index] = number
    results = [{"step": c.name, "word_count": c.milestone, "target_word": word,
                "context_id": context_id, "context": context, "surprisal": float(value)}
               for c, (_, values) in zip(chosen, surprisals)
               for word, context_id, context, value
               in zip(data.words, context_ids, data.contexts, values)]
    official = {"metadata": {"model_name": ctx.report.model, "use_bos_only": False,
                             "total_steps": len(chosen), "completed_steps": len(chosen)},
                "results": results}
    r = compute_aoa(data, [(c.name, c.milestone) for c in chosen],
                    [values for _, values in surprisals])["score"]
    _record(ctx, "main", part, official, {part.key: math.nan if r is None else r}, digest)


def _aoa_surprisals(ctx: _Context, data: Any, checkpoint: Checkpoint) -> tuple[str, np.ndarray]:
    """One revision's weights digest and AoA surprisals (NaN: a context longer than the
    model's window), kept under the work folder and reused for the same weights."""
    loaded = load_run(ctx.run_dir, resolve_device(ctx.device), checkpoint.name)
    digest = weights_digest(loaded.model)
    kept = ctx.model_dir / WORK_DIR / checkpoint.name / "aoa_surprisals.json"
    stamp = {"weights": digest, "backend": ctx.backend, "contexts": len(data.contexts)}
    stored = _kept_surprisals(kept, stamp, len(data.contexts))
    if stored is not None:
        return digest, stored
    values = revision_surprisals(loaded.model, loaded.tokenizer, data, ctx.backend,
                                 ctx.batch_size, "fp32", ctx.progress,
                                 desc=f"{checkpoint.name} aoa")
    atomic_write_bytes(kept, json.dumps({"stamp": stamp, "surprisals": [
        None if math.isnan(v) else v for v in values.tolist()]}).encode())
    return digest, values


def _kept_surprisals(path: Path, stamp: dict[str, Any], count: int) -> np.ndarray | None:
    """A revision's kept AoA surprisals when they were scored under ``stamp``; None when they
    were not, or the file cannot be read: a work file, scored again (see the module
    docstring)."""
    try:
        stored = read_json_file(path)
        values = np.array([_nan(v) for v in stored["surprisals"]], dtype=np.float64)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AntlmError):
        return None  # absent, or damaged (json.JSONDecodeError is a ValueError)
    return values if stored.get("stamp") == stamp and values.shape == (count,) else None


def _open_folder(out: Path, model: str, force: bool) -> dict[str, Any]:
    """The manifest of an earlier run of the command into ``out`` (empty for a new folder);
    a folder holding other files is refused without ``force``."""
    refuse_run_directory(out, "submission")
    manifest = out / model / MANIFEST
    if manifest.exists():
        return _read_manifest(manifest)
    ours = (out / model / WORK_DIR).is_dir()  # interrupted before its first part was written
    if out.exists() and any(out.iterdir()) and not ours and not force:
        raise OutputError(f"{out} holds files that are not a submission of {model}; choose "
                          "another folder, or pass --force to write beside them")
    return {}


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of an earlier run of the command, each entry checked for what
    :func:`_reused` and :func:`_fast` read; a damaged one is refused (see the module
    docstring)."""
    try:
        manifest = read_json_file(path)
        why = _manifest_damage(manifest)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if why:
        raise SubmissionError(f"{path} is not a submission manifest ({why}); restore it, or "
                              "delete it to compute every part of the submission again")
    return manifest


def _manifest_damage(manifest: Any) -> str | None:
    """What is wrong with a parsed manifest, None when nothing is."""
    if not isinstance(manifest, dict):
        return f"a JSON {type(manifest).__name__}, not an object"
    for label, entry in manifest.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("stamp"), dict):
            return f"entry {label!r} has no stamp"
        scores, fast = entry.get("scores"), entry.get("fast")
        if not isinstance(scores, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in scores.values()):
            return f"entry {label!r} has no scores"
        if fast is not None and not isinstance(fast, dict):
            return f"entry {label!r} has a fast entry that is not an object"
    return None


def _check_rules(paths: RunPaths, track: str, workshop_only: bool) -> None:
    """Refuse, before any work, a run that broke the track's rules (:mod:`antlm.rules`): its
    words seen and epochs from its state, its corpus as the words of one epoch."""
    state = read_state(paths)
    words = (state.words_seen or 0) if state else 0
    epochs = state.epoch if state else 0.0
    check_submission_rules(track, corpus_words=round(words / epochs) if epochs else 0,
                           words_seen=words, epochs=epochs, workshop_only=workshop_only)


def glue_recipe(max_train_examples: int | None = None,
                epochs: int | None = None) -> FinetuneConfig:
    """The BabyLM fine-tuning recipe, or with a training subset or fewer epochs, a quick check
    of the format (what ``--glue-max-train-examples`` and ``--glue-epochs`` ask for)."""
    recipe = FinetuneConfig()
    return dataclasses.replace(recipe, max_train_examples=max_train_examples,
                               epochs=recipe.epochs if epochs is None else epochs)


def write_submission(
    run_dir: str | Path,
    out: str | Path,
    data_dir: str | Path,
    suite: Suite,
    track: str = "strict-small",
    backend: str | None = None,
    batch_size: int = 64,
    glue: FinetuneConfig | None = None,
    device: str = "auto",
    progress: bool = True,
    force: bool = False,
    workshop_only: bool = False,
    comps_dir: str | Path | None = None,
) -> SubmissionReport:
    """Compute what is not yet computed and write the submission of ``run_dir`` into ``out``
    (see the module docstring); returns its report, also written to ``MODEL/submission.txt``.
    ``comps_dir``: COMPS's ``comps_*.jsonl`` folder, when not under the data directory."""
    run_dir, out = Path(run_dir), Path(out)
    if track not in TRACK_REVISIONS:
        raise ConfigError(f"--track {track!r}; allowed: {', '.join(TRACK_REVISIONS)}")
    _check_rules(RunPaths(run_dir), track, workshop_only)
    backend = backend or declared_backend(read_config(RunPaths(run_dir)))
    if backend not in OFFICIAL_BACKENDS:
        raise SubmissionError(f"--backend {backend!r}: the leaderboard takes "
                              f"{', '.join(OFFICIAL_BACKENDS)}; name one with --backend")
    glue = glue or FinetuneConfig()
    if glue.max_eval_examples is not None:
        raise SubmissionError("a submission predicts every GLUE validation item: "
                              "max_eval_examples must be None")
    model = Path(run_dir.resolve().name).stem  # collate_preds.py: model_path_or_name.stem
    manifest = _open_folder(out, model, force)
    report = SubmissionReport(out / model, model, backend)
    ctx = _Context(run_dir, out / model, Path(data_dir), suite, backend, batch_size, device,
                   progress, glue, manifest, report,
                   None if comps_dir is None else Path(comps_dir))
    print(f"antlm: submission of {model} into {out}: "
          f"{', '.join(p.key for p in FULL_PARTS)} of the final model; "
          f"the fast sets at {len(TRACK_REVISIONS[track])} revisions ({track})",
          file=sys.stderr, flush=True)
    loaded = load_run(run_dir, resolve_device(device))
    digest = weights_digest(loaded.model)
    _zero_shot(ctx, "main", [p for p in FULL_PARTS if p.kind in _CONVERTERS], digest, loaded)
    for part in FULL_PARTS:
        if part.kind == "glue":
            _glue(ctx, part, digest)
    glue_scores = [s for key, s in report.scores.items() if key.startswith("glue/")]
    if glue_scores:  # the official scorer's GLUE: the mean over the tasks in the file
        report.scores["glue"] = sum(glue_scores) / len(glue_scores)
    for part in FULL_PARTS:
        if part.kind == "aoa":
            _aoa(ctx, part, TRACK_REVISIONS[track])
    fast = _fast(ctx, TRACK_REVISIONS[track])
    report.collated = _collate(ctx, fast)
    atomic_write_bytes(ctx.model_dir / "submission.txt", (report.render() + "\n").encode())
    return report
