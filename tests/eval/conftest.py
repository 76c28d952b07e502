"""Fixtures for the evaluation tests: real tokenizers trained on a slice of the real corpus, and
small randomly initialised models (the trained ``tiny_run`` lives in ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from antlm.config import ModelConfig
from antlm.data.tokenizer import AntlmTokenizer
from antlm.models.babyllama import BabyLlama
from antlm.models.ltgbert import LtgBert


def _corpus_lines(data_dir: Path) -> list[str]:
    path = data_dir / "babylm_10M" / "train_10M" / "switchboard.train"
    return [line.split("\t", 1)[-1] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def bpe_tokenizer(data_dir: Path) -> AntlmTokenizer:
    return AntlmTokenizer.train(_corpus_lines(data_dir), "bpe", vocab_size=2000)


@pytest.fixture(scope="session")
def wordpiece_tokenizer(data_dir: Path) -> AntlmTokenizer:
    return AntlmTokenizer.train(_corpus_lines(data_dir), "wordpiece", vocab_size=2000)


def _perturbed_llama(tokenizer: AntlmTokenizer, max_seq_len: int) -> BabyLlama:
    """A 2-layer BabyLlama whose output distributions are far from uniform, so that a token
    read at the wrong position changes a score by much more than any test tolerance."""
    torch.manual_seed(0)
    config = ModelConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=64, num_layers=2, num_heads=4,
        ffn_size=128, max_seq_len=max_seq_len,
    )
    model = BabyLlama(config)
    with torch.no_grad():
        model.lm_head.weight.normal_(std=0.5)
        model.embed_tokens.weight.normal_(std=1.0)
    return model.eval()


def _perturbed_ltgbert(tokenizer: AntlmTokenizer, max_seq_len: int) -> LtgBert:
    """A 2-layer LTG-BERT, perturbed as the BabyLlama is (its head's bias and the tied
    embedding set the output distribution)."""
    torch.manual_seed(0)
    config = ModelConfig(
        arch="ltgbert", vocab_size=tokenizer.vocab_size, hidden_size=64, num_layers=2,
        num_heads=4, ffn_size=128, max_seq_len=max_seq_len, position_buckets=16,
    )
    model = LtgBert(config)
    with torch.no_grad():
        model.embedding.word_embedding.weight.normal_(std=1.0)
        model.head.bias.normal_(std=1.0)
    return model.eval()


@pytest.fixture(scope="session")
def small_llama(bpe_tokenizer: AntlmTokenizer) -> BabyLlama:
    return _perturbed_llama(bpe_tokenizer, 128)


@pytest.fixture(scope="session")
def small_ltgbert(wordpiece_tokenizer: AntlmTokenizer) -> LtgBert:
    return _perturbed_ltgbert(wordpiece_tokenizer, 128)


# Entity-tracking items run to about 350 tokens of these tokenizers (numops 5, ambiref).
@pytest.fixture(scope="session")
def long_llama(bpe_tokenizer: AntlmTokenizer) -> BabyLlama:
    return _perturbed_llama(bpe_tokenizer, 512)


@pytest.fixture(scope="session")
def long_ltgbert(wordpiece_tokenizer: AntlmTokenizer) -> LtgBert:
    return _perturbed_ltgbert(wordpiece_tokenizer, 512)
