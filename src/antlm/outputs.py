"""Where a command other than ``antlm train`` may write.

Only ``antlm train`` writes a run directory (evaluation adds its results beside it). Every other
output (an export, a tokenizer, a summary) is refused when it would land on a run: ``antlm
export RUN RUN`` once replaced the run's weights with Hugging Face-named ones, and the run could
no longer be evaluated or resumed. ``--force`` lets an output replace files in a folder that
already holds some; it never makes a run directory an output, since that would destroy the run
just the same.
"""

from __future__ import annotations

from pathlib import Path

from antlm.errors import AntlmError
from antlm.rundir import is_run_directory


class OutputError(AntlmError):
    """An output path that would overwrite a run or other files."""


def refuse_run_directory(folder: Path, what: str) -> None:
    if is_run_directory(folder):
        raise OutputError(f"{folder} is a run directory; only `antlm train` writes there. Write "
                          f"the {what} to another folder")


def check_output_folder(folder: Path, what: str, force: bool = False) -> None:
    """Refuse ``folder`` as the place for ``what`` when it is a run, or (without ``force``) a
    file or a folder that is not empty; checked before anything is written."""
    folder = Path(folder)
    refuse_run_directory(folder, what)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder; choose a folder for the {what}")
    if not force and folder.is_dir() and any(folder.iterdir()):
        raise OutputError(f"{folder} is not empty; choose a new folder for the {what}, or pass "
                          "--force to write over the files in it")


def check_output_file(path: Path, what: str, force: bool = False) -> None:
    """Refuse ``path`` for ``what`` when it lies in a run directory, or (without ``force``)
    already exists."""
    path = Path(path)
    refuse_run_directory(path.parent, what)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name for the {what}")
    if not force and path.exists():
        raise OutputError(f"{path} exists; choose another file for the {what}, or pass --force "
                          "to replace it")
