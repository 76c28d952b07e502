import io
import threading

import tqdm.std

from antlm.progress import LOG_INTERVAL_S, LossReading, progress_bar, training_label
from antlm.schedule import Phase


def test_a_log_gets_one_line_per_interval_however_often_the_postfix_changes(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(tqdm.std, "time", lambda: clock[0])  # tqdm's clock, advanced by hand
    log = io.StringIO()
    bar = progress_bar(total=1000, file=log, unit="step")
    for step in range(1000):
        clock[0] += 0.1  # 100 s in all
        bar.update(1)
        bar.set_postfix_str(f"loss {step}")
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) <= 100 / LOG_INTERVAL_S + 2  # the first draw, one per interval, the last
    assert lines[-1].startswith("100%") and "loss 999" in lines[-1]


def test_no_monitor_thread_watches_a_log_bar():
    """tqdm's monitor redraws a slow bar every 10 s whatever ``mininterval`` says (a log of
    ``make demo`` got a line every 10-20 s): no monitor may see a log's bar, not even one that
    another bar of the process started."""
    other = tqdm.std.tqdm(total=1, file=io.StringIO())  # starts tqdm's monitor thread
    bar = progress_bar(total=10, file=io.StringIO())
    monitors = [t for t in threading.enumerate() if isinstance(t, tqdm.std.TMonitor)]
    watched = [m for m in monitors if bar in m.tqdm_cls._instances]
    bar.close()
    other.close()
    assert monitors and not watched


def test_training_label_shows_the_current_phase_and_its_own_loss_only():
    # read in phase 2 (MLM) over a window that began in phase 1 (CLM): CLM's tail is left out
    reading = LossReading(phase=1, losses={"CLM": 7.726, "MLM": 6.365}, tokens_per_s=1234.0)
    label = training_label(1, 3, "MLM", ("MLM",), reading, "2.1M")
    assert label == "phase 2/3 MLM: MLM loss 6.365, 2.1M words 1,234 tok/s"
    # the first steps of phase 3 (CLM), before its first readback: no loss from phase 1 or 2
    label = training_label(2, 3, "CLM", ("CLM",), reading, "3.0M")
    assert label == "phase 3/3 CLM, 3.0M words 1,234 tok/s"
    assert training_label(0, 1, "CLM", ("CLM",), None, "0") == "phase 1/1 CLM, 0 words"


def test_a_mix_phase_shows_both_losses_it_trains():
    reading = LossReading(phase=0, losses={"CLM": 5.0, "MLM": 4.0}, tokens_per_s=10.0)
    assert Phase("MIX", 1, clm_weight=1, mlm_weight=15).trains == ("CLM", "MLM")
    assert Phase("MIX", 1, clm_weight=1, mlm_weight=0).trains == ("CLM",)
    label = training_label(0, 1, "MIX", ("CLM", "MLM"), reading, "1K")
    assert label.startswith("phase 1/1 MIX: CLM loss 5.000, MLM loss 4.000,")
