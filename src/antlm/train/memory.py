"""Activation memory of a training step, counted from the tensors autograd keeps for backward.

On a GPU the activations, not the weights, decide whether a batch fits: LTG-BERT base holds
0.4 GB of fp32 weights and ~1.6 GB with gradients and LAMB's two moments, while the tensors its
forward pass keeps for the backward grow with every row of the batch. To size
``train.grad_accum`` before a GPU is at hand, :func:`activation_bytes` runs the model's real
forward pass under the run's precision for one and two rows and adds up the bytes of every
distinct tensor that autograd saves, parameters excluded. The difference is the cost of one
more row; what one row costs beyond it is the per-step constant (autocast's bf16 copies of the
weights, the relative-position tables).

The pass runs on fake tensors (``FakeTensorMode``: shapes, dtypes and the kernels' choices of
what to save, no arithmetic), so LTG-BERT base is counted in a second instead of the minute its
bf16 forward takes on a CPU without bf16 hardware; the counts are those of the real pass on
the CPU, byte for byte. The CPU's attention kernels are what is counted: on CUDA the flash and
memory-efficient kernels keep their inputs, output and log-sum-exp much as the CPU's flash
kernel does, but not exactly.

The count is of what autograd *keeps*; the peak of a step also holds the transient tensors of
the backward pass (each layer's gradients while it is differentiated, the head's logits
gradient) and the allocator's slack, so plan with headroom: ``make gpu-check`` measures the
real peak of the configured micro-batch on a GPU beside this estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from antlm.config import RunConfig
from antlm.models.registry import build_model
from antlm.train.loss import ObjectiveLoss

OBJECTIVES = {"CLM": "causal", "MLM": "bidirectional"}


@dataclass(frozen=True)
class ActivationBytes:
    """Bytes autograd keeps for one forward pass of ``rows`` rows: ``per_row * rows + fixed``."""

    per_row: int
    fixed: int

    def at(self, rows: int) -> int:
        return self.per_row * rows + self.fixed


def _saved_bytes(config: RunConfig, objective: str, rows: int) -> int:
    """Distinct bytes saved for backward by one forward pass of ``rows`` rows (fake tensors)."""
    from antlm.train.trainer import autocast  # the trainer's own precision rule

    seq_len, vocab = config.model.max_seq_len, config.model.vocab_size
    generator = torch.Generator().manual_seed(0)
    positions = None
    scored = rows * seq_len
    if objective == "MLM" and config.train.sparse_head:  # the head on the scored rows only
        chosen = torch.rand(rows * seq_len, generator=generator) < config.objective.mlm_probability
        positions = chosen.nonzero().squeeze(1)  # real: a fake nonzero has no known length
        scored = len(positions)
    storages: dict[int, int] = {}
    with torch.device("meta"):  # the structure only: initialising weights would be wasted
        model = build_model(config.model)
    with FakeTensorMode(allow_non_fake_inputs=True):
        loss = ObjectiveLoss(model.to_empty(device="cpu"))
        loss.train()
        parameters = {p.untyped_storage()._cdata for p in loss.parameters()}

        def pack(tensor: torch.Tensor) -> torch.Tensor:
            storage = tensor.untyped_storage()
            if storage._cdata not in parameters:
                storages[storage._cdata] = storage.nbytes()
            return tensor

        input_ids = torch.randint(0, vocab, (rows, seq_len))
        targets = torch.randint(0, vocab, (scored,))
        with (torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor),
              autocast(config.train.precision, torch.device("cpu"))):
            loss(input_ids, OBJECTIVES[objective], positions, targets)
    return sum(storages.values())


def activation_bytes(config: RunConfig, objective: str) -> ActivationBytes:
    """What the forward pass of ``objective`` ("CLM" or "MLM") keeps for backward, as a cost
    per row of ``config.model.max_seq_len`` tokens plus a fixed part (see the module doc)."""
    one, two = (_saved_bytes(config, objective, rows) for rows in (1, 2))
    return ActivationBytes(per_row=two - one, fixed=2 * one - two)


def micro_batch_rows(config: RunConfig, processes: int = 1) -> int:
    """Rows one forward pass takes: the global batch over processes and accumulation steps."""
    return config.train.batch_size // (processes * config.train.grad_accum)
