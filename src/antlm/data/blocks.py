"""Cut a token stream into fixed-length blocks and serve them in a seeded order.

The run sees an endless stream of blocks: epoch ``e`` is a permutation of all blocks drawn from
``(seed, e)``, and epochs follow each other. Global step ``s`` takes items ``[s*B, (s+1)*B)`` of
that stream. The data position is therefore the step number alone, which makes resume exact and
lets a fractional-epoch phase hand over to the next phase mid-epoch without losing its place.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch


class BlockStream:
    def __init__(self, tokens: np.ndarray, seq_len: int, batch_size: int, seed: int) -> None:
        self.tokens = tokens
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.seed = seed
        self.n_blocks = len(tokens) // seq_len
        if self.n_blocks < batch_size:
            raise ValueError(
                f"the corpus gives {self.n_blocks} blocks of {seq_len} tokens, fewer than one "
                f"batch of {batch_size}: use more data (data.max_words) or a smaller batch"
            )

    @property
    def steps_per_epoch(self) -> int:
        return max(1, round(self.n_blocks / self.batch_size))

    @lru_cache(maxsize=2)  # noqa: B019 - a stream lives for the whole run
    def _permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.n_blocks)

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
