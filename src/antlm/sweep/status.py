"""Where a sweep stands: which runs are done, which one is training, what is left.

A study outlives the session that starts it, so whoever picks it up needs to see its progress
without reading a score: a pre-registered analysis must not be peeked at before its runs are
complete. This module therefore reports only progress (``state.json``, the run's lock, whether
``results.json`` carries the sweep's evaluation mark, and the run times in ``sweep.jsonl``).
The one figure it derives from scores is the one a declared sample-size rule needs once every
planned seed of the compared arms is done: the width of the primary endpoint's interval, never
its centre.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from antlm.locks import SWEEP_CLAIM_NAME, RunLock
from antlm.rundir import RunPaths, RunState, read_results, read_state
from antlm.sweep.runner import SWEEP_LOG, planned_runs, weights_lost
from antlm.sweep.spec import Sweep
from antlm.sweep.summary import collect
from antlm.units import short_count


class Stage(Enum):
    DONE = "done"
    CURVE = "evaluated, scoring its learning curve"  # its records are not final yet
    EVALUATING = "trained, not evaluated"  # evaluation pending, running (with its process's
    # pid) or interrupted
    WEIGHTS_LOST = "trained, weights missing: the sweep trains it again"  # see weights_lost
    TRAINING = "training"  # a process holds the run's lock or its sweep claim now
    INTERRUPTED = "interrupted"  # has a checkpoint, nobody trains it: the sweep resumes it
    PENDING = "pending"


@dataclass(frozen=True)
class RunStatus:
    arm: str
    seed: int
    stage: Stage
    step: int
    total_steps: int | None
    words_seen: int
    worker_pid: str | None  # the process training or evaluating it, when one is

    @property
    def progress(self) -> str:
        if (self.stage in (Stage.DONE, Stage.CURVE, Stage.PENDING, Stage.WEIGHTS_LOST)
                or not self.total_steps):
            return ""
        return (f"saved at step {self.step:,} of {self.total_steps:,} "
                f"({self.step / self.total_steps:.0%})")


def run_status(sweep: Sweep, root: Path, arm: str, seed: int) -> RunStatus:
    paths = RunPaths(sweep.run_dir(root, arm, seed))
    state = read_state(paths)
    # The trainer's lock, else a sweep process's claim (held while it prepares or evaluates).
    holder = (RunLock(paths.root).holder()
              or RunLock(paths.root, SWEEP_CLAIM_NAME).holder())
    if weights_lost(sweep, paths, state):  # a process holding it is already training it again
        stage = Stage.TRAINING if holder is not None else Stage.WEIGHTS_LOST
    elif state is not None and state.finished:
        if not sweep.is_evaluated(read_results(paths)):
            stage = Stage.EVALUATING
        elif holder is not None and sweep.spec.learning_curves is not None:
            stage = Stage.CURVE
        else:
            stage = Stage.DONE
    elif holder is not None:
        stage = Stage.TRAINING
    elif paths.checkpoint.is_file():
        stage = Stage.INTERRUPTED
    else:
        stage = Stage.PENDING
    state = state or RunState()
    return RunStatus(arm, seed, stage, state.step, state.total_steps, state.words_seen or 0,
                     None if stage is Stage.DONE else holder)


def sweep_status(sweep: Sweep, root: Path) -> list[RunStatus]:
    """Every planned run's status, in the order the sweep runs them."""
    return [run_status(sweep, root, arm, seed) for arm, seed in planned_runs(sweep)]


def finished_run_seconds(sweep_dir: Path) -> list[float]:
    """From ``sweep.jsonl``, the wall time of every run that one invocation both trained and
    evaluated (a run resumed from a checkpoint counts with the part that invocation did; runs
    only evaluated, or found done, are left out)."""
    log = sweep_dir / SWEEP_LOG
    if not log.is_file():
        return []
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [r["seconds"] for r in records if r.get("trained") and r.get("evaluated")]


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def render_status(sweep: Sweep, root: Path) -> str:
    """A table of the runs and one line of what is left, with no score in it."""
    statuses = sweep_status(sweep, root)
    lines = [f"sweep {sweep.name} under {root / sweep.name}", "",
             "| arm | seed | stage | progress | words seen |", "|---|---|---|---|---|"]
    for s in statuses:
        stage = s.stage.value + (f" (pid {s.worker_pid})" if s.worker_pid else "")
        words = short_count(s.words_seen) if s.words_seen else ""
        lines.append(f"| {s.arm} | {s.seed} | {stage} | {s.progress} | {words} |")
    done = sum(s.stage is Stage.DONE for s in statuses)
    left = len(statuses) - done
    summary = f"{done} of {len(statuses)} runs done"
    seconds = finished_run_seconds(root / sweep.name)
    if left and seconds:
        pace = statistics.median(seconds)
        summary += (f"; a run trained and evaluated in one go took {_hours(pace)} (median of "
                    f"{len(seconds)}), so the {left} left need about {_hours(left * pace)} of "
                    f"one process (runs under way counted whole)")
    lines += ["", summary + "."]
    rule = primary_seed_rule(sweep, root, statuses)
    if rule:
        lines += ["", f"Primary endpoint, seeds: {rule}."]
    return "\n".join(lines)


def primary_seed_rule(sweep: Sweep, root: Path, statuses: list[RunStatus]) -> str | None:
    """The declared seed rule's decision for each primary endpoint whose planned seeds of both
    arms are done (None before, and for a sweep that declares no primary endpoint)."""
    rules = []
    named = len(sweep.spec.primary) > 1
    summary = None
    for primary in sweep.spec.primary:
        compared = {primary.arm, primary.baseline or sweep.spec.baseline}
        # A learning curve still being scored does not touch the primary endpoint.
        if any(s.stage not in (Stage.DONE, Stage.CURVE) for s in statuses if s.arm in compared):
            continue
        summary = summary or collect(sweep, root)
        rule = summary.compare(primary).seed_rule
        rules.append(f"{primary.arm}: {rule}" if named else rule)
    return "; ".join(rules) or None
