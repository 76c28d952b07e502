"""The statistics of a sweep, in one place so the tables, the JSON and the plots report the
same numbers.

Seeds are paired across arms (seed s of every arm sees the same initialisation seed and data
order), so the difference to the baseline is computed per seed and its 95% interval is the
t-interval of those paired differences. With one seed there is no interval, and the interval
says so (``low`` and ``high`` are None) rather than claiming a misleading ±0. The intervals
themselves live in :mod:`antlm.intervals`, which the learning curves of single runs share.
"""

from __future__ import annotations

import statistics

from antlm.intervals import Interval, paired_interval

__all__ = ["Interval", "half_width", "mean_sd", "paired_interval", "seed_rule", "verdict"]


def mean_sd(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample sd; no sd for a single value."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def half_width(interval: Interval | None, scale: float = 100.0) -> float | None:
    """Half the interval's width (points by default); None without an interval."""
    if interval is None or interval.low is None or interval.high is None:
        return None
    return (interval.high - interval.low) * scale / 2


def _points(value: float) -> str:
    return f"{value:g} point{'' if value == 1 else 's'}"


def verdict(interval: Interval | None, margin: float, arm: str, baseline: str,
            scale: float = 100.0) -> str:
    """What a paired interval answers, read the way the study declared before its runs: an
    interval that excludes 0 says better or worse; one inside ±``margin`` points rules out a
    difference of ``margin`` or more (both can hold); anything else is inconclusive."""
    if interval is None or interval.low is None or interval.high is None:
        return "none yet: an interval needs at least two paired seeds"
    low, high = interval.low * scale, interval.high * scale
    within = -margin < low and high < margin
    small = f", by less than {_points(margin)}" if within else ""
    if low > 0:
        return f"{arm} scores higher than {baseline}{small}"
    if high < 0:
        return f"{arm} scores lower than {baseline}{small}"
    if within:
        return f"no difference of {_points(margin)} or more between {arm} and {baseline}"
    return (f"inconclusive: the interval includes 0 and reaches beyond ±{_points(margin)}, so "
            f"neither a difference nor its absence is shown")


def seed_rule(interval: Interval | None, seeds: list[int], margin: float,
              max_seeds: int | None, scale: float = 100.0) -> str:
    """The sample-size rule, from the interval's width alone (never its centre, so applying it
    cannot steer the answer): enough seeds once the interval is within ±``margin`` points,
    otherwise one more seed for every arm, up to ``max_seeds``."""
    width = half_width(interval, scale)
    if width is not None and width <= margin:
        return (f"the interval's half-width is {width:.2f} points, within ±{margin:g}: "
                f"{len(seeds)} seeds are enough")
    state = (f"with {len(seeds)} seed{'s' if len(seeds) != 1 else ''} there is no interval yet"
             if width is None else
             f"the interval's half-width is {width:.2f} points, wider than ±{margin:g}")
    if max_seeds is not None and len(seeds) < max_seeds:
        return (f"{state}: add seed {max(seeds, default=0) + 1} to every arm (`seeds:` in the sweep file; "
                f"the rule allows up to {max_seeds} seeds)")
    if max_seeds is None:
        return f"{state}; the sweep declares no further seeds (primary.max_seeds)"
    return f"{state} at {max_seeds} seeds, the most the rule allows: the interval stands as it is"
