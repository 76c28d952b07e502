"""The import rules of docs/ARCHITECTURE.md, checked on the source: every ``import antlm.X``
(at module level or inside a function) of every module against the layer table."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "src" / "antlm"

# Layer of each top-level module or subpackage (docs/ARCHITECTURE.md, "Layers").
LAYERS = {
    "errors": 0, "atomic": 0,
    "units": 1, "intervals": 1, "schedule": 1, "progress": 1, "presets": 1, "locks": 1, "yamlfile": 1,
    "jsonfile": 1,
    "options": 1, "rules": 1, "gitrepo": 1,
    "config": 2, "device": 2,
    "data": 3, "models": 3,
    "rundir": 4,
    "plots": 5, "tracking": 5, "outputs": 5, "speeds": 5,
    "train": 6, "eval": 6, "export": 6,
    "sweep": 7,
    "cli": 8, "api": 8, "__main__": 8, "__init__": 8,
}
# Same-layer imports that the table allows, as (importer, imported).
ALLOWED_SIDEWAYS = {("device", "config"), ("export", "eval"), ("__main__", "cli")}


def _unit(module: str) -> str:
    """``antlm.eval.scoring`` -> ``eval``: the layer table's unit of a dotted name."""
    return module.split(".")[1] if module.count(".") else "__init__"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("antlm.")}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "remote_code" not in p.parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path):
    relative = path.relative_to(PACKAGE)
    importer = relative.parts[0].removesuffix(".py")
    for imported in map(_unit, _imports(path)):
        if imported == importer:
            continue
        assert imported in LAYERS, f"{relative}: antlm.{imported} has no layer in the table"
        upward = LAYERS[imported] > LAYERS[importer]
        sideways = (LAYERS[imported] == LAYERS[importer]
                    and (importer, imported) not in ALLOWED_SIDEWAYS)
        assert not (upward or sideways), (
            f"{relative} imports antlm.{imported} (layer {LAYERS[imported]}) from layer "
            f"{LAYERS[importer]}: see docs/ARCHITECTURE.md")


def test_shipped_modelling_files_stand_alone():
    """They run inside ``transformers`` without antlm installed."""
    for path in (PACKAGE / "models" / "remote_code").glob("*.py"):
        assert not _imports(path), f"{path.name} imports antlm"


# The keys of a run's log and state (metrics.jsonl, state.json) are rundir's to know: every other
# module reads and writes them through its typed records (MetricRecord, RunState), so that a
# renamed key cannot silently empty a plot.
RECORD_FILES = ("metrics", "state")  # RunPaths' attributes of the two files
RECORD_KEY_PREFIXES = ("dev_loss_", "loss_")  # the log's per-objective keys
RECORD_KEYS = {"event"}
READERS = sorted([*_modules(), *(PACKAGE.parent.parent / "benchmarks").glob("*.py")])


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of ``tree``: prose may name a key."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


@pytest.mark.parametrize("path", READERS, ids=lambda p: p.name if p.parent.name == "benchmarks"
                         else str(p.relative_to(PACKAGE)))
def test_only_rundir_knows_the_keys_of_a_runs_log_and_state(path):
    if path == PACKAGE / "rundir.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prose = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            assert not (node.value in RECORD_KEYS or node.value.startswith(RECORD_KEY_PREFIXES)), (
                f"{path.name}:{node.lineno} names the record key {node.value!r}: read the "
                "run's records through antlm.rundir (MetricRecord, RunState)")
        if (isinstance(node, ast.Attribute) and node.attr in RECORD_FILES
                and isinstance(node.value, (ast.Name, ast.Attribute))
                and getattr(node.value, "id", getattr(node.value, "attr", "")) == "paths"):
            raise AssertionError(f"{path.name}:{node.lineno} opens the run's {node.attr} file: "
                                 "read and write it through antlm.rundir")
