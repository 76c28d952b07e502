"""A Hugging Face model folder adapted to antlm's model contract
(:class:`antlm.models.contract.LanguageModel`), one Hugging Face model per attention view:

* the **causal** view through ``AutoModelForCausalLM``, when ``config.json`` names a
  ``*ForCausalLM`` architecture or maps ``AutoModelForCausalLM`` in its ``auto_map``;
* the **bidirectional** view through ``AutoModelForMaskedLM``, likewise for ``*ForMaskedLM``.

A causal LM thus offers the causal backend, a masked LM the masked ones, and an antlm export
(which maps both) every backend. The views' logits stand in for hidden states (``logits`` is
the identity): a Hugging Face model computes its head itself.

Remote code (a modelling file shipped in the folder, as the published LTG-BERT checkpoints do)
runs only with ``trust_remote_code``, or when every Python file in the folder is byte-identical
to the copy antlm ships in ``antlm/models/remote_code/``: then the code that runs is antlm's own,
the case of every antlm export. A view whose code is not trusted is left out and named in
:attr:`HFLanguageModel.withheld`, so a backend that needs it can say how to get it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn

from antlm.errors import AntlmError
from antlm.jsonfile import read_json_file
from antlm.models.attention import ATTENTION_KINDS

__all__ = ["REMOTE_CODE", "HFLanguageModel", "HFModelError", "load_hf_model", "views_of_config"]

REMOTE_CODE = Path(__file__).parent / "remote_code"
# view -> (Auto class name, architecture suffix)
_VIEW_CLASSES = {
    "causal": ("AutoModelForCausalLM", "ForCausalLM"),
    "bidirectional": ("AutoModelForMaskedLM", "ForMaskedLM"),
}


class HFModelError(AntlmError, ValueError):
    """A Hugging Face folder that cannot be scored; the message says which file and why."""


def views_of_config(config: dict[str, Any]) -> list[str]:
    """The views a folder's ``config.json`` offers, from ``architectures`` and ``auto_map``."""
    architectures = config.get("architectures") or []
    auto_map = config.get("auto_map") or {}
    return [
        view for view, (auto, suffix) in _VIEW_CLASSES.items()
        if auto in auto_map or any(name.endswith(suffix) for name in architectures)
    ]


def _remote_file(auto_map: dict[str, Any], auto: str) -> str | None:
    """The modelling file ``auto_map`` names for ``auto`` (``"modeling_x.Class"``), if any."""
    reference = auto_map.get(auto)
    if reference is None:
        return None
    if isinstance(reference, (list, tuple)):  # (model, tokenizer) pairs in some configs
        reference = reference[0]
    return reference.split("--")[-1].rsplit(".", 1)[0] + ".py"


def _is_antlm_code(folder: Path) -> bool:
    """Every Python file in the folder (all that its remote code could import) is a
    byte-identical copy of one antlm ships."""
    files = list(folder.rglob("*.py"))
    return bool(files) and all(
        (REMOTE_CODE / file.name).is_file()
        and file.read_bytes() == (REMOTE_CODE / file.name).read_bytes()
        for file in files
    )


class HFLanguageModel(nn.Module):
    """See the module docstring. ``heads`` maps each loaded view to its Hugging Face model."""

    def __init__(self, heads: dict[str, nn.Module], max_seq_len: int | None,
                 withheld: dict[str, str] | None = None, source: str = "model") -> None:
        super().__init__()
        self.heads = nn.ModuleDict(heads)
        self.views: tuple[str, ...] = tuple(v for v in ATTENTION_KINDS if v in heads)
        self.config = SimpleNamespace(max_seq_len=max_seq_len)
        self.withheld = dict(withheld or {})  # view -> remote code file it would need
        self.source = source

    def forward(
        self, input_ids: torch.Tensor, attention: str = "causal",
        padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if attention not in self.heads:
            raise HFModelError(f"{self.source} has no {attention} view; it has {self.views}")
        mask = None if padding_mask is None else padding_mask.long()
        return self.heads[attention](input_ids=input_ids, attention_mask=mask).logits

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Without ``transformers``' per-file progress bars ("Loading weights", "Writing model
    shards"): antlm reports its own progress, and theirs would land between the lines of a
    results table. The caller's setting is restored afterwards."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def load_hf_model(
    path: str | Path, device: str | torch.device = "cpu", trust_remote_code: bool = False
) -> HFLanguageModel:
    """Every view the folder offers and may run, in fp32 and eval mode."""
    import transformers

    folder = Path(path)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise HFModelError(f"{folder} is not a Hugging Face model folder (no config.json)")
    config = read_json_file(config_path)
    views = views_of_config(config)
    if not views:
        raise HFModelError(
            f"{config_path}: architectures {config.get('architectures')} name no *ForCausalLM "
            "or *ForMaskedLM class and auto_map has neither AutoModelForCausalLM nor "
            "AutoModelForMaskedLM: nothing to score"
        )
    auto_map = config.get("auto_map") or {}
    trusted = trust_remote_code or _is_antlm_code(folder)
    heads, withheld = {}, {}
    for view in views:
        auto = _VIEW_CLASSES[view][0]
        remote = _remote_file(auto_map, auto)
        if remote is not None and not trusted:
            withheld[view] = remote
            continue
        with quiet_transformers():
            try:
                model = getattr(transformers, auto).from_pretrained(
                    folder, trust_remote_code=trusted)
            except RuntimeError as exc:  # transformers' one signal that weights and config differ
                if "mismatched_sizes" not in str(exc):
                    raise
                raise HFModelError(
                    f"{folder / 'model.safetensors'}: its tensors do not have the shapes "
                    f"{config_path} gives them: the weights of another model, or a damaged "
                    "file; restore the folder from its source") from None
        heads[view] = model.float().to(device).eval()
    if not heads:
        raise HFModelError(
            f"{folder}: every view needs the folder's own code ({', '.join(withheld.values())}); "
            "pass --trust-remote-code to run it"
        )
    max_len = next((config[k] for k in ("max_position_embeddings", "n_positions", "n_ctx")
                    if isinstance(config.get(k), int)), None)
    return HFLanguageModel(heads, max_len, withheld, source=str(folder))
