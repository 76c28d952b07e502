import io
import threading

import tqdm.std

from antlm.progress import LOG_INTERVAL_S, progress_bar


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
