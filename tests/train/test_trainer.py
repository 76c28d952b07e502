import json

import pytest
import torch
from safetensors.torch import load_file

from antlm.config import load_config
from antlm.rundir import RunPaths, read_metrics, read_state
from antlm.train.trainer import TrainingError, train_run
from tests.conftest import CONFIGS
from tests.devices import assert_same_weights

SMALL = [
    "model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "model.ffn_size=64",
    "model.max_seq_len=32", "model.dropout=0.1", "tokenizer.vocab_size=500",
    "model.vocab_size=500", "data.max_words=8000", "data.dev_max_words=2000",
    "train.batch_size=8", "train.log_every=5", "train.dev_max_blocks=8",
    "train.precision=fp32",  # the reference precision: exactness tests compare against it
]


def small_config(*overrides):
    return load_config(CONFIGS / "runs" / "demo.yaml", SMALL + list(overrides))


def test_tiny_run_lowers_both_dev_losses(tiny_run):
    records = read_metrics(RunPaths(tiny_run))
    start = records[0]
    dev = [r for r in records if r["event"] == "dev"]
    assert [r["objective"] for r in dev] == ["CLM", "MLM", "CLM"]
    assert dev[-1]["dev_loss_CLM"] < start["dev_loss_CLM"] - 1.0
    assert dev[-1]["dev_loss_MLM"] < start["dev_loss_MLM"] - 1.0
    # Per-objective training losses are logged with the phase that produced them.
    train = [r for r in records if r["event"] == "train"]
    assert any("loss_MLM" in r for r in train) and any("loss_CLM" in r for r in train)
    assert read_state(RunPaths(tiny_run))["finished"] is True
    for name in ("config.yaml", "tokenizer.json", "model.safetensors", "checkpoint.pt"):
        assert (tiny_run / name).is_file()


@pytest.mark.device
def test_resume_gives_exactly_the_weights_of_a_straight_run(tmp_path, data_dir):
    config = small_config("train.schedule=1_CLM+1_MLM+1_CLM")
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train_run(config, straight, data_dir, progress=False)
    first = train_run(config, resumed, data_dir, stop_after_epochs=1, progress=False)
    assert not first["finished"]
    assert read_state(RunPaths(resumed))["epoch"] == pytest.approx(1.0)
    train_run(config, resumed, data_dir, resume=True, progress=False)
    assert_same_weights(load_file(straight / "model.safetensors"),
                        load_file(resumed / "model.safetensors"))
    steps = [r["step"] for r in read_metrics(RunPaths(resumed)) if r["event"] == "dev"]
    assert steps == sorted(set(steps))  # no duplicated records after the resume


@pytest.mark.device
def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path, data_dir):
    run = tmp_path / "run"
    config = small_config("train.schedule=3_CLM", "train.log_every=1")
    train_run(config, run, data_dir, stop_after_epochs=1, progress=False)
    good = load_file(run / "model.safetensors")
    step = read_state(RunPaths(run))["step"]
    with pytest.raises(TrainingError, match="NaN/inf.*last good checkpoint"):
        train_run(small_config("train.schedule=3_CLM", "train.log_every=1", "train.lr=1e12",
                               "train.grad_clip=null"), run, data_dir, resume=True, progress=False)
    kept = load_file(run / "model.safetensors")
    assert all(torch.equal(good[k], kept[k]) for k in good)
    assert json.loads((run / "state.json").read_text())["step"] == step


def test_run_directory_conflicts_are_refused(tmp_path, data_dir):
    run = tmp_path / "run"
    config = small_config("train.schedule=0.2_CLM")
    train_run(config, run, data_dir, progress=False)
    with pytest.raises(TrainingError, match="already holds a run"):
        train_run(config, run, data_dir, progress=False)
    with pytest.raises(TrainingError, match="model.hidden_size"):
        train_run(small_config("train.schedule=0.2_CLM", "model.hidden_size=64"), run, data_dir,
                  resume=True, progress=False)
    with pytest.raises(TrainingError, match="no checkpoint"):
        train_run(config, tmp_path / "fresh", data_dir, resume=True, progress=False)
