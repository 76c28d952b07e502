"""``antlm submission``: the official predictions layout, the collated file, and the
leaderboard's score of it.

The official scorer (``calculate_results_from_pred.py``) is not run here; its rule is written
out independently instead: a zero-shot part's score is the mean over its subtasks of the share
of items whose ``pred`` equals the data file's right answer (``sentence_good``, ``Target1``,
``options[0]``, COMPS's ``prefix_acceptable + " " + property_phrase``, stripped), entity
tracking's over all its ``FILE_N_ops`` subsets together, and GLUE's the mean over tasks of
the share of ``pred`` equal to the validation file's ``label``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from antlm.eval.predictions import write_predictions
from antlm.eval.reading import load_reading, write_reading_predictions
from antlm.eval.runner import load_items
from antlm.eval.submission import (
    FAST_PARTS,
    FULL_PARTS,
    TRACK_REVISIONS,
    SubmissionError,
    _accuracy,
    _choice,
    _chosen_from_records,
    _reading,
    _wug,
    official_predictions,
    write_submission,
)
from antlm.eval.suites import SUITES
from antlm.eval.tasks import EWOK_PASSWORD, MinimalPair, TaskDataError, load_task
from antlm.eval.wug import load_wug, write_wug_predictions

SUITE = SUITES["babylm2025"]


def _data_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _ewok_rows(data_dir: Path, domain: str) -> list[dict]:
    with zipfile.ZipFile(data_dir / "ewok" / "ewok_filtered.zip") as archive:
        archive.setpassword(EWOK_PASSWORD)
        text = archive.read(f"ewok_filtered/{domain}.jsonl").decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def _share_right(predictions: list[dict], answers: list) -> float:
    """The scorer's rule for one subtask, written out: the share of items whose prediction
    (stripped, when text) equals the data's answer."""
    assert len(predictions) == len(answers)
    right = [(p["pred"].strip() == a.strip()) if isinstance(a, str) else p["pred"] == a
             for p, a in zip(predictions, answers)]
    return 100 * sum(right) / len(right)


def test_the_layout_is_the_official_one() -> None:
    # collate_preds.py (_check_validity_of_dir): where each predictions.json must be, under
    # RESULTS/MODEL/REVISION/.
    full = {p.key: p.path("causal") for p in FULL_PARTS}
    assert full["blimp"] == "zero_shot/causal/blimp/blimp_filtered/predictions.json"
    assert full["blimp_supplement"] == "zero_shot/causal/blimp/supplement_filtered/predictions.json"
    assert full["ewok"] == "zero_shot/causal/ewok/ewok_filtered/predictions.json"
    assert full["entity_tracking"] == \
        "zero_shot/causal/entity_tracking/entity_tracking/predictions.json"
    assert full["aoa"] == "zero_shot/causal/AoA_word/surprisal.json"
    assert {k for k, p in full.items() if p.startswith("finetune/")} == \
        {"boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc"}
    fast = {p.key: p.path("mlm") for p in FAST_PARTS}
    assert fast["blimp"] == "zero_shot/mlm/blimp/blimp_fast/predictions.json"
    assert fast["entity_tracking"] == \
        "zero_shot/mlm/entity_tracking/entity_tracking_fast/predictions.json"
    # STRICT_SMALL_FAST_REVISIONS: chck_1M..chck_9M, chck_10M..chck_100M
    assert TRACK_REVISIONS["strict-small"][:2] == ("chck_1M", "chck_2M")
    assert len(TRACK_REVISIONS["strict-small"]) == 19
    assert TRACK_REVISIONS["strict"][-1] == "chck_1000M" and len(TRACK_REVISIONS["strict"]) == 28


def test_every_full_part_the_official_layout_requires_has_a_task() -> None:
    # collate_preds.py, _check_validity_of_dir (fast=False): its zero-shot and finetune files
    assert [p.key for p in FULL_PARTS] == [
        "blimp", "blimp_supplement", "ewok", "entity_tracking", "wug_adj", "wug_past", "comps",
        "reading", "aoa", "boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc"]
    assert _part(FULL_PARTS, "comps").path("causal") == \
        "zero_shot/causal/comps/comps/predictions.json"


# The official COMPS files' stems and the subset names decode_comps gives them
COMPS_STEMS = {"base": "comps_base", "wugs": "comps_wugs",
               "wugs_dist_before": "comps_wugs_dist-before",
               "wugs_dist_in_between": "comps_wugs_dist-in-between"}


def _comps_folder(folder: Path) -> Path:
    """Four small COMPS files in the official format (the keys decode_comps reads): COMPS
    is not in the data directory here."""
    folder.mkdir(parents=True)
    items = [("A robin", "A table", "can fly."), ("A dog", "A rock", "barks."),
             ("A fish", "A chair", "can swim."), ("A cat", "A cup", "has fur.")]
    for shift, stem in enumerate(COMPS_STEMS.values()):
        rows = items[shift:] + items[:shift]
        (folder / f"{stem}.jsonl").write_text("".join(json.dumps(
            {"prefix_acceptable": a, "prefix_unacceptable": b, "property_phrase": c}) + "\n"
            for a, b, c in rows))
    return folder


def test_comps_preds_are_whole_sentences_scored_as_the_leaderboard_does(
        tmp_path: Path) -> None:
    # compute_results.py (rank_and_evaluate) writes COMPS's chosen *sentence*;
    # calculate_results_from_pred.py (_calculate_comps_results) counts pred.strip() ==
    # " ".join([prefix_acceptable, property_phrase]).strip(), per file, then the mean
    folder = _comps_folder(tmp_path / "comps")
    part = _part(FULL_PARTS, "comps")
    items = load_items(["comps"], tmp_path, comps_dir=folder)
    pairs = items.pairs["comps"]
    rng = np.random.default_rng(1)
    write_predictions(tmp_path / "work", SUITE, "comps", pairs,
                      {"causal": rng.normal(size=(len(pairs), 2))})
    converted = _choice(tmp_path / "work", part, items, SUITE, "causal")
    assert set(converted.official) == set(COMPS_STEMS)
    shares = []
    for uid, block in converted.official.items():
        rows = _data_rows(folder / f"{COMPS_STEMS[uid]}.jsonl")
        assert all(p["pred"] in (f"{r['prefix_acceptable']} {r['property_phrase']}",
                                 f"{r['prefix_unacceptable']} {r['property_phrase']}")
                   for p, r in zip(block["predictions"], rows, strict=True))
        shares.append(_share_right(block["predictions"], [
            " ".join([r["prefix_acceptable"], r["property_phrase"]]) for r in rows]))
    assert 0 < np.mean(shares) < 100  # random scores: both sentences get chosen
    assert converted.scores["comps"] == pytest.approx(np.mean(shares), abs=1e-9)


def test_the_fast_parts_are_the_seven_collate_preds_requires() -> None:
    # collate_preds.py: _check_validity_of_dir(fast=True) and get_fast_eval_metrics' keys
    assert [p.key for p in FAST_PARTS] == ["blimp", "blimp_supplement", "ewok", "entity_tracking",
                                           "wug_adj", "wug_past", "reading"]
    assert all(p.task is not None for p in FAST_PARTS)
    paths = {p.key: p.path("causal") for p in FAST_PARTS}
    assert paths["ewok"] == "zero_shot/causal/ewok/ewok_fast/predictions.json"
    assert paths["wug_past"] == "zero_shot/causal/wug_past/wug_past_tense/predictions.json"
    assert paths["reading"] == "zero_shot/causal/reading/predictions.json"


def _part(parts, key: str):
    return next(p for p in parts if p.key == key)


@pytest.mark.parametrize("key, folder", [("blimp", "blimp_fast"),
                                         ("blimp_supplement", "supplement_fast")])
def test_a_fast_sets_subtask_accuracies_follow_collate_preds(
        key: str, folder: str, data_dir: Path, tmp_path: Path) -> None:
    part = _part(FAST_PARTS, key)
    pairs = load_task(part.task, data_dir)
    rng = np.random.default_rng(0)
    write_predictions(tmp_path, SUITE, part.task, pairs,
                      {"causal": rng.normal(size=(len(pairs), 2))})
    converted = _choice(tmp_path, part, load_items([part.task], data_dir), SUITE, "causal")
    # _calculate_target_results: per file, the share of pred == sentence_good (stripped)
    root = data_dir / "evaluation_data" / "fast_eval" / folder
    expected = {uid: _share_right(block["predictions"], [
        r["sentence_good"] for r in _data_rows(root / f"{uid}.jsonl")]) / 100
                for uid, block in converted.official.items()}
    assert set(expected) == {f.stem for f in root.glob("*.jsonl")}
    assert converted.fast == pytest.approx(expected, abs=1e-12)
    assert 30 < 100 * np.mean(list(expected.values())) < 70  # random scores: about chance
    assert converted.scores[key] == pytest.approx(100 * np.mean(list(expected.values())))


def _rank(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share theirs), for Spearman's rho as Pearson's r of ranks."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values), dtype=np.float64)
    for value in np.unique(values):
        ranks[values == value] = ranks[values == value].mean()
    return ranks


@pytest.mark.parametrize("key, stem", [("wug_adj", "wug_adj_nominalization"),
                                       ("wug_past", "wug_past_tense")])
def test_wug_files_score_as_spearman_of_prob_and_ratio(
        key: str, stem: str, data_dir: Path, tmp_path: Path, small_llama, bpe_tokenizer
) -> None:
    from antlm.eval.scoring import score_pairs

    part = _part(FULL_PARTS, key)
    wug = load_wug(part.task, data_dir)
    scores = score_pairs(small_llama, bpe_tokenizer, wug.pairs, ["causal"], suite=SUITE)
    write_wug_predictions(tmp_path, SUITE, wug, scores)
    converted = _wug(tmp_path, part, load_items([part.task], data_dir), SUITE, "causal")
    items = converted.official[key]["predictions"]
    rows = _data_rows(data_dir / "evaluation_data" / "full_eval" / stem / f"{stem}.jsonl")
    assert [i["id"] for i in items[:2]] == [f"{key}_0", f"{key}_1"] and len(items) == len(rows)
    assert all(i["pred"] in r["sentences"].split("\t") for i, r in zip(items, rows))
    prob = np.array([i["prob"] for i in items])
    ratio = np.array([r["ratio"] for r in rows])
    rho = np.corrcoef(_rank(prob), _rank(ratio))[0, 1]
    assert converted.scores[key] == pytest.approx(100 * rho, abs=1e-9)
    assert converted.fast == {key: pytest.approx(rho, abs=1e-11)}


def _r2(y: np.ndarray, columns: list[np.ndarray]) -> float:
    design = np.column_stack([np.ones(len(y)), *columns])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return 1 - np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2)


def _gain(table: dict[str, np.ndarray], outcome: str, names: list[str]) -> float:
    """calculate_results_from_pred.py's share of unexplained variance that ``pred`` explains:
    the baseline of ``names`` and their pairwise products, each fit on its own complete rows."""
    def fit(predictors: list[str]) -> float:
        keep = ~np.isnan(np.column_stack([table[n] for n in [outcome, *predictors]])).any(1)
        base = [table[n][keep] for n in names]
        pairs = [table[a][keep] * table[b][keep]
                 for i, a in enumerate(names) for b in names[i + 1:]]
        extra = [table["pred"][keep]] if "pred" in predictors else []
        return _r2(table[outcome][keep], base + pairs + extra)
    baseline, model = fit(names), fit([*names, "pred"])
    return (model - baseline) / (1 - baseline)


def test_the_reading_file_scores_as_the_leaderboards_regressions(
        data_dir: Path, tmp_path: Path) -> None:
    import pandas as pd

    data = load_reading(data_dir)
    rng = np.random.default_rng(1)
    pred = rng.gamma(2.0, 3.0, len(data))
    prev = np.where([p is None for p in data.prev_items], np.nan, rng.gamma(2.0, 3.0, len(data)))
    write_reading_predictions(tmp_path, SUITE, {"causal": (pred, prev)})
    converted = _reading(tmp_path, _part(FULL_PARTS, "reading"),
                         load_items(["reading"], data_dir), SUITE, "causal")
    items = converted.official["reading"]["predictions"]
    assert len(items) == 1726 and items[0]["id"] == 0  # collate_preds.py READING_SIZE
    frame = pd.read_csv(data_dir / "evaluation_data/full_eval/reading/reading_data.csv",
                        dtype={"item": str})
    table = {c: frame[c].to_numpy(np.float64) for c in (
        "Subtlex_log10", "length", "context_length", "prev_length", "RTfirstfix", "RTfirstpass",
        "RTgopast", "RTrightbound", "self_paced_reading_time")}
    table["pred"] = np.array([i["pred"] for i in items], np.float64)
    table["prev_pred"] = np.array([i["prev_pred"] for i in items], np.float64)
    base = ["Subtlex_log10", "length", "context_length"]
    et = np.mean([_gain(table, dv, base)
                  for dv in ("RTfirstfix", "RTfirstpass", "RTgopast", "RTrightbound")])
    spr = _gain(table, "self_paced_reading_time", [*base, "prev_length", "prev_pred"])
    assert converted.scores == {"reading_et": pytest.approx(100 * et, abs=1e-6),
                                "reading_spr": pytest.approx(100 * spr, abs=1e-6)}
    assert converted.fast == {"rt": pytest.approx(et, abs=1e-8),
                              "spr": pytest.approx(spr, abs=1e-8)}


def test_pred_is_the_text_of_the_candidate_ranked_first(data_dir: Path) -> None:
    blimp = load_task("blimp_filtered", data_dir, max_pairs_per_subtask=2)[:2]
    out = official_predictions("blimp_filtered", blimp, [0, 1])
    subtask = blimp[0].subtask
    assert out == {subtask: {"predictions": [
        {"id": f"{subtask}_0", "pred": blimp[0].good},
        {"id": f"{subtask}_1", "pred": blimp[1].bad}]}}
    # EWoK: compute_results.py writes the completion, " " + the target (read_files.py)
    ewok = load_task("ewok", data_dir, max_pairs_per_subtask=1)[:1]
    pred = official_predictions("ewok", ewok, [1])[ewok[0].subtask]["predictions"][0]["pred"]
    assert pred == " " + ewok[0].bad
    # entity tracking: the option itself, any of the candidates
    items = load_task("entity_tracking", data_dir, max_pairs_per_subtask=1)[:1]
    pred = official_predictions("entity_tracking", items, [2])
    assert pred == {"ambiref_0_ops": {"predictions": [
        {"id": "ambiref_0_ops_0", "pred": items[0].distractors[0]}]}}


def test_entity_tracking_preds_score_by_the_leaderboards_flat_mean() -> None:
    # calculate_results_from_pred.py averages the 18 FILE_N_ops subsets together (not the
    # files' means, as run.py reports): two subsets of one file, one of another.
    items = [MinimalPair("entity_tracking", sub, "a", "b", distractors=("c",))
             for sub in ("regular_0_ops", "regular_0_ops", "regular_1_ops", "ambiref_0_ops")]
    official = official_predictions("entity_tracking", items, [0, 1, 0, 2])
    answers = {"regular_0_ops": ["a", "a"], "regular_1_ops": ["a"], "ambiref_0_ops": ["a"]}
    assert _accuracy(official, answers) == pytest.approx((50 + 100 + 0) / 3)


def test_predictions_of_other_data_are_refused(tmp_path: Path) -> None:
    pairs = [MinimalPair("blimp_filtered", "island", "Who left?", "Who did left?")]
    path = write_predictions(tmp_path, SUITE, "blimp_filtered", pairs,
                             {"causal": np.array([[-1.0, -2.0]])})
    assert list(_chosen_from_records(path, pairs, SUITE, "causal")) == [0]
    other = [MinimalPair("blimp_filtered", "island", "Who came?", "Who did came?")]
    with pytest.raises(SubmissionError, match="not the data.s item"):
        _chosen_from_records(path, other, SUITE, "causal")


def test_a_run_beyond_the_tracks_rules_is_refused_before_any_work(
        exported_runs, tmp_path: Path, data_dir: Path) -> None:
    import shutil

    from antlm.rules import RuleError

    run = tmp_path / "run"
    shutil.copytree(exported_runs["babyllama"][0], run)
    (run / "state.json").write_text(json.dumps(
        {"step": 120, "total_steps": 120, "epoch": 12.0, "finished": True,
         "words_seen": 12_000_000}))
    with pytest.raises(RuleError, match=r"it ran 12 epochs, more than 10.*--workshop-only"):
        write_submission(run, tmp_path / "out", data_dir, SUITE, progress=False)
    assert not (tmp_path / "out").exists()


def test_damaged_task_data_is_refused_by_name_not_listed_as_missing(
        exported_runs, tmp_path: Path) -> None:
    # a damaged file is the user's to mend (the damage matrix's contract); only items longer
    # than the model's context, or an optional folder that is absent, make a part "missing"
    data = tmp_path / "data"
    (data / "blimp_filtered").mkdir(parents=True)
    (data / "blimp_filtered" / "adjunct_island.jsonl").write_text('{"sentence_good": \n')
    with pytest.raises(TaskDataError, match=r"adjunct_island.jsonl, line 1"):
        write_submission(exported_runs["babyllama"][0], tmp_path / "out", data, SUITE,
                         device="cpu", progress=False)


@pytest.fixture(scope="module")
def submitted_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SMALL run (tests/runs.py) trained under ``1_CLM+1_MLM+1_CLM`` with a 128-token context
    (BLiMP's, the supplement's and EWoK's longest items fit, entity tracking's do not): seconds
    to train and to score every part in full, which is what these tests read (the
    files' layout, keys and sizes, and the leaderboard's rule on them), not the model's
    quality."""
    from antlm.train.trainer import train_run
    from tests.runs import small_config

    run = tmp_path_factory.mktemp("submitted") / "run"
    train_run(small_config("train.schedule=1_CLM+1_MLM+1_CLM", "model.max_seq_len=128",
                           "train.batch_size=4"), run, data_dir, progress=False)
    return run


@pytest.fixture(scope="module")
def submission(submitted_run: Path, data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The run's submission, GLUE cut short (32 training examples, one epoch: a check of the
    format, not the recipe); written twice, the second time given COMPS's folder, which the
    first lacked (COMPS is not in the data directory here)."""
    from antlm.config import FinetuneConfig

    out = tmp_path_factory.mktemp("submission")
    glue = FinetuneConfig(epochs=1, max_train_examples=32)
    first = write_submission(submitted_run, out, data_dir, SUITE, glue=glue, device="cpu",
                             progress=False)
    first_collated = json.loads(first.collated.read_text())  # the second run rewrites it
    comps = _comps_folder(tmp_path_factory.mktemp("comps") / "comps")
    second = write_submission(submitted_run, out, data_dir, SUITE, glue=glue, device="cpu",
                              progress=False, comps_dir=comps)
    return first, second, comps, first_collated


def test_every_part_scores_as_the_leaderboard_would(submission, data_dir: Path) -> None:
    report, *_ = submission
    collated = json.loads(report.collated.read_text())
    root = data_dir
    for key, folder in (("blimp", root / "blimp_filtered"),
                        ("blimp_supplement", root / "blimp_supplement")):
        shares = [_share_right(block["predictions"],
                               [r["sentence_good"] for r in _data_rows(folder / f"{uid}.jsonl")])
                  for uid, block in collated[key].items()]
        assert report.scores[key] == pytest.approx(sum(shares) / len(shares), abs=1e-9)
        assert len(collated[key]) == len(list(folder.glob("*.jsonl")))
    shares = [_share_right(block["predictions"], [r["Target1"] for r in _ewok_rows(root, uid)])
              for uid, block in collated["ewok"].items()]
    assert len(shares) == 11
    assert report.scores["ewok"] == pytest.approx(sum(shares) / len(shares), abs=1e-9)
    glue = [_share_right(collated["glue"][task]["predictions"],
                         [r["label"] for r in _data_rows(root / "glue" / f"{task}.valid.jsonl")])
            for task in collated["glue"]]
    assert report.scores["glue"] == pytest.approx(sum(glue) / len(glue), abs=1e-9)


def test_the_files_hold_the_official_keys_sizes_and_ids(submission, data_dir: Path) -> None:
    report, *_ = submission
    model = report.folder
    collated = json.loads(report.collated.read_text())
    assert report.collated == model / "all_full_preds_and_fast_scores_causal.json"
    # entity tracking's items (up to 355 tokens) do not fit the run's 128: missing; COMPS
    # from the second run, given its folder
    assert [k for k in collated if k != "aoa"] == ["blimp", "blimp_supplement", "ewok",
                                                   "wug_adj", "wug_past", "comps", "reading",
                                                   "glue"]
    # collate_preds.py, SUPPLEMENT_SIZES and ENTITY_TRACKING_SIZES (a few of them)
    assert {k: len(v["predictions"]) for k, v in collated["blimp_supplement"].items()} == {
        "hypernym": 842, "qa_congruence_easy": 64, "qa_congruence_tricky": 165,
        "subject_aux_inversion": 3867, "turn_taking": 280}
    # finetune/run.py: {"id": "TASK_i", "pred": LABEL}; MNLI_SIZE 4908, RTE_SIZE 139
    assert len(collated["glue"]["mnli"]["predictions"]) == 4908
    assert collated["glue"]["rte"]["predictions"][3] == {
        "id": "rte_3", "pred": collated["glue"]["rte"]["predictions"][3]["pred"]}
    assert set(collated["glue"]) == {"mnli", "mrpc", "qqp", "rte", "wsc"}
    for uid, block in collated["blimp"].items():
        assert [p["id"] for p in block["predictions"][:2]] == [f"{uid}_0", f"{uid}_1"]
    # each part's own file, in the results layout, holds what the collated file holds
    one = json.loads((model / "main/zero_shot/causal/blimp/blimp_filtered/predictions.json")
                     .read_text())
    assert one == collated["blimp"]
    scorer_copy = json.loads((model / "main/all_full_preds_causal.json").read_text())
    assert scorer_copy == collated  # no fast results: the run reached no official revision


def test_what_is_missing_says_why(submission) -> None:
    report, *_ = submission
    assert not report.complete
    assert report.missing["boolq"] == "GLUE train file absent (boolq.train.jsonl)"
    assert report.missing["multirc"] == "GLUE train file absent (multirc.train.jsonl)"
    assert report.missing["comps"].startswith("no data: COMPS is not in the data directory")
    assert report.missing["main/entity_tracking"].startswith("the model cannot score it: ")
    assert not any(key.startswith("fast/") for key in report.missing)
    assert report.missing["fast revisions"].startswith("not reached by the run: chck_1M, ")
    assert "INCOMPLETE" in (report.folder / "submission.txt").read_text()


def test_a_rerun_given_comps_scores_it_alone_and_reuses_every_other_part(submission) -> None:
    first, second, comps, first_collated = submission
    assert sorted(second.reused) == sorted(first.written)
    assert set(second.written) - set(second.reused) == {"main/comps"}
    assert "comps" not in second.missing
    assert {k: v for k, v in second.scores.items() if k != "comps"} == first.scores
    collated = json.loads(second.collated.read_text())
    assert {k: v for k, v in collated.items() if k != "comps"} == first_collated
    # the leaderboard's rule on the collated file (_calculate_comps_results)
    shares = [_share_right(block["predictions"], [
        " ".join([r["prefix_acceptable"], r["property_phrase"]])
        for r in _data_rows(comps / f"{COMPS_STEMS[uid]}.jsonl")])
        for uid, block in collated["comps"].items()]
    assert len(shares) == 4
    assert second.scores["comps"] == pytest.approx(sum(shares) / len(shares), abs=1e-9)


def test_the_aoa_file_holds_every_context_at_every_revision(
        milestone_run: Path, data_dir: Path, tmp_path: Path) -> None:
    # AoA_word/run.py + evaluation_functions.py (analyze_steps): one record per revision and
    # context, in the data's order; collate_preds.py AOA_SIZE: 8,005 per revision.
    from antlm.config import FinetuneConfig
    from antlm.eval.aoa import compute_aoa
    from antlm.eval.submission import SubmissionReport, _aoa, _Context
    from antlm.rundir import RunPaths, list_checkpoints

    report = SubmissionReport(tmp_path / "m", "m", "causal")
    ctx = _Context(milestone_run, tmp_path / "m", data_dir, SUITE, "causal", 64, "cpu", False,
                   FinetuneConfig(), {}, report)
    _aoa(ctx, _part(FULL_PARTS, "aoa"), TRACK_REVISIONS["strict-small"])
    written = json.loads((tmp_path / "m/main/zero_shot/causal/AoA_word/surprisal.json")
                         .read_text())
    checkpoints = list_checkpoints(RunPaths(milestone_run))
    assert len(checkpoints) == 4
    results = written["results"]
    assert len(results) == 8005 * 4
    assert [r["step"] for r in results[::8005]] == [c.name for c in checkpoints]
    contexts = json.loads((data_dir / "evaluation_data/full_eval/aoa/cdi_childes.json")
                          .read_text())
    expected = [(w, i, c["context"]) for w, cs in contexts.items() if len(w) > 1
                for i, c in enumerate(cs)]
    assert [(r["target_word"], r["context_id"], r["context"]) for r in results[:8005]] == expected
    # the leaderboard refuses revisions other than the track's: the report says so
    assert report.missing["main/aoa"].startswith("the leaderboard needs it at chck_1M")
    # the score is that of the file's surprisals, revision by revision
    from antlm.eval.aoa import load_aoa_data
    values = [np.array([r["surprisal"] for r in results[k * 8005:(k + 1) * 8005]])
              for k in range(4)]
    again = compute_aoa(load_aoa_data(data_dir), [(c.name, c.milestone) for c in checkpoints],
                        values)["score"]
    # (compute_aoa's fits on this barely trained run vary in r's 5th decimal from one call to
    # the next on the same input; the leaderboard prints 2)
    assert report.scores["aoa"] == pytest.approx(again, abs=1e-4)
    assert sum(np.isnan(v).sum() for v in values) < 4 * 8005  # most contexts fit 64 tokens


def test_each_tasks_items_are_read_once_for_the_whole_command(
        exported_runs, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The final model and a revision both score WUG (and the revision a fast set): every
    task's items are read once, for the fit check, the scoring and the official file alike."""
    import shutil

    from safetensors.torch import load_file, save_file

    from antlm.eval import runner, submission
    from antlm.eval.runner import evaluate_subject
    from antlm.eval.scoring import declared_backend
    from antlm.eval.subject import subject_of_run
    from antlm.rundir import RunPaths, load_run, read_config

    run = shutil.copytree(exported_runs["babyllama"][0], tmp_path / "run")
    (run / "checkpoints").mkdir()  # the run's weights again, as the milestone chck_1M
    save_file(load_file(run / "model.safetensors"), run / "checkpoints" / "chck_1M.safetensors",
              metadata={"milestone": "1000000", "words_seen": "1000100",
                        "tokens_seen": "1300000", "step": "10"})
    monkeypatch.setattr(submission, "FULL_PARTS", (_part(FULL_PARTS, "wug_adj"),))
    monkeypatch.setattr(submission, "FAST_PARTS", (_part(FAST_PARTS, "wug_adj"),
                                                   _part(FAST_PARTS, "blimp_supplement")))
    reads: list[str] = []
    for name in ("load_tasks", "load_wug", "load_reading"):
        real = getattr(runner, name)
        monkeypatch.setattr(runner, name, lambda first, *a, real=real, **k:
                            reads.extend([first] if isinstance(first, str) else first)
                            or real(first, *a, **k))
    report = write_submission(run, tmp_path / "out", data_dir, SUITE, device="cpu",
                              progress=False)
    assert sorted(reads) == ["supplement_fast", "wug_adj"]
    assert {"main/wug_adj", "chck_1M/wug_adj", "chck_1M/blimp_supplement"} <= set(report.written)

    # the scores are those of an evaluation of the same weights on its own
    backend = declared_backend(read_config(RunPaths(run)))
    alone = evaluate_subject(subject_of_run(load_run(run)), ["wug_adj"], data_dir, SUITE,
                             backend, progress=False)["scores"][backend]["wug_adj"]["score"]
    assert report.scores["wug_adj"] == pytest.approx(100 * alone, abs=1e-9)
    manifest = json.loads((report.folder / "antlm_submission.json").read_text())
    assert manifest["chck_1M/wug_adj"]["fast"] == {"wug_adj": pytest.approx(alone, abs=1e-11)}
    # calculate_results_from_pred.py --fast --revision_name chck_1M reads the revision's fast
    # parts from MODEL/chck_1M/all_fast_preds_BACKEND.json, under the collated keys
    fast = json.loads((report.folder / "chck_1M" / f"all_fast_preds_{backend}.json").read_text())
    assert set(fast) == {"wug_adj", "blimp_supplement"}
    for part in submission.FAST_PARTS:
        assert fast[part.key] == json.loads(
            (report.folder / "chck_1M" / part.path(backend)).read_text())


@pytest.mark.parametrize("damage", ["", "{", "[1, 2]", '{"stamp": 1}', '{"surprisals": "x"}',
                                    '{"stamp": {}, "stamp": {}, "surprisals": [1.0]}'])
def test_a_damaged_kept_aoa_work_file_is_scored_again(tmp_path: Path, damage: str) -> None:
    # a work file, like a kept chunk: what cannot be read is scored again, never refused
    from antlm.eval.submission import _kept_surprisals

    stamp = {"weights": "abc", "backend": "causal", "contexts": 2}
    path = tmp_path / "aoa_surprisals.json"
    path.write_text(json.dumps({"stamp": stamp, "surprisals": [1.5, None]}))
    assert _kept_surprisals(path, stamp, 2).tolist()[0] == 1.5
    assert _kept_surprisals(path, {**stamp, "weights": "other"}, 2) is None
    path.write_text(damage)
    assert _kept_surprisals(path, stamp, 2) is None
    assert _kept_surprisals(tmp_path / "absent.json", stamp, 2) is None
