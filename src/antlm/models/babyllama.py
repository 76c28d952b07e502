"""BabyLlama: a LLaMA-style decoder (RMSNorm, rotary positions, SwiGLU, untied embeddings).

Parameter names mirror Hugging Face's ``LlamaForCausalLM`` (minus its ``model.`` prefix), so
export and the equivalence tests are a rename, not a conversion. Unlike a plain decoder, every
call chooses its attention kind: the objective decides whether tokens see the future.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from antlm.config import ModelConfig
from antlm.models.attention import ATTENTION_KINDS, TokenTree, build_attention_mask, query_rows


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class RotaryEmbedding(nn.Module):
    """cos/sin tables for RoPE, in Hugging Face Llama's (non-interleaved) layout."""

    def __init__(self, head_dim: int, max_seq_len: int, theta: float) -> None:
        super().__init__()
        inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        freqs = torch.outer(torch.arange(max_seq_len, dtype=torch.float32), inv_freq)
        angles = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, x: torch.Tensor, depth: torch.Tensor | None = None) -> torch.Tensor:
        """Rotate ``x`` [batch, heads, seq, head_dim] for positions ``0..seq-1``, or for the
        positions ``depth`` [batch, seq] (a token tree, or one read query per row)."""
        if depth is None:
            cos, sin = self.cos[: x.shape[-2]], self.sin[: x.shape[-2]]
        else:
            cos, sin = self.cos[depth][:, None], self.sin[depth][:, None]
        return x * cos.to(x.dtype) + rotate_half(x) * sin.to(x.dtype)


class SelfAttention(nn.Module):
    def __init__(self, config: ModelConfig, rotary: RotaryEmbedding) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.num_heads = config.num_heads
        self.head_dim = hidden // config.num_heads
        self.q_proj = nn.Linear(hidden, hidden, bias=False)
        self.k_proj = nn.Linear(hidden, hidden, bias=False)
        self.v_proj = nn.Linear(hidden, hidden, bias=False)
        self.o_proj = nn.Linear(hidden, hidden, bias=False)
        self.dropout = config.attention_dropout
        self.rotary = rotary

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        is_causal: bool,
        positions: torch.Tensor | None = None,
        depth: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``[batch, seq, hidden]`` outputs, or with ``positions`` only the query at
        ``positions[b]`` of each row (``[batch, hidden]``; keys and values still cover every
        position, and ``mask`` is then that query's row, see ``query_rows``). ``depth``: each
        token's position in its text when that is not its index (a token tree)."""
        batch, _, hidden = x.shape
        shape = (batch, -1, self.num_heads, self.head_dim)
        queries, query_depth = x, depth
        if positions is not None:
            rows = torch.arange(batch, device=x.device)
            queries = x[rows, positions, None]
            query_depth = (positions if depth is None else depth[rows, positions])[:, None]
        q = self.rotary(self.q_proj(queries).view(shape).transpose(1, 2), query_depth)
        k = self.rotary(self.k_proj(x).view(shape).transpose(1, 2), depth)
        v = self.v_proj(x).view(shape).transpose(1, 2)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=is_causal,
            dropout_p=self.dropout if self.training else 0.0,
        )
        out = self.o_proj(out.transpose(1, 2).reshape(batch, -1, hidden))
        return out if positions is None else out[:, 0]


class SwiGLU(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.ffn_size, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, config.ffn_size, bias=False)
        self.down_proj = nn.Linear(config.ffn_size, config.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, config: ModelConfig, rotary: RotaryEmbedding) -> None:
        super().__init__()
        self.input_layernorm = nn.RMSNorm(config.hidden_size, eps=config.norm_eps)
        self.self_attn = SelfAttention(config, rotary)
        self.post_attention_layernorm = nn.RMSNorm(config.hidden_size, eps=config.norm_eps)
        self.mlp = SwiGLU(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        is_causal: bool,
        positions: torch.Tensor | None = None,
        depth: torch.Tensor | None = None,
    ) -> torch.Tensor:
        attended = self.self_attn(self.input_layernorm(x), mask, is_causal, positions, depth)
        if positions is not None:
            x = x[torch.arange(len(positions)), positions]
        x = x + self.dropout(attended)
        return x + self.dropout(self.mlp(self.post_attention_layernorm(x)))


class BabyLlama(nn.Module):
    """Decoder whose attention kind ("causal" or "bidirectional") is chosen per call."""

    views: tuple[str, ...] = ATTENTION_KINDS  # see antlm.models.contract
    fast_paths: frozenset[str] = frozenset({"positions", "tree"})  # see antlm.models.contract

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        head_dim = config.hidden_size // config.num_heads
        rotary = RotaryEmbedding(head_dim, config.max_seq_len, config.rope_theta)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(config, rotary) for _ in range(config.num_layers))
        self.norm = nn.RMSNorm(config.hidden_size, eps=config.norm_eps)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        # Hugging Face Llama's initialisation (normal, std 0.02), so runs compare with it.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention: str = "causal",
        padding_mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        tree: TokenTree | None = None,
    ) -> torch.Tensor:
        """Final hidden states ``[batch, seq, hidden]``. Two scoring fast paths, the same values
        up to rounding:

        * ``positions`` ([batch] ints): only row ``b``'s state at ``positions[b]``
          (``[batch, hidden]``); the last layer runs its query, output projection and MLP on
          those positions alone, most of a layer when each row is read once (PLL);
        * ``tree``: each row holds several texts that share prefixes (causal attention only),
          every shared prefix computed once; the state of a token is that of the same token at
          its depth in each text through it.
        """
        seq_len = input_ids.shape[1]
        depth = None
        if tree is None:
            mask, is_causal = build_attention_mask(attention, seq_len, padding_mask,
                                                   input_ids.device)
        elif attention != "causal" or padding_mask is not None:
            raise ValueError("a token tree is causal and pads itself: attention='causal', "
                             "padding_mask=None")
        else:
            mask, is_causal, depth = tree.visible[:, None], False, tree.depth
        x = self.embed_tokens(input_ids)
        *body, last = self.layers
        for layer in body:
            x = layer(x, mask, is_causal, depth=depth)
        if positions is None:
            return self.norm(last(x, mask, is_causal, depth=depth))
        return self.norm(last(x, query_rows(mask, is_causal, positions, seq_len), False,
                              positions, depth))

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.lm_head(hidden)
