"""Local git repositories through the ``git`` command: the repository of revisions that
``antlm export --checkpoints`` writes and ``antlm eval REPO --checkpoints`` reads back.

Why the ``git`` command rather than a Python git library: the repository is meant for git
itself (pushed to the Hugging Face Hub, cloned back with git-lfs), so git is the one reader
sure to see exactly what a clone holds, Git LFS filters included; and antlm then depends on no
git library, only on the tool its users already run.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from antlm.errors import AntlmError

__all__ = ["GitError", "branches", "git", "is_git_repository", "materialise"]


class GitError(AntlmError, RuntimeError):
    """A git command that failed on a repository; says which command, where, and git's words."""


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """The output of ``git -C repo ARGS`` (stripped); a failure is a :class:`GitError`."""
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                                env={**os.environ, **(env or {})}, check=False)
    except FileNotFoundError as exc:
        raise GitError(f"git {args[0]} in {repo}: the git command is not installed") from exc
    if result.returncode:
        raise GitError(f"git {' '.join(args)} failed in {repo}: {result.stderr.strip()}")
    return result.stdout.strip()


def is_git_repository(folder: Path) -> bool:
    """Whether ``folder`` is the top of a git work tree (a clone, or an export's repository),
    not merely a folder inside one."""
    return (folder / ".git").exists()


def branches(repo: Path) -> dict[str, str]:
    """The branches of ``repo``, by name, each with the ref to read it from: a local branch, or
    where there is none of that name a remote-tracking one (a clone makes only its default
    branch local; the others, a published model's revisions, are ``origin/NAME``)."""
    found: dict[str, str] = {}
    listed = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes")
    for ref in sorted(listed.splitlines(), key=lambda r: not r.startswith("refs/heads/")):
        name = (ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/")
                else ref.split("/", 3)[-1])  # refs/remotes/REMOTE/NAME
        if name != "HEAD":
            found.setdefault(name, ref)
    return dict(sorted(found.items()))


def materialise(repo: Path, ref: str, folder: Path, files: Sequence[str] = ()) -> Path:
    """Write the files of ``ref`` (all, or only ``files``) into ``folder`` (which must not hold
    them yet), leaving the repository as it was: its index, HEAD and work tree are untouched,
    since the tree is read into a scratch index beside ``folder`` and checked out from there.
    ``checkout-index`` runs git's checkout filters, so weights stored through Git LFS come out
    as the weights (where git-lfs is installed), as in a clone's work tree; ``git archive``
    would give the LFS pointers instead."""
    folder.mkdir(parents=True)
    env = {"GIT_INDEX_FILE": str(folder.parent / f".{folder.name}.index")}
    try:
        git(repo, "read-tree", ref, env=env)
        git(repo, "checkout-index", f"--prefix={folder.resolve()}/",
            *(["--", *files] if files else ["--all"]), env=env)
    finally:
        Path(env["GIT_INDEX_FILE"]).unlink(missing_ok=True)
    return folder
