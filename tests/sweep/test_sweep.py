"""Sweep files, and a real (small) sweep end to end: train, evaluate, resume/skip, summarise,
plot."""

import json
import os
import shutil

import pytest

from antlm.cli import main
from antlm.config import ConfigError
from antlm.errors import USAGE_EXIT, AntlmError
from antlm.eval.curves import average_accuracy
from antlm.eval.scoring import BACKENDS
from antlm.locks import SWEEP_CLAIM_NAME, RunLock
from antlm.rundir import (
    DEV_LOSSES_KEY,
    RunPaths,
    read_json,
    read_metrics,
    update_results,
)
from antlm.sweep.markdown import render_markdown
from antlm.sweep.report import write_summary
from antlm.sweep.runner import SWEEP_LOG, run_sweep
from antlm.sweep.spec import SPEC_FILE, load_sweep, save_spec, sweep_of_directory
from antlm.sweep.status import Stage, render_status, sweep_status
from antlm.sweep.summary import collect, learning_curves
from tests.cli import assert_refused
from tests.conftest import CONFIGS

SMOKE = CONFIGS / "sweeps" / "smoke.yaml"


def test_shipped_sweeps_resolve_with_equal_epochs():
    for path in sorted((CONFIGS / "sweeps").glob("*.yaml")):
        sweep = load_sweep(path)
        if path.stem != "smoke":
            epochs = sweep.total_epochs().values()  # shares written as decimals: 1e-9 apart
            assert len({round(e, 9) for e in epochs}) == 1, path.name
            assert len(sweep.spec.seeds) >= 3


def _smoke_with(tmp_path, old: str, new: str):
    """The smoke sweep with one edit, written where its base config still resolves."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMOKE.read_text().replace(old, new).replace(
        "base: ../runs/", f"base: {CONFIGS}/runs/"))
    return bad


def test_bad_arm_fails_before_any_training(tmp_path):
    with pytest.raises(ConfigError, match=r"(?s)sweep arm .clm_only.*an objective"):
        load_sweep(_smoke_with(tmp_path, "2_CLM}", "2_CLX}"))


def test_a_learning_curve_names_one_known_backend(tmp_path):
    with pytest.raises(ConfigError, match=r"learning_curves.backend: .*one backend: one of causal"):
        load_sweep(_smoke_with(tmp_path, "{backend: causal,", "{backend: all,"))


def test_an_arm_written_twice_names_both_lines(tmp_path, capsys):
    text = SMOKE.read_text()
    arm = next(line for line in text.splitlines() if line.strip().startswith("antlm:"))
    bad = _smoke_with(tmp_path, arm, f"{arm}\n{arm}")
    line = 1 + bad.read_text().splitlines().index(arm)
    message = f"{bad}: key 'antlm' appears twice (lines {line} and {line + 1}); keep one"
    with pytest.raises(AntlmError) as info:
        load_sweep(bad)
    assert str(info.value) == message
    assert message in assert_refused(capsys, "sweep", bad, "--root", tmp_path, "--status")


def test_a_seed_listed_twice_is_refused(tmp_path, capsys):
    bad = _smoke_with(tmp_path, "seeds: [1]", "seeds: [1, 2, 1]")
    with pytest.raises(ConfigError, match=rf"(?s)invalid sweep \({bad}\):.*seeds: seed 1 appears "
                                          r"more than once in \[1, 2, 1\]; list each seed once"):
        load_sweep(bad)
    assert "seed 1 appears more than once" in assert_refused(capsys, "sweep", bad, "--root",
                                                             tmp_path, "--status")


def test_an_unknown_arm_is_refused_with_the_arms_there_are(tmp_path, capsys):
    err = assert_refused(capsys, "sweep", SMOKE, "--root", tmp_path, "--arms", "antlm,nope",
                         "--data-dir", tmp_path)
    assert "--arms: sweep smoke has no arm 'nope'; its arms: clm_only, antlm" in err
    assert not any(tmp_path.iterdir())  # refused before the sweep directory is made


PRIMARY = "primary: {arm: antlm, backend: causal, parts: [blimp_filtered, blimp_supplement]"


@pytest.mark.parametrize(("declared", "error"), [
    ("primary: {arm: clm_only, backend: causal", (r"primary.arm='clm_only': one of the arms "
                                                  r"compared with the baseline: \['antlm'\]")),
    ("primary: {arm: antlm, backend: pll", r"primary.backend: .*one backend: one of causal"),
    (PRIMARY.replace("blimp_supplement", "ewok"),
     (r"primary.parts \['ewok'\] are not evaluated; the evaluation scores \['blimp_filtered', "
     r"'blimp_supplement'\]")),
    (PRIMARY.replace("blimp_supplement", "glue"), r"primary.parts \['glue'\] are not evaluated"),
])
def test_a_primary_endpoint_must_be_something_the_sweep_scores(tmp_path, declared, error):
    with pytest.raises(ConfigError, match=error):
        load_sweep(_smoke_with(tmp_path, PRIMARY.split(", parts")[0] if "parts" not in declared
                               else PRIMARY, declared))


def test_a_primary_backend_needs_every_arm_scored_alike(tmp_path):
    edited = _smoke_with(tmp_path, "backend: all", "backend: auto")
    with pytest.raises(ConfigError, match=r"evaluation.backend 'auto' depends on each arm"):
        load_sweep(edited)
    edited.write_text(edited.read_text().replace("backend: auto", "backend: mlm"))
    with pytest.raises(ConfigError, match=r"primary.backend='causal' is not among the "
                                          r"evaluation's backends \(mlm\)"):
        load_sweep(edited)


def test_a_saved_sweep_reads_back_from_a_moved_checkout(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(CONFIGS, checkout / "configs")
    sweep = load_sweep(checkout / "configs" / "sweeps" / "study-babyllama.yaml")
    save_spec(sweep, checkout / "studies" / sweep.name)
    assert str(tmp_path) not in (checkout / "studies" / sweep.name / SPEC_FILE).read_text()

    moved = checkout.rename(tmp_path / "elsewhere")
    again = sweep_of_directory(moved / "studies" / sweep.name)
    assert again.base_path == (moved / "configs" / "runs" / "babyllama-antlm-tiny.yaml").resolve()
    assert again.configs == sweep.configs


def _stages(sweep, root):
    return {(s.arm, s.seed): s.stage for s in sweep_status(sweep, root)}


@pytest.mark.slow
def test_smoke_sweep_end_to_end(tmp_path, data_dir, capsys):
    sweep = load_sweep(SMOKE)
    assert set(_stages(sweep, tmp_path).values()) == {Stage.PENDING}
    trained = run_sweep(SMOKE, tmp_path, data_dir, train_only=True)
    assert {(o.arm, o.trained, o.evaluated) for o in trained} == {
        ("clm_only", True, False), ("antlm", True, False)}
    assert set(_stages(sweep, tmp_path).values()) == {Stage.EVALUATING}
    # Another sweep process's claim on a run: this one leaves it and evaluates the rest, and the
    # status names the claiming process.
    claim = RunLock(sweep.run_dir(tmp_path, "antlm", 1), SWEEP_CLAIM_NAME)
    logged = (tmp_path / sweep.name / SWEEP_LOG).read_text().splitlines()
    claim.acquire()
    try:
        assert f"trained, not evaluated (pid {os.getpid()})" in render_status(sweep, tmp_path)
        capsys.readouterr()
        main(["sweep", str(SMOKE), "--root", str(tmp_path), "--data-dir", str(data_dir)])
    finally:
        claim.release()
    out = capsys.readouterr().out
    assert f"smoke: antlm seed 1 left to process {os.getpid()}, which is running it" in out
    # ... and the process that ends first shows no score of a study whose endpoint lacks a run.
    assert ("no report yet: sweep smoke declares its primary endpoint and 0 of the 1 planned "
            "seeds of antlm and clm_only are evaluated (missing: seeds 1)") in out
    assert "macro" not in out and not (tmp_path / "smoke" / "summary").exists()
    with pytest.raises(SystemExit) as refused:
        main(["report", "--sweep", str(tmp_path / "smoke")])
    assert refused.value.code == USAGE_EXIT
    assert "--interim` shows them anyway" in capsys.readouterr().err
    main(["report", "--sweep", str(tmp_path / "smoke"), "--interim", "--out",
          str(tmp_path / "interim")])
    assert "**Interim**: 0 of the 1 planned seeds" in capsys.readouterr().out
    added = (tmp_path / sweep.name / SWEEP_LOG).read_text().splitlines()[len(logged):]
    assert [json.loads(line)["arm"] for line in added] == ["clm_only"]  # antlm: nothing done
    first = run_sweep(SMOKE, tmp_path, data_dir)  # claim released: evaluated now
    assert {(o.arm, o.trained, o.evaluated) for o in first} == {
        ("clm_only", False, False), ("antlm", False, True)}
    again = run_sweep(SMOKE, tmp_path, data_dir)  # everything done: nothing is redone
    assert not any(o.trained or o.evaluated for o in again)
    assert set(_stages(sweep, tmp_path).values()) == {Stage.DONE}
    status = render_status(sweep, tmp_path)
    assert "2 of 2 runs done." in status and "macro" not in status  # progress, never a score
    # Every planned seed done: the declared seed rule speaks, from the width alone.
    assert status.endswith("Primary endpoint, seeds: with 1 seed there is no interval yet: add "
                           "seed 2 to every arm (`seeds:` in the sweep file; the rule allows up "
                           "to 2 seeds).")
    # A process still scoring a run's learning curve holds its claim: the run is not done (its
    # records are not final), but its primary endpoint is, so the seed rule still speaks.
    claim.acquire()
    try:
        assert _stages(sweep, tmp_path)["antlm", 1] is Stage.CURVE
        status = render_status(sweep, tmp_path)
        assert f"| antlm | 1 | evaluated, scoring its learning curve (pid {os.getpid()}) |  |" in status
        assert "1 of 2 runs done" in status and "Primary endpoint, seeds: with 1 seed" in status
    finally:
        claim.release()

    results = read_json(RunPaths(sweep.run_dir(tmp_path, "antlm", 1)).results)
    # the smoke sweep asks for all, under babylm2025 (pinned in smoke.yaml)
    assert set(results["zero_shot"]["babylm2025"]["scores"]) == set(BACKENDS)

    summary = collect(sweep, tmp_path)
    table = render_markdown(summary)
    assert "| antlm | `0.5_CLM+1_MLM+0.5_CLM` | 2 | 1 |" in table
    assert "(n/a)" in table  # one seed: no interval is claimed
    assert "Suite babylm2025; zero-shot: 5 pairs per subtask." in table
    headline = table.split("### Backend")[0]
    assert "| arm | schedule | seeds | macro, causal | Δ causal | macro, mlm | Δ mlm |" in headline
    assert "| clm_only | `2_CLM` | 1 |" in headline and "baseline" in headline
    dev_table = table.split("### Dev loss after the last epoch")[1].split("###")[0]
    assert "| clm_only | `2_CLM` | 1 | " in dev_table
    written = write_summary(summary, tmp_path / "out")
    assert [p.name for p in written] == [
        "smoke.json", "smoke.md", "smoke-dev-loss.png", "smoke-macro.png", "smoke-forest.png",
        "smoke-primary.png", "smoke-learning-curves.png"]
    # Learning curves: every arm's milestones and final model, scored causal on the fast sets
    # as `antlm eval RUN --checkpoints` scores them, in order of words seen.
    curve = read_json(RunPaths(sweep.run_dir(tmp_path, "antlm", 1)).learning_curve)
    assert curve["settings"]["backend"] == "causal"
    assert curve["settings"]["max_pairs_per_subtask"] == 5
    points = [p for p in learning_curves(summary) if p.arm == "antlm"]
    assert [p.revision for p in points] == ["chck_10K", "chck_20K", "main"]
    assert points[-1].mean == pytest.approx(average_accuracy(curve["points"]["main"]))
    assert "### Learning curves (backend `causal`, the first 5 pairs" in table
    assert table.index("### Primary endpoint") < table.index("### Macro-average")
    # A study's committed records on another clone have no checkpoints: the sweep goes on, and
    # the curve already scored stays.
    shutil.rmtree(RunPaths(sweep.run_dir(tmp_path, "antlm", 1)).checkpoints)
    # (and a run evaluated before sweeps copied its dev losses into results.json gets them)
    baseline = RunPaths(sweep.run_dir(tmp_path, "clm_only", 1))
    update_results(baseline, lambda results: {k: v for k, v in results.items()
                                              if k != DEV_LOSSES_KEY})
    assert not any(o.trained or o.evaluated for o in run_sweep(SMOKE, tmp_path, data_dir))
    logged = [r for r in read_metrics(baseline) if r.event in ("start", "dev")]
    # untrained, every train.dev_every check and the 2 epoch ends
    assert len(read_json(baseline.results)[DEV_LOSSES_KEY]) == len(logged) > 3
    assert read_json(RunPaths(sweep.run_dir(tmp_path, "antlm", 1)).learning_curve) == curve
    data = json.loads((tmp_path / "out" / "smoke.json").read_text())
    macro = data["table"]["antlm"]["causal"]["macro"]
    assert 0.0 <= macro["mean"] <= 1.0 and macro["n"] == 1
    # Both objectives' dev losses are recorded for every arm, and the objective an arm ended on
    # is below the untrained model's ln(vocab) ≈ 9.
    final = data["final_dev_loss"]
    assert set(final) == {"clm_only", "antlm"}
    assert all(set(arm) == {"CLM", "MLM"} for arm in final.values())
    assert 0 < final["clm_only"]["CLM"][0] < 9 and 0 < final["antlm"]["CLM"][0] < 9
    # The plotted curves (words seen, mean loss) end where the final losses are.
    assert data["dev_curves_x"] == "words_seen"
    assert data["dev_curves"]["antlm"]["CLM"][-1][1] == pytest.approx(final["antlm"]["CLM"][0])
    for png in (p for p in written if p.suffix == ".png"):
        assert png.read_bytes()[:4] == b"\x89PNG"
    # A study's committed records lack metrics.jsonl: results.json carries the dev losses (numbers
    # only, not the start record's corpus list), so the report has the same dev-loss tables.
    for arm in sweep.spec.arms:
        run = RunPaths(sweep.run_dir(tmp_path, arm, 1))
        copied = read_json(run.results)[DEV_LOSSES_KEY]
        logged = [r for r in read_metrics(run) if r.event in ("start", "dev")]
        assert [r["dev_loss_CLM"] for r in copied] == [r.dev_losses["CLM"] for r in logged]
        assert logged[0].train_corpus is not None and "train" not in copied[0]
        assert copied[0]["phases"] == logged[0].to_json()["phases"]  # they tint the plot
        run.metrics.unlink()
    assert json.loads(write_summary(collect(sweep, tmp_path), tmp_path / "clone")[0].read_text())[
        "final_dev_loss"] == final

    # A run whose evaluation has not finished (GLUE still running: no sweep mark yet) is left
    # out, rather than counted with a macro-average that lacks a part.
    paths = RunPaths(sweep.run_dir(tmp_path, "antlm", 1))
    unmarked = read_json(paths.results)
    del unmarked["sweep"]
    paths.results.write_text(json.dumps(unmarked))
    assert set(collect(sweep, tmp_path).scores) == {"clm_only"}
    assert _stages(sweep, tmp_path)["antlm", 1] is Stage.EVALUATING

    # A run with a checkpoint that nobody trains is interrupted (the sweep resumes it); while a
    # process holds its lock it is training, and the status names that process.
    state = json.loads(paths.state.read_text())
    paths.state.write_text(json.dumps({**state, "finished": False}))
    assert _stages(sweep, tmp_path)["antlm", 1] is Stage.INTERRUPTED
    lock = RunLock(paths.root)
    lock.acquire()
    try:
        assert _stages(sweep, tmp_path)["antlm", 1] is Stage.TRAINING
        assert f"training (pid {os.getpid()})" in render_status(sweep, tmp_path)
    finally:
        lock.release()

    # A checkout that kept the records of a run trained but not yet evaluated, and lost its
    # git-ignored weights and checkpoint: the status says so, and the sweep trains it again
    # (from its seed, to the same state) and evaluates it.
    paths.state.write_text(json.dumps(state))
    paths.weights.unlink()
    paths.checkpoint.unlink()
    assert _stages(sweep, tmp_path)["antlm", 1] is Stage.WEIGHTS_LOST
    assert "| antlm | 1 | trained, weights missing: the sweep trains it again |  |" in (
        render_status(sweep, tmp_path))
    redone = run_sweep(SMOKE, tmp_path, data_dir)
    assert {(o.arm, o.trained, o.evaluated) for o in redone} == {
        ("clm_only", False, False), ("antlm", True, True)}
    assert json.loads(paths.state.read_text()) == state
    assert _stages(sweep, tmp_path)["antlm", 1] is Stage.DONE


def test_several_primaries_and_secondaries_are_checked_like_one(tmp_path):
    listed = (PRIMARY.replace("primary: {", "primary: [{")
              + "}, {arm: antlm, backend: mlm, parts: [blimp_filtered]}]")
    sweep = load_sweep(_smoke_with(tmp_path, PRIMARY + ", max_seeds: 2}", listed))
    assert [p.backend for p in sweep.spec.primary] == ["causal", "mlm"]
    bad = listed.replace("backend: mlm,", "backend: pll,")
    with pytest.raises(ConfigError, match=r"primary.1.backend: .*one backend"):
        load_sweep(_smoke_with(tmp_path, PRIMARY + ", max_seeds: 2}", bad))
    for secondary, error in [
            ("{arm: antlm, baseline: mlm_only, backend: declared}",
             r"secondary.baseline='mlm_only' is not an arm"),
            ("{arm: antlm, baseline: antlm, backend: causal}",
             r"secondary.arm='antlm': one of the arms compared with the baseline: \['clm_only'\]")]:
        edited = _smoke_with(tmp_path, PRIMARY + ", max_seeds: 2}",
                             PRIMARY + f", max_seeds: 2}}\nsecondary: [{secondary}]")
        with pytest.raises(ConfigError, match=error):
            load_sweep(edited)
