"""Cut a token stream into fixed-length blocks and serve them in a seeded order.

The run sees an endless stream of blocks: epoch ``e`` is a permutation of all blocks drawn from
``(seed, e)``, and epochs follow each other. Global step ``s`` takes items ``[s*B, (s+1)*B)`` of
that stream. The data position is therefore the step number alone, which makes resume exact and
lets a fractional-epoch phase hand over to the next phase mid-epoch without losing its place.

Words seen (the unit of the BabyLM challenge's budget and checkpoint milestones) are counted from
the same position: after step ``s`` the model has been shown the blocks of items
``[0, s*B)``, and the words seen are the whitespace words of the source text that start in those
blocks (per-token counts from :class:`antlm.data.cache.TokenStream`), exact at every step and
recomputed from the step on resume. The tokens after the last whole block (fewer than
``seq_len``) are never trained on; their words are counted with the last block, so that one pass
over the stream (``n_blocks`` items) is exactly the corpus's word count and the budget is never
under-counted. A trainer epoch is ``round(n_blocks / B)`` steps, so when ``B`` does not divide
``n_blocks`` an epoch boundary is up to ``B/2`` blocks off one pass, and words seen say exactly
how many.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Generic, TypeVar

import numpy as np
import torch

from antlm.data.corpus import CorpusError

T = TypeVar("T")


class BlockStream:
    def __init__(
        self, tokens: np.ndarray, seq_len: int, batch_size: int, seed: int,
        words: np.ndarray | None = None,
    ) -> None:
        self.tokens = tokens
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.seed = seed
        self.n_blocks = len(tokens) // seq_len
        if self.n_blocks < batch_size:
            raise CorpusError(
                f"the corpus gives {self.n_blocks} blocks of {seq_len} tokens "
                f"(model.max_seq_len), fewer than one batch of {batch_size} (train.batch_size): "
                "use more data (data.max_words, data.sources) or a smaller train.batch_size"
            )
        self.block_words: np.ndarray | None = None  # words starting in each block
        if words is not None:
            whole = self.n_blocks * seq_len
            self.block_words = np.asarray(words[:whole]).reshape(self.n_blocks, seq_len).sum(
                axis=1, dtype=np.int64)
            self.block_words[-1] += int(np.asarray(words[whole:]).sum(dtype=np.int64))

    @property
    def steps_per_epoch(self) -> int:
        return max(1, round(self.n_blocks / self.batch_size))

    @lru_cache(maxsize=2)  # noqa: B019 - a stream lives for the whole run
    def _permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.n_blocks)

    @property
    def total_words(self) -> int:
        """Words in one pass over the stream: the corpus's word count."""
        return int(self._words().sum())

    def words_seen(self, step: int) -> int:
        """Words in the blocks of steps ``[0, step)`` (see the module docstring)."""
        passes, offset = divmod(step * self.batch_size, self.n_blocks)
        cumulative = self._cumulative_words(passes)
        return passes * int(cumulative[-1]) + int(cumulative[offset])

    def tokens_seen(self, step: int) -> int:
        """Tokens in the blocks of steps ``[0, step)``: every block is ``seq_len`` tokens."""
        return step * self.batch_size * self.seq_len

    def _words(self) -> np.ndarray:
        if self.block_words is None:
            raise ValueError("this stream was built without word counts")
        return self.block_words

    @lru_cache(maxsize=2)  # noqa: B019 - a stream lives for the whole run
    def _cumulative_words(self, epoch: int) -> np.ndarray:
        """Words before each item of the stream's ``epoch``-th pass (``n_blocks + 1`` sums)."""
        return np.concatenate([[0], np.cumsum(self._words()[self._permutation(epoch)])])

    def block_indices(self, step: int) -> np.ndarray:
        items = np.arange(step * self.batch_size, (step + 1) * self.batch_size)
        epochs, offsets = np.divmod(items, self.n_blocks)
        return np.array([self._permutation(int(e))[o] for e, o in zip(epochs, offsets)])

    def batch(self, step: int) -> torch.Tensor:
        """The global batch of ``step``: ``[batch_size, seq_len]`` int64 token ids."""
        return self.blocks(self.block_indices(step))

    def blocks(self, indices: np.ndarray) -> torch.Tensor:
        starts = indices[:, None] * self.seq_len + np.arange(self.seq_len)
        return torch.from_numpy(self.tokens[starts].astype(np.int64))


def first_blocks(tokens: np.ndarray, seq_len: int, count: int) -> torch.Tensor:
    """The first ``count`` blocks in corpus order: a fixed dev set."""
    n = min(count, len(tokens) // seq_len)
    return torch.from_numpy(tokens[: n * seq_len].astype(np.int64).reshape(n, seq_len))


class Prefetcher(Generic[T]):
    """Yields ``(step, make(step))`` for each step, computed up to ``depth`` steps ahead in a
    background thread, so building the next batch (masking, slicing, pinning) overlaps with the
    current step's compute. ``make`` must depend on the step alone (as every batch here does),
    which keeps a resumed or prefetched run exactly the run it would be without prefetching.
    Use as a context manager: leaving it early stops the thread.
    """

    _DONE = object()

    def __init__(self, make: Callable[[int], T], steps: Iterable[int], depth: int = 2) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._fill, args=(make, list(steps)), daemon=True, name="antlm-prefetch"
        )
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _fill(self, make: Callable[[int], T], steps: list[int]) -> None:
        try:
            for step in steps:
                if not self._put((step, make(step))):
                    return
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consuming thread
            self._put(exc)
            return
        self._put(self._DONE)

    def __iter__(self) -> Iterator[tuple[int, T]]:
        while (item := self._queue.get()) is not self._DONE:
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Prefetcher[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
