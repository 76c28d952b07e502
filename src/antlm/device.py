"""Turn a ``device`` setting ("auto", "cpu", "cuda", "cuda:N") into a ``torch.device``, and a
``precision`` setting ("auto", "fp32", "bf16") into the precision that device runs well.

Training, evaluation and fine-tuning all take the same settings, so one function reads each.
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


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bf16 matmuls in hardware. On a CPU without AVX512-BF16 or AMX
    (an AVX2-only EPYC, say) torch emulates them: measured on such a machine, a bf16-autocast
    training step of babyllama-tiny took 11x as long as an fp32 one."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private, so guarded
        return any(getattr(torch.cpu, name, lambda: False)() for name in probes)
    return False


def resolve_precision(requested: str, device: torch.device) -> str:
    """``auto`` is bf16 where the hardware has it, else fp32; an explicit choice stands."""
    if requested == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return requested
