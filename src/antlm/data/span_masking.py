"""Span masking, as LTG-BERT trains: contiguous spans instead of independent tokens.

Predicting a whole span is harder than predicting a word piece whose neighbours are visible
(the rest of the word usually gives it away), which is why the LTG-BERT reference masks spans.

The rule is the reference's (ltgoslo/ltg-bert, ``babylm/train/dataset.py``,
``SpanMaskingStrategy``), per sequence:

* the number of tokens to mask is a binomial draw over the non-special tokens with
  ``probability`` (at least 1, at most all of them);
* spans are drawn one after another while fewer tokens than that are masked, at most
  ``max_spans`` (100) of them: a length that is a geometric draw (``p``, support 1, 2, ...)
  modulo ``max_span`` (so 0 to 9 tokens for 10; a zero-length span masks nothing but counts),
  and a start offset uniform over every placement that overlaps the sequence, from ``-(L - 1)``
  to ``T + L - 1``, so a span may hang over either end;
* a span covers the special tokens it crosses without masking them (it "skips" them), so a
  span may continue past a document boundary;
* the last span is not cut at the target: the sequence ends up with at least that many masked
  tokens, usually a few more;
* one uniform draw per span picks BERT's mask / random / keep outcome (80/10/10); where spans
  overlap, the later span's outcome stands, as the reference overwrites the inputs.

Two deliberate differences, both because antlm's blocks are packed: the reference's sequences
always end in ``[SEP]`` or padding, and it never masks the last position; here a block's last
position is an ordinary token of the stream, so spans are clipped at the block's end instead. The
reference's random replacement may draw the id just below its special-token range; here
random tokens are never special (the shared :class:`~antlm.data.masking.ReplacementRule`).

The loop over spans is vectorised: ``max_spans`` candidate spans per row are drawn at once and
a cumulative union over them decides which the reference's ``while`` loop would have drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from antlm.data.masking import ReplacementRule


def span_lengths(
    shape: tuple[int, ...], p: float, modulus: int, generator: torch.Generator,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Geometric lengths on {1, 2, ...} with success probability ``p``, modulo ``modulus``
    (the reference's rule): values 0 to ``modulus - 1``, 0 whenever the draw is a multiple."""
    lengths = torch.empty(shape, device=device).geometric_(p, generator=generator)
    return lengths.long() % modulus


@dataclass(frozen=True)
class SpanMaskingStrategy:
    """Implements :class:`antlm.data.masking.MaskingStrategy` with the LTG-BERT span rule."""

    rule: ReplacementRule
    probability: float = 0.15
    p: float = 1 / 3
    max_span: int = 10
    max_spans: int = 100  # the reference's loop gives up after this many spans

    def __call__(
        self, input_ids: torch.Tensor, special_mask: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        device = input_ids.device
        batch, seq_len = input_ids.shape
        real = ~special_mask
        n_real = real.sum(dim=1)
        drawn = torch.binomial(
            n_real.to(torch.float32), torch.full((batch,), self.probability, device=device),
            generator=generator,
        ).long()
        target = drawn.clamp(min=1).minimum(n_real)

        shape = (batch, self.max_spans)
        lengths = span_lengths(shape, self.p, self.max_span, generator, device)
        placements = seq_len + 2 * lengths - 1  # offsets -(L - 1) .. T + L - 1
        offset = (torch.rand(shape, generator=generator, device=device) * placements).long()
        offset = offset - (lengths - 1)
        span_draw = torch.rand(shape, generator=generator, device=device)

        positions = torch.arange(seq_len, device=device)
        cover = ((positions >= offset.clamp(min=0)[..., None])
                 & (positions < (offset + lengths)[..., None])
                 & real[:, None, :])  # [B, spans, T]
        covered_after = (cover.cumsum(dim=1, dtype=torch.int16) > 0).sum(dim=2)
        covered_before = torch.nn.functional.pad(covered_after[:, :-1], (1, 0))
        drawn_spans = cover & (covered_before < target[:, None])[..., None]  # the while loop
        selected = drawn_spans.any(dim=1)

        draw = span_draw.gather(1, last_covering_span(drawn_spans))
        return self.rule.apply(input_ids, selected, generator, draw=draw), selected


def last_covering_span(spans: torch.Tensor) -> torch.Tensor:
    """For ``spans`` ``[B, K, T]`` (span k of row b covers position t), the index of the last
    span covering each position (0 where none does): where spans overlap, the reference's later
    span overwrites the earlier one's outcome."""
    index = torch.arange(spans.shape[1], device=spans.device, dtype=torch.int16)[None, :, None]
    return torch.where(spans, index, -1).amax(dim=1).clamp(min=0).long()
