"""Tokenize once; reuse the token stream and the tokenizer from a content-keyed cache.

Entries are keyed by a hash of what produced them (corpus text, tokenizer, settings), so a
changed corpus or tokenizer can never be served stale data. A token stream is two files, the
token ids and, per token, the whitespace words of the source text that start there (what "words
seen" sums); each has a JSON sidecar with its length and sha256, so a truncated or altered file
is detected on load and reported with its path instead of silently training on garbage. Writes
go to a temporary file first and are renamed into place, so a crash never leaves a half-written
file under a valid name; the ids are written last, so ids without their words are never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from antlm.atomic import atomic_write_bytes
from antlm.data.tokenizer import AntlmTokenizer
from antlm.errors import AntlmError

CACHE_VERSION = 1
# Token streams carry their own format version in their key (2: word counts beside the ids), so
# a new stream format re-tokenizes without retraining the cached tokenizers.
STREAM_FORMAT = 2


class CacheCorruptError(AntlmError, RuntimeError):
    """A cache entry whose content does not match its recorded checksum."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("ANTLM_CACHE_DIR", Path.home() / ".cache" / "antlm"))


def content_key(*parts: object) -> str:
    digest = hashlib.sha256(f"v{CACHE_VERSION}".encode())
    for part in parts:
        digest.update(b"\x00" + str(part).encode("utf-8"))
    return digest.hexdigest()[:24]



def _token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16 if vocab_size <= np.iinfo(np.uint16).max + 1 else np.uint32)


@dataclass(frozen=True)
class TokenStream:
    """A split as the model reads it: one token-id stream of framed documents, and the number
    of source-text words starting at each token (``uint8``; see
    :meth:`AntlmTokenizer.encode_documents_with_words`). ``words.sum()`` is the split's word
    count."""

    tokens: np.ndarray
    words: np.ndarray


def save_array(path: Path, array: np.ndarray) -> None:
    meta = {
        "n_tokens": int(array.size),
        "dtype": str(array.dtype),
        "sha256": hashlib.sha256(array.tobytes()).hexdigest(),
    }
    atomic_write_bytes(path, array.tobytes())
    atomic_write_bytes(path.with_suffix(".json"), json.dumps(meta).encode())


def load_array(path: Path) -> np.ndarray:
    """Memory-map a token-aligned array after checking it against its sidecar."""
    meta_path = path.with_suffix(".json")
    advice = f"delete {path} (and {meta_path.name}) and run again to rebuild it"
    try:
        meta = json.loads(meta_path.read_text())
        dtype = np.dtype(meta["dtype"])
        expected_bytes = meta["n_tokens"] * dtype.itemsize
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CacheCorruptError(f"token cache {meta_path} is unreadable ({exc}); {advice}") from exc
    size = path.stat().st_size if path.exists() else -1
    if size != expected_bytes:
        raise CacheCorruptError(
            f"token cache {path} has {size} bytes, expected {expected_bytes}; {advice}"
        )
    tokens = np.memmap(path, dtype=dtype, mode="r")
    if hashlib.sha256(tokens.tobytes()).hexdigest() != meta["sha256"]:
        raise CacheCorruptError(f"token cache {path} fails its checksum; {advice}")
    return tokens


def tokenize_documents(documents: list[str], tokenizer: AntlmTokenizer) -> TokenStream:
    """Concatenate framed documents into one token stream, with their word starts."""
    dtype = _token_dtype(tokenizer.vocab_size)
    ids, words = [np.zeros(0, dtype=dtype)], [np.zeros(0, dtype=np.int64)]
    batch = 4096
    for start in range(0, len(documents), batch):
        for framed, counts in tokenizer.encode_documents_with_words(documents[start:start + batch]):
            ids.append(np.asarray(framed, dtype=dtype))
            words.append(counts)
    counts = np.concatenate(words)
    if counts.size and counts.max() > np.iinfo(np.uint8).max:
        raise ValueError(f"{int(counts.max())} words start at one token; at most 255 are stored")
    return TokenStream(np.concatenate(ids), counts.astype(np.uint8))


def cached_stream(
    cache_dir: Path, key: str, build: Callable[[], TokenStream], refresh: bool = False
) -> TokenStream:
    tokens_path = cache_dir / "tokens" / f"{key}.bin"
    words_path = tokens_path.with_suffix(".words.bin")
    if refresh or not (tokens_path.exists() and words_path.exists()):
        stream = build()
        save_array(words_path, stream.words)
        save_array(tokens_path, stream.tokens)
    stream = TokenStream(load_array(tokens_path), load_array(words_path))
    if stream.tokens.shape != stream.words.shape:
        raise CacheCorruptError(
            f"token cache {tokens_path} holds {stream.tokens.size} tokens but {words_path.name} "
            f"{stream.words.size} word counts; delete both and run again to rebuild them"
        )
    return stream


def cached_tokenizer(
    cache_dir: Path, key: str, build: Callable[[], AntlmTokenizer]
) -> AntlmTokenizer:
    path = cache_dir / "tokenizers" / f"{key}.json"
    if path.exists():
        try:
            return AntlmTokenizer.from_file(path)
        except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
            raise CacheCorruptError(
                f"cached tokenizer {path} is unreadable ({exc}); delete it and run again"
            ) from exc
    tokenizer = build()
    atomic_write_bytes(path, tokenizer.backend.to_str().encode("utf-8"))
    return tokenizer
