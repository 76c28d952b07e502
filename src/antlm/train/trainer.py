"""The training loop: walk the schedule's phases, switching the objective between them.

The objective switch is the heart of AntLM, so it stays visible here: each global step asks the
current phase which objective(s) to build, builds the global batch (identical on every process),
takes this process's rows, and runs one cross-entropy per objective part. Everything the loop
needs to continue (weights, optimizer, RNG, step = data position) is in the checkpoint; a resumed
run computes exactly what an uninterrupted one would.
"""

from __future__ import annotations

import json
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from antlm.config import RunConfig
from antlm.data.blocks import BlockStream, first_blocks
from antlm.data.cache import atomic_write_bytes, default_cache_dir
from antlm.data.objectives import ObjectiveBuilder, ObjectivePart, slice_parts, step_generator
from antlm.data.prepare import PreparedData, prepare_data
from antlm.data.tokenizer import AntlmTokenizer
from antlm.models.registry import build_model, count_parameters
from antlm.rundir import RunPaths, read_config
from antlm.schedule import PhaseSteps, parse_schedule
from antlm.train.checkpoint import load_checkpoint, save_checkpoint
from antlm.train.distributed import DistContext, init_distributed, shutdown_distributed
from antlm.train.loss import ObjectiveLoss, scoring_targets
from antlm.train.optim import LRSchedule, build_optimizer

DEV_SEED_STEP = 10**9
# Settings a resumed run may change: they alter how, not what, is computed (or, for lr and
# grad_clip, are the usual remedies after a divergence).
RESUMABLE_CHANGES = ("lr", "grad_clip", "log_every", "precision", "compile", "device",
                     "dev_max_blocks")  # the dev MLM masks come from a step no training run reaches


class TrainingError(RuntimeError):
    """Training cannot go on (diverged, or a run directory in the way); the message says why."""


@dataclass
class LossMeter:
    """Summed loss and token counts per objective, kept on the device between readbacks."""

    sums: dict[str, torch.Tensor] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, objective: str, summed: torch.Tensor, count: int) -> None:
        self.sums[objective] = self.sums.get(objective, 0) + summed.detach().float()
        self.counts[objective] = self.counts.get(objective, 0) + count

    def read(self) -> dict[str, float]:
        values = {k: float(v) / max(1, self.counts[k]) for k, v in self.sums.items()}
        self.sums.clear()
        self.counts.clear()
        return values


class Trainer:
    def __init__(
        self,
        config: RunConfig,
        run_dir: Path,
        data_dir: Path,
        cache_dir: Path | None = None,
        progress: bool = True,
    ) -> None:
        self.config = config
        self.paths = RunPaths(Path(run_dir))
        self.data_dir = data_dir
        self.cache_dir = cache_dir or default_cache_dir()
        self.progress = progress
        self.dist: DistContext = init_distributed(config.train.device)
        train = config.train
        if train.batch_size % (self.dist.world_size * train.grad_accum):
            raise TrainingError(
                f"train.batch_size={train.batch_size} must be divisible by processes x "
                f"train.grad_accum = {self.dist.world_size} x {train.grad_accum}"
            )

    # ------------------------------------------------------------------ set-up
    def _prepare(self, resume: bool) -> PreparedData:
        tokenizer = AntlmTokenizer.from_file(self.paths.tokenizer) if resume else None
        # Rank 0 fills the caches first; the others then read them instead of racing to write.
        if not self.dist.is_main:
            self.dist.barrier()
        data = prepare_data(self.config, self.data_dir, self.cache_dir, tokenizer)
        if self.dist.is_main:
            self.dist.barrier()
        if data.tokenizer.vocab_size > self.config.model.vocab_size:
            raise TrainingError(
                f"the tokenizer has {data.tokenizer.vocab_size} entries but model.vocab_size is "
                f"{self.config.model.vocab_size}"
            )
        return data

    def _check_run_dir(self, resume: bool) -> None:
        if resume:
            if not self.paths.checkpoint.is_file():
                raise TrainingError(f"--resume: {self.paths.root} has no checkpoint.pt")
            saved = read_config(self.paths).model_dump()
            current = self.config.model_dump()
            for key in RESUMABLE_CHANGES:
                saved["train"].pop(key), current["train"].pop(key)
            if saved != current:
                changed = sorted(
                    f"{section}.{key}"
                    for section in current
                    if isinstance(current[section], dict)
                    for key in current[section]
                    if current[section][key] != saved[section].get(key)
                )
                raise TrainingError(
                    f"--resume: the config differs from {self.paths.config} in {changed}; only "
                    f"train.{{{', '.join(RESUMABLE_CHANGES)}}} may change when resuming"
                )
        elif self.paths.checkpoint.is_file():
            raise TrainingError(
                f"{self.paths.root} already holds a run; pass --resume to continue it or choose "
                "another --out"
            )

    def _write_run_files(self, tokenizer: AntlmTokenizer) -> None:
        self.paths.root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.paths.config, self.config.to_yaml().encode())
        tokenizer.save(self.paths.tokenizer)

    def _log(self, record: dict) -> None:
        if self.dist.is_main:
            with self.paths.metrics.open("a") as handle:
                handle.write(json.dumps(record) + "\n")

    def _truncate_metrics(self, step: int) -> None:
        """Drop records written after the checkpoint we resume from (a crash between the two)."""
        if not self.dist.is_main or not self.paths.metrics.is_file():
            return
        lines = self.paths.metrics.read_text().splitlines()
        kept = [line for line in lines if line.strip() and json.loads(line)["step"] <= step]
        atomic_write_bytes(self.paths.metrics, "".join(f"{line}\n" for line in kept).encode())

    def _write_state(self, **state) -> None:
        if self.dist.is_main:
            atomic_write_bytes(self.paths.state, json.dumps(state, indent=2).encode())

    # ------------------------------------------------------------------ evaluation
    @torch.inference_mode()
    def dev_losses(
        self, model: nn.Module, builder: ObjectiveBuilder, dev_blocks: torch.Tensor
    ) -> dict[str, float]:
        """Dev loss of both objectives, whatever the phase: shows how training one objective
        moves the other. MLM masks are fixed across checks so the numbers are comparable."""
        loss_module = ObjectiveLoss(model)
        was_training = model.training
        model.eval()
        results = {}
        batch = self.config.train.batch_size
        for objective in ("CLM", "MLM"):
            total, count = 0.0, 0
            generator = step_generator(self.config.train.seed, DEV_SEED_STEP)
            for start in range(0, dev_blocks.shape[0], batch):
                blocks = dev_blocks[start:start + batch]
                part = builder.clm(blocks) if objective == "CLM" else builder.mlm(blocks, generator)
                positions, targets = scoring_targets(part, sparse_head=True)
                with self._autocast():
                    summed = loss_module(
                        part.input_ids.to(self.dist.device), part.attention,
                        None if positions is None else positions.to(self.dist.device),
                        targets.to(self.dist.device),
                    )
                total += float(summed)
                count += int((targets != -100).sum())
            results[objective] = total / max(1, count)
        model.train(was_training)
        return results

    def _autocast(self):
        if self.config.train.precision == "bf16":
            return torch.autocast(self.dist.device.type, dtype=torch.bfloat16)
        return nullcontext()

    # ------------------------------------------------------------------ the loop
    def train(self, resume: bool = False, stop_after_epochs: float | None = None) -> dict:
        config, train = self.config, self.config.train
        self._check_run_dir(resume)
        data = self._prepare(resume)
        if self.dist.is_main:
            self._write_run_files(data.tokenizer)

        torch.manual_seed(train.seed)
        model = build_model(config.model).to(self.dist.device)
        optimizer = build_optimizer(model, train, self.dist.device)
        stream = BlockStream(data.train_tokens, config.model.max_seq_len, train.batch_size, train.seed)
        dev_blocks = first_blocks(data.dev_tokens, config.model.max_seq_len, train.dev_max_blocks)
        builder = ObjectiveBuilder(config.objective, data.tokenizer)
        plan = parse_schedule(train.schedule)
        phases = plan.place(stream.steps_per_epoch)
        lr_schedule = LRSchedule(train, phases)
        total_steps = phases[-1].end_step

        step = 0
        if resume:
            step = load_checkpoint(self.paths, model, optimizer, self.dist.device)["step"]
            self._truncate_metrics(step)
        else:
            initial = self.dev_losses(model, builder, dev_blocks) if self.dist.is_main else {}
            self._log({
                "event": "start", "step": 0, "params": count_parameters(model),
                "train": data.train_corpus.summary(), "dev": data.dev_corpus.summary(),
                "train_tokens": int(len(data.train_tokens)), "steps_per_epoch": stream.steps_per_epoch,
                "total_steps": total_steps, "world_size": self.dist.world_size,
                **{f"dev_loss_{k}": v for k, v in initial.items()},
            })

        compiled = self._maybe_compile(model)
        loss_module: nn.Module = ObjectiveLoss(compiled)
        if self.dist.enabled:
            loss_module = DistributedDataParallel(
                loss_module, device_ids=[self.dist.device.index] if self.dist.device.type == "cuda" else None
            )
        model.train()
        if self.dist.is_main:
            print(f"antlm: {count_parameters(model):,} parameters; train {data.train_corpus.summary()}")
            print(f"antlm: {stream.n_blocks:,} blocks of {config.model.max_seq_len} tokens, "
                  f"{stream.steps_per_epoch} steps/epoch, {total_steps} steps, schedule {plan.canonical()}")

        meter = LossMeter()
        nonfinite = torch.zeros((), dtype=torch.bool, device=self.dist.device)
        bar = tqdm(total=total_steps, initial=step, disable=not (self.progress and self.dist.is_main),
                   unit="step", dynamic_ncols=True)
        tokens_since, clock = 0, time.perf_counter()
        started = time.perf_counter()
        stop_step = total_steps
        if stop_after_epochs is not None:
            stop_step = min(total_steps, step + round(stop_after_epochs * stream.steps_per_epoch))

        for placed in phases:
            while placed.start_step <= step < placed.end_step and step < stop_step:
                lr = lr_schedule.lr(step)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                parts = builder.build(stream.batch(step), placed.phase, step_generator(train.seed, step))
                tokens_since += self._train_step(loss_module, parts, meter, nonfinite)
                if train.grad_clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                bar.update(1)

                if step % train.log_every == 0:
                    self._check_finite(nonfinite, step, placed)
                    losses = meter.read()
                    elapsed = time.perf_counter() - clock
                    speed = tokens_since * self.dist.world_size / max(elapsed, 1e-9)
                    tokens_since, clock = 0, time.perf_counter()
                    self._log({"event": "train", "step": step, "epoch": step / stream.steps_per_epoch,
                               "phase": placed.index + 1, "objective": placed.phase.objective,
                               "lr": lr, "tokens_per_s": speed, **{f"loss_{k}": v for k, v in losses.items()}})
                    bar.set_postfix_str(
                        f"phase {placed.index + 1}/{len(phases)} {placed.phase.objective} "
                        + " ".join(f"{k} {v:.3f}" for k, v in losses.items())
                        + f" {speed:,.0f} tok/s"
                    )

                at_epoch_end = step % stream.steps_per_epoch == 0
                if at_epoch_end or step == placed.end_step or step == stop_step:
                    self._check_finite(nonfinite, step, placed)
                    self._end_of_epoch(model, optimizer, builder, dev_blocks, step, stream, placed,
                                       total_steps, bar, time.perf_counter() - started)
        bar.close()
        finished = step >= total_steps
        self._write_state(step=step, total_steps=total_steps, epoch=step / stream.steps_per_epoch,
                          finished=finished)
        shutdown_distributed(self.dist)
        return {"step": step, "finished": finished}

    def _train_step(
        self, loss_module: nn.Module, parts: list[ObjectivePart], meter: LossMeter,
        nonfinite: torch.Tensor,
    ) -> int:
        """Forward/backward over this process's rows, in ``grad_accum`` micro-batches; returns
        the number of input tokens processed."""
        train, device = self.config.train, self.dist.device
        local = slice_parts(parts, self.dist.rank, self.dist.world_size)
        micro_batches = [slice_parts(local, i, train.grad_accum) for i in range(train.grad_accum)]
        tokens = 0
        n_backward = sum(len(m) for m in micro_batches)
        done = 0
        for micro in micro_batches:
            for part in micro:
                done += 1
                sync = done == n_backward
                no_sync = getattr(loss_module, "no_sync", None)
                context = no_sync() if (no_sync is not None and not sync) else nullcontext()
                positions, targets = scoring_targets(part, train.sparse_head)
                with context:
                    with self._autocast():
                        summed = loss_module(
                            part.input_ids.to(device, non_blocking=True), part.attention,
                            None if positions is None else positions.to(device, non_blocking=True),
                            targets.to(device, non_blocking=True),
                        )
                    (summed * (part.loss_scale * self.dist.world_size)).backward()
                nonfinite |= ~torch.isfinite(summed.detach())
                meter.add(part.objective, summed, int((targets != -100).sum()))
                tokens += part.input_ids.numel()
        return tokens

    def _check_finite(self, nonfinite: torch.Tensor, step: int, placed: PhaseSteps) -> None:
        if bool(nonfinite):
            raise TrainingError(
                f"the loss became NaN/inf before step {step} (phase {placed.index + 1}, "
                f"{placed.phase.objective}, lr {self.config.train.lr:g}); the last good "
                f"checkpoint is kept in {self.paths.root}. Try a lower train.lr, "
                "train.grad_clip, or train.precision=fp32."
            )

    def _maybe_compile(self, model: nn.Module) -> nn.Module:
        if not self.config.train.compile:
            return model
        try:
            return torch.compile(model)
        except Exception as exc:  # compile support varies by platform; eager always works
            print(f"antlm: torch.compile unavailable ({exc}); training eagerly")
            return model

    def _end_of_epoch(
        self, model: nn.Module, optimizer: torch.optim.Optimizer, builder: ObjectiveBuilder,
        dev_blocks: torch.Tensor, step: int, stream: BlockStream, placed: PhaseSteps,
        total_steps: int, bar: tqdm, elapsed: float,
    ) -> None:
        epoch = step / stream.steps_per_epoch
        if self.dist.is_main:
            dev = self.dev_losses(model, builder, dev_blocks)
            for objective, value in dev.items():
                if not math.isfinite(value):
                    raise TrainingError(f"dev {objective} loss is {value} at step {step}")
            save_checkpoint(self.paths, model, optimizer, step, {"epoch": epoch})
            self._log({"event": "dev", "step": step, "epoch": epoch, "phase": placed.index + 1,
                       "objective": placed.phase.objective, "elapsed_s": elapsed,
                       **{f"dev_loss_{k}": v for k, v in dev.items()}})
            self._write_state(step=step, total_steps=total_steps, epoch=epoch, finished=False)
            bar.write(
                f"epoch {epoch:5.2f}  phase {placed.index + 1} {placed.phase.objective:<3}  "
                f"dev CLM loss {dev['CLM']:.4f}  dev MLM loss {dev['MLM']:.4f}  "
                f"({elapsed:,.0f} s)"
            )
        self.dist.barrier()


def train_run(
    config: RunConfig,
    run_dir: Path,
    data_dir: Path,
    resume: bool = False,
    stop_after_epochs: float | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> dict:
    """Train (or resume) a run; returns ``{"step": ..., "finished": ...}``."""
    return Trainer(config, run_dir, data_dir, cache_dir, progress).train(resume, stop_after_epochs)
