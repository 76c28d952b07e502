"""The files of a sweep summary: JSON, Markdown and the plots, small enough to commit; and the
rule that keeps a pre-registered study's scores unread until its planned seeds are in."""

from __future__ import annotations

import json
from pathlib import Path

from antlm.errors import AntlmError
from antlm.sweep.markdown import render_markdown
from antlm.sweep.plots import plot
from antlm.sweep.summary import SweepSummary


class InterimReportError(AntlmError):
    """A sweep that declares its primary endpoint was asked for its scores before they are in."""


def refuse_interim(summary: SweepSummary, sweep_dir: Path) -> None:
    """Refuse to show the scores of a sweep whose declared endpoint lacks planned seeds: a
    study that declares its answer in advance decides nothing on an interim look, and a report
    printed by habit (at the end of one of several sweep processes, say) would be one."""
    reason = summary.interim()
    if reason is not None:
        raise InterimReportError(
            f"sweep {summary.sweep.name} declares its primary endpoint and {reason}; its scores "
            f"are not shown before every planned seed is in (`antlm report --sweep {sweep_dir} "
            f"--interim` shows them anyway, marked interim)")


def write_summary(summary: SweepSummary, out_dir: Path) -> list[Path]:
    """``NAME.json``, ``NAME.md`` and the plots in ``out_dir``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{summary.sweep.name}.json"
    json_path.write_text(json.dumps(summary.to_json(), indent=2))
    md_path = out_dir / f"{summary.sweep.name}.md"
    md_path.write_text(render_markdown(summary) + "\n")
    return [json_path, md_path, *plot(summary, out_dir)]
