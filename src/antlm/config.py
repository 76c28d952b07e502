"""Validated configuration for every part of antlm.

A run is described by one YAML file. It may name other YAML files under ``inherit:`` (paths
relative to itself) that are deep-merged first, so run configs can reuse model presets from
``configs/models/``. ``--set a.b=c`` overrides are applied last. Validation happens before any
work starts, and errors name the key, the bad value and the allowed values, because a typo found
after an hour of training is an hour lost.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from antlm.errors import AntlmError
from antlm.options import BATCH_SIZE, Number
from antlm.units import CHALLENGE_MILESTONES, parse_count, parse_milestones
from antlm.yamlfile import load_yaml, read_yaml

if TYPE_CHECKING:
    from antlm.schedule import Plan

__all__ = [
    "ConfigError",
    "DataConfig",
    "EvalConfig",
    "FinetuneConfig",
    "ModelConfig",
    "ObjectiveConfig",
    "RunConfig",
    "TokenizerConfig",
    "TrainConfig",
    "load_config",
    "override_config",
    "parse_overrides",
    "resolve_data_dir",
]


class ConfigError(AntlmError, ValueError):
    """A configuration the user must fix; the message says where and how."""


DEVICE_NAME = re.compile(r"auto|cpu|cuda(:\d+)?")
DEVICE_HELP = "use auto, cpu, cuda or cuda:N (N the GPU's index)"


class _Section(BaseModel):
    # Unknown keys are errors: a misspelt option must not be silently ignored.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    """Which corpus to read and how much of it."""

    corpora: list[str] = Field(
        default_factory=lambda: ["babylm_10M", "babylm_2023_partial"],
        description="folders under the data directory, each in the BabyLM 2024 or 2023 layout",
    )
    sources: list[str] | None = Field(
        default=None, description="keep only these sources (file stems, e.g. switchboard)"
    )
    max_words: int | None = Field(default=None, gt=0, description="training word budget")
    dev_max_words: int | None = Field(default=50_000, gt=0, description="dev word budget")
    chunk_lines: int = Field(
        default=32, gt=0, description="lines per sampling unit when a word budget applies"
    )
    seed: int = 0


class TokenizerConfig(_Section):
    kind: Literal["bpe", "wordpiece"] = "bpe"
    vocab_size: int = Field(default=16000, ge=64)
    min_frequency: int = Field(default=2, ge=1)


class ModelConfig(_Section):
    """Shape of the network. ``arch`` picks the class from the model registry."""

    arch: Literal["babyllama", "ltgbert"] = "babyllama"
    vocab_size: int = Field(default=16000, ge=64)
    hidden_size: int = Field(default=512, gt=0)
    num_layers: int = Field(default=16, gt=0)
    num_heads: int = Field(default=8, gt=0)
    ffn_size: int = Field(default=1024, gt=0)
    max_seq_len: int = Field(default=128, gt=1)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    attention_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    norm_eps: float = Field(default=1e-5, gt=0.0)
    rope_theta: float = Field(default=10000.0, gt=0.0)
    position_buckets: int = Field(default=32, gt=1, description="LTG-BERT relative buckets")

    @model_validator(mode="after")
    def _heads_divide_hidden(self) -> ModelConfig:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"model.hidden_size={self.hidden_size} must be divisible by "
                f"model.num_heads={self.num_heads}"
            )
        return self


class ObjectiveConfig(_Section):
    """How token blocks become CLM / MLM batches."""

    mlm_probability: float = Field(default=0.15, gt=0.0, lt=1.0)
    mask_replace: float = Field(default=0.8, ge=0.0, le=1.0, description="share -> <mask>")
    random_replace: float = Field(default=0.1, ge=0.0, le=1.0, description="share -> random")
    mlm_target: Literal["same", "shifted"] = Field(
        default="same", description="same: predict at the masked position; shifted: MNTP"
    )
    masking: Literal["token", "span"] = "token"
    span_p: float = Field(default=1 / 3, gt=0.0, le=1.0, description="geometric p of span length")
    span_max: int = Field(
        default=10, ge=2,
        description="span lengths are the geometric draw modulo this (LTG-BERT: 0 to 9 tokens)",
    )

    @model_validator(mode="after")
    def _shares_fit(self) -> ObjectiveConfig:
        if self.mask_replace + self.random_replace > 1.0 + 1e-9:
            raise ValueError(
                "objective.mask_replace + objective.random_replace must be <= 1 "
                f"(got {self.mask_replace} + {self.random_replace})"
            )
        return self


class TrainConfig(_Section):
    schedule: str = "1_CLM+2_MLM+1_CLM"
    batch_size: int = Field(default=32, gt=0, description="global sequences per optimizer step")
    grad_accum: int = Field(default=1, gt=0)
    optimizer: Literal["adamw", "lamb"] = "adamw"
    lr: float = Field(default=1e-3, gt=0.0)
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = Field(default=1e-8, gt=0.0)
    weight_decay: float = Field(default=0.1, ge=0.0)
    warmup: float = Field(
        default=0.05, ge=0.0, description="warm-up steps; a value < 1 is a fraction of the run"
    )
    min_lr_ratio: float = Field(default=0.1, ge=0.0, le=1.0, description="cosine floor")
    lr_schedule: Literal["global", "per_phase"] = Field(
        default="global", description="one warm-up+cosine over the run, or one per phase"
    )
    grad_clip: float | None = Field(default=1.0, gt=0.0)
    sparse_head: bool = Field(
        default=True, description="run the output head only on scored positions (MLM)"
    )
    # auto: bf16 autocast where the hardware computes bf16 (GPUs, CPUs with AMX or AVX512-BF16:
    # ~1.2x fp32 there, docs/PERFORMANCE.md, tracking its loss curve, tests/train/
    # test_fast_paths.py), fp32 elsewhere (an AVX2-only CPU emulates bf16 at a tenth of fp32's
    # speed). torch.compile gains ~1.16x but costs 20-180 s of compilation up front, more than
    # it saves on runs of a few minutes: opt in for long runs.
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    compile: bool = False
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:N")
    seed: int = 42
    log_every: int = Field(default=20, gt=0, description="steps between loss readbacks")
    dev_max_blocks: int = Field(default=64, gt=0, description="dev blocks per dev-loss check")
    # Finer dev curves than one point per epoch, without the cost of a checkpoint each: a check
    # runs both objectives forward over dev_max_blocks blocks (no backward, no write), about
    # (2 x dev_max_blocks) / (3 x batch_size) steps' worth of compute: at the defaults 1.3
    # steps, four times an epoch; on the 119-step epochs of the tiny CPU studies some 4% more
    # time, on longer epochs proportionally less. A resume may change it (what is measured, not
    # what is trained: the checks draw from their own fixed generator, in eval mode).
    dev_every: float = Field(
        default=0.25, gt=0.0, le=1.0,
        description="epochs between dev-loss checks, counted from each epoch's start (0.25: "
        "four a epoch), besides the check at every epoch's and phase's end, which is always made "
        "(1: those alone)",
    )
    # The BabyLM rules (2025-): a budget on the words a model sees, and weights saved as the
    # words seen pass the challenge's milestones. Counts accept 100M, 1.5M, 250K, 10_000_000.
    max_words_seen: int | None = Field(
        default=None, gt=0,
        description="the most words the model may see; a longer plan fails before training",
    )
    epochs: float | Literal["budget"] | None = Field(
        default=None,
        description="None: the schedule's epochs as written; a number: the schedule's phases "
        "taken as proportions and scaled to this many epochs (4_CLM+16_MLM+4_CLM at 10 = "
        "1.667_CLM+6.667_MLM+1.667_CLM); budget: scaled to see train.max_words_seen words",
    )
    report_to: list[Literal["tensorboard", "wandb"]] = Field(
        default_factory=list,
        description="experiment trackers that receive the run's records (antlm.tracking): "
        "tensorboard (RUN/tensorboard), wandb (project antlm, local files in RUN/wandb)",
    )
    # A checkpoint (weights, optimizer, RNG: ~900 MB for a 58M model, fsynced) at every epoch's
    # end costs seconds each on a short GPU window; without them a run still ends with one.
    checkpoint_epochs: bool = Field(
        default=True,
        description="write checkpoint.pt at every epoch's and phase's end (false: only where "
        "the run or this invocation stops; a crash then restarts the run from its start)",
    )
    checkpoint_words: str | list[int] | None = Field(
        default=CHALLENGE_MILESTONES,
        description="words seen at which to save the weights to checkpoints/chck_<N>: a rule "
        "('1M..10M step 1M, 20M..100M step 10M'), a list of sizes, or null for none",
    )

    @field_validator("device")
    @classmethod
    def _device_is_known(cls, value: str) -> str:
        if not DEVICE_NAME.fullmatch(value):
            raise ValueError(DEVICE_HELP)
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule_parses(cls, value: str) -> str:
        from antlm.schedule import parse_schedule  # local: schedule imports nothing from here

        parse_schedule(value)
        return value

    @field_validator("epochs", mode="before")
    @classmethod
    def _epochs_allowed(cls, value: Any, info: ValidationInfo) -> Any:
        if value == "budget":
            if info.data.get("max_words_seen") is None:
                raise ValueError("'budget' needs train.max_words_seen (e.g. 100M)")
            return value
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
        if value is not None and number <= 0:
            raise ValueError("must be a positive number of epochs, 'budget' or null")
        return value

    @field_validator("max_words_seen", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return None if value is None else parse_count(value)

    @field_validator("checkpoint_words", mode="before")
    @classmethod
    def _milestones_parse(cls, value: Any) -> Any:
        parse_milestones(value)  # raises with the bad part named
        return [parse_count(v) for v in value] if isinstance(value, list) else value

    @property
    def milestones(self) -> list[int]:
        """The words-seen milestones of ``checkpoint_words``, sorted."""
        return parse_milestones(self.checkpoint_words)

    def nominal_plan(self) -> Plan:
        """The schedule as the run follows it, scaled to ``epochs`` when that is a number. With
        ``epochs: budget`` the length depends on the corpus (``antlm.train.plan``), and this is
        the schedule as written."""
        from antlm.schedule import parse_schedule

        plan = parse_schedule(self.schedule)
        return plan.scaled(self.epochs) if isinstance(self.epochs, float) else plan


ScoringBackend = Literal["causal", "mlm", "mntp", "fused", "mlm_word_l2r"]
SCORING_BACKENDS: tuple[str, ...] = get_args(ScoringBackend)


class EvalConfig(_Section):
    """How the run is to be evaluated, fixed before any scoring."""

    backend: ScoringBackend | None = Field(
        default=None,
        description="the zero-shot backend of the run's headline score; None: follow the "
        "objective the schedule ends on (CLM -> causal, MLM -> mlm, or mntp for "
        "objective.mlm_target: shifted)",
    )


def _option(default: Any, help: str, option: Number | None = None) -> Any:
    """A dataclass field whose ``help`` (and range, an :class:`antlm.options.Number`) the
    command line reads: ``antlm finetune``'s flags are generated from :class:`FinetuneConfig`'s
    fields, so a new field needs no edit of the command line."""
    return field(default=default, metadata={"help": help, "option": option})


@dataclass(frozen=True)
class FinetuneConfig:
    """GLUE fine-tuning hyperparameters (:mod:`antlm.eval.finetune`); the defaults are the
    BabyLM 2024 pipeline's, and ``antlm finetune`` takes its flags, defaults and help from
    here."""

    epochs: int = _option(10, "at most this many epochs")
    lr: float = _option(5e-5, "learning rate")
    batch_size: int = _option(64, "examples per step", BATCH_SIZE)
    patience: int = _option(3, "stop after this many epochs without improvement")
    seed: int = _option(12, "classifier head and data order")
    max_length: int = _option(128, "tokens per example (longer ones are truncated)")
    max_train_examples: int | None = _option(
        None, "fine-tune on a seeded random N-example subset (quick runs; default: the whole "
        "train set)")
    max_eval_examples: int | None = _option(
        None, "evaluate on the first N validation examples (default: all)")
    attention: Literal["causal", "bidirectional"] | None = _option(
        None, "default: that of the schedule's final phase (MLM -> bidirectional)")


class RunConfig(_Section):
    """The whole run: everything needed to reproduce it, saved as ``config.yaml``."""

    name: str = "run"
    data: DataConfig = Field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)

    @model_validator(mode="after")
    def _vocab_agrees(self) -> RunConfig:
        if self.model.vocab_size != self.tokenizer.vocab_size:
            raise ValueError(
                f"model.vocab_size={self.model.vocab_size} differs from "
                f"tokenizer.vocab_size={self.tokenizer.vocab_size}; set both to the same value"
            )
        return self

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


# --------------------------------------------------------------------------------------------
# Loading


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml_mapping(path: Path, holding: str) -> dict[str, Any]:
    """The top-level mapping of a YAML file antlm reads (a run config, a sweep file); a file
    that does not parse, or holds something else, is a :class:`ConfigError` naming it
    (``holding`` completes "the top level must be a mapping ...")."""
    try:
        raw = read_yaml(path) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping {holding}")
    return raw


def _read_yaml_tree(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        raise ConfigError(f"{path}: inherit cycle through {' -> '.join(map(str, seen))}")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    raw = read_yaml_mapping(path, "of sections")
    parents = raw.pop("inherit", []) or []
    if isinstance(parents, str):
        parents = [parents]
    merged: dict[str, Any] = {}
    for parent in parents:
        merged = _deep_merge(merged, _read_yaml_tree(path.parent / parent, seen + (path,)))
    return _deep_merge(merged, raw)


def nest_dotted(values: dict[str, Any]) -> dict[str, Any]:
    """``{"train.lr": 3e-4}`` -> ``{"train": {"lr": 3e-4}}``."""
    tree: dict[str, Any] = {}
    for key, value in values.items():
        node = tree
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["train.lr=3e-4", "model.num_layers=2"]`` into a nested dict.

    Values are parsed as YAML scalars so numbers, booleans and lists keep their types.
    """
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        try:
            values[key] = load_yaml(value, f"--set {key}") if value != "" else None
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {pair!r}: the value is not valid YAML ("
                              f"{str(exc).splitlines()[0]}); quote it if it is text") from None
    return nest_dotted(values)


def _format_validation_error(exc: ValidationError, source: str) -> str:
    lines = [f"invalid configuration ({source}):"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        value = err.get("input")
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        allowed = (err.get("ctx") or {}).get("expected")
        line = f"  {key} = {value!r}: {message}"
        if allowed and "expected" not in message.lower():
            line += f" (allowed: {allowed})"
        lines.append(line)
    return "\n".join(lines)


def validate_config(raw: dict[str, Any], source: str = "config") -> RunConfig:
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None


def load_config(
    path: str | os.PathLike[str] | None,
    overrides: list[str] = (),
    updates: dict[str, Any] | None = None,
) -> RunConfig:
    """Read a run config (with its ``inherit`` chain), then apply ``updates`` (a mapping of
    dotted keys to values, as sweeps give them) and ``--set`` overrides. ``path`` may also name
    a packaged preset (``demo``, see :mod:`antlm.presets`) when no such file exists."""
    raw: dict[str, Any] = _read_yaml_tree(locate_config(path, "runs")) if path else {}
    raw = _deep_merge(raw, nest_dotted(updates or {}))
    raw = _deep_merge(raw, parse_overrides(list(overrides)))
    return validate_config(raw, source=str(path) if path else "defaults")


def locate_config(path: str | os.PathLike[str], kind: str) -> Path:
    """``path`` itself when it is a file, else the packaged preset of that name (``demo`` ->
    ``antlm/configs/runs/demo.yaml``)."""
    from antlm.presets import find_preset

    if Path(path).is_file():
        return Path(path)
    preset = find_preset(str(path), kind)
    if preset is None:
        raise ConfigError(f"{kind[:-1]} config not found: {path} is neither a file nor a "
                          "packaged preset (`antlm presets` lists them)")
    return preset


def override_config(config: RunConfig, updates: dict[str, Any]) -> RunConfig:
    """``config`` with ``updates`` (dotted keys to values) applied and validated again."""
    return validate_config(_deep_merge(config.model_dump(), nest_dotted(updates)),
                           source=f"{config.name} with {sorted(updates)}")


DATA_DIR_HELP = (
    "Get the BabyLM data (https://babylm.github.io, the strict-small corpus and evaluation "
    "data) and pass --data-dir DIR, set ANTLM_DATA_DIR=DIR, or put it (or a link to it) in "
    "./data."
)
DEFAULT_DATA_DIR = Path("data")  # relative to the working directory: `make setup` links it


def resolve_data_dir(cli_value: str | os.PathLike[str] | None) -> Path:
    """The data directory: ``--data-dir`` first, then ``ANTLM_DATA_DIR``, then ``./data`` (so
    the README's commands work from a checkout as written, without an environment variable)."""
    value = cli_value or os.environ.get("ANTLM_DATA_DIR")
    if not value:
        if DEFAULT_DATA_DIR.is_dir():
            return DEFAULT_DATA_DIR
        raise ConfigError(f"no data directory given and no ./data folder. {DATA_DIR_HELP}")
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigError(f"data directory {path} does not exist. {DATA_DIR_HELP}")
    return path
