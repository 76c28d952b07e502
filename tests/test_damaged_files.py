"""The damage matrix: every kind of file antlm reads, damaged every way, read by every command
that reads it. Each cell must end as a user error (exit 2, one ``antlm: error:`` message naming
the file, no traceback) with nothing changed in any folder.

The cells are generated: files (each with its format and its readers) x the damages its format
admits x its readers. A damage is a function of the pristine file, so "wrong types" swaps every
top-level value of the real record for one of another type rather than naming a case.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import shutil
import zipfile
import zlib
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


def _zip_records(path: Path) -> dict[str, list[dict]]:
    """Every member's JSON lines, read in memory (EWoK's terms: no plain-text copies)."""
    with zipfile.ZipFile(path) as archive:
        archive.setpassword(b"ewok")
        return {name: [json.loads(line) for line in archive.read(name).decode().splitlines()]
                for name in archive.namelist() if name.endswith(".jsonl")}


def _rezip(path: Path, members: dict[str, str]) -> None:
    """``path`` rewritten as a zip of ``members`` (unencrypted: the texts written are the
    damage's own, never EWoK's)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    path.write_bytes(buffer.getvalue())


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def _wrong_shape(fmt: str, path: Path) -> None:
    if fmt in ("json", "jsonl"):
        path.write_text("[1, 2]\n")
    elif fmt == "csv":  # a table of other columns
        path.write_text("a,b\n1,2\n")
    elif fmt == "zip":  # a zip that holds no .jsonl member
        _rezip(path, {"readme.txt": "x\n"})
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
    elif fmt == "csv":  # the header kept, every cell of every row swapped: text for number
        header, *rows = _csv_rows(path)
        _write_csv(path, [header, *([_swap_cell(cell) for cell in row] for row in rows)])
    elif fmt == "zip":  # every record's values swapped (no text of the original survives)
        _rezip(path, {name: "".join(json.dumps(_swapped(r)) + "\n" for r in records)
                      for name, records in _zip_records(path).items()})


def _swap_cell(cell: str) -> str:
    """A CSV cell of another kind: a number becomes text, text (or nothing) a number."""
    try:
        float(cell)
    except ValueError:
        return "7"
    return "x"


def _repeated_key(fmt: str, path: Path) -> None:
    """The first key of every top-level object written twice, first with a value of another
    type: a parser that keeps the last of two equal keys reads the pristine record."""
    def doubled(text: str) -> str:
        record = json.loads(text)
        key = next(iter(record))
        return "{" + json.dumps(key) + ": " + json.dumps(_swap_type(record[key])) + ", " \
            + text.strip()[1:]
    if fmt == "json":
        path.write_text(doubled(path.read_text()))
    elif fmt == "jsonl":
        path.write_text("".join(doubled(line) + "\n" for line in path.read_text().splitlines()))
    elif fmt == "yaml":
        key = next(iter(yaml.safe_load(path.read_text())))
        path.write_text(yaml.safe_dump({key: 7}) + path.read_text())


def _keys(password: bytes) -> list[int]:
    keys = [0x12345678, 0x23456789, 0x34567890]
    for byte in password:
        _update_keys(keys, byte)
    return keys


def _crc_byte(crc: int, byte: int) -> int:
    return ~zlib.crc32(bytes([byte]), ~crc & 0xFFFFFFFF) & 0xFFFFFFFF


def _update_keys(keys: list[int], byte: int) -> None:
    keys[0] = _crc_byte(keys[0], byte)
    keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
    keys[2] = _crc_byte(keys[2], keys[1] >> 24)


def _stream(keys: list[int]) -> int:
    temp = (keys[2] | 2) & 0xFFFF
    return ((temp * (temp ^ 1)) >> 8) & 0xFF


def _other_password(fmt: str, path: Path) -> None:
    """The zip's members encrypted again under another password (traditional PKWARE
    encryption, byte for byte in place: the sizes do not change)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    for info in infos:
        header = info.header_offset
        start = (header + 30 + int.from_bytes(data[header + 26:header + 28], "little")
                 + int.from_bytes(data[header + 28:header + 30], "little"))
        old, new = _keys(b"ewok"), _keys(b"not-ewok")
        for at in range(start, start + info.compress_size):
            plain = data[at] ^ _stream(old)
            _update_keys(old, plain)
            data[at] = plain ^ _stream(new)
            _update_keys(new, plain)
    path.write_bytes(bytes(data))


DAMAGES: dict[str, Callable[[str, Path], None]] = {
    "empty": lambda fmt, p: p.write_bytes(b""),
    "truncated": lambda fmt, p: _truncate(p),
    "random bytes": lambda fmt, p: _random_bytes(p),
    "wrong shape": _wrong_shape,
    "wrong types": _wrong_types,
    "a directory": lambda fmt, p: _to_directory(p),
    "repeated key": _repeated_key,
    "another password": _other_password,
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
    "eval fast": lambda c: _eval_tasks(c, "blimp_fast,supplement_fast,ewok_fast"),
    # the fast set: the full one's move_contents items do not fit the SMALL model's 64 tokens
    # (the same reader reads both, antlm.eval.tasks._entity_tracking_pairs)
    "eval entity_tracking": lambda c: _eval_tasks(c, "entity_tracking_fast"),
    "eval wug": lambda c: _eval_tasks(c, "wug_adj,wug_past"),
    "eval reading": lambda c: _eval_tasks(c, "reading"),
    # with the age of acquisition: its data and the surprisals the pristine run keeps
    "eval --checkpoints aoa": lambda c: ["eval", c / "run", "--checkpoints", "--tasks",
                                         "word_order", "--max-pairs", "2", "--no-progress"],
    # a rerun into the pristine submission: every part is reused, nothing computed
    "submission": lambda c: ["submission", c / "run", "--out", c / "sub", "--backend", "causal",
                             "--glue-max-train-examples", "8", "--glue-epochs", "1",
                             "--no-progress"],
    "report --sweep": lambda c: ["report", "--sweep", c / "sweep" / "study", "--out", c / "out"],
    "sweep --status": lambda c: ["sweep", c / "study.yaml", "--status", "--root", c / "sweep"],
}



def _eval_tasks(cell: Path, tasks: str) -> list[str | Path]:
    return ["eval", cell / "run", "--tasks", tasks, "--max-pairs", "1", "--no-progress"]


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
    "eval fast": lambda c: antlm.evaluate(c / "run", "blimp_fast,supplement_fast,ewok_fast",
                                          max_pairs=1, progress=False),
    "eval wug": lambda c: antlm.evaluate(c / "run", "wug_adj,wug_past", max_pairs=1,
                                         progress=False),
    "eval reading": lambda c: antlm.evaluate(c / "run", "reading", progress=False),
    "submission": lambda c: antlm.submission(c / "run", c / "sub", backend="causal",
                                             glue_max_train_examples=8, glue_epochs=1,
                                             progress=False),
}

RUN_WEIGHT_READERS = ["eval", "eval --checkpoints", "finetune", "export", "export --checkpoints"]
MILESTONE = "run/checkpoints/chck_2K.safetensors"
BLIMP_FILE = "data/blimp_filtered/adjunct_island.jsonl"
FULL = "data/evaluation_data/full_eval"
FAST = "data/evaluation_data/fast_eval"
MANIFEST = "sub/run/antlm_submission.json"

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
    f"{FAST}/blimp_fast/adjunct_island.jsonl": ("jsonl", ["eval fast"]),
    f"{FAST}/supplement_fast/hypernym.jsonl": ("jsonl", ["eval fast"]),
    f"{FAST}/ewok_fast.zip": ("zip", ["eval fast"]),
    f"{FAST}/entity_tracking_fast/regular.jsonl": ("jsonl", ["eval entity_tracking"]),
    f"{FULL}/wug_adj_nominalization/wug_adj_nominalization.jsonl": ("jsonl", ["eval wug"]),
    f"{FULL}/wug_past_tense/wug_past_tense.jsonl": ("jsonl", ["eval wug"]),
    f"{FULL}/reading/reading_data.csv": ("csv", ["eval reading"]),
    f"{FULL}/aoa/cdi_childes.json": ("json", ["eval --checkpoints aoa"]),
    f"{FULL}/aoa/cdi_human.csv": ("csv", ["eval --checkpoints aoa"]),
    "run/aoa_surprisals.json": ("json", ["eval --checkpoints aoa"]),
    MANIFEST: ("json", ["submission"]),
}

# Damages that the format defines as something else than damage, with the reason.
BY_DESIGN = {
    # metrics.jsonl is appended to: a last line without its newline is the append a killed
    # run left half-written, dropped on reading (antlm.rundir.read_metrics).
    ("run/metrics.jsonl", "truncated"),
}
NOT_APPLICABLE = {  # no such damage for the format
    ("jsonl", "wrong shape"), ("torch", "wrong types"),
    *((fmt, "repeated key") for fmt in ("safetensors", "torch", "csv", "zip")),
    *((fmt, "another password") for fmt in ("json", "jsonl", "yaml", "safetensors", "torch",
                                            "csv")),
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


def _linked(folder: Path, real: Path) -> None:
    """``folder`` made, holding a link to every entry of ``real``."""
    folder.mkdir()
    for entry in real.iterdir():
        (folder / entry.name).symlink_to(entry)


def _data_dir(real: Path, root: Path) -> Path:
    """The real data directory, linked entry by entry; every folder on the way to a data file
    the matrix damages is made a folder of links, and the file itself copied (a damage never
    reaches the real one)."""
    data = root / "data"
    _linked(data, real)
    for name in (n for n in FILES if n.startswith("data/")):
        relative = Path(name).relative_to("data")
        for depth in range(1, len(relative.parts)):
            folder = Path(*relative.parts[:depth])
            if (data / folder).is_symlink():
                (data / folder).unlink()
                _linked(data / folder, real / folder)
        (data / relative).unlink()
        shutil.copyfile(real / relative, data / relative)
    # GLUE holds RTE alone, the task the matrix reads: a submission fine-tunes and predicts
    # every task it finds (QQP's 20,215 validation rows alone take a minute).
    for file in (data / "glue").iterdir():
        if not file.name.startswith("rte."):
            file.unlink()
    return data


@pytest.fixture(scope="module")
def pristine(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SMALL run stopped after its first epoch (resumable, one milestone checkpoint,
    evaluated, its learning curve and age of acquisition scored), its submission, its export,
    a sweep holding a copy of it, and a data directory."""
    root = tmp_path_factory.mktemp("pristine")
    data = _data_dir(data_dir, root)
    config = small_config("train.schedule=1_CLM+1_MLM", "train.checkpoint_words=2K",
                          "model.max_seq_len=64", "train.batch_size=4")
    train_run(config, root / "run", data, stop_after_epochs=1, progress=False)
    evaluate_path(root / "run", ["word_order"], data,
                  settings=EvaluationSettings(max_pairs=1, progress=False))
    cli.main(["eval", str(root / "run"), "--checkpoints", "--tasks", "word_order",
              "--max-pairs", "1", "--no-progress", "--data-dir", str(data)])
    cli.main(["submission", str(root / "run"), "--out", str(root / "sub"), "--backend", "causal",
              "--glue-max-train-examples", "8", "--glue-epochs", "1", "--no-progress",
              "--data-dir", str(data)])
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


# Readers that must succeed on the pristine folder, or their cells would pass on an error of
# the pristine data itself (an item longer than the SMALL model's 64 tokens is one).
DATA_READERS = ["eval fast", "eval entity_tracking", "eval wug", "eval reading",
                "eval --checkpoints aoa", "submission"]


# Entity tracking's items (290-373 tokens) are all longer than the SMALL run's 64-token
# context; the matrix checks that its file is read whole before that, and refused for damage.
TOO_LONG_FOR_THE_RUN = frozenset({"eval entity_tracking"})
TOO_LONG = "more than the model's context"


@pytest.mark.parametrize("reader", DATA_READERS)
def test_the_pristine_folder_is_read_without_error(
    reader: str, pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cell = tmp_path / "cell"
    shutil.copytree(pristine, cell, symlinks=True)
    monkeypatch.setenv("ANTLM_DATA_DIR", str(cell / "data"))
    if reader in TOO_LONG_FOR_THE_RUN:
        # every record is read and checked, then the items are found longer than the SMALL
        # run's context: a damaged copy must be refused for its damage, never for this
        with pytest.raises(SystemExit, match="2"):
            cli.main([str(a) for a in READERS[reader](cell)])
        assert TOO_LONG in capsys.readouterr().err
        return
    cli.main([str(a) for a in READERS[reader](cell)])


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
    if reader in TOO_LONG_FOR_THE_RUN:  # refused for the damage, not for the items' length
        assert TOO_LONG not in message, message[-300:]
