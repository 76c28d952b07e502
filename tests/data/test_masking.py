import torch

from antlm.config import ObjectiveConfig
from antlm.data.masking import ReplacementRule, TokenMaskingStrategy
from antlm.data.objectives import IGNORE, ObjectiveBuilder
from antlm.data.tokenizer import AntlmTokenizer

VOCAB, N_SPECIAL, MASK = 1000, 5, 4


def random_blocks(rows=400, length=128, seed=0):
    generator = torch.Generator().manual_seed(seed)
    blocks = torch.randint(N_SPECIAL, VOCAB, (rows, length), generator=generator)
    blocks[:, 0] = 1  # a beginning-of-document token
    blocks[:, 50] = 1
    return blocks


def test_token_masking_statistics():
    strategy = TokenMaskingStrategy(ReplacementRule(MASK, VOCAB, N_SPECIAL), probability=0.15)
    blocks = random_blocks()
    special = blocks < N_SPECIAL
    corrupted, selected = strategy(blocks, special, torch.Generator().manual_seed(1))
    rate = selected.sum() / (~special).sum()
    assert abs(float(rate) - 0.15) < 0.005
    assert not selected[special].any()
    chosen_original, chosen_corrupted = blocks[selected], corrupted[selected]
    masked = (chosen_corrupted == MASK).float().mean()
    kept = (chosen_corrupted == chosen_original).float().mean()
    assert abs(float(masked) - 0.8) < 0.01
    assert abs(float(kept) - 0.1) < 0.01  # a random draw equal to the original is ~0.1% more
    assert torch.equal(corrupted[~selected], blocks[~selected])
    random_ids = chosen_corrupted[(chosen_corrupted != MASK) & (chosen_corrupted != chosen_original)]
    assert (random_ids >= N_SPECIAL).all()


def test_masking_is_a_function_of_the_generator_seed():
    strategy = TokenMaskingStrategy(ReplacementRule(MASK, VOCAB, N_SPECIAL))
    blocks = random_blocks(rows=8)
    special = blocks < N_SPECIAL
    first = strategy(blocks, special, torch.Generator().manual_seed(7))
    again = strategy(blocks, special, torch.Generator().manual_seed(7))
    other = strategy(blocks, special, torch.Generator().manual_seed(8))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[1], other[1])


def _builder(tmp_path, mlm_target):
    tokenizer = AntlmTokenizer.train(["a b c d e f g h"] * 50, "bpe", vocab_size=300)
    return ObjectiveBuilder(ObjectiveConfig(mlm_target=mlm_target), tokenizer), tokenizer


def test_clm_labels_are_next_tokens(tmp_path):
    builder, _ = _builder(tmp_path, "same")
    blocks = torch.randint(5, 200, (4, 16))
    part = builder.clm(blocks)
    assert part.attention == "causal"
    assert torch.equal(part.labels[:, :-1], blocks[:, 1:])
    assert (part.labels[:, -1] == IGNORE).all()


def test_mlm_same_and_shifted_targets(tmp_path):
    for target in ("same", "shifted"):
        builder, tokenizer = _builder(tmp_path, target)
        blocks = torch.randint(tokenizer.n_special, 200, (16, 32))
        blocks[:, 0] = tokenizer.bos_id
        part = builder.mlm(blocks, torch.Generator().manual_seed(3))
        assert part.attention == "bidirectional"
        corrupted_at = part.input_ids != blocks
        scored = part.labels != IGNORE
        if target == "same":
            assert torch.equal(part.labels[scored], blocks[scored])
            assert not (corrupted_at & ~scored).any()
        else:
            # MNTP: the label at t-1 is the original token at the masked position t.
            assert torch.equal(part.labels[:, :-1][scored[:, :-1]], blocks[:, 1:][scored[:, :-1]])
            assert not (corrupted_at[:, 1:] & ~scored[:, :-1]).any()
            assert not scored[:, -1].any()


def test_mntp_never_corrupts_a_token_that_no_position_predicts(tmp_path):
    """With shifted targets the token at t is predicted at t-1, so nothing predicts the first
    token of a block: corrupting it would only hide context. Blocks here start with an
    ordinary token, which plain MLM may mask."""
    tokenizer = AntlmTokenizer.train(["a b c d e f g h"] * 50, "bpe", vocab_size=300)
    for masking in ("token", "span"):
        config = ObjectiveConfig(mlm_target="shifted", masking=masking, mlm_probability=0.5)
        builder = ObjectiveBuilder(config, tokenizer)
        blocks = torch.randint(tokenizer.n_special, 200, (64, 32),
                               generator=torch.Generator().manual_seed(0))
        part = builder.mlm(blocks, torch.Generator().manual_seed(1))
        corrupted = part.input_ids != blocks
        assert torch.equal(part.input_ids[:, 0], blocks[:, 0])
        assert not (corrupted[:, 1:] & (part.labels[:, :-1] == IGNORE)).any()
        same = ObjectiveBuilder(config.model_copy(update={"mlm_target": "same"}), tokenizer)
        assert (same.mlm(blocks, torch.Generator().manual_seed(1)).labels[:, 0] != IGNORE).any()
