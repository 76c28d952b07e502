"""From a run config to ready token streams: corpus -> tokenizer -> token cache.

Both ``antlm train`` and ``antlm tokenizer train`` go through here, so a tokenizer trained on its
own is the one a later training run with the same settings reuses. Reading the corpora
(:func:`load_corpora`, seconds) is separate from tokenizing them (:func:`tokenize_corpora`,
minutes the first time), so the trainer can check the word budget in between, before the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from antlm.config import RunConfig
from antlm.data.cache import (
    STREAM_FORMAT,
    TokenStream,
    cached_stream,
    cached_tokenizer,
    content_key,
    tokenize_documents,
)
from antlm.data.corpus import Corpus, load_corpus
from antlm.data.tokenizer import AntlmTokenizer


@dataclass
class Corpora:
    train: Corpus
    dev: Corpus


@dataclass
class PreparedData:
    tokenizer: AntlmTokenizer
    train_tokens: np.ndarray
    train_words: np.ndarray  # per token: source-text words starting there (TokenStream.words)
    dev_tokens: np.ndarray
    train_corpus: Corpus
    dev_corpus: Corpus


def load_split(config: RunConfig, data_dir: Path, split: str) -> Corpus:
    data = config.data
    budget = data.max_words if split == "train" else data.dev_max_words
    return load_corpus(
        data_dir, data.corpora, split, data.sources, budget, data.chunk_lines, data.seed
    )


def load_corpora(config: RunConfig, data_dir: Path) -> Corpora:
    return Corpora(load_split(config, data_dir, "train"), load_split(config, data_dir, "dev"))


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


def token_stream(corpus: Corpus, tokenizer: AntlmTokenizer, cache_dir: Path) -> TokenStream:
    key = content_key("tokens", STREAM_FORMAT, corpus.fingerprint(), tokenizer.fingerprint())
    return cached_stream(cache_dir, key, lambda: tokenize_documents(corpus.documents, tokenizer))


def tokenize_corpora(
    config: RunConfig, corpora: Corpora, cache_dir: Path, tokenizer: AntlmTokenizer | None = None
) -> PreparedData:
    """Token streams of both splits, with ``tokenizer`` or the config's (trained or cached)."""
    if tokenizer is None:
        tokenizer = train_tokenizer(config, corpora.train, cache_dir)
    train = token_stream(corpora.train, tokenizer, cache_dir)
    return PreparedData(
        tokenizer=tokenizer,
        train_tokens=train.tokens,
        train_words=train.words,
        dev_tokens=token_stream(corpora.dev, tokenizer, cache_dir).tokens,
        train_corpus=corpora.train,
        dev_corpus=corpora.dev,
    )


def prepare_data(
    config: RunConfig, data_dir: Path, cache_dir: Path, tokenizer: AntlmTokenizer | None = None
) -> PreparedData:
    return tokenize_corpora(config, load_corpora(config, data_dir), cache_dir, tokenizer)
