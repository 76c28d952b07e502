"""Texts that share prefixes, packed into token trees so that a causal model runs each shared
prefix once.

Under causal attention a token's state depends on its prefix alone, so texts that begin alike
(a minimal pair's two sentences up to the word they differ in; EWoK's targets after a shared
context; BLiMP sentences from one template) need that prefix computed once. Texts in
lexicographic order are packed, in turn, into rows of at most ``width`` tokens: a text adds to
its row only the tokens after its longest common prefix with the text before it (in
lexicographic order that is its longest common prefix with any text already in the row). Each
row is a tree: a token attends to its ancestors and itself, at the position (depth) it has in
its texts. On BLiMP-filtered this computes about 2/3 of the tokens (rows of 64).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["PackedTrees", "pack_trees"]


@dataclass(frozen=True)
class PackedTrees:
    """``ids``/``depth`` ``[rows, width]`` (padding: id 0 at depth 0), ``visible``
    ``[rows, width, width]`` (who attends to whom; padding sees itself), ``sizes`` the real
    tokens of each row, and for text ``k`` its row ``row[k]`` and ``path[k]``, the node of each
    of its tokens in that row."""

    ids: np.ndarray
    depth: np.ndarray
    visible: np.ndarray
    sizes: np.ndarray
    row: np.ndarray
    path: list[np.ndarray]


def pack_trees(texts: Sequence[Sequence[int]], width: int) -> PackedTrees:
    """Pack ``texts`` (best sorted lexicographically) into prefix trees of at most ``width``
    tokens per row; a text longer than ``width`` gets a row of its own length."""
    rows: list[list[int]] = []
    depths: list[list[int]] = []
    row_of: list[int] = []
    paths: list[np.ndarray] = []
    previous: Sequence[int] = ()
    previous_path = np.zeros(0, np.int64)
    for text in texts:
        shared = len(os.path.commonprefix([list(previous), list(text)]))
        if not rows or len(rows[-1]) + len(text) - shared > width:
            rows.append([])
            depths.append([])
            shared = 0
        ids, depth = rows[-1], depths[-1]
        path = np.concatenate([previous_path[:shared],
                               np.arange(len(ids), len(ids) + len(text) - shared)])
        ids.extend(text[shared:])
        depth.extend(range(shared, len(text)))
        row_of.append(len(rows) - 1)
        paths.append(path)
        previous, previous_path = text, path
    size = max(map(len, rows), default=0)
    packed_ids = np.zeros((len(rows), size), np.int64)
    packed_depth = np.zeros((len(rows), size), np.int64)
    visible = np.zeros((len(rows), size, size), bool)
    visible[:, np.arange(size), np.arange(size)] = True
    for r, (ids, depth) in enumerate(zip(rows, depths)):
        packed_ids[r, : len(ids)] = ids
        packed_depth[r, : len(depth)] = depth
    for r, path in zip(row_of, paths):
        visible[r][np.ix_(path, path)] |= np.tri(len(path), dtype=bool)
    sizes = np.asarray([len(ids) for ids in rows], np.int64)
    return PackedTrees(packed_ids, packed_depth, visible, sizes, np.asarray(row_of, np.int64),
                       paths)
