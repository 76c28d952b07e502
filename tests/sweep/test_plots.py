"""The sweep figures: the forest plot draws the report's paired intervals, and score axes fit
the values and show chance."""

import pytest

from antlm.sweep.plots import (
    BACKEND_FREE,
    forest_rows,
    plot,
    plot_forest,
    plot_primary,
    score_limits,
    seed_labels,
)
from antlm.sweep.spec import SweepPrimary
from antlm.sweep.stats import paired_interval


def test_forest_rows_are_the_paired_intervals_of_the_summary(made_up_summary):
    rows = forest_rows(made_up_summary)
    assert {(r.part, r.backend) for r in rows} == {
        ("blimp_filtered", "causal"), ("blimp_filtered", "mlm"),
        ("blimp_supplement", "causal"), ("blimp_supplement", "mlm"),
        ("glue", None),  # fine-tuned: one row, not one per backend
        ("macro", "causal"), ("macro", "mlm")}
    assert {r.arm for r in rows} == {"antlm"}  # the baseline is the zero line
    base = made_up_summary.scores["clm_only"]
    mine = made_up_summary.scores["antlm"]
    for row in rows:
        backend = row.backend or made_up_summary.backends[0]
        expected = paired_interval([mine[s][backend][row.part] - base[s][backend][row.part]
                                    for s in (1, 2)])
        assert row.delta.mean == pytest.approx(expected.mean)
        assert (row.delta.low, row.delta.high) == pytest.approx((expected.low, expected.high))
        assert row.seeds == 2
    assert all(r.backend is None for r in rows if r.part in BACKEND_FREE)


def test_forest_plot_and_the_others_are_written(made_up_summary, tmp_path):
    forest = plot_forest(made_up_summary, forest_rows(made_up_summary), tmp_path)
    assert forest.name == "smoke-forest.png" and forest.read_bytes()[:4] == b"\x89PNG"
    macro = [p for p in plot(made_up_summary, tmp_path / "all") if p.name == "smoke-macro.png"]
    assert macro and macro[0].read_bytes()[:4] == b"\x89PNG"
    del made_up_summary.scores["antlm"][2]  # one paired seed: markers without an interval
    rows = forest_rows(made_up_summary)
    assert all(r.seeds == 1 and r.delta.low is None for r in rows)
    assert plot_forest(made_up_summary, rows, tmp_path / "all").read_bytes()[:4] == b"\x89PNG"


def test_score_axis_fits_the_values_and_keeps_chance_in_view():
    low, high = score_limits([52.0, 55.0, 58.0])
    assert 45 < low < 50 and 58 < high < 65  # not 0-100: a point's difference stays visible
    assert score_limits([0.5, 99.9]) == (0.0, 100.0)


def test_primary_plot_is_drawn_once_both_arms_share_a_seed(made_up_summary, tmp_path):
    names = [p.name for p in plot(made_up_summary, tmp_path)]
    assert "smoke-primary.png" in names
    [result] = made_up_summary.primaries()
    assert plot_primary(made_up_summary, result, tmp_path).read_bytes()[:4] == b"\x89PNG"
    made_up_summary.sweep.spec.primary.append(
        SweepPrimary(arm="antlm", backend="mlm", parts=["blimp_filtered"]))
    names = [p.name for p in plot(made_up_summary, tmp_path / "two")]
    assert "smoke-primary.png" in names and "smoke-primary-antlm-mlm.png" in names
    made_up_summary.scores["antlm"] = {}  # nothing paired yet: no figure rather than an empty one
    names = [p.name for p in plot(made_up_summary, tmp_path / "none")]
    assert names == ["smoke-dev-loss.png", "smoke-macro.png"]


def test_seed_labels_merge_points_too_close_to_read_apart():
    """The LTG-BERT study's antlm values: seeds 4, 6 and 8 lie within 0.06 points, 2 and 5 tie."""
    values = [52.81, 52.46, 52.21, 50.71, 52.46, 50.77, 51.45, 50.74]
    labels = seed_labels(values, [1, 2, 3, 4, 5, 6, 7, 8])
    assert [text for _, text in labels] == ["seeds 4, 6, 8", "seed 7", "seed 3", "seeds 2, 5",
                                            "seed 1"]
    assert labels[0][0] == pytest.approx((50.71 + 50.74 + 50.77) / 3)
    assert seed_labels([], []) == []
