"""Checkpoints that survive crashes and resume exactly.

``checkpoint.pt`` holds everything for exact resume (weights, optimizer, step, RNG states) in one
file, written to a temporary name and renamed, so it is always either the old or the new
checkpoint, never a torn one. ``model.safetensors`` (what evaluation and export read) is written
the same way from the same state, and so are the weights-only milestone checkpoints.

RNG states are kept per process: each rank's CPU generator and the generator of its own device
(not of every GPU the machine has, which could not be restored on a machine with fewer), so
that under DDP every rank continues its own dropout stream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from safetensors.torch import save_model
from torch import nn

from antlm.atomic import atomic_write
from antlm.rundir import RunPaths, reading


def save_weights(model: nn.Module, path: Path, metadata: dict[str, str] | None = None) -> None:
    """The model's weights alone, atomically, with string ``metadata`` in the file's header."""
    # save_model stores tied weights once (safetensors refuses shared storage) and load_model
    # re-ties them, which a plain state-dict round trip would not.
    atomic_write(path, lambda tmp: save_model(model, str(tmp), metadata=metadata))


def rng_state(device: torch.device) -> dict[str, torch.Tensor | None]:
    """This process's RNG state: the CPU generator's and ``device``'s, if it has its own."""
    return {"cpu": torch.get_rng_state(),
            "device": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def gather_rng_states(device: torch.device) -> list[dict[str, torch.Tensor | None]]:
    """Every process's :func:`rng_state`, indexed by rank. A collective under DDP: every rank
    calls it at the same point, so that rank 0 can write all of them into the checkpoint."""
    state = rng_state(device)
    if not (dist.is_available() and dist.is_initialized()):
        return [state]
    states: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(states, {k: None if v is None else v.cpu() for k, v in state.items()})
    return states


def restore_rng_state(states: list[dict[str, torch.Tensor | None]], device: torch.device) -> None:
    """Set this process's generators from its rank's entry of :func:`gather_rng_states`. A run
    resumed on more processes than it was saved from gives the extra ranks rank 0's state."""
    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    state = states[rank] if rank < len(states) else states[0]
    torch.set_rng_state(state["cpu"].cpu())
    if state["device"] is not None and device.type == "cuda":
        # set_rng_state takes a CPU byte tensor only, whatever device it sets.
        torch.cuda.set_rng_state(state["device"].cpu(), device)


def save_checkpoint(
    paths: RunPaths,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    step: int,
    extra: dict[str, Any],
    rng_states: list[dict[str, torch.Tensor | None]],
) -> None:
    """Write the checkpoint (on rank 0 only); ``rng_states`` from :func:`gather_rng_states`."""
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "rng": rng_states,
        **extra,
    }
    atomic_write(paths.checkpoint, lambda tmp: torch.save(state, tmp))
    save_weights(model, paths.weights)


def load_checkpoint(
    paths: RunPaths, model: nn.Module, optimizer: torch.optim.Optimizer, device: torch.device
) -> dict[str, Any]:
    # Read to the CPU, whatever device wrote it: a checkpoint from cuda:1 loads on a machine
    # with one GPU, and the loaded copy does not sit on the GPU beside the model's own.
    # load_state_dict copies the weights to the model's device and the optimizer state to each
    # parameter's.
    with reading(paths.checkpoint, "a checkpoint of the model in config.yaml"):
        state = torch.load(paths.checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    if "rng" in state:
        restore_rng_state(state["rng"], device)
    else:  # written before per-process RNG states: the CPU generator only
        torch.set_rng_state(state["torch_rng"])
    return state
