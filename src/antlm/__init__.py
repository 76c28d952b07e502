"""antlm: data-efficient LM pretraining by alternating causal and masked language modelling.

The Python API (:mod:`antlm.api`) is reachable from here, imported on first use so that
``import antlm`` stays fast (torch loads only when a function needs it)::

    import antlm
    run = antlm.pretrain("demo", "runs/demo")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate", "export_hf", "load_model", "plot", "pretrain", "report",
           "submission"]

_API = set(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from antlm import api

        return getattr(api, name)
    raise AttributeError(f"module 'antlm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
