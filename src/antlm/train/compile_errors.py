"""Tell a failing ``torch.compile`` apart from a failing device.

``torch.compile`` compiles lazily, at the first call, and wraps what went wrong while compiling
in a ``TorchDynamoException`` (``BackendCompilerFailed``, ``InductorError``, ``Unsupported``):
no C++ compiler, no Triton, an operator it cannot trace. Then training eagerly is the remedy.
Running out of device memory or a CUDA fault can surface at the same call, bare or inside those
wrappers (inductor runs and benchmarks kernels on the device while it compiles), but they are
not the compiler's fault: eager mode would meet the same wall a few steps later with a less
clear message, and after a CUDA fault the device is unusable for eager mode too. Those must
propagate.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch._dynamo.exc import TorchDynamoException

# torch.AcceleratorError (CUDA faults) exists from torch 2.8; before that they are RuntimeErrors
# whose message starts with "CUDA error".
_DEVICE_ERRORS: tuple[type[BaseException], ...] = tuple(
    error for error in (torch.cuda.OutOfMemoryError, getattr(torch, "AcceleratorError", None))
    if error is not None
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps: ``__cause__``, ``__context__`` and the
    ``inner_exception`` that ``BackendCompilerFailed`` keeps."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = (current.__cause__, current.__context__, getattr(current, "inner_exception", None))
        pending.extend(e for e in wrapped if isinstance(e, BaseException))


def is_device_error(exc: BaseException) -> bool:
    """Out of device memory, or a CUDA fault, anywhere in ``exc``'s chain."""
    return any(isinstance(e, _DEVICE_ERRORS) or "CUDA error" in str(e) for e in _causes(exc))


def is_compile_failure(exc: BaseException) -> bool:
    """Whether falling back to eager mode is the remedy for ``exc``: the compiler failed, and
    not because the device did."""
    return isinstance(exc, TorchDynamoException) and not is_device_error(exc)
