"""``antlm export RUN OUT --checkpoints``: a run as the BabyLM challenge collects a submission,
one Hugging Face model repository whose revisions are the milestone checkpoints.

``OUT`` becomes a local git repository: the final model on ``main`` and one branch per milestone
checkpoint, named as the checkpoint (``chck_1M``, ``chck_10M``, ...: the revision names the 2025
evaluation pipeline loops over, ``eval_zero_shot_fast_all_revisions.sh`` in
babylm/evaluation-pipeline-2025). Every branch is a complete model folder written by
:func:`antlm.export.hf.export_run`, so ``from_pretrained(OUT_or_hub_id, revision="chck_1M")``
loads it. Each branch is a single commit of its own (no shared history: the branches are
alternatives, not successive versions), written with git's plumbing into a temporary index, so
no branch ever sees another's files.

Pushed as it is (``git remote add origin https://huggingface.co/USER/MODEL``, then
``git push --all origin``), the branches become the Hub repository's revisions. The Hub stores
files over 10 MB through git-lfs: when ``git lfs`` is installed the export tracks
``*.safetensors`` with it; otherwise the commits hold the files themselves, and
``git lfs migrate import --everything --include="*.safetensors"`` converts the repository
before pushing a model that large.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from antlm.errors import AntlmError
from antlm.export.hf import check_export_attention, export_run
from antlm.outputs import check_output_folder
from antlm.rundir import RunPaths, RunState, list_checkpoints, read_state, refuse_while_training

__all__ = ["ExportError", "export_revisions"]

LFS_PATTERNS = ("*.safetensors", "*.bin")
# Used only where git knows no identity of its own (a fresh machine, CI).
_FALLBACK_IDENTITY = {"GIT_AUTHOR_NAME": "antlm", "GIT_AUTHOR_EMAIL": "antlm@localhost",
                      "GIT_COMMITTER_NAME": "antlm", "GIT_COMMITTER_EMAIL": "antlm@localhost"}


class ExportError(AntlmError, RuntimeError):
    """An export that cannot be written (target in the way, git failing); says why."""


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, check=False)
    if result.returncode:
        raise ExportError(f"git {' '.join(args)} failed in {repo}: {result.stderr.strip()}")
    return result.stdout.strip()


def _has_lfs() -> bool:
    return shutil.which("git-lfs") is not None


def _commit_folder(repo: Path, folder: Path, branch: str, message: str,
                   env: dict[str, str]) -> None:
    """Commit ``folder``'s files as the sole commit of ``branch``."""
    env = {**env, "GIT_INDEX_FILE": str(folder.parent / f"{branch}.index")}
    _git(repo, "--work-tree", str(folder), "add", "--all", ".", env=env)
    tree = _git(repo, "write-tree", env=env)
    commit = _git(repo, "commit-tree", tree, "-m", message, env=env)
    _git(repo, "update-ref", f"refs/heads/{branch}", commit)


def export_revisions(
    run_dir: str | Path, out_dir: str | Path, attention: str = "bidirectional"
) -> list[str]:
    """Write ``out_dir`` as described in the module docstring; returns the branches, ``main``
    first, then the checkpoints in the order they were passed."""
    check_export_attention(attention)
    paths = RunPaths(Path(run_dir))
    refuse_while_training(paths)  # before the repository is created, not at its main branch
    checkpoints = list_checkpoints(paths)
    out = Path(out_dir)
    check_output_folder(out, "export repository")  # a repository starts empty: no --force
    state = read_state(paths) or RunState()
    final = (f"final model: {state.words_seen or 0:,} words seen, step {state.step:,}"
             + ("" if state.finished else " (the run is not finished)"))
    revisions = [("main", None, final)] + [
        (c.name, c.name, (f"{c.name}: the weights once {c.milestone:,} words were seen "
                          f"({c.words_seen:,} words, {c.tokens_seen:,} tokens, step {c.step:,})"))
        for c in checkpoints]
    with tempfile.TemporaryDirectory(prefix="antlm-export-") as tmp:
        # Every revision is exported before the repository exists: a damaged file of the run
        # stops the export with nothing written to OUT.
        for branch, checkpoint, _ in revisions:
            export_run(paths.root, Path(tmp) / branch, attention=attention, checkpoint=checkpoint)
        out.mkdir(parents=True, exist_ok=True)
        _git(out, "init", "--quiet", "--initial-branch=main")
        identity = {} if _identity_known(out) else _FALLBACK_IDENTITY
        lfs = _has_lfs()
        if lfs:
            _git(out, "lfs", "install", "--local")
        for branch, _, message in revisions:
            folder = Path(tmp) / branch
            if lfs:
                (folder / ".gitattributes").write_text("".join(
                    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
                    for pattern in LFS_PATTERNS))
            _commit_folder(out, folder, branch, message, identity)
    _git(out, "checkout", "--quiet", "--force", "main")
    return [branch for branch, _, _ in revisions]


def _identity_known(repo: Path) -> bool:
    return subprocess.run(["git", "-C", str(repo), "var", "GIT_COMMITTER_IDENT"],
                          capture_output=True, check=False).returncode == 0
