"""The error contract of the ``antlm`` command.

Every mistake a user can make (a bad config, a damaged file, data that cannot be trained or
scored on, an output that would overwrite something) raises a subclass of :class:`AntlmError`
whose message names the file (and line, key or value) and says what to do. The command prints
it as one ``antlm: error: ...`` paragraph and exits with :data:`USAGE_EXIT`, without a
traceback: the traceback would only point into antlm, while the cause is in the input. Anything
else is a bug in antlm and keeps its traceback (see :func:`antlm.cli.main`).
"""

from __future__ import annotations

import errno

USAGE_EXIT = 2  # what argparse uses for a bad command line: one code for every user error
BUG_EXIT = 1

# Operating-system errors that the environment causes, not antlm: reported like user errors.
_ADVICE = {
    errno.ENOSPC: "free some space and run the command again",
    errno.EDQUOT: "free some space (disk quota exceeded) and run the command again",
    errno.EACCES: "check the file's permissions, or choose another path",
    errno.EPERM: "check the file's permissions, or choose another path",
    errno.EROFS: "the file system is read-only: choose another path",
    errno.ENOENT: "check the path",
    errno.EISDIR: "give a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
}


class AntlmError(Exception):
    """An error the user can fix: the command prints the message and exits with code 2."""


class RepeatedKeyError(AntlmError):
    """A key written twice in one mapping of a YAML file or one object of a JSON file: the
    parsers keep the last and say nothing, so the file means something else than its first
    reading says (:mod:`antlm.yamlfile`, :mod:`antlm.jsonfile`)."""


def environment_error_message(exc: OSError) -> str | None:
    """The one-paragraph message for an operating-system error the environment caused (disk
    full, permission denied, a missing path), or None for any other ``OSError``."""
    advice = _ADVICE.get(exc.errno or -1)
    if advice is None:
        return None
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}; {advice}"
