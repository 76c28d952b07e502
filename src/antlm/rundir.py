"""A run directory: everything a run needs to be understood, evaluated and resumed.

    RUN/config.yaml          the resolved config (all defaults filled in)
    RUN/tokenizer.json       the tokenizer the model was trained with
    RUN/model.safetensors    the latest weights (every checkpoint rewrites it)
    RUN/checkpoint.pt        optimizer, RNG and data position for exact resume
    RUN/state.json           progress: step, epoch, words and tokens seen, finished
    RUN/metrics.jsonl        one JSON record per log line (train and dev losses, checkpoints),
                             each with its step, epoch, words and tokens seen
    RUN/results.json         evaluation results, merged by every evaluator
    RUN/checkpoints/chck_<N>.safetensors
                             weights when the words seen first passed milestone N (1M, 10K, ...;
                             the names of the 2025 pipeline's revisions), never rewritten
    RUN/learning_curve.*     every checkpoint's zero-shot scores against words seen (json, md, png)

Evaluation and export read runs through :func:`load_run` only; they never import the trainer.
An exported Hugging Face folder keeps the run's resolved config as ``antlm_config.yaml``
(:data:`EXPORTED_CONFIG`), so what the run declared (its headline backend) travels with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors import safe_open
from safetensors.torch import load_model
from torch import nn

from antlm.atomic import atomic_write_bytes
from antlm.config import RunConfig, validate_config
from antlm.data.tokenizer import AntlmTokenizer
from antlm.errors import AntlmError
from antlm.models.registry import build_model
from antlm.units import format_count

CHECKPOINT_PREFIX = "chck_"

EXPORTED_CONFIG = "antlm_config.yaml"


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
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def learning_curve(self) -> Path:
        """``learning_curve.json``; the table and the plot share its stem."""
        return self.root / "learning_curve.json"

    def milestone(self, words: int) -> Path:
        """Where the weights at milestone ``words`` go: ``checkpoints/chck_1M.safetensors``."""
        return self.checkpoints / f"{milestone_name(words)}.safetensors"


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


def list_checkpoints(paths: RunPaths) -> list[Checkpoint]:
    """The run's milestone checkpoints, in the order they were passed."""
    found = []
    for path in paths.checkpoints.glob(f"{CHECKPOINT_PREFIX}*.safetensors"):
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
        try:
            found.append(Checkpoint(path.stem, path, int(meta["milestone"]),
                                    int(meta["words_seen"]), int(meta["tokens_seen"]),
                                    int(meta["step"])))
        except (KeyError, ValueError) as exc:
            raise RunDirError(f"{path} lacks its milestone metadata ({exc})") from exc
    return sorted(found, key=lambda c: c.milestone)


def read_config(paths: RunPaths) -> RunConfig:
    if not paths.config.is_file():
        raise RunDirError(f"{paths.root} is not a run directory (no config.yaml)")
    raw = yaml.safe_load(paths.config.read_text(encoding="utf-8"))
    return validate_config(raw, source=str(paths.config))


def read_exported_config(folder: Path) -> RunConfig | None:
    """The run config an antlm export carries, or None for any other model folder."""
    path = folder / EXPORTED_CONFIG
    if not path.is_file():
        return None
    return validate_config(yaml.safe_load(path.read_text(encoding="utf-8")), source=str(path))


def read_state(paths: RunPaths) -> dict[str, Any]:
    return json.loads(paths.state.read_text()) if paths.state.is_file() else {}


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def merge_results(
    paths: RunPaths, update: dict[str, Any], replace: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Merge ``update`` into results.json (one level deep; the keys in ``replace`` are
    replaced whole) and write it atomically."""
    results = read_json(paths.results)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(results.get(key), dict) and key not in replace:
            results[key] = {**results[key], **value}
        else:
            results[key] = value
    atomic_write_bytes(paths.results, json.dumps(results, indent=2).encode())
    return results


def read_metrics(paths: RunPaths) -> list[dict[str, Any]]:
    if not paths.metrics.is_file():
        return []
    return [json.loads(line) for line in paths.metrics.read_text().splitlines() if line.strip()]


def read_phases(paths: RunPaths) -> list[dict[str, Any]]:
    """The run's phases in steps and words, as its start record gives them (``phase``,
    ``objective``, ``start_step``, ``end_step``, ``start_words``, ``words``); empty for runs
    trained before words seen were counted."""
    records = read_metrics(paths)
    return records[0].get("phases", []) if records and records[0]["event"] == "start" else []


@dataclass
class LoadedRun:
    paths: RunPaths
    config: RunConfig
    tokenizer: AntlmTokenizer
    model: nn.Module

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
    weights = paths.weights if checkpoint is None else paths.checkpoints / f"{checkpoint}.safetensors"
    if not weights.is_file():
        raise RunDirError(f"{paths.root} has no trained weights {weights.relative_to(paths.root)}")
    model = build_model(config.model)
    load_model(model, str(weights), device=str(device))
    model.to(device).eval()
    return LoadedRun(paths, config, AntlmTokenizer.from_file(paths.tokenizer), model)
