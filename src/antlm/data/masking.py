"""Masking strategies for the masked-LM objective.

A strategy picks which tokens the model must predict and corrupts them (BERT's 80/10/10 rule:
``<mask>``, a random token, or unchanged). Strategies are pure functions of their inputs and a
``torch.Generator``, so a batch's masking is reproducible from ``(seed, step)`` alone; that is what
makes resume exact without saving any masking state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch


class MaskingStrategy(Protocol):
    def __call__(
        self, input_ids: torch.Tensor, special_mask: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(corrupted_ids, selected)``; ``selected`` is a bool ``[B, T]`` tensor of the
        positions to predict. Positions where ``special_mask`` is True are never selected."""
        ...


@dataclass(frozen=True)
class ReplacementRule:
    """What happens to a selected token: ``<mask>``, random token, or kept as it is."""

    mask_token_id: int
    vocab_size: int
    n_special: int
    mask_replace: float = 0.8
    random_replace: float = 0.1

    def apply(
        self,
        input_ids: torch.Tensor,
        selected: torch.Tensor,
        generator: torch.Generator,
        draw: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Corrupt ``input_ids`` at ``selected``. ``draw`` (uniform in [0, 1), one per position)
        lets span masking use one draw per span; by default each token draws on its own."""
        if draw is None:
            draw = torch.rand(input_ids.shape, generator=generator, device=input_ids.device)
        to_mask = selected & (draw < self.mask_replace)
        to_random = selected & (draw >= self.mask_replace) & (
            draw < self.mask_replace + self.random_replace
        )
        random_ids = torch.randint(
            self.n_special, self.vocab_size, input_ids.shape,
            generator=generator, device=input_ids.device,
        )
        out = input_ids.masked_fill(to_mask, self.mask_token_id)
        return torch.where(to_random, random_ids, out)


@dataclass(frozen=True)
class TokenMaskingStrategy:
    """BERT masking: each non-special token is chosen independently with ``probability``."""

    rule: ReplacementRule
    probability: float = 0.15

    def __call__(
        self, input_ids: torch.Tensor, special_mask: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        coin = torch.rand(input_ids.shape, generator=generator, device=input_ids.device)
        selected = (coin < self.probability) & ~special_mask
        return self.rule.apply(input_ids, selected, generator), selected
