import pytest
import torch

from antlm.config import ModelConfig
from antlm.models.attention import build_attention_mask
from antlm.models.registry import build_model


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=100, hidden_size=32, num_layers=2, num_heads=4,
                         ffn_size=64, max_seq_len=16)
    return build_model(config).eval()


def test_causal_outputs_ignore_later_tokens(model):
    ids = torch.randint(5, 100, (2, 12))
    changed = ids.clone()
    changed[:, 8] = (changed[:, 8] + 1 - 5) % 95 + 5
    before, after = model(ids, attention="causal"), model(changed, attention="causal")
    assert torch.allclose(before[:, :8], after[:, :8], atol=1e-6)
    assert not torch.allclose(before[:, 8:], after[:, 8:], atol=1e-4)


def test_bidirectional_outputs_see_later_tokens(model):
    ids = torch.randint(5, 100, (2, 12))
    changed = ids.clone()
    changed[:, 8] = (changed[:, 8] + 1 - 5) % 95 + 5
    before = model(ids, attention="bidirectional")
    after = model(changed, attention="bidirectional")
    assert not torch.allclose(before[:, :8], after[:, :8], atol=1e-4)


@pytest.mark.parametrize("attention", ["causal", "bidirectional"])
def test_padding_never_changes_real_tokens(model, attention):
    ids = torch.randint(5, 100, (1, 9))
    padded = torch.cat([ids, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    mask = torch.cat([torch.ones(1, 9), torch.zeros(1, 4)], dim=1).bool()
    plain = model(ids, attention=attention)
    with_padding = model(padded, attention=attention, padding_mask=mask)
    assert torch.allclose(plain, with_padding[:, :9], atol=1e-5)


def test_head_runs_on_any_rows_and_bad_attention_is_refused(model):
    hidden = model(torch.randint(5, 100, (2, 6)))
    assert model.logits(hidden.reshape(-1, 32)[[0, 5, 7]]).shape == (3, 100)
    with pytest.raises(ValueError, match="allowed: causal, bidirectional"):
        model(torch.randint(5, 100, (1, 4)), attention="prefix")


def test_mask_shapes():
    mask, is_causal = build_attention_mask("causal", 4, None, torch.device("cpu"))
    assert mask is None and is_causal
    padding = torch.tensor([[True, True, False, False]])
    mask, is_causal = build_attention_mask("causal", 4, padding, torch.device("cpu"))
    assert not is_causal and mask.shape == (1, 1, 4, 4)
    assert mask[0, 0, 3].tolist() == [True, True, False, True]  # padding row sees itself only
