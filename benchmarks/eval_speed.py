"""Zero-shot scoring throughput: antlm's batched scorer against batch-size-1 scoring.

The BabyLM 2024 pipeline's ``eval_blimp.sh`` runs lm-eval with ``--batch_size 1``: one forward
pass per sentence. This scores BLiMP-filtered with antlm's length-sorted, padded batches, then
scores a prefix of the same pairs one text per forward pass (``batch_size=1`` through the same
code, so the only difference is batching; lm-eval also projects every position through the
output head, so the real baseline is slower still), checks both give the same scores, and prints
pairs/s for both and their ratio. A randomly initialised model has the speed of a trained one.

    python benchmarks/eval_speed.py [--pairs N] [--baseline-pairs M] [--backend causal]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from machine import cpu_name  # benchmarks/machine.py

from antlm.config import load_config, resolve_data_dir
from antlm.data.tokenizer import AntlmTokenizer
from antlm.eval.scoring import BACKENDS, score_pairs
from antlm.eval.tasks import load_task
from antlm.models.registry import build_model

ROOT = Path(__file__).resolve().parents[1]


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=None, help="pairs to score (default: all)")
    parser.add_argument("--baseline-pairs", type=int, default=300,
                        help="pairs scored at batch size 1 (a prefix of the same pairs)")
    parser.add_argument("--backend", choices=BACKENDS, default="causal")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--config", default=str(ROOT / "configs/models/babyllama-tiny.yaml"))
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    data_dir = resolve_data_dir(args.data_dir)
    config = load_config(args.config)
    corpus = data_dir / "babylm_10M" / "train_10M" / "switchboard.train"
    lines = [line.split("\t", 1)[-1] for line in corpus.read_text().splitlines()]
    tokenizer = AntlmTokenizer.train(lines, config.tokenizer.kind, config.tokenizer.vocab_size)
    torch.manual_seed(0)
    model = build_model(config.model.model_copy(update={"vocab_size": tokenizer.vocab_size}))
    model.eval()

    pairs = load_task("blimp_filtered", data_dir)[: args.pairs]
    baseline_pairs = pairs[:: max(1, len(pairs) // args.baseline_pairs)][: args.baseline_pairs]
    print(f"machine: {cpu_name()}, {os.cpu_count()} logical CPUs, "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    print(f"model: {config.model.arch} {config.model.num_layers}x{config.model.hidden_size}, "
          f"vocab {tokenizer.vocab_size}; backend {args.backend}, precision {args.precision}")

    def run(subset, batch_size):
        return score_pairs(model, tokenizer, subset, [args.backend], batch_size,
                           args.precision)[args.backend]

    scores, seconds = timed(lambda: run(pairs, args.batch_size))
    fast = len(pairs) / seconds
    print(f"batched (batch {args.batch_size}): {len(pairs)} pairs in {seconds:.1f} s "
          f"= {fast:.0f} pairs/s; accuracy {np.mean(scores[:, 0] > scores[:, 1]):.3f}")

    slow_scores, slow_seconds = timed(lambda: run(baseline_pairs, 1))
    slow = len(baseline_pairs) / slow_seconds
    same, _ = timed(lambda: run(baseline_pairs, args.batch_size))
    print(f"batch size 1: {len(baseline_pairs)} pairs in {slow_seconds:.1f} s = {slow:.0f} pairs/s"
          f" (max |score difference| {np.abs(slow_scores - same).max():.1e})")
    print(f"speed-up: {fast / slow:.1f}x")


if __name__ == "__main__":
    main()
