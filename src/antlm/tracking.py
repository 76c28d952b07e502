"""Experiment tracking: ``train.report_to: [tensorboard, wandb]`` sends what a run records to
the tools the Hugging Face community watches its runs in (HF Trainer's ``report_to``).

``metrics.jsonl`` stays the run's own record; a :class:`Tracker` receives every record the
trainer writes there and turns it into scalars, so the two can never disagree: training loss per
objective, learning rate, tokens/s, words seen, the phase (a step in the ``progress/phase``
curve, and a text note when it changes), the dev loss of both objectives, and, when the run is
evaluated later, the zero-shot scores under the declared backend. The x axis is the optimizer
step; ``progress/words_seen`` maps it to the challenge's unit (wandb plots against it directly).
Training records come at the first step, every ``train.log_every`` steps and the last step; each
tag gets one value per step (the records of one step share their ``progress/*`` values); the
``end`` record of every ``antlm train`` becomes the run's summary (``summary/*``: steps, words
and tokens seen, epochs, final dev losses, wall time, tokens/s), as HF Trainer logs one.

TensorBoard writes to ``RUN/tensorboard`` (``tensorboard --logdir runs``); Weights & Biases to
project ``antlm`` under the run's name (``WANDB_PROJECT``, ``WANDB_MODE=offline`` and the other
``WANDB_*`` variables apply), resuming the same wandb run when the antlm run resumes. Both are
optional extras: ``pip install 'antlm[tensorboard]'`` or ``'antlm[wandb]'``.
"""

from __future__ import annotations

import importlib
import netrc
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit

from antlm.config import ConfigError, RunConfig

if TYPE_CHECKING:  # rundir (and torch with it) is imported where a run is read, not here
    from antlm.rundir import MetricRecord

__all__ = ["REPORTERS", "Reporter", "Tracker", "check_trackers", "open_tracker",
           "report_evaluation"]

ReporterName = Literal["tensorboard", "wandb"]
REPORTERS: tuple[str, ...] = ("tensorboard", "wandb")
WANDB_ID_FILE = "wandb_id.txt"
# wandb modes that need no account: nothing is uploaded (offline: kept in RUN/wandb)
WANDB_LOCAL_MODES = ("offline", "disabled", "dryrun")
WANDB_HOST = "https://api.wandb.ai"


def _import(module: str, tracker: str) -> ModuleType:
    """``module``, or the error saying that ``tracker`` needs its package installed."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"train.report_to: {tracker} needs the {tracker} package, which cannot be imported "
            f"({exc}): pip install 'antlm[{tracker}]', or remove {tracker} from "
            "train.report_to") from exc


def _wandb_host() -> str:
    """The wandb server's host name, whose netrc entry holds the API key."""
    return urlsplit(os.environ.get("WANDB_BASE_URL") or WANDB_HOST).netloc


def _wandb_has_credentials() -> bool:
    """Whether wandb can log in without asking: an API key (``WANDB_API_KEY``), an identity
    token file, or a netrc entry for its host (what ``wandb login`` writes)."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = _wandb_host()
    path = os.environ.get("NETRC") or next(
        (p for p in ("~/.netrc", "~/_netrc") if Path(p).expanduser().is_file()), None)
    if not host or path is None:
        return False
    try:
        entry = netrc.netrc(str(Path(path).expanduser())).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return False
    return bool(entry and entry[2])


def check_trackers(config: RunConfig) -> None:
    """Refuse a tracker of ``train.report_to`` that could not start, before the run writes
    anything: a missing package, or wandb online without an account (it would stop the run
    to ask for a key, or fail after the run directory was made)."""
    for tracker in config.train.report_to:
        _import(tracker, tracker)
    if "wandb" in config.train.report_to:
        _check_wandb_account()


def _check_wandb_account() -> None:
    """Refuse wandb online without credentials (offline and disabled modes need none)."""
    mode = os.environ.get("WANDB_MODE", "").strip().lower()
    if mode not in WANDB_LOCAL_MODES and not _wandb_has_credentials():
        raise ConfigError(
            "train.report_to: wandb has no API key (neither WANDB_API_KEY nor a netrc entry for "
            f"{_wandb_host()}): run `wandb login`, set WANDB_MODE=offline to keep the run in "
            "RUN/wandb and upload it later with `wandb sync`, or remove wandb from "
            "train.report_to")


class Reporter(Protocol):
    def scalars(self, values: dict[str, float], step: int) -> None: ...
    def summary(self, values: dict[str, float], step: int) -> None: ...
    def note(self, tag: str, text: str, step: int) -> None: ...
    def close(self) -> None: ...


class TensorBoardReporter:
    def __init__(self, run_dir: Path, resume_step: int | None) -> None:
        # torch's writer needs the tensorboard package
        summary_writer = _import("torch.utils.tensorboard", "tensorboard").SummaryWriter
        # purge_step hides what an interrupted invocation logged after the checkpoint we resume
        # (every step from purge_step on), as the trainer drops those records of metrics.jsonl;
        # the checkpoint's own step stays in both
        purge = None if resume_step is None else resume_step + 1
        self.writer = summary_writer(str(run_dir / "tensorboard"), purge_step=purge)

    def scalars(self, values: dict[str, float], step: int) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, step)

    def summary(self, values: dict[str, float], step: int) -> None:
        """TensorBoard has no run summary: the values are scalars at the invocation's last step."""
        self.scalars(values, step)

    def note(self, tag: str, text: str, step: int) -> None:
        self.writer.add_text(tag, text, step)

    def close(self) -> None:
        self.writer.close()


class WandbReporter:
    def __init__(self, run_dir: Path, config: RunConfig) -> None:
        wandb = _import("wandb", "wandb")
        id_file = run_dir / WANDB_ID_FILE
        if not id_file.is_file():
            id_file.write_text(uuid.uuid4().hex[:12])
        # an explicit project would override WANDB_PROJECT, which the README promises applies
        self.run = wandb.init(project=os.environ.get("WANDB_PROJECT") or "antlm",
                              name=config.name, id=id_file.read_text().strip(), resume="allow",
                              dir=str(run_dir), config=config.model_dump(mode="json"),
                              reinit="create_new")
        self.run.define_metric("global_step")
        self.run.define_metric("*", step_metric="global_step")
        self.pending: dict[str, float] = {}
        self.pending_step = 0

    def scalars(self, values: dict[str, float], step: int) -> None:
        """Gather the values of one step into one history row (the train and dev records of a
        checkpoint step, say), so that every row carries ``progress/words_seen``: wandb can only
        plot a value against words seen when both are in the same row."""
        if self.pending and step != self.pending_step:
            self._flush()
        self.pending.update(values)
        self.pending_step = step

    def _flush(self) -> None:
        if self.pending:
            self.run.log({**self.pending, "global_step": self.pending_step})
            self.pending = {}

    def summary(self, values: dict[str, float], step: int) -> None:
        """The run's summary (what HF Trainer writes there at the end of training)."""
        self.run.summary.update(values)

    def note(self, tag: str, text: str, step: int) -> None:
        self.run.summary[tag] = text  # the latest; the scalars carry the history

    def close(self) -> None:
        self._flush()
        self.run.finish()


def _record_scalars(record: MetricRecord) -> dict[str, float]:
    """The scalars of one ``metrics.jsonl`` record, named by what they measure."""
    values = {f"progress/{k}": float(v) for k, v in (
        ("words_seen", record.words_seen), ("tokens_seen", record.tokens_seen),
        ("epoch", record.epoch), ("phase", record.phase)) if v is not None}
    values.update({f"train/loss_{k}": v for k, v in record.losses.items()})
    values.update({f"dev/loss_{k}": v for k, v in record.dev_losses.items()})
    if record.lr is not None:
        values["train/lr"] = record.lr
    if record.tokens_per_s is not None:
        values["train/tokens_per_s"] = record.tokens_per_s
    return values


def _summary_scalars(record: MetricRecord) -> dict[str, float]:
    """The ``summary/*`` values of an ``end`` record, as HF Trainer's final log sums a run up:
    steps, words and tokens seen, epochs, the final dev losses, the wall time and the mean
    speed."""
    values = {"step": record.step, "words_seen": record.words_seen,
              "tokens_seen": record.tokens_seen, "epoch": record.epoch,
              "wall_s": record.wall_s, "tokens_per_s": record.tokens_per_s}
    return {**{f"summary/{key}": float(v) for key, v in values.items() if v is not None},
            **{f"summary/dev_loss_{k}": v for k, v in record.dev_losses.items()}}


class Tracker:
    """The reporters of one run; the trainer hands it every record it writes."""

    def __init__(self, reporters: Sequence[Reporter]) -> None:
        self.reporters = list(reporters)
        self.phase: int | None = None
        self.written: dict[str, int] = {}  # tag -> the last step a value was sent at

    def record(self, record: MetricRecord) -> None:
        step = record.step
        if record.event == "end":
            for reporter in self.reporters:
                reporter.summary(_summary_scalars(record), step)
            return
        for phase in record.phases:  # the start record's plan
            self._note("phases", f"phase {phase.phase}: {phase.objective} from step "
                       f"{phase.start_step} ({phase.start_words:,} words seen)", step)
        if record.phase is not None and record.phase != self.phase:
            self.phase = record.phase
            self._note("phase", f"phase {self.phase}: {record.objective}", step)
        values = _record_scalars(record)
        if record.event == "checkpoint" and record.milestone is not None:
            values = {"progress/milestone_words": float(record.milestone)}
        values = self._unsent(values, step)
        for reporter in self.reporters:
            reporter.scalars(values, step)

    def _unsent(self, values: dict[str, float], step: int) -> dict[str, float]:
        """``values`` without the tags already sent at ``step``: the train and dev records of a
        checkpoint step both carry ``progress/*``, and a curve with two points at one step draws
        a vertical stroke (TensorBoard) or a duplicated history row (wandb)."""
        unsent = {tag: value for tag, value in values.items() if self.written.get(tag) != step}
        self.written.update(dict.fromkeys(unsent, step))
        return unsent

    def evaluation(self, suite: str, backend: str, scores: dict[str, Any], step: int) -> None:
        """Zero-shot task scores (%) under ``backend``, at the step the weights come from."""
        values = {f"eval/{suite}/{task}": 100 * entry["score"] for task, entry in scores.items()}
        for reporter in self.reporters:
            reporter.scalars(values, step)
            reporter.note("eval/backend", f"{suite}: {backend} (declared)", step)

    def _note(self, tag: str, text: str, step: int) -> None:
        for reporter in self.reporters:
            reporter.note(tag, text, step)

    def close(self) -> None:
        """Flush and close every reporter (once; a second call does nothing)."""
        for reporter in self.reporters:
            reporter.close()
        self.reporters = []


def open_tracker(config: RunConfig, run_dir: Path, resume_step: int | None = None) -> Tracker:
    """The reporters ``config.train.report_to`` names (none: a tracker that does nothing)."""
    reporters: list[Reporter] = []
    for name in config.train.report_to:
        if name == "tensorboard":
            reporters.append(TensorBoardReporter(run_dir, resume_step))
        else:
            reporters.append(WandbReporter(run_dir, config))
    return Tracker(reporters)


def report_evaluation(run_dir: Path, suite: str, section: dict[str, Any]) -> None:
    """Send a run's new zero-shot scores under its declared backend to the run's trackers, at
    the step its weights come from; nothing for runs without ``train.report_to`` or for model
    folders."""
    from antlm.rundir import RunPaths, read_config, trained_step

    paths = RunPaths(run_dir)
    if not paths.config.is_file():
        return
    config = read_config(paths)
    backend = section["declared_backend"]
    if not config.train.report_to or backend not in section["scores"]:
        return
    tracker = open_tracker(config, run_dir)
    try:
        tracker.evaluation(suite, backend, section["scores"][backend],
                           trained_step(paths) or 0)
    finally:
        tracker.close()
