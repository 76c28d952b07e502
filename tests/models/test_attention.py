"""Attention masks on every device and precision: SDPA picks another kernel for each mask kind,
dtype and device (flash and memory-efficient kernels on CUDA), so padding and both attention
kinds are checked on each, against the CPU in float32."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from antlm.config import ModelConfig
from antlm.models.attention import additive_mask
from antlm.models.registry import build_model
from tests.devices import DEVICES

pytestmark = pytest.mark.device

ARCHS = ("babyllama", "ltgbert")
# Largest difference allowed between a device's output and the CPU's float32 one. A wrong mask
# moves these hidden states (entries up to ~7) by 2 to 6 (measured: padding seen by a
# bidirectional row, or the other attention kind). Float32 on the CPU reorders nothing; bf16
# autocast was measured 0.01 (BabyLlama) and 0.047 (LTG-BERT) away on the CPU: 0.2. TF32 on
# CUDA rounds matmul inputs to 10 mantissa bits, 8 times finer than bf16's: 3e-2.
TOLERANCE = {("cpu", "fp32"): 1e-5, ("cuda", "fp32"): 3e-2, ("cpu", "bf16"): 0.2,
             ("cuda", "bf16"): 0.2}


def tiny(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    config = ModelConfig(arch=arch, vocab_size=100, hidden_size=64, num_layers=2, num_heads=4,
                         ffn_size=96, max_seq_len=32, position_buckets=8)
    return build_model(config).eval()


def run(model, ids, attention, padding_mask, device, precision) -> torch.Tensor:
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16"
                else nullcontext())
    with torch.no_grad(), autocast:
        mask = None if padding_mask is None else padding_mask.to(device)
        return model(ids.to(device), attention, padding_mask=mask).float().cpu()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("arch", ARCHS)
def test_padding_and_both_attention_kinds_agree_with_the_cpu(arch, precision, device):
    device = torch.device(device)
    reference_model = tiny(arch)
    model = tiny(arch).to(device)
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 100, (3, 20), generator=generator)
    lengths = torch.tensor([20, 13, 7])
    padding_mask = torch.arange(20)[None] < lengths[:, None]  # right padding
    padded = ids.masked_fill(~padding_mask, 3)
    tolerance = TOLERANCE[device.type, precision]
    for attention in ("causal", "bidirectional"):
        expected = run(reference_model, ids, attention, None, torch.device("cpu"), "fp32")
        got = run(model, ids, attention, None, device, precision)
        torch.testing.assert_close(got, expected, rtol=0, atol=tolerance)
        with_padding = run(model, padded, attention, padding_mask, device, precision)
        for row, length in enumerate(lengths.tolist()):
            # Real tokens see only real tokens: as without padding (causal: the same prefix).
            alone = run(model, ids[row:row + 1, :length], attention, None, device, precision)
            torch.testing.assert_close(with_padding[row, :length], alone[0], rtol=0,
                                       atol=tolerance)
        assert torch.isfinite(with_padding).all()


@pytest.mark.parametrize("device", DEVICES)
def test_ltgbert_attention_bias_stays_in_bf16_under_autocast(device):
    """The additive mask is built in autocast's dtype: adding a float32 mask to the bf16
    position scores would make every layer's ``[batch, heads, T, T]`` sum float32."""
    device = torch.device(device)
    model = tiny("ltgbert").to(device)
    ids = torch.randint(5, 100, (2, 16), device=device)
    score_shape = (2, 4, 16, 16)

    class ScoreDtypes(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.dtypes: set[torch.dtype] = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor) and tuple(out.shape) == score_shape:
                self.dtypes.add(out.dtype)
            return out

    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16), ScoreDtypes() as seen:
        model(ids, "causal")
    assert seen.dtypes == {torch.bfloat16}
    mask = additive_mask("causal", 16, None, device, torch.float32)
    assert mask.dtype == torch.float32  # outside autocast the caller's dtype stands
