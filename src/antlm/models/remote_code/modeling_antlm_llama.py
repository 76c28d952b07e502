"""The masked-LM view of a BabyLlama exported by antlm (``trust_remote_code=True``).

An AntLM-trained decoder was also trained with MLM under bidirectional attention, so the same
weights score sentences both ways. ``LlamaForCausalLM`` loads them as a plain decoder (no custom
code); this class, named by ``config.json``'s ``auto_map`` for ``AutoModelForMaskedLM``, runs
the same parameters (same names, so the same file loads) with bidirectional attention and reads
the prediction for token j at j, as antlm's ``mlm`` backend does.

Self-contained (imports only torch and transformers) so the exported folder needs nothing
else. Bidirectional attention is passed to ``LlamaModel`` as a prepared 4-D additive mask
(0 where a query may attend, the dtype's minimum elsewhere), which both transformers 4.45+ and
5.x take as it is instead of building a causal mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import LlamaForCausalLM
from transformers.modeling_outputs import MaskedLMOutput


def bidirectional_mask(
    attention_mask: torch.Tensor | None, shape: torch.Size, dtype: torch.dtype,
    device: torch.device,
) -> torch.Tensor:
    """``[B, 1, T, T]`` additive mask: every query sees every real key (all keys when
    ``attention_mask`` is None)."""
    batch, seq_len = shape
    mask = torch.zeros(batch, 1, seq_len, seq_len, dtype=dtype, device=device)
    if attention_mask is None:
        return mask
    padding = ~attention_mask.to(device=device, dtype=torch.bool)[:, None, None, :]
    return mask.masked_fill(padding, torch.finfo(dtype).min)


class LlamaForMaskedLM(LlamaForCausalLM):
    """LlamaForCausalLM's weights under bidirectional attention (see the module docstring)."""

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None, **kwargs,
    ) -> MaskedLMOutput:
        dtype = self.model.embed_tokens.weight.dtype
        mask = bidirectional_mask(attention_mask, input_ids.shape, dtype, input_ids.device)
        hidden = self.model(input_ids=input_ids, attention_mask=mask, use_cache=False)[0]
        logits = self.lm_head(hidden)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
        return MaskedLMOutput(loss=loss, logits=logits)
