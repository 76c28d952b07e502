"""LTG-BERT for Hugging Face transformers, as exported by antlm (``trust_remote_code=True``).

Self-contained (imports only torch and transformers) so the exported folder needs nothing
else; it computes exactly what ``antlm.models.ltgbert`` does, with the same parameter names, so
antlm's weights load as they are (antlm's test suite checks the equality):

* attention with DeBERTa-style disentangled relative positions over log-bucketed distances,
  scaled by 1/sqrt(3 * head_dim), summed with the causal/padding mask into one additive mask;
* NormFormer-style LayerNorms; GEGLU feed-forward with a LayerNorm before its output;
* a masked-LM head whose output matrix is the word embedding, plus a bias.

One set of weights, one view per class: ``LtgBertForMaskedLM`` (``AutoModelForMaskedLM``)
always attends bidirectionally, ``LtgBertForCausalLM`` (``AutoModelForCausalLM``) always
causally, so an AntLM-trained model can be scored by either kind of scorer. ``config.attention``
(bidirectional by default, or causal) sets the view of ``LtgBertModel`` and
``LtgBertForSequenceClassification``; classification pools the first token under bidirectional
attention and the last real token under causal attention, as antlm's fine-tuning does.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import (
    BaseModelOutput,
    CausalLMOutput,
    MaskedLMOutput,
    SequenceClassifierOutput,
)

from .configuration_ltgbert import LtgBertConfig

BUCKET_HORIZON = 512  # distances are log-bucketed up to this horizon, as in the reference


def _relative_position_bucket(relative_pos: torch.Tensor, bucket_size: int) -> torch.Tensor:
    mid = bucket_size // 2
    sign = torch.sign(relative_pos)
    abs_pos = relative_pos.abs()
    near = abs_pos <= mid
    far_pos = abs_pos.clamp(min=mid + 1, max=BUCKET_HORIZON - 1).to(torch.float32)
    log_ratio = torch.log(far_pos / mid) / math.log((BUCKET_HORIZON - 1) / mid)
    log_pos = torch.ceil(log_ratio * (mid - 1)).to(relative_pos.dtype) + mid
    return torch.where(near, relative_pos, log_pos * sign).long()


def _distance_index(seq_len: int, bucket_size: int, device: torch.device) -> torch.Tensor:
    """Relative-embedding row for each distance from ``T - 1`` down to ``-(T - 1)``."""
    distances = torch.arange(seq_len - 1, -seq_len, -1, device=device)
    return _relative_position_bucket(distances, bucket_size) + bucket_size - 1


def _skew(scores: torch.Tensor) -> torch.Tensor:
    """``[..., T, 2T - 1]`` scores per (query, distance) -> ``[..., T, T]`` per (query, key)."""
    seq_len = scores.size(-2)
    if seq_len == 1:
        return scores
    width = 2 * seq_len - 2
    flat = scores.flatten(-2)[..., seq_len - 1 : seq_len - 1 + seq_len * width]
    return flat.unflatten(-1, (seq_len, width))[..., :seq_len]


def _additive_mask(
    attention: str, seq_len: int, padding: torch.Tensor | None, device: torch.device,
    dtype: torch.dtype,
) -> torch.Tensor | None:
    """0 where a query may attend, the dtype's minimum elsewhere; None when nothing is masked.
    A query that would see no key at all (a padding row) sees itself, avoiding NaN."""
    causal = attention == "causal"
    if padding is None and not causal:
        return None
    tril = torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()
    if padding is None:
        allowed = tril[None, None]
    else:
        keys = padding[:, None, None, :].to(torch.bool)
        allowed = keys & tril if causal else keys.expand(-1, 1, seq_len, -1)
        allowed = allowed | torch.eye(seq_len, dtype=torch.bool, device=device)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=device)
    return mask.masked_fill(~allowed, torch.finfo(dtype).min)


class Embedding(nn.Module):
    def __init__(self, config: LtgBertConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.word_embedding = nn.Embedding(config.vocab_size, hidden)
        self.word_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps, elementwise_affine=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.relative_embedding = nn.Parameter(
            torch.empty(2 * config.position_bucket_size - 1, hidden)
        )
        self.relative_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        words = self.dropout(self.word_norm(self.word_embedding(input_ids)))
        return words, self.relative_norm(self.relative_embedding)


class Attention(nn.Module):
    def __init__(self, config: LtgBertConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = hidden // config.num_attention_heads
        self.scale = 1.0 / math.sqrt(3 * self.head_dim)
        self.attention_dropout = config.attention_probs_dropout_prob
        self.pre_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps, elementwise_affine=False)
        self.in_proj_qk = nn.Linear(hidden, 2 * hidden)
        self.in_proj_v = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, hidden)
        self.post_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.num_heads, self.head_dim)).transpose(-3, -2)

    def forward(
        self, x: torch.Tensor, relative: torch.Tensor, distance_index: torch.Tensor,
        mask: torch.Tensor | None,
    ) -> torch.Tensor:
        h = self.pre_norm(x)
        q, k = map(self._heads, self.in_proj_qk(h).chunk(2, dim=-1))
        v = self._heads(self.in_proj_v(h))
        q_pos, k_pos = map(self._heads, self.in_proj_qk(self.dropout(relative)).chunk(2, dim=-1))
        c2p = _skew(q @ k_pos[:, distance_index].transpose(-1, -2))
        p2c = _skew(k @ q_pos[:, distance_index.flip(0)].transpose(-1, -2)).transpose(-1, -2)
        bias = (c2p + p2c) * self.scale
        if mask is not None:
            bias = bias + mask
        context = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias.to(q.dtype),
            dropout_p=self.attention_dropout if self.training else 0.0, scale=self.scale,
        )
        context = self.out_proj(context.transpose(1, 2).flatten(2))
        return self.dropout(self.post_norm(context))


class FeedForward(nn.Module):
    def __init__(self, config: LtgBertConfig) -> None:
        super().__init__()
        hidden, ffn = config.hidden_size, config.intermediate_size
        self.pre_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps, elementwise_affine=False)
        self.up = nn.Linear(hidden, 2 * ffn, bias=False)
        self.mid_norm = nn.LayerNorm(ffn, eps=config.layer_norm_eps, elementwise_affine=False)
        self.down = nn.Linear(ffn, hidden, bias=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = self.up(self.pre_norm(x)).chunk(2, dim=-1)
        return self.dropout(self.down(self.mid_norm(value * F.gelu(gate, approximate="tanh"))))


class Layer(nn.Module):
    def __init__(self, config: LtgBertConfig) -> None:
        super().__init__()
        self.attention = Attention(config)
        self.feed_forward = FeedForward(config)

    def forward(
        self, x: torch.Tensor, relative: torch.Tensor, distance_index: torch.Tensor,
        mask: torch.Tensor | None,
    ) -> torch.Tensor:
        x = x + self.attention(x, relative, distance_index, mask)
        return x + self.feed_forward(x)


class Head(nn.Module):
    """The MLM head; its output matrix is the word embedding, passed in at call time."""

    def __init__(self, config: LtgBertConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.in_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps, elementwise_affine=False)
        self.dense = nn.Linear(hidden, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps, elementwise_affine=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, hidden: torch.Tensor, word_embedding: torch.Tensor) -> torch.Tensor:
        h = self.out_norm(F.gelu(self.dense(self.in_norm(hidden))))
        return F.linear(self.dropout(h), word_embedding, self.bias)


class LtgBertPreTrainedModel(PreTrainedModel):
    config_class = LtgBertConfig
    base_model_prefix = "ltgbert"  # never an attribute: every class keeps the weights flat

    def _init_weights(self, module: nn.Module) -> None:
        # The reference scheme (truncated normal, std sqrt(2 / (5 * hidden))) for the weights a
        # checkpoint lacks, such as a new classifier.
        std = math.sqrt(2.0 / (5.0 * self.config.hidden_size))
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm) and module.weight is not None:
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, Embedding):
            nn.init.trunc_normal_(module.relative_embedding, std=std, a=-2 * std, b=2 * std)
        elif isinstance(module, Head):
            nn.init.zeros_(module.bias)


class LtgBertModel(LtgBertPreTrainedModel):
    """Hidden states of the last layer."""

    def __init__(self, config: LtgBertConfig) -> None:
        super().__init__(config)
        self.embedding = Embedding(config)
        self.layers = nn.ModuleList(Layer(config) for _ in range(config.num_hidden_layers))
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embedding.word_embedding

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embedding.word_embedding = value

    def encode(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
        attention: str | None = None,
    ) -> torch.Tensor:
        """Last hidden states under ``attention`` (default: ``config.attention``)."""
        seq_len = input_ids.size(1)
        x, relative = self.embedding(input_ids)
        distance_index = _distance_index(seq_len, self.config.position_bucket_size, x.device)
        mask = _additive_mask(attention or self.config.attention, seq_len, attention_mask,
                              x.device, x.dtype)
        for layer in self.layers:
            x = layer(x, relative, distance_index, mask)
        return x

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **kwargs
    ) -> BaseModelOutput:
        return BaseModelOutput(last_hidden_state=self.encode(input_ids, attention_mask))


class LtgBertForMaskedLM(LtgBertModel):
    """The masked-LM view: bidirectional attention, the prediction for token j read at j."""

    view = "bidirectional"

    def __init__(self, config: LtgBertConfig) -> None:
        super().__init__(config)
        self.head = Head(config)
        self.post_init()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None, **kwargs,
    ) -> MaskedLMOutput:
        hidden = self.encode(input_ids, attention_mask, attention=self.view)
        logits = self.head(hidden, self.embedding.word_embedding.weight)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=(hidden,))


class LtgBertForCausalLM(LtgBertForMaskedLM):
    """The causal-LM view of the same weights: causal attention, the logits at position j
    predicting token j + 1 (``labels`` are shifted here, as Hugging Face causal LMs do)."""

    view = "causal"

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None, **kwargs,
    ) -> CausalLMOutput:
        output = super().forward(input_ids, attention_mask)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(output.logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(),
                                   ignore_index=-100)
        return CausalLMOutput(loss=loss, logits=output.logits, hidden_states=output.hidden_states)


class LtgBertForSequenceClassification(LtgBertModel):
    def __init__(self, config: LtgBertConfig) -> None:
        super().__init__(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None, **kwargs,
    ) -> SequenceClassifierOutput:
        hidden = self.encode(input_ids, attention_mask)
        if self.config.attention == "causal":
            last = (
                attention_mask.sum(-1) - 1 if attention_mask is not None
                else torch.full((hidden.size(0),), hidden.size(1) - 1, device=hidden.device)
            )
            pooled = hidden[torch.arange(hidden.size(0), device=hidden.device), last.long()]
        else:
            pooled = hidden[:, 0]
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            loss = (
                F.mse_loss(logits.squeeze(-1), labels.float()) if self.config.num_labels == 1
                else F.cross_entropy(logits, labels)
            )
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=(hidden,))
