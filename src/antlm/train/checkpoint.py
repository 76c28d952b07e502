"""Checkpoints that survive crashes and resume exactly.

``checkpoint.pt`` holds everything for exact resume (weights, optimizer, step, RNG states) in one
file, written to a temporary name and renamed, so it is always either the old or the new
checkpoint, never a torn one. ``model.safetensors`` (what evaluation and export read) is written
the same way from the same state, and so are the weights-only milestone checkpoints.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_model
from torch import nn

from antlm.rundir import RunPaths


def _atomic_torch_save(obj: Any, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_weights(model: nn.Module, path: Path, metadata: dict[str, str] | None = None) -> None:
    """The model's weights alone, atomically, with string ``metadata`` in the file's header."""
    # save_model stores tied weights once (safetensors refuses shared storage) and load_model
    # re-ties them, which a plain state-dict round trip would not.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_model(model, tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(
    paths: RunPaths,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    step: int,
    extra: dict[str, Any],
) -> None:
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        **extra,
    }
    _atomic_torch_save(state, paths.checkpoint)
    save_weights(model, paths.weights)


def load_checkpoint(
    paths: RunPaths, model: nn.Module, optimizer: torch.optim.Optimizer, device: torch.device
) -> dict[str, Any]:
    state = torch.load(paths.checkpoint, map_location=device, weights_only=False)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"].cpu())
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return state
