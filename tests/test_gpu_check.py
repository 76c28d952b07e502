"""The GPU check's own logic, on the CPU: what a one-attempt GPU window cannot afford to find out
there (a wheel that does not install without pip, a stage cut with nothing recorded, a pair of
runs planned into time that does not exist, a test module that needs an optional package)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import gpu_check  # benchmarks/ is no package: imported from its folder
import gpu_deps


def _wheel(folder: Path, name: str = "fakepkg", version: str = "1.0") -> Path:
    """A wheel whose module sits under ``*.data/purelib``, as some wheels ship it."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-{version}.data/purelib/{name}.py", "VALUE = 42\n")
        archive.writestr(f"{name}-{version}.dist-info/METADATA",
                         f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return path


@pytest.mark.slow  # a fresh interpreter imports
def test_wheels_unpack_without_pip_and_their_modules_import(tmp_path, capsys):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels)
    site = tmp_path / "site"
    assert gpu_deps.main([str(wheels), str(site), "fakepkg"]) == 0
    assert (site / "fakepkg.py").is_file() and not list(site.glob("*.data"))
    assert "fakepkg import" in capsys.readouterr().out


@pytest.mark.slow  # a fresh interpreter imports
def test_a_module_no_carried_wheel_provides_stops_the_check(tmp_path, capsys):
    assert gpu_deps.main([str(tmp_path / "none"), str(tmp_path / "site"),
                          "no_such_module_here"]) == 3
    assert "STOP: `import no_such_module_here` fails" in capsys.readouterr().out


def test_a_wheel_for_another_python_stops_the_check(tmp_path, capsys):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "otherpkg-1.0-cp27-cp27m-win32.whl").write_bytes(b"")
    assert gpu_deps.main([str(wheels), str(tmp_path / "site")]) == 3
    assert "do not fit" in capsys.readouterr().out


def test_finished_tests_are_counted_from_the_progress_lines(tmp_path):
    lines = [{"test": "a", "outcome": "passed"}, {"test": "b", "outcome": "skipped"},
             {"test": "c", "outcome": "failed", "message": "boom"},
             {"test": "tests/x.py", "outcome": "failed", "phase": "collect", "message": "import"}]
    path = tmp_path / "tests.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    counts = gpu_check.test_counts(path)
    assert (counts["tests"], counts["passed"], counts["skipped"], counts["failed"]) == (4, 1, 1, 2)
    assert counts["failures"] == ["c: boom", "tests/x.py: import"]


def _fake_check(left: float, tokens_per_s: float) -> SimpleNamespace:
    """What first_plan reads of a Check: its size, the time left, the measured speed."""
    speed = {"systems": {"antlm": {"tokens_per_s": {"CLM": tokens_per_s, "MLM": tokens_per_s}}}}
    return SimpleNamespace(size=gpu_check.SIZES["full"], speed=speed, left=lambda: left)


@pytest.mark.parametrize("left", [250.0, 400.0, 2000.0])
def test_the_first_pair_with_its_overheads_fits_the_time_left_with_the_margin(left):
    plan = gpu_check.first_plan(_fake_check(left, 400_000), {"tokens_per_epoch": 1_980_591})
    if plan["epochs"] > gpu_check.EPOCH_QUANTUM:  # the smallest plan is run whatever it costs
        assert gpu_check.PAIR_MARGIN * plan["predicted_pair_s"] <= left - gpu_check.FINAL_REPORT_S
    assert plan["predicted_pair_s"] > plan["fixed_s"] > 0
    assert plan["epochs"] <= gpu_check.PAPER_EPOCHS


def test_the_full_check_runs_no_checkpoints_and_an_explicit_test_list():
    full = gpu_check.SIZES["full"]
    assert full.tests == gpu_check.DEVICE_TESTS and all((ROOT / t).is_file() for t in full.tests)
    assert full.headline_set["train.checkpoint_words"] is None
    assert full.headline_set["train.checkpoint_epochs"] is False


@pytest.mark.slow  # a fresh interpreter imports
def test_every_test_module_imports_without_minicons():
    """Collecting any list of tests must not need an optional package: only the parity tests
    use minicons, and they import it themselves."""
    modules = sorted(str(p.relative_to(ROOT).with_suffix("")).replace("/", ".")
                     for p in (ROOT / "tests").rglob("test_*.py"))
    code = ("import importlib, sys; sys.modules['minicons'] = None\n"
            f"for name in {modules!r}: importlib.import_module(name)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
