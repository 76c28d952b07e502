"""The command line as a newcomer meets it: ``--version``, defaults in ``--help``, the data
directory fallback, the presets by name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import antlm
from antlm.cli import build_parser, main
from antlm.config import ConfigError, FinetuneConfig, resolve_data_dir
from antlm.errors import AntlmError
from tests.cli import assert_refused
from tests.conftest import REPO


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"antlm {antlm.__version__}"


def _help(command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return " ".join(sub.choices[command].format_help().split())


def test_help_shows_the_defaults_of_the_recipe() -> None:
    text = _help("finetune")
    recipe = FinetuneConfig()
    for option, value in (("--lr", recipe.lr), ("--epochs", recipe.epochs),
                          ("--patience", recipe.patience), ("--seed", recipe.seed)):
        assert f"{option} " in text and f"(default: {value})" in text
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "(default: auto)" in _help("eval")


def test_finetune_defaults_come_from_the_config_class() -> None:
    args = build_parser().parse_args(["finetune", "RUN"])
    assert {name: getattr(args, name) for name in FinetuneConfig.__dataclass_fields__} == \
        FinetuneConfig().__dict__


def test_data_dir_falls_back_to_dot_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTLM_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="ANTLM_DATA_DIR"):
        resolve_data_dir(None)
    (tmp_path / "data").mkdir()
    assert resolve_data_dir(None) == Path("data")
    monkeypatch.setenv("ANTLM_DATA_DIR", str(tmp_path))
    assert resolve_data_dir(None) == tmp_path
    assert resolve_data_dir(tmp_path / "data") == tmp_path / "data"


def test_presets_list_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["presets"])
    listing = capsys.readouterr().out
    assert "demo" in listing and "babyllama-tiny" in listing
    main(["presets", "--write", str(tmp_path)])
    assert (tmp_path / "runs" / "demo.yaml").is_file()
    # a written-out preset resolves its inherit chain from where it lies
    from antlm.config import load_config

    assert load_config(tmp_path / "runs" / "demo.yaml").name == "demo"


def test_sweep_status_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["sweep", "smoke", "--root", str(tmp_path), "--status"])
    out = capsys.readouterr().out
    assert "| clm_only | 1 | pending |" in out and "0 of 2 runs done." in out
    assert not any(tmp_path.iterdir())  # no run directory, no sweep.yaml: nothing was started


@pytest.mark.parametrize("argv", [
    ["eval", "RUN", "--max-pairs", "0"],
    ["eval", "RUN", "--max-pairs", "-5"],
    ["eval", "RUN", "--checkpoints", "--max-pairs", "0"],  # was read as the default, 100
    ["eval", "RUN", "--batch-size", "0"],
    ["sweep", "smoke", "--jobs", "0"],
    ["train", "demo", "--devices", "0"],
    ["train", "demo", "--stop-after-epochs", "0"],
    ["schedule", "show", "4_CLM", "--epochs", "0"],
    ["schedule", "show", "4_CLM", "--steps-per-epoch", "0"],
    ["finetune", "RUN", "--batch-size", "0"],
])
def test_a_count_out_of_range_is_refused_naming_option_and_range(argv, capsys):
    option = argv[-2]
    err = assert_refused(capsys, *argv)
    assert f"argument {option}: must be a " in err
    assert "whole number of at least 1" in err or "number greater than 0" in err


def test_presets_are_never_written_into_a_run(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("name: run\n")
    (run / "state.json").write_text("{}")
    err = assert_refused(capsys, "presets", "--write", run)
    assert f"{run} is a run directory; only `antlm train` writes there" in err
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "state.json"]


# What the command line may import from antlm: the API it calls; the error contract it runs
# under; the ranges its options are parsed with; the config classes whose fields become flags;
# and the launcher that runs this same command line again under torchrun (only the command line
# has its argv). From anywhere else, only names that decide nothing: `render_*` functions
# (terminal text of what the API returned) and UPPER_CASE constants (argparse choices).
# (None: any name of that module.)
CLI_MAY_IMPORT = {"antlm": None, "antlm.api": None, "antlm.errors": None, "antlm.options": None,
                  "antlm.config": {"FinetuneConfig"}, "antlm.train.launch": {"launch_devices"}}


def test_the_cli_imports_only_the_api_and_what_decides_nothing() -> None:
    tree = ast.parse((REPO / "src" / "antlm" / "cli.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not [a.name for a in node.names if a.name.startswith("antlm")], node.lineno
        if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("antlm")):
            continue
        allowed = CLI_MAY_IMPORT.get(node.module, set())
        for alias in node.names:
            assert (allowed is None or alias.name in allowed or alias.name.startswith("render_")
                    or alias.name.isupper()), (
                f"cli.py:{node.lineno} imports {alias.name} from {node.module}: the command "
                "line calls antlm.api, which owns every decision")


class _Scored(AntlmError):
    """Raised by the stand-in scorer once it has seen the tasks: nothing is scored."""


def test_antlm_eval_and_antlm_evaluate_score_the_same_default_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from antlm.eval import runner

    seen = []

    def record(path, tasks, *args, **kwargs):
        seen.append(list(tasks))
        raise _Scored("recorded")

    monkeypatch.setattr(runner, "evaluate_path", record)
    with pytest.raises(_Scored):
        antlm.evaluate(tmp_path, data_dir=tmp_path)
    assert_refused(capsys, "eval", tmp_path, "--data-dir", tmp_path)
    assert seen == [list(antlm.api.DEFAULT_TASKS)] * 2


def test_train_without_a_config_needs_resume_and_a_run(tmp_path: Path, capsys) -> None:
    assert "give a CONFIG file, or --resume --out RUN_DIR" in assert_refused(capsys, "train")
    err = assert_refused(capsys, "train", "--resume", "--out", tmp_path)
    assert str(tmp_path) in err and "Traceback" not in err
