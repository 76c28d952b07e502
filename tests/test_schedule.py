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
