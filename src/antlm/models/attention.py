"""Attention masks shared by every model.

The objective, not the model, decides who may attend to whom, so every model builds its mask
here from ``attention`` ("causal" or "bidirectional") plus an optional padding mask. Masks are
returned in the form ``torch.nn.functional.scaled_dot_product_attention`` takes: a boolean
tensor broadcastable to ``[batch, heads, query, key]`` where True means "may attend", or None
with ``is_causal`` for the causal case without padding (SDPA's fastest path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

AttentionKind = Literal["causal", "bidirectional"]
ATTENTION_KINDS: tuple[str, ...] = ("causal", "bidirectional")


@dataclass(frozen=True)
class TokenTree:
    """Texts that share prefixes, packed as one tree per row for causal attention: token ``i``
    of row ``b`` stands at position ``depth[b, i]`` of every text that runs through it and
    attends to ``visible[b, i]``, its prefix (its ancestors and itself). A padding token sees
    itself only. Every text's causal states are then those of the text alone, and a prefix
    shared by several texts is computed once."""

    depth: torch.Tensor  # int64 [batch, seq]
    visible: torch.Tensor  # bool [batch, seq, seq]


def check_attention(attention: str) -> None:
    if attention not in ATTENTION_KINDS:
        raise ValueError(f"attention={attention!r}; allowed: {', '.join(ATTENTION_KINDS)}")


def build_attention_mask(
    attention: str,
    seq_len: int,
    padding_mask: torch.Tensor | None,
    device: torch.device,
) -> tuple[torch.Tensor | None, bool]:
    """Return ``(bool_mask, is_causal)`` for SDPA.

    ``padding_mask`` is ``[batch, seq]`` with True for real tokens. A padded query row would
    otherwise see no key at all under a causal mask on left padding; keys are masked, queries
    are left alone (their outputs are ignored by the callers).
    """
    check_attention(attention)
    if padding_mask is None:
        if attention == "causal":
            return None, True
        return None, False
    keys = padding_mask[:, None, None, :].to(torch.bool)  # [B, 1, 1, T]
    if attention == "causal":
        causal = torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()
        mask = keys & causal
    else:
        mask = keys.expand(-1, 1, seq_len, -1)
    # A query with no visible key would give NaN; let such (padding) rows see themselves.
    eye = torch.eye(seq_len, dtype=torch.bool, device=device)
    return mask | eye, False


def query_rows(
    mask: torch.Tensor | None, is_causal: bool, positions: torch.Tensor, seq_len: int
) -> torch.Tensor | None:
    """The rows of a ``(mask, is_causal)`` pair that one query per batch row reads: query
    ``positions[b]`` of row ``b``, as a ``[batch, 1, 1, seq]`` mask (boolean or additive, as
    given), or None when every key is visible. For models that run their last layer on the
    read positions only (see ``BabyLlama.forward``)."""
    if mask is not None:
        rows = torch.arange(len(positions), device=positions.device)
        return mask.expand(len(positions), -1, -1, -1)[rows, :, positions].unsqueeze(2)
    if is_causal:
        keys = torch.arange(seq_len, device=positions.device)
        return (keys[None, :] <= positions[:, None])[:, None, None, :]
    return None


def additive_mask(
    attention: str,
    seq_len: int,
    padding_mask: torch.Tensor | None,
    device: torch.device,
    dtype: torch.dtype,
) -> torch.Tensor | None:
    """The same mask as a float tensor (0 or the dtype's lowest value), for models that add a
    bias (LTG-BERT). Under autocast on ``device`` it is built in autocast's dtype, not
    ``dtype``: the scores it is added to are autocast matmul outputs (bf16), and a float32 mask
    would promote every layer's sum to a float32 ``[batch, heads, T, T]`` tensor, twice the
    memory of the bf16 one, only to be cast back to bf16 for attention."""
    mask, is_causal = build_attention_mask(attention, seq_len, padding_mask, device)
    if is_causal:
        mask = torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()[None, None]
    if mask is None:
        return None
    if torch.is_autocast_enabled(device.type):
        dtype = torch.get_autocast_dtype(device.type)
    out = torch.zeros(mask.shape, dtype=dtype, device=device)
    return out.masked_fill(~mask, torch.finfo(dtype).min)
