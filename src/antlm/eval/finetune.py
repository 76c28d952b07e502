"""``antlm finetune``: the BabyLM (Super)GLUE fine-tuning recipe on a trained run.

The recipe is the 2024 pipeline's (``finetune_model.sh`` + ``finetune_classification.py``, a
Hugging Face ``Trainer``): AdamW at lr 5e-5 with the Trainer's defaults (betas 0.9/0.999, no
weight decay, no warm-up, linear decay to zero, gradient clipping at 1.0), batch 64, at most 10
epochs, an evaluation on the validation set after every epoch, early stopping after 3
evaluations without an improvement above 0.001, seed 12, inputs truncated to 128 tokens. The
best epoch is chosen by F1 on binary tasks and by accuracy otherwise, and, as in the pipeline,
the reported scores are those of the best epoch on that same validation set.

The classifier reads one position: the last real token under causal attention (a decoder sees
the whole input only there) or the first token (``<s>`` / ``[CLS]``) under bidirectional
attention. Which attention an alternately trained model is fine-tuned with is a choice
(``--attention``); the default is the one the run declares (``antlm.rundir.RunDeclaration``):
that of the objective most of its final phase's sequences train, the objective the weights were
last shaped by, by the same rule as its headline zero-shot backend. Fine-tuning works on an in-memory copy: the run's pretrained
weights are never written.

A task without a train file is recorded as missing, never scored: a made-up number would be
averaged into the GLUE score as if it were real.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
from torch import nn

from antlm.config import DATA_DIR_HELP, FinetuneConfig, RunConfig
from antlm.data.tokenizer import AntlmTokenizer
from antlm.device import resolve_device
from antlm.eval.glue import TASKS, Example, GlueDataError, GlueTask, read_split, split_path
from antlm.models.attention import check_attention
from antlm.progress import progress_bar
from antlm.rundir import LoadedRun, RunDeclaration, load_run, merge_results

__all__ = [
    "FinetuneConfig",
    "SequenceClassifier",
    "TaskOutcome",
    "classification_metrics",
    "default_attention",
    "encode_examples",
    "finetune_run",
    "finetune_task",
]

# The pipeline's EarlyStoppingCallback threshold: smaller gains do not reset the patience.
EARLY_STOPPING_THRESHOLD = 1e-3
MISSING_TRAIN = "no train file"
MISSING_VALID = "no validation file"


@dataclass
class TaskOutcome:
    """What one task produced: the results.json record, plus the best epoch's predictions on
    the validation set (None for a missing task) so callers can check or store them."""

    record: dict[str, Any]
    predictions: np.ndarray | None = None
    labels: np.ndarray | None = None


def default_attention(config: RunConfig) -> str:
    """The attention the run declares for fine-tuning (:class:`antlm.rundir.RunDeclaration`),
    by the rule of its headline zero-shot backend: the objective of most of the final phase's
    sequences, MLM -> bidirectional, CLM -> causal."""
    return RunDeclaration.of(config).finetune_attention


# ---------------------------------------------------------------------------- inputs
def _truncate_pair(first: list[int], second: list[int], budget: int) -> tuple[list, list]:
    """Hugging Face's ``longest_first`` truncation in closed form: trim the longer segment
    until both are equally long, then both alternately."""
    if len(first) + len(second) <= budget:
        return first, second
    shorter = min(len(first), len(second))
    keep_short = min(shorter, budget // 2)
    keep_long = budget - keep_short
    if len(first) >= len(second):
        return first[:keep_long], second[:keep_short]
    return first[:keep_short], second[:keep_long]


def encode_examples(
    tokenizer: AntlmTokenizer, examples: Sequence[Example], max_length: int
) -> list[list[int]]:
    """Token ids per example: the pair joined by the end token, then framed like a pretraining
    document (WordPiece ``[CLS] a [SEP] b [SEP]``, BPE ``<s> a </s> b``; one segment: just
    framed), so the model sees inputs shaped like its training data. The exported Hugging Face
    tokenizer frames pairs the same way."""
    firsts = tokenizer.encode_batch([e.first for e in examples])
    seconds = tokenizer.encode_batch([e.second or "" for e in examples])
    budget = max_length - len(tokenizer.frame([]))
    encoded = []
    for example, first, second in zip(examples, firsts, seconds):
        if example.second is None:
            encoded.append(tokenizer.frame(first[:budget]))
            continue
        first, second = _truncate_pair(first, second, budget - 1)
        encoded.append(tokenizer.frame([*first, tokenizer.eos_id, *second]))
    return encoded


def _batch(
    rows: Sequence[list[int]], pad_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ``input_ids``, ``padding_mask`` (True = real) and lengths."""
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.full((len(rows), int(lengths.max())), pad_id, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
    return ids.to(device), mask.to(device), lengths.to(device)


# ---------------------------------------------------------------------------- model
class SequenceClassifier(nn.Module):
    """A pretrained antlm model plus a linear head over one pooled position."""

    def __init__(self, backbone: nn.Module, num_labels: int, attention: str) -> None:
        super().__init__()
        check_attention(attention)
        self.backbone = backbone
        self.attention = attention
        self.head = nn.Linear(backbone.config.hidden_size, num_labels)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(
        self, input_ids: torch.Tensor, padding_mask: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.backbone(input_ids, attention=self.attention, padding_mask=padding_mask)
        if self.attention == "causal":
            pooled = hidden[torch.arange(hidden.shape[0], device=hidden.device), lengths - 1]
        else:
            pooled = hidden[:, 0]
        return self.head(pooled)


# ---------------------------------------------------------------------------- metrics
def classification_metrics(labels: np.ndarray, predictions: np.ndarray, num_labels: int) -> dict:
    """Accuracy always; F1 (positive class 1) and MCC on binary tasks, as the pipeline does."""
    metrics: dict[str, float | None] = {"accuracy": float(accuracy_score(labels, predictions))}
    binary = num_labels == 2
    metrics["f1"] = float(f1_score(labels, predictions, average="binary")) if binary else None
    metrics["mcc"] = float(matthews_corrcoef(labels, predictions)) if binary else None
    return metrics


# ---------------------------------------------------------------------------- loop
def _subset(examples: list[Example], limit: int | None, seed: int) -> list[Example]:
    """A seeded random subset rather than the first ``limit`` rows: some files are sorted by
    label (CoLA's train file starts with hundreds of acceptable sentences)."""
    if limit is None or limit >= len(examples):
        return examples
    order = np.random.default_rng(seed).permutation(len(examples))[:limit]
    return [examples[i] for i in sorted(order)]


def _length_bucketed_batches(
    lengths: Sequence[int], batch_size: int, generator: torch.Generator, chunk_batches: int = 16
) -> list[list[int]]:
    """Random batches of similar-length examples: shuffle, sort within chunks of
    ``chunk_batches`` batches, cut, shuffle the batches. Padding to the batch maximum then
    costs little, which on CPU is a third of the compute on RTE-length inputs."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    chunk = batch_size * chunk_batches
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lengths.__getitem__)
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


@torch.inference_mode()
def _predict(
    model: SequenceClassifier, rows: list[list[int]], batch_size: int, pad_id: int,
    device: torch.device,
) -> np.ndarray:
    model.eval()
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))  # little padding per batch
    predictions = np.empty(len(rows), dtype=np.int64)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        logits = model(*_batch([rows[i] for i in index], pad_id, device))
        predictions[index] = logits.argmax(-1).cpu().numpy()
    return predictions


def _train_epoch(
    model: SequenceClassifier, rows: list[list[int]], labels: np.ndarray, config: FinetuneConfig,
    optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
    generator: torch.Generator, pad_id: int, device: torch.device, progress: bool,
) -> float:
    model.train()
    losses = []
    batches = _length_bucketed_batches([len(r) for r in rows], config.batch_size, generator)
    for index in progress_bar(batches, desc="  steps", leave=False, disable=not progress):
        logits = model(*_batch([rows[i] for i in index], pad_id, device))
        loss = F.cross_entropy(logits, torch.as_tensor(labels[index], device=device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def _load_eval(task: GlueTask, glue_dir: Path, name: str, config: FinetuneConfig) -> list:
    examples = read_split(task, split_path(glue_dir, name, "valid"))
    return _subset(examples, config.max_eval_examples, config.seed)


def finetune_task(
    run: LoadedRun, task: GlueTask, glue_dir: Path, config: FinetuneConfig,
    device: torch.device, progress: bool = True,
) -> TaskOutcome:
    """Fine-tune a copy of ``run.model`` on one task; the record for ``results.json``."""
    for split, reason in (("train", MISSING_TRAIN), ("valid", MISSING_VALID)):
        if not split_path(glue_dir, task.name, split).exists():  # a folder there is read: damage
            return TaskOutcome({"status": "missing", "reason": reason})
    started = time.perf_counter()
    attention = config.attention or default_attention(run.config)
    max_length = min(config.max_length, run.config.model.max_seq_len)
    tokenizer, pad_id = run.tokenizer, run.tokenizer.pad_id

    train = _subset(read_split(task, split_path(glue_dir, task.name, "train")),
                    config.max_train_examples, config.seed)
    evals = {name: _load_eval(task, glue_dir, name, config)
             for name in (task.name, *task.extra_eval)
             if split_path(glue_dir, name, "valid").exists()}
    train_rows = encode_examples(tokenizer, train, max_length)
    train_labels = np.array([e.label for e in train])
    eval_rows = {name: encode_examples(tokenizer, ex, max_length) for name, ex in evals.items()}
    eval_labels = {name: np.array([e.label for e in ex]) for name, ex in evals.items()}

    torch.manual_seed(config.seed)
    model = SequenceClassifier(copy.deepcopy(run.model), task.num_labels, attention).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    total_steps = config.epochs * -(-len(train_rows) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: max(0.0, 1.0 - step / total_steps)
    )
    generator = torch.Generator().manual_seed(config.seed)

    history: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    best_state: dict[str, torch.Tensor] | None = None
    stale = 0
    epochs = progress_bar(range(1, config.epochs + 1), desc=task.name, disable=not progress)
    for epoch in epochs:
        loss = _train_epoch(model, train_rows, train_labels, config, optimizer, scheduler,
                            generator, pad_id, device, progress)
        predictions = _predict(model, eval_rows[task.name], 2 * config.batch_size, pad_id, device)
        metrics = classification_metrics(eval_labels[task.name], predictions, task.num_labels)
        history.append({"epoch": epoch, "train_loss": loss, **metrics})
        value = metrics[task.selection_metric]
        epochs.set_postfix(loss=f"{loss:.3f}", **{task.selection_metric: f"{value:.3f}"})
        if best is None or value > best["value"] + EARLY_STOPPING_THRESHOLD:
            stale = 0
        else:
            stale += 1
        if best is None or value > best["value"]:
            best = {"value": value, "epoch": epoch, "metrics": metrics, "predictions": predictions}
            if task.extra_eval:  # only needed to score the extra sets with the best model
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if stale >= config.patience:
            break
    assert best is not None  # config.epochs >= 1

    record: dict[str, Any] = {
        "metric": task.metric,
        "score": best["metrics"][task.metric],
        **best["metrics"],
        "selection_metric": task.selection_metric,
        "best_epoch": best["epoch"],
        "epochs_run": len(history),
        "n_train": len(train_rows),
        "n_eval": len(eval_rows[task.name]),
        "max_train_examples": config.max_train_examples,
        "max_eval_examples": config.max_eval_examples,
        "attention": attention,
        "hparams": {k: v for k, v in asdict(config).items() if k != "attention"},
        "history": history,
    }
    extra = [name for name in task.extra_eval if name in eval_rows]
    if extra:
        model.load_state_dict(best_state)
        record["extra_eval"] = {
            name: {
                **classification_metrics(
                    eval_labels[name],
                    _predict(model, eval_rows[name], 2 * config.batch_size, pad_id, device),
                    task.num_labels,
                ),
                "n_eval": len(eval_rows[name]),
            }
            for name in extra
        }
    record["seconds"] = round(time.perf_counter() - started, 1)
    return TaskOutcome(record, best["predictions"], eval_labels[task.name])


def finetune_run(
    run_dir: str | Path, tasks: Sequence[str], data_dir: str | Path,
    config: FinetuneConfig | None = None, device: str = "auto", progress: bool = True,
) -> dict[str, TaskOutcome]:
    """Fine-tune on each task in turn (under ``config``, by default the BabyLM recipe) and merge
    every record into ``RUN/results.json`` under ``"glue"`` as soon as it is done, so an
    interrupted sweep keeps its finished tasks."""
    config = config or FinetuneConfig()
    torch_device = resolve_device(device)
    run = load_run(run_dir, device=torch_device)
    glue_dir = Path(data_dir) / "glue"
    if not glue_dir.is_dir():  # no folder at all is a wrong --data-dir, not missing tasks
        raise GlueDataError(f"no GLUE folder {glue_dir}. {DATA_DIR_HELP}")
    outcomes = {}
    for name in tasks:
        outcomes[name] = finetune_task(run, TASKS[name], glue_dir, config, torch_device, progress)
        merge_results(run.paths, {"glue": {name: outcomes[name].record}}, scored_step=run.step)
    return outcomes
