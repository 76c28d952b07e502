"""Tokenize once; reuse the token stream and the tokenizer from a content-keyed cache.

Entries are keyed by a hash of what produced them (corpus text, tokenizer, settings), so a
changed corpus or tokenizer can never be served stale data. Each token file has a JSON sidecar
with its length and sha256; a truncated or altered file is detected on load and reported with
its path instead of silently training on garbage. Writes go to a temporary file first and are
renamed into place, so a crash never leaves a half-written entry under a valid name.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from antlm.data.tokenizer import AntlmTokenizer

CACHE_VERSION = 1


class CacheCorruptError(RuntimeError):
    """A cache entry whose content does not match its recorded checksum."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("ANTLM_CACHE_DIR", Path.home() / ".cache" / "antlm"))


def content_key(*parts: object) -> str:
    digest = hashlib.sha256(f"v{CACHE_VERSION}".encode())
    for part in parts:
        digest.update(b"\x00" + str(part).encode("utf-8"))
    return digest.hexdigest()[:24]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16 if vocab_size <= np.iinfo(np.uint16).max + 1 else np.uint32)


def save_tokens(path: Path, tokens: np.ndarray) -> None:
    meta = {
        "n_tokens": int(tokens.size),
        "dtype": str(tokens.dtype),
        "sha256": hashlib.sha256(tokens.tobytes()).hexdigest(),
    }
    atomic_write_bytes(path, tokens.tobytes())
    atomic_write_bytes(path.with_suffix(".json"), json.dumps(meta).encode())


def load_tokens(path: Path) -> np.ndarray:
    """Memory-map a token file after checking it against its sidecar."""
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


def tokenize_documents(documents: list[str], tokenizer: AntlmTokenizer) -> np.ndarray:
    """Concatenate framed documents into one token stream."""
    dtype = _token_dtype(tokenizer.vocab_size)
    pieces = []
    batch = 4096
    for start in range(0, len(documents), batch):
        for ids in tokenizer.encode_batch(documents[start:start + batch]):
            pieces.append(np.asarray(tokenizer.frame(ids), dtype=dtype))
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)


def cached_tokens(
    cache_dir: Path, key: str, build: Callable[[], np.ndarray], refresh: bool = False
) -> np.ndarray:
    path = cache_dir / "tokens" / f"{key}.bin"
    if path.exists() and not refresh:
        return load_tokens(path)
    save_tokens(path, build())
    return load_tokens(path)


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
