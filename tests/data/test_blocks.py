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
