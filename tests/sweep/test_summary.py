"""What the summary derives from the collected scores."""

import pytest

from antlm.sweep.stats import paired_interval


def test_differences_pair_the_seeds_both_arms_evaluated(made_up_summary):
    differences = made_up_summary.paired_differences("antlm", "causal", "blimp_filtered")
    assert differences == pytest.approx([0.03, 0.02])  # seeds 1 and 2; the baseline's 3 unpaired
    assert made_up_summary.delta("antlm", "causal", "blimp_filtered") == paired_interval(differences)
    assert made_up_summary.delta("antlm", "causal", "ewok") is None  # never scored
