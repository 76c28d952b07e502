"""The BabyLM challenge's limits on a strict or strict-small submission, checked in one place.

The 2026 challenge (as in 2025) bounds two things for its standard tracks: the training corpus
(at most 100M words for strict, 10M for strict-small) and how often it may be read: at most 10
epochs, so a model sees at most 1B (strict) or 100M (strict-small) words. Sources: the call for
papers (arXiv 2602.20092, "BabyLM Turns 4 and Goes Multilingual"; the 10-epoch limit was
introduced by the 2025 call, arXiv 2502.10645), and babylm-org/babylm-eval ``strict/README.md``,
which assumes "the entire budget (100M words for strict-small and 1B words for strict)" of
words seen and describes the final model as "the one trained for 10 epochs". Papers submitted
to the workshop only, not to the challenge, are exempt: a run marks itself as such with
``workshop_only`` (the submission command's ``--workshop-only`` flag), and the check then
passes whatever the counts.

The caller passes the run's own counts (its corpus's words, the words it saw, the epochs it
ran), so this module needs nothing of antlm but its error type.
"""

from __future__ import annotations

from dataclasses import dataclass

from antlm.errors import AntlmError

__all__ = ["MAX_EPOCHS", "TRACKS", "RuleError", "Track", "check_submission_rules"]

MAX_EPOCHS = 10


class RuleError(AntlmError):
    """A run that breaks the challenge's limits for the track it is submitted to."""


@dataclass(frozen=True)
class Track:
    name: str
    max_corpus_words: int

    @property
    def max_words_seen(self) -> int:
        return MAX_EPOCHS * self.max_corpus_words


TRACKS: dict[str, Track] = {t.name: t for t in (Track("strict", 100_000_000),
                                                Track("strict-small", 10_000_000))}


def check_submission_rules(
    track: str, *, corpus_words: int, words_seen: int, epochs: float,
    workshop_only: bool = False,
) -> None:
    """Raise :class:`RuleError` when a run submitted to ``track`` read a corpus larger than
    the track allows, ran more than :data:`MAX_EPOCHS` epochs, or saw more words than 10
    epochs of the track's budget; every broken limit is named with the run's figure. A
    ``workshop_only`` run is exempt."""
    if track not in TRACKS:
        raise RuleError(f"unknown track {track!r}; allowed: {', '.join(TRACKS)}")
    if workshop_only:
        return
    limits = TRACKS[track]
    broken = []
    if corpus_words > limits.max_corpus_words:
        broken.append(f"its corpus has {corpus_words:,} words, more than the "
                      f"{limits.max_corpus_words:,} allowed")
    if epochs > MAX_EPOCHS:
        broken.append(f"it ran {epochs:g} epochs, more than {MAX_EPOCHS}")
    if words_seen > limits.max_words_seen:
        broken.append(f"it saw {words_seen:,} words, more than the {limits.max_words_seen:,} "
                      f"of {MAX_EPOCHS} epochs of {limits.max_corpus_words:,}")
    if broken:
        raise RuleError(
            f"this run breaks the BabyLM {track} rules: {'; '.join(broken)}. Train within "
            f"them, or, for a paper submitted to the workshop only (not to the challenge), "
            "mark the submission with --workshop-only")
