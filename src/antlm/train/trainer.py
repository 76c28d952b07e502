"""The training loop: walk the schedule's phases, switching the objective between them.

The objective switch is the heart of AntLM, so it stays visible here: each global step asks the
current phase which objective(s) to build, builds the global batch (identical on every process),
takes this process's rows, and runs one cross-entropy per objective part. Everything the loop
needs to continue (weights, optimizer, RNG, step = data position) is in the checkpoint; a resumed
run computes exactly what an uninterrupted one would.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from antlm.atomic import atomic_write_bytes
from antlm.config import RunConfig, TrainConfig
from antlm.data.blocks import BlockStream, Prefetcher, first_blocks
from antlm.data.cache import default_cache_dir
from antlm.data.objectives import (
    IGNORE,
    ObjectiveBuilder,
    ObjectivePart,
    slice_parts,
    step_generator,
)
from antlm.data.prepare import PreparedData, load_corpora, tokenize_corpora
from antlm.data.tokenizer import AntlmTokenizer
from antlm.device import resolve_precision
from antlm.errors import AntlmError
from antlm.locks import RunLock
from antlm.models.registry import build_model, count_parameters
from antlm.progress import LossReading, progress_bar, training_label
from antlm.rundir import (
    MetricRecord,
    PhaseSpan,
    RunPaths,
    RunState,
    append_metric,
    clear_records,
    milestone_name,
    present,
    read_config,
    read_metrics,
    read_state,
    read_tokenizer,
    truncate_metrics,
    write_state,
)
from antlm.schedule import PhaseSteps, PlacedPlan
from antlm.speeds import (
    FIRST_STEPS,
    Workload,
    estimate,
    machine,
    rate_estimate,
    record_speed,
    recorded_rate,
)
from antlm.tracking import Tracker, check_trackers, open_tracker
from antlm.train import milestones
from antlm.train.checkpoint import (
    gather_rng_states,
    load_checkpoint,
    save_checkpoint,
    save_weights,
)
from antlm.train.compile_errors import is_compile_failure
from antlm.train.distributed import DistContext, init_distributed, shutdown_distributed
from antlm.train.loss import ObjectiveLoss, scoring_targets
from antlm.train.optim import LRSchedule, build_optimizer
from antlm.train.plan import check_nominal_budget, phase_words, place_plan
from antlm.units import short_count

DEV_SEED_STEP = 10**9
# Settings a resumed run may change: they alter how, not what, is computed (or, for lr and
# grad_clip, are the usual remedies after a divergence).
RESUMABLE_CHANGES = ("lr", "grad_clip", "log_every", "precision", "compile", "device",
                     "dev_max_blocks",  # the dev MLM masks come from a step no training run reaches
                     "dev_every",  # when dev losses are measured, not what is trained
                     "checkpoint_words",  # which weights are kept, not what is computed
                     "checkpoint_epochs",
                     "report_to")  # who watches


class TrainingError(AntlmError, RuntimeError):
    """Training cannot go on (diverged, or a run directory in the way); the message says why."""


@dataclass
class LossMeter:
    """Summed loss and token counts per objective, kept on the device between readbacks."""

    sums: dict[str, torch.Tensor] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, objective: str, summed: torch.Tensor, count: int) -> None:
        self.sums[objective] = self.sums.get(objective, 0) + summed.detach().float()
        self.counts[objective] = self.counts.get(objective, 0) + count

    def read(self, dist: DistContext) -> dict[str, float]:
        """Mean loss per objective since the last read, over all processes' rows (one
        all-reduce; every rank calls it), so a DDP run logs what one process would."""
        objectives = ("CLM", "MLM")  # fixed order: a rank may have seen no rows of one
        totals = torch.stack([
            torch.stack([torch.as_tensor(self.sums.get(k, 0.0), dtype=torch.float64,
                                         device=dist.device) for k in objectives]),
            torch.tensor([float(self.counts.get(k, 0)) for k in objectives],
                         dtype=torch.float64, device=dist.device),
        ])
        if dist.enabled:
            torch.distributed.all_reduce(totals)
        self.sums.clear()
        self.counts.clear()
        return {k: float(totals[0, i] / totals[1, i])
                for i, k in enumerate(objectives) if totals[1, i] > 0}


def autocast(precision: str, device: torch.device):
    """bf16 autocast (matmuls in bf16, the loss in fp32) or nothing; ``auto`` as
    :func:`antlm.device.resolve_precision` decides for ``device``."""
    if resolve_precision(precision, device) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


@dataclass
class ScoredPart:
    """One forward/backward of the inner loop, fully prepared on the host (by the prefetch
    thread): this process's rows of one objective part, the positions the head scores and
    their targets. Counting the scored tokens here, on host tensors, keeps the inner loop free
    of device-to-host syncs."""

    objective: str
    attention: str
    input_ids: torch.Tensor
    positions: torch.Tensor | None
    targets: torch.Tensor
    scored: int  # this process's scored tokens of the micro-batch
    share: float  # the objective's share of the step (ObjectivePart)
    global_scored: int  # its scored tokens over the whole step, all processes


def prepare_parts(
    parts: list[ObjectivePart], train: TrainConfig, rank: int, world_size: int, pin: bool
) -> list[ScoredPart]:
    """This process's rows of a global step, split into ``grad_accum`` micro-batches (in
    backward order). ``pin`` page-locks the tensors so the copy to a GPU is asynchronous."""
    local = slice_parts(parts, rank, world_size)
    prepared = []
    for index in range(train.grad_accum):
        for part in slice_parts(local, index, train.grad_accum):
            positions, targets = scoring_targets(part, train.sparse_head)
            tensors = [part.input_ids, positions, targets]
            if pin:
                tensors = [None if t is None else t.pin_memory() for t in tensors]
            prepared.append(ScoredPart(
                part.objective, part.attention, tensors[0], tensors[1], tensors[2],
                int((targets != IGNORE).sum()), part.share, part.global_scored,
            ))
    return prepared


def compiled_loss(
    model: nn.Module, rows: int, seq_len: int, precision: str, device: torch.device
) -> ObjectiveLoss:
    """An ``ObjectiveLoss`` with ``torch.compile``d body and head, or the eager one with the
    reason printed.

    Compilation is lazy, so a platform without a working compiler fails at the first call, not
    at ``torch.compile``: a probe forward+backward of both objectives (causal over all rows,
    bidirectional over a subset), under the run's autocast, compiles every graph the run needs
    now and, if the compiler fails, we train eagerly instead of crashing at step 1. Errors of
    the device (out of memory, a CUDA fault) are not compile failures and propagate: eager mode
    would meet them too, later and less clearly (see ``is_compile_failure``). The probe runs under
    a forked RNG and leaves no gradients, so it changes nothing the run computes. Inductor
    caches compiled graphs on disk (its FX-graph and AOT-autograd caches, on by default), so a
    later run of the same shape compiles in seconds instead of tens of seconds.
    """
    loss = ObjectiveLoss(model, compile=True)
    probe = torch.zeros(rows, seq_len, dtype=torch.long, device=device)
    targets = torch.zeros(rows * seq_len, dtype=torch.long, device=device)
    subset = torch.arange(0, rows * seq_len, 7, device=device)
    was_training = model.training
    model.train()
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            for attention, positions in (("causal", None), ("bidirectional", subset)):
                with autocast(precision, device):
                    summed = loss(probe, attention, positions,
                                  targets if positions is None else targets[positions])
                summed.backward()
    except Exception as exc:
        if not is_compile_failure(exc):
            raise
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"antlm: torch.compile failed ({type(exc).__name__}: {first_line}); "
              "training eagerly")
        loss = ObjectiveLoss(model)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return loss


class StepRunner:
    """The inner loop of one optimizer step: forward/backward of every prepared part, gradient
    clipping, the optimizer step. The trainer and ``benchmarks/train_speed.py`` share it, so the
    benchmark times exactly the code that trains.

    Nothing here reads a value back from the device: losses and the non-finite flag accumulate
    on the device and are read every ``log_every`` steps.
    """

    def __init__(
        self, model: nn.Module, optimizer: torch.optim.Optimizer, train: TrainConfig,
        dist: DistContext,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.train = train
        self.dist = dist
        self.loss_module: nn.Module = ObjectiveLoss(model)
        if train.compile:
            rows = max(1, train.batch_size // (dist.world_size * train.grad_accum))
            self.loss_module = compiled_loss(
                model, rows, model.config.max_seq_len, train.precision, dist.device
            )
        if dist.enabled:
            self.loss_module = DistributedDataParallel(
                self.loss_module,
                device_ids=[dist.device.index] if dist.device.type == "cuda" else None,
            )
        self.meter = LossMeter()
        self.nonfinite = torch.zeros((), dtype=torch.bool, device=dist.device)

    def step(self, parts: list[ScoredPart], lr: float) -> int:
        """One optimizer step at ``lr``; returns the input tokens this process processed.

        The loss is scaled here and nowhere else (as nanoGPT's ``train.py`` divides by its
        accumulation steps just before the backward): the loss module returns the *summed*
        cross-entropy of this micro-batch's scored tokens, which is divided by the objective's
        scored tokens over the whole global step and weighted by its share of the step's rows
        (a MIX phase), so that the micro-batches and processes add up to the mean loss per
        objective of one device; times the processes, because DDP averages their gradients."""
        device, world_size = self.dist.device, self.dist.world_size
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        no_sync = getattr(self.loss_module, "no_sync", None)
        tokens = 0
        for index, part in enumerate(parts):
            # DDP all-reduces gradients on the last backward of the step only.
            last = index == len(parts) - 1
            with no_sync() if (no_sync is not None and not last) else nullcontext():
                with autocast(self.train.precision, device):
                    summed = self.loss_module(
                        part.input_ids.to(device, non_blocking=True), part.attention,
                        None if part.positions is None
                        else part.positions.to(device, non_blocking=True),
                        part.targets.to(device, non_blocking=True),
                    )
                loss = summed * (part.share / part.global_scored * world_size)
                loss.backward()
            self.nonfinite |= ~torch.isfinite(summed.detach())
            self.meter.add(part.objective, summed, part.scored)
            tokens += part.input_ids.numel()
        if self.train.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.train.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return tokens


@torch.inference_mode()
def objective_dev_losses(
    model: nn.Module, builder: ObjectiveBuilder, dev_blocks: torch.Tensor, train: TrainConfig,
    device: torch.device,
) -> dict[str, float]:
    """Mean dev loss of both objectives, whatever the phase: shows how training one objective
    moves the other. MLM masks are fixed across checks so the numbers are comparable."""
    loss_module = ObjectiveLoss(model)
    was_training = model.training
    model.eval()
    results = {}
    for objective in ("CLM", "MLM"):
        total, count = 0.0, 0
        generator = step_generator(train.seed, DEV_SEED_STEP)
        for start in range(0, dev_blocks.shape[0], train.batch_size):
            blocks = dev_blocks[start:start + train.batch_size]
            part = builder.clm(blocks) if objective == "CLM" else builder.mlm(blocks, generator)
            positions, targets = scoring_targets(part, sparse_head=True)
            with autocast(train.precision, device):
                summed = loss_module(
                    part.input_ids.to(device), part.attention,
                    None if positions is None else positions.to(device), targets.to(device),
                )
            total += float(summed)
            count += int((targets != IGNORE).sum())
        results[objective] = total / max(1, count)
    model.train(was_training)
    return results


@dataclass
class TrainingRun:
    """Everything a run holds between two steps, in one place: what the model trains on
    (stream, builder, plan), what it trains (model, optimizer, step runner), how fast (LR
    schedule), and where it is (``step``: the data position, see ``BlockStream``, from which the
    words and tokens seen follow exactly)."""

    data: PreparedData
    model: nn.Module
    optimizer: torch.optim.Optimizer
    runner: StepRunner
    stream: BlockStream
    builder: ObjectiveBuilder
    dev_blocks: torch.Tensor
    plan: PlacedPlan
    lr_schedule: LRSchedule
    milestones: milestones.Milestones
    step: int = 0
    reading: LossReading | None = None  # the latest loss readback, for the progress bar
    dev: dict[str, float] = field(default_factory=dict)  # the latest dev losses (rank 0)

    @property
    def epoch(self) -> float:
        return self.step / self.stream.steps_per_epoch

    @property
    def words_seen(self) -> int:
        return self.stream.words_seen(self.step)

    @property
    def tokens_seen(self) -> int:
        return self.stream.tokens_seen(self.step)

    @property
    def phase(self) -> PhaseSteps:
        """The phase of the step last taken."""
        return self.plan.phase_at(self.step - 1)

    def progress(self) -> dict[str, float | int]:
        """Where the run is, as every record gives it."""
        return {"step": self.step, "epoch": self.epoch, "words_seen": self.words_seen,
                "tokens_seen": self.tokens_seen}

    def stop_step(self, stop_after_epochs: float | None) -> int:
        """Where this invocation stops: the end of the plan, or earlier with
        ``--stop-after-epochs`` (counted from the step it starts at)."""
        if stop_after_epochs is None:
            return self.plan.total_steps
        more = round(stop_after_epochs * self.stream.steps_per_epoch)
        return min(self.plan.total_steps, self.step + more)

    def reads_losses(self, log_every: int) -> bool:
        """Whether the step just taken reads the training losses back and logs them: the first
        step (a short run shows its starting loss, speed and lr at once), every ``log_every``
        steps, and the run's last step (whose losses would otherwise never be read). The steps
        follow from the plan alone, so a resumed run logs at the steps a straight one does."""
        return self.step == 1 or self.step % log_every == 0 or self.step == self.plan.total_steps

    def at_checkpoint(self, stop_step: int) -> bool:
        """Whether the step just taken ends an epoch, a phase or this invocation: the points at
        which dev losses are measured and the run is checkpointed."""
        return (self.step % self.stream.steps_per_epoch == 0
                or self.step == self.phase.end_step or self.step == stop_step)

    def dev_due(self, every: float) -> bool:
        """Whether the step just taken falls on a ``train.dev_every`` check: every ``every``
        epochs (at least one step) counted from the epoch's start, so that the checks sit at
        the same fractions of every epoch and a resumed run makes the same ones."""
        interval = max(1, round(every * self.stream.steps_per_epoch))
        return self.step % self.stream.steps_per_epoch % interval == 0


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
        self.tracker = Tracker([])  # the run's trackers, opened with the run (rank 0 only)
        self.lock = RunLock(self.paths.root)
        train = config.train
        if train.batch_size % (self.dist.world_size * train.grad_accum):
            raise TrainingError(
                f"train.batch_size={train.batch_size} must be divisible by processes x "
                f"train.grad_accum = {self.dist.world_size} x {train.grad_accum}"
            )

    # ------------------------------------------------------------------ the loop
    def train(self, resume: bool = False, stop_after_epochs: float | None = None) -> dict:
        try:
            return self._train(resume, stop_after_epochs)
        finally:
            self.tracker.close()  # also when training fails: keep what was reported
            self.lock.release()

    def _train(self, resume: bool, stop_after_epochs: float | None) -> dict:
        state = read_state(self.paths) if resume else None
        if state is not None and state.finished:
            return self._already_finished()
        run = self._start(resume)
        stop_step = run.stop_step(stop_after_epochs)
        log_every = self.config.train.log_every
        bar = progress_bar(total=run.plan.total_steps, initial=run.step, unit="step",
                           disable=not (self.progress and self.dist.is_main))
        meter, first_step = ThroughputMeter(), run.step
        estimate_after = None if recorded_rate(self._workload(run)) else first_step + FIRST_STEPS
        with Prefetcher(lambda step: self._batch(run, step), range(run.step, stop_step)) as batches:
            for step, parts in batches:
                meter.tokens += run.runner.step(parts, run.lr_schedule.lr(step))
                run.step = step + 1
                if run.reads_losses(log_every):
                    self._log_train(run, meter)
                if not bar.disable:  # every step: a phase change shows at once
                    bar.set_postfix_str(self._progress_label(run), refresh=False)
                bar.update(1)
                if run.step == estimate_after and self.dist.is_main:
                    self._first_estimate(run, meter, stop_step, bar)
                self._save_milestones(run)
                if run.at_checkpoint(stop_step):
                    self._end_of_epoch(run, meter, bar, stop_step)
                elif run.dev_due(self.config.train.dev_every):
                    self._dev_check(run, meter)
        bar.close()
        if self.dist.is_main:
            record_speed(self._workload(run), run.step - first_step,
                         time.perf_counter() - meter.started)
        return self._finish(run, meter)

    def _first_estimate(self, run: TrainingRun, meter: ThroughputMeter, stop_step: int,
                        bar: tqdm) -> None:
        """Work never measured on this machine: the estimate from its first steps, printed as
        soon as they are done (they carry the start's one-off costs, so it errs long)."""
        left = stop_step - run.step
        timed = rate_estimate(self._workload(run), left, FIRST_STEPS,
                              time.perf_counter() - meter.started,
                              f"from the first {FIRST_STEPS} steps here")
        bar.write(f"antlm: {left:,} steps left, {timed}")

    def _workload(self, run: TrainingRun) -> Workload:
        """Training steps of this model, batch shape and precision on this machine: what
        :mod:`antlm.speeds` keys the measured rate by."""
        config, train = self.config, self.config.train
        precision = resolve_precision(train.precision, self.dist.device)
        return Workload(
            f"train {config.model.arch} {count_parameters(run.model):,} parameters {precision} "
            f"batch {train.batch_size}x{config.model.max_seq_len}x{self.dist.world_size} on "
            f"{machine(self.dist.device)}", "steps")

    def _batch(self, run: TrainingRun, step: int) -> list[ScoredPart]:
        """The global batch of ``step``, built from the step alone (masks included) and cut to
        this process's rows; runs in the prefetch thread."""
        parts = run.builder.build(run.stream.batch(step), run.plan.phase_at(step).phase,
                                  step_generator(self.config.train.seed, step))
        return prepare_parts(parts, self.config.train, self.dist.rank, self.dist.world_size,
                             pin=self.dist.device.type == "cuda")

    # ------------------------------------------------------------------ set-up
    def _start(self, resume: bool) -> TrainingRun:
        """Check the run directory, prepare the data and the plan (both checked against the
        word budget), build (or restore) the run's state."""
        config, train = self.config, self.config.train
        check_trackers(config)  # on every rank: none may wait for a collective another left
        self._check_run_dir(resume)
        data = self._prepare(resume)

        torch.manual_seed(train.seed)
        model = build_model(config.model).to(self.dist.device)
        optimizer = build_optimizer(model, train, self.dist.device)
        stream = BlockStream(data.train_tokens, config.model.max_seq_len, train.batch_size,
                             train.seed, words=data.train_words)
        plan = place_plan(train, stream)
        run = TrainingRun(
            data=data, model=model, optimizer=optimizer,
            runner=StepRunner(model, optimizer, train, self.dist),
            stream=stream, builder=ObjectiveBuilder(config.objective, data.tokenizer),
            dev_blocks=first_blocks(data.dev_tokens, config.model.max_seq_len,
                                    train.dev_max_blocks),
            plan=plan, lr_schedule=LRSchedule(train, plan),
            milestones=milestones.Milestones.ahead(train.milestones, 0),
        )
        if resume:
            run.step = load_checkpoint(self.paths, model, optimizer, self.dist.device)["step"]
            run.milestones = milestones.Milestones.ahead(train.milestones, run.words_seen)
        # Config, device, data, plan and checkpoint are checked: only now is the run written.
        if self.dist.is_main:
            self.lock.acquire()
            self._check_run_dir(resume)  # again, under the lock: another start may have won
            self._write_run_files(data.tokenizer, resume)
        if resume:
            self._truncate_metrics(run.step)
        if self.dist.is_main:
            self.tracker = open_tracker(config, self.paths.root, run.step if resume else None)
        if not resume:
            self._log_start(run)
        model.train()
        if self.dist.is_main:
            self._announce(run, resume)
        return run

    def _prepare(self, resume: bool) -> PreparedData:
        """Read the corpora, check the budget on their word count, then tokenize (cached)."""
        corpora = load_corpora(self.config, self.data_dir)
        check_nominal_budget(self.config.train, corpora.train.n_words)
        tokenizer = read_tokenizer(self.paths) if resume else None
        # Rank 0 fills the caches first; the others then read them instead of racing to write.
        if not self.dist.is_main:
            self.dist.barrier()
        data = tokenize_corpora(self.config, corpora, self.cache_dir, tokenizer)
        if self.dist.is_main:
            self.dist.barrier()
        if data.tokenizer.vocab_size > self.config.model.vocab_size:
            raise TrainingError(
                f"the tokenizer has {data.tokenizer.vocab_size} entries but model.vocab_size is "
                f"{self.config.model.vocab_size}"
            )
        return data

    def _check_run_dir(self, resume: bool) -> None:
        """Refuse a run directory this start would damage; reads, never writes."""
        if self.dist.is_main:
            self.lock.check_free()
        if resume:
            if not present(self.paths.checkpoint):
                raise TrainingError(f"--resume: {self.paths.root} has no checkpoint.pt")
            read_metrics(self.paths)  # refuse a damaged log now, not once the run is written
            saved = read_config(self.paths).model_dump()
            current = self.config.model_dump()
            for key in RESUMABLE_CHANGES:
                saved["train"].pop(key, None), current["train"].pop(key)
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
        elif present(self.paths.checkpoint):
            raise TrainingError(
                f"{self.paths.root} already holds a run; pass --resume to continue it or choose "
                "another --out"
            )
        elif any(self.paths.checkpoints.glob("*.safetensors")):
            raise TrainingError(
                f"{self.paths.checkpoints} holds milestone checkpoints of an earlier start; "
                "remove them or choose another --out (a new run never overwrites them)"
            )

    def _write_run_files(self, tokenizer: AntlmTokenizer, resume: bool) -> None:
        """The config (on resume too: it records the train settings a resume may change) and,
        for a new run, the tokenizer. A new run starts its records afresh: metrics and state
        left in the directory by a start that never reached its first checkpoint are not this
        run's."""
        atomic_write_bytes(self.paths.config, self.config.to_yaml().encode())
        if not resume:
            tokenizer.save(self.paths.tokenizer)
            clear_records(self.paths)

    def _already_finished(self) -> dict:
        """``--resume`` of a finished run: nothing to train, so nothing is written (a ``--set``
        given with it changes no file)."""
        self._check_run_dir(resume=True)
        state = read_state(self.paths)
        assert state is not None  # a finished run's, read by the caller
        if self.dist.is_main:
            print(f"antlm: {self.paths.root} already finished at step {state.step}; "
                  "nothing to train, no file changed")
        shutdown_distributed(self.dist)
        return {"step": state.step, "finished": True, "words_seen": state.words_seen}

    def _announce(self, run: TrainingRun, resume: bool) -> None:
        """What the run is and will do, on the terminal."""
        config, train, stream, plan = self.config, self.config.train, run.stream, run.plan
        print(f"antlm: {count_parameters(run.model):,} parameters on {self.dist.device} in "
              f"{resolve_precision(train.precision, self.dist.device)}; "
              f"train {run.data.train_corpus.summary()}")
        total_words = stream.words_seen(plan.total_steps)
        print(f"antlm: {stream.n_blocks:,} blocks of {config.model.max_seq_len} tokens, "
              f"{stream.steps_per_epoch} steps/epoch, {plan.total_steps} steps, "
              f"{total_words:,} words seen ({short_count(total_words)}), "
              f"schedule {plan.plan.canonical()}")
        left = plan.total_steps - run.step
        work = self._workload(run)
        timed = (estimate(work, left) if recorded_rate(work) else
                 f"time estimated after the first {FIRST_STEPS} steps (nothing measured here "
                 "for this work yet)")
        print(f"antlm: {left:,} steps to train, {timed}")
        if not resume:
            print(f"antlm: {milestones.describe(train.milestones, total_words)}")
        else:
            missing = milestones.missing_before(self.paths, train.milestones, run.words_seen)
            if missing:
                print(f"antlm: milestones passed before step {run.step} without a checkpoint "
                      f"(not recreated): {', '.join(missing)}")

    # ------------------------------------------------------------------ records
    def _log(self, record: MetricRecord) -> None:
        """Append ``record`` to metrics.jsonl and hand it to the trackers (train.report_to)."""
        if self.dist.is_main:
            append_metric(self.paths, record)
            self.tracker.record(record)

    def _truncate_metrics(self, step: int) -> None:
        """Drop records written after the checkpoint we resume from (a crash between the two)."""
        if self.dist.is_main:
            truncate_metrics(self.paths, step)

    def _write_state(self, run: TrainingRun, finished: bool) -> None:
        if self.dist.is_main:
            write_state(self.paths, RunState(
                **run.progress(), total_steps=run.plan.total_steps,
                total_words_seen=run.stream.words_seen(run.plan.total_steps), finished=finished))

    def _log_start(self, run: TrainingRun) -> None:
        """The untrained model's dev losses and what the run is about to do, phase by phase in
        steps and words (what plots against words seen tint their phases with)."""
        data, stream = run.data, run.stream
        initial = run.dev = self.dev_losses(run) if self.dist.is_main else {}
        phases = tuple(PhaseSpan(phase=p.index + 1, objective=p.phase.objective,
                                 epochs=p.phase.epochs, start_step=p.start_step,
                                 end_step=p.end_step, start_words=stream.words_seen(p.start_step),
                                 words=words)
                       for p, words in zip(run.plan, phase_words(run.plan, stream)))
        self._log(MetricRecord(
            "start", **run.progress(), params=count_parameters(run.model),
            train_corpus=data.train_corpus.summary(), dev_corpus=data.dev_corpus.summary(),
            train_tokens=len(data.train_tokens), words_per_epoch=stream.total_words,
            steps_per_epoch=stream.steps_per_epoch, total_steps=run.plan.total_steps,
            total_words_seen=stream.words_seen(run.plan.total_steps), phases=phases,
            world_size=self.dist.world_size, dev_losses=initial,
        ))

    def _log_train(self, run: TrainingRun, meter: ThroughputMeter) -> None:
        """Every ``log_every`` steps: read the losses back (the only device sync of the loop)."""
        placed = run.phase
        self._check_finite(run)
        losses = run.runner.meter.read(self.dist)
        speed = meter.read() * self.dist.world_size
        lr = run.lr_schedule.lr(run.step - 1)
        self._log(MetricRecord("train", **run.progress(), phase=placed.index + 1,
                               objective=placed.phase.objective, lr=lr, tokens_per_s=speed,
                               losses=losses))
        run.reading = LossReading(placed.index, losses, speed)

    @staticmethod
    def _progress_label(run: TrainingRun) -> str:
        """The bar's label after the step just taken (see :func:`training_label`)."""
        placed = run.phase
        return training_label(placed.index, len(run.plan), placed.phase.objective,
                              placed.phase.trains, run.reading, short_count(run.words_seen))

    # ------------------------------------------------------------------ checkpoints
    def dev_losses(self, run: TrainingRun) -> dict[str, float]:
        """Dev loss of both objectives (see ``objective_dev_losses``)."""
        return objective_dev_losses(run.model, run.builder, run.dev_blocks, self.config.train,
                                    self.dist.device)

    def _check_finite(self, run: TrainingRun) -> None:
        if bool(run.runner.nonfinite):
            placed = run.phase
            raise TrainingError(
                f"the loss became NaN/inf before step {run.step} (phase {placed.index + 1}, "
                f"{placed.phase.objective}, lr {self.config.train.lr:g}); the last good "
                f"checkpoint is kept in {self.paths.root}. Try a lower train.lr, "
                "train.grad_clip, or train.precision=fp32."
            )

    def _save_milestones(self, run: TrainingRun) -> None:
        """The weights under the name of every milestone the step just taken reached; a file
        already there (written before a resume) is kept as it is."""
        due = run.milestones.due(run.words_seen)
        if not due:
            return
        self._check_finite(run)  # on every rank: never keep diverged weights as a milestone
        if not self.dist.is_main:
            return
        for words in due:
            path = self.paths.milestone(words)
            if not path.is_file():
                save_weights(run.model, path, {"milestone": str(words), **{
                    k: str(v) for k, v in run.progress().items() if k != "epoch"}})
            self._log(MetricRecord("checkpoint", **run.progress(), milestone=words,
                                   name=milestone_name(words)))

    def _end_of_epoch(self, run: TrainingRun, meter: ThroughputMeter, bar: tqdm,
                      stop_step: int) -> None:
        """Dev losses of both objectives, then an atomic checkpoint of everything (with
        ``train.checkpoint_epochs: false`` only where this invocation stops)."""
        self._check_finite(run)
        rng_states = gather_rng_states(self.dist.device)  # every rank: a collective under DDP
        if self.dist.is_main:
            placed = run.phase
            dev = self._checked_dev_losses(run)
            saving = self.config.train.checkpoint_epochs or run.step == stop_step
            if saving:
                try:
                    save_checkpoint(self.paths, run.model, run.optimizer, run.step,
                                    {"epoch": run.epoch}, rng_states)
                except OSError as exc:
                    raise self._checkpoint_failed(run, exc) from exc
            elapsed = self._log_dev(run, meter, dev)
            if saving:  # state.json's step is the checkpoint's
                self._write_state(run, finished=False)
            bar.write(
                f"epoch {run.epoch:5.2f}  phase {placed.index + 1} {placed.phase.objective:<3}  "
                f"{short_count(run.words_seen):>6} words  dev CLM loss {dev['CLM']:.4f}  "
                f"dev MLM loss {dev['MLM']:.4f}  ({elapsed:,.0f} s)"
            )
        self.dist.barrier()

    def _dev_check(self, run: TrainingRun, meter: ThroughputMeter) -> None:
        """A ``train.dev_every`` check between epoch ends: the dev record alone, no checkpoint
        (a resume drops the records after its checkpoint and makes them again)."""
        if self.dist.is_main:
            self._log_dev(run, meter, self._checked_dev_losses(run))
        self.dist.barrier()

    def _checked_dev_losses(self, run: TrainingRun) -> dict[str, float]:
        """The dev losses (rank 0), refusing a non-finite one; kept as the run's latest (the
        end-of-run summary reports them)."""
        dev = run.dev = self.dev_losses(run)
        for objective, value in dev.items():
            if not math.isfinite(value):
                raise TrainingError(f"dev {objective} loss is {value} at step {run.step}")
        return dev

    def _log_dev(self, run: TrainingRun, meter: ThroughputMeter, dev: dict[str, float]) -> float:
        """The ``dev`` record of metrics.jsonl; returns the seconds trained so far."""
        placed, elapsed = run.phase, time.perf_counter() - meter.started
        self._log(MetricRecord("dev", **run.progress(), phase=placed.index + 1,
                               objective=placed.phase.objective, elapsed_s=elapsed,
                               dev_losses=dev))
        return elapsed

    def _checkpoint_failed(self, run: TrainingRun, exc: OSError) -> TrainingError:
        """Why a checkpoint could not be written (a full disk, say), and that the last one is
        intact: every file is replaced whole or not at all (:mod:`antlm.atomic`)."""
        saved = read_state(self.paths)
        kept = (f"the last good checkpoint (step {saved.step}) is kept" if saved is not None
                else "no checkpoint had been written yet")
        return TrainingError(
            f"could not write the checkpoint of step {run.step} in {self.paths.root} "
            f"({exc.strerror or exc}); {kept}. Fix the cause (free some disk space) and "
            "continue with --resume"
        )

    def _finish(self, run: TrainingRun, meter: ThroughputMeter) -> dict:
        finished = run.step >= run.plan.total_steps
        self._write_state(run, finished)
        self._log_end(run, meter, finished)
        if self.dist.is_main:
            print(f"antlm: step {run.step:,} of {run.plan.total_steps:,} (epoch {run.epoch:.2f}): "
                  f"{run.words_seen:,} words seen ({short_count(run.words_seen)}), "
                  f"{run.tokens_seen:,} tokens; {milestones.describe_saved(self.paths)}")
        shutdown_distributed(self.dist)
        return {"step": run.step, "finished": finished, "words_seen": run.words_seen}

    def _log_end(self, run: TrainingRun, meter: ThroughputMeter, finished: bool) -> None:
        """The summary of this invocation, as HF Trainer logs one when training ends: where the
        run stands, its last dev losses, the loop's wall time and mean speed (over all
        processes, dev checks and checkpoints included)."""
        wall, speed = meter.overall()
        self._log(MetricRecord("end", **run.progress(), total_steps=run.plan.total_steps,
                               finished=finished, wall_s=wall,
                               tokens_per_s=speed * self.dist.world_size,
                               dev_losses=dict(run.dev)))


class ThroughputMeter:
    """Input tokens this process processed since the last read, the time that took, and when
    the loop started."""

    def __init__(self) -> None:
        self.tokens = 0
        self.read_tokens = 0  # the tokens of the periods already read
        self.started = self.clock = time.perf_counter()

    def read(self) -> float:
        """Tokens per second since the last read, then restart."""
        now = time.perf_counter()
        speed = self.tokens / max(now - self.clock, 1e-9)
        self.read_tokens += self.tokens
        self.tokens, self.clock = 0, now
        return speed

    def overall(self) -> tuple[float, float]:
        """Seconds since the loop started, and the tokens per second over all of them."""
        wall = time.perf_counter() - self.started
        return wall, (self.read_tokens + self.tokens) / max(wall, 1e-9)


def train_run(
    config: RunConfig,
    run_dir: Path,
    data_dir: Path,
    resume: bool = False,
    stop_after_epochs: float | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> dict:
    """Train (or resume) a run; returns ``{"step", "finished", "words_seen"}``."""
    return Trainer(config, run_dir, data_dir, cache_dir, progress).train(resume, stop_after_epochs)
