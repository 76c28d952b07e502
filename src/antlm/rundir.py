"""A run directory: everything a run needs to be understood, evaluated and resumed.

    RUN/config.yaml          the resolved config (all defaults filled in)
    RUN/tokenizer.json       the tokenizer the model was trained with
    RUN/model.safetensors    the latest weights (every checkpoint rewrites it)
    RUN/checkpoint.pt        optimizer, RNG and data position for exact resume
    RUN/state.json           progress: step, epoch, finished
    RUN/metrics.jsonl        one JSON record per log line (train and dev losses)
    RUN/results.json         evaluation results, merged by every evaluator

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
from safetensors.torch import load_model
from torch import nn

from antlm.config import RunConfig, validate_config
from antlm.data.cache import atomic_write_bytes
from antlm.data.tokenizer import AntlmTokenizer
from antlm.models.registry import build_model

EXPORTED_CONFIG = "antlm_config.yaml"


class RunDirError(FileNotFoundError):
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


def load_run(path: str | Path, device: str | torch.device = "cpu") -> LoadedRun:
    """Config, tokenizer and trained model (eval mode) of a run directory."""
    paths = RunPaths(Path(path))
    config = read_config(paths)
    if not paths.weights.is_file():
        raise RunDirError(f"{paths.root} has no trained weights yet ({paths.weights.name})")
    model = build_model(config.model)
    load_model(model, str(paths.weights), device=str(device))
    model.to(device).eval()
    return LoadedRun(paths, config, AntlmTokenizer.from_file(paths.tokenizer), model)
