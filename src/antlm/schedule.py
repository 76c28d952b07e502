"""The schedule language: which objective trains for how many epochs, in what order.

Grammar (whitespace is ignored)::

    schedule := term ("+" term)*
    term     := phase | "(" schedule ")" "*" INT
    phase    := NUMBER "_" OBJECTIVE [ "(" name "=" NUMBER ("," name "=" NUMBER)* ")" ]
    OBJECTIVE:= CLM | MLM | MIX        (MIX takes clm= and mlm=, the ratio of sequences)

Examples: ``4_CLM+16_MLM+4_CLM``, ``(2_CLM+2_MLM)*6``, ``0.5_CLM+1_MLM``, ``24_MIX(clm=1,mlm=15)``.
A hand-written recursive-descent parser keeps error messages precise (the offending character
and what was expected), which a regex or a parser-generator dependency would not give as cheaply.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from antlm.errors import AntlmError

OBJECTIVES = ("CLM", "MLM", "MIX")
_SCALED = " scaled to "  # in the spec of a plan made by Plan.scaled


class ScheduleError(AntlmError, ValueError):
    """A schedule that does not parse; the message points at the offending character."""

    def __init__(self, spec: str, pos: int, expected: str, found: str | None = None) -> None:
        if found is None:
            found = repr(spec[pos]) if pos < len(spec) else "end of schedule"
        super().__init__(
            f"bad schedule at position {pos + 1}: expected {expected}, found {found}\n"
            f"  {spec}\n  {' ' * pos}^"
        )
        self.spec, self.pos, self.expected = spec, pos, expected


@dataclass(frozen=True)
class Phase:
    objective: str  # "CLM", "MLM" or "MIX"
    epochs: float
    clm_weight: float = 0.0  # MIX only: share of sequences trained with CLM ...
    mlm_weight: float = 0.0  # ... and with MLM, as given (not normalised)

    @property
    def mlm_fraction(self) -> float:
        """Fraction of each step's sequences that take the MLM objective."""
        if self.objective == "MIX":
            return self.mlm_weight / (self.clm_weight + self.mlm_weight)
        return 1.0 if self.objective == "MLM" else 0.0

    @property
    def trains(self) -> tuple[str, ...]:
        """The objectives whose losses this phase produces (a MIX phase: each with a share of
        its sequences), in the order CLM, MLM."""
        fraction = self.mlm_fraction
        return tuple(o for o, share in (("CLM", 1 - fraction), ("MLM", fraction)) if share > 0)

    def label(self) -> str:
        epochs = f"{self.epochs:g}"
        if self.objective == "MIX":
            return f"{epochs}_MIX(clm={self.clm_weight:g},mlm={self.mlm_weight:g})"
        return f"{epochs}_{self.objective}"


@dataclass(frozen=True)
class PhaseSteps:
    """A phase placed on the step axis of a run."""

    index: int
    phase: Phase
    start_step: int
    end_step: int  # exclusive
    start_epoch: float

    @property
    def steps(self) -> int:
        return self.end_step - self.start_step


@dataclass(frozen=True)
class PlacedPlan:
    """A plan placed on the step axis of a run: what the trainer, the LR schedule and the
    benchmark ask "which phase trains step s?" of. Iterating gives the phases in order."""

    plan: Plan
    phases: tuple[PhaseSteps, ...]
    steps_per_epoch: int

    def __iter__(self) -> Iterator[PhaseSteps]:
        return iter(self.phases)

    def __len__(self) -> int:
        return len(self.phases)

    def __getitem__(self, index: int) -> PhaseSteps:
        return self.phases[index]

    @property
    def total_steps(self) -> int:
        return self.phases[-1].end_step

    def phase_at(self, step: int) -> PhaseSteps:
        """The phase that trains global step ``step`` (0-based). A phase too short to get a
        step of its own (rounded to zero steps) is never returned."""
        index = bisect_right([p.end_step for p in self.phases], step)
        if step < 0 or index == len(self.phases):
            raise IndexError(f"step {step} is outside the plan's {self.total_steps} steps")
        return self.phases[index]


@dataclass(frozen=True)
class Plan:
    spec: str
    phases: tuple[Phase, ...]

    @property
    def total_epochs(self) -> float:
        return sum(p.epochs for p in self.phases)

    @property
    def objectives(self) -> frozenset[str]:
        return frozenset(p.objective for p in self.phases)

    def scaled(self, total_epochs: float) -> Plan:
        """The same phases in the same proportions, ``total_epochs`` epochs in all: the paper's
        ``4_CLM+16_MLM+4_CLM`` scaled to 10 epochs is ``1.66667_CLM+6.66667_MLM+1.66667_CLM``,
        placed on steps like any fractional-epoch plan (see :meth:`place`)."""
        if total_epochs <= 0:
            raise ValueError(f"cannot scale a schedule to {total_epochs} epochs")
        factor = total_epochs / self.total_epochs
        phases = tuple(replace(p, epochs=p.epochs * factor) for p in self.phases)
        return Plan(f"{self.canonical()}{_SCALED}{total_epochs:g} epochs", phases)

    def place(self, steps_per_epoch: int) -> PlacedPlan:
        """Steps of each phase. Boundaries are rounded from cumulative epochs, so rounding never
        accumulates: a run of 0.5+0.5 epochs takes exactly the steps of one epoch."""
        placed, cumulative, start = [], 0.0, 0
        for i, phase in enumerate(self.phases):
            start_epoch = cumulative
            cumulative += phase.epochs
            end = round(cumulative * steps_per_epoch)
            placed.append(PhaseSteps(i, phase, start, end, start_epoch))
            start = end
        return PlacedPlan(self, tuple(placed), steps_per_epoch)

    def canonical(self) -> str:
        return "+".join(p.label() for p in self.phases)


_NUMBER_CHARS = frozenset("0123456789.")


class _Parser:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.pos = 0

    def _skip(self) -> None:
        while self.pos < len(self.spec) and self.spec[self.pos].isspace():
            self.pos += 1

    def _peek(self) -> str:
        self._skip()
        return self.spec[self.pos] if self.pos < len(self.spec) else ""

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise ScheduleError(self.spec, self.pos, repr(char))
        self.pos += 1

    def _number(self, what: str) -> float:
        self._skip()
        start = self.pos
        while self.pos < len(self.spec) and self.spec[self.pos] in _NUMBER_CHARS:
            self.pos += 1
        if self.pos < len(self.spec) and self.spec[self.pos].isdigit():
            # Python's float() reads Arabic-Indic or full-width digits too; a schedule is typed
            # in ASCII, so such a digit is a paste or keyboard-layout accident.
            char = self.spec[self.pos]
            raise ScheduleError(self.spec, self.pos, "ASCII digits (0-9)",
                                f"{char!r}, a non-ASCII digit (write {unicodedata.digit(char)})")
        text = self.spec[start:self.pos]
        try:
            value = float(text)
        except ValueError:
            raise ScheduleError(self.spec, start, what) from None
        return value

    def _word(self) -> tuple[str, int]:
        self._skip()
        start = self.pos
        while self.pos < len(self.spec) and self.spec[self.pos].isalpha():
            self.pos += 1
        return self.spec[start:self.pos], start

    def schedule(self) -> list[Phase]:
        phases = self.term()
        while self._peek() == "+":
            self.pos += 1
            phases += self.term()
        return phases

    def term(self) -> list[Phase]:
        if self._peek() == "(":
            self.pos += 1
            inner = self.schedule()
            self._expect(")")
            self._expect("*")
            start = self.pos
            count = self._number("a repeat count (a positive integer)")
            if count != int(count) or count < 1:
                raise ScheduleError(self.spec, start, "a repeat count (a positive integer)")
            return inner * int(count)
        return [self.phase()]

    def phase(self) -> Phase:
        start = self.pos
        epochs = self._number("a number of epochs (e.g. 4 or 0.5) or '('")
        if epochs <= 0:
            raise ScheduleError(self.spec, start, "a positive number of epochs")
        self._expect("_")
        objective, at = self._word()
        if objective not in OBJECTIVES:
            raise ScheduleError(
                self.spec, at, "an objective: " + ", ".join(OBJECTIVES), found=repr(objective)
            )
        if objective != "MIX":
            return Phase(objective, epochs)
        weights = self.mix_args()
        return Phase("MIX", epochs, clm_weight=weights["clm"], mlm_weight=weights["mlm"])

    def mix_args(self) -> dict[str, float]:
        self._expect("(")
        weights: dict[str, float] = {}
        while True:
            name, at = self._word()
            if name not in ("clm", "mlm") or name in weights:
                remaining = [n for n in ("clm", "mlm") if n not in weights]
                raise ScheduleError(self.spec, at, "a MIX weight: " + " or ".join(remaining))
            self._expect("=")
            start = self.pos
            weights[name] = self._number("a non-negative weight")
            if weights[name] < 0:
                raise ScheduleError(self.spec, start, "a non-negative weight")
            if self._peek() != ",":
                break
            self.pos += 1
        if set(weights) != {"clm", "mlm"}:
            raise ScheduleError(self.spec, self.pos, "both clm= and mlm= weights")
        if weights["clm"] + weights["mlm"] == 0:
            raise ScheduleError(self.spec, self.pos - 1, "at least one positive MIX weight")
        self._expect(")")
        return weights


def parse_schedule(spec: str) -> Plan:
    """Parse a schedule string into a :class:`Plan` (raises :class:`ScheduleError`)."""
    parser = _Parser(spec)
    if not spec.strip():
        raise ScheduleError(spec, 0, "a phase such as 4_CLM")
    phases = parser.schedule()
    if parser._peek():
        raise ScheduleError(spec, parser.pos, "'+' or the end of the schedule")
    return Plan(spec, tuple(phases))


def format_plan(
    plan: Plan, steps_per_epoch: int | None = None, words: Sequence[int] | None = None
) -> str:
    """A table of the plan, as ``antlm schedule show`` prints it; ``words`` (seen in each
    phase) adds the words columns and a total."""
    name = plan.canonical()
    if _SCALED in plan.spec:
        name = f"{plan.spec}: {name}"
    header = f"schedule {name}  ({plan.total_epochs:g} epochs"
    header += f", {steps_per_epoch:,} steps/epoch)" if steps_per_epoch else ")"
    columns = f"{'phase':>5}  {'objective':<22} {'epochs':>8} {'from epoch':>10} {'steps':>8}"
    rows = [header, columns + (f" {'words':>14} {'words at end':>14}" if words else "")]
    seen = 0
    for placed in plan.place(steps_per_epoch or 0):
        objective = placed.phase.label().split("_", 1)[1]
        steps = f"{placed.steps:,}" if steps_per_epoch else "-"
        row = (f"{placed.index + 1:>5}  {objective:<22} {placed.phase.epochs:>8.6g} "
               f"{placed.start_epoch:>10.6g} {steps:>8}")
        if words:
            seen += words[placed.index]
            row += f" {words[placed.index]:>14,} {seen:>14,}"
        rows.append(row)
    if words:
        rows.append(f"{'total':>5}  {'':<22} {plan.total_epochs:>8.6g} {'':>10} "
                    f"{'':>8} {seen:>14,}")
    return "\n".join(rows)
