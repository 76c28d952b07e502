"""The Makefile's targets that the README names: what they print and build, read from the
recipes themselves (running them would train a model or build a package)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _recipe(target: str) -> list[str]:
    """The command lines of ``target`` in the Makefile, without their leading tab."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line[1:])
    return recipe


def test_demo_says_it_replaces_the_previous_demo_run_before_deleting_it() -> None:
    recipe = _recipe("demo")
    delete = next(i for i, line in enumerate(recipe) if line.startswith("rm -rf runs/demo"))
    assert any("echo" in line and "replacing the previous demo run" in line
               for line in recipe[:delete])


def test_make_wheel_builds_the_wheel_the_readme_installs() -> None:
    recipe = " ".join(_recipe("wheel"))
    assert "pip wheel" in recipe and "--no-deps" in recipe and "-w dist" in recipe
    readme = (ROOT / "README.md").read_text()
    assert "`make wheel`" in readme and "dist/antlm-*.whl" in readme
