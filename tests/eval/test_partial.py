"""An interrupted zero-shot evaluation resumes from the chunks it scored: the real model, the real
BLiMP pairs, an interruption injected into the scoring loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from antlm.eval import partial, runner
from antlm.eval.partial import PARTIAL_DIR, weights_digest
from antlm.eval.runner import evaluate_subject
from antlm.eval.subject import EvalSubject

TASKS = ["blimp_filtered"]
PAIRS = 4  # per subtask: 268 pairs, 6 chunks of 50


class Interrupted(Exception):
    """Stands for the kill that ends a session in the middle of a task."""


@pytest.fixture
def subject(small_llama, bpe_tokenizer, tmp_path: Path) -> EvalSubject:
    return EvalSubject("small", small_llama, bpe_tokenizer, "causal", "the test", ["causal"],
                       tmp_path / "results")


@pytest.fixture
def counted_scoring(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Chunks of 50 pairs, and the size of every chunk actually scored."""
    monkeypatch.setattr(partial, "CHUNK_PAIRS", 50)
    monkeypatch.setattr(runner, "PROBE_PAIRS", 0)  # no time probe: only chunks are counted
    scored: list[int] = []
    real = runner.score_pairs

    def counting(model, tokenizer, pairs, *args, **kwargs):
        scored.append(len(pairs))
        return real(model, tokenizer, pairs, *args, **kwargs)

    monkeypatch.setattr(runner, "score_pairs", counting)
    return scored


def _evaluate(subject: EvalSubject, data_dir: Path) -> dict:
    return evaluate_subject(subject, TASKS, data_dir, backend="causal,mlm",
                            max_pairs_per_subtask=PAIRS, progress=False)


def _interrupted_at_chunk(number: int, subject: EvalSubject, data_dir: Path,
                          counted_scoring: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Evaluate until chunk ``number`` is about to be scored, then die there; scoring is
    restored afterwards for the rerun."""
    real = runner.score_pairs

    def dies(*args, **kwargs):
        if len(counted_scoring) == number - 1:
            raise Interrupted
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "score_pairs", dies)
    with pytest.raises(Interrupted):
        _evaluate(subject, data_dir)
    monkeypatch.setattr(runner, "score_pairs", real)


def test_an_interrupted_evaluation_resumes_and_scores_as_an_uninterrupted_one(
    subject: EvalSubject, data_dir: Path, counted_scoring: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole = _evaluate(subject, data_dir)
    assert counted_scoring == [50] * 5 + [18]
    assert whole["meta"]["pairs_resumed"] == 0
    assert not (subject.results_dir / PARTIAL_DIR).exists()  # complete: nothing left behind

    counted_scoring.clear()
    _interrupted_at_chunk(4, subject, data_dir, counted_scoring, monkeypatch)
    assert len(list((subject.results_dir / PARTIAL_DIR).rglob("*.npz"))) == 3

    counted_scoring.clear()
    resumed = _evaluate(subject, data_dir)
    assert resumed["meta"]["pairs_resumed"] == 150  # three chunks read back, not scored
    assert resumed["scores"] == whole["scores"]
    assert not (subject.results_dir / PARTIAL_DIR).exists()


def test_other_weights_never_read_the_chunks_of_an_interrupted_evaluation(
    subject: EvalSubject, data_dir: Path, counted_scoring: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _interrupted_at_chunk(2, subject, data_dir, counted_scoring, monkeypatch)

    original = subject.model.state_dict()["lm_head.weight"].clone()
    try:
        with torch.no_grad():
            subject.model.lm_head.weight.mul_(1.01)  # trained a little further
        assert _evaluate(subject, data_dir)["meta"]["pairs_resumed"] == 0
    finally:
        with torch.no_grad():
            subject.model.lm_head.weight.copy_(original)
    # the interrupted attempt's chunks (other weights) stay for their own rerun
    assert (subject.results_dir / PARTIAL_DIR).exists()


def test_the_weights_digest_sees_every_parameter(small_llama) -> None:
    before = weights_digest(small_llama)
    weight = small_llama.state_dict()["lm_head.weight"]
    with torch.no_grad():
        value = np.float32(weight[0, 0].item())
        weight[0, 0] = float(np.nextafter(value, np.float32(np.inf)))  # one ulp
        changed = weights_digest(small_llama)
        weight[0, 0] = float(value)
    assert changed != before and weights_digest(small_llama) == before
