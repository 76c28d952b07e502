"""Turn a ``device`` setting ("auto", "cpu", "cuda", "cuda:N") into a ``torch.device``, and a
``precision`` setting ("auto", "fp32", "bf16") into the precision that device runs well.

Training, evaluation and fine-tuning all take the same settings, so one function reads each.
"""

from __future__ import annotations

import torch

from antlm.config import DEVICE_HELP, DEVICE_NAME, ConfigError


def resolve_device(requested: str, local_rank: int = 0, processes: int = 1) -> torch.device:
    """``auto`` is this process's GPU when CUDA is there, else the CPU; a bare ``cuda`` likewise
    gets this process's GPU: ``cuda:LOCAL_RANK`` under torchrun (``local_rank``), of the
    ``processes`` that torchrun started on this machine.

    Refused with the fix in the message, before any work starts: a GPU the machine does not
    have (two processes on a one-GPU machine would ask for ``cuda:1``), and an explicit
    ``cuda:N`` for several processes, which would put them all on GPU N (NCCL refuses that,
    and it would not be data parallelism anyway).

    Choosing a CUDA device also lets its float32 matmuls run as TF32 (10-bit mantissa inputs,
    fp32 accumulation): ``precision: fp32`` on a GPU then runs at tensor-core speed instead of
    the several times slower IEEE fp32 path, at ~1e-3 relative error per product, less than bf16
    autocast's. ``torch.set_float32_matmul_precision`` is used rather than the ``allow_tf32``
    flags or ``fp32_precision`` settings: mixing those two families makes ``torch.compile``
    fail on torch 2.9-2.11.
    """
    if not DEVICE_NAME.fullmatch(requested):
        raise ConfigError(f"device {requested!r}: {DEVICE_HELP}")
    if requested == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        requested = "cuda"
    device = torch.device(requested)
    if device.type != "cuda":
        return device
    if device.index is None:
        device = torch.device("cuda", local_rank)
    elif processes > 1:
        raise ConfigError(
            f"device {requested!r} for {processes} processes would put them all on one GPU; use "
            "device 'auto' or 'cuda' (process k takes cuda:k) and choose the GPUs with "
            "CUDA_VISIBLE_DEVICES"
        )
    if torch.version.cuda is None:
        raise ConfigError(f"device {requested!r} asked for, but this torch ({torch.__version__}) is "
                          "built without CUDA: install a CUDA build of torch, or use device 'cpu'")
    available = torch.cuda.device_count()
    if device.index >= available:
        hint = (f"; {processes} processes need {processes} GPUs: start fewer (--devices) or "
                "train on the CPU (device 'cpu')" if processes > 1 else "")
        raise ConfigError(f"device {device} asked for, but this machine has {available} "
                          f"CUDA device(s){hint}")
    torch.set_float32_matmul_precision("high")
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
