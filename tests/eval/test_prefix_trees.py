"""Prefix trees: every text is found whole in its row, at its own depths, seeing exactly its
own prefix; shared prefixes are stored once; rows keep to their width."""

from __future__ import annotations

import numpy as np

from antlm.eval.prefix_trees import pack_trees

TEXTS = sorted([[1, 5, 6, 7], [1, 5, 6, 8, 9], [1, 5, 6, 8, 9], [1, 5, 10], [1, 11, 12, 13, 14],
                [2, 3], [2, 3, 4, 4, 4, 4, 4]])


def test_each_text_is_a_path_that_sees_its_own_prefix() -> None:
    packed = pack_trees(TEXTS, width=10)
    assert packed.ids.shape[1] <= 10 and (packed.sizes <= 10).all()
    for text, row, path in zip(TEXTS, packed.row, packed.path):
        assert packed.ids[row, path].tolist() == text
        assert packed.depth[row, path].tolist() == list(range(len(text)))
        for i, node in enumerate(path):
            assert set(np.flatnonzero(packed.visible[row, node])) == set(path[: i + 1].tolist())


def test_shared_prefixes_are_stored_once_and_padding_sees_itself() -> None:
    packed = pack_trees(TEXTS, width=10)
    rows = {int(r): set() for r in packed.row}
    for text, row in zip(TEXTS, packed.row):
        rows[int(row)] |= {tuple(text[: i + 1]) for i in range(len(text))}
    assert packed.sizes.tolist() == [len(rows[r]) for r in sorted(rows)]
    assert packed.sizes.sum() < sum(map(len, TEXTS))
    for row, size in enumerate(packed.sizes):
        padding = np.arange(size, packed.ids.shape[1])
        assert (packed.visible[row][padding].sum(1) == 1).all()
        assert packed.visible[row][padding, padding].all()


def test_a_text_longer_than_the_width_gets_its_own_row() -> None:
    packed = pack_trees([[1, 2], [3, 4, 5, 6, 7, 8]], width=4)
    assert packed.row.tolist() == [0, 1] and packed.ids.shape[1] == 6
