import json
import re

import pytest
import torch
from safetensors.torch import load_file

from antlm.rundir import RunPaths, read_metrics, read_state
from antlm.speeds import FIRST_STEPS
from antlm.train.trainer import TrainingError, train_run
from tests.devices import assert_same_weights
from tests.runs import small_config


def test_tiny_run_lowers_both_dev_losses(tiny_run):
    records = read_metrics(RunPaths(tiny_run))
    start = records[0]
    dev = [r for r in records if r.event == "dev"]
    ends = [r for r in dev if float(r.epoch).is_integer()]  # train.dev_every adds the rest
    assert [r.objective for r in ends] == ["CLM", "MLM", "CLM"]
    assert dev[-1].dev_losses["CLM"] < start.dev_losses["CLM"] - 1.0
    assert dev[-1].dev_losses["MLM"] < start.dev_losses["MLM"] - 1.0
    # Per-objective training losses are logged with the phase that produced them.
    train = [r for r in records if r.event == "train"]
    assert any("MLM" in r.losses for r in train) and any("CLM" in r.losses for r in train)
    assert read_state(RunPaths(tiny_run)).finished is True
    for name in ("config.yaml", "tokenizer.json", "model.safetensors", "checkpoint.pt"):
        assert (tiny_run / name).is_file()


@pytest.mark.slow
@pytest.mark.device
def test_resume_gives_exactly_the_weights_of_a_straight_run(tmp_path, data_dir):
    config = small_config("train.schedule=1_CLM+1_MLM+1_CLM")
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train_run(config, straight, data_dir, progress=False)
    first = train_run(config, resumed, data_dir, stop_after_epochs=1, progress=False)
    assert not first["finished"]
    assert read_state(RunPaths(resumed)).epoch == pytest.approx(1.0)
    train_run(config, resumed, data_dir, resume=True, progress=False)
    assert_same_weights(load_file(straight / "model.safetensors"),
                        load_file(resumed / "model.safetensors"))
    steps = [r.step for r in read_metrics(RunPaths(resumed)) if r.event == "dev"]
    assert steps == sorted(set(steps))  # no duplicated records after the resume


@pytest.mark.slow
@pytest.mark.device
def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path, data_dir):
    run = tmp_path / "run"
    config = small_config("train.schedule=3_CLM", "train.log_every=1")
    train_run(config, run, data_dir, stop_after_epochs=1, progress=False)
    good = load_file(run / "model.safetensors")
    step = read_state(RunPaths(run)).step
    with pytest.raises(TrainingError, match="NaN/inf.*last good checkpoint"):
        train_run(small_config("train.schedule=3_CLM", "train.log_every=1", "train.lr=1e12",
                               "train.grad_clip=null"), run, data_dir, resume=True, progress=False)
    kept = load_file(run / "model.safetensors")
    assert all(torch.equal(good[k], kept[k]) for k in good)
    assert json.loads((run / "state.json").read_text())["step"] == step


@pytest.mark.slow
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


def _batch_dividing_the_blocks(config, data_dir) -> int:
    """A batch size that divides the corpus's blocks, so that an epoch is exactly one pass."""
    from antlm.data.cache import default_cache_dir
    from antlm.data.prepare import prepare_data

    data = prepare_data(config, data_dir, default_cache_dir())
    blocks = len(data.train_tokens) // config.model.max_seq_len
    return next(b for b in range(12, 0, -1) if blocks % b == 0)


@pytest.mark.slow
def test_words_seen_after_an_epoch_are_the_corpus_and_resume_exactly(tmp_path, data_dir):
    probe = small_config("train.schedule=0.5_CLM+1_MLM", "train.checkpoint_words=null")
    batch = _batch_dividing_the_blocks(probe, data_dir)
    config = small_config("train.schedule=0.5_CLM+1_MLM", "train.checkpoint_words=null",
                          f"train.batch_size={batch}", "train.log_every=7")
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train_run(config, straight, data_dir, progress=False)
    train_run(config, resumed, data_dir, stop_after_epochs=1, progress=False)
    state = read_state(RunPaths(resumed))
    start = read_metrics(RunPaths(resumed))[0]
    corpus_words = int(start.train_corpus.split(" documents, ")[1].split(" words")[0].replace(",", ""))
    assert state.epoch == 1.0 and state.words_seen == corpus_words == start.words_per_epoch
    assert state.tokens_seen == state.step * batch * config.model.max_seq_len
    train_run(config, resumed, data_dir, resume=True, progress=False)

    def progress(run):
        return [(r.step, r.words_seen, r.tokens_seen)
                for r in read_metrics(RunPaths(run)) if r.event in ("train", "dev")]

    assert progress(resumed) == progress(straight)
    words = [w for _, w, _ in progress(straight)]
    assert words == sorted(words) and words[0] > 0
    final = read_state(RunPaths(straight))
    assert final.words_seen == final.total_words_seen == read_state(RunPaths(resumed)).words_seen
    assert corpus_words < final.words_seen < 2 * corpus_words  # 1.5 epochs


@pytest.mark.slow
def test_dev_every_adds_dev_records_within_epochs_without_checkpoints(tmp_path, data_dir,
                                                                      monkeypatch):
    """Also train.checkpoint_epochs: false: the dev checks at every epoch's end stay, the
    checkpoint is written where the run stops alone."""
    from antlm.train import trainer

    saved: list[int] = []
    real = trainer.save_checkpoint
    monkeypatch.setattr(trainer, "save_checkpoint", lambda paths, model, optimizer, step, *rest: (
        saved.append(step), real(paths, model, optimizer, step, *rest)))
    run = tmp_path / "run"
    train_run(small_config("train.schedule=2_CLM", "train.dev_every=0.5",
                           "train.checkpoint_epochs=false"), run, data_dir, progress=False)
    records = read_metrics(RunPaths(run))
    per_epoch = records[0].steps_per_epoch
    half = round(per_epoch / 2)
    dev = [r for r in records if r.event == "dev"]
    assert [r.step for r in dev] == [half, per_epoch, per_epoch + half, 2 * per_epoch]
    assert all({"CLM", "MLM"} <= set(r.dev_losses) for r in dev)
    # neither a check between epoch ends nor the first epoch's end writes a checkpoint
    assert saved == [2 * per_epoch]
    assert read_state(RunPaths(run)).step == 2 * per_epoch


def _due_steps(every: float, steps_per_epoch: int = 10, epochs: int = 3) -> list[int]:
    """The steps at which a run of ``steps_per_epoch`` makes a ``train.dev_every`` check."""
    from types import SimpleNamespace

    from antlm.train.trainer import TrainingRun

    run = TrainingRun.__new__(TrainingRun)  # dev_due reads only the step and the stream
    run.stream = SimpleNamespace(steps_per_epoch=steps_per_epoch)
    due = []
    for step in range(1, steps_per_epoch * epochs + 1):
        run.step = step
        if run.dev_due(every):
            due.append(step)
    return due


def test_dev_every_places_its_checks_from_each_epochs_start():
    assert _due_steps(1.0) == [10, 20, 30]  # the epoch ends alone, as before the field
    assert _due_steps(0.25)[:5] == [2, 4, 6, 8, 10]  # 2.5 steps round to 2
    assert _due_steps(0.25, steps_per_epoch=7)[:4] == [2, 4, 6, 7]  # the epoch end counts anew
    assert _due_steps(0.01) == list(range(1, 31))  # at least one step apart


@pytest.mark.slow
def test_a_first_run_on_a_machine_estimates_its_time_from_its_first_steps(
        tmp_path, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("ANTLM_CACHE_DIR", str(tmp_path / "cache"))  # nothing measured here
    config = small_config("train.schedule=1_CLM")
    train_run(config, tmp_path / "first", data_dir, progress=False)
    out = capsys.readouterr().out
    assert f"time estimated after the first {FIRST_STEPS} steps" in out
    left = re.search(r"antlm: ([\d,]+) steps left, about .* \(from the first 5 steps here\)", out)
    total = re.search(r"antlm: ([\d,]+) steps to train", out)
    assert left and total and int(left[1].replace(",", "")) == int(total[1].replace(",", "")) - 5
