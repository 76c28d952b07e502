"""The fast paths compute what the plain path computes (correctness only, nothing timed).

- The MLM head on the scored rows only gives the full head's loss and gradients.
- bf16 autocast and ``torch.compile`` runs follow the fp32 eager loss curve of the same run.
- A compiler that fails at the first call falls back to eager with the reason printed; the
  device running out of memory is no compile failure and propagates.
- The prefetch thread yields every step's batch in order, and passes errors on; pinned batches
  train as unpinned ones do.

On a GPU machine the training runs here train on CUDA (``train.device: auto``).
"""

from __future__ import annotations

import pytest
import torch

from antlm.config import ModelConfig
from antlm.data.blocks import Prefetcher
from antlm.data.objectives import IGNORE, ObjectivePart, scored_count
from antlm.models.registry import build_model
from antlm.rundir import RunPaths, read_metrics
from antlm.train.compile_errors import is_device_error
from antlm.train.distributed import DistContext
from antlm.train.loss import ObjectiveLoss, scoring_targets
from antlm.train.trainer import StepRunner, compiled_loss, prepare_parts, train_run
from tests.devices import TRAIN_DEVICE, needs_cuda
from tests.runs import small_config

# ~14 CLM then ~14 MLM steps; no dropout, so that every variant draws the same computation
# (inductor's dropout uses its own random stream, so compiled masks would differ by design).
CURVE = ("train.schedule=0.2_CLM+0.2_MLM", "model.dropout=0.0", "train.log_every=2")


def tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(ModelConfig(vocab_size=300, hidden_size=32, num_layers=2, num_heads=2,
                                   ffn_size=64, max_seq_len=24))


def mlm_part() -> ObjectivePart:
    generator = torch.Generator().manual_seed(1)
    input_ids = torch.randint(0, 300, (6, 24), generator=generator)
    labels = torch.randint(0, 300, (6, 24), generator=generator)
    labels[torch.rand(6, 24, generator=generator) > 0.15] = IGNORE
    return ObjectivePart("MLM", "bidirectional", input_ids, labels, 1.0, scored_count(labels))


def loss_and_grads(sparse: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model = tiny_model()
    part = mlm_part()
    positions, targets = scoring_targets(part, sparse_head=sparse)
    assert (positions is None) != sparse
    loss = ObjectiveLoss(model)(part.input_ids, part.attention, positions, targets)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def test_masked_only_head_gives_the_full_heads_loss_and_gradients():
    sparse_loss, sparse_grads = loss_and_grads(sparse=True)
    full_loss, full_grads = loss_and_grads(sparse=False)
    # The same rows through the same weights; only the matmul's row count differs, which may
    # change the summation blocking: float32 tolerance.
    torch.testing.assert_close(sparse_loss, full_loss, rtol=1e-6, atol=1e-5)
    for name, grad in full_grads.items():
        torch.testing.assert_close(sparse_grads[name], grad, rtol=1e-5, atol=1e-7, msg=name)


def train_losses(run_dir) -> list[float]:
    records = read_metrics(RunPaths(run_dir))
    return [r.losses.get("MLM", r.losses.get("CLM")) for r in records if r.event == "train"]


@pytest.fixture(scope="module")
def fp32_curve(data_dir, tmp_path_factory) -> list[float]:
    run = tmp_path_factory.mktemp("curves") / "fp32"
    train_run(small_config(*CURVE), run, data_dir, progress=False)
    return train_losses(run)


# Tolerances on the logged training loss (6.2 -> 5.7 over these steps), at every logged point:
# - bf16 rounds matmul inputs to 8 mantissa bits (relative error ~4e-3 per product); the loss
#   itself is computed in fp32. Measured drift from fp32 over the run: 3.5e-4. The bound, 0.01,
#   keeps a wide margin over that and stays far below the loss's change over the run (~0.5).
# - compiled fp32 only reorders float32 sums (inductor fuses kernels): measured drift 7e-7;
#   the bound is 1e-4. On CUDA, fp32 matmuls run as TF32 (antlm.device), whose ~5e-4 relative
#   error per product depends on the kernel that inductor or eager mode picks: the bound there
#   is 5e-3, half of bf16's and still far below the loss's change.
COMPILED_FP32_TOLERANCE = 5e-3 if TRAIN_DEVICE == "cuda" else 1e-4


@pytest.mark.slow
@pytest.mark.device
@pytest.mark.parametrize(
    ("overrides", "tolerance"),
    [(("train.precision=bf16",), 0.01), (("train.compile=true",), COMPILED_FP32_TOLERANCE),
     (("train.compile=true", "train.precision=bf16"), 0.01)],
    ids=["bf16", "compiled", "compiled-bf16"],
)
def test_fast_runs_track_the_fp32_eager_loss_curve(
    overrides, tolerance, fp32_curve, data_dir, tmp_path
):
    train_run(small_config(*CURVE, *overrides), tmp_path / "run", data_dir, progress=False)
    curve = train_losses(tmp_path / "run")
    assert len(curve) == len(fp32_curve) >= 10
    assert fp32_curve[-1] < fp32_curve[0] - 0.3  # the curve being tracked does move
    worst = max(abs(a - b) for a, b in zip(curve, fp32_curve))
    assert worst <= tolerance, (worst, curve, fp32_curve)


def test_a_compiler_failing_at_the_first_call_falls_back_to_eager(capsys):
    """A real compiler failure: inductor's C++ compiler (the CPU backend's) does not exist."""
    model = tiny_model()
    broken = {"cpp.cxx": ("/nonexistent/c++",), "fx_graph_cache": False,
              "force_disable_caches": True}
    torch._dynamo.reset()  # nothing compiled by an earlier test may be reused
    with torch._inductor.config.patch(broken):
        loss = compiled_loss(model, rows=2, seq_len=24, precision="fp32",
                             device=torch.device("cpu"))
    assert not loss.compiled
    out = capsys.readouterr().out
    assert "torch.compile failed (" in out and "C++ compiler" in out and "training eagerly" in out
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.device
@needs_cuda
def test_running_out_of_gpu_memory_while_compiling_is_not_a_compile_failure():
    """The probe's rows do not fit: the out-of-memory error reaches the caller (eager mode
    would run out too), instead of being reported as a compile failure. The memory cap makes
    the error come early without taking the GPU from other tests."""
    model = tiny_model().cuda()
    torch.cuda.set_per_process_memory_fraction(0.02)  # ~2.8 GB of an H200
    try:  # 6.3M positions: their bf16 logits alone take 3.8 GB
        with pytest.raises(Exception) as raised:
            compiled_loss(model, rows=2**18, seq_len=24, precision="bf16",
                          device=torch.device("cuda"))
        assert is_device_error(raised.value), raised.value
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()


@pytest.mark.device
@needs_cuda
def test_pinned_batches_train_as_unpinned_ones():
    """The trainer pins batches on CUDA so that their copy to the GPU overlaps compute
    (``non_blocking``); the step they give must be the step unpinned batches give."""
    device = torch.device("cuda")
    train = small_config().train
    results = []
    for pin in (False, True):
        model = tiny_model().to(device)
        runner = StepRunner(model, torch.optim.SGD(model.parameters(), lr=0.1), train,
                            DistContext(0, 1, 0, device))
        parts = prepare_parts([mlm_part()], train, 0, 1, pin=pin)
        assert all(t.is_pinned() == pin for p in parts for t in (p.input_ids, p.targets))
        runner.step(parts, lr=0.1)
        loss = runner.meter.read(runner.dist)["MLM"]
        results.append((loss, torch.cat([p.detach().flatten() for p in model.parameters()])))
    (loss_a, weights_a), (loss_b, weights_b) = results
    assert loss_a == loss_b  # the forward pass is deterministic on CUDA
    # The backward's index_select adds with atomics: equal up to float32 summation order.
    torch.testing.assert_close(weights_a, weights_b, rtol=0, atol=1e-6)


def test_prefetcher_yields_every_step_in_order_and_passes_errors_on():
    with Prefetcher(lambda step: step * step, range(3, 9)) as batches:
        assert list(batches) == [(s, s * s) for s in range(3, 9)]

    def failing(step: int) -> int:
        if step == 2:
            raise ValueError("bad batch 2")
        return step

    with Prefetcher(failing, range(5)) as batches, pytest.raises(ValueError, match="bad batch 2"):
        list(batches)
    with Prefetcher(lambda step: step, range(10**6)) as batches:  # leaving early stops it
        assert next(iter(batches)) == (0, 0)
