import itertools

import pytest

from antlm.schedule import ScheduleError, format_plan, parse_schedule


def objectives(spec: str) -> list[tuple[str, float]]:
    return [(p.objective, p.epochs) for p in parse_schedule(spec).phases]


def test_simple_alternation():
    assert objectives("4_CLM+16_MLM+4_CLM") == [("CLM", 4), ("MLM", 16), ("CLM", 4)]
    assert parse_schedule("4_CLM+16_MLM+4_CLM").total_epochs == 24


def test_repetition_and_nesting_expand():
    assert objectives("(2_CLM+2_MLM)*3") == [("CLM", 2), ("MLM", 2)] * 3
    assert objectives("1_MLM+((1_CLM)*2+1_MLM)*2") == [
        ("MLM", 1), ("CLM", 1), ("CLM", 1), ("MLM", 1), ("CLM", 1), ("CLM", 1), ("MLM", 1)
    ]


def test_fractional_epochs_and_whitespace():
    assert objectives(" 0.5_CLM + 1.25_MLM ") == [("CLM", 0.5), ("MLM", 1.25)]


def test_mix_phase_weights():
    phase = parse_schedule("24_MIX(clm=1, mlm=15)").phases[0]
    assert phase.objective == "MIX" and phase.epochs == 24
    assert phase.mlm_fraction == pytest.approx(15 / 16)
    assert parse_schedule("2_MIX(mlm=3,clm=1)").phases[0].mlm_fraction == pytest.approx(0.75)


def test_steps_are_placed_without_rounding_drift():
    placed = parse_schedule("0.5_CLM+0.5_MLM+(0.25_CLM)*4").place(steps_per_epoch=7)
    assert placed[0].start_step == 0
    assert all(a.end_step == b.start_step for a, b in itertools.pairwise(placed))
    assert placed[-1].end_step == 14  # 2 epochs x 7 steps exactly
    assert "MIX" in format_plan(parse_schedule("1_MIX(clm=1,mlm=1)"), 10)


@pytest.mark.parametrize(
    ("spec", "position", "expected"),
    [
        ("4_CLM+16_MLX", 10, "an objective"),
        ("4_CLM+", 7, "a number of epochs"),
        ("(2_CLM+2_MLM)*", 15, "a repeat count"),
        ("(2_CLM+2_MLM)*0", 15, "a repeat count"),
        ("(2_CLM+2_MLM", 13, "')'"),
        ("4CLM", 2, "'_'"),
        ("0_CLM", 1, "a positive number of epochs"),
        ("2_MIX(clm=1)", 12, "both clm= and mlm="),
        ("2_MIX(clm=1,foo=2)", 13, "a MIX weight"),
        ("2_MIX(clm=0,mlm=0)", 17, "at least one positive"),
        ("4_CLM 4_MLM", 7, "'+' or the end"),
        ("", 1, "a phase"),
    ],
)
def test_bad_schedules_point_at_the_error(spec, position, expected):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(spec)
    message = str(info.value)
    assert f"position {position}:" in message
    assert expected in message
    caret_line = message.splitlines()[-1]
    assert caret_line.index("^") - 2 == position - 1


def test_phase_at_skips_phases_too_short_for_a_step():
    placed = parse_schedule("1_CLM+0.01_MLM+1_MIX(clm=1,mlm=1)").place(steps_per_epoch=10)
    assert [p.steps for p in placed] == [10, 0, 10]
    assert [placed.phase_at(s).index for s in (0, 9, 10, 19)] == [0, 0, 2, 2]
    assert placed.total_steps == 20
    for outside in (-1, 20):
        with pytest.raises(IndexError, match="outside the plan's 20 steps"):
            placed.phase_at(outside)


def test_proportions_scale_to_the_fractional_epoch_plan():
    paper = parse_schedule("4_CLM+16_MLM+4_CLM")
    scaled = paper.scaled(10)
    assert [p.objective for p in scaled.phases] == ["CLM", "MLM", "CLM"]
    assert [p.epochs for p in scaled.phases] == pytest.approx([40 / 24, 160 / 24, 40 / 24])
    assert scaled.canonical() == "1.66667_CLM+6.66667_MLM+1.66667_CLM"
    by_hand = parse_schedule("1.6667_CLM+6.6667_MLM+1.6667_CLM")
    for steps_per_epoch in range(1, 2001):
        expected = [(p.start_step, p.end_step) for p in by_hand.place(steps_per_epoch)]
        assert [(p.start_step, p.end_step) for p in scaled.place(steps_per_epoch)] == expected
    assert scaled.place(300).total_steps == 3000  # exactly 10 epochs
    assert paper.scaled(24).phases == paper.phases


def test_schedule_show_prints_the_scaled_plan_with_words(capsys):
    from antlm.cli import main

    main(["schedule", "show", "4_CLM+16_MLM+4_CLM", "--epochs", "10", "--words-per-epoch", "10M",
          "--steps-per-epoch", "600"])
    out = capsys.readouterr().out
    assert out.startswith("schedule 4_CLM+16_MLM+4_CLM scaled to 10 epochs: "
                          "1.66667_CLM+6.66667_MLM+1.66667_CLM  (10 epochs, 600 steps/epoch)")
    rows = out.splitlines()
    assert rows[2].split() == ["1", "CLM", "1.66667", "0", "1,000", "16,666,667", "16,666,667"]
    assert rows[3].split() == ["2", "MLM", "6.66667", "1.66667", "4,000", "66,666,666",
                               "83,333,333"]
    assert rows[-1].split() == ["total", "10", "100,000,000"]
