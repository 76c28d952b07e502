"""The file locks that keep antlm processes from stepping on each other's run directories.

* **One training process per run directory.** Two ``antlm train`` on the same ``--out`` would
  interleave their checkpoints, metrics and milestone files into a run that neither of them
  trained. The trainer therefore holds an exclusive ``flock(2)`` on ``RUN/.lock`` from the
  moment it writes into the run until it ends, and the commands that read a run's weights
  (eval, finetune, export) refuse while it is held (:meth:`RunLock.check_free`).
* **One writer of results.json at a time.** Evaluations, fine-tunings and sweeps merge their
  scores into one file by read-modify-write; two at once would each drop the other's update.
  :func:`serialized` holds an exclusive lock on a file beside it for the whole merge.

Locks, not pid files: the kernel drops a ``flock`` when the process dies, however it dies
(``kill -9`` included), so a crashed process never leaves a stale lock that someone must remove
by hand. A run lock's file holds the holder's process id, for the message. (``flock`` is
advisory: it keeps out other antlm processes, which is what matters; on NFS, Linux emulates it
with byte-range locks, which work across machines.)
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from antlm.errors import AntlmError

LOCK_NAME = ".lock"
# A sweep process's claim on a run, held from its training through its evaluation, so that
# several sweep processes share one sweep's runs (a separate file: the trainer inside the same
# process takes LOCK_NAME, and two flocks on one file conflict even within a process).
SWEEP_CLAIM_NAME = ".sweep.lock"
# what a refused ``antlm train`` can do instead
TRAINER_ADVICE = "wait for it to end, or train into another --out"


class RunLockedError(AntlmError):
    """Another process holds the run directory's lock."""


class RunLock:
    """``activity`` names what the holder does, for the message (``trained``, ``run by a
    sweep``); ``name`` is the lock's file in the run directory."""

    def __init__(self, root: Path, name: str = LOCK_NAME, activity: str = "trained") -> None:
        self.path = Path(root) / name
        self.activity = activity
        self._fd: int | None = None

    def check_free(self, advice: str = TRAINER_ADVICE) -> None:
        """Refuse at once if another process holds the lock; creates and changes nothing.
        ``advice`` ends the message: what the refused command's user can do instead."""
        holder = self.holder()
        if holder is not None:
            raise RunLockedError(self._held_message(holder, advice))

    def holder(self) -> str | None:
        """The process id written by another process that holds the lock now, else ``None``.

        Probes with a shared lock on a read-only handle, so it works on a run the user may
        only read, and tells a run being trained from one that was interrupted (whose file
        stays, unlocked)."""
        if self._fd is not None or not self.path.is_file():  # held by us, or by nobody
            return None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return self._written_pid()
        finally:
            os.close(fd)  # closing the handle releases the probe's lock
        return None

    def acquire(self) -> None:
        """Take the lock for this process (creating the run directory), or refuse."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLockedError(self._held_message(self._written_pid())) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _written_pid(self) -> str:
        return self.path.read_text().strip() or "unknown"

    def _held_message(
        self, holder: str, advice: str = TRAINER_ADVICE
    ) -> str:
        return (f"{self.path.parent} is being {self.activity} by another process (pid {holder}, "
                f"which holds {self.path}); {advice}")


@contextmanager
def serialized(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created when missing) for the block, waiting
    for any other process holding it: the block's read-modify-write of a shared file then runs
    alone. The lock file stays (removing it would race with a waiting process)."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the handle releases the lock
