"""The Python API, through the README's own example: what a notebook user copies must run."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def readme_example() -> str:
    """The first Python block of the README's "Python API" section."""
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


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
