"""DDP under torchrun computes what one process computes: 2 CPU processes over gloo, and 2 GPUs
over nccl where a machine has them.

The global batch is built identically on every rank and each rank takes its rows, with the loss
scaled by global token counts, so a 2-process run must match a 1-process run with the same
global batch up to float summation order (the gradient all-reduce adds the ranks' partial sums
in another order than one process's matmul does). Dropout is off here: each rank draws dropout
masks for its own rows from the same seed, so with dropout the two runs differ by design.

The gloo runs name ``train.device: cpu``: with ``auto``, a machine with one GPU would put
rank 1 on a ``cuda:1`` it does not have.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from antlm.rundir import MetricRecord, RunPaths, read_metrics, read_state
from antlm.train.trainer import train_run
from tests.conftest import REPO
from tests.devices import CUDA_RERUN_ATOL, needs_two_gpus
from tests.runs import small_config

pytestmark = pytest.mark.device

# About 18 CLM then 18 MLM steps of 8 rows (4 per rank), with a dev check after each phase.
OVERRIDES = ("train.schedule=0.25_CLM+0.25_MLM", "model.dropout=0.0")
# DDP against one process. On the CPU only the summation order differs: 1e-5. On GPUs, fp32
# matmuls run as TF32, whose rounding depends on the kernel, which depends on the rows per
# process: 1e-3, still far below the ~1 the losses move over the run.
TOLERANCE = {"cpu": 1e-5, "cuda": 1e-3}


def torchrun(config_path: Path, out: Path, data_dir: Path, *extra: str) -> None:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", "-m", "antlm", "train", str(config_path),
               "--out", str(out), "--data-dir", str(data_dir), "--no-progress", *extra]
    done = subprocess.run(command, check=False, cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def dev_records(run: Path) -> list[MetricRecord]:
    return [r for r in read_metrics(RunPaths(run)) if r.event == "dev"]


@pytest.fixture(scope="module", params=[pytest.param("cpu", id="gloo"),
                                        pytest.param("cuda", id="nccl", marks=needs_two_gpus)])
def ddp_config(request, tmp_path_factory: pytest.TempPathFactory):
    config = small_config(*OVERRIDES, f"train.device={request.param}")
    path = tmp_path_factory.mktemp("ddp") / "config.yaml"
    path.write_text(config.to_yaml())
    return config, path


@pytest.fixture(scope="module")
def straight_ddp_run(ddp_config, data_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ddp-runs") / "straight"
    torchrun(ddp_config[1], out, data_dir)
    return out


def test_two_processes_match_one_process(ddp_config, straight_ddp_run, data_dir, tmp_path):
    config, _ = ddp_config
    tolerance = TOLERANCE[config.train.device]
    single = tmp_path / "single"
    train_run(config, single, data_dir, progress=False)
    one, two = dev_records(single), dev_records(straight_ddp_run)
    assert [r.step for r in one] == [r.step for r in two]
    assert len(one) == 2
    for a, b in zip(one, two, strict=True):
        for objective in ("CLM", "MLM"):
            assert b.dev_losses[objective] == pytest.approx(
                a.dev_losses[objective], abs=tolerance), (a.step, objective)
    start = read_metrics(RunPaths(straight_ddp_run))[0]
    assert start.world_size == 2
    a = load_file(single / "model.safetensors")
    b = load_file(straight_ddp_run / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(b[name], a[name], atol=tolerance, rtol=0, msg=name)
    # The logged training loss covers both ranks' rows (it is all-reduced), as one process's.
    train_one = [r for r in read_metrics(RunPaths(single)) if r.event == "train"]
    train_two = [r for r in read_metrics(RunPaths(straight_ddp_run)) if r.event == "train"]
    assert train_one and [r.step for r in train_one] == [r.step for r in train_two]
    for x, y in zip(train_one, train_two, strict=True):
        for objective, loss in x.losses.items():
            assert y.losses[objective] == pytest.approx(loss, abs=10 * tolerance), (
                x.step, objective)


def test_ddp_resume_equals_the_straight_ddp_run(ddp_config, straight_ddp_run, data_dir, tmp_path):
    config, config_path = ddp_config
    resumed = tmp_path / "resumed"
    torchrun(config_path, resumed, data_dir, "--stop-after-epochs", "0.25")
    assert not read_state(RunPaths(resumed)).finished
    torchrun(config_path, resumed, data_dir, "--resume")
    assert read_state(RunPaths(resumed)).finished
    a = load_file(straight_ddp_run / "model.safetensors")
    b = load_file(resumed / "model.safetensors")
    for name in a:
        if config.train.device == "cpu":
            assert torch.equal(a[name], b[name]), name
        else:  # see tests/devices.py
            torch.testing.assert_close(b[name], a[name], atol=CUDA_RERUN_ATOL, rtol=0, msg=name)
    steps = [r.step for r in dev_records(resumed)]
    assert steps == [r.step for r in dev_records(straight_ddp_run)]
