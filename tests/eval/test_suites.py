"""The suites as data: the 2026 random tie rule against the official procedure computed
independently, the 2025 first-maximum rule, and what each suite lists (tasks, parts, groups,
GLUE, recipe) against the pipelines' scripts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from antlm.config import ConfigError
from antlm.eval.suites import DEFAULT_SUITE, DEFAULT_TIE_SEED, SUITES, get_suite

BABYLM_2026, BABYLM_2025, BABYLM_2024 = (SUITES[n] for n in ("babylm2026", "babylm2025",
                                                              "babylm2024"))

# Hand-made scores, the right candidate first: ties of every kind.
SCORES = np.array([
    [-1.0, -2.0, -3.0],          # 0 wins alone
    [-2.0, -1.0, -3.0],          # 1 wins alone
    [-1.0, -1.0, -5.0],          # tie 0/1
    [-4.0, -2.0, -2.0],          # tie 1/2 (the right one is not among them)
    [-3.0, -3.0, -3.0],          # all tied
    [np.nan, -2.0, -2.0],        # NaN counts as -inf: tie 1/2
    [np.nan, np.nan, np.nan],    # all NaN: all tied at -inf
    [-0.5, np.nan, -7.0],        # NaN loses: 0 wins alone
])


def _official_2026(scores: np.ndarray, seed: int) -> list[int]:
    """The 2026 rule as serdardoesml/babylm-eval's compute_results.py applies it, written
    out here on its own: NaN -> -inf, the maximum, and for an item with several maxima one
    torch.randint over the tied indices from torch's global generator (seeded here, as the
    pipeline's process would be by torch.manual_seed)."""
    torch.manual_seed(seed)
    picks = []
    for row in scores.tolist():
        clean = [float("-inf") if math.isnan(v) else v for v in row]
        best = max(clean)
        tied = [i for i, v in enumerate(clean) if v == best]
        picks.append(tied[int(torch.randint(len(tied), (1,)))] if len(tied) > 1 else tied[0])
    return picks


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_the_2026_tie_rule_draws_as_the_official_code_does(seed: int) -> None:
    chosen = BABYLM_2026.chosen(SCORES, seed)
    assert chosen.tolist() == _official_2026(SCORES, seed)
    assert BABYLM_2026.correct(SCORES, seed).tolist() == (chosen == 0).tolist()
    # the rows without a tie are the same whatever the seed
    assert chosen[[0, 1, 7]].tolist() == [0, 1, 0]
    assert chosen[3] in (1, 2) and chosen[5] in (1, 2)
    assert not BABYLM_2026.correct(SCORES, seed)[[1, 3, 5]].any()


def test_the_2026_tie_rule_is_reproducible_and_not_first_maximum() -> None:
    ties = np.zeros((400, 2))  # every item a tie between the good and the bad text
    first = BABYLM_2026.correct(ties, DEFAULT_TIE_SEED)
    assert (BABYLM_2026.correct(ties, DEFAULT_TIE_SEED) == first).all()  # same seed, same draws
    assert not (BABYLM_2026.correct(ties, 1) == first).all()  # another seed, other draws
    assert 150 < first.sum() < 250  # about half the ties go to the good text
    assert BABYLM_2025.correct(ties).all()  # 2025: a tie counts as correct
    assert BABYLM_2026.tie_seed(5) == 5 and BABYLM_2025.tie_seed(5) is None


def test_the_2025_and_2024_rules_keep_the_first_maximum() -> None:
    for suite in (BABYLM_2025, BABYLM_2024):
        assert suite.chosen(SCORES[:5]).tolist() == [0, 1, 0, 1, 0]
        assert suite.correct(SCORES[:5]).tolist() == [True, False, True, False, True]


def test_2026_is_the_default_and_2025_stays_as_pinned() -> None:
    assert DEFAULT_SUITE == "babylm2026" and get_suite() is BABYLM_2026
    assert get_suite("babylm2025") is BABYLM_2025
    with pytest.raises(ConfigError, match="unknown suite 'babylm2027'; allowed: babylm2026, "
                                          "babylm2025, babylm2024"):
        get_suite("babylm2027")


def test_the_suites_list_what_the_pipelines_scripts_run() -> None:
    # strict/scripts/eval_zero_shot.sh and eval_zero_shot_fast.sh (2026); the 2025 scripts
    # list the same tasks
    for suite in (BABYLM_2026, BABYLM_2025):
        assert suite.full_tasks == ("blimp_filtered", "blimp_supplement", "ewok",
                                    "entity_tracking", "wug_adj", "wug_past", "comps",
                                    "reading", "aoa")
        assert set(suite.fast_tasks) == {"blimp_fast", "supplement_fast", "ewok_fast",
                                         "entity_tracking_fast", "wug_adj", "wug_past",
                                         "reading"}
        assert suite.glue == ("boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc")
        assert suite.finetune is not None
        assert (suite.finetune.lr, suite.finetune.batch_size, suite.finetune.epochs,
                suite.finetune.wsc_epochs, suite.finetune.seed) == (3e-5, 32, 10, 30, 42)
    assert BABYLM_2026.causal == BABYLM_2025.causal  # sentence_zero_shot/dataset.py: one file
    # what calculate_results_from_pred.py prints; GLUE as accuracy; no average
    assert BABYLM_2026.aggregate == "none" and BABYLM_2026.glue_metric == "accuracy"
    assert "comps" in BABYLM_2026.parts and "reading_et" in BABYLM_2026.parts
    # 2025: every part in exactly one of its two groups
    groups = dict(BABYLM_2025.groups)
    assert set(groups) == {"NLP", "human-likeness"}
    assert sorted(groups["NLP"] + groups["human-likeness"]) == sorted(BABYLM_2025.parts)
    assert "glue" in groups["NLP"] and "aoa" in groups["human-likeness"]
