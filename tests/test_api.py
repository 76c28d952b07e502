"""The Python API, through the README's own example: what a notebook user copies must run."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REPO


def readme_example() -> str:
    """The first Python block of the README's "Python API" section."""
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


@pytest.mark.parametrize(("option", "value"), [("max_pairs", 0), ("max_pairs", -1),
                                               ("batch_size", 0)])
def test_evaluate_refuses_a_count_out_of_range(option, value, tmp_path):
    import antlm
    from antlm.options import OptionError

    with pytest.raises(OptionError, match=rf"{option}={value}: must be a whole number of at "
                                          r"least 1"):
        antlm.evaluate(tmp_path / "no-run", ["word_order"], data_dir=tmp_path,
                       **{option: value})


@pytest.mark.parametrize(("function", "arguments", "message"), [
    ("evaluate", {"precision": "fp16"}, "precision='fp16'; allowed: fp32, bf16"),
    ("evaluate", {"max_pair": 3}, r"unknown evaluation setting\(s\) max_pair; allowed: backend, "),
    ("pretrain", {"stop_after_epochs": 0}, "stop_after_epochs=0: must be a number greater than 0"),
    ("export_hf", {"attention": "sideways"}, "attention='sideways': .*allowed: causal, bidirectional"),
    ("export_hf", {"attention": "sideways", "checkpoints": True}, "attention='sideways'"),
])
def test_misuse_of_the_api_is_a_user_error_raised_before_any_work(function, arguments, message,
                                                                  tmp_path):
    import antlm
    from antlm.errors import AntlmError

    first = {"evaluate": tmp_path / "no-run", "pretrain": "demo", "export_hf": tmp_path / "no-run"}
    rest = {"evaluate": {"data_dir": tmp_path}, "pretrain": {"out": tmp_path / "run",
                                                             "data_dir": tmp_path},
            "export_hf": {"out": tmp_path / "hf"}}
    with pytest.raises(AntlmError, match=message):
        getattr(antlm, function)(first[function], **rest[function], **arguments)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(("tasks", "names"), [("word_order", ["word_order"]),
                                              ("ewok,word_order", ["ewok", "word_order"]),
                                              (("ewok",), ["ewok"])])
def test_evaluate_reads_a_string_of_tasks_as_names_not_letters(tasks, names, tmp_path,
                                                                monkeypatch):
    import antlm
    from antlm.eval import runner

    seen = {}

    def record(path, task_names, *args, **kwargs):
        seen["tasks"] = task_names
        return SimpleNamespace(name="run", results_path=tmp_path / "results.json"), {}

    monkeypatch.setattr(runner, "evaluate_path", record)
    antlm.evaluate(tmp_path, tasks, data_dir=tmp_path)
    assert seen["tasks"] == names


@pytest.mark.slow
def test_import_antlm_is_light() -> None:
    """``import antlm`` must not load torch: the API's functions import it on first use."""
    code = "import sys, antlm; assert callable(antlm.pretrain); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO, env={"PYTHONPATH": str(REPO / "src")})
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_the_readme_example_runs(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANTLM_DATA_DIR", str(data_dir))
    (tmp_path / "example.py").write_text(readme_example())
    runpy.run_path(str(tmp_path / "example.py"), run_name="__main__")
    run = tmp_path / "runs" / "notebook"
    assert (run / "dev_loss.png").stat().st_size > 10_000
    assert "word_order" in (run / "results.json").read_text()
    assert (tmp_path / "hf" / "notebook" / "config.json").is_file()

    import antlm  # after the sub-packages were imported, the names still mean the functions

    assert callable(antlm.pretrain) and callable(antlm.export_hf)
