"""The error contract of the ``antlm`` command (antlm.errors), fed bad input through the real
command: exit code 2, one ``antlm: error:`` message that names the file or value, no
traceback, and nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from antlm import cli
from antlm.train.trainer import train_run
from tests.cli import antlm, assert_user_error, snapshot
from tests.runs import small_config

OVERRIDES = ("train.schedule=1_CLM+1_MLM",)


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "small.yaml"
    path.write_text(small_config(*OVERRIDES).to_yaml())
    return path


@pytest.fixture(scope="module")
def half_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SMALL run stopped after its first epoch (resumable); tests damage copies of it."""
    run = tmp_path_factory.mktemp("half") / "run"
    train_run(small_config(*OVERRIDES), run, data_dir, stop_after_epochs=1, progress=False)
    return run


@pytest.fixture
def run(half_run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(half_run, copy)
    return copy


# ---------------------------------------------------------------- damaged or foreign run files
def _other_model_weights(path: Path) -> None:
    from safetensors.torch import save_model

    from antlm.models.registry import build_model

    save_model(build_model(small_config("model.hidden_size=64").model), str(path))


DAMAGE = {
    "truncated checkpoint": ("checkpoint.pt", lambda p: p.write_bytes(p.read_bytes()[:1000]),
                             "train", "checkpoint.pt is not a checkpoint"),
    "empty weights": ("model.safetensors", lambda p: p.write_bytes(b""), "eval",
                      "model.safetensors is not the weights"),
    "weights of another model": ("model.safetensors", _other_model_weights, "eval",
                                 "model.safetensors is not the weights"),
    "foreign tokenizer": ("tokenizer.json", lambda p: p.write_text('{"hello": 1}'), "eval",
                          "tokenizer.json is not a tokenizer"),
    "empty config": ("config.yaml", lambda p: p.write_text(""), "eval",
                     "config.yaml is not a run config"),
    "truncated state": ("state.json", lambda p: p.write_text(p.read_text()[:20]), "train",
                        "state.json is not a JSON object"),
    "garbled metrics": ("metrics.jsonl", lambda p: p.write_text("nonsense\n" + p.read_text()),
                        "train", "metrics.jsonl is not a metrics log: line 1"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_run_file_is_named_and_nothing_is_written(case, run, data_dir):
    name, damage, command, message = DAMAGE[case]
    damage(run / name)
    before = snapshot(run)
    if command == "train":
        done = antlm("train", "--resume", "--out", run, "--data-dir", data_dir, "--no-progress")
    else:
        done = antlm("eval", run, "--tasks", "word_order", "--max-pairs", "1", "--data-dir",
                     data_dir, "--no-progress")
    assert_user_error(done, str(run / name), message)
    assert snapshot(run) == before


# ---------------------------------------------------------------- corpora
def _corpus(root: Path, data_dir: Path, train: bytes) -> Path:
    folder = root / "babylm_10M"
    (folder / "train_10M").mkdir(parents=True)
    (folder / "dev").mkdir()
    (folder / "train_10M" / "switchboard.train").write_bytes(train)
    dev = (data_dir / "babylm_10M" / "dev" / "switchboard.dev").read_text().splitlines()
    (folder / "dev" / "switchboard.dev").write_text("\n".join(dev[:2000]))
    return root


CORPORA = {
    "empty": (b"", "holds no text"),
    "blank": (b"\n  \n\t\n", "holds no text"),
    "binary": (bytes(range(256)) * 50, "line 1: a NUL byte; this is a binary file"),
    "not UTF-8": ("caf\xe9 cr\xe8me\n".encode("latin-1") * 20, "are not UTF-8"),
    "too small": (b"hello world\nthis is tiny\n", "fewer than one batch of 8"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CORPORA))
def test_an_unusable_corpus_is_refused_before_a_run_exists(case, config_file, data_dir,
                                                           tmp_path):
    text, message = CORPORA[case]
    fake = _corpus(tmp_path / "data", data_dir, text)
    cache = tmp_path / "cache"
    done = antlm("train", config_file, "--set", "data.corpora=[babylm_10M]", "--data-dir", fake,
                 "--out", tmp_path / "out", "--no-progress", ANTLM_CACHE_DIR=str(cache))
    assert_user_error(done, message)
    if case != "too small":  # found only once tokenized: the tokenizer cache is then kept
        assert str(fake / "babylm_10M" / "train_10M" / "switchboard.train") in done.stderr
        assert not cache.exists()
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- evaluation data
def _task_data(root: Path, lines: list[str]) -> Path:
    (root / "blimp_filtered").mkdir(parents=True)
    (root / "blimp_filtered" / "paradigm.jsonl").write_text("".join(f"{x}\n" for x in lines))
    return root


LONG = " ".join(["the dog that the cat saw barks"] * 20)
EVAL_DATA = {
    "empty": ([], "paradigm.jsonl holds no pairs"),
    "no usable pair": (['{"good": "a", "bad": "b"}'],
                       "paradigm.jsonl, line 1: field 'sentence_good' is missing"),
    "longer than the context": (
        ['{"sentence_good": "the dog barks", "sentence_bad": "the dog bark"}',
         json.dumps({"sentence_good": LONG, "sentence_bad": LONG + " s"})],
        "paradigm.jsonl, line 2: the bad text is"),
}


@pytest.mark.parametrize("case", list(EVAL_DATA))
def test_unusable_evaluation_data_names_file_and_line(case, run, tmp_path):
    lines, message = EVAL_DATA[case]
    before = snapshot(run)
    done = antlm("eval", run, "--tasks", "blimp_filtered", "--backend", "causal",
                 "--data-dir", _task_data(tmp_path / "tasks", lines), "--no-progress")
    assert_user_error(done, message)
    assert snapshot(run) == before


# ---------------------------------------------------------------- devices and schedules
DEVICES = ["gpu", "cuda:7"] + ([] if torch.cuda.is_available() else ["cuda"])


@pytest.mark.slow
@pytest.mark.parametrize("device", DEVICES)
def test_a_device_that_cannot_be_had_is_refused_before_a_run_exists(device, config_file,
                                                                    data_dir, tmp_path):
    done = antlm("train", config_file, "--set", f"train.device={device}", "--data-dir",
                 data_dir, "--out", tmp_path / "out")
    assert_user_error(done, repr(device) if device != "cuda:7" else "cuda:7")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_schedule_number_in_non_ascii_digits_is_refused(config_file, data_dir, tmp_path):
    done = antlm("train", config_file, "--set", "train.schedule=1_CLM+١_MLM", "--data-dir",
                 data_dir, "--out", tmp_path / "out")
    assert_user_error(done, "train.schedule", "'١', a non-ASCII digit (write 1)")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- only train writes a run
def test_export_never_writes_into_a_run_or_a_used_folder(run, tmp_path):
    before = snapshot(run)
    assert_user_error(antlm("export", run, run), f"{run} is a run directory")
    assert_user_error(antlm("export", run, run, "--force"), f"{run} is a run directory")
    assert snapshot(run) == before
    used = tmp_path / "used"
    used.mkdir()
    (used / "mine.txt").write_text("mine")
    assert_user_error(antlm("export", run, used), "is not empty", "--force")
    assert sorted(p.name for p in used.iterdir()) == ["mine.txt"]


@pytest.mark.slow
def test_resume_of_a_finished_run_changes_nothing(data_dir, tmp_path):
    run = tmp_path / "run"
    train_run(small_config("train.schedule=0.2_CLM"), run, data_dir, progress=False)
    before = snapshot(run)
    done = antlm("train", "--resume", "--out", run, "--set", "train.lr=1e-5", "--data-dir",
                 data_dir, "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "already finished" in done.stdout
    assert snapshot(run) == before


# ---------------------------------------------------------------- bugs
def test_an_internal_error_keeps_its_traceback_and_asks_for_a_report(monkeypatch, capsys):
    def broken(args):
        raise KeyError("oops")

    monkeypatch.setattr(cli, "_cmd_report", broken)  # looked up when the parser is built
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["report", "somewhere"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'oops'" in err
    assert "this is a bug in antlm" in err
