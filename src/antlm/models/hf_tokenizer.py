"""A Hugging Face tokenizer adapted to antlm's scoring-tokenizer contract
(:class:`antlm.models.contract.ScoringTokenizer`), so any model folder can be scored by the
same loop as antlm's own runs.

``frame`` is the tokenizer's own post-processing of a single text (what ``tokenizer(text)`` adds
around ``tokenizer(text, add_special_tokens=False)``), found once by encoding a probe text both
ways; this is what the BabyLM 2025 pipeline feeds a model (``dataset.py`` encodes every sentence
with the tokenizer's special tokens). Word indices come from the fast tokenizer's ``word_ids``,
as minicons reads them for PLL-word-l2r.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from antlm.models.hf_model import HFModelError

__all__ = ["HFTokenizer"]

_PROBE = "the cat sat on the mat"


class HFTokenizer:
    """See the module docstring; ids are None where the tokenizer has no such token."""

    def __init__(self, tokenizer: Any, source: str = "tokenizer") -> None:
        if not tokenizer.is_fast:
            raise HFModelError(
                f"{source}: a fast (tokenizers-backed) tokenizer is needed for word ids; "
                f"{type(tokenizer).__name__} is not one"
            )
        self.hf = tokenizer
        self.mask_id: int | None = tokenizer.mask_token_id
        self.bos_id: int | None = tokenizer.bos_token_id
        self.eos_id: int | None = tokenizer.eos_token_id
        self.pad_id: int | None = tokenizer.pad_token_id
        plain = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]
        full = tokenizer(_PROBE)["input_ids"]
        starts = [i for i in range(len(full) - len(plain) + 1) if full[i:i + len(plain)] == plain]
        if not starts:
            raise HFModelError(f"{source}: its special tokens do not just wrap a text ({full})")
        self._prefix = full[: starts[0]]
        self._suffix = full[starts[0] + len(plain):]

    @classmethod
    def from_pretrained(cls, path: str | Path, trust_remote_code: bool = False) -> HFTokenizer:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        return cls(tokenizer, source=str(path))

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        if not texts:
            return []
        return self.hf(list(texts), add_special_tokens=False)["input_ids"]

    def encode_batch_with_words(self, texts: Sequence[str]) -> list[tuple[list[int], list[int]]]:
        if not texts:
            return []
        encoded = self.hf(list(texts), add_special_tokens=False)
        return [
            (ids, [-1 if w is None else w for w in encoded.word_ids(i)])
            for i, ids in enumerate(encoded["input_ids"])
        ]

    def frame(self, ids: Sequence[int]) -> list[int]:
        return [*self._prefix, *ids, *self._suffix]

    def decode(self, ids: Sequence[int]) -> str:
        """``tokenizer.decode`` with its defaults, as the reading task's official code calls it."""
        return self.hf.decode(list(ids))
