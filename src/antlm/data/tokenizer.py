"""Tokenizers for both foundation models, built on Hugging Face ``tokenizers``.

BabyLlama uses a byte-level BPE with ``<pad> <s> </s> <unk> <mask>``; LTG-BERT a WordPiece with
``[UNK] [CLS] [SEP] [PAD] [MASK]``, as the reference implementations do. Both need a mask token,
because any model may be trained with MLM under an AntLM schedule. The special tokens always take
the first five ids, so "ids below ``n_special``" means "special" everywhere in antlm.

Documents are framed the way each model family expects: BPE as ``<s> text`` and WordPiece as
``[CLS] text [SEP]``. Training, scoring and fine-tuning all frame text through ``frame`` so that a
model is always evaluated on inputs shaped like the ones it was trained on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from antlm.atomic import atomic_write_bytes

TokenizerKind = Literal["bpe", "wordpiece"]

SPECIAL_TOKENS: dict[str, dict[str, str]] = {
    "bpe": {"pad": "<pad>", "bos": "<s>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"},
    "wordpiece": {"unk": "[UNK]", "bos": "[CLS]", "eos": "[SEP]", "pad": "[PAD]", "mask": "[MASK]"},
}


_WORD = re.compile(r"\S+")  # a whitespace word, as ``str.split`` and the corpus counts them


def _special_list(kind: str) -> list[str]:
    # Order matters: it fixes the ids 0..4 (dict order is insertion order).
    return list(SPECIAL_TOKENS[kind].values())


class AntlmTokenizer:
    """A trained ``tokenizers.Tokenizer`` plus the special-token facts antlm relies on."""

    def __init__(self, tokenizer: Tokenizer, kind: TokenizerKind) -> None:
        self.backend = tokenizer
        self.kind: TokenizerKind = kind
        names = SPECIAL_TOKENS[kind]
        ids = {role: tokenizer.token_to_id(tok) for role, tok in names.items()}
        missing = [names[r] for r, i in ids.items() if i is None]
        if missing:
            raise ValueError(f"tokenizer lacks the special tokens {missing}")
        self.pad_id: int = ids["pad"]
        self.bos_id: int = ids["bos"]
        self.eos_id: int = ids["eos"]
        self.unk_id: int = ids["unk"]
        self.mask_id: int = ids["mask"]
        self.special_ids: frozenset[int] = frozenset(ids.values())
        self.n_special: int = max(self.special_ids) + 1

    # ---------------------------------------------------------------- construction
    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        kind: TokenizerKind = "bpe",
        vocab_size: int = 16000,
        min_frequency: int = 2,
        length: int | None = None,
    ) -> AntlmTokenizer:
        specials = _special_list(kind)
        if kind == "bpe":
            tok = Tokenizer(models.BPE(unk_token=None))
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
            tok.decoder = decoders.ByteLevel()
            trainer = trainers.BpeTrainer(
                vocab_size=vocab_size,
                min_frequency=min_frequency,
                special_tokens=specials,
                initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                show_progress=False,
            )
        elif kind == "wordpiece":
            tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
            tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
            tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
            tok.decoder = decoders.WordPiece()
            trainer = trainers.WordPieceTrainer(
                vocab_size=vocab_size,
                min_frequency=min_frequency,
                special_tokens=specials,
                show_progress=False,
            )
        else:
            raise ValueError(f"tokenizer kind {kind!r}; allowed: bpe, wordpiece")
        tok.train_from_iterator(texts, trainer=trainer, length=length)
        return cls(tok, kind)

    @classmethod
    def from_file(cls, path: str | Path) -> AntlmTokenizer:
        tok = Tokenizer.from_file(str(path))
        kind: TokenizerKind = "wordpiece" if tok.token_to_id("[CLS]") is not None else "bpe"
        return cls(tok, kind)

    def save(self, path: str | Path) -> None:
        atomic_write_bytes(Path(path), self.backend.to_str().encode("utf-8"))

    # ---------------------------------------------------------------- use
    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size()

    def fingerprint(self) -> str:
        """A content hash: token caches are keyed by it."""
        return hashlib.sha256(self.backend.to_str().encode("utf-8")).hexdigest()[:16]

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without any special tokens."""
        return self.backend.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.backend.encode_batch(list(texts), add_special_tokens=False)]

    def encode_batch_with_words(self, texts: Sequence[str]) -> list[tuple[list[int], list[int]]]:
        """Token ids and, per token, the index of the word it belongs to.

        Words are the pre-tokeniser's (whitespace and punctuation split, as Hugging Face
        ``word_ids`` reports them), so the pieces of a word share an index."""
        encodings = self.backend.encode_batch(list(texts), add_special_tokens=False)
        return [(e.ids, [w if w is not None else -1 for w in e.word_ids]) for e in encodings]

    def encode_documents_with_words(
        self, texts: Sequence[str]
    ) -> list[tuple[list[int], np.ndarray]]:
        """Framed token ids of each text and, per token, how many whitespace words of the text
        start there (``int64``): the unit the BabyLM challenge counts, so "words seen" can be
        summed over the tokens a model was shown.

        A word is counted on the first token whose character span ends after the word's first
        character (the tokenizer's offsets), so a word split into pieces counts once, on its
        first piece. A word no token covers (characters a normaliser drops) counts on the next
        token, or on the last one; a text with no tokens at all counts its words on the framing
        token in front. The counts of a text therefore always sum to ``len(text.split())``.
        """
        prefix = self.frame([-1]).index(-1)
        results = []
        for text, encoding in zip(texts, self.backend.encode_batch(list(texts),
                                                                   add_special_tokens=False)):
            framed = self.frame(encoding.ids)
            counts = np.zeros(len(framed), dtype=np.int64)
            starts = [match.start() for match in _WORD.finditer(text)]
            if starts and encoding.ids:
                ends = np.maximum.accumulate([end for _, end in encoding.offsets])
                first = np.minimum(np.searchsorted(ends, starts, side="right"),
                                   len(encoding.ids) - 1)
                np.add.at(counts, prefix + first, 1)
            elif starts:
                counts[0] = len(starts)
            results.append((framed, counts))
        return results

    def frame(self, ids: Sequence[int]) -> list[int]:
        """Wrap a document's ids the way the model family expects."""
        if self.kind == "wordpiece":
            return [self.bos_id, *ids, self.eos_id]
        return [self.bos_id, *ids]

    def encode_document(self, text: str) -> list[int]:
        return self.frame(self.encode(text))

    def decode(self, ids: Sequence[int]) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=False)
