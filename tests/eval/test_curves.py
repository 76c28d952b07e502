"""``antlm eval --checkpoints``: every milestone checkpoint scored, tabled and plotted."""

import json
import shutil

import pytest

from antlm.eval import curves, revisions
from antlm.eval.aoa import official_revisions
from antlm.eval.curves import FAST_TASKS, curve_settings, evaluate_checkpoints
from antlm.eval.scoring import declared_backend
from antlm.eval.suites import DEFAULT_SUITE
from antlm.eval.tasks import EWOK_NOTE
from antlm.rundir import (
    RunPaths,
    list_checkpoints,
    read_config,
    read_json,
    read_results,
    read_state,
)

TASKS = ["blimp_supplement", "word_order"]
TASKS_FAST = ["blimp_fast", "ewok_fast"]


def test_the_curve_scores_every_revision_once_and_draws_it(milestone_run, data_dir, monkeypatch):
    calls, loads = [], []
    real = curves.evaluate_subject
    monkeypatch.setattr(curves, "evaluate_subject",
                        lambda subject, *a, **k: calls.append(1) or real(subject, *a, **k))
    load = revisions.load_run
    monkeypatch.setattr(revisions, "load_run", lambda *a, **k: loads.append(1) or load(*a, **k))
    paths = RunPaths(milestone_run)
    curve = evaluate_checkpoints(milestone_run, data_dir, tasks=TASKS, max_pairs_per_subtask=3,
                                 device="cpu", progress=False, aoa=False)
    checkpoints = list_checkpoints(paths)
    assert curve["settings"]["backend"] == declared_backend(read_config(paths)) == "mlm"
    assert list(curve["points"]) == [c.name for c in checkpoints] + ["main"]
    for checkpoint in checkpoints:
        point = curve["points"][checkpoint.name]
        assert (point["words_seen"], point["step"]) == (checkpoint.words_seen, checkpoint.step)
        assert set(point["scores"]) == set(TASKS)
        assert all(0.0 <= s <= 1.0 for s in point["scores"].values())
        assert point["pairs"]["blimp_supplement"] == 5 * 3
    assert curve["points"]["main"]["words_seen"] == read_state(paths).words_seen
    assert json.loads(paths.learning_curve.read_text()) == curve
    table = paths.learning_curve.with_suffix(".md").read_text()
    assert f"suite {DEFAULT_SUITE}, backend `mlm`, the first 3 pairs of every subtask" in table
    first = curve["points"]["chck_2K"]
    assert (f"| chck_2K | {first['words_seen']:,} | {first['step']:,} | "
            f"{100 * first['scores']['blimp_supplement']:.1f} |") in table
    assert paths.learning_curve.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    assert len(calls) == 5
    assert len(loads) == 5  # each revision loaded once: checked beforehand by its header alone

    # Nothing new: nothing is scored again; another backend scores everything again.
    evaluate_checkpoints(milestone_run, data_dir, tasks=TASKS, max_pairs_per_subtask=3,
                         device="cpu", progress=False, aoa=False)
    assert len(calls) == 5
    again = evaluate_checkpoints(milestone_run, data_dir, backend="causal", tasks=TASKS,
                                 max_pairs_per_subtask=3, device="cpu", progress=False,
                                 aoa=False)
    assert len(calls) == 10 and again["settings"]["backend"] == "causal"


def test_a_curve_scores_one_backend_and_says_so_otherwise(milestone_run, data_dir):
    import pytest

    from antlm.config import ConfigError

    for many in ("all", "causal,mlm"):
        with pytest.raises(ConfigError, match="a learning curve scores one backend"):
            evaluate_checkpoints(milestone_run, data_dir, backend=many, device="cpu")


def test_the_curve_table_has_both_targets_and_the_ewok_note():
    point = {"words_seen": 1_000_000, "step": 30, "scores": {"blimp_filtered": 0.6, "ewok": 0.5}}
    curve = {"settings": {"tasks": ["blimp_filtered", "ewok"], "suite": "babylm2025",
                          "backend": "causal", "max_pairs_per_subtask": 100},
             "points": {"chck_1M": point}}
    markdown = curves.render_curve(curve, "run")
    assert markdown.startswith("## Learning curve of `run`")
    assert "| chck_1M | 1,000,000 | 30 | 60.0 | 50.0 | 55.0 |" in markdown
    text = curves.render_curve(curve, "run", target="terminal")
    assert text.splitlines()[-3].split() == ["chck_1M", "1,000,000", "30", "60.0", "50.0", "55.0"]
    assert text.endswith(EWOK_NOTE) and markdown.endswith(EWOK_NOTE)


def test_a_revisions_interval_is_wilson_over_its_pairs_and_pooled_for_the_average():
    from antlm.intervals import effective_pairs, wilson_interval

    point = {"scores": {"a": 0.5, "b": 0.7}, "pairs": {"a": 100, "b": 400}}
    task = curves.accuracy_interval(point, "a")
    assert (task.low, task.high) == (wilson_interval(0.5, 100).low, wilson_interval(0.5, 100).high)
    average = curves.accuracy_interval(point)
    expected = wilson_interval(0.6, effective_pairs([100, 400]))
    assert average.mean == pytest.approx(0.6)
    assert (average.low, average.high) == pytest.approx((expected.low, expected.high))
    assert curves.accuracy_interval({"scores": {"a": 0.5}}).low is None  # no pairs recorded


def test_the_official_fast_sets_and_aoa_at_every_revision_replace_an_old_curve(
    milestone_run, data_dir, tmp_path, capsys, monkeypatch
):
    run = shutil.copytree(milestone_run, tmp_path / "run")
    paths = RunPaths(run)
    # A curve of the stand-in fast sets (the first 100 pairs of the full sets) still reads ...
    old = {"settings": curve_settings(None, "mlm", ("blimp_filtered", "blimp_supplement", "ewok"),
                                      100),
           "points": {"chck_2K": {"words_seen": 2_000, "step": 1,
                                  "scores": {"blimp_filtered": 0.5, "blimp_supplement": 0.5,
                                             "ewok": 0.5}}}}
    paths.learning_curve.write_text(json.dumps(old))
    assert "the first 100 pairs of every subtask" in curves.render_curve(old, "run")
    assert FAST_TASKS == ("blimp_fast", "supplement_fast", "ewok_fast")

    # ... and is scored again on the official sets, never mixed with them.
    # (the first pair of each subtask: later ones, and the supplement's dialogues, are too long
    # for this model's 64 tokens)
    curve = evaluate_checkpoints(run, data_dir, tasks=TASKS_FAST, max_pairs_per_subtask=1,
                                 device="cpu")
    checkpoints = list_checkpoints(paths)
    names = [c.name for c in checkpoints]
    assert curve["settings"] == curve_settings(None, "mlm", TASKS_FAST, 1)
    assert list(curve["points"]) == [*names, "main"]
    assert all(p["pairs"] == {"blimp_fast": 67, "ewok_fast": 11} for p in curve["points"].values())
    err = capsys.readouterr().err
    for name in [*names, "main"]:  # every progress bar names its revision
        assert f"{name} blimp_fast" in err and f"{name} ewok_fast" in err
    assert all(f"{name} aoa mlm" in err for name in names) and "main aoa" not in err

    # AoA over the milestone checkpoints (the final model is none of the pipeline's revisions)
    stored = read_json(paths.aoa_surprisals)
    assert list(stored["revisions"]) == names
    assert all(len(r["surprisals"]) == 8_005 for r in stored["revisions"].values())
    section = read_results(paths)["aoa"][DEFAULT_SUITE]
    assert section["backend"] == "mlm" and section["revisions"] == names
    assert section["revisions_missing"] == official_revisions(checkpoints[-1].milestone)
    assert section["contexts"] == 8_005
    assert section["score"] is None or -1.0 <= section["score"] <= 1.0

    # Nothing new: no revision is scored again, for the curve or for AoA.
    scored = []
    monkeypatch.setattr(curves, "revision_surprisals", lambda *a, **k: scored.append(1))
    monkeypatch.setattr(curves, "evaluate_subject", lambda *a, **k: scored.append(1))
    evaluate_checkpoints(run, data_dir, tasks=TASKS_FAST, max_pairs_per_subtask=1, device="cpu")
    assert not scored
