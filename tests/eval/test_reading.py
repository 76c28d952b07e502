"""The reading task: reader, the regressions recomputed with numpy least squares, a real
model's per-word surprisals against the official algorithm run one word at a time, and
``antlm eval`` with WUG and reading end to end."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import torch

from antlm.cli import main
from antlm.data.tokenizer import AntlmTokenizer
from antlm.eval.reading import (
    EYE_TRACKING,
    READING_FILE,
    SELF_PACED,
    ReadingData,
    load_reading,
    reading_scores,
    reading_surprisals,
)
from antlm.eval.tasks import TaskDataError
from antlm.models.babyllama import BabyLlama
from antlm.models.ltgbert import LtgBert
from tests.runs import write_model_run


def test_reader_reads_every_row(data_dir: Path) -> None:
    data = load_reading(data_dir)
    assert len(data) == 1726 and data.measures.shape == (1726, 9)
    assert (data.items[0], data.words[0]) == ("Arthur placed", "the")
    assert (data.prev_items[0], data.prev_words[0]) == ("Arthur", "placed")
    assert data.lines[:2] == [2, 3]
    assert sum(p is None for p in data.prev_items) == 205  # first words: no spillover
    assert data.items.count("None") == 1  # the empty item, as the official reader fills it
    assert data.measures["length"][0] == 3
    assert data.measures["Subtlex_log10"].isna().sum() == 30  # empty cells: missing


_HEADER = (",item,word,Subtlex_log10,length,context_length,RTfirstfix,RTfirstpass,RTgopast,"
           "RTrightbound,self_paced_reading_time,prev_word,prev_item,prev_length")
_GOOD = "0,Arthur placed,the,14.2,3,2,71.1,75.8,102.9,86.5,296.1,placed,Arthur,6"


@pytest.mark.parametrize("bad, line, message", [
    ("1,Arthur placed,the,many,3,2,71.1,75.8,102.9,86.5,296.1,placed,Arthur,6", 3,
     "field 'Subtlex_log10' is 'many'"),
    ("1,Arthur placed,,14.2,3,2,71.1,75.8,102.9,86.5,296.1,placed,Arthur,6", 3,
     "field 'word' is empty"),
    ("1,Arthur placed,the,14.2,3,2,71.1,75.8,102.9,86.5,296.1,,Arthur,6", 3,
     "'prev_item' and 'prev_word'"),
    ("1,Arthur placed,the,14.2,3", 3, "5 fields, the header has 14"),
])
def test_reader_names_the_file_and_line_of_a_malformed_row(
    tmp_path: Path, bad: str, line: int, message: str
) -> None:
    path = tmp_path / READING_FILE
    path.parent.mkdir(parents=True)
    path.write_text(f"{_HEADER}\n{_GOOD}\n{bad}\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match=message) as error:
        load_reading(tmp_path)
    assert f"{path}, line {line}" in str(error.value)
    path.write_text(_HEADER.replace(",length,", ",len,") + "\n" + _GOOD + "\n")
    with pytest.raises(TaskDataError, match=r"line 1: the header lacks column\(s\) length"):
        load_reading(tmp_path)


def _r2(y: np.ndarray, columns: list[np.ndarray]) -> float:
    """R^2 of an ordinary least squares fit with an intercept, by numpy."""
    design = np.column_stack([np.ones(len(y)), *columns])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    return 1 - residual @ residual / ((y - y.mean()) @ (y - y.mean()))


def _gain(table, outcome: str, predictors: list[str]) -> float:
    """The official share, each fit on the rows its own columns have: main effects and every
    pairwise product, without and with ``pred``."""
    def fit(names: list[str], with_pred: bool) -> float:
        rows = table[[outcome, *names, *(["pred"] if with_pred else [])]].dropna()
        columns = [rows[n].to_numpy() for n in names]
        columns += [rows[a].to_numpy() * rows[b].to_numpy() for a, b in combinations(names, 2)]
        if with_pred:
            columns.append(rows["pred"].to_numpy())
        return _r2(rows[outcome].to_numpy(), columns)

    base, model = fit(predictors, False), fit(predictors, True)
    return (model - base) / (1 - base)


def test_regressions_match_numpy_least_squares(data_dir: Path) -> None:
    data = load_reading(data_dir)
    rng = np.random.default_rng(0)
    # a surprisal that carries some of the reading times' variance, and some noise
    pred = 0.01 * data.measures["RTgopast"].fillna(300).to_numpy() + rng.normal(size=len(data))
    prev = rng.normal(size=len(data)) + 5
    prev[[p is None for p in data.prev_items]] = math.nan
    scores = reading_scores(data.measures, pred, prev)
    table = data.measures.assign(pred=pred, prev_pred=prev)
    base = ["Subtlex_log10", "length", "context_length"]
    for dv in EYE_TRACKING:
        assert scores["reading_et"][dv]["gain"] == pytest.approx(_gain(table, dv, base),
                                                                 rel=1e-8)
    spillover = _gain(table, SELF_PACED, [*base, "prev_length", "prev_pred"])
    assert scores["reading_spr"][SELF_PACED]["gain"] == pytest.approx(spillover, rel=1e-8)
    assert scores["reading_et"]["RTgopast"]["gain"] > 0.01  # the signal put in is found
    assert scores["reading_spr"][SELF_PACED]["n"] == int(table[[SELF_PACED, *base, "prev_length",
                                                                "prev_pred", "pred"]]
                                                         .dropna().shape[0])


def _official_probability(model: torch.nn.Module, tokenizer: AntlmTokenizer, sentence: str,
                          token: int, backend: str) -> float:
    """The official get_p / get_p_mlm / get_p_mntp for one token: the tokenizer's whole
    framed input, read at the last position (causal) or by the mask arithmetic of
    evaluation_functions.py (three masks appended)."""
    if backend == "causal":
        ids = tokenizer.frame(tokenizer.encode(sentence))
        position, attention = -1, "causal"
    else:
        ids = tokenizer.frame(tokenizer.encode(sentence) + [tokenizer.mask_id] * 3)
        ends_in_mask = ids[-1] == tokenizer.mask_id
        position = {"mlm": -3 if ends_in_mask else -4, "mntp": -4 if ends_in_mask else -5}[backend]
        attention = "bidirectional"
    with torch.no_grad():
        logits = model.logits(model(torch.tensor([ids]), attention=attention))[0, position]
    return float(torch.softmax(logits.float(), -1)[token])


def _official_surprisal(model, tokenizer, sentence: str, word: str, backend: str) -> float:
    """get_p2 and its twins: the first piece of the word, then each later piece after the
    sentence with the decoded pieces appended, its id re-encoded from its text."""
    target = tokenizer.encode(word)
    probabilities = [_official_probability(model, tokenizer, sentence, target[0], backend)]
    sentence += tokenizer.decode([target[0]])
    for token in target[1:]:
        text = tokenizer.decode([token])
        probabilities.append(_official_probability(model, tokenizer, sentence,
                                                    tokenizer.encode(text)[0], backend))
        sentence += text
    return -math.log(np.prod(probabilities))


def _first_rows(data: ReadingData, n: int) -> ReadingData:
    return replace(data, lines=data.lines[:n], items=data.items[:n], words=data.words[:n],
                   prev_items=data.prev_items[:n], prev_words=data.prev_words[:n],
                   measures=data.measures.iloc[:n])


@pytest.mark.parametrize("backend", ["causal", "mlm", "mntp"])
def test_surprisals_match_the_official_algorithm_word_by_word(
    data_dir: Path, backend: str, small_llama: BabyLlama, small_ltgbert: LtgBert,
    bpe_tokenizer: AntlmTokenizer, wordpiece_tokenizer: AntlmTokenizer,
) -> None:
    model, tokenizer = ((small_llama, bpe_tokenizer) if backend == "causal"
                        else (small_ltgbert, wordpiece_tokenizer))
    data = _first_rows(load_reading(data_dir), 25)
    assert any(len(tokenizer.encode(w)) > 1 for w in data.words)  # later pieces are tested
    pred, prev = reading_surprisals(model, tokenizer, data, backend, batch_size=8)
    expected = [_official_surprisal(model, tokenizer, c, w, backend)
                for c, w in zip(data.items, data.words)]
    expected_prev = [math.nan if c is None else
                     _official_surprisal(model, tokenizer, c, w, backend)
                     for c, w in zip(data.prev_items, data.prev_words)]
    np.testing.assert_allclose(pred, expected, rtol=1e-4)
    np.testing.assert_allclose(prev, expected_prev, rtol=1e-4)  # NaN where NaN


def test_cli_eval_scores_wug_and_reading(
    tmp_path: Path, data_dir: Path, small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = write_model_run(tmp_path / "run", small_llama, bpe_tokenizer)
    main(["eval", str(run), "--tasks", "wug_adj,wug_past,reading,blimp_supplement",
          "--backend", "causal,fused", "--data-dir", str(data_dir), "--max-pairs", "10",
          "--no-progress", "--save-predictions", "--suite", "babylm2025"])
    captured = capsys.readouterr()
    assert "reading is not scored under fused" in captured.err
    lines = captured.out.splitlines()
    assert any(line.startswith("wug_adj (first 10/subtask) (Spearman's rho)") for line in lines)
    assert any(line.startswith("reading_et (share of unexplained variance)") for line in lines)
    assert not any(line.startswith("mean of") for line in lines)  # one accuracy: no mean
    scores = json.loads((run / "results.json").read_text())["zero_shot"]["babylm2025"]["scores"]
    assert scores["causal"]["wug_past"]["metric"] == "spearman"
    assert scores["causal"]["wug_past"]["n_pairs"] == 10
    assert set(scores["causal"]["reading_et"]["subtasks"]) == set(EYE_TRACKING)
    assert scores["causal"]["reading_spr"]["n_pairs"] == 1726  # every word, whatever --max-pairs
    assert "reading_et" not in scores["fused"] and "wug_adj" in scores["fused"]
    et = scores["causal"]["reading_et"]
    assert et["score"] == pytest.approx(np.mean(list(et["subtasks"].values())))
    predictions = run / "predictions" / "babylm2025"
    reading = [json.loads(line) for line in (predictions / "reading.jsonl").read_text()
               .splitlines()]
    assert len(reading) == 1726 and reading[0]["id"] == 0 and reading[0]["pred"]["causal"] > 0
    assert sum(r["prev_pred"]["causal"] is None for r in reading) == 205
    wug = (predictions / "wug_adj.jsonl").read_text().splitlines()
    assert json.loads(wug[0])["id"] == "wug_adj_0" and len(wug) == 10
