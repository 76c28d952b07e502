"""The run directory under overlapping processes: results.json merges serialized, a run being
trained refused by every reader of its weights, scores of weights trained further refused."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from antlm.data.tokenizer import AntlmTokenizer
from antlm.eval.curves import evaluate_checkpoints
from antlm.eval.finetune import finetune_run
from antlm.eval.runner import evaluate_path
from antlm.eval.settings import EvaluationSettings
from antlm.eval.suites import DEFAULT_TIE_SEED, SUITES
from antlm.export.hf import export_run
from antlm.export.revisions import export_revisions
from antlm.locks import RunLock, RunLockedError
from antlm.rundir import RunDirError, RunPaths, load_run, merge_results
from tests.runs import make_run_dir

WRITERS, MERGES_EACH = 6, 15


def _merge_many(root: str, writer: int) -> None:
    paths = RunPaths(Path(root))
    for j in range(MERGES_EACH):
        merge_results(paths, {"glue": {f"w{writer}_{j}": {"accuracy": j}}})


def test_concurrent_merges_keep_every_result(tmp_path: Path) -> None:
    # Each writer reads, merges and rewrites the file; without the lock, two writers that read
    # the same version each drop the other's key (seen: about half the keys lost).
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_merge_many, args=(str(tmp_path), w)) for w in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(worker.exitcode == 0 for worker in workers)
    glue = json.loads((tmp_path / "results.json").read_text())["glue"]
    assert sorted(glue) == sorted(f"w{w}_{j}" for w in range(WRITERS) for j in range(MERGES_EACH))


def test_scores_of_weights_trained_further_are_not_recorded(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    paths.state.write_text(json.dumps({"step": 10}))
    merge_results(paths, {"glue": {"rte": 1}}, scored_step=10)
    before = paths.results.read_bytes()
    with pytest.raises(RunDirError, match=r"trained further .*step 5, now 10"):
        merge_results(paths, {"glue": {"mrpc": 2}}, scored_step=5)
    assert paths.results.read_bytes() == before


@pytest.fixture
def untrained_run(tmp_path: Path, tokenizers: dict[str, AntlmTokenizer]) -> Path:
    run = tmp_path / "run"
    make_run_dir(run, "babyllama", tokenizers["bpe"])
    (run / "state.json").write_text(json.dumps({"step": 7, "finished": True}))
    return run


def test_every_reader_of_the_weights_refuses_a_run_being_trained(
    untrained_run: Path, tmp_path: Path, data_dir: Path
) -> None:
    lock = RunLock(untrained_run)  # another process's trainer: a second open file holds the flock
    lock.acquire()
    try:
        readers = {
            "load": lambda: load_run(untrained_run),
            "eval": lambda: evaluate_path(untrained_run, ["word_order"], data_dir,
                                          settings=EvaluationSettings(progress=False)),
            "eval --checkpoints": lambda: evaluate_checkpoints(untrained_run, data_dir, progress=False),
            "finetune": lambda: finetune_run(untrained_run, ["rte"], data_dir, progress=False),
            "export": lambda: export_run(untrained_run, tmp_path / "hf"),
            "export --checkpoints": lambda: export_revisions(untrained_run, tmp_path / "repo"),
        }
        for read in readers.values():
            with pytest.raises(RunLockedError, match=rf"pid {os.getpid()}.*unfinished run"):
                read()
    finally:
        lock.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no output folder begun
    assert not (untrained_run / "results.json").exists()
    assert load_run(untrained_run).step == 7  # released: readable again


def test_an_evaluation_records_the_step_it_scored(untrained_run: Path, data_dir: Path) -> None:
    _, results = evaluate_path(untrained_run, ["word_order"], data_dir, SUITES["babylm2026"],
                               EvaluationSettings(max_pairs=2, progress=False))
    meta = results["zero_shot"]["babylm2026"]["meta"]
    assert meta["trained_step"] == 7
    assert (meta["tie_rule"], meta["tie_seed"]) == ("random", DEFAULT_TIE_SEED)
