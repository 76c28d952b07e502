"""Atomic file writes that honour the user's umask.

A file is written under a temporary name in its own folder, flushed to disk and renamed over
the target, so a crash (even ``kill -9`` or a full disk) leaves either the old file or the new
one, never a torn one; a failed write removes its temporary file. ``tempfile.mkstemp`` creates
files readable by their owner only (0600, so that temporary files stay private); a run's
checkpoint, weights and config are meant to be shared like any file the user creates, so the
file gets the mode ``open()`` would have given it (0666 less the umask) before it is renamed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def current_umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def follow_umask(path: Path) -> None:
    """Give ``path`` the mode ``open()`` would have given it (0666 less the umask): for a file
    that a library wrote with a private mode (safetensors and ``save_pretrained`` write weights
    0600), which a user sharing a run or an export would otherwise find unreadable to others."""
    os.chmod(path, 0o666 & ~current_umask())


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` to fill a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        follow_umask(tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """``data`` as the whole content of ``path``, atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
