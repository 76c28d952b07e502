"""``train.report_to``: a real tiny run reports to TensorBoard (read back from its event files)
and to Weights & Biases in offline mode (no network), and its evaluation follows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from antlm.config import ConfigError

pytest.importorskip("tensorboard")
pytest.importorskip("wandb")


@pytest.mark.slow
def test_a_run_reports_to_tensorboard_and_wandb(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from antlm.tracking import report_evaluation
    from antlm.train.trainer import train_run
    from tests.runs import small_config

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    run = tmp_path / "run"
    config = small_config("train.schedule=1_CLM+1_MLM", "train.report_to=[tensorboard, wandb]",
                          "train.checkpoint_words=null")
    train_run(config, run, data_dir, progress=False)
    # what `antlm eval` hands over after scoring (src/antlm/eval/runner.py)
    report_evaluation(run, "babylm2025", {"declared_backend": "causal",
                                          "scores": {"causal": {"word_order": {"score": 0.8}}}})

    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss_CLM", "train/loss_MLM", "train/lr", "train/tokens_per_s",
            "dev/loss_CLM", "dev/loss_MLM", "progress/words_seen", "progress/phase",
            "eval/babylm2025/word_order"} <= tags
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    dev = [r for r in records if r["event"] in ("start", "dev")]
    assert [e.value for e in events.Scalars("dev/loss_MLM")] == pytest.approx(
        [r["dev_loss_MLM"] for r in dev])
    assert [e.step for e in events.Scalars("dev/loss_MLM")] == [r["step"] for r in dev]
    assert [e.value for e in events.Scalars("progress/phase")][-1] == 2  # the MLM phase
    assert [e.value for e in events.Scalars("eval/babylm2025/word_order")] == [80.0]
    assert any(tag.startswith("phase") for tag in events.Tags()["tensors"])  # the text notes

    offline = list((run / "wandb").glob("offline-run-*"))
    assert len(offline) == 2  # training, then the evaluation resuming the same wandb run
    assert len({p.name.rsplit("-", 1)[1] for p in offline}) == 1
    assert all(any(p.glob("*.wandb")) for p in offline)


def test_an_unknown_tracker_is_refused() -> None:
    from tests.runs import small_config

    with pytest.raises(ConfigError, match="report_to"):
        small_config("train.report_to=[mlflow]")
