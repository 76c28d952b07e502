"""Where device-dependent tests run: on the CPU always, and on CUDA when a GPU is present
(skipped otherwise), so that one command checks the CUDA path: ``pytest -m device``, which
``make gpu-check`` runs on a GPU machine.

Tests that train through ``train_run`` take ``train.device: auto``, so on a GPU machine they
train on CUDA by themselves; ``TRAIN_DEVICE`` says which device that is.
"""

from __future__ import annotations

import pytest
import torch

HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")
needs_two_gpus = pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA devices")

# Parametrize a test over these to run it on the CPU and, where present, on CUDA.
DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=needs_cuda)]

TRAIN_DEVICE = "cuda" if HAS_CUDA else "cpu"

# How far two CUDA runs of the same computation may differ: CUDA's attention backward and the
# sparse head's index_select backward add with atomics, in a different order each run, so the
# same run repeated differs by float32 rounding that training then carries along (a small model
# after ~100 steps at lr 2e-3: well under this bound; a resume that got the optimizer state, the
# RNG or the data position wrong differs by ~lr per step, above it). On the CPU, runs are
# bitwise identical and are compared exactly.
CUDA_RERUN_ATOL = 1e-4


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    """Two state dicts trained by the same computation: bitwise equal on the CPU, within
    ``CUDA_RERUN_ATOL`` where training ran on CUDA."""
    assert a.keys() == b.keys()
    for name, tensor in a.items():
        if TRAIN_DEVICE == "cpu":
            assert torch.equal(tensor, b[name]), name
        else:
            worst = float((tensor.float() - b[name].float()).abs().max())
            assert worst <= CUDA_RERUN_ATOL, (name, worst)
