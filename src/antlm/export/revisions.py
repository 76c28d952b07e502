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
``git push --all origin``), the branches become the Hub repository's revisions. The Hub refuses
plain files over 10 MB: every branch carries a ``.gitattributes`` that routes the weights
through Git LFS (as the Hub's own repositories do). When ``git lfs`` is installed the commits
store the weights as LFS objects; otherwise they hold the files themselves, and
:func:`publish_instructions` says so, with the conversion to run once git-lfs is installed,
instead of a push command that the Hub would refuse for a model that large.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from antlm.export.hf import check_export_attention, export_run
from antlm.gitrepo import git
from antlm.outputs import check_output_folder
from antlm.rundir import RunPaths, RunState, list_checkpoints, read_state, refuse_while_training

__all__ = ["export_revisions", "publish_instructions"]

LFS_PATTERNS = ("*.safetensors", "*.bin")
GITATTRIBUTES = "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
                        for pattern in LFS_PATTERNS)
HUB_PLAIN_FILE_LIMIT = 10 * 1000 * 1000  # bytes: larger files must go through LFS on the Hub
# Used only where git knows no identity of its own (a fresh machine, CI).
_FALLBACK_IDENTITY = {"GIT_AUTHOR_NAME": "antlm", "GIT_AUTHOR_EMAIL": "antlm@localhost",
                      "GIT_COMMITTER_NAME": "antlm", "GIT_COMMITTER_EMAIL": "antlm@localhost"}


def _has_lfs() -> bool:
    return shutil.which("git-lfs") is not None


def _commit_folder(repo: Path, folder: Path, branch: str, message: str,
                   env: dict[str, str]) -> None:
    """Commit ``folder``'s files as the sole commit of ``branch``."""
    env = {**env, "GIT_INDEX_FILE": str(folder.parent / f"{branch}.index")}
    git(repo, "--work-tree", str(folder), "add", "--all", ".", env=env)
    tree = git(repo, "write-tree", env=env)
    commit = git(repo, "commit-tree", tree, "-m", message, env=env)
    git(repo, "update-ref", f"refs/heads/{branch}", commit)


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
        git(out, "init", "--quiet", "--initial-branch=main")
        identity = {} if _identity_known(out) else _FALLBACK_IDENTITY
        lfs = _has_lfs()
        if lfs:
            git(out, "lfs", "install", "--local")
        for branch, _, message in revisions:
            folder = Path(tmp) / branch
            (folder / ".gitattributes").write_text(GITATTRIBUTES)
            _commit_folder(out, folder, branch, message, identity)
    git(out, "checkout", "--quiet", "--force", "main")
    return [branch for branch, _, _ in revisions]


def _identity_known(repo: Path) -> bool:
    return subprocess.run(["git", "-C", str(repo), "var", "GIT_COMMITTER_IDENT"],
                          capture_output=True, check=False).returncode == 0


def publish_instructions(out_dir: str | Path) -> str:
    """How to push the repository ``out_dir`` to the Hub: the push itself where git-lfs stored
    the weights (or they are small enough to go plain), otherwise what to install and run
    first, since the Hub refuses plain files over 10 MB."""
    out = Path(out_dir)
    push = (f"cd {out} && git remote add origin https://huggingface.co/USER/MODEL && "
            "git push --all origin")
    if _has_lfs():
        return f"to publish: {push}"
    largest = max((p.stat().st_size for p in out.rglob("*.safetensors")), default=0)
    if largest <= HUB_PLAIN_FILE_LIMIT:
        return (f"to publish: {push} (git-lfs is not installed; the weights, "
                f"{largest / 1e6:.1f} MB at most, are under the Hub's 10 MB limit for plain "
                "files)")
    patterns = ",".join(LFS_PATTERNS)
    return (f"git-lfs is not installed, so the weights ({largest / 1e6:.0f} MB) are plain "
            "files, which the Hub refuses over 10 MB: install git-lfs "
            "(https://git-lfs.com), then run `cd "
            f"{out} && git lfs install --local && git lfs migrate import --everything "
            f'--include="{patterns}"` and publish: {push}')
