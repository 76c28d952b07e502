"""LTG-BERT (Samuel et al., 2023), the encoder that won BabyLM 2023, as an antlm model.

What makes it data-efficient, and what this module keeps from the reference (ltgoslo/ltg-bert):

* no absolute positions: attention adds DeBERTa-style disentangled terms (content->position and
  position->content) over log-bucketed relative distances, so the same weights serve any block
  length and right padding never shifts a token's view of its neighbours;
* NormFormer-style normalisation: a pre-norm and a post-attention LayerNorm, and a LayerNorm
  inside the GEGLU feed-forward before its output projection, which keeps activations tame at
  the high LAMB learning rate the reference trains with;
* the reference initialisation: truncated normal with std sqrt(2 / (5 * hidden)), and the
  feed-forward projections of layer i scaled by sqrt(1 / (2 * (i + 1))) so deep residual sums
  start small;
* an MLM head whose output matrix is the word embedding (tied), plus a free bias.

Unlike the reference, attention is causal or bidirectional per call (AntLM switches objective,
not model), and it runs through ``scaled_dot_product_attention``: the relative-position bias
and the causal/padding mask are summed into one float ``attn_mask``, so both attention kinds
share one code path.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from antlm.config import ModelConfig
from antlm.models.attention import ATTENTION_KINDS, additive_mask, check_attention, query_rows

# The reference buckets distances on a log scale up to 512 even when it trains on 128-token
# blocks; keeping its horizon keeps the bucket boundaries (and so trained weights) comparable.
# Longer distances all share the outermost bucket.
BUCKET_HORIZON = 512


def relative_position_bucket(
    relative_pos: torch.Tensor, bucket_size: int, max_position: int
) -> torch.Tensor:
    """Map signed distances to signed buckets in ``[-(bucket_size - 1), bucket_size - 1]``.

    Distances up to ``mid = bucket_size // 2`` keep their own bucket; beyond that, buckets grow
    logarithmically so that ``max_position - 1`` lands on ``bucket_size - 1``: nearby words need
    exact offsets, distant ones only a rough sense of "far". Same formula as the reference.
    """
    mid = bucket_size // 2
    sign = torch.sign(relative_pos)
    abs_pos = relative_pos.abs()
    near = abs_pos <= mid
    # Clamp the far branch's input into (mid, max_position - 1] so log() stays finite; the
    # `near` positions take the exact distance anyway.
    far_pos = abs_pos.clamp(min=mid + 1, max=max_position - 1).to(torch.float32)
    log_ratio = torch.log(far_pos / mid) / math.log((max_position - 1) / mid)
    log_pos = torch.ceil(log_ratio * (mid - 1)).to(relative_pos.dtype) + mid
    return torch.where(near, relative_pos, log_pos * sign).long()


def _distance_buckets(seq_len: int, bucket_size: int, device: torch.device) -> torch.Tensor:
    """Relative-embedding index for every distance ``q - k`` from ``T - 1`` down to ``-(T - 1)``
    (``2T - 1`` entries), the column order that :func:`_skew` expects."""
    distances = torch.arange(seq_len - 1, -seq_len, -1, device=device)
    return relative_position_bucket(distances, bucket_size, BUCKET_HORIZON) + bucket_size - 1


def _skew(scores: torch.Tensor) -> torch.Tensor:
    """``[..., T, 2T - 1]`` scores per (row i, distance T-1-m) -> ``[..., T, T]`` with
    ``out[..., i, j] = scores[..., i, T - 1 - i + j]``, i.e. the score for distance ``i - j``.

    Row i of the result starts ``T - 1 - i`` columns into row i of the input, so in the flat
    buffer consecutive rows are ``2T - 2`` apart: a slice and two reshapes, no gather (whose
    backward, a scatter-add, dominated CPU step time).
    """
    seq_len = scores.size(-2)
    if seq_len == 1:
        return scores
    width = 2 * seq_len - 2
    flat = scores.flatten(-2)[..., seq_len - 1 : seq_len - 1 + seq_len * width]
    return flat.unflatten(-1, (seq_len, width))[..., :seq_len]


def _per_head(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """``x @ table^T`` per head: ``[B, heads, L, d]`` against ``[heads, W, d]`` ->
    ``[B, heads, L, W]``. As an einsum, one matmul per head over every (row, position);
    ``@`` would broadcast ``table`` over the batch and copy it B times first."""
    return torch.einsum("bhld,hwd->bhlw", x, table)


def _trunc_normal_(tensor: torch.Tensor, std: float) -> None:
    nn.init.trunc_normal_(tensor, mean=0.0, std=std, a=-2 * std, b=2 * std)


class Embedding(nn.Module):
    """Word embeddings (LayerNorm without affine, dropout) and the shared relative embeddings."""

    def __init__(self, config: ModelConfig, std: float) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.word_embedding = nn.Embedding(config.vocab_size, hidden)
        self.word_norm = nn.LayerNorm(hidden, eps=config.norm_eps, elementwise_affine=False)
        self.dropout = nn.Dropout(config.dropout)
        # One table for every layer; each layer projects it with its own q/k weights.
        self.relative_embedding = nn.Parameter(torch.empty(2 * config.position_buckets - 1, hidden))
        self.relative_norm = nn.LayerNorm(hidden, eps=config.norm_eps)
        _trunc_normal_(self.word_embedding.weight, std)
        _trunc_normal_(self.relative_embedding, std)

    def forward(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        words = self.dropout(self.word_norm(self.word_embedding(input_ids)))
        return words, self.relative_norm(self.relative_embedding)


class Attention(nn.Module):
    """Self-attention with disentangled relative positions.

    score[q, k] = (q_q . k_k + q_q . kpos[q-k] + k_k . qpos[q-k]) / sqrt(3 * head_dim), where
    qpos / kpos are the relative embeddings put through the same q / k projection. The two
    position terms are computed against the ``2B - 1`` embeddings and then gathered per
    (q, k), never materialising a ``[T, T, hidden]`` tensor.
    """

    def __init__(self, config: ModelConfig, std: float) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.num_heads = config.num_heads
        self.head_dim = hidden // config.num_heads
        self.scale = 1.0 / math.sqrt(3 * self.head_dim)
        self.attention_dropout = config.attention_dropout
        self.pre_norm = nn.LayerNorm(hidden, eps=config.norm_eps, elementwise_affine=False)
        self.in_proj_qk = nn.Linear(hidden, 2 * hidden)
        self.in_proj_v = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, hidden)
        self.post_norm = nn.LayerNorm(hidden, eps=config.norm_eps)
        self.dropout = nn.Dropout(config.attention_dropout)
        for linear in (self.in_proj_qk, self.in_proj_v, self.out_proj):
            _trunc_normal_(linear.weight, std)
            nn.init.zeros_(linear.bias)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        # [..., L, H] -> [..., heads, L, head_dim]
        return x.unflatten(-1, (self.num_heads, self.head_dim)).transpose(-3, -2)

    def forward(
        self,
        x: torch.Tensor,
        relative: torch.Tensor,
        distance_index: torch.Tensor,
        mask: torch.Tensor | None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``[B, T, hidden]``, or with ``positions`` ([B] ints) only the query at
        ``positions[b]`` of each row (``[B, hidden]``; ``mask`` is then that query's row)."""
        h = self.pre_norm(x)
        # The relative table, projected: [heads, 2 * buckets - 1, d].
        q_pos, k_pos = map(self._heads, self.in_proj_qk(self.dropout(relative)).chunk(2, dim=-1))
        v = self._heads(self.in_proj_v(h))
        if positions is None:
            q, k = map(self._heads, self.in_proj_qk(h).chunk(2, dim=-1))  # [B, heads, T, d]
            # Laid out per distance, [heads, 2T - 1, d]; content -> position: q_q . kpos[q - k]
            c2p = _skew(_per_head(q, k_pos[:, distance_index]))
            # position -> content: k_k . qpos[q - k], built per key row (distances negated by
            # the flip), then transposed to [q, k].
            p2c = _skew(_per_head(k, q_pos[:, distance_index.flip(0)])).transpose(-1, -2)
        else:
            q, k, c2p, p2c = self._read_query(h, q_pos, k_pos, distance_index, positions)
        bias = (c2p + p2c) * self.scale
        if mask is not None:
            bias = bias + mask

        context = F.scaled_dot_product_attention(
            q, k, v,
            attn_mask=bias.to(q.dtype),
            dropout_p=self.attention_dropout if self.training else 0.0,
            scale=self.scale,
        )
        context = self.out_proj(context.transpose(1, 2).flatten(2))
        if positions is not None:
            context = context[:, 0]
        return self.dropout(self.post_norm(context))

    def _read_query(
        self,
        h: torch.Tensor,
        q_pos: torch.Tensor,
        k_pos: torch.Tensor,
        distance_index: torch.Tensor,
        positions: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """q ``[B, heads, 1, d]`` of one query per row, k of every position, and the two
        position terms of that query's row (``[B, heads, 1, T]``): the same values as the
        full layer's row ``positions[b]``, with the query projection run on that row alone."""
        batch, seq_len, _ = h.shape
        w_q, w_k = self.in_proj_qk.weight.chunk(2)
        b_q, b_k = self.in_proj_qk.bias.chunk(2)
        rows = torch.arange(batch, device=h.device)
        q = self._heads(F.linear(h[rows, positions, None], w_q, b_q))
        k = self._heads(F.linear(h, w_k, b_k))
        # Row i of the full layer reads distance column T - 1 - i + j for key j (see _skew).
        columns = seq_len - 1 - positions[:, None] + torch.arange(seq_len, device=h.device)
        buckets = distance_index[columns]  # [B, T]
        # content -> position: q_i . kpos[bucket(i - j)], against every bucket, then picked.
        c2p = _per_head(q, k_pos).gather(
            -1, buckets[:, None, None, :].expand(-1, self.num_heads, 1, -1))
        # position -> content: k_j . qpos[bucket(i - j)].
        p2c = (k * q_pos[:, buckets].transpose(0, 1)).sum(-1, keepdim=True).transpose(-1, -2)
        return q, k, c2p, p2c


class FeedForward(nn.Module):
    """GEGLU with a LayerNorm before the output projection (NormFormer)."""

    def __init__(self, config: ModelConfig, std: float, layer_index: int) -> None:
        super().__init__()
        hidden, ffn = config.hidden_size, config.ffn_size
        self.pre_norm = nn.LayerNorm(hidden, eps=config.norm_eps, elementwise_affine=False)
        self.up = nn.Linear(hidden, 2 * ffn, bias=False)
        self.mid_norm = nn.LayerNorm(ffn, eps=config.norm_eps, elementwise_affine=False)
        self.down = nn.Linear(ffn, hidden, bias=False)
        self.dropout = nn.Dropout(config.dropout)
        depth_scale = math.sqrt(1.0 / (2.0 * (layer_index + 1)))
        for linear in (self.up, self.down):
            _trunc_normal_(linear.weight, std)
            with torch.no_grad():
                linear.weight.mul_(depth_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = self.up(self.pre_norm(x)).chunk(2, dim=-1)
        h = value * F.gelu(gate, approximate="tanh")
        return self.dropout(self.down(self.mid_norm(h)))


class Layer(nn.Module):
    def __init__(self, config: ModelConfig, std: float, layer_index: int) -> None:
        super().__init__()
        self.attention = Attention(config, std)
        self.feed_forward = FeedForward(config, std, layer_index)

    def forward(
        self,
        x: torch.Tensor,
        relative: torch.Tensor,
        distance_index: torch.Tensor,
        mask: torch.Tensor | None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        attended = self.attention(x, relative, distance_index, mask, positions)
        if positions is not None:
            x = x[torch.arange(len(positions), device=x.device), positions]
        x = x + attended
        return x + self.feed_forward(x)


class Head(nn.Module):
    """LayerNorm -> Linear -> GELU -> LayerNorm -> (tied) vocabulary projection + bias.

    The projection matrix is the word embedding, passed in at call time rather than stored, so
    the shared tensor has one name (``embedding.word_embedding.weight``) everywhere.
    """

    def __init__(self, config: ModelConfig, std: float) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.in_norm = nn.LayerNorm(hidden, eps=config.norm_eps, elementwise_affine=False)
        self.dense = nn.Linear(hidden, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=config.norm_eps, elementwise_affine=False)
        self.dropout = nn.Dropout(config.dropout)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        _trunc_normal_(self.dense.weight, std)
        nn.init.zeros_(self.dense.bias)

    def forward(self, hidden: torch.Tensor, word_embedding: torch.Tensor) -> torch.Tensor:
        h = self.out_norm(F.gelu(self.dense(self.in_norm(hidden))))
        return F.linear(self.dropout(h), word_embedding, self.bias)


class LtgBert(nn.Module):
    """LTG-BERT with the antlm model contract: ``forward`` -> hidden states, ``logits`` -> head.

    Weight-decay grouping by name works out as in the reference: embeddings (word, relative),
    norms and biases all carry "embed", "norm" or "bias" in their names.
    """

    views: tuple[str, ...] = ATTENTION_KINDS  # see antlm.models.contract
    fast_paths: frozenset[str] = frozenset({"positions"})  # see antlm.models.contract

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.arch != "ltgbert":
            raise ValueError(f"LtgBert needs model.arch='ltgbert', got {config.arch!r}")
        self.config = config
        std = math.sqrt(2.0 / (5.0 * config.hidden_size))
        self.embedding = Embedding(config, std)
        self.layers = nn.ModuleList(Layer(config, std, i) for i in range(config.num_layers))
        self.head = Head(config, std)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention: str = "bidirectional",
        padding_mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Final hidden states ``[B, T, hidden]``; with ``positions`` ([B] ints) only row
        ``b``'s state at ``positions[b]`` (``[B, hidden]``), the last layer then running its
        query, output projection and feed-forward on those positions alone (as BabyLlama)."""
        check_attention(attention)
        seq_len = input_ids.size(1)
        x, relative = self.embedding(input_ids)
        distance_index = _distance_buckets(seq_len, self.config.position_buckets, x.device)
        mask = additive_mask(attention, seq_len, padding_mask, input_ids.device, x.dtype)
        *body, last = self.layers
        for layer in body:
            x = layer(x, relative, distance_index, mask)
        if positions is None:
            return last(x, relative, distance_index, mask)
        return last(x, relative, distance_index, query_rows(mask, False, positions, seq_len),
                    positions)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits for hidden states of any leading shape (only scored positions)."""
        return self.head(hidden, self.embedding.word_embedding.weight)
