"""The statistics of a sweep, in one place so the tables, the JSON and the plots report the
same numbers.

Seeds are paired across arms (seed s of every arm sees the same initialisation seed and data
order), so the difference to the baseline is computed per seed and its 95% interval is the
t-interval of those paired differences. With one seed there is no interval, and the interval
says so (``low`` and ``high`` are None) rather than claiming a misleading ±0.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from scipy import stats


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


def mean_sd(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample sd; no sd for a single value."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


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
