"""How a zero-shot evaluation scores, as one object: :class:`EvaluationSettings`.

``antlm eval``, :func:`antlm.evaluate` and a sweep's evaluation all reach
:func:`antlm.eval.runner.evaluate_path` with these settings, so the defaults live here once
(the command line's ``--help`` shows them from here) and a value out of range is refused when
the settings are made, before a model is loaded. The module imports no torch: ``import antlm``
and ``antlm --help`` stay light.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from antlm.config import ConfigError
from antlm.options import BATCH_SIZE, MAX_PAIRS

__all__ = ["DEFAULT_TIE_SEED", "PRECISIONS", "EvaluationSettings", "check_precision"]

PRECISIONS = ("fp32", "bf16")  # of the scoring forward passes

# The seed of the random tie rule when none is given; written into results.json's meta
# (``tie_seed``) with every evaluation that used it.
DEFAULT_TIE_SEED = 0


def check_precision(precision: str) -> str:
    """``precision`` if scoring runs at it, else a :class:`ConfigError` listing those it runs
    at; checked where an evaluation starts, before a model is loaded."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision={precision!r}; allowed: {', '.join(PRECISIONS)}")
    return precision


@dataclass(frozen=True)
class EvaluationSettings:
    """The scoring settings of one evaluation (what ``antlm eval``'s options set).

    ``backend``: ``auto`` (the model's own list), ``all``, ``declared`` or a comma-separated
    list (:func:`antlm.eval.runner.headline_and_backends`); ``max_pairs``: score only the first
    N pairs of each subtask (None: all); ``out``: a Hugging Face folder's results directory (a
    run keeps its own); ``comps_dir``: COMPS's files, when not under the data directory;
    ``tie_seed``: the generator of ties, under a suite that draws them."""

    backend: str = "auto"
    batch_size: int = 64
    max_pairs: int | None = None
    precision: str = "fp32"
    device: str = "auto"
    progress: bool = True
    trust_remote_code: bool = False
    out: str | Path | None = None
    save_predictions: bool = False
    comps_dir: str | Path | None = None
    tie_seed: int = DEFAULT_TIE_SEED

    def __post_init__(self) -> None:
        BATCH_SIZE.check(self.batch_size)
        MAX_PAIRS.check(self.max_pairs)
        check_precision(self.precision)

    def updated(self, **values: Any) -> EvaluationSettings:
        """These settings with ``values`` replacing theirs (the API's ``**options``); a name
        that is no setting is refused with the names that are, since a typo must not pass
        silently."""
        names = [f.name for f in fields(self)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ConfigError(f"unknown evaluation setting(s) {', '.join(unknown)}; allowed: "
                              f"{', '.join(names)}")
        return replace(self, **values)
