"""The macro-average: unweighted means, missing parts named, the train limit stated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from antlm.eval.glue import BABYLM_2024_GLUE
from antlm.eval.macro import compute_macro, render_macro_markdown, report_macro


def _zero_shot(**backends: dict[str, float]) -> dict:
    return {
        "scores": {
            backend: {task: {"score": score, "subtasks": {}, "n_pairs": 10}
                      for task, score in tasks.items()}
            for backend, tasks in backends.items()
        }
    }


def _glue(scores: dict[str, float], limit: int | None = 500) -> dict:
    glue = {name: {"metric": "accuracy", "score": s, "best_epoch": 1, "epochs_run": 2,
                   "n_train": 500, "n_eval": 100, "max_train_examples": limit}
            for name, s in scores.items()}
    glue |= {"boolq": {"status": "missing", "reason": "no train file"},
             "multirc": {"status": "missing", "reason": "no train file"}}
    return glue


FIVE = {"mnli": 0.4, "mrpc": 0.8, "qqp": 0.6, "rte": 0.5, "wsc": 0.7}


def test_parts_are_unweighted_means_and_missing_tasks_are_named() -> None:
    results = {
        "zero_shot": _zero_shot(
            causal={"blimp_filtered": 0.7, "blimp_supplement": 0.6, "ewok": 0.5},
            mlm={"blimp_filtered": 0.9, "blimp_supplement": 0.2, "ewok": 0.1},
        ),
        "glue": _glue({**FIVE, "cola": 0.99}),
    }
    macro = compute_macro(results)
    assert macro.backend == "causal"  # mean 0.6 beats mlm's 0.4
    assert macro.parts["glue"] == pytest.approx(0.6)  # five tasks; CoLA is not in the subset
    assert macro.average == pytest.approx((0.7 + 0.6 + 0.5 + 0.6) / 4)
    assert macro.missing == ["glue/boolq (missing: no train file)",
                             "glue/multirc (missing: no train file)"]
    assert not macro.complete
    assert compute_macro(results, backend="mlm").parts["blimp_filtered"] == 0.9

    table = render_macro_markdown(macro, results["glue"])
    assert "--max-train-examples 500" in table
    assert "partial: 5 of 7 tasks" in table
    assert table.count("missing: no train file") >= 2  # named in both tables
    assert "| **Macro-average** | 60.0 |" in table


def test_missing_parts_are_not_filled_in() -> None:
    results = {"zero_shot": _zero_shot(causal={"blimp_filtered": 0.8}), "glue": {}}
    macro = compute_macro(results)
    assert macro.parts == {"blimp_filtered": 0.8, "blimp_supplement": None, "ewok": None,
                           "glue": None}
    assert macro.average == pytest.approx(0.8)
    assert {"blimp_supplement", "ewok", "glue"} <= set(macro.missing)
    assert sum(m.startswith("glue/") for m in macro.missing) == len(BABYLM_2024_GLUE)
    assert "not run" in render_macro_markdown(macro, {})
    assert "no GLUE task fine-tuned" in render_macro_markdown(macro)


def test_best_backend_recorded_by_the_evaluator_wins_and_full_train_sets_are_stated() -> None:
    zero_shot = _zero_shot(causal={"blimp_filtered": 0.5}, mlm={"blimp_filtered": 0.6})
    zero_shot["best_backend"] = "causal"
    macro = compute_macro({"zero_shot": zero_shot, "glue": _glue(FIVE, limit=None)})
    assert macro.backend == "causal"
    assert "full train set" in render_macro_markdown(macro)
    with pytest.raises(ValueError, match="fused"):
        compute_macro({"zero_shot": zero_shot}, backend="fused")


def test_report_reads_a_run_directory(small_results_run: Path) -> None:
    table = report_macro(small_results_run)
    assert "| GLUE | 60.0 | partial: 5 of 7 tasks |" in table


@pytest.fixture
def small_results_run(tmp_path: Path) -> Path:
    from antlm.config import RunConfig

    (tmp_path / "config.yaml").write_text(RunConfig().to_yaml())
    (tmp_path / "results.json").write_text(json.dumps({"glue": _glue(FIVE)}))
    return tmp_path
