"""Run a sweep: train every (arm, seed), resume the interrupted, skip the finished, evaluate.

A sweep is a long study that outlives any one session, so every step is idempotent: a run whose
``state.json`` says finished is not trained again (unless its weights are gone before it was
evaluated: see ``weights_lost``), one with a checkpoint is resumed exactly, and evaluation is
skipped when ``results.json`` already holds results for the same evaluation settings. Killing a sweep at any point and starting it again loses at most one epoch of one run.

Several processes may work on one sweep at once (``antlm sweep`` started twice, or on another
machine sharing the directory): each claims a run for its whole training and evaluation
(``RUN/.sweep.lock``) and passes over runs another process has claimed, so they share the runs
without doing one twice. A process that finishes its own sweep can thus be pointed at another
sweep's root to help with what is left there.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import torch

from antlm.config import ConfigError
from antlm.locks import SWEEP_CLAIM_NAME, RunLock, RunLockedError
from antlm.rundir import (
    RunPaths,
    RunState,
    copy_dev_losses,
    list_checkpoints,
    merge_results,
    read_results,
    read_state,
)
from antlm.sweep.spec import Sweep, load_sweep, save_spec

SWEEP_LOG = "sweep.jsonl"  # one line per run an invocation finished: arm, seed, what, seconds


@dataclass(frozen=True)
class RunOutcome:
    arm: str
    seed: int
    run_dir: Path
    trained: bool  # trained (or resumed) in this invocation
    evaluated: bool  # evaluated in this invocation
    seconds: float
    claimed_by: str | None = None  # another process's pid: this one left the run to it


def run_one(
    sweep: Sweep, arm: str, seed: int, root: Path, data_dir: Path, train_only: bool = False
) -> RunOutcome:
    """Train (or resume) one run, then evaluate it (and score its learning curve, when the
    sweep asks for one) unless ``train_only``: a study can train everything first and be
    evaluated later, by the same command without the flag. A run another sweep process has
    claimed is left to it."""
    run_dir = sweep.run_dir(root, arm, seed)
    claim = RunLock(run_dir, SWEEP_CLAIM_NAME, activity="run by a sweep")
    try:
        claim.acquire()
    except RunLockedError:
        return RunOutcome(arm, seed, run_dir, False, False, 0.0, claimed_by=claim.holder())
    try:
        return _train_and_evaluate(sweep, arm, seed, run_dir, data_dir, train_only)
    finally:
        claim.release()


def _train_and_evaluate(
    sweep: Sweep, arm: str, seed: int, run_dir: Path, data_dir: Path, train_only: bool
) -> RunOutcome:
    from antlm.eval.runner import evaluate_path
    from antlm.eval.settings import EvaluationSettings
    from antlm.eval.suites import get_suite
    from antlm.train.trainer import train_run

    started = time.perf_counter()
    paths = RunPaths(run_dir)
    trained = evaluated = False
    state = read_state(paths)
    if weights_lost(sweep, paths, state):
        print(f"antlm sweep {sweep.name}: {arm} seed {seed} finished training but its weights "
              f"({paths.weights.name}) are gone and it is not evaluated: training it again",
              flush=True)
        train_run(sweep.configs[arm, seed], run_dir, data_dir, resume=False, progress=False)
        trained = True
    elif state is None or not state.finished:
        train_run(sweep.configs[arm, seed], run_dir, data_dir,
                  resume=paths.checkpoint.is_file(), progress=False)
        trained = True
    evaluation = sweep.spec.evaluation
    if not train_only and not sweep.is_evaluated(read_results(paths)):
        evaluate_path(run_dir, evaluation.tasks, data_dir, get_suite(evaluation.suite),
                      EvaluationSettings(backend=evaluation.backend,
                                         batch_size=evaluation.batch_size,
                                         max_pairs=evaluation.max_pairs, progress=False))
        if evaluation.glue_tasks:
            from antlm.eval.finetune import FinetuneConfig, finetune_run

            finetune_run(run_dir, evaluation.glue_tasks, data_dir, FinetuneConfig(
                epochs=evaluation.glue_epochs,
                max_train_examples=evaluation.glue_max_train_examples), progress=False)
        merge_results(paths, {"sweep": {"evaluation": sweep.evaluation_signature(),
                                        "arm": arm, "seed": seed,
                                        "sweep": sweep.name}})
        evaluated = True
    if not train_only:  # also for runs evaluated before sweeps copied them
        copy_dev_losses(paths)
    curves = sweep.spec.learning_curves
    if curves is not None and not train_only:
        if list_checkpoints(paths):
            from antlm.eval.curves import evaluate_checkpoints

            # Resumes: a revision already scored under these settings is not scored again.
            evaluate_checkpoints(run_dir, data_dir, backend=curves.backend, tasks=curves.tasks,
                                 max_pairs_per_subtask=curves.max_pairs,
                                 batch_size=evaluation.batch_size, suite=evaluation.suite,
                                 progress=False, aoa=curves.aoa)
        else:  # a study's committed records, on a clone without the (uncommitted) weights
            print(f"antlm sweep {sweep.name}: {arm} seed {seed}: the run has no milestone "
                  f"checkpoints, so no learning curve is scored (a curve already in "
                  f"{paths.learning_curve.name} is kept)", flush=True)
    return RunOutcome(arm, seed, run_dir, trained, evaluated, time.perf_counter() - started)


def weights_lost(sweep: Sweep, paths: RunPaths, state: RunState | None) -> bool:
    """Whether a run finished training but lost its weights before the sweep evaluated it
    (``state`` is its ``state.json``, already read by the caller).

    A checkout that keeps a study's small, committed-style records (``state.json``) but not its
    git-ignored weights and checkpoint leaves such a run: its state says finished, yet nothing
    can score it, so only training it again (deterministic from its seed) gives the evaluation
    its model. A run already evaluated needs no weights: its records are final.
    """
    return (state is not None and state.finished
            and not paths.weights.is_file() and not paths.checkpoint.is_file()
            and not sweep.is_evaluated(read_results(paths)))


def _run_in_worker(sweep_path: str, arm: str, seed: int, root: str, data_dir: str,
                   threads: int, train_only: bool) -> RunOutcome:
    torch.set_num_threads(threads)
    return run_one(load_sweep(sweep_path), arm, seed, Path(root), Path(data_dir), train_only)


def planned_runs(sweep: Sweep) -> list[tuple[str, int]]:
    """Seed-major order: every arm's first seed finishes before any arm's second, so a study
    stopped half-way still compares all arms."""
    return [(arm, seed) for seed in sweep.spec.seeds for arm in sweep.spec.arms]


def _record(root: Path, sweep: Sweep, outcome: RunOutcome) -> None:
    if outcome.claimed_by is not None:  # nothing done here: no line in the sweep's log
        print(f"antlm sweep {sweep.name}: {outcome.arm} seed {outcome.seed} left to process "
              f"{outcome.claimed_by}, which is running it", flush=True)
        return
    print(f"antlm sweep {sweep.name}: {outcome.arm} seed {outcome.seed} done "
          f"({'trained' if outcome.trained else 'already trained'}, "
          f"{'evaluated' if outcome.evaluated else 'already evaluated'}, "
          f"{outcome.seconds:,.0f} s)", flush=True)
    log = root / sweep.name / SWEEP_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write(json.dumps({"arm": outcome.arm, "seed": outcome.seed,
                                 "trained": outcome.trained, "evaluated": outcome.evaluated,
                                 "seconds": round(outcome.seconds, 1),
                                 "at": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n")


def _check_arms(sweep: Sweep, arms: list[str] | None) -> None:
    """Refuse an arm the sweep does not have before anything runs: a misspelt ``--arms`` would
    otherwise run nothing, or a subset the user did not ask for."""
    unknown = [arm for arm in arms or [] if arm not in sweep.spec.arms]
    if unknown:
        raise ConfigError(f"--arms: sweep {sweep.name} has no arm {', '.join(map(repr, unknown))}"
                          f"; its arms: {', '.join(sweep.spec.arms)}")


def run_sweep(
    sweep_path: Path, root: Path, data_dir: Path, jobs: int = 1,
    arms: list[str] | None = None, train_only: bool = False,
) -> list[RunOutcome]:
    sweep = load_sweep(sweep_path)
    _check_arms(sweep, arms)
    plan = [(a, s) for a, s in planned_runs(sweep) if not arms or a in arms]
    save_spec(sweep, root / sweep.name)
    print(f"antlm sweep {sweep.name}: {len(plan)} runs ({len(sweep.spec.arms)} arms x "
          f"{len(sweep.spec.seeds)} seeds) under {root / sweep.name}", flush=True)
    outcomes = []
    if jobs <= 1:
        for arm, seed in plan:
            outcome = run_one(sweep, arm, seed, root, data_dir, train_only)
            _record(root, sweep, outcome)
            outcomes.append(outcome)
        return outcomes
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_run_in_worker, str(sweep_path), arm, seed, str(root),
                               str(data_dir), threads, train_only) for arm, seed in plan]
        for future in as_completed(futures):
            outcome = future.result()
            _record(root, sweep, outcome)
            outcomes.append(outcome)
    return outcomes
