import numpy as np
import pytest

from antlm.data.blocks import BlockStream


def test_each_epoch_is_a_seeded_permutation_of_all_blocks():
    tokens = np.arange(100 * 8, dtype=np.uint16)
    stream = BlockStream(tokens, seq_len=8, batch_size=10, seed=1)
    assert stream.steps_per_epoch == 10
    epoch0 = np.concatenate([stream.block_indices(s) for s in range(10)])
    epoch1 = np.concatenate([stream.block_indices(s) for s in range(10, 20)])
    assert sorted(epoch0) == list(range(100)) == sorted(epoch1)
    assert not np.array_equal(epoch0, epoch1)
    again = BlockStream(tokens, seq_len=8, batch_size=10, seed=1)
    assert np.array_equal(again.block_indices(13), stream.block_indices(13))
    batch = stream.batch(3)
    assert batch.shape == (10, 8)
    assert (batch[:, 1:] - batch[:, :-1] == 1).all()  # blocks are contiguous token runs


def test_too_little_data_is_explained():
    with pytest.raises(ValueError, match="fewer than one batch"):
        BlockStream(np.zeros(100, dtype=np.uint16), seq_len=64, batch_size=4, seed=0)


def _stream(n_tokens: int, batch_size: int, seed: int = 3) -> tuple[BlockStream, np.ndarray]:
    words = np.random.default_rng(seed).integers(0, 3, n_tokens).astype(np.uint8)
    stream = BlockStream(np.arange(n_tokens, dtype=np.uint32), seq_len=8, batch_size=batch_size,
                         seed=seed, words=words)
    return stream, words


@pytest.mark.parametrize(("n_tokens", "batch_size"), [(100 * 8, 10), (103 * 8 + 5, 7)])
def test_words_seen_are_the_words_of_the_blocks_served(n_tokens, batch_size):
    stream, words = _stream(n_tokens, batch_size)
    tail = int(words[stream.n_blocks * 8:].sum())  # the tokens after the last whole block

    def served(step: int) -> int:  # by brute force: the words of every block served so far
        blocks = np.concatenate([stream.block_indices(s) for s in range(step)] or [[]])
        counted = sum(int(words[b * 8:(b + 1) * 8].sum()) for b in blocks.astype(int))
        return counted + tail * int(np.sum(blocks == stream.n_blocks - 1))

    assert stream.total_words == int(words.sum())  # one pass: every word, the tail's included
    for step in (0, 1, 5, stream.steps_per_epoch, stream.steps_per_epoch + 3, 41):
        assert stream.words_seen(step) == served(step), step
        assert stream.tokens_seen(step) == step * batch_size * 8
    passes, items = 3, 3 * stream.n_blocks
    if items % batch_size == 0:
        assert stream.words_seen(items // batch_size) == passes * int(words.sum())


def test_a_stream_without_word_counts_says_so():
    stream = BlockStream(np.arange(800, dtype=np.uint16), seq_len=8, batch_size=10, seed=0)
    with pytest.raises(ValueError, match="without word counts"):
        stream.words_seen(1)
