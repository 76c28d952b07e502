"""``antlm eval REPO --checkpoints``: a git repository of revisions (``antlm export
--checkpoints``) scored as the run it came from, without being written to."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from antlm.config import ConfigError
from antlm.eval import curves
from antlm.eval.curves import evaluate_checkpoints
from antlm.export.revisions import export_revisions
from antlm.outputs import OutputError
from antlm.rundir import RunDirError, RunPaths, list_checkpoints, read_json, read_results

TASKS = ["blimp_supplement", "word_order"]


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (its .git included) by content."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                   check=True, capture_output=True)


def test_a_repository_scores_as_the_run_it_was_exported_from(milestone_run, data_dir, tmp_path,
                                                            monkeypatch):
    run = shutil.copytree(milestone_run, tmp_path / "run",
                          ignore=shutil.ignore_patterns("learning_curve.*", "aoa_*"))
    repo = tmp_path / "straight-repo"
    export_revisions(run, repo)
    before = _snapshot(repo)
    settings = {"tasks": TASKS, "max_pairs_per_subtask": 3, "device": "cpu", "progress": False,
                "aoa": False}
    from_run = evaluate_checkpoints(run, data_dir, **settings)
    monkeypatch.chdir(tmp_path)
    from_repo = evaluate_checkpoints(repo, data_dir, **settings)

    # the same revisions at the same words and steps, with the same accuracies: the export
    # round-trips every revision
    assert from_repo == from_run
    assert list(from_repo["points"]) == [c.name for c in list_checkpoints(RunPaths(run))] + ["main"]
    results = tmp_path / "results" / "straight-repo"  # where a model folder's results go
    assert json.loads((results / "learning_curve.json").read_text()) == from_repo
    assert (results / "learning_curve.md").read_text().startswith(
        "## Learning curve of `straight-repo`")
    assert (results / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert _snapshot(repo) == before  # never written to

    # AoA over the chck_* revisions, at their milestones, kept in the results folder
    # (the surprisals themselves are the run's code path: a stand-in keeps this test quick)
    monkeypatch.setattr(curves, "revision_surprisals",
                        lambda model, tokenizer, data, *a, **k: np.zeros(len(data.contexts)))
    out = tmp_path / "elsewhere"
    evaluate_checkpoints(repo, data_dir, **{**settings, "aoa": True}, out=out)
    stored = read_json(RunPaths(out).aoa_surprisals)["revisions"]
    checkpoints = list_checkpoints(RunPaths(run))
    assert {n: r["milestone"] for n, r in stored.items()} == {c.name: c.milestone
                                                             for c in checkpoints}
    assert read_results(RunPaths(out))["aoa"]  # the section, in the results folder
    assert _snapshot(repo) == before


def test_a_repository_without_revision_files_places_them_by_their_names(tmp_path, data_dir):
    repo = tmp_path / "bare"
    (repo / "a").mkdir(parents=True)
    (repo / "a" / "config.json").write_text("{}")
    (repo / "a" / "model.safetensors").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n")
    _git(repo, "init", "-q", "--initial-branch=main")
    _git(repo, "--work-tree", str(repo / "a"), "add", "-A")
    _git(repo, "commit", "-qm", "pointers")
    _git(repo, "branch", "chck_10M")
    _git(repo, "branch", "chck_2M")
    from antlm.eval.revisions import RepositoryRevisions

    scratch = tmp_path / "scratch"
    revisions = RepositoryRevisions(repo, scratch, tmp_path / "out").revisions
    # by the words of their names (10M after 2M), no step recorded, main left out: its words
    # are not known
    assert [(r.name, r.words_seen, r.step) for r in revisions] == [
        ("chck_2M", 2_000_000, None), ("chck_10M", 10_000_000, None)]
    with pytest.raises(ConfigError, match="declares no backend: name one with --backend"):
        evaluate_checkpoints(repo, data_dir, tasks=["word_order"], out=tmp_path / "out")
    with pytest.raises(RunDirError, match="is a Git LFS pointer.*install git-lfs"):
        evaluate_checkpoints(repo, data_dir, backend="causal", tasks=["word_order"],
                             max_pairs_per_subtask=1, out=tmp_path / "out", aoa=False)
    with pytest.raises(OutputError, match="inside the repository"):
        evaluate_checkpoints(repo, data_dir, backend="causal", out=repo / "results")


def test_what_is_no_run_nor_repository_is_refused_by_name(tmp_path, data_dir):
    with pytest.raises(RunDirError, match="antlm does not download it.*git clone "
                                          "https://huggingface.co/someone/model"):
        evaluate_checkpoints("someone/model", data_dir)
    (tmp_path / "plain").mkdir()
    with pytest.raises(RunDirError, match=f"{tmp_path / 'plain'} is neither a run directory"):
        evaluate_checkpoints(tmp_path / "plain", data_dir)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    with pytest.raises(RunDirError, match="without chck_\\* branches"):
        evaluate_checkpoints(repo, data_dir, out=tmp_path / "out")
