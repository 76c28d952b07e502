"""The macro-average: the suite's parts and GLUE subtasks, unweighted means, the declared
backend as the headline, missing parts named, the train limit stated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from antlm.config import ConfigError
from antlm.eval.finetune import FinetuneConfig, finetune_run
from antlm.eval.glue import GLUE_SUBTASKS
from antlm.eval.macro import compute_macro, render_macro, report_macro
from antlm.eval.suites import SUITES
from antlm.eval.tasks import EWOK_NOTE
from antlm.rundir import RunDirError

BABYLM_2025, BABYLM_2024 = SUITES["babylm2025"], SUITES["babylm2024"]


def _zero_shot(declared: str = "causal", suite: str = "babylm2025",
               **backends: dict[str, float]) -> dict:
    scores = {
        backend: {task: {"score": score, "subtasks": {}, "n_pairs": 10,
                         "max_pairs_per_subtask": None}
                  for task, score in tasks.items()}
        for backend, tasks in backends.items()
    }
    return {suite: {"declared_backend": declared, "declared_by": "the run config: test",
                    "scores": scores}}


def _glue(scores: dict[str, float], limit: int | None = 500) -> dict:
    glue = {name: {"metric": "accuracy", "score": s, "best_epoch": 1, "epochs_run": 2,
                   "n_train": 500, "n_eval": 100, "max_train_examples": limit}
            for name, s in scores.items()}
    glue |= {"boolq": {"status": "missing", "reason": "no train file"},
             "multirc": {"status": "missing", "reason": "no train file"}}
    return glue


FIVE = {"mnli": 0.4, "mrpc": 0.8, "qqp": 0.6, "rte": 0.5, "wsc": 0.7}


def test_headline_is_the_declared_backend_even_when_another_scores_higher() -> None:
    results = {
        "zero_shot": _zero_shot(
            "causal",
            causal={"blimp_filtered": 0.7, "blimp_supplement": 0.6, "ewok": 0.5},
            mlm={"blimp_filtered": 0.9, "blimp_supplement": 0.8, "ewok": 0.7},
        ),
        "glue": _glue({**FIVE, "cola": 0.99}),
    }
    macro = compute_macro(results, BABYLM_2025)
    assert macro.backend == "causal"  # mlm is higher on every part
    assert macro.parts["glue"] == pytest.approx(0.6)  # five tasks; CoLA is not in babylm2025
    # babylm2025: the mean of the NLP and human-likeness averages; with no human-likeness
    # part, the NLP average over what is there (partial)
    assert macro.average == pytest.approx((0.7 + 0.6 + 0.5 + 0.6) / 4)
    assert [m for m in macro.missing if m.startswith("glue/")] == [
        "glue/boolq (missing: no train file)", "glue/multirc (missing: no train file)"]
    assert "entity_tracking (not evaluated: run `antlm eval --tasks entity_tracking`)" \
        in macro.missing
    assert "reading_et (not evaluated: run `antlm eval --tasks reading`)" in macro.missing
    assert not macro.complete
    named = compute_macro(results, BABYLM_2025, backend="mlm")
    assert named.parts["blimp_filtered"] == 0.9
    assert "asked for by name; the declared one is causal" in render_macro(named)

    table = render_macro(macro, results["glue"], BABYLM_2025)
    assert table.startswith("**Headline: suite babylm2025, zero-shot backend causal** "
                            "(declared by the run config: test;")
    assert "--max-train-examples 500" in table
    assert "partial: 5 of 7 subtasks" in table
    assert table.count("missing: no train file") >= 2  # named in both tables
    assert "| **Macro-average (babylm2025)** | 60.0 |" in table
    assert "| NLP average | 60.0 | partial: mean of 4 of 6 parts |" in table
    assert "| human-likeness average | – | missing: none of its parts |" in table
    assert "| Reading (eye tracking) | – | missing (not evaluated: run `antlm eval --tasks reading`) |" in table
    assert "| cola (not in babylm2025) | accuracy | 99.0 |" in table


def test_missing_parts_are_not_filled_in() -> None:
    results = {"zero_shot": _zero_shot(suite="babylm2024", causal={"blimp_filtered": 0.8}),
               "glue": {}}
    macro = compute_macro(results, BABYLM_2024)
    assert macro.parts == {"blimp_filtered": 0.8, "blimp_supplement": None, "ewok": None,
                           "glue": None}
    assert macro.average == pytest.approx(0.8)
    assert macro.missing == [
        "blimp_supplement (not evaluated: run `antlm eval --tasks blimp_supplement`)",
        "ewok (not evaluated: run `antlm eval --tasks ewok`)", "glue (not run)"]
    table = render_macro(macro)
    assert "no GLUE task fine-tuned" in table
    assert "| EWoK | – | missing (not evaluated: run `antlm eval --tasks ewok`) |" in table
    with pytest.raises(ConfigError, match="--backend 'fused': no babylm2024 zero-shot results "
                                          "under it; the results have causal"):
        compute_macro(results, BABYLM_2024, backend="fused")
    # Another suite's scores are not this suite's.
    assert compute_macro(results, BABYLM_2025).parts["blimp_filtered"] is None


def test_suites_name_their_glue_subtasks() -> None:
    assert BABYLM_2025.glue == ("boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc")
    assert len(BABYLM_2024.glue) == 11 and "mnli-mm" in BABYLM_2024.glue
    for suite in SUITES.values():
        assert set(suite.glue) <= set(GLUE_SUBTASKS)


@pytest.mark.slow
def test_babylm2024_lists_11_glue_subtasks_and_reports_the_missing_as_missing(
    tmp_path: Path, exported_runs, data_dir: Path
) -> None:
    """Real fine-tuning records: MNLI's model also scores mnli-mm; BoolQ, MultiRC, QNLI and
    SST-2 have no train file here and stay missing, never filled in."""
    run = tmp_path / "run"
    shutil.copytree(exported_runs["babyllama"][0], run)
    quick = FinetuneConfig(epochs=1, batch_size=16, max_train_examples=32, max_eval_examples=32)
    finetune_run(run, ["mnli", "rte", "boolq", "multirc", "qnli", "sst2"], data_dir, quick,
                 device="cpu", progress=False)
    results = json.loads((run / "results.json").read_text())
    macro = compute_macro(results, BABYLM_2024)
    assert list(macro.glue_tasks) == list(BABYLM_2024.glue)
    assert macro.glue_tasks["mnli-mm"] == results["glue"]["mnli"]["extra_eval"]["mnli-mm"][
        "accuracy"]
    scored = {"mnli", "mnli-mm", "rte"}
    assert {n for n, v in macro.glue_tasks.items() if v is not None} == scored
    assert [m for m in macro.missing if "no train file" in m] == [
        f"glue/{n} (missing: no train file)" for n in ("boolq", "multirc", "qnli", "sst2")]
    assert [m for m in macro.missing if "not run" in m] == [
        f"glue/{n} (not run)" for n in ("cola", "mrpc", "qqp", "wsc")]
    assert macro.parts["glue"] == pytest.approx(
        sum(macro.glue_tasks[n] for n in scored) / len(scored))
    table = report_macro(run, BABYLM_2024)
    assert "partial: 3 of 11 subtasks" in table
    assert "| mnli-mm | accuracy |" in table and "(mnli model)" in table
    assert "| qnli | – | missing: no train file |" in table


def test_report_needs_results(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="antlm eval"):
        report_macro(tmp_path, BABYLM_2025)


def test_the_macro_table_says_why_ewok_can_score_exactly_50(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(
        {"zero_shot": _zero_shot(causal={"blimp_filtered": 0.7, "ewok": 0.5})}))
    assert report_macro(tmp_path, BABYLM_2025).endswith(EWOK_NOTE)
    (tmp_path / "results.json").write_text(json.dumps(
        {"zero_shot": _zero_shot(causal={"blimp_filtered": 0.7})}))
    assert EWOK_NOTE not in report_macro(tmp_path, BABYLM_2025)  # no EWoK score, no note


def test_each_suite_aggregates_as_its_leaderboard() -> None:
    """2025: the mean of the NLP and human-likeness averages (a part another evaluator writes
    is read from results[PART]); 2026: no aggregate, GLUE as mean accuracy; 2024: the mean."""
    babylm2026 = SUITES["babylm2026"]
    nlp = {"blimp_filtered": 0.8, "blimp_supplement": 0.6, "ewok": 0.5,
           "entity_tracking": 0.3, "comps": 0.6}
    results = {
        "zero_shot": {**_zero_shot(causal=nlp), **_zero_shot(suite="babylm2026", causal=nlp)},
        "glue": {name: {"metric": "f1" if name == "mrpc" else "accuracy", "score": s,
                        "accuracy": 0.5, "best_epoch": 1, "epochs_run": 1, "n_train": 5,
                        "n_eval": 5, "max_train_examples": None}
                 for name, s in {"mrpc": 0.9, "rte": 0.6}.items()},
        "reading_et": {"score": 0.1}, "wug_adj": {"score": 0.3},
        "aoa": {"status": "failed", "reason": "no checkpoints"},
    }
    macro = compute_macro(results, BABYLM_2025)
    glue = (0.9 + 0.6) / 2  # MRPC by F1
    nlp_average = (0.8 + 0.6 + 0.5 + 0.3 + 0.6 + glue) / 6
    assert macro.group_average("NLP") == pytest.approx(nlp_average)
    assert macro.group_average("human-likeness") == pytest.approx((0.1 + 0.3) / 2)
    assert macro.average == pytest.approx((nlp_average + 0.2) / 2)
    assert "aoa (failed: no checkpoints)" in macro.missing
    assert "reading_spr (not evaluated: run `antlm eval --tasks reading`)" in macro.missing
    assert "| human-likeness average | 20.0 | partial: mean of 2 of 5 parts |" in render_macro(
        macro)

    latest = compute_macro(results, babylm2026)
    assert latest.parts["glue"] == pytest.approx(0.5)  # the 2026 scorer: accuracy throughout
    assert latest.parts["comps"] == 0.6 and latest.average is None
    table = render_macro(latest, results["glue"], babylm2026)
    assert "| **Macro-average (babylm2026)** | – | none: the 2026 scorer" in table
    assert "| mrpc | accuracy | 50.0 |" in table

    old = compute_macro({"zero_shot": _zero_shot(suite="babylm2024", causal=nlp)}, BABYLM_2024)
    assert old.average == pytest.approx((0.8 + 0.6 + 0.5) / 3)  # entity tracking: not a part


def test_aoa_is_shown_as_the_scorers_pearson_r_not_as_a_percentage() -> None:
    # calculate_results_from_pred.py prints AoA's curve fitness as it is ("AoA\t\t0.60")
    results = {"zero_shot": _zero_shot(suite="babylm2026", causal={"blimp_filtered": 0.5}),
               "aoa": {"babylm2026": {"score": 0.604}}}
    table = render_macro(compute_macro(results, SUITES["babylm2026"]))
    assert "| Age of acquisition | 0.60 | Pearson's r, not a percentage |" in table
