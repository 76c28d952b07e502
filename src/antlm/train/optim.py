"""Optimizers and the learning-rate schedule.

Weight decay is not applied to norms, biases and embeddings (1-D tensors or names containing
"norm", "bias" or "embed"), as in BabyLlama and LTG-BERT. The LR schedule is linear warm-up then
cosine decay to ``min_lr_ratio * lr``; by default it spans the whole run, not each phase, so an
objective switch does not re-warm the model (``train.lr_schedule: per_phase`` does re-warm, to
study exactly that).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from antlm.config import TrainConfig
from antlm.schedule import PlacedPlan

NO_DECAY_MARKERS = ("norm", "bias", "embed")


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        lowered = name.lower()
        if param.ndim < 2 or any(marker in lowered for marker in NO_DECAY_MARKERS):
            no_decay.append(param)
        else:
            decay.append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(model: nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    groups = param_groups(model, config.weight_decay)
    if config.optimizer == "lamb":
        from antlm.train.lamb import Lamb

        return Lamb(groups, lr=config.lr, betas=config.betas, eps=config.eps)
    # The fused kernel exists on CPU and CUDA in recent torch and is the fastest AdamW there.
    return torch.optim.AdamW(
        groups, lr=config.lr, betas=config.betas, eps=config.eps, fused=True
    )


def warmup_cosine(step: int, total: int, warmup: int, min_ratio: float) -> float:
    """LR multiplier at ``step`` of a ``total``-step schedule."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


class LRSchedule:
    """LR multiplier per global step, over the whole run or restarted in every phase."""

    def __init__(self, config: TrainConfig, plan: PlacedPlan) -> None:
        self.config = config
        self.plan = plan
        self.total = plan.total_steps

    def _warmup(self, span: int) -> int:
        warmup = self.config.warmup
        return round(warmup * span) if warmup < 1 else int(warmup)

    def factor(self, step: int) -> float:
        min_ratio = self.config.min_lr_ratio
        if self.config.lr_schedule == "global":
            return warmup_cosine(step, self.total, self._warmup(self.total), min_ratio)
        phase = self.plan.phase_at(step)
        return warmup_cosine(
            step - phase.start_step, phase.steps, self._warmup(phase.steps), min_ratio
        )

    def lr(self, step: int) -> float:
        return self.config.lr * self.factor(step)
