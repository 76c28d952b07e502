"""The revisions a learning curve scores (``antlm eval PATH --checkpoints``), from either of
the two places they live:

* a **run directory**: its milestone checkpoints (``checkpoints/chck_*.safetensors``), in the
  order they were passed, then its final weights as ``main``; results go into the run.
* a **git repository of revisions**, as ``antlm export RUN OUT --checkpoints`` writes it and the
  official pipeline loops over (``eval_zero_shot_fast_all_revisions.sh``): one ``chck_*``
  branch per milestone and the final model on ``main``, each a complete Hugging Face folder.
  The ``chck_*`` branches are ordered by the words in their names (:func:`antlm.units.parse_count`);
  each revision's words seen and step are read from the branch's ``antlm_revision.json``
  (:data:`antlm.rundir.EXPORTED_REVISION`), else the words are the milestone of its name and
  the step is not recorded; ``main`` is on the curve only when its file says its words. Each
  revision is checked out, one at a time, into a scratch folder outside the repository and
  scored as a model folder (:func:`antlm.eval.subject.open_subject`); the repository is never
  written to. A repository is not a place for results (it may be a clone of a published
  model), so they go where a model folder's go: ``--out DIR``, or ``results/NAME/`` under the
  working directory. A clone of the Hub keeps its weights in Git LFS: a branch whose weights
  are still LFS pointers (git-lfs missing) is refused with what to run.

Nothing is downloaded: a Hub id is refused with the ``git clone`` that makes it a local
repository.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from antlm.config import RunConfig
from antlm.eval.subject import EvalSubject, default_results_dir, open_subject, subject_of_run
from antlm.gitrepo import branches, git, is_git_repository, materialise
from antlm.outputs import OutputError, refuse_run_directory
from antlm.rundir import (
    CHECKPOINT_PREFIX,
    EXPORTED_CONFIG,
    EXPORTED_REVISION,
    REVISION_FIELDS,
    PhaseSpan,
    RunDirError,
    RunPaths,
    check_weights,
    list_checkpoints,
    load_run,
    model_skeleton,
    present,
    read_config,
    read_exported_config,
    read_json,
    read_phases,
    read_results,
    read_state,
    read_tokenizer,
)
from antlm.units import parse_count

__all__ = ["RepositoryRevisions", "Revision", "RunRevisions", "open_revisions", "results_folder"]

WEIGHTS = "model.safetensors"
_LFS_POINTER = b"version https://git-lfs"
# A Hugging Face Hub id: ``owner/name`` (what ``from_pretrained`` would download).
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


@dataclass(frozen=True)
class Revision:
    """One point of a curve: a milestone checkpoint, or ``main`` (the final model)."""

    name: str
    words_seen: int
    step: int | None  # None: not recorded (a repository exported without antlm_revision.json)
    milestone: int | None  # the words of its name; None for main


class RunRevisions:
    """The revisions of a run directory (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.paths = RunPaths(root)
        self.title = root.name
        self.results = self.paths
        self.config: RunConfig | None = read_config(self.paths)
        self.revisions = self._revisions()

    def _revisions(self) -> list[Revision]:
        revisions = [Revision(c.name, c.words_seen, c.step, c.milestone)
                     for c in list_checkpoints(self.paths)]
        if not revisions:
            raise RunDirError(
                f"{self.paths.root} has no milestone checkpoints (train.checkpoint_words; a run "
                "that sees fewer words than the first milestone writes none)")
        state = read_state(self.paths)
        if present(self.paths.weights) and state is not None and state.words_seen is not None:
            revisions.append(Revision("main", state.words_seen, state.step, None))
        return revisions

    def phases(self) -> tuple[PhaseSpan, ...]:
        return read_phases(self.paths)

    def check(self, names: set[str]) -> None:
        """Refuse a damaged file of these revisions before any is scored, reading what
        :func:`antlm.rundir.load_run` reads but only the weights' headers: a revision is
        loaded once, to be scored."""
        read_tokenizer(self.paths)
        read_results(self.paths)
        self.phases()
        assert self.config is not None
        skeleton = model_skeleton(self.config)
        for name in sorted(names):
            check_weights(self.paths, skeleton, None if name == "main" else name)

    @contextmanager
    def open(self, name: str, device: str | torch.device) -> Iterator[EvalSubject]:
        yield subject_of_run(load_run(self.paths.root, device, None if name == "main" else name))


class RepositoryRevisions:
    """The revisions of a git repository (see the module docstring), read through ``scratch``,
    a folder outside it that the caller removes."""

    def __init__(self, repo: Path, scratch: Path, out: Path | None = None,
                 trust_remote_code: bool = False) -> None:
        self.repo, self.scratch, self.trust_remote_code = repo, scratch, trust_remote_code
        self.title = repo.resolve().name
        results = results_folder(repo, out)
        refuse_run_directory(results, "learning curve")
        if results.resolve().is_relative_to(repo.resolve()):
            raise OutputError(f"{results} is inside the repository {repo}, which is never "
                              "written to: pass --out with a folder outside it")
        self.results = RunPaths(results)
        self.refs = branches(repo)
        milestones = sorted((self._milestone(n), n) for n in self.refs
                            if n.startswith(CHECKPOINT_PREFIX))
        if not milestones:
            raise RunDirError(
                f"{repo} is a git repository without chck_* branches (the milestone revisions "
                "`antlm export RUN OUT --checkpoints` writes), so it has no learning curve")
        records = {n: self._record(n) for n in [*(n for _, n in milestones),
                                                *(["main"] if "main" in self.refs else [])]}
        self.revisions = [Revision(n, records[n].get("words_seen", m), records[n].get("step"), m)
                          for m, n in milestones]
        main = records.get("main", {})
        if "words_seen" in main:
            self.revisions.append(Revision("main", main["words_seen"], main.get("step"), None))
        # what the final model (else the last milestone) declares, as a model folder would
        self.config = read_exported_config(self._meta_folder(
            "main" if "main" in records else milestones[-1][1]))

    def _milestone(self, branch: str) -> int:
        try:
            return parse_count(branch.removeprefix(CHECKPOINT_PREFIX))
        except ValueError as exc:
            raise RunDirError(f"branch {branch} of {self.repo}: not a milestone revision "
                              f"(chck_ then a number of words, e.g. chck_10M): {exc}") from None

    def _meta_folder(self, branch: str) -> Path:
        return self.scratch / "meta" / branch

    def _record(self, branch: str) -> dict[str, int]:
        """The branch's ``antlm_revision.json`` (``{}`` without one), once the branch is known
        to be a model folder; its small antlm files are checked out under the scratch folder."""
        ref = self.refs[branch]
        files = set(git(self.repo, "ls-tree", "--name-only", ref).splitlines())
        for needed in ("config.json", WEIGHTS):
            if needed not in files:
                raise RunDirError(f"branch {branch} of {self.repo} is not a Hugging Face model "
                                  f"folder (no {needed})")
        ours = [f for f in (EXPORTED_CONFIG, EXPORTED_REVISION) if f in files]
        if not ours:  # not an antlm export
            return {}
        folder = materialise(self.repo, ref, self._meta_folder(branch), ours)
        try:
            return read_json(folder / EXPORTED_REVISION, REVISION_FIELDS)
        except RunDirError as exc:
            raise RunDirError(f"branch {branch} of {self.repo}: {exc}") from None

    def phases(self) -> tuple[PhaseSpan, ...]:
        """None: no training log travels with an export, so the plot is not tinted."""
        return ()

    def check(self, names: set[str]) -> None:
        """Each branch was checked to be a model folder when listed; its files are read when it
        is checked out to be scored (:func:`antlm.eval.subject.check_model_folder`): checking
        them all first would check every revision out twice."""

    @contextmanager
    def open(self, name: str, device: str | torch.device) -> Iterator[EvalSubject]:
        """The revision checked out under the scratch folder, as a model folder whose results
        go to the results folder; removed once scored."""
        folder = materialise(self.repo, self.refs[name], self.scratch / "revisions" / name)
        try:
            _refuse_lfs_pointer(folder / WEIGHTS, self.repo, name)
            yield open_subject(folder, device, self.trust_remote_code, self.results.root)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _refuse_lfs_pointer(weights: Path, repo: Path, branch: str) -> None:
    with weights.open("rb") as handle:
        if handle.read(len(_LFS_POINTER)) == _LFS_POINTER:
            raise RunDirError(
                f"branch {branch} of {repo}: {WEIGHTS} is a Git LFS pointer, not the weights "
                f"(the clone was made without git-lfs): install git-lfs, then run `cd {repo} && "
                "git lfs install --local && git lfs fetch --all && git lfs checkout`")


def results_folder(path: str | Path, out: str | Path | None = None) -> Path:
    """Where the curve of ``path`` goes: into a run directory, else (a repository) ``out``, or
    ``results/NAME`` under the working directory as for any model folder."""
    folder = Path(path)
    if (folder / "config.yaml").exists():
        return folder
    return Path(out) if out is not None else default_results_dir(folder)


def open_revisions(path: str | Path, scratch: Path, out: str | Path | None = None,
                   trust_remote_code: bool = False) -> RunRevisions | RepositoryRevisions:
    """The revisions of ``path``, a run directory or a git repository of revisions (``out``:
    a repository's results folder; a run keeps its own)."""
    folder = Path(path)
    if (folder / "config.yaml").exists():
        if out is not None:
            raise OutputError(f"{folder} is a run directory: its learning curve goes into it; "
                              "--out is for a repository of revisions")
        return RunRevisions(folder)
    if is_git_repository(folder):
        return RepositoryRevisions(folder, scratch, None if out is None else Path(out),
                                   trust_remote_code)
    if not folder.exists() and _HUB_ID.match(str(path)):
        raise RunDirError(
            f"{path} is no folder here; if it is a Hugging Face Hub model, antlm does not "
            f"download it: install git-lfs, run `git clone https://huggingface.co/{path}`, "
            "and pass the cloned folder (its chck_* branches are the revisions)")
    raise RunDirError(f"{folder} is neither a run directory (config.yaml) nor a git repository "
                      "of revisions (chck_* branches, as `antlm export RUN OUT --checkpoints` "
                      "writes)")
