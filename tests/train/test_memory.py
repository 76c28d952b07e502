"""Activation counts: those of the real forward pass, linear in the rows, and the LTG-BERT
preset's micro-batch fits an 80 GB GPU."""

from __future__ import annotations

import torch

from antlm.config import load_config
from antlm.models.registry import build_model
from antlm.train.loss import ObjectiveLoss
from antlm.train.memory import activation_bytes, micro_batch_rows
from tests.conftest import CONFIGS

GiB = 2**30


def real_saved_bytes(loss: ObjectiveLoss, rows: int, seq_len: int) -> int:
    """Bytes the real (not fake) causal forward pass saves, counted independently: by tensor
    data pointer, on real tensors."""
    parameters = {p.data_ptr() for p in loss.parameters()}
    saved: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    input_ids = torch.randint(0, 100, (rows, seq_len))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        summed = loss(input_ids, "causal", None, torch.randint(0, 100, (rows * seq_len,)))
    del summed
    return sum(saved.values())


def test_the_count_is_the_real_forward_pass_and_linear_in_rows():
    config = load_config(CONFIGS / "runs" / "demo.yaml", ["train.precision=fp32"])
    estimate = activation_bytes(config, "CLM")
    loss = ObjectiveLoss(build_model(config.model)).train()
    for rows in (1, 3):
        assert real_saved_bytes(loss, rows, config.model.max_seq_len) == estimate.at(rows)
    # At the least, every layer keeps its float32 input for the backward of its first norm.
    hidden_bytes = config.model.max_seq_len * config.model.hidden_size * 4
    assert estimate.per_row > config.model.num_layers * hidden_bytes
    bf16 = activation_bytes(config.model_copy(update={"train": config.train.model_copy(
        update={"precision": "bf16"})}), "CLM")
    assert bf16.per_row < estimate.per_row  # autocast keeps bf16 copies where it can


def test_the_ltgbert_preset_fits_an_80_gb_gpu_only_with_accumulation():
    config = load_config(CONFIGS / "runs" / "ltgbert-antlm.yaml", ["train.precision=bf16"])
    rows = micro_batch_rows(config)
    assert rows == 256
    for objective in ("CLM", "MLM"):
        estimate = activation_bytes(config, objective)
        assert estimate.at(config.train.batch_size) > 80 * GiB  # the whole batch at once
        assert estimate.at(rows) < 40 * GiB  # half the GPU: room for the backward's peak
