"""The damage matrix: every kind of file antlm reads, damaged every way, read by every command
that reads it. Each cell must end as a user error (exit 2, one ``antlm: error:`` message naming
the file, no traceback) with nothing changed in any folder.

The cells are generated: files (each with its format and its readers) x the damages its format
admits x its readers. A damage is a function of the pristine file, so "wrong types" swaps every
top-level value of the real record for one of another type rather than naming a case.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml
from safetensors import safe_open
from safetensors.torch import save_file

import antlm
from antlm import cli
from antlm.errors import AntlmError
from antlm.eval.runner import evaluate_path
from antlm.eval.settings import EvaluationSettings
from antlm.export.hf import export_run
from antlm.sweep.spec import load_sweep, save_spec
from antlm.train.trainer import train_run
from tests.cli import snapshot
from tests.runs import small_config

# ------------------------------------------------------------------------------ the damages


def _swap_type(value: object) -> object:
    """A value of another JSON type than ``value``'s."""
    if isinstance(value, bool) or value is None:
        return "x"
    if isinstance(value, (int, float)):
        return "x"
    if isinstance(value, str):
        return 7
    if isinstance(value, dict):
        return [1]
    return {"x": 1}


def _swapped(record: object) -> object:
    if isinstance(record, dict):
        return {key: _swap_type(value) for key, value in record.items()}
    return _swap_type(record)


def _truncate(path: Path) -> None:
    """The first half of the bytes, cut inside a line (a cut at a line's end can leave a text
    file that is whole up to there)."""
    data = path.read_bytes()
    cut = len(data) // 2
    while cut > 1 and data[cut - 1:cut] == b"\n":
        cut -= 1
    path.write_bytes(data[:cut])


def _to_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(max(64, min(path.stat().st_size, 4096))))


def _wrong_shape(fmt: str, path: Path) -> None:
    if fmt in ("json", "jsonl"):
        path.write_text("[1, 2]\n")
    elif fmt == "yaml":
        path.write_text("- a\n- b\n")
    elif fmt == "safetensors":  # every tensor one row longer: the weights of another model
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata()
            tensors = {k: torch.cat([handle.get_tensor(k)] * 2) for k in handle.keys()}  # noqa: SIM118
        save_file(tensors, str(path), metadata=meta)
    elif fmt == "torch":
        torch.save([1, 2], path)


def _wrong_types(fmt: str, path: Path) -> None:
    if fmt == "json":
        path.write_text(json.dumps(_swapped(json.loads(path.read_text()))))
    elif fmt == "jsonl":
        lines = path.read_text().splitlines()
        path.write_text("".join(json.dumps(_swapped(json.loads(line))) + "\n" for line in lines))
    elif fmt == "yaml":
        path.write_text(yaml.safe_dump(_swapped(yaml.safe_load(path.read_text()))))
    elif fmt == "safetensors":  # integer tensors, and metadata that is no number
        with safe_open(str(path), framework="pt") as handle:
            meta = {k: "x" for k in (handle.metadata() or {})} or None
            tensors = {k: handle.get_tensor(k).to(torch.int32) for k in handle.keys()}  # noqa: SIM118
        save_file(tensors, str(path), metadata=meta)
    elif fmt == "torch":
        torch.save(_swapped(torch.load(path, weights_only=False)), path)


DAMAGES: dict[str, Callable[[str, Path], None]] = {
    "empty": lambda fmt, p: p.write_bytes(b""),
    "truncated": lambda fmt, p: _truncate(p),
    "random bytes": lambda fmt, p: _random_bytes(p),
    "wrong shape": _wrong_shape,
    "wrong types": _wrong_types,
    "a directory": lambda fmt, p: _to_directory(p),
}

# ------------------------------------------------------------------------------ the readers
# Each reader is the command line of one command, given the cell's folder.
READERS: dict[str, Callable[[Path], list[str]]] = {
    "train --resume": lambda c: ["train", "--resume", "--out", c / "run", "--no-progress"],
    "eval": lambda c: ["eval", c / "run", "--tasks", "word_order", "--max-pairs", "1",
                       "--no-progress"],
    # two pairs, where the pristine curve has one: every revision is scored again
    "eval --checkpoints": lambda c: ["eval", c / "run", "--checkpoints", "--tasks",
                                     "word_order", "--max-pairs", "2", "--no-progress",
                                     "--no-aoa"],
    "finetune": lambda c: ["finetune", c / "run", "--tasks", "rte", "--max-train-examples", "4",
                           "--max-eval-examples", "4", "--epochs", "1", "--no-progress"],
    "export": lambda c: ["export", c / "run", c / "out"],
    "export --checkpoints": lambda c: ["export", c / "run", c / "out", "--checkpoints"],
    "report": lambda c: ["report", c / "run"],
    "macro": lambda c: ["macro", c / "run"],
    "plot": lambda c: ["plot", c / "run", "--out", c / "out.png"],
    "eval FOLDER": lambda c: ["eval", c / "hf", "--tasks", "word_order", "--max-pairs", "1",
                              "--out", c / "out", "--no-progress"],
    "eval blimp": lambda c: ["eval", c / "run", "--tasks", "blimp_filtered", "--max-pairs", "1",
                             "--no-progress"],
    "report --sweep": lambda c: ["report", "--sweep", c / "sweep" / "study", "--out", c / "out"],
    "sweep --status": lambda c: ["sweep", c / "study.yaml", "--status", "--root", c / "sweep"],
}

# The Python API's door to the same work: each must raise an AntlmError naming the file.
API_READERS: dict[str, Callable[[Path], object]] = {
    "train --resume": lambda c: antlm.pretrain(c / "run" / "config.yaml", c / "run", resume=True,
                                               progress=False),
    "eval": lambda c: antlm.evaluate(c / "run", ["word_order"], max_pairs=1, progress=False),
    "export": lambda c: antlm.export_hf(c / "run", c / "out"),
    "export --checkpoints": lambda c: antlm.export_hf(c / "run", c / "out", checkpoints=True),
    "report": lambda c: antlm.report(c / "run"),
    "plot": lambda c: antlm.plot(c / "run", c / "out.png"),
    "eval FOLDER": lambda c: antlm.evaluate(c / "hf", ["word_order"], max_pairs=1,
                                            progress=False, out=c / "out"),
}

RUN_WEIGHT_READERS = ["eval", "eval --checkpoints", "finetune", "export", "export --checkpoints"]
MILESTONE = "run/checkpoints/chck_2K.safetensors"
BLIMP_FILE = "data/blimp_filtered/adjunct_island.jsonl"

# Every file antlm reads: (format, the commands that read it).
FILES: dict[str, tuple[str, list[str]]] = {
    "run/config.yaml": ("yaml", ["train --resume", *RUN_WEIGHT_READERS]),
    "run/state.json": ("json", ["train --resume", *RUN_WEIGHT_READERS]),
    "run/metrics.jsonl": ("jsonl", ["train --resume", "plot", "eval --checkpoints"]),
    "run/checkpoint.pt": ("torch", ["train --resume"]),
    "run/model.safetensors": ("safetensors", RUN_WEIGHT_READERS),
    MILESTONE: ("safetensors", ["eval --checkpoints", "export --checkpoints"]),
    "run/tokenizer.json": ("json", ["train --resume", *RUN_WEIGHT_READERS]),
    "run/results.json": ("json", ["eval", "finetune", "export", "report", "macro"]),
    "run/learning_curve.json": ("json", ["eval --checkpoints"]),
    "hf/config.json": ("json", ["eval FOLDER"]),
    "hf/model.safetensors": ("safetensors", ["eval FOLDER"]),
    "hf/tokenizer.json": ("json", ["eval FOLDER"]),
    "hf/tokenizer_config.json": ("json", ["eval FOLDER"]),
    "hf/antlm_config.yaml": ("yaml", ["eval FOLDER"]),
    "study.yaml": ("yaml", ["sweep --status"]),
    "sweep/study/sweep.yaml": ("yaml", ["report --sweep"]),
    "sweep/study/arm/seed1/results.json": ("json", ["report --sweep"]),
    "sweep/study/arm/seed1/state.json": ("json", ["sweep --status"]),
    BLIMP_FILE: ("jsonl", ["eval blimp"]),
    "data/glue/rte.train.jsonl": ("jsonl", ["finetune"]),
}

# Damages that the format defines as something else than damage, with the reason.
BY_DESIGN = {
    # metrics.jsonl is appended to: a last line without its newline is the append a killed
    # run left half-written, dropped on reading (antlm.rundir.read_metrics).
    ("run/metrics.jsonl", "truncated"),
}
NOT_APPLICABLE = {  # no such damage for the format
    ("jsonl", "wrong shape"), ("torch", "wrong types"),
}

CELLS = [
    pytest.param(name, damage, door, reader, id=f"{name}|{damage}|{door} {reader}")
    for name, (fmt, readers) in FILES.items()
    for damage, reader in itertools.product(DAMAGES, readers)
    for door in ("antlm", "api")
    if (name, damage) not in BY_DESIGN and (fmt, damage) not in NOT_APPLICABLE
    and (door == "antlm" or reader in API_READERS)
]

# ------------------------------------------------------------------------------ the files


def _data_dir(real: Path, root: Path) -> Path:
    """The real data directory, linked entry by entry, with BLiMP-filtered and GLUE linked file
    by file, and the two files the matrix damages copied (a damage never reaches the real one)."""
    data = root / "data"
    data.mkdir()
    for entry in real.iterdir():
        if entry.name not in ("blimp_filtered", "glue"):
            (data / entry.name).symlink_to(entry)
    for folder in ("blimp_filtered", "glue"):
        (data / folder).mkdir()
        for file in (real / folder).iterdir():
            (data / folder / file.name).symlink_to(file)
    for name in (BLIMP_FILE, "data/glue/rte.train.jsonl"):
        (root / name).unlink()
        shutil.copyfile(real / Path(name).relative_to("data"), root / name)
    return data


@pytest.fixture(scope="module")
def pristine(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SMALL run stopped after its first epoch (resumable, one milestone checkpoint,
    evaluated), its export, a sweep holding a copy of it, and a data directory."""
    root = tmp_path_factory.mktemp("pristine")
    data = _data_dir(data_dir, root)
    config = small_config("train.schedule=1_CLM+1_MLM", "train.checkpoint_words=2K",
                          "model.max_seq_len=64", "train.batch_size=4")
    train_run(config, root / "run", data, stop_after_epochs=1, progress=False)
    evaluate_path(root / "run", ["word_order"], data,
                  settings=EvaluationSettings(max_pairs=1, progress=False))
    cli.main(["eval", str(root / "run"), "--checkpoints", "--tasks", "word_order",
              "--max-pairs", "1", "--no-progress", "--no-aoa", "--data-dir", str(data)])
    export_run(root / "run", root / "hf")
    (root / "config.yaml").write_text(config.to_yaml())
    study = root / "sweep" / "study"
    shutil.copytree(root / "run", study / "arm" / "seed1",
                    ignore=shutil.ignore_patterns("checkpoint.pt", "*.safetensors"))
    (root / "study.yaml").write_text(yaml.safe_dump({
        "name": "study", "base": "config.yaml", "seeds": [1], "baseline": "arm",
        "arms": {"arm": {"train.schedule": "1_CLM+1_MLM"}}}))
    save_spec(load_sweep(root / "study.yaml"), study)
    return root


def test_the_matrix_covers_every_file_and_damage(pristine: Path) -> None:
    assert all((pristine / name).exists() for name in FILES)
    assert {c.values[1] for c in CELLS} == set(DAMAGES)


def _refusal_by_the_command(reader: str, cell: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The message of ``antlm READER`` on the cell, once it is known to be a user error."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli.main([str(a) for a in READERS[reader](cell)])
    err = capsys.readouterr().err
    lines = err.strip().splitlines() or ["(nothing on stderr)"]
    # an internal error's own line is the one above the request for a bug report
    last = (lines[-2] if exited.value.code == 1 and len(lines) > 1 else lines[-1])[:300]
    assert exited.value.code == 2, f"exit {exited.value.code}: {last}"
    assert "Traceback" not in err and err.count("antlm: error: ") == 1, last
    return err


def _refusal_by_the_api(reader: str, cell: Path) -> str:
    with pytest.raises(AntlmError) as raised:
        API_READERS[reader](cell)
    return str(raised.value)


@pytest.mark.parametrize(("name", "damage", "door", "reader"), CELLS)
def test_a_damaged_file_is_named_and_nothing_changes(
    name: str, damage: str, door: str, reader: str, pristine: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    cell = tmp_path / "cell"
    shutil.copytree(pristine, cell, symlinks=True)
    monkeypatch.setenv("ANTLM_DATA_DIR", str(cell / "data"))
    monkeypatch.chdir(cell)
    fmt = FILES[name][0]
    DAMAGES[damage](fmt, cell / name)
    before = snapshot(cell)
    message = (_refusal_by_the_command(reader, cell, capsys) if door == "antlm"
               else _refusal_by_the_api(reader, cell))
    assert name in message, f"file not named: {message[-300:]}"
    assert snapshot(cell) == before, f"changed files: {message[-300:]}"
