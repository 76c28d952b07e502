"""The model contract: what a model and its tokenizer must offer to be trained, scored and
exported, written down once (as lm-evaluation-harness writes down its ``LM`` base class).

A **language model** (:class:`LanguageModel`) maps token ids to hidden states under an
attention *view* chosen per call, and hidden states to vocabulary logits:

* ``model(input_ids, attention=VIEW, padding_mask=None) -> hidden`` with ``input_ids``
  ``[B, T]``, ``padding_mask`` ``[B, T]`` (True = real token, right padding) or None, ``hidden``
  ``[B, T, H]``;
* ``model.logits(hidden) -> [..., V]`` for hidden states of any leading shape, so that a scorer
  runs the output head only on the positions it reads;
* ``model.views``: the attention views it offers, a subset of ``("causal", "bidirectional")``;
* ``model.config.max_seq_len``: the longest input it takes (None: no limit known);
* optionally ``model.fast_paths``: the optional ``forward`` arguments it implements
  (``positions``: run the last layer and head only on these positions; ``tree``: score a
  prefix tree of texts in one pass), declared on the class as Hugging Face declares
  ``_supports_sdpa``, not read from ``forward``'s signature, which a ``torch.compile``d
  model hides behind ``(*args, **kwargs)``; :func:`has_fast_path` reads it.

What each use needs on top:

* **scoring** (:mod:`antlm.eval.scoring`): the view of each backend (``causal``: causal;
  ``mlm``, ``mntp``, ``mlm_word_l2r``: bidirectional; ``fused``: both), nothing else;
* **training** (:mod:`antlm.train`): both views (any schedule may switch objective), trainable
  parameters, and a :class:`antlm.config.ModelConfig` as ``config``;
* **export** (:mod:`antlm.export.hf`): ``config.arch`` names an architecture with an exporter,
  and the parameter names are that architecture's.

antlm's own models (BabyLlama, LTG-BERT) satisfy all three; a Hugging Face model folder is
adapted for scoring by :class:`antlm.models.hf_model.HFLanguageModel` (one Hugging Face model
per view, its logits standing in for hidden states).

A **scoring tokenizer** (:class:`ScoringTokenizer`) is what the scoring loop asks of a
tokenizer: plain ids (no special tokens) of many texts, with word indices for PLL-word-l2r,
``frame`` (the tokenizer's own special tokens around one text), ``decode`` (the reading task
appends a word's decoded pieces to its context, as the official code does), and the ids of its
special tokens. :class:`antlm.data.tokenizer.AntlmTokenizer` satisfies it, and
:class:`antlm.models.hf_tokenizer.HFTokenizer` adapts a Hugging Face tokenizer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from antlm.models.attention import ATTENTION_KINDS

__all__ = ["ATTENTION_KINDS", "LanguageModel", "ScoringTokenizer", "has_fast_path"]


def has_fast_path(model: nn.Module, argument: str) -> bool:
    """Whether ``model`` declares the optional ``forward`` argument ``argument``; a compiled
    model (``torch.compile``'s wrapper) answers for the model it wraps."""
    original = getattr(model, "_orig_mod", model)
    return argument in getattr(original, "fast_paths", frozenset())


@runtime_checkable
class LanguageModel(Protocol):
    """See the module docstring."""

    views: tuple[str, ...]
    config: Any  # has max_seq_len

    def __call__(
        self, input_ids: torch.Tensor, attention: str = ..., padding_mask: torch.Tensor | None = ...
    ) -> torch.Tensor: ...

    def logits(self, hidden: torch.Tensor) -> torch.Tensor: ...

    def parameters(self, recurse: bool = ...) -> Iterator[nn.Parameter]: ...


@runtime_checkable
class ScoringTokenizer(Protocol):
    """See the module docstring. Ids are None where the tokenizer has no such token."""

    mask_id: int | None
    bos_id: int | None
    eos_id: int | None
    pad_id: int | None

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]: ...

    def encode_batch_with_words(
        self, texts: Sequence[str]
    ) -> list[tuple[list[int], list[int]]]: ...

    def frame(self, ids: Sequence[int]) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...
