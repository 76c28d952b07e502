"""The one JSON parser: a key written twice in an object is refused naming the source and the
key, wherever antlm reads JSON; everything else parses as ``json.loads`` parses it."""

from __future__ import annotations

import json

import pytest

from antlm.errors import AntlmError
from antlm.jsonfile import RepeatedKeyError, load_json
from antlm.rundir import read_json


@pytest.mark.parametrize("text", ['{"a": 1, "b": {"c": [1, 2]}}', '[{"a": 1}, {"a": 2}]',
                                  '"x"', '{"a": {"a": 1}}'])
def test_reads_what_json_loads_reads(text: str) -> None:
    assert load_json(text, "f.json") == json.loads(text)


@pytest.mark.parametrize(("text", "key"), [
    ('{"lr": 1, "seed": 2, "lr": 3}', "lr"),
    ('{"train": {"lr": 1, "lr": 1}}', "lr"),  # the same value twice is still two writings
    ('[{"a": 1}, {"b": 1, "b": 2}]', "b"),
])
def test_a_repeated_key_names_source_and_key(text: str, key: str) -> None:
    with pytest.raises(RepeatedKeyError) as info:
        load_json(text, "f.json, line 3")
    assert str(info.value) == f"f.json, line 3: key {key!r} appears twice in one object; keep one"
    assert isinstance(info.value, AntlmError)


def test_a_run_file_with_a_repeated_key_is_refused_by_name(tmp_path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"blimp": {"score": 0.5}, "blimp": {"score": 0.9}}')
    with pytest.raises(RepeatedKeyError, match=rf"{path}: key 'blimp' appears twice"):
        read_json(path)
