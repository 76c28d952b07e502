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


class ObjectiveLoss(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention: str,
        positions: torch.Tensor | None,
        targets: torch.Tensor,
    ) -> torch.Tensor:
        """Summed (not averaged) cross-entropy: the caller scales by the global token count."""
        hidden = self.model(input_ids, attention=attention)
        hidden = hidden.reshape(-1, hidden.shape[-1])
        if positions is not None:
            hidden = hidden.index_select(0, positions)
        logits = self.model.logits(hidden)
        return F.cross_entropy(logits.float(), targets, ignore_index=IGNORE, reduction="sum")
