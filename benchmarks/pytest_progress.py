"""A pytest plugin for ``make gpu-check``: one JSON line per finished test, written as it ends.

pytest's junit XML is written only when the session ends, so a tests stage killed at its time
limit left no record of the tests that had passed. With ``-p pytest_progress`` (``benchmarks``
on the path) and ``PYTEST_PROGRESS=FILE``, each test's outcome, seconds and first error line
are appended to FILE the moment its teardown ends, and flushed.
"""

from __future__ import annotations

import json
import os

import pytest

OUTCOMES = {"passed": 0, "skipped": 1, "failed": 2}  # a test's outcome is its worst phase's


class Progress:
    """Collects a test's phases (setup, call, teardown) and writes its line after the last."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.open: dict[str, dict] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.open.setdefault(report.nodeid, {"test": report.nodeid, "outcome": "passed",
                                                     "seconds": 0.0})
        entry["seconds"] += report.duration
        if OUTCOMES[report.outcome] > OUTCOMES[entry["outcome"]]:
            entry["outcome"] = report.outcome
            entry["phase"] = report.when
            entry["message"] = first_line(report)
        if report.when == "teardown":
            with open(self.path, "a") as stream:
                stream.write(json.dumps(self.open.pop(report.nodeid)) + "\n")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A module that cannot be collected (an import error) is a failed line too."""
        if report.failed:
            with open(self.path, "a") as stream:
                stream.write(json.dumps({"test": report.nodeid, "outcome": "failed",
                                         "phase": "collect", "seconds": 0.0,
                                         "message": first_line(report)}) + "\n")


def first_line(report: pytest.BaseReport) -> str:
    """The last line of a failure's text (the exception) or a skip's reason."""
    if isinstance(report.longrepr, tuple):  # a skip: (file, line, reason)
        return str(report.longrepr[2])
    text = str(report.longrepr or "").strip().splitlines()
    return text[-1][:300] if text else ""


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get("PYTEST_PROGRESS")
    if path:
        config.pluginmanager.register(Progress(path), "pytest-progress-writer")
