"""Turn token blocks into training batches for each objective.

An objective is data, not a code path: a batch carries its input ids, the attention kind and a
dense label matrix (``-100`` where nothing is scored). The trainer computes one cross-entropy
over the scored positions only, so MLM (about 15% scored) runs the output head on those rows
alone.

Masking is drawn for the *global* batch of a step from a generator seeded by ``(seed, step)``:
every process of a distributed run, and a resumed run, draws exactly the same masks, and each
process then takes its own rows. Each part carries its share of the step's rows and the global
count of its scored tokens; the trainer scales the loss by them at the backward (one place,
``antlm.train.trainer.StepRunner.step``), so splitting a batch across processes or
accumulation steps leaves the gradient as it would be on one device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from antlm.config import ObjectiveConfig
from antlm.data.masking import MaskingStrategy, ReplacementRule, TokenMaskingStrategy
from antlm.data.tokenizer import AntlmTokenizer
from antlm.schedule import Phase

IGNORE = -100


@dataclass
class ObjectivePart:
    """All rows of one objective in a (global or sliced) batch."""

    objective: str  # "CLM" or "MLM"
    attention: str  # "causal" or "bidirectional"
    input_ids: torch.Tensor  # [b, T]
    labels: torch.Tensor  # [b, T], IGNORE where not scored
    share: float  # the objective's share of the step's rows (1 but in a MIX phase)
    global_scored: int  # the tokens scored in the whole global part (at least 1)

    def rows(self, start: int, stop: int) -> ObjectivePart:
        return ObjectivePart(
            self.objective, self.attention, self.input_ids[start:stop],
            self.labels[start:stop], self.share, self.global_scored,
        )

    @property
    def n_rows(self) -> int:
        return self.input_ids.shape[0]


def scored_count(labels: torch.Tensor) -> int:
    """The positions ``labels`` scores, at least 1 (a part that scores none adds 0 to the
    loss rather than a division by zero)."""
    return max(int((labels != IGNORE).sum()), 1)


def step_generator(seed: int, step: int) -> torch.Generator:
    """A generator that depends only on (seed, step): masks are reproducible on resume."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


class ObjectiveBuilder:
    """Builds CLM / MLM / MIX batches from blocks of token ids."""

    def __init__(self, config: ObjectiveConfig, tokenizer: AntlmTokenizer) -> None:
        self.config = config
        self.n_special = tokenizer.n_special
        rule = ReplacementRule(
            mask_token_id=tokenizer.mask_id,
            vocab_size=tokenizer.vocab_size,
            n_special=tokenizer.n_special,
            mask_replace=config.mask_replace,
            random_replace=config.random_replace,
        )
        self.masking: MaskingStrategy
        if config.masking == "span":
            from antlm.data.span_masking import SpanMaskingStrategy

            self.masking = SpanMaskingStrategy(
                rule, probability=config.mlm_probability, p=config.span_p, max_span=config.span_max
            )
        else:
            self.masking = TokenMaskingStrategy(rule, probability=config.mlm_probability)

    def clm(self, blocks: torch.Tensor, share: float = 1.0) -> ObjectivePart:
        labels = torch.full_like(blocks, IGNORE)
        labels[:, :-1] = blocks[:, 1:]
        return ObjectivePart("CLM", "causal", blocks, labels, share, scored_count(labels))

    def mlm(self, blocks: torch.Tensor, generator: torch.Generator, share: float = 1.0) -> ObjectivePart:
        protected = blocks < self.n_special
        shifted = self.config.mlm_target == "shifted"
        if shifted:
            # MNTP: the token masked at t is predicted from the hidden state at t-1, so no
            # position predicts the first token: corrupting it would teach nothing.
            protected[:, 0] = True
        corrupted, selected = self.masking(blocks, protected, generator)
        labels = torch.full_like(blocks, IGNORE)
        if shifted:
            labels[:, :-1][selected[:, 1:]] = blocks[:, 1:][selected[:, 1:]]
        else:
            labels[selected] = blocks[selected]
        return ObjectivePart("MLM", "bidirectional", corrupted, labels, share,
                             scored_count(labels))

    def build(self, blocks: torch.Tensor, phase: Phase, generator: torch.Generator) -> list[ObjectivePart]:
        """The parts of one global step under ``phase``."""
        if phase.objective == "CLM":
            return [self.clm(blocks)]
        if phase.objective == "MLM":
            return [self.mlm(blocks, generator)]
        # Blocks arrive shuffled, so the first rows are as random a choice as any.
        n_rows = blocks.shape[0]
        n_mlm = round(n_rows * phase.mlm_fraction)
        parts = []
        if n_mlm < n_rows:
            parts.append(self.clm(blocks[n_mlm:], share=1 - n_mlm / n_rows))
        if n_mlm:
            parts.append(self.mlm(blocks[:n_mlm], generator, share=n_mlm / n_rows))
        return parts


def slice_parts(parts: list[ObjectivePart], index: int, count: int) -> list[ObjectivePart]:
    """The ``index``-th of ``count`` contiguous row slices of every part (empty ones dropped)."""
    sliced = []
    for part in parts:
        start = part.n_rows * index // count
        stop = part.n_rows * (index + 1) // count
        if stop > start:
            sliced.append(part.rows(start, stop))
    return sliced
