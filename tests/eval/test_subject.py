"""``antlm eval`` on a Hugging Face folder: an antlm export gives the run's own table under
every backend and both suites; other folders declare by their kind."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from antlm.cli import main
from antlm.config import ConfigError
from antlm.eval.predictions import predictions_path
from antlm.eval.report import render_evaluation
from antlm.eval.runner import evaluate_path
from antlm.eval.settings import EvaluationSettings
from antlm.eval.subject import open_subject
from antlm.eval.suites import SUITES

TASKS = ["blimp_filtered", "blimp_supplement", "ewok"]


def _predictions(directory: Path, suite, task: str) -> list[dict]:
    return [json.loads(line)
            for line in predictions_path(directory, suite, task).read_text().splitlines()]


@pytest.mark.parametrize("arch", ["babyllama", "ltgbert"])
def test_export_evaluates_as_its_run_under_every_backend_and_suite(
    tmp_path: Path, exported_runs, data_dir: Path, arch: str
) -> None:
    run = tmp_path / "run"
    shutil.copytree(exported_runs[arch][0], run)
    hf, out = exported_runs[arch][1], tmp_path / "results"
    for suite in SUITES.values():
        settings = EvaluationSettings(backend="all", max_pairs=1, progress=False,
                                      save_predictions=True)
        _, run_results = evaluate_path(run, TASKS, data_dir, suite, settings)
        hf_subject, hf_results = evaluate_path(hf, TASKS, data_dir, suite,
                                               replace(settings, out=out))
        assert hf_subject.model.views == ("causal", "bidirectional")
        section = hf_results["zero_shot"][suite.name]
        assert list(section["scores"]) == ["causal", "mlm", "mntp", "fused", "mlm_word_l2r"]
        assert section["declared_by"] == run_results["zero_shot"][suite.name]["declared_by"]
        assert (render_evaluation(hf_results, suite, "demo")
                == render_evaluation(run_results, suite, "demo"))
        for task in TASKS:  # pair by pair, every backend
            ours, theirs = _predictions(run, suite, task), _predictions(out, suite, task)
            # the same items in the same order (EWoK's are named by place and hash, not text)
            assert ([p.get("good", p.get("sha256")) for p in ours]
                    == [p.get("good", p.get("sha256")) for p in theirs])
            for a, b in zip(ours, theirs, strict=True):
                for backend, scores in a["scores"].items():
                    np.testing.assert_allclose(
                        [scores["good"], scores["bad"]],
                        [b["scores"][backend]["good"], b["scores"][backend]["bad"]], atol=1e-4)


def _strip_antlm(folder: Path, to: Path, auto_map: dict) -> Path:
    """The folder as a plain Hugging Face model: no run config, the given auto_map only."""
    shutil.copytree(folder, to)
    (to / "antlm_config.yaml").unlink()
    config = json.loads((to / "config.json").read_text())
    config["auto_map"] = auto_map
    (to / "config.json").write_text(json.dumps(config))
    return to


def test_other_folders_declare_by_their_kind(tmp_path: Path, exported_runs) -> None:
    llama = _strip_antlm(exported_runs["babyllama"][1], tmp_path / "llama", {})
    (llama / "modeling_antlm_llama.py").unlink()
    subject = open_subject(llama, out=tmp_path / "out")
    assert (subject.declared_backend, subject.declared_by) == ("causal", "the folder: a causal LM")
    assert subject.auto_backends == ["causal"] and subject.results_dir == tmp_path / "out"
    with pytest.raises(ConfigError, match="mlm need the bidirectional view"):
        evaluate_path(llama, ["ewok"], ".",
                      settings=EvaluationSettings(backend="mlm", out=tmp_path / "out"))

    ltgbert_map = json.loads((exported_runs["ltgbert"][1] / "config.json").read_text())["auto_map"]
    del ltgbert_map["AutoModelForCausalLM"]  # as LTG-BERT is published: a masked LM
    ltgbert = _strip_antlm(exported_runs["ltgbert"][1], tmp_path / "ltgbert", ltgbert_map)
    subject = open_subject(ltgbert)
    assert (subject.declared_backend, subject.auto_backends) == ("mlm", ["mlm"])
    assert subject.declared_by == "the folder: a masked LM"
    assert subject.results_dir == Path("results") / "ltgbert"


def test_cli_names_the_remote_code_a_backend_needs(
    tmp_path: Path, exported_runs, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    llama = tmp_path / "llama"
    shutil.copytree(exported_runs["babyllama"][1], llama)
    with (llama / "modeling_antlm_llama.py").open("a") as handle:
        handle.write("\n# changed\n")
    args = ["eval", str(llama), "--tasks", "blimp_supplement", "--max-pairs", "1",
            "--data-dir", str(data_dir), "--out", str(tmp_path / "out"), "--no-progress"]
    with pytest.raises(SystemExit):
        main(args)  # the run declared causal, but auto also runs mlm (same targets: no mntp)
    err = capsys.readouterr().err
    assert "antlm: error: backend(s) mlm need the bidirectional view" in err
    assert "modeling_antlm_llama.py: pass --trust-remote-code" in err
    main([*args, "--trust-remote-code"])
    printed = capsys.readouterr()
    assert f"antlm: results in {tmp_path / 'out' / 'results.json'}" in printed.err
    assert printed.out.startswith("llama\n=====\n")
