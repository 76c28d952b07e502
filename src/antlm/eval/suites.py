"""Evaluation suites: every convention of one official BabyLM pipeline, written down as data.

A number is only comparable with another computed under the same conventions: how a tie
between candidates is broken, which special tokens frame a sentence, what stands in for a
missing context, whether token log-probabilities are summed or averaged, which tasks the
pipeline runs (full and fast), which GLUE tasks enter the average and by which metric, and
how the parts are aggregated. A :class:`Suite` fixes all of them, every table and aggregate
names its suite, and ``docs/EVALUATION.md`` gives the source file of each convention. The
pipelines' code is read, never copied:

* ``babylm2026`` (the default): babylm-org/babylm-eval, folder ``strict/`` (commit 45fe2c1):
  ``README.md``, ``scripts/eval_zero_shot.sh``, ``scripts/eval_zero_shot_fast.sh``,
  ``scripts/eval_finetuning.sh``, ``evaluation_pipeline/calculate_results_from_pred.py`` (what
  the scorer prints: one score per task, no average; GLUE as the mean *accuracy* of its
  subtasks) and ``evaluation_pipeline/collate_preds.py`` (set sizes); the tie rule from the
  newest 2026 state, the fork serdardoesml/babylm-eval (commit c9e7b70),
  ``strict/evaluation_pipeline/sentence_zero_shot/compute_results.py`` (``rank_and_evaluate``:
  NaN scores become -inf, and a tie among the best candidates is broken by
  ``torch.randint`` over the tied indices, item by item);
* ``babylm2025``: babylm/evaluation-pipeline-2025 (commit bf55c11):
  ``evaluation_pipeline/sentence_zero_shot/{read_files,dataset,compute_results,run}.py``,
  ``eval_zero_shot.sh``, ``eval_zero_shot_fast.sh`` and ``eval_finetuning.sh``; its leaderboard
  aggregate is the mean of a "human-likeness" average and an "NLP" average (see
  :data:`BABYLM_2025` for the grouping and docs/EVALUATION.md for its source);
* ``babylm2024``: babylm/evaluation-pipeline-2024 (commit d680c28), a fork of EleutherAI's
  lm-evaluation-harness: ``lm_eval/api/model.py`` (``loglikelihood``, ``_encode_pair``),
  ``lm_eval/api/task.py`` (multiple choice: requests and ``np.argmax``),
  ``lm_eval/models/huggingface.py`` (``prefix_token_id``; ``AutoMaskedLM.loglikelihood``, which
  scores with minicons' ``MaskedLMScorer.conditional_score``), the task YAMLs under
  ``lm_eval/tasks/{blimp_filtered,blimp_supplement,ewok_filtered}/`` and ``finetune_model.sh``.

A suite lists tasks by name whether or not antlm implements them yet (reading, WUGs, AoA):
a table shows such a part as missing with the reason, never drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from antlm.config import ConfigError
from antlm.eval.settings import DEFAULT_TIE_SEED

__all__ = [
    "DEFAULT_SUITE",
    "DEFAULT_TIE_SEED",
    "SUITES",
    "FinetuneRecipe",
    "Framing",
    "Suite",
    "get_suite",
]



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
class FinetuneRecipe:
    """The GLUE fine-tuning hyperparameters of a pipeline's script, as data (shown in the docs
    and beside GLUE tables; ``antlm finetune`` takes its own defaults from
    :class:`antlm.config.FinetuneConfig`)."""

    lr: float
    batch_size: int
    large_batch_size: int  # for the tasks with long inputs
    large_batch_tasks: tuple[str, ...]
    epochs: int
    wsc_epochs: int
    seed: int
    max_length: int
    source: str


# How a suite turns its parts into one number: "mean" of the parts; "mean_of_groups", the mean
# of each group's mean; "none", no aggregate at all (the pipeline's scorer prints the parts).
Aggregate = Literal["mean", "mean_of_groups", "none"]


@dataclass(frozen=True)
class Suite:
    """The conventions of one official pipeline; see the module docstring for the sources."""

    name: str
    pipeline: str  # repository and commit the conventions were read from
    causal: Framing  # the causal backend
    masked: Framing  # mlm, mntp and mlm_word_l2r (fused = causal + mntp, each as framed)
    # "first": the first maximum wins (argmax), so a tie with the right candidate counts as
    # correct; "random": a tie among the best candidates is drawn at random, seeded.
    tie_rule: Literal["first", "random"]
    full_tasks: tuple[str, ...]  # what the pipeline runs on a final model (besides GLUE)
    fast_tasks: tuple[str, ...]  # what it runs on every intermediate checkpoint
    parts: tuple[str, ...]  # the scores the aggregate (or the scorer's printout) is made of
    aggregate: Aggregate
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, parts) for mean_of_groups
    glue: tuple[str, ...] = ()  # GLUE subtasks in the GLUE part (mnli-mm: the MNLI model)
    # "task": each subtask's own metric (F1 for MRPC and QQP, MCC for CoLA); "accuracy":
    # accuracy for every subtask, as the 2026 scorer counts pred == label.
    glue_metric: Literal["task", "accuracy"] = "task"
    finetune: FinetuneRecipe | None = None
    aggregate_note: str = ""  # where the aggregate (or its absence) comes from

    @property
    def zero_shot_parts(self) -> tuple[str, ...]:
        """The parts that are not GLUE (zero-shot tasks and the human-likeness measures)."""
        return tuple(p for p in self.parts if p != "glue")

    def framing_for(self, primitive: str) -> Framing:
        return self.causal if primitive == "causal" else self.masked

    def chosen(self, scores: np.ndarray, seed: int = DEFAULT_TIE_SEED) -> np.ndarray:
        """Per item, the index of the candidate the pipeline picks from ``[N, k]`` scores (the
        right candidate first). ``"first"``: the first maximum (``torch.max`` and ``np.argmax``
        alike). ``"random"``: see :func:`random_tie_choice`; ``seed`` makes it reproducible."""
        if self.tie_rule == "random":
            return random_tie_choice(scores, seed)
        return scores.argmax(axis=1)

    def correct(self, scores: np.ndarray, seed: int = DEFAULT_TIE_SEED) -> np.ndarray:
        """Per item, whether the right candidate (column 0) is the one the pipeline picks:
        ``[N, 2]`` is (good, bad) for a minimal pair. Under ``"first"`` an argmax that keeps
        the first maximum picks candidate 0 exactly when no other candidate scores higher."""
        if self.tie_rule == "random":
            return random_tie_choice(scores, seed) == 0
        return scores[:, 0] >= scores[:, 1:].max(axis=1)

    def tie_seed(self, seed: int = DEFAULT_TIE_SEED) -> int | None:
        """The seed to record in results.json's meta: None when ties are not drawn."""
        return seed if self.tie_rule == "random" else None


def random_tie_choice(scores: np.ndarray, seed: int) -> np.ndarray:
    """The 2026 rule (serdardoesml/babylm-eval, ``compute_results.py``, ``rank_and_evaluate``):
    NaN scores count as -inf; an item whose best score is held by one candidate picks it; an
    item whose best score is shared draws one of the tied candidates uniformly, with one
    ``torch.randint(len(tied), (1,))`` per such item, in item order. The pipeline draws from
    torch's global generator, unseeded; here the draws come from a generator seeded with
    ``seed`` for each call (one task under one backend), so a score can be recomputed."""
    clean = torch.from_numpy(np.where(np.isnan(scores), -np.inf, scores).astype(np.float64))
    best = clean.max(dim=1).values
    tied = clean == best[:, None]
    picked = tied.to(torch.int8).argmax(dim=1)  # the only maximum, where there is one
    generator = torch.Generator().manual_seed(seed)
    for item in torch.nonzero(tied.sum(dim=1) > 1).flatten().tolist():
        indices = torch.nonzero(tied[item]).flatten()
        picked[item] = indices[torch.randint(len(indices), (1,), generator=generator)]
    return picked.numpy()


_TOKENIZER_SUM = Framing("tokenizer", "none", " ", "", "sum")

# The 2025 and 2026 pipelines share their scripts' task lists (eval_zero_shot.sh,
# eval_zero_shot_fast.sh), their zero-shot framing (sentence_zero_shot/dataset.py is the same
# file) and their fine-tuning script's defaults (eval_finetuning.sh). The reading task prints
# two scores (self-paced reading and eye tracking), so it is two parts.
_FULL_2025 = ("blimp_filtered", "blimp_supplement", "ewok", "entity_tracking", "wug_adj",
              "wug_past", "comps", "reading", "aoa")
_FAST_2025 = ("blimp_fast", "supplement_fast", "ewok_fast", "wug_adj", "wug_past",
              "entity_tracking_fast", "reading")
_GLUE_2025 = ("boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc")
_RECIPE_2025 = FinetuneRecipe(
    lr=3e-5, batch_size=32, large_batch_size=16, large_batch_tasks=("boolq", "multirc"),
    epochs=10, wsc_epochs=30, seed=42, max_length=512, source="eval_finetuning.sh")
_NLP = ("blimp_filtered", "blimp_supplement", "ewok", "entity_tracking", "comps", "glue")
_HUMAN_LIKENESS = ("reading_et", "reading_spr", "wug_adj", "wug_past", "aoa")

BABYLM_2026 = Suite(
    name="babylm2026",
    pipeline="babylm-org/babylm-eval@45fe2c1 (strict/); ties: serdardoesml/babylm-eval@c9e7b70",
    causal=_TOKENIZER_SUM,
    masked=_TOKENIZER_SUM,
    tie_rule="random",
    full_tasks=_FULL_2025,
    fast_tasks=_FAST_2025,
    # calculate_results_from_pred.py prints, for a full evaluation, in this order:
    parts=("blimp_filtered", "blimp_supplement", "ewok", "entity_tracking", "wug_adj",
           "wug_past", "comps", "reading_spr", "reading_et", "glue", "aoa"),
    aggregate="none",
    glue=_GLUE_2025,
    glue_metric="accuracy",
    finetune=_RECIPE_2025,
    aggregate_note="the 2026 scorer (strict/evaluation_pipeline/calculate_results_from_pred.py) "
                   "prints each part's score and no average",
)

BABYLM_2025 = Suite(
    name="babylm2025",
    pipeline="babylm/evaluation-pipeline-2025@bf55c11",
    causal=_TOKENIZER_SUM,
    masked=_TOKENIZER_SUM,
    # torch.max in compute_results.py returns the first maximum, and the good sentence is
    # candidate 0: a tie counts as correct.
    tie_rule="first",
    full_tasks=_FULL_2025,
    fast_tasks=_FAST_2025,
    parts=(*_NLP, *(p for p in _HUMAN_LIKENESS if p not in _NLP)),
    aggregate="mean_of_groups",
    groups=(("NLP", _NLP), ("human-likeness", _HUMAN_LIKENESS)),
    glue=_GLUE_2025,
    finetune=_RECIPE_2025,
    aggregate_note="the 2025 leaderboard: the mean of the NLP average and the human-likeness "
                   "average",
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
    tie_rule="first",  # np.argmax in lm_eval/api/task.py keeps the first maximum
    full_tasks=("blimp_filtered", "blimp_supplement", "ewok"),
    fast_tasks=("blimp_filtered", "blimp_supplement", "ewok"),
    parts=("blimp_filtered", "blimp_supplement", "ewok", "glue"),
    aggregate="mean",
    glue=("boolq", "cola", "mnli", "mnli-mm", "mrpc", "multirc", "qnli", "qqp", "rte", "sst2",
          "wsc"),
    finetune=FinetuneRecipe(
        lr=5e-5, batch_size=64, large_batch_size=64, large_batch_tasks=(), epochs=10,
        wsc_epochs=10, seed=12, max_length=128, source="finetune_model.sh"),
    aggregate_note="the 2024 README: the unweighted mean of the task scores",
)

SUITES: dict[str, Suite] = {s.name: s for s in (BABYLM_2026, BABYLM_2025, BABYLM_2024)}
DEFAULT_SUITE = BABYLM_2026.name


def get_suite(name: str | None = None) -> Suite:
    """The suite called ``name``; the default one for None."""
    name = DEFAULT_SUITE if name is None else name
    if name not in SUITES:
        raise ConfigError(f"unknown suite {name!r}; allowed: {', '.join(SUITES)}")
    return SUITES[name]
