"""Model name -> class, so a config picks its network by ``model.arch``."""

from __future__ import annotations

from torch import nn

from antlm.config import ModelConfig


def model_classes() -> dict[str, type[nn.Module]]:
    # Imported here so that importing the registry does not build every model module.
    from antlm.models.babyllama import BabyLlama
    from antlm.models.ltgbert import LtgBert

    return {"babyllama": BabyLlama, "ltgbert": LtgBert}


def build_model(config: ModelConfig) -> nn.Module:
    classes = model_classes()
    if config.arch not in classes:
        raise ValueError(f"model.arch={config.arch!r}; allowed: {', '.join(sorted(classes))}")
    return classes[config.arch](config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
