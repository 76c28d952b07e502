import io

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
