"""Exported models load in plain transformers and compute what antlm computes.

Small randomly initialised models (every parameter perturbed, so a misplaced weight, norm or
position term moves the logits far beyond the tolerance) are saved as real run directories
with tokenizers trained on real BabyLM text, exported, and reloaded through the Auto classes,
every view: causal through ``AutoModelForCausalLM``, bidirectional through
``AutoModelForMaskedLM``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
)

from antlm.data.tokenizer import AntlmTokenizer
from antlm.eval.finetune import encode_examples
from antlm.eval.glue import Example
from antlm.export.hf import export_run
from antlm.rundir import load_run
from tests.runs import make_run_dir

SENTENCES = [
    "The cat sat on the mat.",
    "Well, I don't know, uh, what do you think about that?",
    "Colorless green ideas sleep furiously",
    # Long enough (> 40 tokens) that LTG-BERT's log-bucketed distances come into play.
    (
        "And so we went down to the river in the morning, and my brother said that he had "
        "never seen so many fish in one place, but I told him that it was because nobody had "
        "been fishing there since the spring, when the water was high and cold."
    ),
]


def _batch(tokenizer: AntlmTokenizer) -> tuple[torch.Tensor, torch.Tensor]:
    rows = [tokenizer.encode_document(s) for s in SENTENCES]
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), tokenizer.pad_id)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    return ids, ids != tokenizer.pad_id


def _check_tokenizer(out: Path, tokenizer: AntlmTokenizer) -> None:
    hf = AutoTokenizer.from_pretrained(out, trust_remote_code=False)
    assert hf(SENTENCES)["input_ids"] == [tokenizer.encode_document(s) for s in SENTENCES]
    # Pairs come out framed exactly as antlm's fine-tuning frames them.
    pair = Example(SENTENCES[0], SENTENCES[1], 0)
    assert hf(pair.first, pair.second)["input_ids"] == encode_examples(tokenizer, [pair], 64)[0]
    assert hf.pad_token_id == tokenizer.pad_id and hf.mask_token_id == tokenizer.mask_id


def _assert_view(hf_model, model, ids: torch.Tensor, real: torch.Tensor, attention: str) -> None:
    """The Hugging Face view computes antlm's logits under ``attention``, padded or not."""
    with torch.no_grad():
        ours = model.logits(model(ids, attention=attention, padding_mask=real))
        theirs = hf_model(input_ids=ids, attention_mask=real.long()).logits
        unpadded = hf_model(input_ids=ids[:1, : int(real[0].sum())]).logits
    assert ours.std() > 1.0  # far from uniform: the comparison below has teeth
    torch.testing.assert_close(theirs[real], ours[real], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(unpadded[0], ours[0, : int(real[0].sum())], atol=1e-4, rtol=1e-4)


def test_babyllama_exports_to_plain_llama_with_a_masked_view(
    exported_runs, tokenizers
) -> None:
    run, out = exported_runs["babyllama"]
    tokenizer = tokenizers["bpe"]
    model = load_run(run).model
    hf = AutoModelForCausalLM.from_pretrained(out).eval()  # no custom code
    assert type(hf).__name__ == "LlamaForCausalLM"
    masked = AutoModelForMaskedLM.from_pretrained(out, trust_remote_code=True).eval()
    assert type(masked).__name__ == "LlamaForMaskedLM"
    ids, real = _batch(tokenizer)
    _assert_view(hf, model, ids, real, "causal")
    _assert_view(masked, model, ids, real, "bidirectional")
    _check_tokenizer(out, tokenizer)


def test_ltgbert_exports_both_views_with_remote_code(exported_runs, tokenizers) -> None:
    run, out = exported_runs["ltgbert"]
    tokenizer = tokenizers["wordpiece"]
    model = load_run(run).model
    ids, real = _batch(tokenizer)
    for auto, attention in [(AutoModelForMaskedLM, "bidirectional"),
                            (AutoModelForCausalLM, "causal")]:
        _assert_view(auto.from_pretrained(out, trust_remote_code=True).eval(), model, ids, real,
                     attention)
    _check_tokenizer(out, tokenizer)


@pytest.mark.parametrize("attention", ["bidirectional", "causal"])
def test_ltgbert_classifier_follows_the_exported_attention(
    tmp_path: Path, tokenizers, attention: str
) -> None:
    tokenizer = tokenizers["wordpiece"]
    model = make_run_dir(tmp_path / "run", "ltgbert", tokenizer, perturb=0.3)
    out = export_run(tmp_path / "run", tmp_path / "hf", attention=attention)
    ids, real = _batch(tokenizer)
    classifier = AutoModelForSequenceClassification.from_pretrained(
        out, trust_remote_code=True, num_labels=3
    ).eval()
    assert classifier.config.attention == attention
    with torch.no_grad():
        hidden = model(ids, attention=attention, padding_mask=real)
        result = classifier(input_ids=ids, attention_mask=real.long(), output_hidden_states=True)
    assert result.logits.shape == (len(SENTENCES), 3)
    torch.testing.assert_close(result.hidden_states[0][real], hidden[real], atol=1e-4, rtol=1e-4)
    # The masked-LM class is bidirectional whatever the classifier's attention.
    _assert_view(AutoModelForMaskedLM.from_pretrained(out, trust_remote_code=True).eval(), model,
                 ids, real, "bidirectional")


@pytest.mark.parametrize("arch", ["babyllama", "ltgbert"])
def test_every_exported_file_follows_the_umask(arch, exported_runs, tmp_path) -> None:
    """The weights too: safetensors and ``save_pretrained`` write them 0600, which a folder
    meant to be shared (pushed, copied to a group's disk) must not keep."""
    run, _ = exported_runs[arch]
    previous = os.umask(0o027)
    try:
        out = export_run(run, tmp_path / "hf")
    finally:
        os.umask(previous)
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_file()}
    assert "model.safetensors" in modes
    assert modes == dict.fromkeys(modes, oct(0o640))
