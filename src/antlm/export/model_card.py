"""The model card (``README.md``) of an export: what the model is, how it was trained, how to
load each view, and the evaluation tables with their suite and declared backend, so a
published folder says by itself what its numbers mean.

Words seen are read from the run's ``state.json`` (key ``words_seen``) when the trainer
recorded them; a card never estimates them. A milestone checkpoint's card (a ``chck_*`` revision
of ``antlm export --checkpoints``) describes that revision, not the final model: its step, words
and tokens from the checkpoint's own metadata, and its scores from the run's learning curve
when ``antlm eval RUN --checkpoints`` scored it; the final model's scores stay on ``main``.
"""

from __future__ import annotations

from typing import Any

from antlm.eval.macro import zero_shot_section
from antlm.eval.report import render_suite
from antlm.eval.suites import SUITES
from antlm.eval.tables import markdown_table, pct
from antlm.models.registry import count_parameters
from antlm.rundir import (
    CURVE_FIELDS,
    Checkpoint,
    LoadedRun,
    RunDeclaration,
    read_json,
    read_results,
    read_state,
)

__all__ = ["model_card"]


def _settings(run: LoadedRun) -> list[list[str]]:
    config = run.config
    model, objective, train = config.model, config.objective, config.train
    return [
        ["architecture", f"{model.arch} ({count_parameters(run.model):,} parameters)"],
        ["shape", (f"{model.num_layers} layers, hidden {model.hidden_size}, {model.num_heads} "
                  f"heads, feed-forward {model.ffn_size}, up to {model.max_seq_len} tokens")],
        ["tokenizer", f"{config.tokenizer.kind}, {run.tokenizer.vocab_size} entries"],
        ["schedule", f"`{train.schedule}`"],
        ["MLM objective", (f"mask {objective.mlm_probability}, {objective.masking} masking, "
                          f"target {objective.mlm_target}")],
        ["optimisation", (f"{train.optimizer}, lr {train.lr:g}, batch {train.batch_size}, "
                         f"seed {train.seed}")],
        ["data", f"{', '.join(config.data.corpora)}"
                 + (f", {config.data.max_words:,} words" if config.data.max_words else "")],
    ]


def _progress(run: LoadedRun) -> list[str]:
    """Where the card's weights stand in the run: a checkpoint's own step and words, or the
    run's last recorded state."""
    state = read_state(run.paths)
    total = "" if state is None or state.total_steps is None else f" of {state.total_steps:,}"
    if run.checkpoint is not None:
        c = run.checkpoint
        return [(f"- revision: `{c.name}`, the weights saved once {c.milestone:,} words were "
                "seen (a BabyLM milestone checkpoint; the final model is on `main`)"),
                f"- steps: {c.step:,}{total}",
                f"- words seen: {c.words_seen:,} ({c.tokens_seen:,} tokens)"]
    words = None if state is None else state.words_seen
    steps = ("- steps: not recorded (the run has no state.json)" if state is None else
             f"- steps: {state.step}{total}"
             + (" (finished)" if state.finished else " (not finished)"))
    return [
        steps,
        f"- words seen: {words:,}" if words is not None
        else "- words seen: not recorded (the run's state.json has no `words_seen`)",
    ]


def _training(run: LoadedRun) -> list[str]:
    declared = RunDeclaration.of(run.config)
    return [
        *_progress(run),
        (f"- schedule as trained: `{run.config.train.nominal_plan().canonical()}` (as written: "
        f"`{run.config.train.schedule}`)"),
        f"- declared zero-shot backend: `{declared.backend}` ({declared.backend_reason})",
    ]


def _load_hint(arch: str) -> str:
    trust = "" if arch == "babyllama" else ", trust_remote_code=True"
    return "\n".join([
        "```python",
        "from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer",
        f'tokenizer = AutoTokenizer.from_pretrained("PATH"{trust})',
        f'causal = AutoModelForCausalLM.from_pretrained("PATH"{trust})  # causal attention',
        ('masked = AutoModelForMaskedLM.from_pretrained("PATH", trust_remote_code=True)'
        "  # bidirectional"),
        "```",
    ])


def _evaluation(results: dict[str, Any]) -> list[str]:
    suites = [s for s in SUITES.values() if zero_shot_section(results, s)]
    if not suites:
        return ["Not evaluated when exported: run `antlm eval` on the run or on this folder."]
    return [render_suite(results, suite) for suite in suites]


def _revision_evaluation(run: LoadedRun, checkpoint: Checkpoint) -> list[str]:
    """A checkpoint's scores: its point of the run's learning curve, when one was scored."""
    curve = read_json(run.paths.learning_curve, CURVE_FIELDS)
    point = curve.get("points", {}).get(checkpoint.name)
    if not isinstance(point, dict) or not isinstance(point.get("scores"), dict):
        return [(f"`{checkpoint.name}` was not evaluated when exported: `antlm eval RUN "
                "--checkpoints` scores every revision, then export again. The final model's "
                "scores are on `main`.")]
    settings = curve.get("settings", {})
    pairs = point.get("pairs", {})
    rows = [[task, pct(score), f"{pairs[task]:,}" if task in pairs else "?"]
            for task, score in point["scores"].items()]
    return [(f"Fast sets of `{checkpoint.name}` (suite {settings.get('suite', '?')}, backend "
            f"`{settings.get('backend', '?')}`; from the run's learning curve). The final "
            "model's full evaluation is on `main`."), "",
            markdown_table(["task", "accuracy (%)", "pairs"], rows)]


def model_card(run: LoadedRun) -> str:
    """The README.md of ``run``'s export (see the module docstring)."""
    name = run.run_dir.name
    title = name if run.checkpoint is None else f"{name}, revision {run.checkpoint.name}"
    lines = [
        "---", "library_name: transformers", "tags: [babylm, antlm]", "---", "",
        f"# {title}", "",
        (f"A {run.config.model.arch} language model trained with antlm under the schedule "
         f"`{run.config.train.schedule}` (CLM: causal, MLM: masked language modelling). Its "
         "causal and bidirectional attention views load through the Auto classes:"), "",
        _load_hint(run.config.model.arch), "",
        "## Configuration", "",
        markdown_table(["setting", "value"], _settings(run)), "",
        "The full resolved config is `antlm_config.yaml`.", "",
        "## Training", "", *_training(run), "",
        "## Evaluation", "",
        "Scores in %. Conventions of each suite: antlm's docs/EVALUATION.md.", "",
    ]
    evaluation = (_evaluation(read_results(run.paths)) if run.checkpoint is None
                  else _revision_evaluation(run, run.checkpoint))
    lines += "\n\n".join(evaluation).splitlines()
    return "\n".join(lines) + "\n"
