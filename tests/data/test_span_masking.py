"""Span masking: rate, span lengths, special tokens, per-span 80/10/10, determinism."""

from __future__ import annotations

import time

import pytest
import torch

from antlm.data.masking import ReplacementRule
from antlm.data.span_masking import SpanMaskingStrategy, clipped_geometric

N_SPECIAL, MASK_ID, VOCAB = 5, 4, 1000
RULE = ReplacementRule(mask_token_id=MASK_ID, vocab_size=VOCAB, n_special=N_SPECIAL)
TOKEN = 777  # every real token, so "unchanged" and "random" are easy to tell apart


def framed_batch(batch: int, seq_len: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Blocks shaped like training data: [CLS] doc [SEP] [CLS] doc [SEP] ... [PAD]*."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.full((batch, seq_len), TOKEN)
    for row in range(batch):
        pos = 0
        end = seq_len - int(torch.randint(0, seq_len // 4, (1,), generator=gen))
        while pos < end:
            ids[row, pos] = 1  # [CLS]
            doc = int(torch.randint(3, 40, (1,), generator=gen))
            pos = min(pos + 1 + doc, end - 1)
            ids[row, pos] = 2  # [SEP]
            pos += 1
        ids[row, end:] = 3  # [PAD]
    return ids, ids < N_SPECIAL


def runs(row: torch.Tensor) -> list[tuple[int, int]]:
    """(start, length) of each maximal run of True."""
    out, start = [], None
    for i, flag in enumerate(row.tolist() + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            out.append((start, i - start))
            start = None
    return out


def test_rate_is_15_percent_of_real_tokens_per_sequence():
    ids, special = framed_batch(64, 128)
    _, selected = SpanMaskingStrategy(RULE)(ids, special, torch.Generator().manual_seed(1))
    n_real = (~special).sum(1)
    expected = torch.round(n_real * 0.15).clamp(min=1)
    assert torch.equal(selected.sum(1), expected)
    assert selected.sum() / n_real.sum() == pytest.approx(0.15, abs=0.005)


def test_special_tokens_are_never_selected_nor_changed():
    ids, special = framed_batch(64, 128, seed=2)
    for seed in range(5):
        corrupted, selected = SpanMaskingStrategy(RULE, probability=0.4)(
            ids, special, torch.Generator().manual_seed(seed)
        )
        assert not (selected & special).any()
        assert torch.equal(corrupted[special], ids[special])
        assert torch.equal(corrupted[~selected], ids[~selected])


def test_span_lengths_follow_the_clipped_geometric():
    p, max_span = 1 / 3, 10
    lengths = clipped_geometric((200_000,), p, max_span, torch.Generator().manual_seed(0))
    assert lengths.min() == 1 and lengths.max() == max_span
    mean = (1 - (1 - p) ** max_span) / p  # sum_{k=0}^{9} (2/3)^k = 2.948
    assert lengths.float().mean().item() == pytest.approx(mean, abs=0.02)
    # P(L = 1) = p, P(L = 2) = p (1 - p), P(L = 10) = (1 - p)^9
    share = torch.bincount(lengths, minlength=11).float() / lengths.numel()
    assert share[1].item() == pytest.approx(p, abs=0.005)
    assert share[2].item() == pytest.approx(p * (1 - p), abs=0.005)
    assert share[10].item() == pytest.approx((1 - p) ** 9, abs=0.003)


def test_masks_are_made_of_spans_of_the_expected_length():
    """At a low rate on long documents spans rarely touch, so runs of selected tokens are
    single spans: their mean length is the clipped-geometric mean (minus the trimmed last one
    and spans cut by the sequence ends), far above token masking's ~1."""
    ids = torch.full((48, 2000), TOKEN)
    special = torch.zeros_like(ids, dtype=torch.bool)
    _, selected = SpanMaskingStrategy(RULE, probability=0.03)(
        ids, special, torch.Generator().manual_seed(3)
    )
    lengths = [length for row in selected for _, length in runs(row)]
    assert sum(lengths) / len(lengths) == pytest.approx(2.95, abs=0.3)


def test_replacement_is_decided_once_per_span():
    ids = torch.full((32, 2000), TOKEN)
    special = torch.zeros_like(ids, dtype=torch.bool)
    corrupted, selected = SpanMaskingStrategy(RULE, probability=0.03)(
        ids, special, torch.Generator().manual_seed(4)
    )
    outcomes = {"mask": 0, "keep": 0, "random": 0}
    pure = mixed = 0
    for row_ids, row_sel in zip(corrupted, selected):
        for start, length in runs(row_sel):
            span = row_ids[start : start + length]
            kinds = {"mask" if t == MASK_ID else "keep" if t == TOKEN else "random"
                     for t in span.tolist()}
            if length >= 2:
                pure += len(kinds) == 1
                mixed += len(kinds) > 1
            if len(kinds) == 1:
                outcomes[kinds.pop()] += 1
    # Per-token draws would make only 0.8^2 + 0.1^2 + 0.1^2 = 66% of 2-token runs pure; the
    # mixed ones here are two spans that happen to touch.
    assert pure / (pure + mixed) > 0.93
    total = sum(outcomes.values())
    assert outcomes["mask"] / total == pytest.approx(0.8, abs=0.05)
    assert outcomes["random"] / total == pytest.approx(0.1, abs=0.04)
    assert outcomes["keep"] / total == pytest.approx(0.1, abs=0.04)


def test_deterministic_given_the_generator():
    ids, special = framed_batch(8, 128, seed=5)
    strategy = SpanMaskingStrategy(RULE)
    a = strategy(ids, special, torch.Generator().manual_seed(9))
    b = strategy(ids, special, torch.Generator().manual_seed(9))
    c = strategy(ids, special, torch.Generator().manual_seed(10))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_rows_without_real_tokens_and_tiny_rows():
    ids = torch.tensor([[1, 2, 3, 3], [1, TOKEN, 2, 3], [1, 2, 3, 3]])
    special = ids < N_SPECIAL
    _, selected = SpanMaskingStrategy(RULE)(ids, special, torch.Generator().manual_seed(0))
    assert selected.tolist() == [[False] * 4, [False, True, False, False], [False] * 4]


def test_fast_enough_for_every_training_step():
    """Well under 5 ms for a 32 x 128 batch (about 1 ms single-threaded). One thread and the
    best of many tries, so that other processes on a shared machine do not fail the test."""
    ids, special = framed_batch(32, 128, seed=6)
    strategy = SpanMaskingStrategy(RULE)
    gen = torch.Generator().manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        strategy(ids, special, gen)
        timings = []
        for _ in range(30):
            start = time.perf_counter()
            strategy(ids, special, gen)
            timings.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    assert min(timings) < 0.005
