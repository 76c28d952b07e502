"""Device and precision settings: ``auto`` picks what the hardware runs well, and a device the
machine cannot give is refused before any work starts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from antlm.config import ConfigError, TrainConfig
from antlm.device import native_bf16, resolve_device, resolve_precision
from tests.devices import HAS_CUDA, needs_cuda

pytestmark = pytest.mark.device


def test_auto_precision_is_bf16_exactly_where_the_hardware_has_it() -> None:
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if native_bf16(cpu) else "fp32")
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_precision("bf16", cpu) == "bf16"
    assert TrainConfig().precision == "auto"


def _cpu_flags() -> set[str] | None:
    """The CPU's feature flags as the Linux kernel reports them (None elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return None
    lines = [line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")]
    return set(lines[0].split(":", 1)[1].split()) if lines else None


def test_native_bf16_agrees_with_the_cpu_capability() -> None:
    """AVX2-only CPUs (no AVX512-BF16, no AMX) emulate bf16: ``auto`` must not pick it there.
    Checked both ways against an independent source: the kernel's CPU flags where there are
    any, else the vector ISA torch dispatches to (bf16 hardware implies at least AVX512)."""
    native = native_bf16(torch.device("cpu"))
    flags = _cpu_flags()
    if flags is not None:
        assert native == bool({"avx512_bf16", "amx_bf16"} & flags), sorted(flags)
    else:
        capability = torch.backends.cpu.get_cpu_capability()
        assert "AVX512" in capability or not native


def test_auto_device_is_the_cpu_without_cuda() -> None:
    expected = "cuda" if HAS_CUDA else "cpu"
    assert resolve_device("auto").type == expected


def test_a_gpu_the_machine_lacks_is_refused() -> None:
    """One process per GPU: the process after the last GPU (rank 1 of 2 on a one-GPU machine,
    rank 0 on a machine without CUDA) gets a message, not a CUDA error at its first tensor."""
    gpus = torch.cuda.device_count()
    message = f"has {gpus} CUDA device" if torch.version.cuda else "built without CUDA"
    with pytest.raises(ConfigError, match=message):
        resolve_device("cuda", local_rank=gpus, processes=gpus + 1)
    if HAS_CUDA:  # auto means the GPUs where there are any: too few is an error there too
        with pytest.raises(ConfigError, match="start fewer"):
            resolve_device("auto", local_rank=gpus, processes=gpus + 1)
    else:
        assert resolve_device("auto", local_rank=1, processes=2) == torch.device("cpu")
    assert resolve_device("cpu", local_rank=5, processes=8) == torch.device("cpu")


def test_one_explicit_gpu_for_several_processes_is_refused() -> None:
    with pytest.raises(ConfigError, match="all on one GPU"):
        resolve_device("cuda:0", local_rank=1, processes=2)


@needs_cuda
def test_a_cuda_device_runs_float32_matmuls_as_tf32_also_when_compiled() -> None:
    """TF32 is switched on through the one API that ``torch.compile`` accepts (mixing the
    ``allow_tf32`` flags and the ``fp32_precision`` settings makes inductor raise)."""
    device = resolve_device("cuda")
    assert device == torch.device("cuda", 0)
    assert torch.get_float32_matmul_precision() == "high"
    generator = torch.Generator(device).manual_seed(0)
    a, b = (torch.randn(512, 512, device=device, generator=generator) for _ in range(2))
    reference = a.double() @ b.double()
    got = torch.compile(torch.matmul)(a, b)
    error = float((got.double() - reference).norm() / reference.norm())
    assert 1e-6 < error < 3e-3  # TF32: ~5e-4; IEEE fp32 would be ~1e-7
