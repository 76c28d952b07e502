"""GLUE fine-tuning on the real task files, with a real tokenizer and a small real model."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from antlm.config import RunConfig, TrainConfig
from antlm.data.tokenizer import AntlmTokenizer
from antlm.eval.finetune import (
    FinetuneConfig,
    SequenceClassifier,
    default_attention,
    encode_examples,
    finetune_run,
)
from antlm.eval.glue import TASKS, Example, read_split, split_path
from antlm.rundir import load_run
from tests.runs import corpus_lines, make_run_dir

QUICK = FinetuneConfig(epochs=2, batch_size=16, max_train_examples=48, max_eval_examples=40)


@pytest.fixture(scope="module")
def small_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer = AntlmTokenizer.train(corpus_lines(data_dir), "bpe", vocab_size=1000)
    run = tmp_path_factory.mktemp("finetune") / "run"
    make_run_dir(run, "babyllama", tokenizer, schedule="1_MLM+1_CLM")
    return run


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_finetune_scores_reports_missing_and_merges(small_run: Path, data_dir: Path) -> None:
    earlier = {"zero_shot": {"scores": {"causal": {"ewok": {"score": 0.5}}}},
               "glue": {"wsc": {"metric": "accuracy", "score": 0.6}}}
    (small_run / "results.json").write_text(json.dumps(earlier))
    weights = _sha(small_run / "model.safetensors")

    outcomes = finetune_run(small_run, ["mrpc", "boolq", "multirc", "mnli"], data_dir, QUICK,
                            device="cpu", progress=False)

    mrpc = outcomes["mrpc"]
    record, predictions, labels = mrpc.record, mrpc.predictions, mrpc.labels
    assert record["metric"] == "f1" and record["selection_metric"] == "f1"
    assert record["n_train"] == 48 and record["n_eval"] == 40 == len(predictions)
    assert record["score"] == record["f1"] == pytest.approx(f1_score(labels, predictions))
    assert record["accuracy"] == pytest.approx(accuracy_score(labels, predictions))
    assert record["mcc"] == pytest.approx(matthews_corrcoef(labels, predictions))
    assert record["attention"] == "causal"  # the schedule ends with CLM
    assert 1 <= record["best_epoch"] <= record["epochs_run"] == len(record["history"]) <= 2
    best = record["history"][record["best_epoch"] - 1]
    assert best["f1"] == record["f1"] == max(h["f1"] for h in record["history"])
    # The labels are the file's, not made up: a sub-multiset of the validation labels.
    valid = read_split(TASKS["mrpc"], split_path(data_dir / "glue", "mrpc", "valid"))
    assert not Counter(labels.tolist()) - Counter(e.label for e in valid)

    mnli = outcomes["mnli"].record
    assert mnli["metric"] == "accuracy" and mnli["f1"] is None
    assert mnli["extra_eval"]["mnli-mm"]["n_eval"] == 40

    for name in ("boolq", "multirc"):
        assert outcomes[name].record == {"status": "missing", "reason": "no train file"}
        assert outcomes[name].predictions is None

    results = json.loads((small_run / "results.json").read_text())
    assert results["zero_shot"] == earlier["zero_shot"]
    assert results["glue"]["wsc"] == earlier["glue"]["wsc"]
    assert results["glue"]["mrpc"]["score"] == record["score"]
    assert results["glue"]["boolq"]["status"] == "missing"
    assert _sha(small_run / "model.safetensors") == weights


def test_patience_stops_when_nothing_improves(small_run: Path, data_dir: Path) -> None:
    # lr 0: every epoch predicts the same, so the first epoch stays best and training stops
    # after `patience` epochs without improvement.
    config = FinetuneConfig(epochs=6, lr=0.0, patience=2, batch_size=16,
                            max_train_examples=16, max_eval_examples=24)
    record = finetune_run(small_run, ["rte"], data_dir, config, progress=False)["rte"].record
    assert record["best_epoch"] == 1 and record["epochs_run"] == 3


def test_pairs_are_framed_and_truncated(small_run: Path) -> None:
    tokenizer = load_run(small_run).tokenizer
    long = " ".join(["word"] * 300)
    pair, short_pair, single = encode_examples(
        tokenizer,
        [Example(long, "a short one", 0), Example("first", "second", 0), Example(long, None, 0)],
        max_length=50,
    )
    a, b = tokenizer.encode("first"), tokenizer.encode("second")
    assert short_pair == tokenizer.frame([*a, tokenizer.eos_id, *b])
    assert len(pair) == len(single) == 50
    assert pair[-len(tokenizer.encode("a short one")) :] == tokenizer.encode("a short one")
    assert single == tokenizer.frame(tokenizer.encode(long))[:50]


def test_causal_head_reads_the_last_real_token(small_run: Path) -> None:
    """Right padding must not change a causal classifier's output (it pools the last real
    token, which never sees the padding); reading the wrong position would."""
    run = load_run(small_run)
    torch.manual_seed(0)
    classifier = SequenceClassifier(run.model, 3, "causal").eval()
    with torch.no_grad():
        classifier.head.weight.normal_()
    rows = encode_examples(run.tokenizer, [Example("a b c d e f", "g h", 0)], 64)
    ids = torch.tensor(rows)
    padded = torch.cat([ids, torch.full((1, 7), run.tokenizer.pad_id)], dim=1)
    mask = padded != run.tokenizer.pad_id
    with torch.no_grad():
        alone = classifier(ids, torch.ones_like(ids, dtype=torch.bool), torch.tensor([ids.shape[1]]))
        with_pad = classifier(padded, mask, mask.sum(1))
        wrong = classifier(padded, mask, torch.tensor([padded.shape[1]]))
    torch.testing.assert_close(with_pad, alone, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(wrong, alone, atol=1e-3)


@pytest.mark.parametrize(
    ("schedule", "attention"),
    [("4_CLM+16_MLM", "bidirectional"), ("2_MLM+2_CLM", "causal"),
     # a MIX phase counts as the objective of most of its sequences, as for the headline backend
     ("1_MIX(clm=1,mlm=3)", "bidirectional"), ("1_MIX(clm=3,mlm=1)", "causal")],
)
def test_default_attention_follows_the_final_phase(schedule: str, attention: str) -> None:
    assert default_attention(RunConfig(train=TrainConfig(schedule=schedule))) == attention
