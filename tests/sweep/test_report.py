"""The rule that keeps a pre-registered study's scores unread until its planned seeds are in."""

import pytest

from antlm.sweep.report import InterimReportError, refuse_interim


def test_an_interim_study_is_not_reported_unless_asked(made_up_summary, tmp_path):
    refuse_interim(made_up_summary, tmp_path)  # smoke.yaml plans seed 1; both arms have it
    made_up_summary.sweep.spec.seeds = [1, 2, 3]
    with pytest.raises(InterimReportError, match=r"2 of the 3 planned seeds of antlm and "
                                                 r"clm_only are evaluated \(missing: seeds 3\)"):
        refuse_interim(made_up_summary, tmp_path)
    made_up_summary.sweep.spec.primary = []  # an exploratory sweep reports whatever is in
    refuse_interim(made_up_summary, tmp_path)
