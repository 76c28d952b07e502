"""Span masking, as LTG-BERT trains: contiguous spans instead of independent tokens.

Predicting a whole span is harder than predicting a word piece whose neighbours are visible
(the rest of the word usually gives it away), which is why the LTG-BERT reference masks spans.

Per sequence, spans are drawn one after another until ``probability`` of its non-special tokens
are covered, exactly ``round(probability * n)`` of them (at least one): each span has a length
from a geometric distribution (``p``, support 1, 2, ...) clipped at ``max_span``, is placed so
that it contains an anchor token chosen uniformly among the non-special ones (the anchor's
place inside the span is uniform too, so tokens at the start of a segment are as likely to be
covered as any other), and stops at special tokens, so a span never crosses a document
boundary. The span that reaches the target is cut short at it. One uniform draw per span picks
BERT's mask / random / keep outcome, so a span is corrupted as a unit.

The loop over spans is vectorised: a fixed number of candidate spans per row is drawn at once
and a cumulative union over them decides which are needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from antlm.data.masking import ReplacementRule


def clipped_geometric(
    shape: tuple[int, ...], p: float, max_span: int, generator: torch.Generator,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Span lengths: geometric on {1, 2, ...} with success probability ``p``, capped at
    ``max_span``. Its mean is ``(1 - (1 - p) ** max_span) / p``."""
    lengths = torch.empty(shape, device=device).geometric_(p, generator=generator)
    return lengths.clamp_(max=max_span).long()


@dataclass(frozen=True)
class SpanMaskingStrategy:
    """Implements :class:`antlm.data.masking.MaskingStrategy` with geometric-length spans."""

    rule: ReplacementRule
    probability: float = 0.15
    p: float = 1 / 3
    max_span: int = 10

    def _candidates(self, max_target: int) -> int:
        # Each candidate covers at least its anchor, still uncovered with probability at least
        # 1 - probability while a row is below target, and ~3 tokens on average: this many
        # candidates make running out vanishingly rare (a row that does stays a little short).
        return math.ceil(max_target / (1 - self.probability)) + 8

    def __call__(
        self, input_ids: torch.Tensor, special_mask: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        device = input_ids.device
        batch, seq_len = input_ids.shape
        real = ~special_mask
        n_real = real.sum(dim=1)
        target = torch.round(n_real * self.probability).long().clamp(min=1).minimum(n_real)
        max_target = int(target.max()) if batch else 0
        if max_target == 0:
            return input_ids.clone(), torch.zeros_like(special_mask)
        n_spans = self._candidates(max_target)

        lengths = clipped_geometric((batch, n_spans), self.p, self.max_span, generator, device)
        # Anchor: the r-th non-special position, r uniform; stable argsort lists them in order.
        real_positions = torch.argsort(special_mask.to(torch.int8), dim=1, stable=True)
        rank = (torch.rand(batch, n_spans, generator=generator, device=device)
                * n_real[:, None]).long().clamp(max=seq_len - 1)
        anchor = real_positions.gather(1, rank)
        offset = (torch.rand(batch, n_spans, generator=generator, device=device)
                  * lengths).long()
        start = anchor - offset
        span_draw = torch.rand(batch, n_spans, generator=generator, device=device)

        # Clip each span to the run of non-special tokens around its anchor: it never covers
        # or crosses a special token. bound_left[t] is the last special position <= t,
        # bound_right[t] the first special position >= t (or -1 / T where there is none).
        positions = torch.arange(seq_len, device=device).expand(batch, -1)
        bound_left = torch.where(special_mask, positions, -1).cummax(dim=1).values
        bound_right = torch.where(special_mask, positions, seq_len).flip(1).cummin(dim=1)
        bound_right = bound_right.values.flip(1)
        low = torch.maximum(start, bound_left.gather(1, anchor) + 1)
        high = torch.minimum(start + lengths, bound_right.gather(1, anchor))
        grid = positions[:, None, :]
        cover = (grid >= low[..., None]) & (grid < high[..., None])  # [B, spans, T]

        union = cover.cumsum(dim=1, dtype=torch.int32) > 0  # covered after spans 0..k
        count = union.sum(dim=2)
        count_before = torch.nn.functional.pad(count[:, :-1], (1, 0))
        accepted = count_before < target[:, None]  # a prefix of the spans in each row
        last = (accepted.sum(dim=1) - 1).clamp(min=0)
        rows = torch.arange(batch, device=device)
        before_last = union[rows, (last - 1).clamp(min=0)] & (last > 0)[:, None]
        new_in_last = union[rows, last] & ~before_last
        # Cut the last span at the target: keep its first `deficit` new positions.
        deficit = (target - count_before[rows, last]).clamp(min=0)
        kept = new_in_last & (new_in_last.cumsum(dim=1) <= deficit[:, None])
        selected = (before_last | kept) & (target > 0)[:, None]

        # Each selected position takes the draw of the first span that covers it, whose index
        # is the number of prefixes not yet covering it (union only grows along the spans).
        owner = (~union).sum(dim=1).clamp(max=n_spans - 1)
        draw = span_draw.gather(1, owner)
        return self.rule.apply(input_ids, selected, generator, draw=draw), selected
