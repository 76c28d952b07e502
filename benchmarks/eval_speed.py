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
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from machine import cpu_name  # benchmarks/machine.py
from safetensors.torch import save_model
from torch.profiler import ProfilerActivity, profile

from antlm.config import RunConfig, load_config, resolve_data_dir
from antlm.data.tokenizer import AntlmTokenizer
from antlm.eval.scoring import BACKENDS, score_pairs
from antlm.eval.tasks import MinimalPair, load_task
from antlm.export.hf import export_run
from antlm.models.registry import build_model
from antlm.rundir import load_run

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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs/models/babyllama-tiny.yaml"))
    parser.add_argument("--backend", choices=BACKENDS, default="causal")
    parser.add_argument("--tasks", default="blimp_filtered",
                        help="comma-separated tasks whose pairs are scored (default: %(default)s)")
    parser.add_argument("--pairs", type=int, default=None,
                        help="score this many pairs, evenly spaced, instead of all")
    parser.add_argument("--baseline-pairs", type=int, default=300,
                        help="pairs of the comparison subset (evenly spaced)")
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
                        help="project a submission's zero-shot work: --tasks (the fast sets) at "
                             "this many revisions (the strict-small track has 19) plus one "
                             "full evaluation of --full-tasks, each timed here batched")
    parser.add_argument("--full-tasks", default="blimp_filtered,blimp_supplement,ewok",
                        help="the final model's full evaluation, with --revisions")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = resolve_data_dir(args.data_dir)
    workdir = Path(tempfile.mkdtemp(prefix="eval-speed-"))
    run = load_run(write_run(load_config(args.config), data_dir, workdir / "run"))
    hf_dir = export_run(run.run_dir, workdir / "hf")
    model, tokenizer, config = run.model, run.tokenizer, run.config.model
    all_pairs = [p for task in args.tasks.split(",") for p in load_task(task, data_dir)]
    pairs = evenly(all_pairs, args.pairs)
    subset = evenly(pairs, args.baseline_pairs, BLOCK)
    cores = torch.get_num_threads()
    peak = core_peak()
    print(f"machine: {cpu_name()}, {os.cpu_count()} logical CPUs, torch {torch.__version__} "
          f"with {cores} threads; load average {os.getloadavg()[0]:.2f}; fp32 matmul peak "
          f"{peak / 1e9:.0f} GFLOP per CPU-second per core")
    print(f"model: {config.arch} {config.num_layers}x{config.hidden_size}, vocab "
          f"{tokenizer.vocab_size}; backend {args.backend}, precision {args.precision}; "
          f"tasks {args.tasks} ({len(all_pairs)} pairs)")

    def antlm(batch_size: int) -> Callable[[list[MinimalPair]], np.ndarray]:
        return lambda some: score_pairs(model, tokenizer, some, [args.backend], batch_size,
                                        args.precision)[args.backend]

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
    if args.revisions:
        full = [p for task in args.full_tasks.split(",") for p in load_task(task, data_dir)]
        _, full_eval, _ = timed(lambda: antlm(args.batch_size)(full))
        per_revision = len(all_pairs) / fast
        print(f"submission projection: {args.revisions} revisions x {per_revision:.0f} s "
              f"(the fast sets, {len(all_pairs)} pairs) + the full evaluation ({len(full)} "
              f"pairs, timed: {full_eval:.0f} s) = "
              f"{(args.revisions * per_revision + full_eval) / 60:.1f} min; at batch size 1: "
              f"{(args.revisions * per_revision + full_eval) * walls['antlm batch size 1'] / walls[first] / 60:.1f} min")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
