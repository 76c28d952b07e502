"""What the summary derives from the collected scores."""

import pytest

from antlm.sweep.spec import SweepComparison, SweepPrimary
from antlm.sweep.stats import paired_interval


def test_differences_pair_the_seeds_both_arms_evaluated(made_up_summary):
    differences = made_up_summary.paired_differences("antlm", "causal", "blimp_filtered")
    assert differences == pytest.approx([0.03, 0.02])  # seeds 1 and 2; the baseline's 3 unpaired
    assert made_up_summary.delta("antlm", "causal", "blimp_filtered") == paired_interval(differences)
    assert made_up_summary.delta("antlm", "causal", "ewok") is None  # never scored


def test_primary_endpoint_is_the_mean_of_the_declared_parts_paired_by_seed(made_up_summary):
    # smoke.yaml declares antlm vs clm_only, causal, the mean of BLiMP-filtered and supplement
    primary = made_up_summary.sweep.spec.primary[0]
    assert made_up_summary.endpoint_values("clm_only", primary) == pytest.approx(
        {1: 0.51, 2: 0.515, 3: 0.52})
    [result] = made_up_summary.primaries()
    assert result.seeds == [1, 2]  # the baseline's seed 3 has no partner
    assert result.differences == pytest.approx([0.025, 0.015])
    assert result.interval == paired_interval(result.differences)
    assert result.to_json()["verdict"] == result.verdict


def test_a_seed_lacking_a_declared_part_has_no_primary_value(made_up_summary):
    made_up_summary.scores["antlm"][2]["causal"]["blimp_supplement"] = None
    primary = made_up_summary.sweep.spec.primary[0]
    assert set(made_up_summary.endpoint_values("antlm", primary)) == {1}


def test_each_declared_endpoint_is_read_on_its_own_and_secondaries_carry_no_verdict(
        made_up_summary):
    spec = made_up_summary.sweep.spec
    # A second question on the same arms under mlm scoring; a secondary under each arm's own
    # declared backend (clm_only ends on CLM: causal; antlm too).
    spec.primary.append(SweepPrimary(arm="antlm", backend="mlm", parts=["blimp_filtered"]))
    spec.secondary = [SweepComparison(arm="antlm", backend="declared",
                                      parts=["blimp_filtered", "blimp_supplement"])]
    first, second = made_up_summary.primaries()
    assert first.backend == "causal" and second.backend == "mlm"
    assert second.differences == pytest.approx([0.05, 0.04])  # mlm shift +0.01/+0.02 vs -0.01/0
    [secondary] = made_up_summary.secondaries()
    assert secondary.baseline == "clm_only" and secondary.seeds == [1, 2]
    assert secondary.differences == pytest.approx([0.025, 0.015])  # as the causal primary...
    assert "verdict" not in secondary.to_json()  # ...described, never read as an answer
    assert [p["backend"] for p in made_up_summary.to_json()["primary"]] == ["causal", "mlm"]
