"""The WUG tasks: reader, the probability and Spearman metric worked independently, and a real
model's per-item probabilities against one sentence at a time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from antlm.data.tokenizer import AntlmTokenizer
from antlm.eval.scoring import score_pairs
from antlm.eval.suites import SUITES
from antlm.eval.tasks import TaskDataError, parse_task_list
from antlm.eval.wug import load_wug, write_wug_predictions, wug_probabilities
from antlm.models.babyllama import BabyLlama
from antlm.models.ltgbert import LtgBert

ADJ = "evaluation_data/full_eval/wug_adj_nominalization/wug_adj_nominalization.jsonl"


def test_reader_reads_every_item_with_its_ratio(data_dir: Path) -> None:
    assert parse_task_list("wug_adj,wug_past") == ["wug_adj", "wug_past"]
    adj, past = load_wug("wug_adj", data_dir), load_wug("wug_past", data_dir)
    assert (len(adj.pairs), len(past.pairs)) == (200, 50)
    assert {len(p.candidates) for p in adj.pairs} == {2}
    assert {len(p.candidates) for p in past.pairs} == {3}
    first = json.loads((data_dir / ADJ).read_text(encoding="utf-8").splitlines()[0])
    assert list(adj.pairs[0].candidates) == first["sentences"].split("\t")
    assert adj.ratios[0] == first["ratio"] and adj.pairs[0].context == ""
    assert adj.pairs[0].source.endswith("wug_adj_nominalization.jsonl, line 1")
    quick = load_wug("wug_past", data_dir, max_items=7)
    assert quick.pairs == past.pairs[:7] and np.array_equal(quick.ratios, past.ratios[:7])


@pytest.mark.parametrize("bad, message", [
    ("{not json", "not valid JSON"),
    ('{"sentences": "only one sentence", "ratio": 0.5}', "field 'sentences'"),
    ('{"sentences": "a.\\t", "ratio": 0.5}', "field 'sentences'"),
    ('{"sentences": "a.\\tb.", "ratio": "0.5"}', "field 'ratio'"),
    ('{"sentences": "a.\\tb.", "ratio": 1.5}', "field 'ratio'"),
    ('{"sentences": "a.\\tb.", "ratio": true}', "field 'ratio'"),
    ('{"sentences": "a.\\tb.\\tc.", "ratio": 0.5}', "3 sentences, but"),
    ('["a.", "b."]', "expected a JSON object"),
])
def test_reader_names_the_file_and_line_of_a_malformed_record(
    tmp_path: Path, bad: str, message: str
) -> None:
    path = tmp_path / ADJ
    path.parent.mkdir(parents=True)
    path.write_text('{"sentences": "a.\\tb.", "ratio": 0.25}\n' + bad + "\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match=message) as error:
        load_wug("wug_adj", tmp_path, max_items=1)  # a damaged line is refused all the same
    assert f"{path}, line 2" in str(error.value)


def test_missing_or_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TaskDataError, match="not found"):
        load_wug("wug_past", tmp_path)
    path = tmp_path / ADJ
    path.parent.mkdir(parents=True)
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match="holds no items"):
        load_wug("wug_adj", tmp_path)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        ranks[values == value] = ranks[values == value].mean()
    return ranks


def test_probability_and_spearman_worked_independently(data_dir: Path) -> None:
    # probabilities 0.2, 0.6 and 0.2: the first candidate's softmax is 0.2 / 1.0
    assert wug_probabilities(np.log([[0.2, 0.6, 0.2]]))[0] == pytest.approx(0.2)
    wug = load_wug("wug_past", data_dir)
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(len(wug.pairs), 3)) * 3 - 20
    scores[:5] = scores[5]  # tied probabilities
    probs = np.exp(scores[:, 0]) / np.exp(scores).sum(axis=1)
    expected = np.corrcoef(_average_ranks(probs), _average_ranks(wug.ratios))[0, 1]
    summary = wug.summary(scores)
    assert summary["score"] == pytest.approx(expected, abs=1e-12)
    assert summary["metric"] == "spearman" and summary["n_pairs"] == 50
    assert summary["subtasks"] == {"wug_past": summary["score"]}
    # saturated probabilities (all 1.0): no correlation exists, recorded as missing
    assert wug.summary(np.tile([0.0, -100.0, -100.0], (50, 1)))["score"] is None


def _sentence_log_prob(model: torch.nn.Module, tokenizer: AntlmTokenizer, text: str,
                       masked: bool) -> float:
    """One sentence alone: its framed tokens, causal (each token after the first framing token
    read one position before it) or PLL (each sentence token masked in its own copy)."""
    ids = tokenizer.frame(tokenizer.encode(text))
    first = tokenizer.frame([-1]).index(-1)
    total = 0.0
    with torch.no_grad():
        if not masked:
            logits = model.logits(model(torch.tensor([ids]), attention="causal"))[0]
            return float(sum(torch.log_softmax(logits[j - 1].double(), -1)[ids[j]]
                             for j in range(first, first + len(tokenizer.encode(text)))))
        for j in range(first, first + len(tokenizer.encode(text))):
            copy = list(ids)
            copy[j] = tokenizer.mask_id
            logits = model.logits(model(torch.tensor([copy]), attention="bidirectional"))[0]
            total += float(torch.log_softmax(logits[j].double(), -1)[ids[j]])
    return total


@pytest.mark.parametrize("backend", ["causal", "mlm"])
def test_probabilities_match_one_sentence_at_a_time(
    data_dir: Path, backend: str, small_llama: BabyLlama, small_ltgbert: LtgBert,
    bpe_tokenizer: AntlmTokenizer, wordpiece_tokenizer: AntlmTokenizer, tmp_path: Path,
) -> None:
    model, tokenizer = ((small_llama, bpe_tokenizer) if backend == "causal"
                        else (small_ltgbert, wordpiece_tokenizer))
    wug = load_wug("wug_past", data_dir, max_items=4)
    scores = score_pairs(model, tokenizer, wug.pairs, [backend])
    expected = np.array([[_sentence_log_prob(model, tokenizer, s, backend == "mlm")
                          for s in pair.candidates] for pair in wug.pairs])
    np.testing.assert_allclose(scores[backend], expected, rtol=1e-4)
    # 1 / sum_k exp(s_k - s_0): no underflow when every score is far below zero
    probs = 1 / np.exp(expected - expected[:, :1]).sum(axis=1)
    np.testing.assert_allclose(wug_probabilities(scores[backend]), probs, rtol=1e-3)
    path = write_wug_predictions(tmp_path, SUITES["babylm2025"], wug, scores)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["id"] for line in lines] == [f"wug_past_{i}" for i in range(4)]
    assert lines[0]["prob"][backend] == pytest.approx(probs[0], rel=1e-3)
    assert lines[0]["chosen"][backend] == int(np.argmax(expected[0]))
    assert lines[0]["ratio"] == wug.ratios[0]
