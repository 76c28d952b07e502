"""The challenge's limits on a strict or strict-small submission: corpus words, 10 epochs,
words seen, and the workshop-only exemption."""

from __future__ import annotations

import pytest

from antlm.errors import AntlmError
from antlm.rules import MAX_EPOCHS, TRACKS, RuleError, check_submission_rules


def test_the_tracks_budgets() -> None:
    assert MAX_EPOCHS == 10
    assert TRACKS["strict"].max_words_seen == 1_000_000_000
    assert TRACKS["strict-small"].max_words_seen == 100_000_000


def test_runs_within_the_rules_pass() -> None:
    check_submission_rules("strict-small", corpus_words=10_000_000, words_seen=100_000_000,
                           epochs=10)
    check_submission_rules("strict", corpus_words=98_000_000, words_seen=490_000_000,
                           epochs=5)
    # 10 epochs of a smaller corpus are within both limits
    check_submission_rules("strict-small", corpus_words=380_000, words_seen=3_800_000,
                           epochs=10)


def test_every_broken_limit_is_named_with_the_runs_figure() -> None:
    with pytest.raises(RuleError) as info:
        check_submission_rules("strict-small", corpus_words=12_000_000,
                               words_seen=144_000_000, epochs=12)
    message = str(info.value)
    assert isinstance(info.value, AntlmError)
    assert "breaks the BabyLM strict-small rules" in message
    assert "its corpus has 12,000,000 words, more than the 10,000,000 allowed" in message
    assert "it ran 12 epochs, more than 10" in message
    assert "it saw 144,000,000 words, more than the 100,000,000" in message
    assert "--workshop-only" in message
    # more than 10 epochs of a small corpus break the epoch rule alone
    with pytest.raises(RuleError, match=r"rules: it ran 24 epochs, more than 10\. "):
        check_submission_rules("strict", corpus_words=1_000_000, words_seen=24_000_000,
                               epochs=24)


def test_a_workshop_only_run_is_exempt_and_tracks_are_checked() -> None:
    check_submission_rules("strict-small", corpus_words=12_000_000, words_seen=288_000_000,
                           epochs=24, workshop_only=True)
    with pytest.raises(RuleError, match="unknown track 'loose'; allowed: strict, strict-small"):
        check_submission_rules("loose", corpus_words=1, words_seen=1, epochs=1)
