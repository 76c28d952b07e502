"""The models' scoring fast paths give the states of the plain forward: ``positions`` (the last
layer run for one read position per row, PLL) for every model and attention kind, and ``tree``
(texts sharing prefixes packed as token trees, causal) for BabyLlama."""

from __future__ import annotations

import pytest
import torch

from antlm.config import ModelConfig
from antlm.eval.prefix_trees import pack_trees
from antlm.models.attention import TokenTree
from antlm.models.registry import build_model


@pytest.fixture(scope="module", params=["babyllama", "ltgbert"])
def model(request: pytest.FixtureRequest) -> torch.nn.Module:
    torch.manual_seed(0)
    config = ModelConfig(arch=request.param, vocab_size=100, hidden_size=32, num_layers=3,
                         num_heads=4, ffn_size=64, max_seq_len=16, position_buckets=8)
    model = build_model(config).eval()
    with torch.no_grad():  # no weight at a value (a unit gain, a zero bias) that hides a slip
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.1)
    return model


@pytest.mark.parametrize("attention", ["causal", "bidirectional"])
@pytest.mark.parametrize("padded", [False, True])
def test_read_positions_equal_the_full_forward(model, attention: str, padded: bool) -> None:
    ids = torch.randint(5, 100, (6, 11))
    lengths = torch.tensor([11, 9, 11, 4, 7, 11]) if padded else torch.full((6,), 11)
    padding_mask = torch.arange(11)[None] < lengths[:, None] if padded else None
    positions = torch.tensor([10, 0, 3, 3, 6, 5])  # first, last, repeated, inside padding rows
    with torch.inference_mode():
        full = model(ids, attention=attention, padding_mask=padding_mask)
        read = model(ids, attention=attention, padding_mask=padding_mask, positions=positions)
    expected = full[torch.arange(6), positions]
    assert read.shape == expected.shape
    torch.testing.assert_close(read, expected, atol=1e-5, rtol=1e-5)
    # Different positions give different states: a wrong row would not pass unnoticed.
    assert (expected[2] - full[2, 4]).abs().max() > 1e-3


def test_token_trees_give_each_text_its_own_causal_states(model) -> None:
    if model.config.arch != "babyllama":
        pytest.skip("only BabyLlama packs token trees; other models score texts one per row")
    texts = [[1, 7, 8, 9, 10], [1, 7, 8, 11], [1, 7, 12, 13, 14, 15], [1, 20], [1, 20, 21, 22]]
    packed = pack_trees(texts, width=12)
    assert len(packed.sizes) == 2 and packed.sizes.sum() < sum(map(len, texts))
    tree = TokenTree(torch.as_tensor(packed.depth), torch.as_tensor(packed.visible))
    with torch.inference_mode():
        hidden = model(torch.as_tensor(packed.ids), attention="causal", tree=tree)
        for text, row, path in zip(texts, packed.row, packed.path):
            alone = model(torch.tensor([text]), attention="causal")[0]
            torch.testing.assert_close(hidden[row, path], alone, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="causal"):
        model(torch.as_tensor(packed.ids), attention="bidirectional", tree=tree)
