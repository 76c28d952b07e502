"""The one YAML loader: a key written twice is refused with both lines, wherever antlm reads
YAML; everything else parses as ``yaml.safe_load`` parses it."""

from __future__ import annotations

import pytest
import yaml

from antlm.errors import AntlmError
from antlm.rundir import RunPaths, read_config
from antlm.yamlfile import RepeatedKeyError, load_yaml, read_yaml
from tests.conftest import CONFIGS

TEXTS = [
    "a: 1\nb:\n  c: [1, 2]\n  d: {e: f}\n",
    "base: &base {x: 1, y: 2}\nderived:\n  <<: *base\n  x: 3\n",  # overriding a merged key
    "- {a: 1}\n- {a: 2}\n",  # equal keys in different mappings
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_reads_what_safe_load_reads(text):
    assert load_yaml(text, "f.yaml") == yaml.safe_load(text)


@pytest.mark.parametrize(("text", "key", "lines"), [
    ("lr: 1\nseed: 2\nlr: 3\n", "'lr'", (1, 3)),
    ("train:\n  lr: 1\n  epochs: 2\n  lr: 3\n", "'lr'", (2, 4)),
    ("train: {lr: 1, lr: 2}\n", "'lr'", (1, 1)),
    ("1: a\n0x1: b\n", "1", (1, 2)),  # equal as values, as the mapping would hold them
])
def test_a_repeated_key_names_source_key_and_both_lines(text, key, lines):
    with pytest.raises(RepeatedKeyError) as info:
        load_yaml(text, "f.yaml")
    assert str(info.value) == (f"f.yaml: key {key} appears twice (lines {lines[0]} and "
                               f"{lines[1]}); keep one")
    assert isinstance(info.value, AntlmError)


def test_other_yaml_errors_are_left_to_the_caller(tmp_path):
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [unclosed\n", "f.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: caf\xe9\n".encode("latin-1"))
    with pytest.raises(UnicodeDecodeError):
        read_yaml(path)


def test_a_run_directorys_config_with_a_repeated_key_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    text = (CONFIGS / "runs" / "demo.yaml").read_text()
    (run / "config.yaml").write_text(text + "name: again\n")
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines, 1) if line.startswith("name:"))
    with pytest.raises(RepeatedKeyError, match=rf"config.yaml: key 'name' appears twice "
                                               rf"\(lines {first} and {len(lines) + 1}\)"):
        read_config(RunPaths(run))
