"""Read BabyLM corpora: the 2024 and 2023 layouts, any subset of sources, a word budget.

Layouts (a corpus folder under the data directory)::

    2024: train_10M/*.train  (or train_100M/)  dev/*.dev          test/*.test
    2023: babylm_10M/*.train (or babylm_100M/) babylm_dev/*.dev   babylm_test/*.test

A *source* is a file stem (``switchboard``, ``cbt``, ...). Each non-empty line, after light
cleaning, is one document: the token stream starts every document with the tokenizer's
beginning-of-document token, which is also how sentences are framed at evaluation time.

Cleaning is deliberately light (the corpus is the object of study, not ours to rewrite):
- every source: whitespace runs fold to one space, blank lines are dropped;
- ``switchboard`` in the 2024 release: the speaker tag ``A:\\t`` / ``B:\\t`` is stripped.
Bytes that are not valid UTF-8 are replaced (U+FFFD) and reported with file and line, since one
bad byte would otherwise abort tokenizer training.
"""

from __future__ import annotations

import hashlib
import random
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from antlm.errors import AntlmError

SPLIT_FOLDERS: dict[str, tuple[str, ...]] = {
    "train": ("train_10M", "train_100M", "babylm_10M", "babylm_100M"),
    "dev": ("dev", "babylm_dev"),
    "test": ("test", "babylm_test"),
}
SPLIT_SUFFIX = {"train": ".train", "dev": ".dev", "test": ".test"}

_SPEAKER_TAG = re.compile(r"^[A-Z]{1,2}:\t")
_WHITESPACE = re.compile(r"\s+")


class CorpusError(AntlmError, ValueError):
    """Missing or unreadable corpus files; the message says which and how to get them."""


def clean_line(source: str, line: str) -> str:
    """The per-source cleaning described in the module docstring."""
    if source == "switchboard":
        line = _SPEAKER_TAG.sub("", line)
    return _WHITESPACE.sub(" ", line).strip()


@dataclass(frozen=True)
class SourceFile:
    corpus: str
    source: str
    path: Path


def find_source_files(
    data_dir: Path, corpora: list[str], split: str, sources: list[str] | None = None
) -> list[SourceFile]:
    """All files of ``split`` in the given corpus folders, optionally only some sources."""
    found: list[SourceFile] = []
    for corpus in corpora:
        root = data_dir / corpus
        if not root.is_dir():
            raise CorpusError(
                f"corpus folder {root} not found. Put a BabyLM corpus there (2024 layout: "
                "train_10M/, dev/, test/; 2023 layout: babylm_10M/, babylm_dev/), or change "
                "data.corpora."
            )
        folders = [root / name for name in SPLIT_FOLDERS[split] if (root / name).is_dir()]
        if not folders:
            expected = " or ".join(SPLIT_FOLDERS[split])
            raise CorpusError(f"{root} has no {split} folder (expected {expected})")
        for path in sorted(folders[0].glob(f"*{SPLIT_SUFFIX[split]}")):
            if sources is None or path.stem in sources:
                found.append(SourceFile(corpus, path.stem, path))
    if not found:
        wanted = f" for sources {sources}" if sources else ""
        raise CorpusError(f"no {split} files{wanted} in {', '.join(corpora)} under {data_dir}")
    if sources:
        missing = sorted(set(sources) - {f.source for f in found})
        if missing:
            raise CorpusError(f"sources {missing} have no {split} file in {corpora}")
    return found


def read_lines(source_file: SourceFile) -> Iterator[str]:
    """Cleaned, non-empty lines; invalid UTF-8 is replaced and reported with its line. A file
    that is not text (a NUL byte, or invalid UTF-8 on most lines: a binary or another encoding)
    or holds no text at all is refused, naming the file: training on it would learn noise, or
    fail later with a message about token caches instead of the corpus."""
    bad_lines: list[int] = []
    kept = 0
    advice = "remove it from the corpus folder, or leave its source out of data.sources"
    with source_file.path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if b"\x00" in raw:
                raise CorpusError(f"{source_file.path}, line {number}: a NUL byte; this is a "
                                  f"binary file, not text: {advice}")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("utf-8", errors="replace")
                bad_lines.append(number)
            line = clean_line(source_file.source, text)
            if line:
                kept += 1
                yield line
    if not kept:
        raise CorpusError(f"{source_file.path} holds no text (it is empty or blank): {advice}")
    if len(bad_lines) > number / 2:
        raise CorpusError(f"{source_file.path}: {len(bad_lines)} of {number} lines are not "
                          f"UTF-8 (first: line {bad_lines[0]}); convert it to UTF-8, or {advice}")
    if bad_lines:
        shown = ", ".join(map(str, bad_lines[:5])) + (" ..." if len(bad_lines) > 5 else "")
        warnings.warn(
            f"{source_file.path}: {len(bad_lines)} line(s) with invalid UTF-8 "
            f"(replaced by U+FFFD): line {shown}",
            stacklevel=2,
        )


@dataclass
class Corpus:
    """Documents (one per cleaned line) and where they came from."""

    documents: list[str]
    words_per_source: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def n_words(self) -> int:
        return sum(self.words_per_source.values())

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for doc in self.documents:
            digest.update(doc.encode("utf-8"))
            digest.update(b"\n")
        return digest.hexdigest()[:16]

    def summary(self) -> str:
        parts = ", ".join(f"{s} {w:,}" for s, w in sorted(self.words_per_source.items()))
        return f"{len(self.documents):,} documents, {self.n_words:,} words ({parts})"


def load_corpus(
    data_dir: Path,
    corpora: list[str],
    split: str = "train",
    sources: list[str] | None = None,
    max_words: int | None = None,
    chunk_lines: int = 32,
    seed: int = 0,
) -> Corpus:
    """Read a split. With ``max_words``, whole chunks of ``chunk_lines`` consecutive lines are
    sampled (seeded) until the budget is met and then kept in corpus order: a random sample of
    the whole corpus that still keeps neighbouring lines (dialogue turns, story sentences)
    together."""
    files = find_source_files(data_dir, corpora, split, sources)
    chunks: list[tuple[int, str, list[str]]] = []  # (file index, source key, lines)
    for index, source_file in enumerate(files):
        key = f"{source_file.corpus}/{source_file.source}"
        lines = list(read_lines(source_file))
        for start in range(0, len(lines), chunk_lines):
            chunks.append((index, key, lines[start:start + chunk_lines]))
    if max_words is not None:
        order = list(range(len(chunks)))
        random.Random(seed).shuffle(order)
        kept, words = [], 0
        for position in order:
            if words >= max_words:
                break
            kept.append(position)
            words += sum(len(line.split()) for line in chunks[position][2])
        chunks = [chunks[i] for i in sorted(kept)]
    corpus = Corpus(documents=[], files=[f.path for f in files])
    for _, key, lines in chunks:
        corpus.documents.extend(lines)
        corpus.words_per_source[key] = corpus.words_per_source.get(key, 0) + sum(
            len(line.split()) for line in lines
        )
    return corpus
