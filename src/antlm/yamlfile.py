"""Reading YAML: the one loader behind every YAML file and value antlm reads.

``yaml.safe_load`` keeps the last of two equal keys in a mapping and says nothing, so a run
config that sets ``lr`` twice, or a sweep that lists one arm twice, trains something other than
what its author reads at the top of the file. This loader refuses a repeated key instead,
naming both lines. Any other YAML problem is left to the caller as ``yaml.YAMLError`` (or
``UnicodeDecodeError``): only the caller knows what kind of file it was reading and so what the
user should do about it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from antlm.errors import RepeatedKeyError

__all__ = ["RepeatedKeyError", "load_yaml", "read_yaml"]

_MERGE_TAG = "tag:yaml.org,2002:merge"  # ``<<: *anchor``: merged keys may be overridden


class _RepeatedKey(Exception):
    """Raised inside the loader, which does not know the file's name; :func:`load_yaml` turns
    it into a :class:`RepeatedKeyError` that does."""

    def __init__(self, key: Any, first: int, second: int) -> None:
        super().__init__(key, first, second)
        self.key, self.first, self.second = key, first, second


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose mappings refuse a repeated key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _refuse_repeated_keys(self, node)
        return super().construct_mapping(node, deep=deep)


def _refuse_repeated_keys(loader: yaml.SafeLoader, node: yaml.MappingNode) -> None:
    """Raise :class:`_RepeatedKey` for the first key of ``node`` written twice (1-based lines).

    Keys are compared as values, as the mapping built from them would compare them, so ``1``
    and ``0x1`` are the same key. Merge keys are skipped: overriding a merged key is their
    purpose. An unhashable key is left to the constructor, which reports it."""
    lines: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = lines.get(key)
        except TypeError:
            continue
        line = key_node.start_mark.line + 1
        if first is not None:
            raise _RepeatedKey(key, first, line)
        lines[key] = line


def load_yaml(text: str, source: str) -> Any:
    """``text`` parsed as YAML (safe tags only), refusing a repeated key with a
    :class:`RepeatedKeyError` that names ``source`` (a file, or the option the text came from)
    and both lines."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe tags only
    except _RepeatedKey as exc:
        raise RepeatedKeyError(f"{source}: key {exc.key!r} appears twice (lines {exc.first} and "
                               f"{exc.second}); keep one") from None


def read_yaml(path: Path) -> Any:
    """The YAML file at ``path`` (UTF-8), read with :func:`load_yaml`."""
    return load_yaml(path.read_text(encoding="utf-8"), str(path))
