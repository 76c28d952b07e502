"""A run directory: everything a run needs to be understood, evaluated and resumed.

    RUN/config.yaml          the resolved config (all defaults filled in)
    RUN/tokenizer.json       the tokenizer the model was trained with
    RUN/model.safetensors    the latest weights (every checkpoint rewrites it)
    RUN/checkpoint.pt        optimizer, RNG and data position for exact resume
    RUN/state.json           progress: step, epoch, words and tokens seen, finished
    RUN/metrics.jsonl        one JSON record per log line (train and dev losses, checkpoints),
                             each with its step, epoch, words and tokens seen
    RUN/results.json         evaluation results, merged by every evaluator (a sweep adds the
                             run's dev losses, so that its committed records carry them), one
                             merge at a time (RUN/.results.lock)
    RUN/checkpoints/chck_<N>.safetensors
                             weights when the words seen first passed milestone N (1M, 10K, ...;
                             the names of the 2025 pipeline's revisions), never rewritten
    RUN/learning_curve.*     every checkpoint's zero-shot scores against words seen (json, md, png)
    RUN/aoa_surprisals.json  every checkpoint's surprisal of the AoA words (antlm.eval.aoa)
    RUN/.partial-eval/       the scored chunks of an evaluation under way (antlm.eval.partial)

The records are typed, and this module is their only reader and writer: :class:`RunState`
(state.json), :class:`MetricRecord` (a line of metrics.jsonl) and :class:`RunDeclaration` (what
the run declares: its headline backend and fine-tuning attention, from its config alone). The
files keep their flat JSON, so runs written before the types (and a study's committed records)
still read.

Evaluation and export read runs through :func:`load_run` only; they never import the trainer.
While a trainer holds the run (``RUN/.lock``) its weights are those of an unfinished run:
:func:`load_run` refuses them (a milestone checkpoint, written once and never changed, stays
readable), and :func:`merge_results` refuses scores of weights trained further since they were
loaded.
An exported Hugging Face folder keeps the run's resolved config as ``antlm_config.yaml``
(:data:`EXPORTED_CONFIG`), so what the run declared (its headline backend) travels with it, and
where its weights stand in the run as ``antlm_revision.json`` (:data:`EXPORTED_REVISION`,
:func:`revision_record`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_model
from torch import nn

from antlm.atomic import atomic_write_bytes
from antlm.config import RunConfig, validate_config
from antlm.data.tokenizer import AntlmTokenizer
from antlm.errors import AntlmError
from antlm.jsonfile import load_json, read_json_file
from antlm.locks import RunLock, serialized
from antlm.models.registry import build_model
from antlm.schedule import parse_schedule
from antlm.units import format_count
from antlm.yamlfile import read_yaml

CHECKPOINT_PREFIX = "chck_"

EXPORTED_CONFIG = "antlm_config.yaml"
# Where an export's weights stand in their run (words and tokens seen, step, and a milestone
# checkpoint's milestone): what ``antlm eval REPO --checkpoints`` places each revision by.
EXPORTED_REVISION = "antlm_revision.json"


class RunDirError(AntlmError, FileNotFoundError):
    """A path that is not (yet) a usable run directory."""


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def tokenizer(self) -> Path:
        return self.root / "tokenizer.json"

    @property
    def weights(self) -> Path:
        return self.root / "model.safetensors"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoint.pt"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def results(self) -> Path:
        return self.root / "results.json"

    @property
    def results_lock(self) -> Path:
        """Held while results.json is read, merged and rewritten (:func:`merge_results`)."""
        return self.root / ".results.lock"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def learning_curve(self) -> Path:
        """``learning_curve.json``; the table and the plot share its stem."""
        return self.root / "learning_curve.json"

    @property
    def aoa_surprisals(self) -> Path:
        """``aoa_surprisals.json``: every milestone's surprisal of every AoA word in context,
        kept revision by revision so an interrupted ``--checkpoints`` resumes."""
        return self.root / "aoa_surprisals.json"

    def milestone(self, words: int) -> Path:
        """Where the weights at milestone ``words`` go: ``checkpoints/chck_1M.safetensors``."""
        return self.checkpoints / f"{milestone_name(words)}.safetensors"


def is_run_directory(folder: Path) -> bool:
    """Whether ``folder`` holds a run (a config beside weights, a checkpoint or a state)."""
    paths = RunPaths(Path(folder))
    return paths.config.is_file() and any(
        p.is_file() for p in (paths.weights, paths.checkpoint, paths.state, paths.tokenizer))


def milestone_name(words: int) -> str:
    """The revision name of a milestone, as the 2025 pipeline's scripts spell them: ``chck_1M``,
    ``chck_1000M`` (eval_zero_shot_fast_all_revisions.sh); ``chck_10K`` below a million."""
    return f"{CHECKPOINT_PREFIX}{format_count(words)}"


@dataclass(frozen=True)
class Checkpoint:
    """A milestone checkpoint of a run, as its file's metadata describes it."""

    name: str
    path: Path
    milestone: int  # the words-seen milestone it was saved for
    words_seen: int  # the words seen when it was saved (>= milestone)
    tokens_seen: int
    step: int


# safetensors' names of floating-point dtypes: weights of any other dtype were not written by
# antlm, and load_state_dict would cast them silently
FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64"})


def weights_metadata(path: Path) -> dict[str, str]:
    """The metadata of a weights file, once every tensor in it is known to be floating point
    (read from the header: no tensor is loaded)."""
    with safe_open(str(path), framework="pt") as handle:
        for key in handle.keys():  # noqa: SIM118 -- a safetensors handle is not iterable
            dtype = handle.get_slice(key).get_dtype()
            if dtype not in FLOAT_DTYPES:
                raise TypeError(f"its tensor {key!r} holds {dtype}, not floating-point weights")
        return handle.metadata() or {}


def list_checkpoints(paths: RunPaths) -> list[Checkpoint]:
    """The run's milestone checkpoints, in the order they were passed."""
    found = []
    for path in paths.checkpoints.glob(f"{CHECKPOINT_PREFIX}*.safetensors"):
        present(path)
        with reading(path, "a milestone checkpoint"):
            meta = weights_metadata(path)
        found.append(_checkpoint(path, meta))
    return sorted(found, key=lambda c: c.milestone)


def _checkpoint(path: Path, meta: dict[str, str]) -> Checkpoint:
    """The milestone checkpoint ``path`` as its metadata ``meta`` describes it."""
    try:
        return Checkpoint(path.stem, path, int(meta["milestone"]), int(meta["words_seen"]),
                          int(meta["tokens_seen"]), int(meta["step"]))
    except (KeyError, ValueError) as exc:
        raise RunDirError(f"{path} lacks its milestone metadata ({exc})") from exc


# What to do about a run file that does not parse: antlm replaces its files whole or not at all
# (antlm.atomic), so such a file was changed, truncated or copied in from elsewhere.
DAMAGED_ADVICE = ("it was damaged or replaced after antlm wrote it: restore it from a copy, or "
                  "train the run again into a new --out")


@contextmanager
def reading(path: Path, what: str) -> Iterator[None]:
    """Turn any failure to parse ``path`` inside the block into a :class:`RunDirError` that
    names the file; the parsers (yaml, json, safetensors, tokenizers, torch) each raise their
    own exception types, none of which says which file of the run is at fault."""
    try:
        yield
    except AntlmError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RunDirError(f"{path} is not {what} ({first}); {DAMAGED_ADVICE}") from exc


def _read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    with reading(path, what):
        raw = read_yaml(path)
        if not isinstance(raw, dict) or not raw:
            raise TypeError("empty, or not a mapping of sections")
    return raw


def read_config(paths: RunPaths) -> RunConfig:
    if not present(paths.config):
        raise RunDirError(f"{paths.root} is not a run directory (no config.yaml)")
    raw = _read_yaml_mapping(paths.config, "a run config")
    return validate_config(raw, source=str(paths.config))


def read_exported_config(folder: Path) -> RunConfig | None:
    """The run config an antlm export carries, or None for any other model folder."""
    path = folder / EXPORTED_CONFIG
    if not present(path):
        return None
    return validate_config(_read_yaml_mapping(path, "a run config"), source=str(path))


# The top-level fields of the JSON files of a run and the types they hold: a file of the right
# syntax with a field of another type was not written by antlm, and is refused by name rather
# than failing later inside whatever reads the field.
Fields = Mapping[str, "type | tuple[type, ...]"]
STATE_FIELDS: Fields = {"step": int, "epoch": (int, float), "words_seen": int,
                        "tokens_seen": int, "total_steps": int, "total_words_seen": int,
                        "finished": bool}
RESULTS_FIELDS: Fields = {"zero_shot": dict, "glue": dict, "dev_losses": list, "sweep": dict,
                          "aoa": dict}
CURVE_FIELDS: Fields = {"settings": dict, "points": dict}
REVISION_FIELDS: Fields = {"milestone": int, "words_seen": int, "tokens_seen": int, "step": int}


def read_state(paths: RunPaths) -> RunState | None:
    """state.json, or None before the run saved its first checkpoint."""
    return RunState.load_from_json(paths.state)


def write_state(paths: RunPaths, state: RunState) -> None:
    state.save_to_json(paths.state)


def read_results(paths: RunPaths) -> dict[str, Any]:
    """results.json, or ``{}`` before any evaluation."""
    return read_json(paths.results, RESULTS_FIELDS)


def present(path: Path) -> bool:
    """Whether the run file ``path`` exists; something else than a file in its place (a folder)
    is damage, refused by name rather than read as a missing file."""
    if not path.exists():
        return False
    if not path.is_file():
        raise RunDirError(f"{path} is a folder or a special file, not a file; {DAMAGED_ADVICE}")
    return True


def _wrong_field(value: dict[str, Any], fields: Fields) -> str | None:
    for key, kind in fields.items():
        if key in value and (not isinstance(value[key], kind)
                             or (isinstance(value[key], bool) and kind is not bool)):
            return f"its {key!r} is a {type(value[key]).__name__}"
    return None


def read_json(path: Path, fields: Fields | None = None) -> dict[str, Any]:
    """A JSON object file of the run, or ``{}`` when there is none yet; ``fields``: the types
    of the top-level fields it may hold."""
    if not present(path):
        return {}
    with reading(path, "a JSON object"):
        value = read_json_file(path)
        if not isinstance(value, dict):
            raise TypeError(f"a JSON {type(value).__name__}, not an object")
        wrong = _wrong_field(value, fields or {})
        if wrong:
            raise TypeError(wrong)
    return value


def trained_step(paths: RunPaths) -> int | None:
    """The step the run's weights were saved at (state.json), or None before any was saved."""
    state = read_state(paths)
    return None if state is None else state.step


def update_results(
    paths: RunPaths, change: Callable[[dict[str, Any]], dict[str, Any]],
    scored_step: int | None = None,
) -> dict[str, Any]:
    """Rewrite results.json as ``change(current results)``, atomically and one process at a
    time: the read, the change and the write run under ``RUN/.results.lock``, so concurrent
    evaluators each see the others' updates and none is lost.

    ``scored_step``: the step of the weights the update scored (from :attr:`LoadedRun.step`).
    When the run has been trained further since (``antlm train --resume`` began after the
    weights were loaded), the scores describe weights that are gone: nothing is written."""
    with serialized(paths.results_lock):
        now = trained_step(paths) if scored_step is not None else None
        if now != scored_step:
            raise RunDirError(
                f"{paths.root} was trained further while it was scored (step {scored_step}, "
                f"now {now}): the scores describe weights it no longer has and were not "
                f"recorded in {paths.results}; score it again when its training has ended")
        results = change(read_results(paths))
        atomic_write_bytes(paths.results, json.dumps(results, indent=2).encode())
    return results


def merge_results(
    paths: RunPaths, update: dict[str, Any], replace: tuple[str, ...] = (),
    scored_step: int | None = None,
) -> dict[str, Any]:
    """Merge ``update`` into results.json (one level deep; the keys in ``replace`` are
    replaced whole), as :func:`update_results` does."""

    def merged(results: dict[str, Any]) -> dict[str, Any]:
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(results.get(key), dict) and key not in replace:
                results[key] = {**results[key], **value}
            else:
                results[key] = value
        return results

    return update_results(paths, merged, scored_step)


def _raw_metrics(paths: RunPaths) -> list[dict[str, Any]]:
    """The JSON objects of metrics.jsonl. A last line without its newline is an append that a
    killed run left half-written (records are appended, not replaced): it is dropped."""
    if not present(paths.metrics):
        return []
    text = paths.metrics.read_text(encoding="utf-8", errors="replace")
    if not text:  # the trainer's first append (the start record) comes with the file
        raise RunDirError(f"{paths.metrics} is empty: {DAMAGED_ADVICE}")
    lines = text.split("\n")
    lines.pop()  # "" after the final newline, or the torn last append
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        with reading(paths.metrics, f"a metrics log: line {number} is no JSON record"):
            record = load_json(line, f"{paths.metrics}, line {number}")
            if not isinstance(record, dict) or not isinstance(record.get("step"), int):
                raise TypeError("a record without its step")
            if not isinstance(record.get("event", ""), str):
                raise TypeError("a record whose event is not a name")
            MetricRecord.from_json(record)  # every field this version knows reads
        records.append(record)
    return records


def read_metrics(paths: RunPaths) -> list[MetricRecord]:
    """The records of metrics.jsonl, in the order they were written (a torn last append
    dropped, see :func:`_raw_metrics`)."""
    return [MetricRecord.from_json(raw) for raw in _raw_metrics(paths)]


def append_metric(paths: RunPaths, record: MetricRecord) -> None:
    """Append ``record`` to metrics.jsonl (the first append creates the log)."""
    with paths.metrics.open("a") as handle:
        handle.write(json.dumps(record.to_json()) + "\n")


def truncate_metrics(paths: RunPaths, step: int) -> None:
    """Drop the records written after ``step`` (the checkpoint a run resumes from: a crash
    between the two leaves them), keeping the others as they were written."""
    if not present(paths.metrics):
        return
    kept = [raw for raw in _raw_metrics(paths) if raw["step"] <= step]
    atomic_write_bytes(paths.metrics, "".join(json.dumps(raw) + "\n" for raw in kept).encode())


def clear_records(paths: RunPaths) -> None:
    """Remove metrics.jsonl and state.json: a new run starts its records afresh."""
    paths.metrics.unlink(missing_ok=True)
    paths.state.unlink(missing_ok=True)


DEV_LOSSES_KEY = "dev_losses"  # in results.json: the dev records a sweep copies there


def read_dev_log(paths: RunPaths) -> list[MetricRecord]:
    """The dev-loss records of metrics.jsonl, whole: the start record (the untrained model's
    losses, with the run's corpora and phases) and one after every epoch and phase."""
    return [r for r in read_metrics(paths) if r.event in ("start", "dev")]


def dev_loss_records(paths: RunPaths) -> list[MetricRecord]:
    """The untrained model's dev losses and those after every epoch and phase, each record with
    its step, epoch, words and tokens seen and both objectives' dev losses (the first also
    with the run's phases, see :func:`read_phases`).

    Read from metrics.jsonl; where a run has none (a study's committed records on a clone: the
    log is not committed, see :func:`copy_dev_losses`), from the copy in results.json."""
    logged = read_dev_log(paths)
    if logged:
        return [r.with_losses_only() for r in logged]
    copied = read_results(paths).get(DEV_LOSSES_KEY, [])
    with reading(paths.results, f"results with their {DEV_LOSSES_KEY!r}"):
        return [MetricRecord.from_json(raw) for raw in copied]


def copy_dev_losses(paths: RunPaths) -> None:
    """Copy the run's dev records from its log into results.json (numbers only: the start
    record's text, which names the corpora, stays in the log), so that a report drawn from the
    committed records of a study (config, state, results, learning curve) has its dev losses
    too. Nothing is written when there is no log or the copy is already there."""
    records = [r.with_losses_only().to_json() for r in read_dev_log(paths)]
    if records and read_results(paths).get(DEV_LOSSES_KEY) != records:
        merge_results(paths, {DEV_LOSSES_KEY: records})


def read_phases(paths: RunPaths) -> tuple[PhaseSpan, ...]:
    """The run's phases in steps and words, as its start record gives them; empty for runs
    trained before words seen were counted. Read from the log, else from the copy of the dev
    records in results.json."""
    return start_phases(dev_loss_records(paths))


def start_phases(records: Sequence[MetricRecord]) -> tuple[PhaseSpan, ...]:
    """The phases a run's records give (its start record's, when they begin with it)."""
    return records[0].phases if records and records[0].event == "start" else ()


# ---------------------------------------------------------------------------- the run's contract
# What a run declares, its progress (state.json) and its log (metrics.jsonl) as typed records:
# the trainer writes them through this module and every reader reads them through it, so a
# renamed field is one change here, not a plot left silently empty elsewhere. The files keep
# their flat JSON form, so the runs and committed study records written before still read.

# The backends that read an alternating or MIX schedule's objectives, and those of them that
# need MLM targets trained shifted (mntp reads token j at j-1; fused holds mntp).
_ALTERNATED_BACKENDS: tuple[str, ...] = ("causal", "mlm", "mntp", "fused")
_SHIFTED_BACKENDS: frozenset[str] = frozenset({"mntp", "fused"})


@dataclass(frozen=True)
class RunDeclaration:
    """What a run declares before anything is scored, from its config alone: the objectives it
    trains, the objective it ends on (the *headline objective*), the backend of its headline
    zero-shot score and the attention it is fine-tuned with.

    One rule decides both of the last two: the final phase's headline objective, counted as the
    objective of most of its sequences (a MIX phase included): CLM -> the ``causal`` backend
    and causal attention; MLM -> ``mlm`` (``mntp`` when trained with shifted targets) and
    bidirectional attention. ``eval.backend`` and ``finetune --attention`` each override their
    own half. Never chosen by looking at scores: a backend picked as the best on the test set
    would flatter every run it is applied to."""

    objectives: tuple[str, ...]  # the objectives the schedule trains, CLM before MLM
    final_objective: str  # the headline objective: CLM or MLM
    backend: str  # of the headline zero-shot score
    backend_reason: str
    auto_backends: tuple[str, ...]  # what ``--backend auto`` runs: an exploratory table
    finetune_attention: str  # GLUE's default attention: causal or bidirectional

    @classmethod
    def of(cls, config: RunConfig) -> RunDeclaration:
        schedule = config.train.schedule
        # mlm_fraction, not the phase names: MIX(clm=1,mlm=0) trains nothing but CLM.
        fractions = {phase.mlm_fraction for phase in parse_schedule(schedule).phases}
        objectives = tuple(o for o, trained in (("CLM", fractions != {1.0}),
                                                ("MLM", fractions != {0.0})) if trained)
        final = parse_schedule(schedule).phases[-1]
        headline = "MLM" if final.mlm_fraction > 0.5 else "CLM"
        shifted = config.objective.mlm_target == "shifted"
        masked = "mntp" if shifted else "mlm"
        reason = f"train.schedule {schedule!r} ends on {final.objective}"
        if config.eval.backend is not None:
            backend, reason = config.eval.backend, "eval.backend in the run config"
        elif headline == "CLM":
            backend = "causal"
        else:
            backend = masked
            reason += " with objective.mlm_target: shifted" if shifted else ""
        if objectives == ("CLM",):
            auto: tuple[str, ...] = ("causal",)
        elif objectives == ("MLM",):
            auto = (masked,)
        else:
            auto = tuple(b for b in _ALTERNATED_BACKENDS if shifted or b not in _SHIFTED_BACKENDS)
        attention = "causal" if headline == "CLM" else "bidirectional"
        return cls(objectives, headline, backend, reason, auto, attention)


@dataclass
class RunState:
    """state.json: where the run's saved weights stand (as Hugging Face's ``TrainerState``, a
    dataclass saved whole). Fields an older run did not record are None."""

    step: int = 0  # the step of the checkpoint (the data position)
    epoch: float = 0.0
    words_seen: int | None = None
    tokens_seen: int | None = None
    total_steps: int | None = None
    total_words_seen: int | None = None
    finished: bool = False

    def save_to_json(self, path: Path) -> None:
        fields = {k: v for k, v in asdict(self).items() if v is not None}
        atomic_write_bytes(path, json.dumps(fields, indent=2).encode())

    @classmethod
    def load_from_json(cls, path: Path) -> RunState | None:
        """The state in ``path``, or None before the run saved any."""
        raw = read_json(path, STATE_FIELDS)
        if not raw:
            return None
        return cls(**{k: raw[k] for k in STATE_FIELDS if k in raw})


@dataclass(frozen=True)
class PhaseSpan:
    """One phase of the plan as the start record gives it, in steps and in words seen."""

    phase: int  # 1-based
    objective: str
    start_step: int
    end_step: int
    start_words: int
    words: int
    epochs: float | None = None

    @property
    def end_words(self) -> int:
        return self.start_words + self.words


# The kinds of metrics.jsonl records: ``start`` (the untrained model's dev losses and the
# plan), ``train`` (losses, lr and speed every log_every steps), ``dev`` (dev losses after an
# epoch, a phase or a dev_every check), ``checkpoint`` (a milestone's weights saved), ``end``
# (the summary of one invocation).
EVENTS = ("start", "train", "dev", "checkpoint", "end")
LOSS_PREFIX = "loss_"  # a train record's mean loss of one objective: loss_CLM
DEV_LOSS_PREFIX = "dev_loss_"  # a record's dev loss of one objective: dev_loss_MLM
# dataclass field -> its JSON key, where they differ
_JSON_KEYS = {"train_corpus": "train", "dev_corpus": "dev"}


@dataclass(frozen=True)
class MetricRecord:
    """One line of metrics.jsonl: where the run was (``step``, ``epoch``, words and tokens
    seen) and what happened (``event``, one of :data:`EVENTS`); each event fills its own
    fields, the rest stay None. Records written before a field existed read with it None."""

    event: str
    step: int
    epoch: float | None = None
    words_seen: int | None = None
    tokens_seen: int | None = None
    phase: int | None = None  # train, dev: the phase of the step last taken (1-based)
    objective: str | None = None  # train, dev: that phase's objective
    losses: dict[str, float] = field(default_factory=dict)  # train: mean loss per objective
    dev_losses: dict[str, float] = field(default_factory=dict)  # start, dev, end
    lr: float | None = None  # train
    tokens_per_s: float | None = None  # train, end
    elapsed_s: float | None = None  # dev: seconds trained by this invocation
    milestone: int | None = None  # checkpoint: its words-seen milestone
    name: str | None = None  # checkpoint: its revision name, chck_1M
    finished: bool | None = None  # end
    wall_s: float | None = None  # end
    # start: the model, the corpora and the plan
    params: int | None = None
    train_corpus: str | None = None
    dev_corpus: str | None = None
    train_tokens: int | None = None
    words_per_epoch: int | None = None
    steps_per_epoch: int | None = None
    total_steps: int | None = None  # start, end
    total_words_seen: int | None = None
    phases: tuple[PhaseSpan, ...] = ()
    world_size: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The flat JSON object of a metrics.jsonl line (None fields left out)."""
        record: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "losses":
                record.update({f"{LOSS_PREFIX}{k}": v for k, v in value.items()})
            elif item.name == "dev_losses":
                record.update({f"{DEV_LOSS_PREFIX}{k}": v for k, v in value.items()})
            elif item.name == "phases":
                if value:
                    record["phases"] = [{k: v for k, v in asdict(p).items() if v is not None}
                                        for p in value]
            elif value is not None:
                record[_JSON_KEYS.get(item.name, item.name)] = value
        return record

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> MetricRecord:
        """The record of a metrics.jsonl line (or of its copy in results.json); keys this
        version does not know are left out."""
        values: dict[str, Any] = {
            item.name: raw[_JSON_KEYS.get(item.name, item.name)] for item in fields(cls)
            if _JSON_KEYS.get(item.name, item.name) in raw
            and item.name not in ("losses", "dev_losses", "phases")}
        values["losses"] = {k.removeprefix(LOSS_PREFIX): v for k, v in raw.items()
                            if k.startswith(LOSS_PREFIX)}
        values["dev_losses"] = {k.removeprefix(DEV_LOSS_PREFIX): v for k, v in raw.items()
                                if k.startswith(DEV_LOSS_PREFIX)}
        values["phases"] = tuple(PhaseSpan(**p) for p in raw.get("phases", ()))
        return cls(**values)

    def with_losses_only(self) -> MetricRecord:
        """The record as results.json keeps a copy of it (see :func:`copy_dev_losses`): where
        the run was, its phase, its dev losses, and the start record's phases; the corpora's
        text stays in the log."""
        return MetricRecord(self.event, self.step, self.epoch, self.words_seen,
                            self.tokens_seen, self.phase, self.objective,
                            dev_losses=self.dev_losses, phases=self.phases)


@dataclass
class LoadedRun:
    paths: RunPaths
    config: RunConfig
    tokenizer: AntlmTokenizer
    model: nn.Module
    step: int | None = None  # the step its weights were saved at (None: a milestone's)
    checkpoint: Checkpoint | None = None  # the milestone whose weights these are (None: latest)

    @property
    def run_dir(self) -> Path:
        return self.paths.root

    @property
    def results_path(self) -> Path:
        return self.paths.results


def load_run(
    path: str | Path, device: str | torch.device = "cpu", checkpoint: str | None = None
) -> LoadedRun:
    """Config, tokenizer and trained model (eval mode) of a run directory: its latest weights,
    or those of the milestone ``checkpoint`` (e.g. ``chck_1M``)."""
    paths = RunPaths(Path(path))
    config = read_config(paths)
    if checkpoint is None:
        refuse_while_training(paths)
    weights = _weights(paths, checkpoint)
    read_results(paths)  # damage is refused now, not when the scores are merged, after the work
    model = build_model(config.model)
    with reading(weights, f"the weights of the model in {paths.config.name}"):
        meta = weights_metadata(weights)
        load_model(model, str(weights), device=str(device))
    model.to(device).eval()
    if checkpoint is not None:
        return LoadedRun(paths, config, read_tokenizer(paths), model, None,
                         _checkpoint(weights, meta))
    return LoadedRun(paths, config, read_tokenizer(paths), model, trained_step(paths))


def revision_record(run: LoadedRun) -> dict[str, int]:
    """What an export writes as :data:`EXPORTED_REVISION`: a milestone checkpoint's milestone,
    words, tokens and step from its own metadata, the latest weights' from state.json (a field
    the run did not record is left out, never estimated)."""
    c = run.checkpoint
    if c is not None:
        return {"milestone": c.milestone, "words_seen": c.words_seen,
                "tokens_seen": c.tokens_seen, "step": c.step}
    state = read_state(run.paths)
    if state is None:
        return {}
    recorded = {"words_seen": state.words_seen, "tokens_seen": state.tokens_seen,
                "step": state.step}
    return {key: value for key, value in recorded.items() if value is not None}


def _weights(paths: RunPaths, checkpoint: str | None) -> Path:
    weights = paths.weights if checkpoint is None else paths.checkpoints / f"{checkpoint}.safetensors"
    if not present(weights):
        raise RunDirError(f"{paths.root} has no trained weights {weights.relative_to(paths.root)}")
    return weights


def model_skeleton(config: RunConfig) -> nn.Module:
    """The run's model with its parameters' names and shapes but no storage (the meta device):
    what :func:`check_weights` compares a weights file with, built in no time at any size."""
    with torch.device("meta"):
        return build_model(config.model)


def check_weights(paths: RunPaths, skeleton: nn.Module, checkpoint: str | None = None) -> None:
    """Refuse the weights :func:`load_run` would refuse (absent, not safetensors, truncated,
    not floating point, another model's names or shapes, a checkpoint without its milestone
    metadata), reading the file's header only: no tensor is loaded. ``skeleton``:
    :func:`model_skeleton` of the run's config."""
    weights = _weights(paths, checkpoint)
    with reading(weights, f"the weights of the model in {paths.config.name}"):
        meta = weights_metadata(weights)
        with safe_open(str(weights), framework="pt") as handle:
            shapes = {k: tuple(handle.get_slice(k).get_shape()) for k in handle.keys()}  # noqa: SIM118
        _check_shapes(shapes, skeleton)
    if checkpoint is not None:
        _checkpoint(weights, meta)


def _check_shapes(stored: dict[str, tuple[int, ...]], model: nn.Module) -> None:
    """The names and shapes :func:`safetensors.torch.load_model` (strict) accepts: every
    parameter and buffer of ``model``, a tensor shared under several names stored under any one
    of them (``save_model`` keeps one), and nothing else."""
    state = model.state_dict(keep_vars=True)
    shared: dict[int, list[str]] = {}
    for name, tensor in state.items():
        shared.setdefault(id(tensor), []).append(name)
    for names in shared.values():
        if not any(name in stored for name in names):
            raise ValueError(f"it lacks the tensor {names[0]!r}")
    for name, shape in stored.items():
        if name not in state:
            raise ValueError(f"its tensor {name!r} is none of the model's")
        if shape != tuple(state[name].shape):
            raise ValueError(f"its tensor {name!r} has shape {list(shape)}, the model's "
                             f"{list(state[name].shape)}")


def refuse_while_training(paths: RunPaths) -> None:
    """Refuse a run that a trainer holds now: its latest weights are those of an unfinished
    run, and a score of them would be recorded as the run's."""
    RunLock(paths.root).check_free(
        advice="its weights are those of an unfinished run: wait for the training to end")


def read_tokenizer(paths: RunPaths) -> AntlmTokenizer:
    if not present(paths.tokenizer):
        raise RunDirError(f"{paths.root} has no tokenizer.json; {DAMAGED_ADVICE}")
    with reading(paths.tokenizer, "a tokenizer"):
        return AntlmTokenizer.from_file(paths.tokenizer)
