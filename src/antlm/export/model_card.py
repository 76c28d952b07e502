"""The model card (``README.md``) of an export: what the model is, how it was trained, how to
load each view, and the evaluation tables with their suite and declared backend, so a
published folder says by itself what its numbers mean.

Words seen are read from the run's ``state.json`` (key ``words_seen``) when the trainer
recorded them; a card never estimates them.
"""

from __future__ import annotations

from typing import Any

from antlm.eval.macro import zero_shot_section
from antlm.eval.report import render_suite
from antlm.eval.suites import SUITES
from antlm.eval.tables import markdown_table
from antlm.models.registry import count_parameters
from antlm.rundir import LoadedRun, RunDeclaration, read_results, read_state

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


def _training(run: LoadedRun) -> list[str]:
    state = read_state(run.paths)
    declared = RunDeclaration.of(run.config)
    words = None if state is None else state.words_seen
    steps = ("- steps: not recorded (the run has no state.json)" if state is None else
             f"- steps: {state.step} of {state.total_steps}"
             + (" (finished)" if state.finished else " (not finished)"))
    return [
        steps,
        f"- words seen: {words:,}" if words is not None
        else "- words seen: not recorded (the run's state.json has no `words_seen`)",
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


def model_card(run: LoadedRun) -> str:
    """The README.md of ``run``'s export (see the module docstring)."""
    name = run.run_dir.name
    lines = [
        "---", "library_name: transformers", "tags: [babylm, antlm]", "---", "",
        f"# {name}", "",
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
    lines += "\n\n".join(_evaluation(read_results(run.paths))).splitlines()
    return "\n".join(lines) + "\n"
