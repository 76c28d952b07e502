"""Device and precision settings: ``auto`` picks what the hardware runs well."""

from __future__ import annotations

import torch

from antlm.config import TrainConfig
from antlm.device import native_bf16, resolve_device, resolve_precision


def test_auto_precision_is_bf16_exactly_where_the_hardware_has_it() -> None:
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if native_bf16(cpu) else "fp32")
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_precision("bf16", cpu) == "bf16"
    assert TrainConfig().precision == "auto"


def test_native_bf16_agrees_with_the_cpu_capability() -> None:
    """AVX2-only CPUs (no AVX512-BF16, no AMX) emulate bf16: ``auto`` must not pick it there.
    torch reports the vector ISA it dispatches to; bf16 hardware implies at least AVX512."""
    capability = torch.backends.cpu.get_cpu_capability()
    if native_bf16(torch.device("cpu")):
        assert "AVX512" in capability


def test_auto_device_is_the_cpu_without_cuda() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
