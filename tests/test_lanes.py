"""The fast lane (``make test-fast``, ``-m "not slow"``) holds no training and no Python
subprocess: tests/conftest.py refuses both in a test without the ``slow`` marker."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import SlowWorkInFastTest


def test_a_fast_test_cannot_start_python_or_train() -> None:
    from antlm.eval import finetune
    from antlm.train.trainer import StepRunner

    with pytest.raises(SlowWorkInFastTest, match="starts Python in a subprocess: mark it"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
    with pytest.raises(SlowWorkInFastTest, match="trains a model"):
        StepRunner.step(None, [], 0.0)
    with pytest.raises(SlowWorkInFastTest, match="fine-tunes a model"):
        finetune._train_epoch()
    assert subprocess.run(["true"], check=False).returncode == 0  # other programs may run


@pytest.mark.slow
def test_a_slow_test_may() -> None:
    done = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "42"

