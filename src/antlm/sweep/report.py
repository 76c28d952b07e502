"""The files of a sweep summary: JSON, Markdown and the plots, small enough to commit."""

from __future__ import annotations

import json
from pathlib import Path

from antlm.sweep.markdown import render_markdown
from antlm.sweep.plots import plot
from antlm.sweep.summary import SweepSummary


def write_summary(summary: SweepSummary, out_dir: Path) -> list[Path]:
    """``NAME.json``, ``NAME.md`` and the plots in ``out_dir``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{summary.sweep.name}.json"
    json_path.write_text(json.dumps(summary.to_json(), indent=2))
    md_path = out_dir / f"{summary.sweep.name}.md"
    md_path.write_text(render_markdown(summary) + "\n")
    return [json_path, md_path, *plot(summary, out_dir)]
