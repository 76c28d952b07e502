"""The typed records of a run (antlm.rundir): what a run declares, its state and its log, and
that the records written before them (a study's committed ones included) still read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from antlm.config import RunConfig
from antlm.eval.finetune import default_attention
from antlm.eval.scoring import BACKEND_VIEWS, auto_backends, declare_backend
from antlm.rundir import (
    MetricRecord,
    PhaseSpan,
    RunDeclaration,
    RunPaths,
    RunState,
    append_metric,
    dev_loss_records,
    read_metrics,
    read_phases,
    read_state,
    truncate_metrics,
    write_state,
)

STUDIES = Path(__file__).parent.parent / "studies"


def _config(schedule: str, target: str = "same") -> RunConfig:
    return RunConfig.model_validate({"train": {"schedule": schedule},
                                     "objective": {"mlm_target": target}})


@pytest.mark.parametrize("target", ["same", "shifted"])
@pytest.mark.parametrize("schedule", [
    "24_MIX(clm=1,mlm=15)",  # the schedule language's own example
    "2_MIX(clm=3,mlm=1)", "1_MIX(clm=1,mlm=1)", "4_CLM+16_MLM", "2_MLM+2_CLM",
    "4_CLM+16_MLM+4_MIX(clm=1,mlm=3)", "2_CLM+2_MIX(clm=1,mlm=0)",
])
def test_zero_shot_backend_and_finetuning_attention_follow_one_rule(schedule: str,
                                                                     target: str) -> None:
    """The headline backend reads the model under the attention it is fine-tuned with: both
    come from the objective of most of the final phase's sequences."""
    config = _config(schedule, target)
    declared = RunDeclaration.of(config)
    assert BACKEND_VIEWS[declared.backend] == {declared.finetune_attention}
    # eval's scoring and fine-tuning read the declaration, not rules of their own
    assert declare_backend(config) == (declared.backend, declared.backend_reason)
    assert default_attention(config) == declared.finetune_attention
    assert auto_backends(config) == list(declared.auto_backends)


def test_a_mostly_masked_mix_is_scored_and_finetuned_bidirectionally() -> None:
    declared = RunDeclaration.of(_config("24_MIX(clm=1,mlm=15)"))
    assert (declared.final_objective, declared.backend, declared.finetune_attention) == (
        "MLM", "mlm", "bidirectional")
    assert declared.objectives == ("CLM", "MLM")
    assert RunDeclaration.of(_config("2_CLM+2_MIX(clm=1,mlm=0)")).objectives == ("CLM",)


def test_eval_backend_overrides_the_zero_shot_half_alone() -> None:
    config = RunConfig.model_validate({"train": {"schedule": "1_CLM+3_MLM"},
                                       "eval": {"backend": "causal"}})
    declared = RunDeclaration.of(config)
    assert (declared.backend, declared.finetune_attention) == ("causal", "bidirectional")
    assert "eval.backend" in declared.backend_reason


def test_a_metric_record_keeps_the_flat_json_of_the_log(tmp_path: Path) -> None:
    """The log's lines are flat JSON objects (``dev_loss_CLM``, ``loss_MLM``, ``train``: the
    corpus), as every run written before the typed records has them."""
    paths = RunPaths(tmp_path)
    phases = (PhaseSpan(1, "CLM", 0, 10, 0, 500, epochs=1.0),
              PhaseSpan(2, "MLM", 10, 20, 500, 480, epochs=1.0))
    written = [
        MetricRecord("start", 0, 0.0, 0, 0, dev_losses={"CLM": 9.0, "MLM": 9.1},
                     train_corpus="2 documents, 980 words", phases=phases, world_size=1),
        MetricRecord("train", 5, 0.5, 250, 320, phase=1, objective="CLM", lr=1e-3,
                     tokens_per_s=100.0, losses={"CLM": 6.5}),
        MetricRecord("dev", 10, 1.0, 500, 640, phase=1, objective="CLM", elapsed_s=2.0,
                     dev_losses={"CLM": 5.0, "MLM": 7.0}),
        MetricRecord("checkpoint", 12, 1.2, 600, 768, milestone=600, name="chck_600"),
    ]
    for record in written:
        append_metric(paths, record)
    raw = [json.loads(line) for line in paths.metrics.read_text().splitlines()]
    assert raw[0]["dev_loss_CLM"] == 9.0 and raw[0]["train"] == "2 documents, 980 words"
    assert raw[1]["loss_CLM"] == 6.5 and "phases" not in raw[1] and "milestone" not in raw[1]
    assert raw[0]["phases"][1] == {"phase": 2, "objective": "MLM", "start_step": 10,
                                   "end_step": 20, "start_words": 500, "words": 480,
                                   "epochs": 1.0}
    assert read_metrics(paths) == written
    assert read_phases(paths) == phases and phases[1].end_words == 980
    truncate_metrics(paths, 10)  # a resume from step 10 drops what came after it
    assert read_metrics(paths) == written[:3]


def test_records_written_before_a_field_existed_read_with_it_none(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    paths.metrics.write_text('{"event": "dev", "step": 4, "epoch": 1.0, "dev_loss_CLM": 5.5, '
                             '"a_key_of_a_later_version": 1}\n')
    (record,) = read_metrics(paths)
    assert (record.words_seen, record.dev_losses, record.phases) == (None, {"CLM": 5.5}, ())
    paths.state.write_text('{"step": 4, "epoch": 1.0, "finished": false}')
    assert read_state(paths) == RunState(step=4, epoch=1.0)


def test_the_state_round_trips(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    assert read_state(paths) is None
    state = RunState(step=7, epoch=0.5, words_seen=100, tokens_seen=140, total_steps=14,
                     total_words_seen=200, finished=False)
    write_state(paths, state)
    assert read_state(paths) == state
    assert json.loads(paths.state.read_text())["words_seen"] == 100


@pytest.mark.parametrize("run", sorted(p.parent for p in STUDIES.glob("*/*/seed*/state.json")),
                         ids=lambda p: str(p.relative_to(STUDIES)))
def test_the_committed_study_records_read(run: Path) -> None:
    """A study's committed records (config, state, results with the dev losses' copy) read
    through the typed contract: state, dev losses with words seen, and the phases."""
    paths = RunPaths(run)
    state = read_state(paths)
    assert state is not None and state.step > 0 and state.words_seen is not None
    records = dev_loss_records(paths)
    if records:  # an unevaluated run has not copied them yet
        assert records[0].event == "start" and records[0].phases
        assert all(r.words_seen is not None and set(r.dev_losses) == {"CLM", "MLM"}
                   for r in records)
        assert read_phases(paths) == records[0].phases
