"""Training throughput: antlm against a Hugging Face ``LlamaForCausalLM`` baseline.

Both train the same shape for the same steps under the schedule ``1_CLM+1_MLM`` (the first half
of the steps CLM, the second half MLM) on the same batches, with torch AdamW at the same lr,
warm-up+cosine schedule and gradient clipping (1.0), in one process, interleaved in chunks of
steps (a b, b a, a b, ...) so that machine drift and other load hit both alike.

- **antlm**: its real training path (``ObjectiveBuilder`` batches prepared by the trainer's
  prefetch thread, ``StepRunner`` = the trainer's inner loop, ``ObjectiveLoss``,
  ``build_optimizer``) with the settings given below (default: the fast ones).
- **baseline**: ``transformers.LlamaForCausalLM(attn_implementation="sdpa")``, fp32, eager,
  torch AdamW with its default implementation, batches built inline as a ``DataLoader`` with
  ``num_workers=0`` does. CLM batches: ``model(input_ids, labels=input_ids).loss``. MLM batches:
  what a user of ``DataCollatorForLanguageModeling(mlm=True)`` with this model gets: the same
  corrupted inputs and ``-100``-elsewhere labels as antlm's MLM batch, passed as ``labels=`` to
  the model, whose loss computes full-vocabulary logits at every position and (a causal LM's
  loss shifts the labels) predicts each masked token from the causal prefix before it: there is
  no bidirectional attention in ``LlamaForCausalLM``.

Prints tokens/s per objective and overall, the ratio antlm/baseline, model FLOP utilisation
against matmul peaks measured in the same run, the machine, and both systems' dev losses after
the same steps (after the CLM half and at the end), so "faster at equal quality" can be checked.

    python benchmarks/train_speed.py [--steps 60] [--shape default|58m] [--synthetic]
        [--precision auto|bf16|fp32] [--no-compile] [--no-sparse-head] [--no-prefetch]
        [--ablation] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from machine import machine  # benchmarks/machine.py
from torch import nn

from antlm.config import DataConfig, ModelConfig, RunConfig, TokenizerConfig, TrainConfig
from antlm.data.blocks import BlockStream, Prefetcher, first_blocks
from antlm.data.cache import default_cache_dir
from antlm.data.objectives import IGNORE, ObjectiveBuilder, step_generator
from antlm.device import native_bf16, resolve_device
from antlm.models.registry import build_model, count_parameters
from antlm.schedule import PlacedPlan, parse_schedule
from antlm.train.distributed import DistContext
from antlm.train.optim import LRSchedule, build_optimizer, param_groups
from antlm.train.trainer import DEV_SEED_STEP, StepRunner, objective_dev_losses, prepare_parts

SCHEDULE = "1_CLM+1_MLM"
SHAPES = {
    "default": {"hidden_size": 256, "num_layers": 4, "num_heads": 4, "ffn_size": 1024},
    # configs/models/babyllama-58m.yaml exactly, so that a run of the preset after this one
    # finds its compiled graphs in inductor's cache (make gpu-check does).
    "58m": {"hidden_size": 512, "num_layers": 16, "num_heads": 8, "ffn_size": 1024,
            "norm_eps": 1e-6},
}
# --ablation: antlm again with one speed-up off each (name, TrainConfig changes, prefetch).
ABLATIONS = [
    ("no compile", {"compile": False}, True),
    ("fp32", {"precision": "fp32"}, True),
    ("dense head", {"sparse_head": False}, True),
    ("no prefetch", {}, False),
]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(dtype: torch.dtype, device: torch.device) -> float:
    """FLOP/s of a square matmul (2048 on CPU, 8192 on GPU): the peak MFU is measured against.
    A CPU without bf16 hardware emulates bf16 at about a tenth of its fp32 rate, where one
    2048 product takes tens of seconds: its bf16 rate is measured on 512."""
    n = 8192 if device.type == "cuda" else 2048
    if dtype == torch.bfloat16 and not native_bf16(device):
        n = 512
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    for _ in range(2):
        a @ b
    sync(device)
    reps, started = 0, time.perf_counter()
    while reps < 3 or time.perf_counter() - started < 1.0:
        a @ b
        reps += 1
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - started)


def measure_peaks(device: torch.device) -> dict[str, float]:
    return {"fp32": matmul_peak(torch.float32, device),
            "bf16": matmul_peak(torch.bfloat16, device)}


def flops_per_token(model: ModelConfig) -> float:
    """Training FLOPs per token (PaLM's estimate): 6 x matmul parameters (head included, the
    embedding lookup not) + 12 x layers x hidden x sequence for attention. The same nominal
    figure for both systems: MFU measures useful work, whatever shortcut computes it."""
    per_layer = 4 * model.hidden_size**2 + 3 * model.hidden_size * model.ffn_size
    matmul_params = model.num_layers * per_layer + model.hidden_size * model.vocab_size
    return 6 * matmul_params + 12 * model.num_layers * model.hidden_size * model.max_seq_len


# ------------------------------------------------------------------------------ the data
@dataclass
class BenchData:
    builder: ObjectiveBuilder
    stream: BlockStream
    dev_blocks: torch.Tensor
    source: str


def load_data(config: RunConfig, args: argparse.Namespace) -> BenchData:
    seq, train = config.model.max_seq_len, config.train
    if args.synthetic:
        rng = np.random.default_rng(0)
        n_special = 8
        tokenizer = SimpleNamespace(n_special=n_special, mask_id=4,
                                    vocab_size=config.model.vocab_size)
        train_tokens = rng.integers(n_special, config.model.vocab_size, 2_000_000, dtype=np.int32)
        dev_tokens = rng.integers(n_special, config.model.vocab_size, 64 * seq, dtype=np.int32)
        source = "synthetic uniform tokens"
    else:
        from antlm.config import resolve_data_dir
        from antlm.data.prepare import prepare_data

        data = prepare_data(config, resolve_data_dir(args.data_dir), default_cache_dir())
        tokenizer, train_tokens, dev_tokens = data.tokenizer, data.train_tokens, data.dev_tokens
        source = f"BabyLM {data.train_corpus.summary()}"
    return BenchData(
        ObjectiveBuilder(config.objective, tokenizer),
        BlockStream(train_tokens, seq, train.batch_size, train.seed),
        first_blocks(dev_tokens, seq, train.dev_max_blocks),
        source,
    )


# ------------------------------------------------------------------------------ the systems
@dataclass
class System:
    """One trainer under test: runs global steps, reports dev losses, accumulates timings."""

    name: str
    run_step: Callable[[int], int]
    dev_losses: Callable[[], dict[str, float]]
    setup_s: float
    close: Callable[[], None] = lambda: None
    seconds: dict[str, float] = field(default_factory=lambda: {"CLM": 0.0, "MLM": 0.0})
    tokens: dict[str, int] = field(default_factory=lambda: {"CLM": 0, "MLM": 0})
    warmup_s: float = 0.0
    dev: dict[str, dict[str, float]] = field(default_factory=dict)


def antlm_system(
    name: str, config: RunConfig, data: BenchData, phases: PlacedPlan, prefetch: bool,
    device: torch.device,
) -> System:
    train = config.train
    started = time.perf_counter()
    torch.manual_seed(train.seed)
    model = build_model(config.model).to(device)
    runner = StepRunner(model, build_optimizer(model, train, device), train,
                        DistContext(0, 1, 0, device))
    model.train()
    schedule = LRSchedule(train, phases)

    def make(step: int):
        parts = data.builder.build(data.stream.batch(step), phases.phase_at(step).phase,
                                   step_generator(train.seed, step))
        return prepare_parts(parts, train, 0, 1, pin=device.type == "cuda")

    total = phases.total_steps
    prefetcher = Prefetcher(make, range(total)) if prefetch else None
    batches: Iterator = iter(prefetcher) if prefetcher else ((s, make(s)) for s in range(total))

    def run_step(step: int) -> int:
        index, parts = next(batches)
        assert index == step, (index, step)
        return runner.step(parts, schedule.lr(step))

    return System(
        name, run_step,
        lambda: objective_dev_losses(model, data.builder, data.dev_blocks, train, device),
        time.perf_counter() - started, close=prefetcher.close if prefetcher else lambda: None,
    )


def baseline_system(
    config: RunConfig, data: BenchData, phases: PlacedPlan, device: torch.device
) -> System:
    from transformers import LlamaConfig, LlamaForCausalLM

    m, train = config.model, config.train
    started = time.perf_counter()
    torch.manual_seed(train.seed)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=m.vocab_size, hidden_size=m.hidden_size, intermediate_size=m.ffn_size,
        num_hidden_layers=m.num_layers, num_attention_heads=m.num_heads,
        num_key_value_heads=m.num_heads, max_position_embeddings=m.max_seq_len,
        rms_norm_eps=m.norm_eps, rope_theta=m.rope_theta, tie_word_embeddings=False,
        attn_implementation="sdpa",
    )).to(device)
    model.train()
    optimizer = torch.optim.AdamW(param_groups(model, train.weight_decay), lr=train.lr,
                                  betas=train.betas, eps=train.eps)
    schedule = LRSchedule(train, phases)

    def run_step(step: int) -> int:
        (part,) = data.builder.build(data.stream.batch(step), phases.phase_at(step).phase,
                                     step_generator(train.seed, step))
        labels = part.input_ids if part.objective == "CLM" else part.labels
        for group in optimizer.param_groups:
            group["lr"] = schedule.lr(step)
        model(input_ids=part.input_ids.to(device), labels=labels.to(device)).loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return part.input_ids.numel()

    @torch.inference_mode()
    def dev_losses() -> dict[str, float]:
        model.eval()
        results = {}
        for objective in ("CLM", "MLM"):
            generator = step_generator(train.seed, DEV_SEED_STEP)
            total, count = 0.0, 0
            for start in range(0, data.dev_blocks.shape[0], train.batch_size):
                blocks = data.dev_blocks[start:start + train.batch_size]
                if objective == "CLM":
                    inputs, labels = blocks, blocks
                else:
                    part = data.builder.mlm(blocks, generator)
                    inputs, labels = part.input_ids, part.labels
                n = int((labels[:, 1:] != IGNORE).sum())  # the model's loss shifts the labels
                loss = model(input_ids=inputs.to(device), labels=labels.to(device)).loss
                total, count = total + float(loss) * n, count + n
            results[objective] = total / max(1, count)
        model.train()
        return results

    return System("baseline", run_step, dev_losses, time.perf_counter() - started)


# ------------------------------------------------------------------------------ the run
def chunks(phases: PlacedPlan, warmup: int, size: int) -> list[tuple[int, int, bool]]:
    """``(start, stop, is_warmup)`` step ranges: per phase, ``warmup`` steps left out of tokens/s
    (first calls, allocator growth), then chunks of ``size`` steps."""
    out = []
    for phase in phases:
        start = phase.start_step
        if warmup:
            out.append((start, min(phase.end_step, start + warmup), True))
            start = min(phase.end_step, start + warmup)
        out += [(s, min(phase.end_step, s + size), False)
                for s in range(start, phase.end_step, size)]
    return out


def run(systems: list[System], phases: PlacedPlan, args: argparse.Namespace,
        device: torch.device) -> None:
    phase_ends = {p.end_step for p in phases}
    for number, (start, stop, warm) in enumerate(chunks(phases, args.warmup, args.chunk)):
        objective = phases.phase_at(start).phase.objective
        # Alternate the order so that neither system always runs right after the other.
        for system in systems if number % 2 == 0 else systems[::-1]:
            sync(device)
            began = time.perf_counter()
            tokens = sum(system.run_step(step) for step in range(start, stop))
            sync(device)
            elapsed = time.perf_counter() - began
            if warm:
                system.warmup_s += elapsed
            else:
                system.seconds[objective] += elapsed
                system.tokens[objective] += tokens
        if stop in phase_ends:
            for system in systems:
                system.dev[f"after_{objective}"] = system.dev_losses()
    for system in systems:
        system.close()


def speeds(system: System) -> dict[str, float]:
    out = {k: system.tokens[k] / max(system.seconds[k], 1e-9) for k in ("CLM", "MLM")}
    out["both"] = sum(system.tokens.values()) / max(sum(system.seconds.values()), 1e-9)
    return out


def summarise(systems: list[System], config: RunConfig, peaks: dict[str, float]) -> dict:
    per_token = flops_per_token(config.model)
    base = speeds(systems[-1])
    rows = {}
    for system in systems:
        speed = speeds(system)
        rows[system.name] = {
            "tokens_per_s": speed,
            "ratio_vs_last": {k: speed[k] / base[k] for k in speed},
            "mfu_vs_fp32_peak": speed["both"] * per_token / peaks["fp32"],
            "mfu_vs_bf16_peak": speed["both"] * per_token / peaks["bf16"],
            "setup_s": system.setup_s, "warmup_s": system.warmup_s, "dev_loss": system.dev,
        }
    return rows


def print_report(result: dict) -> None:
    info, m, t = result["machine"], result["model"], result["train"]
    print(f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, torch {info['torch']} "
          f"with {info['torch_threads']} threads, device {info['device']}"
          + (f" ({info['gpu']})" if info["gpu"] else "")
          + (f", LD_PRELOAD={info['ld_preload']}" if info["ld_preload"] else "")
          + f"; load average {info['load_average'][0]:.2f} at start, "
          f"{result['load_average_end'][0]:.2f} at end")
    print(f"shape {result['shape']}: {m['num_layers']} layers x {m['hidden_size']}, "
          f"{m['num_heads']} heads, FFN {m['ffn_size']}, vocab {m['vocab_size']}, seq "
          f"{m['max_seq_len']}, batch {t['batch_size']}; {result['params'] / 1e6:.1f}M "
          f"parameters; data: {result['data']}")
    peaks = result["peak_flops"]
    print(f"{result['steps']} steps of {result['schedule']}; antlm: precision {t['precision']}, "
          f"compile {t['compile']}, sparse head {t['sparse_head']}, prefetch "
          f"{result['prefetch']}; baseline: HF LlamaForCausalLM sdpa fp32 eager. Matmul peaks: "
          f"fp32 {peaks['fp32'] / 1e9:,.0f} GFLOP/s, bf16 {peaks['bf16'] / 1e9:,.0f} GFLOP/s")
    last = list(result["systems"])[-1]
    print(f"{'system':<18}{'CLM tok/s':>10}{'MLM tok/s':>10}{'both':>8}{'x ' + last:>12}"
          f"{'MFU fp32':>9}{'MFU bf16':>9}{'dev CLM':>8}{'dev MLM':>8}{'mid CLM':>8}{'setup s':>8}")
    for name, row in result["systems"].items():
        speed, dev = row["tokens_per_s"], row["dev_loss"]
        end, mid = dev.get("after_MLM", {}), dev.get("after_CLM", {})
        print(f"{name:<18}{speed['CLM']:>10,.0f}{speed['MLM']:>10,.0f}{speed['both']:>8,.0f}"
              f"{row['ratio_vs_last']['both']:>11.2f}x{row['mfu_vs_fp32_peak']:>9.1%}"
              f"{row['mfu_vs_bf16_peak']:>9.1%}{end.get('CLM', float('nan')):>8.3f}"
              f"{end.get('MLM', float('nan')):>8.3f}{mid.get('CLM', float('nan')):>8.3f}"
              f"{row['setup_s']:>8.1f}")
    print("dev CLM/MLM: after all steps; mid CLM: dev CLM loss after the CLM half. The baseline's "
          "dev MLM is its causal model predicting each masked token from the prefix.")


def build_config(args: argparse.Namespace) -> RunConfig:
    return RunConfig(
        data=DataConfig(max_words=args.max_words, dev_max_words=30_000),
        tokenizer=TokenizerConfig(vocab_size=args.vocab),
        model=ModelConfig(vocab_size=args.vocab, max_seq_len=args.seq_len, **SHAPES[args.shape]),
        train=TrainConfig(
            schedule=SCHEDULE, batch_size=args.batch_size, lr=args.lr, precision=args.precision,
            compile=not args.no_compile, sparse_head=not args.no_sparse_head, device=args.device,
            dev_max_blocks=64,
        ),
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="default")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps, half CLM half MLM")
    parser.add_argument("--chunk", type=int, default=5, help="steps per interleaved chunk")
    parser.add_argument("--warmup", type=int, default=2,
                        help="first steps of each objective left out of tokens/s")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=16000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--no-sparse-head", action="store_true")
    parser.add_argument("--no-prefetch", action="store_true")
    parser.add_argument("--no-baseline", action="store_true", help="antlm variants only")
    parser.add_argument("--ablation", action="store_true",
                        help="also run antlm with each speed-up switched off, interleaved")
    parser.add_argument("--synthetic", action="store_true", help="random tokens, no data dir")
    parser.add_argument("--data-dir", default=None, help="default: $ANTLM_DATA_DIR")
    parser.add_argument("--max-words", type=int, default=300_000, help="training words read")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", default=None, help="also write the result here")
    args = parser.parse_args()
    if args.steps < 2 or args.steps % 2:
        parser.error("--steps must be even: half CLM, half MLM")
    return args


def main() -> None:
    args = parse_args()
    config = build_config(args)
    device = resolve_device(args.device)
    info = machine(device)
    data = load_data(config, args)
    phases = parse_schedule(SCHEDULE).place(args.steps // 2)
    peaks = measure_peaks(device)

    systems = [antlm_system("antlm", config, data, phases, not args.no_prefetch, device)]
    if args.ablation:
        for name, changes, prefetch in ABLATIONS:
            train = config.train.model_copy(update=changes)
            systems.append(antlm_system(f"antlm {name}", config.model_copy(update={"train": train}),
                                        data, phases, prefetch and not args.no_prefetch, device))
    if not args.no_baseline:
        systems.append(baseline_system(config, data, phases, device))
    run(systems, phases, args, device)
    # Measured again at the end, keeping the better: other load on the machine lowers a
    # measurement, never raises it.
    peaks = {k: max(v, measure_peaks(device)[k]) for k, v in peaks.items()}
    result = {
        "machine": info, "shape": args.shape, "model": config.model.model_dump(),
        "steps": args.steps, "schedule": SCHEDULE, "train": config.train.model_dump(),
        "prefetch": not args.no_prefetch, "data": data.source,
        "params": count_parameters(build_model(config.model)),
        "flops_per_token": flops_per_token(config.model), "peak_flops": peaks,
        "systems": summarise(systems, config, peaks), "load_average_end": os.getloadavg(),
    }
    print_report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
