"""From a run config to ready token streams: corpus -> tokenizer -> token cache.

Both ``antlm train`` and ``antlm tokenizer train`` go through here, so a tokenizer trained on its
own is the one a later training run with the same settings reuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from antlm.config import RunConfig
from antlm.data.cache import cached_tokenizer, cached_tokens, content_key, tokenize_documents
from antlm.data.corpus import Corpus, load_corpus
from antlm.data.tokenizer import AntlmTokenizer


@dataclass
class PreparedData:
    tokenizer: AntlmTokenizer
    train_tokens: np.ndarray
    dev_tokens: np.ndarray
    train_corpus: Corpus
    dev_corpus: Corpus


def load_split(config: RunConfig, data_dir: Path, split: str) -> Corpus:
    data = config.data
    budget = data.max_words if split == "train" else data.dev_max_words
    return load_corpus(
        data_dir, data.corpora, split, data.sources, budget, data.chunk_lines, data.seed
    )


def train_tokenizer(config: RunConfig, corpus: Corpus, cache_dir: Path) -> AntlmTokenizer:
    """Train (or reuse from the cache) the tokenizer for this corpus and these settings."""
    settings = config.tokenizer
    key = content_key("tokenizer", corpus.fingerprint(), settings.model_dump_json())
    return cached_tokenizer(
        cache_dir,
        key,
        lambda: AntlmTokenizer.train(
            corpus.documents, settings.kind, settings.vocab_size, settings.min_frequency,
            length=len(corpus.documents),
        ),
    )


def token_stream(corpus: Corpus, tokenizer: AntlmTokenizer, cache_dir: Path) -> np.ndarray:
    key = content_key("tokens", corpus.fingerprint(), tokenizer.fingerprint())
    return cached_tokens(cache_dir, key, lambda: tokenize_documents(corpus.documents, tokenizer))


def prepare_data(
    config: RunConfig, data_dir: Path, cache_dir: Path, tokenizer: AntlmTokenizer | None = None
) -> PreparedData:
    train_corpus = load_split(config, data_dir, "train")
    dev_corpus = load_split(config, data_dir, "dev")
    if tokenizer is None:
        tokenizer = train_tokenizer(config, train_corpus, cache_dir)
    return PreparedData(
        tokenizer=tokenizer,
        train_tokens=token_stream(train_corpus, tokenizer, cache_dir),
        dev_tokens=token_stream(dev_corpus, tokenizer, cache_dir),
        train_corpus=train_corpus,
        dev_corpus=dev_corpus,
    )
