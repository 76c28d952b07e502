"""Zero-shot scoring throughput: antlm's batched scorer against batch-size-1 scoring and minicons.

Three scorers of the same randomly initialised model (a trained one has the same speed):

* antlm, batched: ``score_pairs`` as ``antlm eval`` runs it (``--batch-size`` rows per forward
  pass, PLL through the model's read-positions path, causal through prefix trees where the
  model has them, one worker thread per torch thread);
* antlm at batch size 1: the same code with ``batch_size=1``, one text per forward pass (for
  the masked backends, one text's masked copies), as the BabyLM 2024 pipeline's ``eval_blimp.sh``
  runs lm-eval (``--batch_size 1``);
* minicons 0.3.39 (the scorer the 2024 pipeline's masked-LM path calls) on the model exported
  with ``antlm.export.hf``: ``IncrementalLMScorer`` for ``causal``, ``MaskedLMScorer`` (PLL
  ``original`` / ``within_word_l2r``) for ``mlm`` / ``mlm_word_l2r``, ``--minicons-batch`` pairs
  per call (one forward pass: for PLL, every masked copy of those texts). minicons needs a
  view the export has: a BabyLlama export has no masked-LM view yet, so it is skipped there.

All pairs of ``--tasks`` (or an evenly spaced ``--pairs``) are scored batched: the projected
time for every pair of those tasks. Then ``--rounds`` rounds score a ``--baseline-pairs`` subset
(runs of consecutive pairs spread over the set) with each scorer in turn, interleaved so that
load on a shared machine hits all alike; ratios come from the summed wall and CPU times (CPU
time moves much less with other people's load), with each scorer's largest |score difference|
from antlm batched. FLOPs (the profiler's matmul count; SDPA on CPU has none) are counted on the
subset, scaled to all pairs, and set against a square fp32 matmul's FLOP/s measured in the same
run: the time below which that precision cannot go on this machine.

    python benchmarks/eval_speed.py --backend mlm --config configs/models/ltgbert-tiny.yaml

``--revisions N`` times a whole leaderboard submission instead (what ``antlm submission``
computes, :mod:`antlm.eval.submission`): every zero-shot part of one revision's fast evaluation
(``FAST_PARTS``: the fast BLiMP, supplement, EWoK and entity-tracking sets, both WUG tasks,
reading), the AoA surprisals of one checkpoint (``revision_surprisals``) and every zero-shot
part of the final full evaluation (``FULL_PARTS``), each through the package's own loader and
scorer (``score_pairs``, ``reading_surprisals``, ``revision_surprisals``: all take a batch
size), batched and at batch size 1 in the same way as above, part by part; then projects
``N x (fast + AoA) + full``. A part the model cannot score (entity tracking's ~350-token items
in a 128-token window; ``--set model.max_seq_len=512`` makes them fit), one whose data is not
here (COMPS without its folder) and GLUE (fine-tuning, not scoring) are named, with the
reason, and left out of the sums, as the submission's report leaves them out.

    python benchmarks/eval_speed.py --revisions 19 --set model.max_seq_len=512
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from machine import cpu_name  # benchmarks/machine.py
from safetensors.torch import save_model
from torch.profiler import ProfilerActivity, profile

from antlm.config import RunConfig, load_config, resolve_data_dir
from antlm.data.tokenizer import AntlmTokenizer
from antlm.eval.aoa import load_aoa_data, revision_surprisals
from antlm.eval.reading import ReadingData, load_reading, reading_surprisals
from antlm.eval.scoring import BACKENDS, check_fits, score_pairs
from antlm.eval.submission import FAST_PARTS, FULL_PARTS, OFFICIAL_BACKENDS, TRACK_REVISIONS
from antlm.eval.suites import DEFAULT_SUITE, SUITES, Suite
from antlm.eval.tables import render_table
from antlm.eval.tasks import MinimalPair, TaskDataError, TaskDataMissing, load_task
from antlm.eval.wug import load_wug
from antlm.export.hf import export_run
from antlm.models.registry import build_model
from antlm.rundir import LoadedRun, load_run

ROOT = Path(__file__).resolve().parents[1]
# The comparison subset is made of runs of this many consecutive pairs, so that it shares
# prefixes (same template, same EWoK context) as the whole set does.
BLOCK = 20
# minicons' PLL metric for each masked backend it can express.
PLL_METRICS = {"mlm": "original", "mlm_word_l2r": "within_word_l2r"}


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float]:
    """``fn()``, its wall time and the CPU time of this process (all threads): on a shared
    machine the first moves with other people's load, the second much less."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def evenly(items: Sequence, count: int | None, block: int = 1) -> list:
    """``count`` items in runs of ``block`` consecutive ones spread over the whole list, in
    order: every subtask and length, and (with runs) neighbours that share a template."""
    if count is None or count >= len(items):
        return list(items)
    starts = np.linspace(0, len(items) - block, max(1, count // block)).round().astype(int)
    return [items[i] for start in starts for i in range(start, start + block)]


def write_run(config: RunConfig, data_dir: Path, out: Path) -> Path:
    """A run directory holding a randomly initialised model of ``config`` and a tokenizer
    trained on one BabyLM corpus file: what ``antlm eval`` and ``antlm export`` read."""
    corpus = data_dir / "babylm_10M" / "train_10M" / "switchboard.train"
    lines = [line.split("\t", 1)[-1] for line in corpus.read_text().splitlines()]
    tokenizer = AntlmTokenizer.train(lines, config.tokenizer.kind, config.tokenizer.vocab_size)
    vocab = {"vocab_size": tokenizer.vocab_size}
    config = config.model_copy(update={
        "model": config.model.model_copy(update=vocab),
        "tokenizer": config.tokenizer.model_copy(update=vocab)})
    torch.manual_seed(0)
    out.mkdir(parents=True)
    (out / "config.yaml").write_text(config.to_yaml())
    tokenizer.save(out / "tokenizer.json")
    save_model(build_model(config.model), str(out / "model.safetensors"))
    return out


def minicons_scorer(hf_dir: Path, backend: str) -> Callable[[list[MinimalPair]], np.ndarray] | str:
    """minicons scoring the export as the parity tests call it, or why it cannot."""
    from minicons.scorer import IncrementalLMScorer, MaskedLMScorer
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(hf_dir, trust_remote_code=True)
    tokenizer.batch_encode_plus = tokenizer.__call__  # minicons 0.3.39; transformers 5 removed it
    options: dict = {"reduction": lambda scores: scores.sum(0).item()}
    try:
        if backend == "causal":
            model = AutoModelForCausalLM.from_pretrained(hf_dir, trust_remote_code=True)
            scorer = IncrementalLMScorer(model.eval(), "cpu", tokenizer=tokenizer)
        elif backend in PLL_METRICS:
            model = AutoModelForMaskedLM.from_pretrained(hf_dir, trust_remote_code=True)
            scorer = MaskedLMScorer(model.eval(), "cpu", tokenizer=tokenizer)
            options["PLL_metric"] = PLL_METRICS[backend]
        else:
            return f"minicons has no {backend} scorer"
    except ValueError as error:  # no Auto class for this export's view
        return f"the export has no {backend} view ({str(error).splitlines()[0]})"

    def score(pairs: list[MinimalPair]) -> np.ndarray:
        """One call for the texts with a context, one for those without."""
        contexts = [p.context for p in pairs] * 2
        targets = [p.good for p in pairs] + [p.bad for p in pairs]
        out = np.zeros(len(targets))
        bare = [i for i, c in enumerate(contexts) if not c]
        given = [i for i, c in enumerate(contexts) if c]
        if bare:
            out[bare] = scorer.sequence_score([targets[i] for i in bare], **options)
        if given:
            out[given] = scorer.conditional_score(
                [contexts[i] for i in given], [targets[i] for i in given], **options)
        return out.reshape(2, -1).T

    return score


def chunked(score: Callable[[list[MinimalPair]], np.ndarray], size: int):
    """``score`` called on ``size`` pairs at a time (minicons' batch is its call)."""
    def run(pairs: list[MinimalPair]) -> np.ndarray:
        return np.concatenate([score(pairs[i:i + size]) for i in range(0, len(pairs), size)])
    return run


def core_peak(size: int = 2048) -> float:
    """FLOPs per CPU-second of one thread's square fp32 matmul: one core's peak, which (unlike
    a multi-threaded wall-clock peak) other processes on a shared machine barely move."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    a, b = torch.randn(size, size), torch.randn(size, size)
    try:
        a @ b
        reps, started = 0, time.process_time()
        while reps < 3 or time.process_time() - started < 1.0:
            a @ b
            reps += 1
        return 2 * size**3 * reps / (time.process_time() - started)
    finally:
        torch.set_num_threads(threads)


def count_flops(fn: Callable[[], object]) -> int:
    """Matmul FLOPs of ``fn`` as the profiler counts them (``aten::mm``, ``addmm``, ``bmm``;
    SDPA has no count on CPU). With one torch thread the scorer runs in the calling thread,
    the only one the profiler records."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with profile(activities=[ProfilerActivity.CPU], with_flops=True) as profiler:
            fn()
    finally:
        torch.set_num_threads(threads)
    return sum(event.flops for event in profiler.key_averages())


@dataclass(frozen=True)
class Scored:
    """One zero-shot part of a submission as the benchmark times it: how many items it has and
    antlm's scorer of some of them (by index) at a batch size."""

    name: str
    items: int
    unit: str
    score: Callable[[Sequence[int], int], np.ndarray]


@dataclass(frozen=True)
class Timing:
    """A part's time for all its items, wall and CPU (this process, all threads), batched and
    at batch size 1 (projected by the comparison's ratio of each); its largest |score
    difference| between the two, and how many of its scores are NaN."""

    part: Scored
    wall: float
    cpu: float
    wall1: float
    cpu1: float
    difference: float
    timed: int  # items scored batched (all, or --pairs of them)
    unscored: int  # NaN scores among them: AoA's contexts longer than the window, reading's
    # first words (no previous word)


def reading_rows(data: ReadingData, rows: Sequence[int]) -> ReadingData:
    """The reading data restricted to ``rows``: a subset scored as the whole is."""
    def pick(values: Sequence) -> list:
        return [values[i] for i in rows]
    return dataclasses.replace(data, lines=pick(data.lines), items=pick(data.items),
                               words=pick(data.words), prev_items=pick(data.prev_items),
                               prev_words=pick(data.prev_words),
                               measures=data.measures.iloc[list(rows)].reset_index(drop=True))


def submission_parts(run: LoadedRun, data_dir: Path, suite: Suite, backend: str, precision: str
                     ) -> tuple[dict[str, Scored], Scored, dict[str, str]]:
    """Every zero-shot part ``antlm submission`` scores (by antlm task: WUG and reading are
    the same data at every revision and in the full evaluation), the AoA surprisals of one
    checkpoint, and why each part left out is left out (what the submission would report)."""
    model, tokenizer = run.model, run.tokenizer
    parts: dict[str, Scored] = {}
    left_out: dict[str, str] = {}

    def pairs_part(task: str, pairs: list[MinimalPair]) -> Scored:
        def score(indices: Sequence[int], batch_size: int) -> np.ndarray:
            return score_pairs(model, tokenizer, [pairs[i] for i in indices], [backend],
                               batch_size, precision, suite=suite)[backend]
        return Scored(task, len(pairs), "items", score)

    def reading_part(task: str, reading: ReadingData) -> Scored:
        def score(rows: Sequence[int], batch_size: int) -> np.ndarray:
            return np.column_stack(reading_surprisals(
                model, tokenizer, reading_rows(reading, rows), backend, batch_size, precision))
        return Scored(task, len(reading), "rows", score)

    for part in (*FAST_PARTS, *FULL_PARTS):
        if part.kind == "glue":
            left_out["glue"] = "fine-tuning, not zero-shot scoring: not timed here"
        elif part.kind in ("choice", "wug") and part.task not in parts:
            try:
                pairs = (load_task(part.task, data_dir) if part.kind == "choice"
                         else load_wug(part.task, data_dir).pairs)
            except TaskDataMissing as exc:  # COMPS, when its folder is not here
                left_out[part.key] = str(exc)  # "no data: ..., get it from ..."
                continue
            try:
                check_fits(model, tokenizer, pairs, [backend], suite)
            except TaskDataError as exc:  # as the submission lists it: missing, with why
                left_out[part.task] = f"the model cannot score it: {exc}"
                continue
            parts[part.task] = pairs_part(part.task, pairs)
        elif part.kind == "reading" and part.task not in parts:
            parts[part.task] = reading_part(part.task, load_reading(data_dir))
    aoa = load_aoa_data(data_dir)

    def aoa_score(indices: Sequence[int], batch_size: int) -> np.ndarray:
        subset = dataclasses.replace(aoa, words=tuple(aoa.words[i] for i in indices),
                                     contexts=tuple(aoa.contexts[i] for i in indices))
        return revision_surprisals(model, tokenizer, subset, backend, batch_size, precision)
    return parts, Scored("aoa", len(aoa.contexts), "contexts", aoa_score), left_out


def time_part(part: Scored, args: argparse.Namespace) -> Timing:
    """``part`` batched on all its items (or ``--pairs`` of them, projected), then ``--rounds``
    interleaved rounds of batched and batch size 1 on ``--baseline-pairs`` items: batch size
    1's time for all items by the measured ratio. Both samples are runs of consecutive items
    spread over the part, so that they share templates and contexts as the whole part does."""
    indices = range(part.items)
    runs = min(BLOCK, part.items)
    scored = evenly(indices, args.pairs, runs)
    scores, wall, cpu = timed(lambda: part.score(scored, args.batch_size))
    scale = part.items / len(scored)
    subset = evenly(indices, args.baseline_pairs, runs)
    walls, cpus, results = [0.0, 0.0], [0.0, 0.0], [np.empty(0), np.empty(0)]
    for _ in range(args.rounds):
        for which, size in enumerate((args.batch_size, 1)):
            results[which], seconds, cpu_seconds = timed(
                lambda size=size: part.score(subset, size))
            walls[which] += seconds
            cpus[which] += cpu_seconds
    if not np.array_equal(np.isnan(results[0]), np.isnan(results[1])):
        raise AssertionError(f"{part.name}: the two scorers leave out different items")
    difference = float(np.nanmax(np.abs(results[0] - results[1]), initial=0.0))
    return Timing(part, wall * scale, cpu * scale, wall * scale * walls[1] / walls[0],
                  cpu * scale * cpus[1] / cpus[0], difference, len(scored),
                  int(np.isnan(scores).sum()))


def submission_benchmark(args: argparse.Namespace, run: LoadedRun, data_dir: Path,
                         suite: Suite) -> None:
    """Time every part of a submission batched and at batch size 1 (see the module
    docstring) and print per part, per revision, AoA, the full evaluation and the whole."""
    parts, aoa, left_out = submission_parts(run, data_dir, suite, args.backend, args.precision)
    fast = [p.task for p in FAST_PARTS if p.task in parts]
    full = [p.task for p in FULL_PARTS if p.task in parts]
    print(f"timing {len(parts)} zero-shot parts and AoA: each batched (batch {args.batch_size}) "
          f"on {'all items' if args.pairs is None else f'{args.pairs} items'}, then "
          f"{args.rounds} interleaved round(s) of batched and batch size 1 on "
          f"{args.baseline_pairs} items", flush=True)
    first = next(iter(parts.values()), aoa)
    first.score(range(min(BLOCK, first.items)), args.batch_size)  # first calls: not timed
    timings: dict[str, Timing] = {}
    for name, part in [*parts.items(), ("aoa", aoa)]:
        timings[name] = time_part(part, args)
        print(f"  {name}: {part.items:,} {part.unit} in {timings[name].wall:.1f} s",
              flush=True)

    def total(kind: str, tasks: Sequence[str]) -> float:
        return sum(getattr(timings[t], kind) for t in tasks)

    def row(label: str, tasks: Sequence[str]) -> list[str]:
        wall, cpu = total("wall", tasks), total("cpu", tasks)
        return [label, f"{sum(timings[t].part.items for t in tasks):,}", f"{wall:.1f}",
                f"{cpu:.1f}", f"{total('wall1', tasks):.1f}", f"{total('cpu1', tasks):.1f}",
                f"x{total('wall1', tasks) / wall:.1f} / x{total('cpu1', tasks) / cpu:.1f}",
                f"{max(timings[t].difference for t in tasks):.1e}"]

    shared = set(fast) & set(full)
    rows = [*(row(f"revision: {t}", [t]) for t in fast), row("one revision's fast parts", fast),
            row(f"AoA surprisals of one checkpoint ({timings['aoa'].unscored:,} of "
                f"{timings['aoa'].timed:,} timed contexts too long: NaN)", ["aoa"]),
            *(row(f"full: {t}" + (" (as at a revision)" if t in shared else ""), [t])
              for t in full),
            row("the full evaluation", full)]
    print(render_table(["part", "items", "batched s", "batched CPU-s", "batch 1 s",
                        "batch 1 CPU-s", "ratio wall / CPU", "max |diff|"], rows, "terminal"))
    whole = {kind: args.revisions * total(kind, [*fast, "aoa"]) + total(kind, full)
             for kind in ("wall", "cpu", "wall1", "cpu1")}
    threads = torch.get_num_threads()
    print(f"whole submission, {args.revisions} revisions x (fast parts + AoA) + the full "
          f"evaluation: batched {whole['wall'] / 60:.1f} min ({whole['cpu'] / 60:.1f} CPU-min: "
          f"{whole['cpu'] / threads / 60:.1f} min with all {threads} cores its own), at batch "
          f"size 1 {whole['wall1'] / 60:.1f} min ({whole['cpu1'] / 60:.1f} CPU-min: "
          f"{whole['cpu1'] / threads / 60:.1f} min); batched x{whole['wall1'] / whole['wall']:.1f} "
          f"faster by wall time, x{whole['cpu1'] / whole['cpu']:.1f} per CPU-second; max |score "
          f"difference| {max(t.difference for t in timings.values()):.1e}")
    for key, why in left_out.items():
        print(f"left out: {key}: {why}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs/models/babyllama-tiny.yaml"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set model.max_seq_len=512")
    parser.add_argument("--backend", choices=BACKENDS, default="causal")
    parser.add_argument("--suite", choices=sorted(SUITES), default=DEFAULT_SUITE,
                        help="the framing the pairs are scored under (default: %(default)s)")
    parser.add_argument("--tasks", default=None,
                        help="comma-separated tasks whose pairs are scored (default: "
                             "blimp_filtered; not with --revisions, which times the "
                             "submission's own parts)")
    parser.add_argument("--pairs", type=int, default=None,
                        help="score this many pairs (with --revisions: items of each part), "
                             "evenly spaced, instead of all, and project all")
    parser.add_argument("--baseline-pairs", type=int, default=300,
                        help="pairs (with --revisions: items of each part) of the comparison "
                             "subset (evenly spaced)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved comparison rounds")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--minicons-batch", type=int, default=None,
                        help="pairs per minicons call, which is one forward pass (default: "
                             "about antlm's rows per pass: batch size / 2 for causal, / 32 for "
                             "PLL, whose pass holds every masked copy of ~14-token texts)")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's, one per core)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--revisions", type=int, default=0,
                        help="time a leaderboard submission instead: every zero-shot part of "
                             "one revision's fast evaluation, the AoA surprisals of one "
                             "checkpoint and the full evaluation, batched and at batch size 1, "
                             "projected to this many revisions (strict-small has "
                             f"{len(TRACK_REVISIONS['strict-small'])})")
    args = parser.parse_args()
    if args.revisions and args.tasks:
        parser.error("--revisions times the submission's own parts; --tasks is for the pair "
                     "comparison")
    if args.revisions and args.backend not in OFFICIAL_BACKENDS:
        parser.error(f"--revisions: the leaderboard takes {', '.join(OFFICIAL_BACKENDS)}")
    args.tasks = args.tasks or "blimp_filtered"
    return args


def compare_pairs(args: argparse.Namespace, run: LoadedRun, data_dir: Path, workdir: Path,
                  suite: Suite) -> None:
    """The pairs of ``--tasks``: antlm batched on all, then the interleaved comparison with
    batch size 1 and minicons, and the FLOP count (see the module docstring)."""
    hf_dir = export_run(run.run_dir, workdir / "hf")
    model, tokenizer = run.model, run.tokenizer
    all_pairs = [p for task in args.tasks.split(",") for p in load_task(task, data_dir)]
    pairs = evenly(all_pairs, args.pairs)
    subset = evenly(pairs, args.baseline_pairs, BLOCK)
    cores = torch.get_num_threads()
    peak = core_peak()
    print(f"fp32 matmul peak {peak / 1e9:.0f} GFLOP per CPU-second per core; tasks "
          f"{args.tasks} ({len(all_pairs)} pairs)")

    def antlm(batch_size: int) -> Callable[[list[MinimalPair]], np.ndarray]:
        return lambda some: score_pairs(model, tokenizer, some, [args.backend], batch_size,
                                        args.precision, suite=suite)[args.backend]

    scores, full_wall, full_cpu = timed(lambda: antlm(args.batch_size)(pairs))
    fast = len(pairs) / full_wall
    print(f"antlm batched (batch {args.batch_size}): {len(pairs)} pairs in {full_wall:.1f} s = "
          f"{fast:.1f} pairs/s ({len(pairs) / full_cpu:.1f} per CPU-second); accuracy "
          f"{np.mean(scores[:, 0] > scores[:, 1]):.3f}; all {len(all_pairs)} pairs in "
          f"{len(all_pairs) / fast / 60:.2f} min")

    rows_per_pair = 32 if args.backend in PLL_METRICS else 2
    per_mini = args.minicons_batch or max(1, args.batch_size // rows_per_pair)
    mini = minicons_scorer(hf_dir, args.backend)
    scorers = {f"antlm batched (batch {args.batch_size})": antlm(args.batch_size),
               "antlm batch size 1": antlm(1)}
    if isinstance(mini, str):
        print(f"minicons: skipped: {mini}")
    else:
        scorers[f"minicons ({per_mini} pairs per call)"] = chunked(mini, per_mini)
    walls, cpus = dict.fromkeys(scorers, 0.0), dict.fromkeys(scorers, 0.0)
    results: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, scorer in scorers.items():
            results[name], seconds, cpu = timed(lambda scorer=scorer: scorer(subset))
            walls[name] += seconds
            cpus[name] += cpu
    first = next(iter(scorers))
    print(f"comparison on {len(subset)} pairs (runs of {BLOCK} consecutive ones), "
          f"{args.rounds} interleaved rounds; antlm batched's speed-up by wall / CPU time:")
    for name in scorers:
        count = len(subset) * args.rounds
        print(f"  {name:<32} {count / walls[name]:7.1f} pairs/s {count / cpus[name]:7.1f} per "
              f"CPU-s  x{walls[name] / walls[first]:5.1f} / x{cpus[name] / cpus[first]:5.1f}  "
              f"max |score difference| {np.abs(results[name] - results[first]).max():.1e}")

    flops = count_flops(lambda: antlm(args.batch_size)(subset)) * len(pairs) / len(subset)
    scale = len(all_pairs) / len(pairs)
    print(f"FLOPs: {flops * scale / 1e12:.1f} TFLOP for all {len(all_pairs)} pairs (counted on "
          f"the subset, scaled); achieved {flops / full_wall / 1e9:.0f} GFLOP/s wall, "
          f"{flops / full_cpu / 1e9:.0f} GFLOP per CPU-second ({flops / full_cpu / peak:.0%} of "
          f"one core's matmul peak); at that peak on all {cores} cores all pairs would take "
          f"{flops * scale / (peak * cores) / 60:.2f} min")


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = resolve_data_dir(args.data_dir)
    workdir = Path(tempfile.mkdtemp(prefix="eval-speed-"))
    run = load_run(write_run(load_config(args.config, args.set), data_dir, workdir / "run"))
    config, suite = run.config.model, SUITES[args.suite]
    print(f"machine: {cpu_name()}, {os.cpu_count()} logical CPUs, torch {torch.__version__} "
          f"with {torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.2f}")
    print(f"model: {config.arch} {config.num_layers}x{config.hidden_size}, window "
          f"{config.max_seq_len}, vocab {run.tokenizer.vocab_size}; backend {args.backend}, "
          f"precision {args.precision}, suite {suite.name}")
    if args.revisions:
        submission_benchmark(args, run, data_dir, suite)
    else:
        compare_pairs(args, run, data_dir, workdir, suite)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
