"""Independent parity: antlm's scores against minicons and against plain re-implementations of
the official pipelines' loops, pair by pair, on exported tiny models.

antlm scores the *run* (its own model and tokenizer, batched, padded, reading only the scored
positions); the references score the *export*, loaded through transformers' Auto classes:

* minicons 0.3.39 (PyPI; the 2024 pipeline's masked-LM path calls it): causal sequence scores
  (``IncrementalLMScorer``), PLL and PLL-word-l2r (``MaskedLMScorer``, ``PLL_metric`` original
  and within_word_l2r), and the 2024 masked-LM convention itself (``conditional_score`` with
  the EOS token's text standing in for an empty context, and minicons' default mean);
* where minicons cannot express a convention, a one-sentence-at-a-time loop written here from
  the pipeline's code: the 2025 pipeline's causal score of the tokens overlapping the
  completion's characters (``sentence_zero_shot/dataset.py``, ``compute_results.py``; a
  WordPiece frame ends in [SEP], which minicons' causal scorer would score too), and
  lm-evaluation-harness's causal loglikelihood (``lm_eval/api/model.py``: the prefix token
  before a context-less continuation, a bare context otherwise).

Each comparison prints its largest difference (``pytest -s``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

from antlm.eval.scoring import score_pairs
from antlm.eval.suites import SUITES
from antlm.eval.tasks import MinimalPair, load_task
from antlm.rundir import load_run

ATOL = 1e-4


def _minicons(name: str):
    """A scorer class of minicons, imported where a test uses it: a module-level import made
    collecting any test list that reaches this file fail where minicons is absent (the GPU
    machine), although only these tests need it."""
    return getattr(importlib.import_module("minicons.scorer"), name)


def _sum(scores: torch.Tensor) -> float:
    """minicons' reduction argument: a text's token log-probabilities -> its score."""
    return scores.sum(0).item()


@pytest.fixture(scope="module")
def blimp(data_dir: Path) -> list[MinimalPair]:
    pairs = load_task("blimp_filtered", data_dir, max_pairs_per_subtask=3)
    assert len(pairs) >= 200
    return pairs


@pytest.fixture(scope="module")
def ewok(data_dir: Path) -> list[MinimalPair]:
    return load_task("ewok", data_dir, max_pairs_per_subtask=2)


def _texts(pairs: Sequence[MinimalPair]) -> tuple[list[str], list[str]]:
    """Contexts and targets, goods then bads: the order of ``_antlm``'s flattened scores."""
    return [p.context for p in pairs] * 2, [p.good for p in pairs] + [p.bad for p in pairs]


def _antlm(run: Path, pairs: Sequence[MinimalPair], backend: str, suite: str) -> np.ndarray:
    loaded = load_run(run)
    scores = score_pairs(loaded.model, loaded.tokenizer, pairs, [backend], batch_size=64,
                         suite=SUITES[suite])[backend]
    return np.concatenate([scores[:, 0], scores[:, 1]])


def _tokenizer(hf_dir: Path):
    tokenizer = AutoTokenizer.from_pretrained(hf_dir, trust_remote_code=False)
    tokenizer.batch_encode_plus = tokenizer.__call__  # minicons 0.3.39 needs it; transformers 5
    return tokenizer                                  # removed it


def _chunked(score: Callable[..., list[float]], *columns: list[str], **kwargs) -> np.ndarray:
    out: list[float] = []
    for i in range(0, len(columns[0]), 64):
        out += score(*(c[i:i + 64] for c in columns), **kwargs)
    return np.asarray(out)


def _assert_parity(label: str, ours: np.ndarray, theirs: np.ndarray) -> None:
    assert len(ours) == len(theirs)
    print(f"\n{label}: {len(ours)} texts, largest |difference| {np.abs(ours - theirs).max():.2e}")
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)


def test_causal_scores_equal_minicons(exported_runs, blimp, ewok) -> None:
    run, hf_dir = exported_runs["babyllama"]
    model = AutoModelForCausalLM.from_pretrained(hf_dir).eval()
    scorer = _minicons("IncrementalLMScorer")(model, "cpu", tokenizer=_tokenizer(hf_dir))
    theirs = _chunked(scorer.sequence_score, _texts(blimp)[1], reduction=_sum)
    _assert_parity("causal, BLiMP, babylm2025", _antlm(run, blimp, "causal", "babylm2025"), theirs)
    # lm-eval's [BOS] + " sentence" is the same token sequence for a prefix-space BPE.
    _assert_parity("causal, BLiMP, babylm2024", _antlm(run, blimp, "causal", "babylm2024"), theirs)
    contexts, targets = _texts(ewok)
    theirs = _chunked(scorer.conditional_score, contexts, targets, reduction=_sum)
    _assert_parity("causal, EWoK, babylm2025", _antlm(run, ewok, "causal", "babylm2025"), theirs)


@pytest.mark.parametrize("arch", ["babyllama", "ltgbert"])
@pytest.mark.parametrize(("backend", "metric"),
                         [("mlm", "original"), ("mlm_word_l2r", "within_word_l2r")])
def test_pseudo_log_likelihood_equals_minicons(
    exported_runs, blimp, ewok, arch: str, backend: str, metric: str
) -> None:
    run, hf_dir = exported_runs[arch]
    model = AutoModelForMaskedLM.from_pretrained(hf_dir, trust_remote_code=True).eval()
    scorer = _minicons("MaskedLMScorer")(model, "cpu", tokenizer=_tokenizer(hf_dir))
    theirs = _chunked(scorer.sequence_score, _texts(blimp)[1], reduction=_sum, PLL_metric=metric)
    ours = _antlm(run, blimp, backend, "babylm2025")
    _assert_parity(f"{backend}, BLiMP, babylm2025, {arch}", ours, theirs)
    if backend == "mlm":
        theirs = _chunked(scorer.conditional_score, *_texts(ewok), reduction=_sum)
        ours = _antlm(run, ewok, backend, "babylm2025")
        _assert_parity(f"{backend}, EWoK, babylm2025, {arch}", ours, theirs)


@pytest.mark.parametrize("arch", ["babyllama", "ltgbert"])
def test_2024_masked_convention_equals_minicons_as_the_2024_pipeline_calls_it(
    exported_runs, blimp, ewok, arch: str
) -> None:
    """lm_eval/models/huggingface.py (AutoMaskedLM.loglikelihood): an empty context becomes
    the EOS token's text, the continuation is " " + the choice, and minicons'
    ``conditional_score`` runs with its default reduction, the mean."""
    run, hf_dir = exported_runs[arch]
    tokenizer = _tokenizer(hf_dir)
    model = AutoModelForMaskedLM.from_pretrained(hf_dir, trust_remote_code=True).eval()
    scorer = _minicons("MaskedLMScorer")(model, "cpu", tokenizer=tokenizer)
    for task, pairs in [("BLiMP", blimp), ("EWoK", ewok)]:
        contexts, targets = _texts(pairs)
        contexts = [c or tokenizer.eos_token for c in contexts]
        theirs = _chunked(scorer.conditional_score, contexts, [" " + t for t in targets])
        ours = _antlm(run, pairs, "mlm", "babylm2024")
        _assert_parity(f"mlm, {task}, babylm2024, {arch}", ours, theirs)


def _log_probs(model, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return F.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].float(), dim=-1)


def _pipeline_2025_causal(model, tokenizer, sentence: str, completion: str) -> float:
    """One sentence as the 2025 pipeline scores it causally: the tokens whose character span
    ends inside the completion, each read from the position before it (never token 0)."""
    encoded = tokenizer(sentence, return_offsets_mapping=True)
    ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
    start_char = len(sentence) - len(completion) + offsets[0][0]
    log_probs = _log_probs(model, ids)
    return sum(float(log_probs[i - 1, ids[i]])
               for i, (_, end) in enumerate(offsets) if end > start_char and i >= 1)


def _lm_eval_causal(model, tokenizer, context: str, continuation: str) -> float:
    """One request as lm-evaluation-harness (2024) scores it: an empty context becomes the
    prefix token (BOS, else EOS); otherwise context and continuation are encoded whole, without
    special tokens, and split at the context's length."""
    if context == "":
        prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None \
            else tokenizer.eos_token_id
        before, after = [prefix], tokenizer.encode(continuation, add_special_tokens=False)
    else:
        whole = tokenizer.encode(context + continuation, add_special_tokens=False)
        before = tokenizer.encode(context, add_special_tokens=False)
        after = whole[len(before):]
    log_probs = _log_probs(model, before + after)
    return sum(float(log_probs[len(before) - 1 + i, t]) for i, t in enumerate(after))


def test_ltgbert_causal_view_equals_the_2025_pipeline_loop(exported_runs, blimp, ewok) -> None:
    run, hf_dir = exported_runs["ltgbert"]
    tokenizer = AutoTokenizer.from_pretrained(hf_dir, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, trust_remote_code=True).eval()
    for task, pairs in [("BLiMP", blimp[::3]), ("EWoK", ewok)]:
        contexts, targets = _texts(pairs)
        theirs = np.asarray([
            _pipeline_2025_causal(model, tokenizer, f"{c} {t}" if c else t, f" {t}" if c else t)
            for c, t in zip(contexts, targets)])
        ours = _antlm(run, pairs, "causal", "babylm2025")
        _assert_parity(f"causal, {task}, babylm2025, ltgbert", ours, theirs)


@pytest.mark.parametrize("arch", ["babyllama", "ltgbert"])
def test_2024_causal_convention_equals_the_lm_eval_loop(
    exported_runs, blimp, ewok, arch: str
) -> None:
    run, hf_dir = exported_runs[arch]
    tokenizer = AutoTokenizer.from_pretrained(hf_dir, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, trust_remote_code=True).eval()
    for task, pairs in [("BLiMP", blimp[::3]), ("EWoK", ewok)]:
        contexts, targets = _texts(pairs)
        theirs = np.asarray([_lm_eval_causal(model, tokenizer, c, " " + t)
                             for c, t in zip(contexts, targets)])
        ours = _antlm(run, pairs, "causal", "babylm2024")
        _assert_parity(f"causal, {task}, babylm2024, {arch}", ours, theirs)
