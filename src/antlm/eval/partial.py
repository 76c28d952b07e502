"""Zero-shot scores kept chunk by chunk, so that an interrupted evaluation resumes.

Scoring every pair of BLiMP, its supplement and EWoK by pseudo-log-likelihood takes half an
hour to an hour on a CPU; stopped near its end (a session that ends, a machine that reboots, a
kill) it would start again from zero. The evaluator therefore scores each task in chunks of
:data:`CHUNK_PAIRS` pairs and writes every chunk's scores, atomically, under
``RESULTS_DIR/.partial-eval/KEY/``; a rerun with the same weights, data and settings reads them
back instead of scoring again, and the folder goes once the evaluation is complete.

``KEY`` hashes everything a score depends on: the model's weights (any further training makes
a new key), the suite, the backends, the precision and the batch size (batches change the
order of float sums); each chunk's file name adds the hash of its own texts. A stale folder is
therefore never read by mistake, only left behind: removing it is always safe.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from antlm.atomic import atomic_write_bytes
from antlm.eval.tasks import MinimalPair

__all__ = ["CHUNK_PAIRS", "PARTIAL_DIR", "PartialScores"]

PARTIAL_DIR = ".partial-eval"
# At most this many pairs are rescored after an interruption (about a minute and a half of PLL
# for a tiny model on one CPU thread). Chunks cost no measurable time: 8,040 BLiMP pairs scored
# causally on one thread took 0.98-1.06x the time of one pool with chunks of 2,048 or 4,096
# (the machine's noise), and moved summed log-probabilities by at most 2.4e-5.
CHUNK_PAIRS = 4096

ScoreChunk = Callable[[Sequence[MinimalPair], str], dict[str, np.ndarray]]


def weights_digest(model: nn.Module) -> str:
    """A hash of every parameter and buffer, by name: the identity of the weights scored."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def _texts_digest(pairs: Sequence[MinimalPair]) -> str:
    digest = hashlib.sha256()
    for pair in pairs:
        texts = [pair.task, pair.subtask, pair.context, pair.good, pair.bad]
        # a minimal pair hashes as it always has, so its kept chunks stay readable
        extra = [*pair.distractors, *([] if pair.bad_context is None else [pair.bad_context])]
        digest.update(json.dumps(texts + extra if extra else texts).encode())
    return digest.hexdigest()[:20]


class PartialScores:
    """The chunks of one evaluation (one model, one set of settings) scored so far."""

    def __init__(self, results_dir: Path, model: nn.Module, settings: dict[str, Any]) -> None:
        key = hashlib.sha256(json.dumps(
            {"weights": weights_digest(model), **settings}, sort_keys=True).encode())
        self.folder = Path(results_dir) / PARTIAL_DIR / key.hexdigest()[:20]
        self.resumed_pairs = 0  # pairs read back rather than scored, for the record

    def score(self, pairs: Sequence[MinimalPair], score_chunk: ScoreChunk,
              desc: str) -> dict[str, np.ndarray]:
        """Per backend, the ``[N, k]`` scores of ``pairs``: each chunk read back when an
        earlier attempt scored it, otherwise scored by ``score_chunk(chunk, label)`` and kept."""
        starts = range(0, len(pairs), CHUNK_PAIRS)
        parts: list[dict[str, np.ndarray]] = []
        for number, start in enumerate(starts, 1):
            chunk = pairs[start:start + CHUNK_PAIRS]
            path = self.folder / f"{_texts_digest(chunk)}.npz"
            scores = self._read(path, (len(chunk), len(chunk[0].candidates)))
            if scores is None:
                label = desc if len(starts) == 1 else f"{desc} {number}/{len(starts)}"
                scores = score_chunk(chunk, label)
                self._write(path, scores)
            else:
                self.resumed_pairs += len(chunk)
            parts.append(scores)
        return {backend: np.concatenate([part[backend] for part in parts])
                for backend in parts[0]}

    def clear(self) -> None:
        """Forget this evaluation's chunks once it is complete (another evaluation's, of other
        settings and perhaps interrupted, stay for its own rerun)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.folder.parent.is_dir() and not any(self.folder.parent.iterdir()):
            self.folder.parent.rmdir()

    @staticmethod
    def _read(path: Path, shape: tuple[int, int]) -> dict[str, np.ndarray] | None:
        if not path.is_file():
            return None
        try:
            with np.load(path) as stored:
                scores = {backend: stored[backend] for backend in stored.files}
        except (OSError, ValueError):  # unreadable: score the chunk again
            return None
        if not scores or any(v.shape != shape for v in scores.values()):
            return None
        return scores

    def _write(self, path: Path, scores: dict[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **scores)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buffer.getvalue())
