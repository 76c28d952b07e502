"""The one loss of every objective: cross-entropy over the scored positions only.

The model and its output head sit in one module so that DistributedDataParallel sees every
parameter used in ``forward`` (the head included). For sparse objectives (MLM scores ~15% of
tokens) the head runs only on the scored rows; the positions are computed on the host when the
batch is built, so no device-to-host sync is needed to find them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from antlm.data.objectives import IGNORE, ObjectivePart


def scoring_targets(
    part: ObjectivePart, sparse_head: bool
) -> tuple[torch.Tensor | None, torch.Tensor]:
    """``(positions, targets)``: flat positions to score (None = all) and their targets."""
    labels = part.labels.reshape(-1)
    if sparse_head and part.objective == "MLM":
        positions = (labels != IGNORE).nonzero().squeeze(1)
        return positions, labels[positions]
    return None, labels


def head_loss(model: nn.Module, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of the output head over ``hidden`` rows (logits upcast to fp32)."""
    return F.cross_entropy(
        model.logits(hidden).float(), targets, ignore_index=IGNORE, reduction="sum"
    )


class ObjectiveLoss(nn.Module):
    """Model body, row selection, head and loss in one module.

    With ``compile=True`` the body and the head+loss are compiled separately: the body sees
    ``[rows, seq_len]`` every step (a static graph per attention kind), while the head sees a
    number of MLM rows that changes every step, so its graph is compiled with dynamic shapes
    once instead of once per count. The compiled callables are plain functions, not
    sub-modules, so parameters and state dicts are the model's own.
    """

    def __init__(self, model: nn.Module, compile: bool = False) -> None:
        super().__init__()
        self.model = model
        self.compiled = compile

        def head(hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            return head_loss(model, hidden, targets)

        self._body = torch.compile(model.forward) if compile else model.forward
        self._head = torch.compile(head, dynamic=True) if compile else head

    def forward(
        self,
        input_ids: torch.Tensor,
        attention: str,
        positions: torch.Tensor | None,
        targets: torch.Tensor,
    ) -> torch.Tensor:
        """Summed (not averaged) cross-entropy: the loss is scaled in one place, at the
        backward (``antlm.train.trainer.StepRunner.step``)."""
        hidden = self._body(input_ids, attention=attention)
        hidden = hidden.reshape(-1, hidden.shape[-1])
        if positions is not None:
            hidden = hidden.index_select(0, positions)
        return self._head(hidden, targets)
