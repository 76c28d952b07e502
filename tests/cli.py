"""The real ``antlm`` command in a subprocess, and what a failed command must leave behind."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def cli_env(**extra: str) -> dict[str, str]:
    """This test session's environment (its data and cache directories), one thread, and the
    source tree first on the path."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"),
                                                      env.get("PYTHONPATH")]))
    return env


def antlm(*args: str | Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "antlm", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, env=cli_env(**env), timeout=600,
                          check=False)


def assert_user_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit code 2, one ``antlm: error:`` message holding every fragment, no traceback."""
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-3000:]
    assert "antlm: error: " in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr


def assert_refused(capsys, *argv: str | Path) -> str:
    """Run ``antlm ARGV`` in this process (no subprocess: the fast lane's way to test the
    command's error contract) and check it exits 2 without a traceback; returns stderr, which
    holds the ``antlm: error:`` message, or argparse's for a bad command line."""
    from antlm.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([str(arg) for arg in argv])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "error: " in err and "Traceback" not in err, err
    return err


def snapshot(folder: Path) -> dict[str, tuple[str, int, float]]:
    """Every file under ``folder``: content hash, mode and modification time."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                         p.stat().st_mode, p.stat().st_mtime)
            for p in sorted(folder.rglob("*")) if p.is_file()}
