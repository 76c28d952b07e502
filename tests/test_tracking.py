"""``train.report_to``: a real 3-step run reports every scalar the README promises to TensorBoard
(read back from its event files) and to Weights & Biases in offline mode (read back from the
offline run's transaction log), at the run's first and last step, with the final summary; both
receive exactly what ``metrics.jsonl`` records; and its evaluation follows."""

from __future__ import annotations

import importlib.util
import json
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antlm.config import ConfigError

# 2 CLM steps and 1 MLM step (72 steps per epoch at SMALL size); log_every far above the run's
# length: only the first and the last step read the losses back.
THREE_STEPS = ["train.schedule=0.028_CLM+0.014_MLM", "train.log_every=20",
               "train.checkpoint_words=null"]
FIRST, LAST = 1, 3
# Every scalar README.md promises, with the metrics.jsonl field it comes from, and the steps of
# this run at which it must arrive (the loss of an objective in the steps that trained it; the
# dev losses from the untrained model on).
PROMISED = {
    "train/loss_CLM": ("loss_CLM", {FIRST, LAST}),
    "train/loss_MLM": ("loss_MLM", {LAST}),
    "train/lr": ("lr", {FIRST, LAST}),
    "train/tokens_per_s": ("tokens_per_s", {FIRST, LAST}),
    "progress/words_seen": ("words_seen", {FIRST, LAST}),
    "progress/tokens_seen": ("tokens_seen", {FIRST, LAST}),
    "progress/epoch": ("epoch", {FIRST, LAST}),
    "progress/phase": ("phase", {FIRST, LAST}),
    "dev/loss_CLM": ("dev_loss_CLM", {0, LAST}),
    "dev/loss_MLM": ("dev_loss_MLM", {0, LAST}),
}
SUMMARY = ("step", "words_seen", "tokens_seen", "epoch", "dev_loss_CLM", "dev_loss_MLM",
           "wall_s", "tokens_per_s")
EVAL_TAG = "eval/babylm2025/word_order"


def _importable(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@pytest.fixture(scope="module")
def tracked_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-step run reporting to every installed tracker (wandb offline), then evaluated."""
    from antlm.tracking import report_evaluation
    from antlm.train.trainer import train_run
    from tests.runs import small_config

    trackers = [name for name in ("tensorboard", "wandb") if _importable(name)]
    if not trackers:
        pytest.skip("neither tensorboard nor wandb is installed")
    run = tmp_path_factory.mktemp("tracked") / "run"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WANDB_MODE", "offline")
        env.setenv("WANDB_SILENT", "true")
        config = small_config(*THREE_STEPS, f"train.report_to=[{', '.join(trackers)}]")
        train_run(config, run, data_dir, progress=False)
        # what `antlm eval` hands over after scoring (src/antlm/eval/runner.py)
        report_evaluation(run, "babylm2025", {
            "declared_backend": "causal", "scores": {"causal": {"word_order": {"score": 0.8}}}})
    return run


def _records(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _expected_series(run: Path) -> dict[str, list[tuple[int, float]]]:
    """Each promised scalar as metrics.jsonl records it: (step, value), one point per step."""
    series: dict[str, list[tuple[int, float]]] = {}
    for tag, (field, _) in PROMISED.items():
        points: dict[int, float] = {}
        for record in _records(run):
            if record["event"] in ("start", "train", "dev") and field in record:
                points.setdefault(record["step"], float(record[field]))
        series[tag] = sorted(points.items())
    return series


def _end_record(run: Path) -> dict[str, Any]:
    (end,) = [r for r in _records(run) if r["event"] == "end"]
    return end


@pytest.mark.slow
def test_the_run_logs_its_first_and_last_step_and_a_summary(tracked_run: Path) -> None:
    train_steps = [r["step"] for r in _records(tracked_run) if r["event"] == "train"]
    assert train_steps == [FIRST, LAST]
    end = _end_record(tracked_run)
    assert end["step"] == end["total_steps"] == LAST and end["finished"] is True
    assert end["wall_s"] > 0 and end["tokens_per_s"] > 0
    assert end["tokens_seen"] == LAST * 8 * 32  # batch 8 of 32 tokens


def _check_promised(series: dict[str, list[tuple[int, float]]], run: Path) -> None:
    """Every promised scalar arrives at its steps, once per step, with metrics.jsonl's values."""
    expected = _expected_series(run)
    for tag, (_, steps) in PROMISED.items():
        assert tag in series, tag
        assert steps <= {step for step, _ in series[tag]}, (tag, series[tag])
        assert [step for step, _ in series[tag]] == [step for step, _ in expected[tag]], tag
        assert [v for _, v in series[tag]] == pytest.approx([v for _, v in expected[tag]]), tag


@pytest.mark.slow
def test_tensorboard_receives_every_promised_scalar(tracked_run: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tracked_run / "tensorboard"))
    events.Reload()
    series = {tag: [(e.step, e.value) for e in events.Scalars(tag)]
              for tag in events.Tags()["scalars"]}
    _check_promised(series, tracked_run)
    end = _end_record(tracked_run)
    for key in SUMMARY:
        assert series[f"summary/{key}"] == [(LAST, pytest.approx(end[key]))], key
    assert series[EVAL_TAG] == [(LAST, pytest.approx(80.0))]
    notes = {tag: [e.step for e in events.Tensors(tag)] for tag in events.Tags()["tensors"]
             if tag.startswith("phase")}
    assert [FIRST, LAST] in notes.values()  # phase 1 starts at step 1, phase 2 shows at step 3


def _wandb_records(path: Path) -> Iterator[Any]:
    """The records of a wandb transaction log (``run-ID.wandb``): LevelDB's log format (32 KiB
    blocks of chunks with a 7-byte header: checksum, length, type) after a 7-byte file header,
    each record a ``wandb_internal.Record`` protobuf."""
    from wandb.proto import wandb_internal_pb2

    block, header = 32768, 7
    data = path.read_bytes()
    assert data[:4] == b":W&B", path
    position, chunks = header, b""
    while position + header <= len(data):
        if block - position % block < header:  # a block's tail too short for a header: padding
            position += block - position % block
            continue
        _, length, kind = struct.unpack("<IHB", data[position:position + header])
        position += header
        chunks += data[position:position + length]
        position += length
        if kind in (1, 4):  # a whole record, or the last chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunks)
            chunks = b""
            yield record


def _key(item: Any) -> str:
    """A history or summary item's name (wandb keeps some as a path: ``nested_key``)."""
    return item.key or "/".join(item.nested_key)


def _wandb_run(offline: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The history rows and the final summary of one offline wandb run folder."""
    rows, summary = [], {}
    for record in _wandb_records(next(offline.glob("run-*.wandb"))):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            rows.append({_key(item): json.loads(item.value_json) for item in record.history.item})
        elif kind == "summary":
            summary.update({_key(item): json.loads(item.value_json)
                            for item in record.summary.update})
    return rows, summary


@pytest.mark.slow
def test_wandb_offline_receives_every_promised_scalar(tracked_run: Path) -> None:
    pytest.importorskip("wandb")
    offline = sorted((tracked_run / "wandb").glob("offline-run-*"))
    assert len(offline) == 2  # training, then the evaluation resuming the same wandb run
    assert len({p.name.rsplit("-", 1)[1] for p in offline}) == 1
    rows, summary = _wandb_run(offline[0])
    steps = [row["global_step"] for row in rows]
    assert steps == sorted(set(steps))  # one history row per step
    series = {tag: [(row["global_step"], row[tag]) for row in rows if tag in row]
              for tag in {tag for row in rows for tag in row}}
    _check_promised(series, tracked_run)
    assert all("progress/words_seen" in row for row in rows)  # so wandb can plot against it
    end = _end_record(tracked_run)
    for key in SUMMARY:
        assert summary[f"summary/{key}"] == pytest.approx(end[key]), key
    assert summary["phase"] == "phase 2: MLM"
    evaluation, _ = _wandb_run(offline[1])
    assert [(row["global_step"], row[EVAL_TAG]) for row in evaluation] == [(LAST, 80.0)]


def test_an_unknown_tracker_is_refused() -> None:
    from tests.runs import small_config

    with pytest.raises(ConfigError, match="report_to"):
        small_config("train.report_to=[mlflow]")


# ------------------------------------------------------------------ refused before the run
WANDB_CREDENTIALS = ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_MODE", "WANDB_BASE_URL")


@pytest.fixture
def no_wandb_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No wandb credentials anywhere (environment, netrc) and no local mode; returns the empty
    netrc file that wandb would read."""
    for name in WANDB_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine example.org login user password secret\n")
    netrc_file.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc_file))
    return netrc_file


def _train_refused(tmp_path: Path, data_dir: Path, tracker: str,
                   capsys: pytest.CaptureFixture[str]) -> str:
    """``antlm train`` with ``train.report_to=[tracker]``: exits 2 and writes no run folder;
    returns its error message."""
    from antlm.cli import main

    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "demo", "--out", str(out), "--data-dir", str(data_dir), "--no-progress",
              "--set", f"train.report_to=[{tracker}]"])
    assert exit_info.value.code == 2
    assert not out.exists()
    message = capsys.readouterr().err
    assert "Traceback" not in message
    assert "train.report_to" in message and tracker in message
    return message


@pytest.mark.parametrize("tracker", ["tensorboard", "wandb"])
def test_a_tracker_without_its_package_is_refused_before_the_run(
    tracker: str, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, tracker, None)  # the import fails as if not installed
    monkeypatch.setenv("WANDB_MODE", "offline")
    message = _train_refused(tmp_path, data_dir, tracker, capsys)
    assert f"pip install 'antlm[{tracker}]'" in message and "remove" in message


def test_wandb_online_without_an_api_key_is_refused_before_the_run(
    tmp_path: Path, data_dir: Path, no_wandb_account: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("wandb")
    message = _train_refused(tmp_path, data_dir, "wandb", capsys)
    assert "WANDB_MODE=offline" in message and "wandb login" in message and "remove" in message


@pytest.mark.parametrize("setting", ["WANDB_MODE=offline", "WANDB_MODE=disabled",
                                     "WANDB_API_KEY=x", "netrc"])
def test_wandb_starts_offline_or_with_credentials(
    setting: str, no_wandb_account: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("wandb")
    from antlm.tracking import check_trackers
    from tests.runs import small_config

    if setting == "netrc":  # what `wandb login` writes
        no_wandb_account.write_text("machine api.wandb.ai login user password k3y\n")
    else:
        monkeypatch.setenv(*setting.split("=", 1))
    check_trackers(small_config("train.report_to=[wandb]"))


# ------------------------------------------------------------------ reporters on their own
def test_a_resumed_tensorboard_log_keeps_the_checkpoint_step(tmp_path: Path) -> None:
    """What an interrupted invocation logged after the checkpoint disappears on resume, as in
    metrics.jsonl; what it logged at the checkpoint's step stays, as in metrics.jsonl."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from antlm.tracking import TensorBoardReporter

    first = TensorBoardReporter(tmp_path, resume_step=None)
    for step in (5, 7):  # checkpointed at 5, killed after logging 7
        first.scalars({"dev/loss_CLM": float(step)}, step)
    first.close()
    resumed = TensorBoardReporter(tmp_path, resume_step=5)
    resumed.scalars({"dev/loss_CLM": 6.0}, 6)
    resumed.close()
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("dev/loss_CLM")] == [(5, 5.0), (6, 6.0)]


def test_wandb_project_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wandb = pytest.importorskip("wandb")
    from antlm.tracking import WandbReporter
    from tests.runs import small_config

    opened: dict[str, Any] = {}

    class FakeRun:
        def define_metric(self, *args: Any, **kwargs: Any) -> None:
            pass

    def fake_init(**kwargs: Any) -> FakeRun:
        opened.update(kwargs)
        return FakeRun()

    monkeypatch.setattr(wandb, "init", fake_init)
    config = small_config("train.report_to=[wandb]")
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    WandbReporter(tmp_path, config)
    assert opened["project"] == "antlm"
    monkeypatch.setenv("WANDB_PROJECT", "my-project")
    WandbReporter(tmp_path, config)
    assert opened["project"] == "my-project"
