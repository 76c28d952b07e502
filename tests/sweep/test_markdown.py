"""The sweep summary as Markdown."""

import pytest

from antlm.sweep.markdown import render_markdown
from antlm.sweep.spec import SweepComparison, SweepPrimary, load_sweep
from tests.conftest import CONFIGS


def test_headline_prints_each_backends_macro_and_paired_delta(made_up_summary):
    text = render_markdown(made_up_summary)
    headline = text.split("### Dev loss")[0]
    assert "| arm | schedule | seeds | macro, causal | Δ causal | macro, mlm | Δ mlm |" in headline
    delta = made_up_summary.delta("antlm", "mlm", "macro").format()
    assert f"| {delta} |" in headline
    assert "| clm_only | `2_CLM` | 3 |" in headline and "| baseline |" in headline
    assert "| antlm | `0.5_CLM+1_MLM+0.5_CLM` | 2 | 2 |" in text  # epochs, seeds


def test_the_primary_endpoint_leads_with_its_answer_and_seeds(made_up_summary):
    text = render_markdown(made_up_summary)
    primary = text.split("### Primary endpoint (declared in the sweep file before any run)")[1]
    primary = primary.split("###")[0]
    [result] = made_up_summary.primaries()
    assert (f"`antlm` − `clm_only`, the mean of blimp_filtered, blimp_supplement under the "
            f"`causal` backend: **{result.interval.format()}** points (95% t-interval over 2 "
            f"paired seeds).") in primary
    assert f"Answer: {result.verdict}." in primary
    assert "| 1 | 51.00 | 53.50 | +2.50 |" in primary and "| 2 | 51.50 | 53.00 | +1.50 |" in primary
    assert text.index("### Primary endpoint") < text.index("### Macro-average")
    assert "Interim" not in primary  # smoke.yaml plans one seed; both arms have it


def test_a_primary_endpoint_short_of_its_planned_seeds_says_it_is_interim(made_up_summary):
    made_up_summary.sweep.spec.seeds = [1, 2, 3]
    text = render_markdown(made_up_summary)
    assert ("**Interim**: 2 of the 3 planned seeds are paired so far; the declared answer is "
            "the one over all of them.") in text


def test_one_paired_seed_gives_an_estimate_without_an_interval(made_up_summary):
    del made_up_summary.scores["antlm"][2]
    text = render_markdown(made_up_summary)
    assert "under the `causal` backend: **+2.50** points (one paired seed: no interval)." in text
    assert "Answer: none yet: an interval needs at least two paired seeds." in text


def test_a_scaled_paper_schedule_is_shown_rounded_not_as_its_exact_floats():
    """The study's sweep file spells 10 x 6/72 epochs exactly; tables show six digits."""
    sweep = load_sweep(CONFIGS / "sweeps" / "study-ltgbert.yaml")
    assert sweep.schedule("antlm") == "0.833333_CLM+8.33333_MLM+0.833333_CLM"
    assert sweep.plan("antlm").total_epochs == pytest.approx(10.0)


def test_several_endpoints_are_numbered_and_secondaries_listed_without_an_answer(made_up_summary):
    spec = made_up_summary.sweep.spec
    spec.primary.append(SweepPrimary(arm="antlm", backend="mlm", parts=["blimp_filtered"]))
    spec.secondary = [SweepComparison(arm="antlm", backend="declared",
                                      parts=["blimp_filtered", "blimp_supplement"])]
    text = render_markdown(made_up_summary)
    assert "### Primary endpoint 1 of 2" in text and "### Primary endpoint 2 of 2" in text
    assert "the mean of blimp_filtered under the `mlm` backend" in text
    secondary = text.split("### Secondary comparisons")[1].split("###")[0]
    [result] = made_up_summary.secondaries()
    assert (f"| `antlm` − `clm_only` | each arm's own declared backend (`antlm`: `causal`, "
            f"`clm_only`: `causal`) | blimp_filtered, "
            f"blimp_supplement | 2 | {result.interval.format()} |") in secondary
    assert "Answer" not in secondary
    assert text.index("### Secondary") < text.index("### Macro-average")
