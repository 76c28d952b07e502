"""Span masking against the LTG-BERT reference's rule (ltgoslo/ltg-bert, babylm/train/dataset.py):
rate, span lengths, special tokens, per-span 80/10/10, determinism.

The reference draws spans in a Python loop, one sequence at a time; antlm draws them for the
whole batch at once. ``reference_selection`` below writes the reference's loop out plainly, and
the tests compare the statistics of both, since the two consume random numbers differently."""

from __future__ import annotations

import pytest
import torch

from antlm.data.masking import ReplacementRule
from antlm.data.span_masking import SpanMaskingStrategy, last_covering_span, span_lengths

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


def reference_selection(special: torch.Tensor, probability: float, gen: torch.Generator,
                        p: float = 1 / 3, modulus: int = 10) -> torch.Tensor:
    """The reference's loop for one sequence (clipped at the block's end, see the module)."""
    seq_len = special.numel()
    n_real = int((~special).sum())
    drawn = int(torch.binomial(torch.tensor([float(n_real)]), torch.tensor([probability]),
                               generator=gen))
    target = min(n_real, max(1, drawn))
    mask = torch.zeros(seq_len, dtype=torch.bool)
    for _ in range(100):
        if int(mask.sum()) >= target:
            break
        length = int(torch.empty(1).geometric_(p, generator=gen)) % modulus
        offset = int(torch.randint(-(length - 1), seq_len + length, (1,), generator=gen))
        span = torch.zeros(seq_len, dtype=torch.bool)
        span[max(0, offset):min(seq_len, offset + length)] = True
        mask |= span & ~special
    return mask


def dense_special_batch(batch: int, seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Short documents: a special token every 4 positions, so spans often cross one."""
    ids = torch.full((batch, seq_len), TOKEN)
    ids[:, ::4] = 1
    return ids, ids < N_SPECIAL


@pytest.mark.parametrize("make", [lambda: framed_batch(400, 128), lambda: dense_special_batch(400, 64)])
def test_rate_and_runs_match_the_reference_loop(make):
    ids, special = make()
    _, selected = SpanMaskingStrategy(RULE)(ids, special, torch.Generator().manual_seed(1))
    gen = torch.Generator().manual_seed(2)
    reference = torch.stack([reference_selection(row, 0.15, gen) for row in special])
    n_real = (~special).sum()
    ours_rate, ref_rate = selected.sum() / n_real, reference.sum() / n_real
    # The last span is not cut at the target, so both overshoot the binomial's 15%.
    assert 0.15 < ref_rate < 0.2
    assert ours_rate.item() == pytest.approx(ref_rate.item(), abs=0.006)
    ours_runs = [length for row in selected for _, length in runs(row)]
    ref_runs = [length for row in reference for _, length in runs(row)]
    assert sum(ours_runs) / len(ours_runs) == pytest.approx(sum(ref_runs) / len(ref_runs), rel=0.05)
    # Every row reaches its own draw: at least one masked token wherever there is a real one.
    assert (selected.sum(1) >= 1).all()


def test_special_tokens_are_never_selected_nor_changed():
    ids, special = framed_batch(64, 128, seed=2)
    for seed in range(5):
        corrupted, selected = SpanMaskingStrategy(RULE, probability=0.4)(
            ids, special, torch.Generator().manual_seed(seed)
        )
        assert not (selected & special).any()
        assert torch.equal(corrupted[special], ids[special])
        assert torch.equal(corrupted[~selected], ids[~selected])


def test_span_lengths_are_geometric_modulo_ten():
    p, modulus = 1 / 3, 10
    lengths = span_lengths((400_000,), p, modulus, torch.Generator().manual_seed(0))
    assert lengths.min() == 0 and lengths.max() == modulus - 1
    share = torch.bincount(lengths, minlength=modulus).float() / lengths.numel()
    cycle = 1 - (1 - p) ** modulus  # P(G <= 10): the draws fold over every 10
    for length in range(modulus):  # P(L = l) = p (1 - p)^(l - 1) / cycle, l = 10 for l = 0
        power = (modulus if length == 0 else length) - 1
        assert share[length].item() == pytest.approx(p * (1 - p) ** power / cycle, abs=0.003)


def test_masks_are_made_of_spans_of_the_expected_length():
    """At a low rate on long documents spans rarely touch, so runs of selected tokens are
    single spans: their mean length is that of the nonzero lengths (a zero-length span masks
    nothing), far above token masking's ~1."""
    ids = torch.full((48, 2000), TOKEN)
    special = torch.zeros_like(ids, dtype=torch.bool)
    _, selected = SpanMaskingStrategy(RULE, probability=0.03)(
        ids, special, torch.Generator().manual_seed(3)
    )
    lengths = [length for row in selected for _, length in runs(row)]
    p, cycle = 1 / 3, 1 - (2 / 3) ** 10
    nonzero = [p * (1 - p) ** (k - 1) / cycle for k in range(1, 10)]
    mean = sum(k * w for k, w in zip(range(1, 10), nonzero)) / sum(nonzero)
    assert sum(lengths) / len(lengths) == pytest.approx(mean, abs=0.3)


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


def test_overlapping_spans_take_the_later_outcome():
    """Where spans overlap, the reference overwrites the inputs with the later span's outcome."""
    cover = torch.tensor([[[1, 1, 1, 0, 0, 0],    # span 0
                           [0, 0, 1, 1, 0, 0],    # span 1 overlaps span 0 at position 2
                           [0, 0, 0, 1, 1, 0]]],  # span 2 overlaps span 1 at position 3
                         dtype=torch.bool)
    assert last_covering_span(cover).tolist() == [[0, 0, 1, 2, 2, 0]]


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
