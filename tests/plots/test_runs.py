"""``antlm plot``: a real run's dev losses become a PNG; runs with other phases get strips."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from antlm.cli import main
from antlm.locks import RunLock
from antlm.plots.runs import _label, dev_curve, differ_in_length, plot_runs, trained_loss_limits
from antlm.rundir import MetricRecord, RunDirError, RunPaths, read_metrics
from tests.cli import assert_refused


def _swapped_phases(run: Path, out: Path) -> Path:
    """A copy of ``run``'s records whose phases train the other objective."""
    records = [r.to_json() for r in read_metrics(RunPaths(run))]
    for phase in records[0]["phases"]:
        phase["objective"] = {"CLM": "MLM", "MLM": "CLM"}[phase["objective"]]
    out.mkdir()
    (out / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return out


def test_plot_of_a_real_run(milestone_run: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    curve = dev_curve(RunPaths(milestone_run))
    assert curve["CLM"][0][0] == 0  # the untrained model first
    assert len(curve["CLM"]) == len(curve["MLM"]) >= 3
    main(["plot", str(milestone_run), "--out", str(tmp_path / "one.png")])
    assert f"wrote {tmp_path / 'one.png'}" in capsys.readouterr().out
    assert (tmp_path / "one.png").read_bytes()[:4] == b"\x89PNG"
    other = _swapped_phases(milestone_run, tmp_path / "other")
    two = plot_runs([milestone_run, other], tmp_path / "two.png")
    assert two.stat().st_size > (tmp_path / "one.png").stat().st_size / 2


def test_a_folder_without_dev_losses_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no dev losses"):
        plot_runs([tmp_path])


def test_a_run_being_trained_is_labelled_so(tmp_path: Path) -> None:
    lock = RunLock(tmp_path)
    lock.acquire()
    try:
        assert _label(RunPaths(tmp_path)) == f"{tmp_path.name} (being trained, pid {os.getpid()}: so far)"
    finally:
        lock.release()
    assert _label(RunPaths(tmp_path)) == tmp_path.name


@pytest.mark.parametrize("name", ["dev.xyz", "dev"])
def test_a_format_matplotlib_cannot_write_is_refused_before_any_work(name, tmp_path, capsys):
    """Checked before the runs are read: the run given here does not even exist."""
    import antlm
    from antlm.plots import FigurePathError

    out = tmp_path / name
    with pytest.raises(FigurePathError, match=rf"{out}: matplotlib cannot write .*; end the name "
                                              r"in one of .*\.pdf, .*\.png, .*\.svg"):
        antlm.plot(tmp_path / "no-run", out)
    err = assert_refused(capsys, "plot", tmp_path / "no-run", "--out", out)
    assert "matplotlib cannot write" in err and ".png" in err
    assert not any(tmp_path.iterdir())


def _record(step: int, epoch: float, clm: float, mlm: float) -> MetricRecord:
    return MetricRecord("dev", step, epoch, dev_losses={"CLM": clm, "MLM": mlm})


def test_the_y_range_comes_from_the_losses_after_the_first_epoch():
    records = [_record(0, 0.0, 9.0, 9.1), _record(5, 0.5, 6.0, 7.0),
               _record(10, 1.0, 4.0, 5.0), _record(20, 2.0, 3.0, 4.5)]
    # the span 3.0-5.0, widened by 5% of 2.0 on each side; 9 and 6 nats stay out
    assert trained_loss_limits(records) == pytest.approx((2.9, 5.1))
    assert trained_loss_limits(records, ["CLM"]) == pytest.approx((2.95, 4.05))


def test_a_run_shorter_than_an_epoch_takes_its_range_from_every_point_after_step_0():
    records = [_record(0, 0.0, 9.0, 9.0), _record(3, 0.3, 6.0, 6.0), _record(6, 0.6, 5.0, 5.0)]
    assert trained_loss_limits(records) == pytest.approx((4.95, 6.05))
    assert trained_loss_limits(records[:1]) is None  # nothing trained: matplotlib's range


def test_only_runs_of_different_lengths_get_a_log_axis():
    assert differ_in_length([1_000_000, 3_800_000])
    assert not differ_in_length([3_800_000, 3_801_000])
    assert not differ_in_length([3_800_000])
