"""Reading JSON: the one parser behind every JSON file and JSON line antlm reads.

``json.loads`` keeps the last of two equal keys in an object and says nothing, so a
``results.json`` or a data record with a key written twice holds something other than what its
first reading shows (a hand edit, or two writers' output spliced together). This parser refuses
a repeated key instead, naming the source and the key, as :mod:`antlm.yamlfile` does for YAML.
Any other problem is left to the caller as ``json.JSONDecodeError`` (or
``UnicodeDecodeError``): only the caller knows what kind of file it was reading and so what the
user should do about it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from antlm.errors import RepeatedKeyError

__all__ = ["RepeatedKeyError", "load_json", "read_json_file"]


class _RepeatedKey(Exception):
    """Raised inside the parser, which does not know the source's name; :func:`load_json`
    turns it into a :class:`RepeatedKeyError` that does."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's pairs as a dict, refusing a key that comes twice."""
    built: dict[str, Any] = {}
    for key, value in pairs:
        if key in built:
            raise _RepeatedKey(key)
        built[key] = value
    return built


def load_json(text: str, source: str) -> Any:
    """``text`` parsed as JSON, refusing a key written twice in one object with a
    :class:`RepeatedKeyError` that names ``source`` (a file, or a file and line) and the key."""
    try:
        return json.loads(text, object_pairs_hook=_unique_object)
    except _RepeatedKey as exc:
        raise RepeatedKeyError(f"{source}: key {exc.key!r} appears twice in one object; "
                               "keep one") from None


def read_json_file(path: Path) -> Any:
    """The JSON file at ``path`` (UTF-8), read with :func:`load_json`."""
    return load_json(path.read_text(encoding="utf-8"), str(path))
