"""LTG-BERT end to end: WordPiece and span masking under an AntLM schedule."""

import pytest

from antlm.config import load_config
from antlm.eval.scoring import score_pairs
from antlm.rundir import RunPaths, load_run, read_metrics
from antlm.train.trainer import train_run
from tests.conftest import CONFIGS, word_order_pairs


@pytest.fixture(scope="module")
def ltgbert_run(data_dir, tmp_path_factory):
    """Batch 16 rather than the config's 32, i.e. 100 steps per epoch instead of 50: at 50 steps
    the two MLM epochs sit on the edge of learning to use context, and whether they get there
    depends on the seed and the machine's kernels (word_order PLL after the closing CLM epoch,
    measured on the project's CPU machine over seeds 42, 1, 2: 47.2%, 68.7%, 71.9%; CI got
    51.6% for seed 42). At batch 16 the same seeds plus 3 gave 80.6%, 79.1%, 92.5%, 90.1%."""
    config = load_config(
        CONFIGS / "runs" / "ltgbert-antlm-tiny.yaml",
        ["train.schedule=1_CLM+2_MLM+1_CLM", "train.batch_size=16", "data.max_words=150000",
         "data.dev_max_words=20000", "name=ltgbert-test"],
    )
    assert (config.model.arch, config.tokenizer.kind, config.objective.masking) == (
        "ltgbert", "wordpiece", "span")
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
def test_alternated_ltgbert_prefers_real_word_order(ltgbert_run, data_dir):
    """335 BLiMP sentences against their words shuffled (``word_order``; 50% +- 2.7 points for
    a model that knows no order). Over seeds 42, 1, 2, 3 this fixture scored 74.3-88.7% causal
    and 79.1-92.5% PLL on the project's CPU machine; the thresholds sit 9 and 14 points below
    the lowest, for machines whose kernels train a slightly different model."""
    run = load_run(ltgbert_run)
    scores = score_pairs(run.model, run.tokenizer, word_order_pairs(data_dir),
                         ["causal", "mlm"], 128)
    accuracy = {b: float((s[:, 0] > s[:, 1]).mean()) for b, s in scores.items()}
    assert accuracy["causal"] > 0.65, accuracy
    assert accuracy["mlm"] > 0.65, accuracy
