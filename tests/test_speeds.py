"""Time estimates from the rates measured on this machine (antlm.speeds)."""

from __future__ import annotations

from pathlib import Path

from antlm.speeds import SPEEDS_FILE, Workload, estimate, format_duration, record_speed

WORK = Workload("train babyllama 1,000 parameters fp32 batch 8x32x1 on cpu, 2 threads", "steps")


def test_an_estimate_comes_from_the_rate_measured_here(tmp_path: Path) -> None:
    assert estimate(WORK, 100, tmp_path).startswith("time unknown: no speed measured")
    record_speed(WORK, 300, 60.0, tmp_path)  # 5 steps/s
    assert estimate(WORK, 3000, tmp_path).startswith("about 10 min at 5.00 steps/s (measured here")
    other = Workload(WORK.key.replace("fp32", "bf16"), "steps")  # other work: not estimated
    assert estimate(other, 3000, tmp_path).startswith("time unknown")


def test_short_work_says_nothing_of_a_rate(tmp_path: Path) -> None:
    record_speed(WORK, 10, 1.0, tmp_path)
    assert not (tmp_path / SPEEDS_FILE).exists()


def test_a_damaged_speeds_file_only_costs_the_estimate(tmp_path: Path) -> None:
    (tmp_path / SPEEDS_FILE).write_text("{not json")
    assert estimate(WORK, 10, tmp_path).startswith("time unknown")
    record_speed(WORK, 100, 10.0, tmp_path)  # replaced by a readable one
    assert "10.00 steps/s" in estimate(WORK, 10, tmp_path)


def test_durations_are_as_precise_as_an_estimate() -> None:
    assert [format_duration(s) for s in (45, 600, 5400, 12_000)] == ["45 s", "10 min", "1.5 h",
                                                                    "3.3 h"]


def test_work_never_measured_is_estimated_from_a_probe_and_only_then(tmp_path: Path) -> None:
    probed: list[int] = []

    def probe() -> tuple[float, float]:
        probed.append(1)
        return 50, 10.0  # 5 pairs/s

    pairs = Workload("score causal 1,000 parameters on cpu, 2 threads", "pairs")
    first = estimate(pairs, 3000, tmp_path, probe=probe)
    assert first.startswith("about 10 min at 5.00 pairs/s (a first estimate from 50 pairs")
    record_speed(pairs, 600, 60.0, tmp_path)  # 10 pairs/s measured: the probe is not run again
    assert estimate(pairs, 3000, tmp_path, probe=probe).startswith("about 5 min at 10.00")
    assert probed == [1]
