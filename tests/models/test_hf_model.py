"""Hugging Face folders under antlm's model contract: one Auto class per view, and remote code
run only when trusted or byte-identical to antlm's own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from antlm.models.contract import LanguageModel
from antlm.models.hf_model import HFModelError, load_hf_model, views_of_config
from antlm.rundir import load_run


def test_views_come_from_architectures_and_auto_map() -> None:
    assert views_of_config({"architectures": ["GPT2LMHeadModel"]}) == []
    assert views_of_config({"architectures": ["LlamaForCausalLM"]}) == ["causal"]
    assert views_of_config({"architectures": ["BertForMaskedLM"]}) == ["bidirectional"]
    both = {"architectures": ["LlamaForCausalLM"],
            "auto_map": {"AutoModelForMaskedLM": "modeling_antlm_llama.LlamaForMaskedLM"}}
    assert views_of_config(both) == ["causal", "bidirectional"]


def _copy(folder: Path, to: Path, tamper: str | None = None) -> Path:
    shutil.copytree(folder, to)
    if tamper is not None:  # the same code plus a comment: no longer antlm's own copy
        path = to / tamper
        path.write_text(path.read_text() + "\n# changed\n")
    return to


def test_an_antlm_export_offers_both_views_without_trust_and_computes_antlm_logits(
    exported_runs, tokenizers
) -> None:
    run, out = exported_runs["ltgbert"]
    model = load_hf_model(out)  # remote code, but byte-identical to antlm's
    assert isinstance(model, LanguageModel)
    assert model.views == ("causal", "bidirectional") and model.config.max_seq_len == 128
    ours = load_run(run).model
    ids = torch.tensor([tokenizers["wordpiece"].encode_document("The cat sat on the mat.")])
    for view in model.views:
        with torch.no_grad():
            torch.testing.assert_close(model.logits(model(ids, attention=view)),
                                       ours.logits(ours(ids, attention=view)),
                                       atol=1e-4, rtol=1e-4)


def test_changed_remote_code_needs_trust(tmp_path: Path, exported_runs) -> None:
    ltgbert = _copy(exported_runs["ltgbert"][1], tmp_path / "ltgbert", "modeling_ltgbert.py")
    with pytest.raises(HFModelError, match="pass --trust-remote-code"):
        load_hf_model(ltgbert)
    assert load_hf_model(ltgbert, trust_remote_code=True).views == ("causal", "bidirectional")

    llama = _copy(exported_runs["babyllama"][1], tmp_path / "llama", "modeling_antlm_llama.py")
    model = load_hf_model(llama)  # the causal view is plain Llama
    assert model.views == ("causal",)
    assert model.withheld == {"bidirectional": "modeling_antlm_llama.py"}
    with pytest.raises(HFModelError, match="has no bidirectional view"):
        model(torch.tensor([[1, 5, 6]]), attention="bidirectional")


def test_a_folder_with_nothing_to_score_says_why(tmp_path: Path, exported_runs) -> None:
    folder = _copy(exported_runs["babyllama"][1], tmp_path / "hf")
    config = json.loads((folder / "config.json").read_text())
    config |= {"architectures": ["LlamaForSequenceClassification"], "auto_map": {}}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(HFModelError, match="config.json: architectures.*nothing to score"):
        load_hf_model(folder)
    with pytest.raises(HFModelError, match="not a Hugging Face model folder"):
        load_hf_model(tmp_path)


def test_loading_prints_no_transformers_progress_and_keeps_its_setting(exported_runs, capfd) -> None:
    from transformers.utils import logging as hf_logging

    assert hf_logging.is_progress_bar_enabled()
    load_hf_model(exported_runs["babyllama"][1])
    assert "Loading weights" not in capfd.readouterr().err  # it would land inside a table
    assert hf_logging.is_progress_bar_enabled()
