"""Sweep files: a grid of runs (arms x seeds) over one base run config.

    name: babyllama-tiny
    base: ../runs/babyllama-antlm-tiny.yaml   # relative to this file
    set: {data.max_words: 100000}            # applied to every arm
    seeds: [1, 2, 3]                           # -> train.seed
    baseline: clm_only                         # deltas and intervals are against this arm
    arms:
      clm_only: {train.schedule: 24_CLM}
      antlm: {train.schedule: 4_CLM+16_MLM+4_CLM}
    evaluation: {tasks: [blimp_filtered, blimp_supplement, ewok], suite: babylm2025,
                 backend: all, max_pairs: 100}
    learning_curves: {backend: causal}         # optional: score the milestone checkpoints
    primary: {arm: antlm, backend: causal}     # optional: the declared endpoint (or a list)
    secondary: [{arm: antlm, backend: declared}]  # optional: described, never an answer

Every run's config is resolved and validated when the sweep is read, so a typo in arm 9 fails
before arm 1 spends an hour training.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from antlm.config import ConfigError, RunConfig, load_config, locate_config, read_yaml_mapping
from antlm.eval.curves import FAST_TASKS
from antlm.eval.scoring import BACKENDS, declared_backend
from antlm.eval.suites import DEFAULT_SUITE, get_suite
from antlm.eval.tasks import parse_task_list
from antlm.schedule import Plan, parse_schedule

ZERO_SHOT_PARTS = ("blimp_filtered", "blimp_supplement", "ewok")


class SweepEvaluation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[str] = Field(default_factory=lambda: list(ZERO_SHOT_PARTS))
    suite: str = DEFAULT_SUITE
    backend: str = "all"
    max_pairs: int | None = Field(default=None, gt=0, description="per subtask; None = all")
    batch_size: int = Field(default=128, gt=0)
    glue_tasks: list[str] = Field(default_factory=list, description="empty: GLUE not run")
    glue_max_train_examples: int | None = Field(default=500, gt=0)
    glue_epochs: int = Field(default=3, gt=0)


    @field_validator("suite")
    @classmethod
    def _known_suite(cls, value: str) -> str:
        get_suite(value)  # raises naming the allowed suites
        return value


def _one_backend(value: str) -> str:
    if value not in BACKENDS:
        raise ValueError(f"one backend: one of {', '.join(BACKENDS)}")
    return value


DECLARED = "declared"  # a comparison's backend: each arm under its own declared backend

# What a curve or an endpoint compared across arms needs: a single named backend, not a list
# or ``all``, since every arm must be read the same way.
OneBackend = Annotated[str, AfterValidator(_one_backend)]


class SweepCurves(BaseModel):
    """Learning curves of every run: its milestone checkpoints (``train.checkpoint_words``) and
    final weights scored zero-shot on the fast sets, as ``antlm eval RUN --checkpoints`` scores
    them, after the run's evaluation. One backend for every arm, named here: a run's own
    declared backend follows its last objective, and curves compared across arms need one.

    Kept out of the evaluation's signature, so adding curves to a sweep scores only the
    checkpoints and never re-evaluates a finished run."""

    model_config = ConfigDict(extra="forbid")

    backend: OneBackend
    tasks: list[str] = Field(default_factory=lambda: list(FAST_TASKS),
                             description="the sets scored at each revision (default: the "
                             "official fast sets)")
    max_pairs: int | None = Field(default=None, gt=0,
                                  description="per subtask (default: the whole official fast sets)")
    aoa: bool = Field(default=False, description="also the age of acquisition over the "
                      "revisions (antlm eval RUN --checkpoints computes it by default; a sweep "
                      "only when asked, since studies compare accuracies)")

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, value: list[str]) -> list[str]:
        return parse_task_list(",".join(value))  # raises naming the unknown task and the allowed


class SweepComparison(BaseModel):
    """A paired comparison the report computes: ``arm`` minus ``baseline`` (the sweep's baseline
    unless named), seed by seed, on the mean of ``parts`` under one backend, or under
    ``declared``: each arm scored under its own run's declared backend (``eval.backend``, else
    the objective its schedule ends on), the reading a user of one run alone would get.

    Secondary comparisons are described, never read as answers: they carry no margin."""

    model_config = ConfigDict(extra="forbid")

    arm: str
    baseline: str | None = Field(default=None, description="default: the sweep's baseline")
    backend: str
    parts: list[str] = Field(default_factory=lambda: list(ZERO_SHOT_PARTS), min_length=1)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        return value if value == DECLARED else _one_backend(value)


class SweepPrimary(SweepComparison):
    """A study's primary endpoint, declared in the sweep file before any run: the one arm
    compared with the baseline, the one backend and the parts whose mean is the score, the
    margin (points) the study is sized for, and the most seeds its sample-size rule may add.

    Written down as data so the answer is computed the way it was declared, never chosen after
    the scores are seen (the report leads with it; ``--status`` applies the seed rule by the
    interval's width alone). Kept out of the evaluation's signature: declaring an endpoint
    changes what is read, not what is scored. A sweep may declare several (one per question it
    answers); each is read on its own."""

    backend: OneBackend
    margin: float = Field(default=1.0, gt=0, description="points: an interval inside ±margin "
                          "rules out a difference that large, and the seed rule aims at it")
    max_seeds: int | None = Field(default=None, gt=0, description="seeds may be added, one at "
                                  "a time, while the interval is wider than ±margin")


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    base: str
    set: dict[str, Any] = Field(default_factory=dict)
    seeds: list[int] = Field(default_factory=lambda: [1, 2, 3], min_length=1)
    baseline: str
    arms: dict[str, dict[str, Any]] = Field(min_length=1)
    evaluation: SweepEvaluation = Field(default_factory=SweepEvaluation)
    learning_curves: SweepCurves | None = None
    primary: list[SweepPrimary] = Field(default_factory=list, description="one endpoint or a "
                                        "list of them, one per question")
    secondary: list[SweepComparison] = Field(default_factory=list)

    @field_validator("primary", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """``primary: {...}`` (one question) reads as a list of one; ``null`` as none."""
        if value is None:
            return []
        return [value] if isinstance(value, dict) else value

    @field_validator("seeds")
    @classmethod
    def _each_seed_once(cls, seeds: list[int]) -> list[int]:
        """A seed listed twice names one run twice: the sweep would train it once and the
        statistics would count it as two independent samples."""
        repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
        if repeated:
            raise ValueError(f"seed {repeated[0]} appears more than once in {seeds}; list each "
                             "seed once")
        return seeds

    @model_validator(mode="after")
    def _baseline_is_an_arm(self) -> SweepSpec:
        if self.baseline not in self.arms:
            raise ValueError(f"baseline={self.baseline!r} is not an arm; arms: {list(self.arms)}")
        return self

    @model_validator(mode="after")
    def _comparisons_are_measured(self) -> SweepSpec:
        """Every endpoint must be something this sweep scores: two different arms, a backend
        the evaluation runs, parts it evaluates."""
        for field, comparisons in (("primary", self.primary), ("secondary", self.secondary)):
            for comparison in comparisons:
                self._check_comparison(field, comparison)
        for primary in self.primary:
            if primary.max_seeds is not None and primary.max_seeds < len(self.seeds):
                raise ValueError(f"primary.max_seeds={primary.max_seeds} is below the "
                                 f"{len(self.seeds)} seeds already planned")
        return self

    def _check_comparison(self, field: str, comparison: SweepComparison) -> None:
        baseline = comparison.baseline or self.baseline
        if baseline not in self.arms:
            raise ValueError(f"{field}.baseline={baseline!r} is not an arm; arms: "
                             f"{list(self.arms)}")
        others = [arm for arm in self.arms if arm != baseline]
        if comparison.arm not in others:
            raise ValueError(f"{field}.arm={comparison.arm!r}: one of the arms compared with "
                             f"the baseline: {others}")
        requested = self.evaluation.backend
        if comparison.backend != DECLARED:
            if requested in ("auto", "declared"):  # these differ from arm to arm
                raise ValueError(f"{field}.backend needs every arm scored alike: "
                                 f"evaluation.backend {requested!r} depends on each arm's "
                                 f"schedule; use 'all' or a list that includes "
                                 f"{comparison.backend!r}")
            scored_backends = {b.strip() for b in requested.split(",")}
            if requested != "all" and comparison.backend not in scored_backends:
                raise ValueError(f"{field}.backend={comparison.backend!r} is not among the "
                                 f"evaluation's backends ({requested})")
        scored = [*self.evaluation.tasks, *(["glue"] if self.evaluation.glue_tasks else [])]
        unscored = [part for part in comparison.parts if part not in scored]
        if unscored:
            raise ValueError(f"{field}.parts {unscored} are not evaluated; the evaluation "
                             f"scores {scored}")


class Sweep:
    """A parsed sweep: its spec and the resolved config of every (arm, seed)."""

    def __init__(self, spec: SweepSpec, base_path: Path) -> None:
        self.spec = spec
        self.base_path = base_path
        self.configs: dict[tuple[str, int], RunConfig] = {}
        for arm, overrides in spec.arms.items():
            for seed in spec.seeds:
                updates = {**spec.set, **overrides, "train.seed": seed,
                           "name": f"{spec.name}-{arm}-seed{seed}"}
                try:
                    self.configs[arm, seed] = load_config(base_path, updates=updates)
                except ConfigError as exc:
                    raise ConfigError(f"sweep arm {arm!r} (seed {seed}): {exc}") from None

    @property
    def name(self) -> str:
        return self.spec.name

    def run_dir(self, root: Path, arm: str, seed: int) -> Path:
        return root / self.spec.name / arm / f"seed{seed}"

    def evaluation_signature(self) -> str:
        return self.spec.evaluation.model_dump_json()

    def is_evaluated(self, results: dict[str, Any]) -> bool:
        """Whether a run's results.json (already read) holds this sweep's whole evaluation.

        The sweep writes its signature into results.json after the last part, so a run whose
        zero-shot scores are in but whose GLUE is still running (or was interrupted) is not
        counted: its macro-average would silently lack a part.
        """
        return results.get("sweep", {}).get("evaluation") == self.evaluation_signature()

    def plan(self, arm: str) -> Plan:
        """An arm's schedule, parsed (the same for every seed: seeds vary only ``train.seed``)."""
        return parse_schedule(self.configs[arm, self.spec.seeds[0]].train.schedule)

    def schedule(self, arm: str) -> str:
        """An arm's schedule as tables and plots show it: ``0.833333_CLM``, not the
        ``0.8333333333333334_CLM`` a sweep file may spell out to scale a paper schedule exactly."""
        return self.plan(arm).canonical()

    def declared_backend(self, arm: str) -> str:
        """The backend an arm's runs declare for their headline (the same for every seed)."""
        return declared_backend(self.configs[arm, self.spec.seeds[0]])

    def total_epochs(self) -> dict[str, float]:
        """Each arm's epochs, after ``train.epochs`` scales its schedule."""
        seed = self.spec.seeds[0]
        return {arm: self.configs[arm, seed].train.nominal_plan().total_epochs
                for arm in self.spec.arms}


SPEC_FILE = "sweep.yaml"


# completes "the top level must be a mapping ...": what a sweep file holds
SPEC_HOLDS = "(name, base, arms, ...)"


def sweep_of_directory(sweep_dir: Path) -> Sweep:
    """The sweep that produced ``ROOT/NAME`` (its spec is copied there when the sweep starts)."""
    spec_path = sweep_dir / SPEC_FILE
    if not spec_path.exists():
        raise ConfigError(f"{sweep_dir} is not a sweep directory (no {SPEC_FILE})")
    if not spec_path.is_file():
        raise ConfigError(f"{spec_path} is a folder or a special file, not a sweep file; restore "
                          "it, or rerun the sweep")
    raw = read_yaml_mapping(spec_path, SPEC_HOLDS)
    base = raw.pop("base_resolved", None)
    if not isinstance(base, str):
        raise ConfigError(f"{spec_path}: no base_resolved (the path of the base config); the "
                          "file was not written by antlm sweep: restore it, or rerun the sweep")
    return Sweep(_validated_spec(raw, spec_path), (sweep_dir / base).resolve())


def save_spec(sweep: Sweep, sweep_dir: Path) -> None:
    """Copy the spec into the sweep directory, its base config as a path relative to it, so
    that a sweep directory committed with its repository reads back on any clone."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    base = os.path.relpath(sweep.base_path, sweep_dir.resolve())
    raw = {**sweep.spec.model_dump(mode="json"), "base_resolved": base}
    (sweep_dir / SPEC_FILE).write_text(yaml.safe_dump(raw, sort_keys=False))


def _as_written(raw: dict[str, Any], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """An error's location as the file spells it: ``primary.backend`` for a single endpoint
    written as a mapping, not the ``primary.0.backend`` of the list it is read into."""
    if loc[:2] == ("primary", 0) and isinstance(raw.get("primary"), dict):
        return ("primary", *loc[2:])
    return loc


def load_sweep(path: str | Path) -> Sweep:
    """A sweep file, or the packaged sweep preset of that name (``babyllama-tiny``)."""
    path = locate_config(path, "sweeps")
    spec = _validated_spec(read_yaml_mapping(path, SPEC_HOLDS), path)
    return Sweep(spec, (path.parent / spec.base).resolve())


def _validated_spec(raw: dict[str, Any], path: Path) -> SweepSpec:
    """``raw`` as a :class:`SweepSpec`; every mistake in it is one line of a
    :class:`ConfigError` naming the file, the key as written and what is wrong."""
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as exc:
        lines = [f"invalid sweep ({path}):"]
        lines += [f"  {'.'.join(map(str, _as_written(raw, e['loc'])))}: "
                  f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
