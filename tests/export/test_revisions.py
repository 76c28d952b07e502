"""``antlm export --checkpoints``: one branch per milestone, each a model transformers loads."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from antlm.export import revisions
from antlm.export.revisions import GITATTRIBUTES, export_revisions, publish_instructions
from antlm.outputs import OutputError
from antlm.rundir import RunPaths, list_checkpoints, load_run, read_state

SENTENCE = "and so we went down to the river in the morning"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout


def test_every_milestone_is_a_branch_that_loads_in_transformers(milestone_run, tmp_path):
    out = tmp_path / "hf"
    branches = export_revisions(milestone_run, out)
    names = [c.name for c in list_checkpoints(RunPaths(milestone_run))]
    assert branches == ["main", *names] and len(names) == 4
    listed = [line.strip("* ").strip() for line in _git(out, "branch").splitlines()]
    assert sorted(listed) == sorted(branches)
    assert _git(out, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert (out / "config.json").is_file()  # the work tree shows the final model
    words = read_state(RunPaths(milestone_run)).words_seen
    assert f"{words:,} words seen" in _git(out, "log", "-1", "--format=%s", "main")

    for branch in branches:
        assert _git(out, "rev-list", "--count", branch).strip() == "1"  # a commit of its own
        folder = tmp_path / f"checkout-{branch}"
        _git(out, "worktree", "add", "--quiet", "--detach", str(folder), branch)
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
        ids = AutoTokenizer.from_pretrained(folder)(SENTENCE, return_tensors="pt")["input_ids"]
        run = load_run(milestone_run, checkpoint=None if branch == "main" else branch)
        with torch.inference_mode():
            expected = run.model.logits(run.model(ids, attention="causal"))
            assert torch.allclose(model(ids).logits, expected, atol=1e-5), branch
    first, last = (load_run(milestone_run, checkpoint=n).model for n in (names[0], names[-1]))
    assert not torch.equal(first.lm_head.weight, last.lm_head.weight)  # distinct weights


def test_an_export_never_writes_into_a_used_folder(milestone_run, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="not empty"):
        export_revisions(milestone_run, tmp_path / "used")
    assert (tmp_path / "used" / "keep.txt").read_text() == "mine"


def test_each_revision_carries_its_own_card_and_routes_weights_through_lfs(milestone_run,
                                                                          tmp_path):
    # a copy without the learning curve another test may have scored into the shared run
    run = shutil.copytree(milestone_run, tmp_path / milestone_run.name)
    (run / "learning_curve.json").unlink(missing_ok=True)
    out = tmp_path / "hf"
    branches = export_revisions(run, out)
    state = read_state(RunPaths(run))
    checkpoints = {c.name: c for c in list_checkpoints(RunPaths(run))}
    for branch in branches:
        assert _git(out, "show", f"{branch}:.gitattributes") == GITATTRIBUTES
        card = _git(out, "show", f"{branch}:README.md")
        assert "- schedule as trained: `" in card
        if branch == "main":
            assert f"- words seen: {state.words_seen:,}" in card and "revision" not in card
            continue
        c = checkpoints[branch]
        assert f"# {run.name}, revision {branch}" in card
        assert f"- steps: {c.step:,} of {state.total_steps:,}" in card
        assert f"- words seen: {c.words_seen:,} ({c.tokens_seen:,} tokens)" in card
        assert f"{state.words_seen:,}" not in card  # not the final model's card
        assert "was not evaluated when exported" in card  # the run has no learning curve


def test_publishing_without_git_lfs_says_what_to_do_first(tmp_path, monkeypatch):
    (tmp_path / "model.safetensors").write_bytes(b"0" * 2000)
    monkeypatch.setattr(revisions, "_has_lfs", lambda: False)
    assert "git push --all origin (git-lfs is not installed; the weights" in (
        publish_instructions(tmp_path))
    monkeypatch.setattr(revisions, "HUB_PLAIN_FILE_LIMIT", 1000)  # as for a real-size model
    advice = publish_instructions(tmp_path)
    assert advice.startswith("git-lfs is not installed") and "git lfs migrate import" in advice
    monkeypatch.setattr(revisions, "_has_lfs", lambda: True)
    assert publish_instructions(tmp_path).startswith("to publish: cd ")
