"""``--save-predictions``: one JSON line per pair, enough to audit and re-score a number."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from antlm.eval.predictions import write_predictions
from antlm.eval.suites import SUITES
from antlm.eval.tasks import MinimalPair, load_task


def test_every_pair_keeps_its_texts_and_both_scores_per_backend(tmp_path: Path) -> None:
    pairs = [MinimalPair("blimp_filtered", "social", "He won.", "He lost.", context="A match."),
             MinimalPair("blimp_filtered", "social", "Same.", "Same."),
             MinimalPair("blimp_filtered", "spatial", "Up.", "Down.")]
    scores = {"causal": np.array([[-1.0, -2.0], [-3.0, -3.0], [-5.0, -4.0]]),
              "mlm": np.array([[-7.0, -6.0], [-1.5, -1.5], [-2.0, -9.0]])}
    path = write_predictions(tmp_path, SUITES["babylm2025"], "blimp_filtered", pairs, scores)
    assert path == tmp_path / "predictions" / "babylm2025" / "blimp_filtered.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["social_0", "social_1", "spatial_0"]
    assert lines[0] == {
        "task": "blimp_filtered", "subtask": "social", "id": "social_0", "context": "A match.",
        "good": "He won.", "bad": "He lost.",
        "scores": {"causal": {"good": -1.0, "bad": -2.0}, "mlm": {"good": -7.0, "bad": -6.0}},
        "correct": {"causal": True, "mlm": False},
    }
    assert lines[1]["correct"] == {"causal": True, "mlm": True}  # a tie counts as correct
    assert lines[2]["correct"] == {"causal": False, "mlm": True}


def test_ewok_items_are_named_by_place_and_hash_never_by_text(data_dir: Path,
                                                              tmp_path: Path) -> None:
    # EWoK's terms forbid plain-text copies of its items: the real items, scored or not, must
    # leave no text in the file, only where each item is and a hash of its texts.
    pairs = load_task("ewok", data_dir, max_pairs_per_subtask=3)
    scores = {"causal": np.zeros((len(pairs), 2))}
    path = write_predictions(tmp_path, SUITES["babylm2025"], "ewok", pairs, scores)
    written = path.read_text()
    for pair in pairs:
        for text in (pair.context, pair.good, pair.bad):
            assert json.dumps(text)[1:-1] not in written
    first = json.loads(written.splitlines()[0])
    assert "context" not in first and "good" not in first
    archive, member_line = pairs[0].source.split("!")
    assert first["source"] == f"{Path(archive).name}!{member_line}"
    assert str(data_dir) not in written
    texts = json.dumps([pairs[0].context, pairs[0].good, pairs[0].bad], ensure_ascii=False)
    assert first["sha256"] == hashlib.sha256(texts.encode("utf-8")).hexdigest()


def test_a_multiple_choice_item_keeps_every_candidate_score_and_the_choice(
        tmp_path: Path) -> None:
    items = [MinimalPair("entity_tracking", "regular_0_ops", "the map.", "the hat.",
                         context="Box 1 contains", distractors=("the key.",)),
             MinimalPair("entity_tracking", "regular_0_ops", "the cup.", "the pen.",
                         context="Box 2 contains", distractors=("the box.",))]
    scores = {"causal": np.array([[-5.0, -6.0, -5.0], [-9.0, -2.0, -2.0]])}
    path = write_predictions(tmp_path, SUITES["babylm2025"], "entity_tracking", items, scores)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {
        "task": "entity_tracking", "subtask": "regular_0_ops", "id": "regular_0_ops_0",
        "context": "Box 1 contains", "candidates": ["the map.", "the hat.", "the key."],
        "scores": {"causal": [-5.0, -6.0, -5.0]}, "chosen": {"causal": 0},
        "correct": {"causal": True},  # a tie with the right option goes to it
    }
    assert (lines[1]["chosen"], lines[1]["correct"]) == ({"causal": 1}, {"causal": False})
