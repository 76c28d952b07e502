"""``--save-predictions``: one JSON line per pair, enough to audit and re-score a number."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from antlm.eval.predictions import write_predictions
from antlm.eval.suites import SUITES
from antlm.eval.tasks import MinimalPair


def test_every_pair_keeps_its_texts_and_both_scores_per_backend(tmp_path: Path) -> None:
    pairs = [MinimalPair("ewok", "social", "He won.", "He lost.", context="A match."),
             MinimalPair("ewok", "social", "Same.", "Same."),
             MinimalPair("ewok", "spatial", "Up.", "Down.")]
    scores = {"causal": np.array([[-1.0, -2.0], [-3.0, -3.0], [-5.0, -4.0]]),
              "mlm": np.array([[-7.0, -6.0], [-1.5, -1.5], [-2.0, -9.0]])}
    path = write_predictions(tmp_path, SUITES["babylm2025"], "ewok", pairs, scores)
    assert path == tmp_path / "predictions" / "babylm2025" / "ewok.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["social_0", "social_1", "spatial_0"]
    assert lines[0] == {
        "task": "ewok", "subtask": "social", "id": "social_0", "context": "A match.",
        "good": "He won.", "bad": "He lost.",
        "scores": {"causal": {"good": -1.0, "bad": -2.0}, "mlm": {"good": -7.0, "bad": -6.0}},
        "correct": {"causal": True, "mlm": False},
    }
    assert lines[1]["correct"] == {"causal": True, "mlm": True}  # a tie counts as correct
    assert lines[2]["correct"] == {"causal": False, "mlm": True}
