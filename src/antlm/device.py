"""Turn a ``device`` setting ("auto", "cpu", "cuda", "cuda:N") into a ``torch.device``.

Training, evaluation and fine-tuning all take the same setting, so one function reads it.
"""

from __future__ import annotations

import torch


def resolve_device(requested: str, local_rank: int = 0) -> torch.device:
    """``auto`` is the GPU of this process (``local_rank`` under torchrun) when CUDA is there,
    else the CPU; a bare ``cuda`` likewise gets this process's GPU."""
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        return torch.device("cpu")
    device = torch.device(requested)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device
