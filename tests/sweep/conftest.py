"""A sweep summary made up by hand, so the statistics, tables and plots are tested in
milliseconds without training (the end-to-end smoke sweep in test_sweep.py trains)."""

import pytest

from antlm.sweep.spec import load_sweep
from antlm.sweep.summary import SweepSummary
from tests.conftest import CONFIGS

SMOKE = CONFIGS / "sweeps" / "smoke.yaml"


def _run(blimp: float, supplement: float, glue: float, shift: float) -> dict:
    """One run's scores under both backends (mlm ``shift`` away); GLUE is backend-free."""
    scores = {}
    for backend, offset in (("causal", 0.0), ("mlm", shift)):
        parts = {"blimp_filtered": blimp + offset, "blimp_supplement": supplement + offset,
                 "ewok": None, "glue": glue}
        present = [v for v in parts.values() if v is not None]
        scores[backend] = {**parts, "macro": sum(present) / len(present)}
    return scores


@pytest.fixture
def made_up_summary() -> SweepSummary:
    """The smoke sweep's two arms with three baseline seeds and two of ``antlm``: the paired
    statistics must use the shared seeds only."""
    summary = SweepSummary(load_sweep(SMOKE))
    summary.scores = {
        "clm_only": {1: _run(0.52, 0.50, 0.60, -0.01), 2: _run(0.54, 0.49, 0.62, 0.00),
                     3: _run(0.51, 0.53, 0.58, -0.02)},
        "antlm": {1: _run(0.55, 0.52, 0.61, 0.01), 2: _run(0.56, 0.50, 0.60, 0.02)},
    }
    return summary
