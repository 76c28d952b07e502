"""The statistics every sweep table and plot reports."""

import pytest

from antlm.sweep.stats import Interval, half_width, mean_sd, paired_interval, seed_rule, verdict


def test_paired_interval_matches_a_hand_computed_t_interval():
    interval = paired_interval([0.01, 0.03, 0.02])
    # mean 0.02, sd 0.01, t(0.975, 2) = 4.302653, half width = 4.302653 * 0.01 / sqrt(3)
    assert interval.mean == pytest.approx(0.02)
    assert interval.high - interval.mean == pytest.approx(4.302653 * 0.01 / 3 ** 0.5, rel=1e-5)
    assert interval.mean - interval.low == pytest.approx(interval.high - interval.mean)


def test_one_seed_claims_no_interval_and_no_sd():
    assert paired_interval([0.02]) == Interval(0.02, None, None)
    assert Interval(0.02, None, None).format() == "+2.00 (n/a)"
    assert mean_sd([0.5]) == (0.5, None)


@pytest.mark.parametrize(("low", "high", "answer"), [
    (0.002, 0.008, "a scores higher than b, by less than 1 point"),
    (0.002, 0.018, "a scores higher than b"),
    (-0.018, -0.002, "a scores lower than b"),
    (-0.008, 0.009, "no difference of 1 point or more between a and b"),
    (-0.008, 0.012, "inconclusive: the interval includes 0 and reaches beyond ±1 point"),
    (-0.010, 0.005, "inconclusive"),  # touching the margin is not inside it
])
def test_verdict_reads_the_interval_as_pre_registered(low, high, answer):
    interval = Interval((low + high) / 2, low, high)
    assert verdict(interval, margin=1.0, arm="a", baseline="b").startswith(answer)


def test_no_verdict_and_no_width_without_an_interval():
    assert verdict(Interval(0.02, None, None), 1.0, "a", "b").startswith("none yet")
    assert half_width(Interval(0.02, None, None)) is None


@pytest.mark.parametrize(("low", "high", "seeds", "max_seeds", "rule"), [
    (-0.004, 0.015, [1, 2, 3, 4, 5], 8,
     "the interval's half-width is 0.95 points, within ±1: 5 seeds are enough"),
    (-0.004, 0.018, [1, 2, 3, 4, 5], 8,
     "the interval's half-width is 1.10 points, wider than ±1: add seed 6 to every arm"),
    (-0.004, 0.018, [1, 2, 3, 4, 5, 6, 7, 8], 8,
     "the interval's half-width is 1.10 points, wider than ±1 at 8 seeds, the most"),
    (-0.004, 0.018, [1, 2, 3], None,
     "the interval's half-width is 1.10 points, wider than ±1; the sweep declares no further"),
])
def test_seed_rule_looks_at_the_width_alone(low, high, seeds, max_seeds, rule):
    assert seed_rule(Interval(0.0, low, high), seeds, 1.0, max_seeds).startswith(rule)
    # the same width anywhere gives the same decision: the centre never enters it
    shifted = Interval(0.5, low + 0.5, high + 0.5)
    assert seed_rule(shifted, seeds, 1.0, max_seeds) == seed_rule(
        Interval(0.0, low, high), seeds, 1.0, max_seeds)
