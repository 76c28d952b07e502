"""The evaluation runner (antlm.eval.runner): what it says before it scores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from antlm.eval.runner import PROBE_PAIRS, evaluate_path
from antlm.eval.settings import EvaluationSettings


def test_scoring_never_measured_here_is_estimated_from_a_probe_first(
        exported_runs, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ANTLM_CACHE_DIR", str(tmp_path / "cache"))  # nothing measured here
    run = tmp_path / "run"
    shutil.copytree(exported_runs["babyllama"][0], run)
    evaluate_path(run, ["word_order"], data_dir,
                  settings=EvaluationSettings(backend="causal", max_pairs=2, progress=False))
    err = capsys.readouterr().err
    assert "under causal, about " in err
    assert f"(a first estimate from {PROBE_PAIRS} pairs timed just now;" in err
