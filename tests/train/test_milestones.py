"""Milestone checkpoints on a real small run: each written once as the words seen first pass
it, kept across a stop and a resume, and holding the weights of a run stopped at that step."""

import pytest
import torch
from safetensors.torch import load_file

from antlm.data.blocks import BlockStream
from antlm.data.cache import default_cache_dir
from antlm.data.prepare import prepare_data
from antlm.rundir import RunPaths, list_checkpoints, read_metrics
from antlm.train.milestones import describe, describe_saved
from antlm.train.trainer import TrainingError, train_run
from tests.runs import MILESTONE_RUN, small_config

NAMES = ["chck_2K", "chck_6K", "chck_10K", "chck_14K"]


def _equal(a, b) -> bool:
    first, second = load_file(a), load_file(b)
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def _config():
    return small_config(*MILESTONE_RUN)


@pytest.fixture
def straight(milestone_run):
    return milestone_run


def test_each_milestone_is_saved_when_the_words_seen_first_pass_it(straight, data_dir):
    config = _config()
    data = prepare_data(config, data_dir, default_cache_dir())
    stream = BlockStream(data.train_tokens, config.model.max_seq_len, config.train.batch_size,
                         config.train.seed, words=data.train_words)
    checkpoints = list_checkpoints(RunPaths(straight))
    assert [c.name for c in checkpoints] == NAMES
    for checkpoint in checkpoints:
        assert stream.words_seen(checkpoint.step - 1) < checkpoint.milestone
        assert checkpoint.milestone <= checkpoint.words_seen == stream.words_seen(checkpoint.step)
        assert checkpoint.step % stream.steps_per_epoch  # mid-epoch, not at an epoch's end
    events = [r.name for r in read_metrics(RunPaths(straight)) if r.event == "checkpoint"]
    assert events == NAMES


def test_a_stop_and_a_resume_write_each_once_and_the_same(straight, tmp_path, data_dir):
    config = _config()
    run = tmp_path / "stopped"
    train_run(config, run, data_dir, stop_after_epochs=1, progress=False)
    first = {c.name: c.path.stat() for c in list_checkpoints(RunPaths(run))}
    assert list(first) == NAMES[:2]
    train_run(config, run, data_dir, resume=True, progress=False)
    after = {c.name: c.path for c in list_checkpoints(RunPaths(run))}
    assert list(after) == NAMES
    for name, stat in first.items():  # never rewritten
        now = after[name].stat()
        assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    for name, path in after.items():
        assert _equal(path, RunPaths(straight).checkpoints / path.name), name
    events = [r.name for r in read_metrics(RunPaths(run)) if r.event == "checkpoint"]
    assert events == NAMES


def test_milestone_weights_are_those_of_a_run_stopped_there(straight, tmp_path, data_dir):
    config = _config()
    checkpoint = list_checkpoints(RunPaths(straight))[2]
    steps_per_epoch = read_metrics(RunPaths(straight))[0].steps_per_epoch
    run = tmp_path / "stopped-there"
    result = train_run(config, run, data_dir, stop_after_epochs=checkpoint.step / steps_per_epoch,
                       progress=False)
    assert result["step"] == checkpoint.step
    assert _equal(run / "model.safetensors", checkpoint.path)


@pytest.mark.slow
def test_small_runs_say_so_and_old_checkpoints_are_not_overwritten(tmp_path, data_dir, capsys):
    run = tmp_path / "run"
    train_run(small_config("train.schedule=0.1_CLM"), run, data_dir, progress=False)
    out = capsys.readouterr().out
    assert out.count("fewer than the first checkpoint milestone (1M words)") == 1
    assert not list_checkpoints(RunPaths(run))
    # A new start where an earlier one left milestone files refuses to overwrite them.
    RunPaths(run).checkpoints.mkdir()
    (RunPaths(run).checkpoints / "chck_1M.safetensors").write_bytes(b"")
    (run / "checkpoint.pt").unlink()
    with pytest.raises(TrainingError, match="holds milestone checkpoints of an earlier start"):
        train_run(small_config("train.schedule=0.1_CLM"), run, data_dir, progress=False)


def test_counts_say_one_milestone_checkpoint_in_the_singular(tmp_path) -> None:
    paths = RunPaths(tmp_path / "run")
    paths.checkpoints.mkdir(parents=True)
    (paths.checkpoints / "chck_1M.safetensors").write_bytes(b"")
    assert describe_saved(paths) == f"1 milestone checkpoint in {paths.checkpoints}"
    (paths.checkpoints / "chck_2M.safetensors").write_bytes(b"")
    assert describe_saved(paths) == f"2 milestone checkpoints in {paths.checkpoints}"
    assert describe([1_000_000, 2_000_000], 1_500_000).startswith("1 milestone checkpoint within")


def test_a_run_without_milestones_names_no_missing_folder(tmp_path) -> None:
    paths = RunPaths(tmp_path / "run")
    assert describe_saved(paths) == "the run has no milestone checkpoints"
    assert str(paths.checkpoints) not in describe_saved(paths)
