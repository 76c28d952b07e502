"""What the summary derives from the collected scores."""

import pytest

from antlm.sweep.stats import paired_interval


def test_differences_pair_the_seeds_both_arms_evaluated(made_up_summary):
    differences = made_up_summary.paired_differences("antlm", "causal", "blimp_filtered")
    assert differences == pytest.approx([0.03, 0.02])  # seeds 1 and 2; the baseline's 3 unpaired
    assert made_up_summary.delta("antlm", "causal", "blimp_filtered") == paired_interval(differences)
    assert made_up_summary.delta("antlm", "causal", "ewok") is None  # never scored


def test_primary_endpoint_is_the_mean_of_the_declared_parts_paired_by_seed(made_up_summary):
    # smoke.yaml declares antlm vs clm_only, causal, the mean of BLiMP-filtered and supplement
    assert made_up_summary.primary_values("clm_only") == pytest.approx(
        {1: 0.51, 2: 0.515, 3: 0.52})
    result = made_up_summary.primary()
    assert result.seeds == [1, 2]  # the baseline's seed 3 has no partner
    assert result.differences == pytest.approx([0.025, 0.015])
    assert result.interval == paired_interval(result.differences)
    assert result.to_json()["verdict"] == result.verdict


def test_a_seed_lacking_a_declared_part_has_no_primary_value(made_up_summary):
    made_up_summary.scores["antlm"][2]["causal"]["blimp_supplement"] = None
    assert set(made_up_summary.primary_values("antlm")) == {1}
