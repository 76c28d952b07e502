"""LTG-BERT: the antlm model contract, relative-position bucketing and the reference init."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from antlm.config import ModelConfig
from antlm.models.ltgbert import LtgBert, _distance_buckets, relative_position_bucket


def tiny_config(**overrides) -> ModelConfig:
    fields = {
        "arch": "ltgbert", "vocab_size": 97, "hidden_size": 32, "num_layers": 2, "num_heads": 4,
        "ffn_size": 48, "max_seq_len": 40, "dropout": 0.1, "attention_dropout": 0.1,
        "position_buckets": 8,
    }
    fields.update(overrides)
    return ModelConfig(**fields)


@pytest.fixture(scope="module")
def model() -> LtgBert:
    torch.manual_seed(0)
    return LtgBert(tiny_config()).eval()


# Hand-worked with the formula, bucket_size=32 (mid=16), max_position=512:
#   |d| <= 16 keeps its own bucket d;
#   else bucket = sign(d) * (16 + ceil(ln(|d| / 16) / ln(511 / 16) * 15)), ln(511/16) = 3.46378
#   d=17:  ln(1.0625)=0.06062 -> 0.01750*15 = 0.263 -> ceil 1 -> 17
#   d=20:  ln(1.25)  =0.22314 -> 0.06442*15 = 0.966 -> 1 -> 17
#   d=21:  ln(1.3125)=0.27193 -> 0.07851*15 = 1.178 -> 2 -> 18
#   d=32:  ln(2)     =0.69315 -> 0.20011*15 = 3.002 -> 4 -> 20
#   d=64:  ln(4)     =1.38629 -> 0.40023*15 = 6.003 -> 7 -> 23
#   d=100: ln(6.25)  =1.83258 -> 0.52907*15 = 7.936 -> 8 -> 24
#   d=1000: clamped to 511 -> ratio 1 -> 15 -> 31 (the outermost bucket)
BUCKET_TABLE = {
    0: 0, 1: 1, 5: 5, 16: 16, 17: 17, 20: 17, 21: 18, 32: 20, 64: 23, 100: 24, 1000: 31,
    -1: -1, -16: -16, -17: -17, -21: -18, -100: -24, -1000: -31,
}


def test_relative_position_bucket_matches_hand_table():
    distances = torch.tensor(list(BUCKET_TABLE))
    got = relative_position_bucket(distances, bucket_size=32, max_position=512)
    assert got.tolist() == list(BUCKET_TABLE.values())


def test_relative_position_bucket_uses_all_2b_minus_1_buckets():
    buckets = relative_position_bucket(torch.arange(-600, 601), 32, 512)
    assert buckets.unique().tolist() == list(range(-31, 32))


def test_attention_matches_explicit_disentangled_formula(model):
    """One attention block against a per-(q, k) loop over the DeBERTa/LTG-BERT score."""
    torch.manual_seed(1)
    attn = model.layers[0].attention
    batch, seq, heads, d = 2, 7, 4, 8
    x = torch.randn(batch, seq, 32)
    _, relative = model.embedding(torch.zeros(1, 1, dtype=torch.long))

    h = attn.pre_norm(x)
    q, k = attn.in_proj_qk(h).chunk(2, dim=-1)
    v = attn.in_proj_v(h)
    q_pos, k_pos = attn.in_proj_qk(relative).chunk(2, dim=-1)  # [2*8-1, 32]
    scores = torch.empty(batch, heads, seq, seq)
    for b in range(batch):
        for i in range(seq):
            for j in range(seq):
                r = int(relative_position_bucket(torch.tensor(i - j), 8, 512)) + 8 - 1
                for n in range(heads):
                    s = slice(n * d, (n + 1) * d)
                    total = q[b, i, s] @ k[b, j, s] + q[b, i, s] @ k_pos[r, s]
                    total = total + k[b, j, s] @ q_pos[r, s]
                    scores[b, n, i, j] = total / math.sqrt(3 * d)
    probs = scores.softmax(-1)
    heads_v = v.view(batch, seq, heads, d).transpose(1, 2)
    context = (probs @ heads_v).transpose(1, 2).reshape(batch, seq, 32)
    expected = attn.post_norm(attn.out_proj(context))

    got = attn(x, relative, _distance_buckets(seq, 8, x.device), None)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_causal_hides_the_future_and_bidirectional_does_not(model):
    ids = torch.randint(5, 97, (2, 12))
    changed = ids.clone()
    changed[:, 8] = (ids[:, 8] + 1 - 5) % 92 + 5
    with torch.no_grad():
        causal_a, causal_b = model(ids, "causal"), model(changed, "causal")
        bi_a, bi_b = model(ids, "bidirectional"), model(changed, "bidirectional")
    torch.testing.assert_close(causal_a[:, :8], causal_b[:, :8])
    assert not torch.allclose(causal_a[:, 8:], causal_b[:, 8:])
    assert (bi_a[:, :8] - bi_b[:, :8]).abs().max() > 1e-4


@pytest.mark.parametrize("attention", ["causal", "bidirectional"])
def test_right_padding_leaves_real_tokens_unchanged(model, attention):
    real = torch.randint(5, 97, (1, 9))
    padded = torch.cat([real, torch.full((1, 6), 3)], dim=1)
    padding_mask = torch.arange(15)[None] < 9
    with torch.no_grad():
        alone = model(real, attention)
        with_pad = model(padded, attention, padding_mask=padding_mask)
        # Garbage in the padding must not leak either.
        other_pad = padded.clone()
        other_pad[:, 9:] = torch.randint(5, 97, (1, 6))
        with_other_pad = model(other_pad, attention, padding_mask=padding_mask)
    torch.testing.assert_close(with_pad[:, :9], alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(with_other_pad[:, :9], alone, atol=1e-5, rtol=1e-5)


def test_longer_than_max_seq_len_still_runs(model):
    with torch.no_grad():
        out = model(torch.randint(5, 97, (1, 50)), "causal")
    assert out.shape == (1, 50, 32) and torch.isfinite(out).all()


def test_unknown_attention_kind_is_rejected(model):
    with pytest.raises(ValueError, match="attention"):
        model(torch.randint(5, 97, (1, 4)), "sideways")


def test_logits_on_any_leading_shape_and_tied_to_embedding(model):
    hidden = torch.randn(11, 32)
    assert model.logits(hidden).shape == (11, 97)
    assert model.logits(torch.randn(2, 3, 32)).shape == (2, 3, 97)
    # Tied: the only [V, H] parameter is the word embedding.
    vocab_matrices = [n for n, p in model.named_parameters() if p.shape == (97, 32)]
    assert vocab_matrices == ["embedding.word_embedding.weight"]
    with torch.no_grad():
        model.embedding.word_embedding.weight[7] += 1.0
        moved = model.logits(hidden)
        model.embedding.word_embedding.weight[7] -= 1.0
    assert not torch.allclose(moved[:, 7], model.logits(hidden)[:, 7])


def test_no_decay_names_cover_embeddings_norms_and_biases(model):
    """The trainer's rule (name has norm/bias/embed, or 1-D) must leave only matrices to decay."""
    decayed = [
        name for name, p in model.named_parameters()
        if p.ndim > 1 and not any(key in name for key in ("norm", "bias", "embed"))
    ]
    assert decayed and all(
        any(part in name for part in ("in_proj", "out_proj", "up", "down", "dense"))
        for name in decayed
    )
    assert not any("relative" in name for name in decayed)


def test_reference_init():
    torch.manual_seed(0)
    hidden, layers = 256, 3
    model = LtgBert(tiny_config(hidden_size=hidden, num_layers=layers, ffn_size=512,
                                vocab_size=2000))
    std = math.sqrt(2.0 / (5.0 * hidden))
    trunc = 0.8796  # std of a standard normal truncated to [-2, 2]
    emb = model.embedding.word_embedding.weight
    assert emb.abs().max() <= 2 * std + 1e-6
    assert emb.std().item() == pytest.approx(trunc * std, rel=0.03)
    qk = model.layers[0].attention.in_proj_qk
    assert qk.weight.std().item() == pytest.approx(trunc * std, rel=0.03)
    assert qk.bias.abs().max() == 0 and model.head.bias.abs().max() == 0
    for i, layer in enumerate(model.layers):
        expected = trunc * std * math.sqrt(1.0 / (2.0 * (i + 1)))
        assert layer.feed_forward.down.weight.std().item() == pytest.approx(expected, rel=0.05)
        assert layer.feed_forward.up.weight.std().item() == pytest.approx(expected, rel=0.05)


def test_trains_on_a_batch():
    """A few optimizer steps on one MLM-style batch reduce the loss under both attentions."""
    torch.manual_seed(0)
    model = LtgBert(tiny_config(dropout=0.0, attention_dropout=0.0))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    ids = torch.randint(5, 97, (4, 16))
    losses = []
    for step in range(12):
        attention = "causal" if step % 2 else "bidirectional"
        loss = F.cross_entropy(model.logits(model(ids, attention)).flatten(0, 1), ids.flatten())
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.5
