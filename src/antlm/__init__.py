"""antlm: data-efficient LM pretraining by alternating causal and masked language modelling.

The Python API (:mod:`antlm.api`) is reachable from here, imported on first use so that
``import antlm`` stays fast (torch loads only when a function needs it)::

    import antlm
    run = antlm.pretrain("demo", "runs/demo")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# Not `sweep`: antlm.sweep is the sub-package (antlm.api.sweep is the function).
__all__ = ["EvaluationSettings", "__version__", "evaluate", "evaluate_checkpoints", "export_hf",
           "finetune", "load_model", "macro", "plot", "pretrain", "report", "report_sweep",
           "submission"]

_API = set(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from antlm import api

        return getattr(api, name)
    raise AttributeError(f"module 'antlm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
