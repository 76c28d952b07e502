"""The one place the training loss is scaled (``StepRunner.step``): a step's gradient is that of
the mean cross-entropy of each objective over its scored tokens, weighted by the objective's
share of the step's rows, however the rows are cut into micro-batches."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from antlm.config import ModelConfig
from antlm.data.objectives import IGNORE, ObjectivePart, scored_count
from antlm.models.registry import build_model
from antlm.train.distributed import DistContext
from antlm.train.trainer import StepRunner, prepare_parts
from tests.runs import small_config

ROWS, LENGTH, VOCAB = 8, 24, 300


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(ModelConfig(vocab_size=VOCAB, hidden_size=32, num_layers=2, num_heads=2,
                                   ffn_size=64, max_seq_len=LENGTH, dropout=0.0))


def _mix_step() -> list[ObjectivePart]:
    """A MIX step: 3 of 8 rows masked (about 15% of their tokens scored), 5 causal."""
    generator = torch.Generator().manual_seed(3)
    blocks = torch.randint(0, VOCAB, (ROWS, LENGTH), generator=generator)
    mlm_labels = torch.full((3, LENGTH), IGNORE)
    chosen = torch.rand(3, LENGTH, generator=generator) < 0.15
    mlm_labels[chosen] = blocks[:3][chosen]
    clm_labels = torch.full((5, LENGTH), IGNORE)
    clm_labels[:, :-1] = blocks[3:, 1:]
    return [ObjectivePart("MLM", "bidirectional", blocks[:3], mlm_labels, 3 / 8,
                          scored_count(mlm_labels)),
            ObjectivePart("CLM", "causal", blocks[3:], clm_labels, 5 / 8,
                          scored_count(clm_labels))]


def _reference_gradient(parts: list[ObjectivePart]) -> torch.Tensor:
    """The gradient of sum(share x mean cross-entropy), computed on the whole step at once."""
    model = _model()
    loss = sum(part.share * F.cross_entropy(
        model.logits(model(part.input_ids, attention=part.attention)).reshape(-1, VOCAB),
        part.labels.reshape(-1), ignore_index=IGNORE) for part in parts)
    loss.backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


@pytest.mark.slow  # it takes optimizer steps (a tiny model's: about a second)
def test_a_step_follows_each_objectives_mean_loss_whatever_the_micro_batches() -> None:
    parts = _mix_step()
    expected = _reference_gradient(parts)
    for accumulation in (1, 2, 3):
        train = small_config().train.model_copy(
            update={"grad_accum": accumulation, "grad_clip": None, "precision": "fp32"})
        model = _model()
        before = torch.cat([p.detach().flatten() for p in model.parameters()])
        # plain SGD at lr 1: the step moves the weights by minus the gradient
        runner = StepRunner(model, torch.optim.SGD(model.parameters(), lr=1.0), train,
                            DistContext(0, 1, 0, torch.device("cpu")))
        runner.step(prepare_parts(parts, train, 0, 1, pin=False), lr=1.0)
        after = torch.cat([p.detach().flatten() for p in model.parameters()])
        torch.testing.assert_close(before - after, expected, rtol=1e-4, atol=1e-6)
