"""torchrun / DDP set-up: which process am I, on which device, and who writes files.

Launch with ``torchrun --nproc_per_node N -m antlm train CONFIG``: torchrun sets RANK,
WORLD_SIZE and LOCAL_RANK, and this module turns them into a process group (gloo on CPU, nccl on
CUDA). A plain ``antlm train`` is a world of one and touches no process group at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from antlm.device import resolve_device

# How long a collective may wait before the process group gives up. Every rank but 0 waits at a
# barrier while rank 0 reads the corpus, trains the tokenizer and encodes the tokens, which for
# the 100M-word corpus takes longer than NCCL's default of 10 minutes; an hour covers that and
# still ends a real hang.
COLLECTIVE_TIMEOUT = timedelta(hours=1)


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def init_distributed(requested_device: str) -> DistContext:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    device = resolve_device(requested_device, local_rank, local_processes)
    if world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo",
                                timeout=COLLECTIVE_TIMEOUT)
    return DistContext(rank, world_size, local_rank, device)


def shutdown_distributed(context: DistContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
