"""Confidence intervals, in one place for every table and figure: the paired t-interval of a
sweep's seeds (:func:`paired_interval`) and the binomial interval of one zero-shot accuracy
(:func:`wilson_interval`), whose only source of spread is the finite number of pairs scored.

Which one a figure draws says what it claims: the binomial interval is the scoring noise of one
model on a sample of pairs (would another sample of pairs move the score?), the t-interval the
spread of the training seeds (would another seed?). With one value a t-interval has no bounds,
and says so (``low`` and ``high`` are None) rather than claiming a misleading ±0.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

__all__ = ["Interval", "effective_pairs", "paired_interval", "wilson_interval"]

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval


@dataclass
class Interval:
    """A mean with its confidence interval; no bounds when one value cannot give one."""

    mean: float
    low: float | None
    high: float | None

    def format(self, scale: float = 100.0) -> str:
        if self.low is None or self.high is None:
            return f"{self.mean * scale:+.2f} (n/a)"
        return f"{self.mean * scale:+.2f} [{self.low * scale:+.2f}, {self.high * scale:+.2f}]"


def paired_interval(differences: list[float], confidence: float = 0.95) -> Interval:
    """The t-interval of per-seed paired differences: with few seeds (3-5) the t quantile, not
    the normal one, keeps the interval honest."""
    mean = statistics.fmean(differences)
    if len(differences) < 2:
        return Interval(mean, None, None)
    half = stats.t.ppf(0.5 + confidence / 2, len(differences) - 1) * (
        statistics.stdev(differences) / math.sqrt(len(differences))
    )
    return Interval(mean, mean - half, mean + half)


def wilson_interval(accuracy: float, pairs: float, z: float = Z95) -> Interval:
    """The Wilson score interval of an accuracy measured on ``pairs`` pairs. Wilson rather than
    the normal (Wald) interval because it stays inside [0, 1] and keeps its coverage near 0 and 1
    and at a few hundred pairs, where a task's supplement sits. No bounds without pairs."""
    if pairs <= 0:
        return Interval(accuracy, None, None)
    z2 = z * z
    centre = (accuracy + z2 / (2 * pairs)) / (1 + z2 / pairs)
    half = z / (1 + z2 / pairs) * math.sqrt(accuracy * (1 - accuracy) / pairs
                                            + z2 / (4 * pairs * pairs))
    return Interval(accuracy, max(0.0, centre - half), min(1.0, centre + half))


def effective_pairs(pairs: Sequence[float]) -> float:
    """How many pairs an unweighted mean of accuracies over tasks of ``pairs`` pairs each is
    worth as one binomial sample: ``k^2 / sum(1/n_i)``, the n whose variance ``p(1-p)/n``
    equals the mean's ``sum(p(1-p)/n_i) / k^2`` at equal accuracies. A small task weighs as
    much as a large one in the mean, so it, not the total, limits the mean's precision."""
    if not pairs or any(n <= 0 for n in pairs):
        return 0.0
    return len(pairs) ** 2 / sum(1 / n for n in pairs)
