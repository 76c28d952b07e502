"""Evaluation suites: every convention of one official BabyLM pipeline, written down as data.

A number is only comparable with another computed under the same conventions: whether a tie
counts as correct, which special tokens frame a sentence, what stands in for a missing
context, whether token log-probabilities are summed or averaged, which GLUE tasks enter the
average. A :class:`Suite` fixes all of them, every table and macro-average names its suite, and
``docs/EVALUATION.md`` gives the source file of each convention. The pipelines' code is read,
never copied:

* ``babylm2025``: babylm/evaluation-pipeline-2025 (commit bf55c11):
  ``evaluation_pipeline/sentence_zero_shot/{read_files,dataset,compute_results,run}.py`` and
  ``eval_finetuning.sh``;
* ``babylm2024``: babylm/evaluation-pipeline-2024 (commit d680c28), a fork of EleutherAI's
  lm-evaluation-harness: ``lm_eval/api/model.py`` (``loglikelihood``, ``_encode_pair``),
  ``lm_eval/api/task.py`` (multiple choice: requests and ``np.argmax``),
  ``lm_eval/models/huggingface.py`` (``prefix_token_id``; ``AutoMaskedLM.loglikelihood``, which
  scores with minicons' ``MaskedLMScorer.conditional_score``), the task YAMLs under
  ``lm_eval/tasks/{blimp_filtered,blimp_supplement,ewok_filtered}/`` and ``finetune_model.sh``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from antlm.config import ConfigError

__all__ = ["DEFAULT_SUITE", "SUITES", "Framing", "Suite", "get_suite"]


@dataclass(frozen=True)
class Framing:
    """How a ``(context, target)`` text becomes the token ids one backend family scores.

    ``special_tokens``: ``"tokenizer"`` wraps the whole text in the tokenizer's own special
    tokens (``<s> ...`` or ``[CLS] ... [SEP]``); ``"prefix_token"`` adds none, except one
    prefix token (BOS, else EOS, else PAD) in front of a target that has no context, as
    lm-evaluation-harness does. ``empty_context``: ``"eos"`` puts the EOS token where a context
    is missing (the 2024 masked-LM path). ``separator`` joins context and target;
    ``lead_without_context`` is what precedes a target that has neither context nor stand-in.
    ``reduction`` turns the target's token log-probabilities into one score.
    """

    special_tokens: Literal["tokenizer", "prefix_token"]
    empty_context: Literal["none", "eos"]
    separator: str
    lead_without_context: str
    reduction: Literal["sum", "mean"]


@dataclass(frozen=True)
class Suite:
    """The conventions of one official pipeline; see the module docstring for the sources."""

    name: str
    pipeline: str  # repository and commit the conventions were read from
    causal: Framing  # the causal backend
    masked: Framing  # mlm, mntp and mlm_word_l2r (fused = causal + mntp, each as framed)
    ties_count_as_correct: bool  # a pair whose two scores are equal
    zero_shot_parts: tuple[str, ...]  # zero-shot tasks in the macro-average
    glue: tuple[str, ...]  # GLUE subtasks in the macro-average (mnli-mm: the MNLI model)

    def framing_for(self, primitive: str) -> Framing:
        return self.causal if primitive == "causal" else self.masked

    def correct(self, scores: np.ndarray) -> np.ndarray:
        """Per item, whether the good text won: ``scores`` is ``[N, k]``, the good candidate's
        score first (``[N, 2]``: good, bad, for a minimal pair). An argmax that keeps the first
        maximum picks candidate 0 exactly when no other candidate scores higher."""
        good, best_other = scores[:, 0], scores[:, 1:].max(axis=1)
        return good >= best_other if self.ties_count_as_correct else good > best_other

    def chosen(self, scores: np.ndarray) -> np.ndarray:
        """Per item, the index of the candidate the pipeline picks from ``[N, k]`` scores: the
        first maximum (``torch.max`` and ``np.argmax`` alike), as :meth:`correct` counts it."""
        return scores.argmax(axis=1)


_TOKENIZER_SUM = Framing("tokenizer", "none", " ", "", "sum")
_ZERO_SHOT = ("blimp_filtered", "blimp_supplement", "ewok")

# Both pipelines rank the candidates with an argmax that returns the first maximum
# (torch.max in compute_results.py; np.argmax in lm_eval/api/task.py), and the good sentence
# is candidate 0: a tie counts as correct.
BABYLM_2025 = Suite(
    name="babylm2025",
    pipeline="babylm/evaluation-pipeline-2025@bf55c11",
    causal=_TOKENIZER_SUM,
    masked=_TOKENIZER_SUM,
    ties_count_as_correct=True,
    zero_shot_parts=_ZERO_SHOT,
    glue=("boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc"),
)

BABYLM_2024 = Suite(
    name="babylm2024",
    pipeline="babylm/evaluation-pipeline-2024@d680c28",
    # lm-eval: continuation = " " + choice; an empty context becomes [prefix_token_id]; a
    # non-empty one is encoded bare (no BOS); log-likelihoods are summed.
    causal=Framing("prefix_token", "none", " ", " ", "sum"),
    # hf-mlm: an empty context becomes the EOS token's text, minicons joins prefix and
    # continuation with a further " " (so two spaces), frames with the tokenizer's special
    # tokens and, by its default reduction, averages the token log-probabilities.
    masked=Framing("tokenizer", "eos", "  ", "  ", "mean"),
    ties_count_as_correct=True,
    zero_shot_parts=_ZERO_SHOT,
    glue=("boolq", "cola", "mnli", "mnli-mm", "mrpc", "multirc", "qnli", "qqp", "rte", "sst2",
          "wsc"),
)

SUITES: dict[str, Suite] = {suite.name: suite for suite in (BABYLM_2025, BABYLM_2024)}
DEFAULT_SUITE = BABYLM_2025.name


def get_suite(name: str | None = None) -> Suite:
    """The suite called ``name``; the default one for None."""
    name = DEFAULT_SUITE if name is None else name
    if name not in SUITES:
        raise ConfigError(f"unknown suite {name!r}; allowed: {', '.join(SUITES)}")
    return SUITES[name]
