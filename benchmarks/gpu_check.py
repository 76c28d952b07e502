"""``make gpu-check``: what a session with a GPU runs, in one command with a wall-clock budget.

GPU time is short, so this runs everything a GPU can tell us in one go and cannot overrun:
every stage is a subprocess with a time limit, a failing stage is recorded and the next one
runs, and the report is rewritten after each stage, so whatever finished is on disk even if
the command is killed. Stages, in order:

1. ``tests``: ``pytest -m device -v`` on an explicit list of the tests whose behaviour depends on
   the device (sized to its limit), on CUDA; each finished test is a line of ``tests.jsonl`` at
   once (``benchmarks/pytest_progress.py``), so a cut keeps what ran;
2. ``memory``: the LTG-BERT preset's micro-batch, activation estimate beside the measured peak
   (``benchmarks/memory_peak.py``);
3. ``speed``: ``benchmarks/train_speed.py --shape 58m``, tokens/s and MFU against the bf16
   matmul peak measured in the same run;
4. ``headline``: BabyLlama-58M, CLM-only against AntLM in the paper's 4:16:4 proportions, on all
   the training words in the data folder, both scored causal on every pair of BLiMP-filtered,
   the BLiMP supplement and EWoK, through ``antlm sweep`` and ``antlm report``, in pairs: seed 1's
   two arms, reported and archived, then seed 2's, ... while another pair fits. The epochs are
   sized from the measured speed so that the first pair's training, evaluation and report fit
   with a margin (:func:`plan_epochs`); a cut loses at most the pair in progress.

Before any stage: which compiler ``torch.compile`` would use (Triton's C compiler on CUDA,
inductor's C++ one on the CPU); without one it fails at the first call, so then speed and
headline run eagerly and the report says so.

Written to ``--out`` (at most these six files, for a machine that returns few): ``GPU.md`` (the
tables), ``gpu-check.json`` (every figure), ``log.txt`` (all output), ``tests.jsonl``,
``speed-58m.json`` and ``headline.tar.gz`` (the sweep summary and every finished pair's configs,
metrics and results, no weights). Large files (weights, caches) go to ``--work``, inside the tree
(``.gpu/work``): the folder around ``--out`` may be read-only.

``--size tiny`` runs the same stages at a CPU size (the dry run, a few minutes on 2 cores).

    python benchmarks/gpu_check.py [--size full|tiny] [--out DIR] [--work DIR] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PAPER_EPOCHS = 24.0
EPOCH_QUANTUM = 1.5  # AntLM's 1:4:1 phases of 1.5 epochs: 0.25 CLM, 1 MLM, 0.25 CLM
ZERO_SHOT = ["blimp_filtered", "blimp_supplement", "ewok"]
# The device tests the full check runs (``-m device`` within them), sized to its 150 s: not
# tests/train/test_distributed.py (DDP: cold 2-process start-ups, NCCL needs 2 GPUs) nor
# tests/train/test_faults.py (kills and restarts subprocesses in loops), which the CPU suite runs.
DEVICE_TESTS = ["tests/test_device.py", "tests/models/test_attention.py",
                "tests/train/test_checkpoint.py", "tests/train/test_fast_paths.py",
                "tests/train/test_trainer.py"]
PAIR_MARGIN = 1.25  # a pair is started only if this many times its predicted cost fits
FINAL_REPORT_S = 15  # the last GPU.md and gpu-check.json
# Every run of the check: no milestone weights, a checkpoint only at each run's end.
NO_CHECKPOINTS = {"train.checkpoint_words": None, "train.checkpoint_epochs": False}


@dataclass(frozen=True)
class Size:
    """Everything that differs between the GPU run and its CPU dry run."""

    deadline_s: float  # the whole command, from start to the last report
    timeouts: dict[str, float]  # per stage (the headline's is the time left)
    tests: list[str]  # pytest arguments after ``-m device -v``
    memory: list[str]  # benchmarks/memory_peak.py arguments
    speed: list[str]  # benchmarks/train_speed.py arguments
    headline_base: str  # the run config both arms start from
    headline_set: dict[str, object]
    run_overhead_s: float  # a run's start, compilation and evaluation: not training
    report_s: float  # ``antlm report`` and the archive, after each pair
    max_epochs: float
    max_seeds: int  # pairs after the first are added while one fits
    max_pairs: int | None  # per zero-shot subtask; None = every pair
    eval_batch_size: int


SIZES = {
    # One H100/H200: about 8 minutes in all. The arithmetic is in docs/GPU.md.
    "full": Size(
        deadline_s=450, timeouts={"tests": 150, "memory": 90, "speed": 150},
        tests=DEVICE_TESTS,
        memory=["configs/runs/ltgbert-antlm.yaml"],
        speed=["--shape", "58m", "--steps", "60"],
        headline_base="configs/runs/babyllama-antlm.yaml",
        headline_set={"data.corpora": ["babylm_10M", "babylm_2023_partial"],
                      "data.max_words": None, **NO_CHECKPOINTS},
        run_overhead_s=45, report_s=20, max_epochs=PAPER_EPOCHS, max_seeds=5,
        max_pairs=None, eval_batch_size=256,
    ),
    # The dry run on 2 CPU cores: the same stages on tiny models and a few thousand words; the
    # tests are a quick subset (the full CPU suite runs all of them).
    "tiny": Size(
        deadline_s=900, timeouts={"tests": 300, "memory": 180, "speed": 300},
        tests=["tests/test_device.py", "tests/train/test_checkpoint.py",
               "tests/train/test_compile_errors.py", "tests/models/test_attention.py"],
        memory=["configs/runs/ltgbert-antlm-tiny.yaml", "--set", "train.batch_size=8",
                "--set", "train.grad_accum=2"],
        speed=["--steps", "2", "--chunk", "1", "--warmup", "0", "--batch-size", "4",
               "--seq-len", "32", "--vocab", "1000", "--max-words", "10000", "--no-compile"],
        headline_base="configs/runs/babyllama-antlm-tiny.yaml",
        headline_set={"data.max_words": 10000, "data.dev_max_words": 3000,
                      "tokenizer.vocab_size": 1000, "model.vocab_size": 1000,
                      "model.hidden_size": 64, "model.num_layers": 2, "model.num_heads": 2,
                      "model.ffn_size": 128, "model.max_seq_len": 64, "train.batch_size": 8,
                      "train.dev_max_blocks": 8, **NO_CHECKPOINTS},
        run_overhead_s=60, report_s=40, max_epochs=EPOCH_QUANTUM, max_seeds=2,
        max_pairs=2, eval_batch_size=64,
    ),
}


@dataclass
class StageResult:
    status: str  # passed, failed, timed out, skipped
    seconds: float
    command: str = ""
    details: dict = field(default_factory=dict)


class Check:
    """The run: its clock, log, environment and results; writes the report after each stage."""

    def __init__(self, size: str, out: Path, work: Path, data_dir: Path,
                 deadline_s: float | None = None) -> None:
        self.size_name, self.size = size, SIZES[size]
        self.deadline_s = deadline_s or self.size.deadline_s
        self.out, self.work, self.data_dir = out, work, data_dir
        self.started = time.monotonic()
        out.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        self.log = (out / "log.txt").open("a", buffering=1)
        self.stages: dict[str, StageResult] = {}
        self.speed: dict | None = None  # train_speed.py's result, which sizes the headline
        self.compiler = c_compiler()  # None: torch.compile cannot build kernels here
        self.env = {**os.environ, "ANTLM_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1",
                    "ANTLM_CACHE_DIR": str(work / "cache")}
        self.env.pop("CI", None)  # a missing data folder should skip, not fail, here
        os.environ.update(ANTLM_CACHE_DIR=self.env["ANTLM_CACHE_DIR"])

    def left(self) -> float:
        return self.deadline_s - (time.monotonic() - self.started)

    def say(self, text: str) -> None:
        print(text, flush=True)
        self.log.write(text + "\n")

    def run(self, command: list[str], timeout: float) -> tuple[str, int | None]:
        """Run ``command`` in its own process group, its output into the log and stdout;
        on timeout the whole group (torchrun's or the sweep's children too) is killed."""
        self.say(f"$ {shlex.join(command)}   (limit {timeout:.0f} s)")
        process = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace",
                                   start_new_session=True)
        pump = threading.Thread(target=self._pump, args=(process.stdout,), daemon=True)
        pump.start()
        code = None
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:  # also when this process is interrupted: leave nothing running
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            pump.join(timeout=5)
        if code is None:
            return "timed out", None
        return ("passed" if code == 0 else "failed"), code

    def _pump(self, stream) -> None:
        for line in stream:
            sys.stdout.write(line)
            sys.stdout.flush()
            self.log.write(line)

    def stage(self, name: str, command: list[str], timeout: float, **details) -> StageResult:
        timeout = min(timeout, self.left())
        if timeout < 5:
            result = StageResult("skipped", 0.0, shlex.join(command), {"why": "no time left"})
        else:
            began = time.monotonic()
            status, code = self.run(command, timeout)
            result = StageResult(status, time.monotonic() - began, shlex.join(command),
                                 {"returncode": code, **details})
        self.stages[name] = result
        self.say(f"== {name}: {result.status} ({result.seconds:.0f} s)")
        return result


def c_compiler(cuda: bool | None = None) -> str | None:
    """The compiler ``torch.compile`` would build with: on CUDA, Triton's C compiler for its
    launchers (``CC``, else ``cc``, ``gcc``, ``clang``); on the CPU, inductor's C++ compiler
    (``CXX``, else ``c++``, ``g++``, ``clang++``). Without it the first compiled call fails, so
    the check must know before it plans on compiling."""
    if cuda is None:
        import torch

        cuda = torch.cuda.is_available()
    names = ("CC", "cc", "gcc", "clang") if cuda else ("CXX", "c++", "g++", "clang++")
    for name in (os.environ.get(names[0]), *names[1:]):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


# ---------------------------------------------------------------------------- stages
def python() -> list[str]:
    return [sys.executable]


def run_tests(check: Check) -> None:
    """The device tests, one ``-v`` line each as it ends and one ``tests.jsonl`` line each."""
    progress = check.out / "tests.jsonl"
    progress.unlink(missing_ok=True)
    check.env.update(PYTEST_PROGRESS=str(progress), PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO / "benchmarks"), check.env.get("PYTHONPATH", "")) if p))
    args = ["-m", "pytest", "-m", "device", "-v", "-rfEs", "-p", "no:cacheprovider",
            "-p", "pytest_progress", *check.size.tests]
    if check.size.tests != DEVICE_TESTS:  # a smaller list: the full one must still collect
        check.stage("tests collect", [*python(), "-m", "pytest", "-m", "device", "-q",
                                      "--collect-only", "-p", "no:cacheprovider", *DEVICE_TESTS],
                    check.size.timeouts["tests"])
    result = check.stage("tests", [*python(), *args], check.size.timeouts["tests"])
    result.details.update(test_counts(progress))


def test_counts(path: Path) -> dict:
    """Passed/failed/skipped counts and the failing test ids from ``tests.jsonl``: whatever
    finished, also when the stage was cut."""
    if not path.is_file():
        return {}
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    failed = [f"{r['test']}: {r.get('message', '')}" for r in lines if r["outcome"] == "failed"]
    skipped = sum(r["outcome"] == "skipped" for r in lines)
    return {"tests": len(lines), "failed": len(failed), "skipped": skipped,
            "passed": len(lines) - len(failed) - skipped, "failures": failed}


def run_memory(check: Check) -> None:
    path = check.work / "memory.json"
    result = check.stage("memory", [*python(), "benchmarks/memory_peak.py", *check.size.memory,
                                    "--json", str(path)], check.size.timeouts["memory"])
    if path.is_file():
        result.details["result"] = json.loads(path.read_text())


def run_speed(check: Check) -> None:
    path = check.out / "speed-58m.json"
    result = check.stage("speed", [*python(), "benchmarks/train_speed.py", *speed_args(check),
                                   "--json", str(path)], check.size.timeouts["speed"])
    if not path.is_file():
        return
    check.speed = speed = json.loads(path.read_text())
    antlm = speed["systems"]["antlm"]
    result.details.update(tokens_per_s=antlm["tokens_per_s"],
                          mfu_vs_bf16_peak=antlm["mfu_vs_bf16_peak"],
                          peak_flops=speed["peak_flops"], flops_per_token=speed["flops_per_token"],
                          vs_baseline=antlm["ratio_vs_last"]["both"] if len(speed["systems"]) > 1
                          else None, device=speed["machine"]["device"],
                          gpu=speed["machine"]["gpu"])


def speed_args(check: Check) -> list[str]:
    """The size's train_speed.py arguments, eager where no compiler is found."""
    args = list(check.size.speed)
    if check.compiler is None and "--no-compile" not in args:
        args.append("--no-compile")
    return args


def plan_epochs(tokens_per_epoch: int, tokens_per_s: dict[str, float], seconds: float,
                max_epochs: float, per_epoch_overhead_s: float = 1.0) -> dict:
    """How many epochs both arms train so that one pair's training (CLM-only, then AntLM) fits
    in ``seconds``. Epochs come in units of 1.5, the smallest that keeps AntLM's 4:16:4 phases
    at whole quarter epochs: per unit, CLM-only trains 1.5 CLM epochs and AntLM 0.5 CLM + 1 MLM;
    each epoch also costs its dev checks (``per_epoch_overhead_s``; no checkpoints). Speeds are
    those measured by the speed stage (same model, batch, compile and precision), taken at 85%
    for what the training loop adds (logging, dev batches)."""
    clm, mlm = (0.85 * tokens_per_s[k] for k in ("CLM", "MLM"))
    unit_s = (tokens_per_epoch * (1.5 / clm + 0.5 / clm + 1.0 / mlm)
              + 2 * EPOCH_QUANTUM * per_epoch_overhead_s)
    units = max(1, min(int(max_epochs / EPOCH_QUANTUM), math.floor(seconds / unit_s)))
    return {"epochs": units * EPOCH_QUANTUM, "predicted_train_s": units * unit_s,
            "seconds_available": seconds, "unit_s": unit_s, "speeds_used": {"CLM": clm,
                                                                             "MLM": mlm}}


def schedules(epochs: float) -> dict[str, str]:
    """CLM-only and AntLM over ``epochs``: AntLM is 1/6 CLM, 4/6 MLM, 1/6 CLM (the paper's
    4_CLM+16_MLM+4_CLM at 24 epochs)."""
    edge, middle = epochs / 6, epochs * 4 / 6
    return {"clm_only": f"{epochs:g}_CLM", "antlm": f"{edge:g}_CLM+{middle:g}_MLM+{edge:g}_CLM"}


def headline_settings(check: Check) -> dict[str, object]:
    """The size's run settings for both arms, eager where no compiler is found."""
    settings = dict(check.size.headline_set)
    if check.compiler is None:
        settings["train.compile"] = False
    return settings


def prepare_headline_data(check: Check) -> dict:
    """Tokenizer and token cache of the headline (the runs reuse them): how many tokens an
    epoch has decides how many epochs fit."""
    from antlm.config import load_config
    from antlm.data.prepare import prepare_data

    config = load_config(REPO / check.size.headline_base, updates=headline_settings(check))
    data = prepare_data(config, check.data_dir, Path(check.env["ANTLM_CACHE_DIR"]))
    return {"words": data.train_corpus.n_words, "train": data.train_corpus.summary(),
            "tokens_per_epoch": len(data.train_tokens), "dev_tokens": len(data.dev_tokens)}


def pair_budget(check: Check) -> float:
    """Seconds a pair (both arms' training and evaluation, then the report) may take now:
    the time left less what the last report needs."""
    return check.left() - FINAL_REPORT_S


def first_plan(check: Check, data: dict) -> dict:
    """The epochs of every pair, sized so that the first pair's training, both evaluations and
    the report fit in the time left with a margin (PAIR_MARGIN); the smallest plan where the
    speed stage measured nothing."""
    fixed = 2 * check.size.run_overhead_s + check.size.report_s
    if check.speed is None:
        return {"epochs": EPOCH_QUANTUM, "predicted_pair_s": None, "fixed_s": fixed,
                "why": "the speed stage gave no tokens/s"}
    seconds = pair_budget(check) / PAIR_MARGIN - fixed
    plan = plan_epochs(data["tokens_per_epoch"], check.speed["systems"]["antlm"]["tokens_per_s"],
                       seconds, check.size.max_epochs)
    return {**plan, "fixed_s": fixed, "predicted_pair_s": plan["predicted_train_s"] + fixed}


def write_sweep(check: Check, name: str, arms: dict[str, str], seeds: list[int]) -> Path:
    """The headline's sweep file over ``seeds``: ``antlm sweep`` skips the runs already
    finished, so growing the list by one seed trains exactly one more pair."""
    sweep = {
        "name": name, "base": str(REPO / check.size.headline_base),
        "set": headline_settings(check), "seeds": seeds, "baseline": "clm_only",
        "arms": {arm: {"train.schedule": spec} for arm, spec in arms.items()},
        "evaluation": {"tasks": ZERO_SHOT, "backend": "causal",
                       "max_pairs": check.size.max_pairs,
                       "batch_size": check.size.eval_batch_size},
        # declared before the run, so its summary leads with this comparison and no other
        "primary": {"arm": "antlm", "backend": "causal", "parts": ZERO_SHOT},
    }
    path = check.work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


def report_and_archive(check: Check, sweep_path: Path, name: str, arms: dict[str, str],
                       seeds: list[int], interim: bool = False) -> str | None:
    """``antlm report`` over the sweep, then ``headline.tar.gz`` replaced whole (written aside,
    then renamed): a cut at any moment leaves the previous archive or the new one, never half.
    Returns the summary's text."""
    root, summary = check.work / "runs", check.work / "summary"
    shutil.rmtree(summary, ignore_errors=True)
    check.stage("headline report", [*python(), "-m", "antlm", "report", "--sweep",
                                    str(root / name), "--out", str(summary),
                                    *(["--interim"] if interim else [])], check.size.report_s)
    partial = check.out / "headline.tar.gz.tmp"
    with tarfile.open(partial, "w:gz") as archive:
        archive.add(sweep_path, arcname=f"headline/{sweep_path.name}")
        if summary.is_dir():
            archive.add(summary, arcname="headline/summary")
        for seed in seeds:
            for arm in arms:
                for file in ("config.yaml", "metrics.jsonl", "results.json", "state.json"):
                    path = root / name / arm / f"seed{seed}" / file
                    if path.is_file():
                        archive.add(path, arcname=f"headline/{arm}/seed{seed}/{file}")
    os.replace(partial, check.out / "headline.tar.gz")
    summary_md = summary / f"{name}.md"
    return summary_md.read_text() if summary_md.is_file() else None


def run_headline(check: Check) -> None:
    """Pairs of runs, seed by seed, each reported and archived before the next starts, while
    another pair fits (its cost measured on the pairs before it)."""
    began = time.monotonic()
    data = prepare_headline_data(check)
    plan = first_plan(check, data)
    arms = schedules(plan["epochs"])
    check.say(f"headline: {data['tokens_per_epoch']:,} tokens per epoch, {plan['epochs']:g} "
              f"epochs per run, {check.left():.0f} s left: {arms}"
              + ("" if check.compiler else "; no compiler: eager"))
    details = {"data": data, "plan": plan, "schedules": arms, "runs": [], "pairs": [],
               "compiler": check.compiler}
    headline = check.stages["headline"] = StageResult("failed", 0.0, details=details)
    name, root = f"gpu-headline-{check.size_name}", check.work / "runs"
    pair_s, finished = 0.0, []
    for seed in range(1, check.size.max_seeds + 1):
        if finished and pair_budget(check) < PAIR_MARGIN * pair_s:
            check.say(f"headline: no time for seed {seed} ({pair_budget(check):.0f} s left, a "
                      f"pair took {pair_s:.0f} s)")
            break
        sweep_path = write_sweep(check, name, arms, [*finished, seed])
        t0 = time.monotonic()
        result = check.stage(f"headline seed {seed}", [
            *python(), "-m", "antlm", "sweep", str(sweep_path), "--root", str(root)],
            pair_budget(check) - check.size.report_s)
        if result.status != "passed":
            if not finished:  # what the first arm scored, at least
                details["summary_md"] = report_and_archive(check, sweep_path, name, arms, [seed],
                                                           interim=True)
            break
        finished.append(seed)
        details["summary_md"] = report_and_archive(check, sweep_path, name, arms, finished)
        details["pairs"].append({"seed": seed, "seconds": time.monotonic() - t0})
        pair_s = max(p["seconds"] for p in details["pairs"])  # measured, not predicted
        details["runs"] += [{"arm": arm, "seed": seed, **run_facts(root / name / arm /
                                                                     f"seed{seed}")}
                            for arm in arms]
    headline.seconds = time.monotonic() - began
    headline.status = "passed" if finished and all(
        r.status == "passed" for n, r in check.stages.items() if n.startswith("headline ")) \
        else "failed"
    details["prepare_s"] = headline.seconds - sum(p["seconds"] for p in details["pairs"])


def run_facts(run: Path) -> dict:
    """What a run's metrics say about its training: steps, time, speed, last dev losses."""
    from antlm.rundir import RunPaths, read_metrics

    records = read_metrics(RunPaths(run))
    dev = [r for r in records if r.event == "dev"]
    if not dev:
        return {}
    # the first step's reading is the warm-up alone (compilation included): not the speed
    train = [r.tokens_per_s for r in records if r.event == "train" and r.step > 1]
    start = next((r for r in records if r.event == "start"), None)
    return {"steps": dev[-1].step, "total_steps": start and start.total_steps,
            "epochs_done": dev[-1].epoch, "train_s": dev[-1].elapsed_s,
            "tokens_per_s": sum(train) / len(train) if train else 0.0,
            "dev_losses": dev[-1].dev_losses}


# ---------------------------------------------------------------------------- report
def environment() -> dict:
    import platform

    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__,
            "cuda": torch.version.cuda, "gpu": None, "gpu_memory_gib": None,
            "cpus": os.cpu_count()}
    if torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        info.update(gpu=properties.name, gpu_memory_gib=round(properties.total_memory / 2**30, 1),
                    gpus=torch.cuda.device_count())
    return info


def _tests_section(details: dict) -> list[str]:
    if "tests" not in details:
        return []
    summary = (f"Tests (`pytest -m device -v` on the size's list): {details['passed']} passed, "
               f"{details['failed']} failed, {details['skipped']} skipped of {details['tests']}.")
    return ["", summary, *(f"- failed: `{name}`" for name in details["failures"])]


def _memory_section(details: dict) -> list[str]:
    if "result" not in details:
        return []
    m = details["result"]
    title = (f"Memory, `{m['config']}` ({m['params'] / 1e6:.0f}M parameters, {m['optimizer']}, "
             f"{m['precision']}, batch {m['batch_size']} = {m['grad_accum']} x "
             f"{m['micro_batch_rows']} rows):")
    lines = ["", title, "", "| objective | activations per row | estimate | peak allocated |",
             "|---|---:|---:|---:|"]
    for objective, o in m["objectives"].items():
        peak = o["peak_allocated_bytes"]
        peak_text = "n/a" if peak is None else f"{peak / 2**30:.1f} GiB"
        lines.append(f"| {objective} | {o['activation_per_row_bytes'] / 2**20:.1f} MiB | "
                     f"{o['activation_estimate_bytes'] / 2**30:.1f} GiB | {peak_text} |")
    return lines


def _speed_section(details: dict, arguments: list[str]) -> list[str]:
    if "tokens_per_s" not in details:
        return []
    tps, peak = details["tokens_per_s"], details["peak_flops"]["bf16"]
    peak_text = f"{peak / 1e12:,.1f} TFLOP/s" if peak >= 1e12 else f"{peak / 1e9:,.0f} GFLOP/s"
    where = details["device"] + (f", {details['gpu']}" if details["gpu"] else "")
    ratio = details["vs_baseline"] or float("nan")
    return ["", f"Speed (`train_speed.py {' '.join(arguments)}`, {where}):", "",
            "| CLM tok/s | MLM tok/s | both | MFU vs bf16 peak | bf16 peak | x HF Llama |",
            "|---:|---:|---:|---:|---:|---:|",
            (f"| {tps['CLM']:,.0f} | {tps['MLM']:,.0f} | {tps['both']:,.0f} | "
             f"{details['mfu_vs_bf16_peak']:.1%} | {peak_text} | {ratio:.2f} |")]


def _headline_section(details: dict) -> list[str]:
    if "plan" not in details:
        return []
    data, plan = details["data"], details["plan"]
    why = (f"predicted {plan['predicted_pair_s']:.0f} s per pair, {plan['fixed_s']:.0f} s of it "
           f"not training, for {plan['seconds_available']:.0f} s of training available"
           if plan.get("predicted_pair_s") else plan.get("why"))
    pairs = ", ".join(f"seed {p['seed']} in {p['seconds']:.0f} s" for p in details["pairs"])
    lines = ["", (f"Headline: {data['words']:,} training words, {data['tokens_per_epoch']:,} "
                  f"tokens per epoch; {plan['epochs']:g} epochs per run ({why}); finished pairs: "
                  f"{pairs or 'none'}"
                  + ("" if details.get("compiler") else "; eager: no compiler") + "."), "",
             ("| arm | seed | schedule | steps | epochs done | train s | tokens/s | dev CLM | "
             "dev MLM |"), "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for f in details.get("runs", []):
        if "steps" in f:
            lines.append(f"| {f['arm']} | {f['seed']} | {details['schedules'][f['arm']]} | "
                         f"{f['steps']}/{f['total_steps']} | {f['epochs_done']:.2f} | "
                         f"{f['train_s']:.0f} | {f['tokens_per_s']:,.0f} | "
                         f"{f['dev_losses']['CLM']:.3f} | {f['dev_losses']['MLM']:.3f} |")
    if details.get("summary_md"):
        lines += ["", "Zero-shot (causal, `antlm report --sweep`):", "",
                  details["summary_md"].strip()]
    return lines


def render(check: Check, env: dict) -> str:
    """GPU.md: the machine, each stage's status and time, then each stage's table."""
    gpu = f"{env['gpu']} ({env['gpu_memory_gib']} GiB)" if env["gpu"] else "no GPU"
    lines = [f"# gpu-check ({check.size_name})", "",
             (f"Python {env['python']}, torch {env['torch']} (CUDA {env['cuda']}), {gpu}, "
              f"{env['cpus']} CPUs; {time.monotonic() - check.started:.0f} s in all."), "",
             "| stage | status | seconds |", "|---|---|---:|"]
    lines += [f"| {name} | {r.status} | {r.seconds:.0f} |" for name, r in check.stages.items()]
    sections = {"tests": _tests_section, "memory": _memory_section,
                "speed": lambda d: _speed_section(d, check.size.speed),
                "headline": _headline_section}
    for name, section in sections.items():
        if name in check.stages:
            lines += section(check.stages[name].details)
    return "\n".join(lines) + "\n"


def write_report(check: Check, env: dict) -> None:
    (check.out / "gpu-check.json").write_text(json.dumps(
        {"size": check.size_name, "environment": env, "size_settings": asdict(check.size),
         "stages": {name: asdict(r) for name, r in check.stages.items()}}, indent=2,
        default=str))
    (check.out / "GPU.md").write_text(render(check, env))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", default="runs/gpu-check", help="the small files to keep")
    parser.add_argument("--work", default=str(REPO / ".gpu" / "work"),
                        help="runs and caches, inside the tree: OUT's parent may be read-only")
    parser.add_argument("--data-dir", default=os.environ.get("ANTLM_DATA_DIR"))
    parser.add_argument("--stages", default="tests,memory,speed,headline",
                        help="comma-separated subset, in this order")
    parser.add_argument("--deadline-s", type=float, default=None,
                        help="wall-clock budget of the whole check (default: the size's)")
    args = parser.parse_args()
    if not args.data_dir:
        parser.error("no data folder: --data-dir or ANTLM_DATA_DIR")
    out = Path(args.out).resolve()
    work = Path(args.work).resolve()
    check = Check(args.size, out, work, Path(args.data_dir).resolve(), args.deadline_s)
    wanted = args.stages.split(",")
    env = environment()
    check.say(f"gpu-check {args.size}: {env}; stages {wanted}; budget {check.deadline_s:.0f} s")
    check.say(f"compiler for torch.compile: {check.compiler}" if check.compiler else
              "no compiler for torch.compile on PATH (C for Triton on CUDA, C++ for inductor on "
              "the CPU): the speed and headline stages run eagerly")
    stages = {"tests": run_tests, "memory": run_memory, "speed": run_speed,
              "headline": run_headline}
    for name in (n for n in stages if n in wanted):
        try:
            stages[name](check)
        except Exception as exc:  # noqa: BLE001 - one stage's bug must not cost the others
            check.stages[name] = StageResult("failed", 0.0, details={"error": repr(exc)})
            check.say(f"== {name}: failed in the driver: {exc!r}")
        write_report(check, env)
    write_report(check, env)
    check.say("\n" + render(check, env))
    failed = [n for n, r in check.stages.items() if r.status != "passed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
