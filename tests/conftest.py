"""Shared fixtures: the real data directory and a really trained tiny run.

Tests run on the real BabyLM data (``ANTLM_DATA_DIR``, or ``../shared/data`` beside the repo).
Without it the data-dependent tests are skipped locally, but fail under CI, where a skipped
test would hide a broken set-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from antlm.data.tokenizer import AntlmTokenizer
from tests.runs import corpus_lines, make_exported_run

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

# Session fixtures that train a model: a test that uses one, directly or through another
# fixture, is slow whatever it does itself.
TRAINING_FIXTURES = frozenset({"tiny_run", "milestone_run", "ltgbert_run", "half_run",
                               "small_run", "straight_ddp_run", "pristine", "submitted_run"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs a trained model ``slow``, so that ``-m "not slow"`` (``make
    test-fast``) is the lane without training by construction, not by a list kept by hand."""
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


class SlowWorkInFastTest(Exception):
    """A test not marked ``slow`` tried to train or to start Python: mark it."""


@pytest.fixture(autouse=True)
def _fast_tests_stay_fast(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Hold a test without the ``slow`` marker to what the marker promises: it may not train a
    model (take an optimizer step of pre-training or fine-tuning) nor start a Python subprocess
    (a cold ``import torch`` alone costs seconds); a run refused before its first step is fast.
    The check sits on the three doors all such work goes through, so a new test that forgets
    the marker fails at once instead of slowing the fast lane."""
    if request.node.get_closest_marker("slow"):
        yield
        return
    from antlm.eval import finetune
    from antlm.train.trainer import StepRunner

    def refuse(what: str):
        def refused(*args, **kwargs):
            raise SlowWorkInFastTest(f"{request.node.nodeid} {what}: mark it @pytest.mark.slow")
        return refused

    monkeypatch.setattr(StepRunner, "step", refuse("trains a model"))
    monkeypatch.setattr(finetune, "_train_epoch", refuse("fine-tunes a model"))
    popen_init = subprocess.Popen.__init__

    def guarded_popen(self, args, *rest, **kwargs):
        program = args[0] if isinstance(args, (list, tuple)) else args
        if str(program) == sys.executable:
            refuse("starts Python in a subprocess")()
        popen_init(self, args, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", guarded_popen)
    yield


def _find_data_dir() -> Path | None:
    value = os.environ.get("ANTLM_DATA_DIR")
    candidates = [Path(value)] if value else [REPO.parent / "shared" / "data"]
    return next((p for p in candidates if p.is_dir()), None)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = _find_data_dir()
    if path is None:
        message = "no data directory: set ANTLM_DATA_DIR to the BabyLM data folder"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Token and tokenizer caches of the test session live in a temporary folder."""
    os.environ["ANTLM_CACHE_DIR"] = str(tmp_path_factory.mktemp("antlm-cache"))


@pytest.fixture(scope="session")
def tokenizers(data_dir: Path) -> dict[str, AntlmTokenizer]:
    """A BPE and a WordPiece tokenizer (1,000 entries) trained on real BabyLM text."""
    lines = corpus_lines(data_dir)
    return {kind: AntlmTokenizer.train(lines, kind, vocab_size=1000) for kind in ("bpe", "wordpiece")}


@pytest.fixture(scope="session")
def exported_runs(
    tokenizers: dict[str, AntlmTokenizer], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, Path]]:
    """Per architecture, a small perturbed run directory and its Hugging Face export (shared:
    a test that writes results copies the run first)."""
    kinds = {"babyllama": "bpe", "ltgbert": "wordpiece"}
    return {arch: make_exported_run(tmp_path_factory.mktemp(arch), arch, tokenizers[kind])
            for arch, kind in kinds.items()}


@pytest.fixture(scope="session")
def tiny_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """babyllama-tiny trained under ``1_CLM+1_MLM+1_CLM`` on 300k words of real BabyLM text
    (a few minutes on 2 cores) in fp32, the setting whose scores were measured (51.8% causal on
    all BLiMP-filtered pairs, 84.5% causal on :func:`word_order_pairs`); shared by the training
    and evaluation tests."""
    from antlm.config import load_config
    from antlm.train.trainer import train_run

    config = load_config(
        CONFIGS / "runs" / "demo.yaml",
        ["train.schedule=1_CLM+1_MLM+1_CLM", "train.precision=fp32", "name=tiny-test"],
    )
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    train_run(config, run_dir, data_dir, progress=False)
    return run_dir



@pytest.fixture(scope="session")
def milestone_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SMALL run (tests/runs.py) of ``1_CLM+1_MLM`` with four milestone checkpoints, two in
    each epoch (seconds); shared by the milestone, export and learning-curve tests."""
    from antlm.train.trainer import train_run
    from tests.runs import MILESTONE_RUN, small_config

    run_dir = tmp_path_factory.mktemp("milestones") / "straight"
    train_run(small_config(*MILESTONE_RUN), run_dir, data_dir, progress=False)
    return run_dir


def word_order_pairs(data_dir: Path, per_subtask: int = 5) -> list:
    """The ``word_order`` diagnostic on the first ``per_subtask`` sentences of each paradigm.

    Why not BLiMP itself: a tiny model trained for minutes is only a point or two above chance
    on BLiMP, so a BLiMP threshold that is safe from sampling noise still fails when another
    machine's floating-point kernels train a slightly different model. Word order is gross
    knowledge that even such a model has, so it checks with a wide margin that training worked
    and that a scorer reads it.
    """
    from antlm.eval.tasks import load_task

    return load_task("word_order", data_dir, per_subtask)
