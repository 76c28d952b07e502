"""The statistics every sweep table and plot reports."""

import pytest

from antlm.sweep.stats import Interval, mean_sd, paired_interval


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
