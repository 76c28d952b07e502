"""The plan in words: proportional schedules, and the word budget checked before training."""

import numpy as np
import pytest

from antlm.config import ConfigError, TrainConfig
from antlm.data.blocks import BlockStream
from antlm.schedule import parse_schedule
from antlm.train.plan import describe_plan, phase_words, place_plan
from antlm.train.trainer import train_run
from tests.runs import small_config


def _stream(n_blocks: int, batch_size: int) -> BlockStream:
    words = np.random.default_rng(0).integers(0, 3, n_blocks * 8).astype(np.uint8)
    return BlockStream(np.zeros(n_blocks * 8, np.uint16), 8, batch_size, seed=0, words=words)


def test_epochs_scale_the_schedule_in_its_proportions():
    stream = _stream(100, 10)
    placed = place_plan(TrainConfig(schedule="4_CLM+16_MLM+4_CLM", epochs=10), stream)
    expected = parse_schedule("1.6667_CLM+6.6667_MLM+1.6667_CLM").place(stream.steps_per_epoch)
    assert [(p.start_step, p.end_step) for p in placed] == [
        (p.start_step, p.end_step) for p in expected]
    assert placed.total_steps == 100
    assert sum(phase_words(placed, stream)) == stream.words_seen(100) == 10 * stream.total_words


def test_the_exact_count_holds_the_budget_and_budget_fills_it():
    stream = _stream(100, 6)  # 17 steps per epoch: 102 blocks, two more than one pass
    budget = stream.total_words
    with pytest.raises(ConfigError) as info:
        place_plan(TrainConfig(schedule="1_CLM", max_words_seen=budget), stream)
    message = str(info.value)
    assert f"train.max_words_seen = {budget:,}" in message
    assert f"would see {stream.words_seen(17):,} words" in message and "counted exactly" in message
    assert "train.epochs: budget" in message
    placed = place_plan(TrainConfig(schedule="1_CLM+1_MLM", max_words_seen=budget,
                                    epochs="budget"), stream)
    steps = placed.total_steps
    assert stream.words_seen(steps) <= budget < stream.words_seen(steps + 1)
    assert [p.steps for p in placed] == [8, 8]  # the same 1:1 shares
    with pytest.raises(ConfigError, match="less than one step's words"):
        place_plan(TrainConfig(schedule="1_CLM", max_words_seen=1, epochs="budget"), stream)


def test_a_schedule_over_budget_fails_before_any_work(tmp_path, data_dir, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("ANTLM_CACHE_DIR", str(cache))
    config = small_config("train.schedule=4_CLM+16_MLM+4_CLM", "train.max_words_seen=100K")
    with pytest.raises(ConfigError) as info:
        train_run(config, tmp_path / "run", data_dir, progress=False)
    message = str(info.value)
    assert "train.max_words_seen = 100,000 (100K)" in message
    assert "24 epochs of 8,005 words" in message and "would see 192,120 words" in message
    assert "train.epochs: 12.492" in message
    assert not cache.exists() and not (tmp_path / "run").exists()  # no tokenizer, no run files


def test_schedule_show_of_a_config_gives_the_words_training_will_see(tmp_path, data_dir):
    from antlm.data.cache import default_cache_dir
    from antlm.data.prepare import prepare_data

    config = small_config("train.schedule=4_CLM+16_MLM+4_CLM", "train.epochs=2",
                          "train.max_words_seen=100K")
    text = describe_plan(config, data_dir, default_cache_dir())
    data = prepare_data(config, data_dir, default_cache_dir())
    stream = BlockStream(data.train_tokens, 32, 8, config.train.seed, words=data.train_words)
    placed = place_plan(config.train, stream)
    lines = text.splitlines()
    assert lines[0].startswith("schedule 4_CLM+16_MLM+4_CLM scaled to 2 epochs: "
                               "0.333333_CLM+1.33333_MLM+0.333333_CLM")
    for line, phase, words in zip(lines[2:5], placed, phase_words(placed, stream)):
        assert line.split()[4:6] == [f"{phase.steps:,}", f"{words:,}"]
    total = stream.words_seen(placed.total_steps)
    assert lines[5].split()[-1] == f"{total:,}"
    assert f"{total / 100_000:.2%} of train.max_words_seen = 100,000" in text
