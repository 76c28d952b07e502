"""Memory of one training step of a run config: the activation estimate beside the real peak.

``antlm.train.memory`` counts the bytes the forward pass keeps for backward (on the CPU, from
fake tensors); this script trains one real step of each objective at the config's batch and
``grad_accum`` (micro-batch = batch / grad_accum rows, in eager mode, synthetic tokens), and on
a GPU reads the allocator's peak, so the estimate behind a preset's ``grad_accum`` can be
checked whenever a GPU is at hand. On the CPU there is no allocator peak to read: the step runs
and only the estimate is reported.

    python benchmarks/memory_peak.py configs/runs/ltgbert-antlm.yaml [--set KEY=VALUE]
        [--device auto] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from types import SimpleNamespace

import torch

from antlm.config import load_config
from antlm.data.objectives import ObjectiveBuilder, step_generator
from antlm.device import resolve_device, resolve_precision
from antlm.models.registry import build_model, count_parameters
from antlm.train.distributed import DistContext
from antlm.train.memory import activation_bytes, micro_batch_rows
from antlm.train.optim import build_optimizer
from antlm.train.trainer import StepRunner, prepare_parts

GiB = 2**30
N_SPECIAL = 8  # any tokenizer's reserved ids: below this, tokens are never masked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", default=None, help="also write the result here")
    args = parser.parse_args()

    config = load_config(args.config, [*args.set, "train.compile=false"])
    device = resolve_device(args.device)
    precision = resolve_precision(config.train.precision, device)
    config = config.model_copy(update={"train": config.train.model_copy(
        update={"precision": precision})})
    train, rows = config.train, micro_batch_rows(config)
    estimates = {objective: activation_bytes(config, objective) for objective in ("CLM", "MLM")}

    torch.manual_seed(0)
    with device:  # initialised where it trains: LTG-BERT base takes seconds to initialise on a CPU
        model = build_model(config.model)
    runner = StepRunner(model, build_optimizer(model, train, device), train,
                        DistContext(0, 1, 0, device))
    tokenizer = SimpleNamespace(n_special=N_SPECIAL, mask_id=4,
                                vocab_size=config.model.vocab_size)
    builder = ObjectiveBuilder(config.objective, tokenizer)
    blocks = torch.randint(N_SPECIAL, config.model.vocab_size,
                           (train.batch_size, config.model.max_seq_len))
    result = {"config": args.config, "device": str(device), "precision": precision,
              "optimizer": train.optimizer, "params": count_parameters(model),
              "batch_size": train.batch_size, "grad_accum": train.grad_accum,
              "micro_batch_rows": rows, "objectives": {}}
    for step, objective in enumerate(("CLM", "MLM")):
        part = (builder.clm(blocks) if objective == "CLM"
                else builder.mlm(blocks, step_generator(train.seed, step)))
        parts = prepare_parts([part], train, 0, 1, pin=device.type == "cuda")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        started = time.perf_counter()
        runner.step(parts, train.lr)
        peak = None
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            peak = torch.cuda.max_memory_allocated(device)
        estimate = estimates[objective]
        result["objectives"][objective] = {
            "activation_per_row_bytes": estimate.per_row,
            "activation_estimate_bytes": estimate.at(rows),
            "peak_allocated_bytes": peak, "step_s": time.perf_counter() - started,
        }
        peak_text = "n/a (no allocator peak on the CPU)" if peak is None else f"{peak / GiB:.1f} GiB"
        print(f"{objective}: {rows} rows x {train.grad_accum} micro-batches; activations "
              f"{estimate.per_row / 2**20:.1f} MiB/row -> estimate {estimate.at(rows) / GiB:.1f} "
              f"GiB; peak allocated {peak_text}", flush=True)
    if device.type == "cuda":
        result["device_memory_bytes"] = torch.cuda.get_device_properties(device).total_memory
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
