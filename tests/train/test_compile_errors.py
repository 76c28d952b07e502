"""Which errors of a compiled call are the compiler's (train eagerly) and which the device's
(propagate). Each error is raised through a real ``torch.compile``, whose wrapping is what
the trainer sees; a real C++ compiler failure is in ``tests/train/test_fast_paths.py``."""

from __future__ import annotations

import pytest
import torch

from antlm.train.compile_errors import is_compile_failure, is_device_error

OOM = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
CUDA_FAULT = torch.AcceleratorError("CUDA error: an illegal memory access was encountered")


def compiling_fails_with(error: BaseException | None) -> BaseException:
    """What a compiled call raises when its backend raises ``error`` while compiling (None: an
    untraceable graph break under ``fullgraph=True``)."""

    def backend(graph, example_inputs):
        raise error

    def body(x: torch.Tensor) -> torch.Tensor:
        if error is None:
            torch._dynamo.graph_break()
        return x * 2 + 1

    torch._dynamo.reset()
    options = {"fullgraph": True} if error is None else {"backend": backend}
    try:
        torch.compile(body, **options)(torch.ones(3))
    except Exception as exc:  # noqa: BLE001 - the error under test
        return exc
    raise AssertionError("compiling did not fail")


def cause(outer: BaseException, inner: BaseException) -> BaseException:
    """``outer`` raised while handling ``inner`` (``raise outer from inner``)."""
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    ("error", "compile_failure"),
    [
        (RuntimeError("InvalidCxxCompiler: No working C++ compiler found"), True),
        (RuntimeError("Cannot find a working triton installation"), True),
        (None, True),
        (OOM, False),
        (cause(RuntimeError("lowering failed"), OOM), False),
        (CUDA_FAULT, False),
        (RuntimeError("CUDA error: device-side assert triggered"), False),
    ],
    ids=["no-c++", "no-triton", "untraceable", "oom", "oom-as-cause", "cuda-fault",
         "cuda-fault-message"],
)
def test_compile_failures_fall_back_unless_the_device_failed(error, compile_failure):
    raised = compiling_fails_with(error)
    assert is_compile_failure(raised) is compile_failure
    assert is_device_error(raised) is not compile_failure


@pytest.mark.parametrize("error", [OOM, CUDA_FAULT, RuntimeError("shapes cannot be multiplied")])
def test_errors_outside_the_compiler_propagate(error):
    assert not is_compile_failure(error)
