"""Milestone checkpoints: the weights as the words seen first pass each of
``train.checkpoint_words`` (by default the BabyLM challenge's 1M, 2M, ... 10M, 20M, ... 100M,
200M, ... 1000M), for the learning-dynamics evaluation of a submission.

A milestone is due after the first step whose words seen reach it, mid-epoch or not; a step that
passes several (a tiny run, a large batch) saves each. Files are weights only (safetensors,
atomic), named after the milestone (:func:`antlm.rundir.milestone_name`) and never rewritten: a
resumed run recomputes the same steps exactly, so a file already there holds what it would
write. A milestone the run passed before the step it resumes from but has no file for cannot be
recreated, and is reported instead of being filled with later weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from antlm.rundir import RunPaths, milestone_name
from antlm.units import format_count


@dataclass
class Milestones:
    """The milestones a run has still to pass, in order."""

    pending: list[int]

    @classmethod
    def ahead(cls, milestones: list[int], words_seen: int) -> Milestones:
        """The milestones beyond ``words_seen`` (those at or below were passed before)."""
        return cls([m for m in milestones if m > words_seen])

    def due(self, words_seen: int) -> list[int]:
        """The milestones ``words_seen`` reaches, removed from the pending ones."""
        passed = [m for m in self.pending if m <= words_seen]
        self.pending = self.pending[len(passed):]
        return passed


def missing_before(paths: RunPaths, milestones: list[int], words_seen: int) -> list[str]:
    """Names of the milestones at or below ``words_seen`` that have no file."""
    return [milestone_name(m) for m in milestones
            if m <= words_seen and not paths.milestone(m).is_file()]


def describe(milestones: list[int], total_words: int) -> str:
    """One line on what the plan will save, said once when a run starts."""
    if not milestones:
        return "no milestone checkpoints (train.checkpoint_words is empty)"
    within = [m for m in milestones if m <= total_words]
    if not within:
        return (f"this run sees {total_words:,} words, fewer than the first checkpoint milestone "
                f"({format_count(milestones[0])} words): it writes no milestone checkpoints")
    names = ", ".join(milestone_name(m) for m in within[:3])
    more = f" ... {milestone_name(within[-1])}" if len(within) > 3 else ""
    return f"{count_milestones(len(within))} within the run's {total_words:,} words: {names}{more}"


def count_milestones(count: int) -> str:
    """``1 milestone checkpoint``, ``3 milestone checkpoints``: every line that counts them says
    it the same way, singular for one."""
    return f"{count} milestone checkpoint" + ("" if count == 1 else "s")


def describe_saved(paths: RunPaths) -> str:
    """What a finished (or stopped) run holds, said at its end: the count and the folder, or
    that there are none, without naming a folder that a run with none never created."""
    saved = sorted(paths.checkpoints.glob("*.safetensors"))
    if not saved:
        return "the run has no milestone checkpoints"
    return f"{count_milestones(len(saved))} in {paths.checkpoints}"
