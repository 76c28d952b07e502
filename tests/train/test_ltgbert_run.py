"""LTG-BERT end to end: WordPiece, span masking and LAMB under an AntLM schedule."""

import pytest

from antlm.config import load_config
from antlm.eval.runner import evaluate_loaded
from antlm.rundir import RunPaths, load_run, read_metrics
from antlm.train.trainer import train_run
from tests.conftest import CONFIGS


@pytest.fixture(scope="module")
def ltgbert_run(data_dir, tmp_path_factory):
    config = load_config(
        CONFIGS / "runs" / "ltgbert-antlm-tiny.yaml",
        ["train.schedule=1_CLM+2_MLM+1_CLM", "data.max_words=150000",
         "data.dev_max_words=20000", "name=ltgbert-test"],
    )
    assert (config.model.arch, config.tokenizer.kind, config.train.optimizer,
            config.objective.masking) == ("ltgbert", "wordpiece", "lamb", "span")
    run_dir = tmp_path_factory.mktemp("ltgbert") / "run"
    train_run(config, run_dir, data_dir, progress=False)
    return run_dir


@pytest.mark.slow
def test_alternated_ltgbert_lowers_both_dev_losses(ltgbert_run):
    records = read_metrics(RunPaths(ltgbert_run))
    dev = [r for r in records if r["event"] == "dev"]
    assert [r["objective"] for r in dev] == ["CLM", "MLM", "MLM", "CLM"]
    assert dev[-1]["dev_loss_CLM"] < records[0]["dev_loss_CLM"] - 1.0
    assert dev[-1]["dev_loss_MLM"] < records[0]["dev_loss_MLM"] - 1.0


@pytest.mark.slow
def test_alternated_ltgbert_scores_above_chance_with_pll(ltgbert_run, data_dir):
    """2,010 pairs: chance has a standard deviation of 1.1 points, so 53% is ~2.7 sigma."""
    update = evaluate_loaded(load_run(ltgbert_run), ["blimp_filtered"], data_dir,
                             backend="mlm", max_pairs_per_subtask=30, progress=False)
    assert update["scores"]["mlm"]["blimp_filtered"]["score"] > 0.53
