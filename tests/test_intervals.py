"""Confidence intervals: the binomial (Wilson) interval of an accuracy against hand-worked
values, and the pair count of a mean over tasks."""

import pytest

from antlm.intervals import effective_pairs, paired_interval, wilson_interval


def test_wilson_interval_matches_a_hand_worked_value():
    # p = 0.5, n = 100, z = 1.96: centre 0.5, half-width
    # 1.96 / (1 + 1.96^2/100) * sqrt(0.25/100 + 1.96^2/(4 * 100^2)) = 0.09617
    interval = wilson_interval(0.5, 100)
    assert interval.mean == 0.5
    assert interval.low == pytest.approx(0.40383, abs=1e-5)
    assert interval.high == pytest.approx(0.59617, abs=1e-5)


def test_wilson_interval_stays_inside_zero_and_one_where_wald_would_collapse():
    # 0 of 10 right: Wald gives [0, 0]; Wilson's upper bound is 2 * 1.96^2/20 / (1 + 1.96^2/10)
    interval = wilson_interval(0.0, 10)
    assert interval.low == pytest.approx(0.0, abs=1e-12)
    assert interval.high == pytest.approx(0.27754, abs=1e-5)


def test_wilson_interval_narrows_with_more_pairs_and_has_no_bounds_without_any():
    few, many = wilson_interval(0.6, 100), wilson_interval(0.6, 10_000)
    assert many.high - many.low < (few.high - few.low) / 5
    none = wilson_interval(0.6, 0)
    assert (none.mean, none.low, none.high) == (0.6, None, None)


def test_effective_pairs_of_a_mean_is_limited_by_its_smallest_task():
    assert effective_pairs([100, 400]) == pytest.approx(4 / (1 / 100 + 1 / 400))  # 320
    assert effective_pairs([500, 500]) == pytest.approx(1000)
    assert effective_pairs([6700, 100]) < 2 ** 2 * 100  # far below the 6,800 pairs in all
    assert effective_pairs([]) == effective_pairs([100, 0]) == 0.0


def test_paired_interval_has_no_bounds_from_one_value():
    assert paired_interval([0.1]).low is None
    assert paired_interval([0.1, 0.3]).low < 0.2 < paired_interval([0.1, 0.3]).high
