"""The Python API: what the ``antlm`` command does, as functions for notebooks and scripts.

Each function is a thin door into the library, as each sub-command is, so a notebook and the
command line compute the same thing. ``import antlm`` reaches them lazily (``antlm.pretrain``
imports torch only when first used)::

    import antlm

    run = antlm.pretrain("demo", "runs/demo")       # a preset name, a YAML path or a RunConfig
    antlm.evaluate(run, tasks=["blimp_filtered", "word_order"])
    print(antlm.report(run))
    antlm.plot(run)                                 # runs/demo/dev_loss.png
    loaded = antlm.load_model(run)                  # config, tokenizer, model
    antlm.export_hf(run, "hf/demo")

The names are ``pretrain`` and ``export_hf``, not ``train`` and ``export``, because
``antlm.train`` and ``antlm.export`` are sub-packages: importing one replaces a function of the
same name on the package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from antlm.config import RunConfig, load_config, override_config, resolve_data_dir
from antlm.options import BATCH_SIZE, MAX_PAIRS, STOP_AFTER_EPOCHS

__all__ = ["evaluate", "export_hf", "load_model", "plot", "pretrain", "report", "submission"]

PathLike = str | os.PathLike[str]

DEFAULT_TASKS = ("blimp_filtered", "blimp_supplement", "ewok")


def _run_config(config: RunConfig | PathLike, overrides: Mapping[str, Any] | None) -> RunConfig:
    """``config`` (a RunConfig, a YAML path or a preset name) with dotted-key ``overrides``
    applied and validated, as ``--set`` would."""
    if isinstance(config, RunConfig):
        return override_config(config, dict(overrides or {}))
    return load_config(config, updates=dict(overrides or {}))


def _comma_list(names: str | Sequence[str]) -> str:
    """Names as the command line spells them (``a,b``): a string is taken whole, since joining
    its letters would turn ``"word_order"`` into the tasks ``w``, ``o``, ``r``, ..."""
    return names if isinstance(names, str) else ",".join(names)


def pretrain(
    config: RunConfig | PathLike,
    out: PathLike | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    data_dir: PathLike | None = None,
    resume: bool = False,
    stop_after_epochs: float | None = None,
    progress: bool = True,
) -> Path:
    """Train (or with ``resume``, continue) a run, as ``antlm train``; returns its directory
    (default ``runs/NAME``). ``overrides`` maps dotted keys to values:
    ``{"train.schedule": "2_CLM+2_MLM"}``."""
    from antlm.train.trainer import train_run

    run_config = _run_config(config, overrides)
    run_dir = Path(out) if out is not None else Path("runs") / run_config.name
    train_run(run_config, run_dir, resolve_data_dir(data_dir), resume=resume,
              stop_after_epochs=STOP_AFTER_EPOCHS.check(stop_after_epochs), progress=progress)
    return run_dir


def evaluate(
    path: PathLike,
    tasks: str | Sequence[str] = DEFAULT_TASKS,
    *,
    backend: str = "auto",
    suite: str | None = None,
    max_pairs: int | None = None,
    batch_size: int = 64,
    data_dir: PathLike | None = None,
    device: str = "auto",
    progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Zero-shot evaluation of a run or a Hugging Face model folder, as ``antlm eval``; returns
    the whole ``results.json`` (also written). ``tasks`` is one name, a comma-separated
    string as ``--tasks`` takes, or a list. ``options`` go to
    :func:`antlm.eval.runner.evaluate_path` (``precision``, ``out``, ...)."""
    from antlm.eval.runner import evaluate_path
    from antlm.eval.suites import get_suite
    from antlm.eval.tasks import parse_task_list

    _, results = evaluate_path(
        path, parse_task_list(_comma_list(tasks)), resolve_data_dir(data_dir), get_suite(suite),
        backend=backend, batch_size=BATCH_SIZE.check(batch_size),
        max_pairs_per_subtask=MAX_PAIRS.check(max_pairs), device=device, progress=progress,
        **options,
    )
    return results


def report(
    paths: PathLike | Sequence[PathLike], suite: str | None = None, markdown: bool = False
) -> str:
    """The report of one run (or several side by side), as ``antlm report`` prints it (plain
    text columns), or in Markdown (``markdown=True``) for a file or a notebook cell."""
    from antlm.eval.report import report_runs
    from antlm.eval.suites import get_suite

    dirs = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    return report_runs(dirs, get_suite(suite), target="markdown" if markdown else "terminal")


def plot(runs: PathLike | Sequence[PathLike], out: PathLike | None = None) -> Path:
    """The dev-loss figure of one run or several overlaid, as ``antlm plot``; returns the
    PNG's path."""
    from antlm.plots.runs import plot_runs

    return plot_runs([runs] if isinstance(runs, (str, os.PathLike)) else list(runs), out)


def export_hf(
    run: PathLike, out: PathLike, *, attention: str = "bidirectional", checkpoints: bool = False
) -> Path:
    """A run as a Hugging Face folder, as ``antlm export`` (``checkpoints``: a git repository
    with one branch per milestone checkpoint); returns the folder."""
    if checkpoints:
        from antlm.export.revisions import export_revisions

        export_revisions(run, out, attention=attention)
        return Path(out)
    from antlm.export.hf import export_run

    return export_run(run, out, attention=attention)


def load_model(run: PathLike, device: str = "cpu", checkpoint: str | None = None) -> Any:
    """A run's config, tokenizer and model in eval mode (a
    :class:`antlm.rundir.LoadedRun`: ``.config``, ``.tokenizer``, ``.model``); ``checkpoint``
    names a milestone (``chck_1M``)."""
    from antlm.device import resolve_device
    from antlm.rundir import load_run

    return load_run(run, resolve_device(device), checkpoint)


def submission(
    run: PathLike,
    out: PathLike,
    *,
    track: str = "strict-small",
    backend: str | None = None,
    suite: str | None = None,
    data_dir: PathLike | None = None,
    batch_size: int = 64,
    glue_max_train_examples: int | None = None,
    glue_epochs: int | None = None,
    device: str = "auto",
    progress: bool = True,
    force: bool = False,
    workshop_only: bool = False,
) -> Any:
    """A run's BabyLM leaderboard submission in the official layout, as ``antlm submission``:
    computes what ``out`` does not hold yet (zero-shot with predictions, GLUE, the fast sets
    at every revision of ``track``), writes every ``predictions.json`` and the collated file;
    returns the report (:class:`antlm.eval.submission.SubmissionReport`: what was written,
    what is missing and why, the scores by the leaderboard's rule). ``glue_max_train_examples``
    and ``glue_epochs`` shorten fine-tuning for a quick check (not the recipe); a run beyond
    the track's rules (10 epochs, the track's corpus) is refused unless ``workshop_only``."""
    from antlm.eval.submission import glue_recipe, write_submission
    from antlm.eval.suites import get_suite

    return write_submission(run, out, resolve_data_dir(data_dir), get_suite(suite), track,
                            backend, BATCH_SIZE.check(batch_size),
                            glue_recipe(glue_max_train_examples, glue_epochs), device, progress,
                            force, workshop_only)
