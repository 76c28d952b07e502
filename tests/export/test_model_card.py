"""The model card an export carries: config, schedule, words seen, and the evaluation tables
with their suite and declared backend."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from antlm.eval.runner import evaluate_path
from antlm.eval.settings import EvaluationSettings
from antlm.eval.suites import SUITES
from antlm.export.hf import export_run


def test_card_states_config_training_and_the_evaluation(
    tmp_path: Path, exported_runs, data_dir: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(exported_runs["babyllama"][0], run)
    (run / "state.json").write_text(json.dumps(
        {"step": 40, "total_steps": 40, "epoch": 3.0, "finished": True, "words_seen": 1234567}))
    evaluate_path(run, ["blimp_supplement"], data_dir, SUITES["babylm2024"],
                  EvaluationSettings(backend="all", max_pairs=2, progress=False))

    card = (export_run(run, tmp_path / "hf") / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers\n")
    assert "`1_CLM+1_MLM+1_CLM`" in card and "babyllama" in card
    assert "- words seen: 1,234,567" in card
    assert "- steps: 40 of 40 (finished)" in card
    assert "Zero-shot, suite babylm2024, every backend scored (exploratory" in card
    assert "**Headline: suite babylm2024, zero-shot backend causal** (declared by the run " in card
    assert "| causal (declared) | mlm | mntp | fused | mlm_word_l2r |" in card
    assert "babylm2025" not in card  # only the suites that were evaluated


def test_card_says_what_was_not_recorded(tmp_path: Path, exported_runs) -> None:
    card = (exported_runs["ltgbert"][1] / "README.md").read_text()
    assert "- words seen: not recorded (the run's state.json has no `words_seen`)" in card
    assert "Not evaluated when exported" in card
    assert 'AutoModelForCausalLM.from_pretrained("PATH", trust_remote_code=True)' in card


def test_a_revisions_card_shows_its_own_learning_curve_point(milestone_run, tmp_path) -> None:
    from antlm.export.model_card import model_card
    from antlm.rundir import RunPaths, list_checkpoints, load_run

    run = tmp_path / "run"
    shutil.copytree(milestone_run, run)
    first = list_checkpoints(RunPaths(run))[0]
    (run / "learning_curve.json").write_text(json.dumps({
        "settings": {"suite": "babylm2025", "backend": "causal"},
        "points": {first.name: {"words_seen": first.words_seen, "step": first.step,
                                "scores": {"blimp_filtered": 0.5123}, "pairs": {"blimp_filtered": 6700}}}}))
    card = model_card(load_run(run, checkpoint=first.name))
    assert f"Fast sets of `{first.name}` (suite babylm2025, backend `causal`" in card
    assert "| blimp_filtered | 51.2 | 6,700 |" in card
