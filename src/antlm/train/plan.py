"""A run's plan in steps and words: the schedule scaled to ``train.epochs``, placed on the steps
of the block stream, and held to the word budget ``train.max_words_seen``.

The budget is checked twice, both times before any training: on the corpus's word count as soon
as the corpus is read (epochs x words, seconds into the run, before the tokenizer trains), and
exactly once the token stream exists (the words in the blocks the plan's steps serve; see
:mod:`antlm.data.blocks`). The exact count can exceed the nominal one by a few blocks, because
an epoch is a whole number of steps; ``train.epochs: budget`` fits the plan to the budget exactly.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

from antlm.config import ConfigError, RunConfig, TrainConfig
from antlm.data.blocks import BlockStream
from antlm.data.prepare import load_corpora, tokenize_corpora
from antlm.schedule import PlacedPlan, Plan, format_plan
from antlm.units import short_count

__all__ = ["check_nominal_budget", "describe_plan", "nominal_phase_words", "phase_words",
           "place_plan"]


def _over_budget(train: TrainConfig, words: int, how: str, words_per_epoch: int) -> ConfigError:
    budget = train.max_words_seen or 0
    fits = math.floor(budget / words_per_epoch * 1000) / 1000
    return ConfigError(
        f"train.max_words_seen = {budget:,} ({short_count(budget)}) but the plan would see "
        f"{words:,} words ({short_count(words)}): {how}. Scale the schedule to at most "
        f"train.epochs: {fits:g}, or set train.epochs: budget to fill the budget exactly"
    )


def check_nominal_budget(train: TrainConfig, corpus_words: int) -> None:
    """The plan's epochs times the corpus's words against the budget (before tokenizing)."""
    if train.max_words_seen is None or train.epochs == "budget" or corpus_words == 0:
        return
    plan = train.nominal_plan()
    words = math.ceil(plan.total_epochs * corpus_words)
    if words > train.max_words_seen:
        raise _over_budget(train, words, f"{plan.canonical()} is {plan.total_epochs:g} epochs "
                                         f"of {corpus_words:,} words", corpus_words)


def _last_step_within(stream: BlockStream, budget: int) -> int:
    """The most steps whose blocks hold at most ``budget`` words (words seen only grow)."""
    passes = budget // max(1, stream.total_words) + 1
    low, high = 0, math.ceil(passes * stream.n_blocks / stream.batch_size)
    while high - low > 1:  # words_seen(low) <= budget < words_seen(high)
        middle = (low + high) // 2
        if stream.words_seen(middle) <= budget:
            low = middle
        else:
            high = middle
    return low


def place_plan(train: TrainConfig, stream: BlockStream) -> PlacedPlan:
    """The run's phases on the step axis, with ``train.epochs`` applied and the exact words
    seen checked against ``train.max_words_seen`` (``ConfigError`` with both numbers)."""
    plan = train.nominal_plan()
    steps_per_epoch = stream.steps_per_epoch
    if train.epochs == "budget":
        steps = _last_step_within(stream, train.max_words_seen or 0)
        if steps == 0:
            raise ConfigError(
                f"train.max_words_seen = {train.max_words_seen:,} is less than one step's "
                f"words ({stream.words_seen(1):,}); raise it or lower train.batch_size")
        plan = plan.scaled(steps / steps_per_epoch)
    placed = plan.place(steps_per_epoch)
    words = stream.words_seen(placed.total_steps)
    if train.max_words_seen is not None and words > train.max_words_seen:
        raise _over_budget(
            train, words, f"{placed.total_steps:,} steps of {stream.batch_size} blocks "
            f"({plan.total_epochs:g} epochs of {stream.total_words:,} words, counted exactly)",
            stream.total_words)
    return placed


def phase_words(placed: PlacedPlan, stream: BlockStream) -> list[int]:
    """Words seen during each phase, exactly."""
    return [stream.words_seen(p.end_step) - stream.words_seen(p.start_step) for p in placed]


def nominal_phase_words(plan: Plan, words_per_epoch: int) -> list[int]:
    """Words seen in each phase at ``words_per_epoch`` (rounded on cumulative epochs, so the
    phases add up to the total)."""
    ends, cumulative = [0], 0.0
    for phase in plan.phases:
        cumulative += phase.epochs
        ends.append(round(cumulative * words_per_epoch))
    return [end - start for start, end in itertools.pairwise(ends)]


def describe_plan(config: RunConfig, data_dir: Path, cache_dir: Path) -> str:
    """``antlm schedule show --config``: the plan exactly as training places it, with the words
    seen in each phase. Reads and tokenizes the corpus through the cache training uses, so the
    work is not lost."""
    train = config.train
    corpora = load_corpora(config, data_dir)
    check_nominal_budget(train, corpora.train.n_words)
    data = tokenize_corpora(config, corpora, cache_dir)
    stream = BlockStream(data.train_tokens, config.model.max_seq_len, train.batch_size,
                         train.seed, words=data.train_words)
    placed = place_plan(train, stream)
    words = phase_words(placed, stream)
    budget = ("no word budget (train.max_words_seen)" if train.max_words_seen is None else
              f"{sum(words) / train.max_words_seen:.2%} of train.max_words_seen = "
              f"{train.max_words_seen:,}")
    return (format_plan(placed.plan, stream.steps_per_epoch, words)
            + f"\ncorpus (one epoch): {corpora.train.summary()}"
            + f"\n{train.batch_size} blocks of {config.model.max_seq_len} tokens per step; {budget}")
