"""Faults a run must survive: ``kill -9`` at any moment (during a checkpoint write too), a
full disk while checkpointing, and a second trainer on the same run directory."""

from __future__ import annotations

import errno
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from antlm.rundir import RunPaths, read_state
from antlm.train.trainer import TrainingError, train_run
from tests.cli import antlm, assert_user_error, cli_env
from tests.conftest import REPO
from tests.devices import assert_same_weights
from tests.runs import small_config

# The command, with os.replace stopping (a marker file written, then asleep) when it is about to
# rename the N-th checkpoint.pt into place: the temporary file is written, the rename not done.
STALLED_CHECKPOINT = """
import os, sys, time
from antlm.cli import main
real, count = os.replace, [0]
def replace(src, dst, *args, **kwargs):
    if os.path.basename(str(dst)) == "checkpoint.pt":
        count[0] += 1
        if count[0] == int(os.environ["STALL_AT"]):
            open(os.environ["STALL_MARK"], "w").close()
            time.sleep(600)
    return real(src, dst, *args, **kwargs)
os.replace = replace
main(sys.argv[1:])
"""


def _start(code: list[str], args: list[str | Path], **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *code, *map(str, args)], cwd=REPO,
                            env=cli_env(**env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_for(condition, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the process ended before the awaited moment"
        assert time.monotonic() < deadline, "the awaited moment never came"
        time.sleep(0.05)


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.slow
@pytest.mark.device
def test_sigkill_at_random_moments_resumes_to_the_uninterrupted_weights(tmp_path, data_dir):
    config = tmp_path / "config.yaml"
    config.write_text(small_config("train.schedule=1_CLM+1_MLM+1_CLM").to_yaml())
    common = ["--data-dir", data_dir, "--no-progress"]
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert antlm("train", config, "--out", straight, *common).returncode == 0
    train = ["-m", "antlm", "train"]

    # 1. killed while writing its second checkpoint: the first one must stay intact
    mark = tmp_path / "stalled"
    process = _start(["-c", STALLED_CHECKPOINT], ["train", config, "--out", killed, *common],
                     STALL_AT="2", STALL_MARK=str(mark))
    _wait_for(mark.exists, process)
    _kill(process)
    assert list(killed.glob(".checkpoint.pt.*.tmp"))  # killed mid-write indeed
    # 2. then at a random moment of the resumed run, until it finishes
    seed = random.randrange(10**6)
    moments = random.Random(seed)
    for attempt in range(10):
        if read_state(RunPaths(killed)).finished:
            break
        process = _start(train, ["--resume", "--out", killed, *common])
        if attempt < 2:
            time.sleep(moments.uniform(0.5, 6.0))
            _kill(process)
        else:
            assert process.wait() == 0
    assert read_state(RunPaths(killed)).finished, f"seed {seed}"
    assert_same_weights(load_file(straight / "model.safetensors"),
                        load_file(killed / "model.safetensors"))


@pytest.mark.slow
def test_a_full_disk_while_checkpointing_keeps_the_last_checkpoint(tmp_path, data_dir,
                                                                   monkeypatch):
    run = tmp_path / "run"
    config = small_config("train.schedule=2_CLM")
    train_run(config, run, data_dir, stop_after_epochs=1, progress=False)
    checkpoint, step = (run / "checkpoint.pt").read_bytes(), read_state(RunPaths(run)).step

    def disk_full(obj, path):
        Path(path).write_bytes(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("antlm.train.checkpoint.torch.save", disk_full)
    with pytest.raises(TrainingError, match=rf"No space left on device.*last good checkpoint "
                                            rf"\(step {step}\) is kept.*--resume"):
        train_run(config, run, data_dir, resume=True, progress=False)
    assert (run / "checkpoint.pt").read_bytes() == checkpoint
    assert not list(run.glob(".*.tmp"))


@pytest.mark.slow
def test_a_second_trainer_on_the_same_run_is_refused(tmp_path, data_dir):
    config = tmp_path / "config.yaml"
    config.write_text(small_config("train.schedule=100_CLM").to_yaml())
    run = tmp_path / "run"
    first = _start(["-m", "antlm", "train"], [config, "--out", run, "--data-dir", data_dir,
                                              "--no-progress"])
    try:
        _wait_for(lambda: (run / "metrics.jsonl").is_file(), first)
        second = antlm("train", config, "--out", run, "--data-dir", data_dir, "--no-progress")
        assert_user_error(second, f"{run} is being trained by another process (pid "
                                  f"{first.pid}")
    finally:
        _kill(first)
