"""Configuration of an LTG-BERT checkpoint exported by antlm (loaded with trust_remote_code).

Self-contained: it imports only transformers, so the exported folder works without antlm.
"""

from __future__ import annotations

from transformers import PretrainedConfig


class LtgBertConfig(PretrainedConfig):
    """LTG-BERT shape. ``attention`` is "bidirectional" (as pretrained with MLM) or "causal"
    (an AntLM model's CLM view); antlm trains one set of weights under both."""

    model_type = "ltgbert"

    def __init__(
        self,
        vocab_size: int = 16000,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 2048,
        max_position_embeddings: int = 512,
        position_bucket_size: int = 32,
        layer_norm_eps: float = 1e-5,
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        attention: str = "bidirectional",
        **kwargs,
    ) -> None:
        if attention not in ("bidirectional", "causal"):
            raise ValueError(f"attention={attention!r}; allowed: bidirectional, causal")
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.max_position_embeddings = max_position_embeddings
        self.position_bucket_size = position_bucket_size
        self.layer_norm_eps = layer_norm_eps
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.attention = attention
        super().__init__(**kwargs)
