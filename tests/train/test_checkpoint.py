"""Checkpoints restore every random generator a process uses, on its own device and per rank,
so that dropout after a resume draws what it would have drawn without the interruption."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from antlm.rundir import RunPaths
from antlm.train.checkpoint import gather_rng_states, load_checkpoint, save_checkpoint
from tests.devices import DEVICES, needs_two_gpus

pytestmark = pytest.mark.device


def draws(device: torch.device) -> list[torch.Tensor]:
    """What the CPU generator and the device's generator (dropout on a GPU) produce next."""
    cpu = torch.rand(4)
    return [cpu] if device.type == "cpu" else [cpu, torch.rand(4, device=device).cpu()]


def checkpoint_draw_resume_draw(root: Path, device: torch.device, writer: bool) -> None:
    """Checkpoint (written by ``writer``), draw, scramble the generators, resume, draw again:
    the two draws must agree."""
    model = nn.Linear(3, 2).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    states = gather_rng_states(device)  # under DDP a collective, as in the trainer
    if writer:
        save_checkpoint(RunPaths(root), model, optimizer, 7, {}, states)
    expected = draws(device)
    if dist.is_initialized():
        dist.barrier()  # the checkpoint is written
    torch.manual_seed(12345)
    assert load_checkpoint(RunPaths(root), model, optimizer, device)["step"] == 7
    for a, b in zip(expected, draws(device), strict=True):
        assert torch.equal(a, b), f"rank {dist.get_rank() if dist.is_initialized() else 0}"


@pytest.mark.parametrize("device", DEVICES)
def test_resume_restores_the_cpu_and_device_generators(device, tmp_path):
    device = torch.device(device)
    torch.manual_seed(3)
    checkpoint_draw_resume_draw(tmp_path, device, writer=True)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)["rng"]
    # One entry per process, holding its own device's state only (a checkpoint from a machine
    # with 8 GPUs resumes on one with 1).
    assert len(saved) == 1 and set(saved[0]) == {"cpu", "device"}
    assert (saved[0]["device"] is None) == (device.type == "cpu")


def _rank_main(rank: int, world: int, backend: str, root: str) -> None:
    """One DDP process. Each rank's generators start from another seed, as they do once ranks
    have drawn different numbers of random values, and each must get its own state back; only
    rank 0 writes the checkpoint, as in the trainer."""
    dist.init_process_group(backend, init_method=f"file://{root}/rendezvous", rank=rank,
                            world_size=world)
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", rank)
        torch.cuda.set_device(device)
    torch.manual_seed(100 + rank)
    checkpoint_draw_resume_draw(Path(root), device, writer=rank == 0)
    dist.destroy_process_group()


@pytest.mark.parametrize(
    "backend", [pytest.param("gloo", id="gloo"), pytest.param("nccl", marks=needs_two_gpus)]
)
def test_each_ddp_rank_resumes_its_own_rng_state(backend, tmp_path):
    mp.spawn(_rank_main, args=(2, backend, str(tmp_path)), nprocs=2, join=True)
