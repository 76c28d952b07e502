"""The Python API: what the ``antlm`` command does, as functions for notebooks and scripts.

The one door into the library: every sub-command of ``antlm`` parses its arguments and calls
one of these functions (:mod:`antlm.cli` decides nothing), so a notebook and the command line
compute the same thing, with the same defaults. ``import antlm`` reaches them lazily (``antlm.pretrain``
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from antlm.config import (
    ConfigError,
    FinetuneConfig,
    RunConfig,
    load_config,
    override_config,
    parse_overrides,
    resolve_data_dir,
)
from antlm.eval.settings import EvaluationSettings
from antlm.options import BATCH_SIZE, SCALED_EPOCHS, STEPS_PER_EPOCH, STOP_AFTER_EPOCHS

if TYPE_CHECKING:
    from antlm.eval.suites import Suite
    from antlm.rundir import RunState

__all__ = ["DEFAULT_TASKS", "Evaluation", "EvaluationSettings", "LearningCurve", "SweepReport",
           "evaluate", "evaluate_checkpoints", "evaluation", "export_checkpoints", "export_hf",
           "finetune", "load_model", "macro", "plot", "presets", "pretrain", "report",
           "report_sweep", "run_state", "show_schedule", "submission", "sweep", "sweep_status",
           "train_tokenizer", "write_presets"]

PathLike = str | os.PathLike[str]
Overrides = Mapping[str, Any] | Sequence[str]

# What `antlm eval` and `antlm.evaluate` score when no task is named; a learning curve's
# default is the official fast sets (antlm.eval.curves.FAST_TASKS).
DEFAULT_TASKS = ("blimp_filtered", "blimp_supplement", "ewok")


def _run_config(config: RunConfig | PathLike, overrides: Overrides | None) -> RunConfig:
    """``config`` (a RunConfig, a YAML path or a preset name) with ``overrides`` applied and
    validated: a mapping of dotted keys to values, or ``KEY=VALUE`` strings as ``--set``
    takes them."""
    if isinstance(overrides, Mapping) or overrides is None:
        updates, pairs = dict(overrides or {}), []
    else:
        updates, pairs = {}, list(overrides)
    if isinstance(config, RunConfig):
        return override_config(config, {**updates, **parse_overrides(pairs)})
    return load_config(config, pairs, updates)


def _comma_list(names: str | Sequence[str]) -> str:
    """Names as the command line spells them (``a,b``): a string is taken whole, since joining
    its letters would turn ``"word_order"`` into the tasks ``w``, ``o``, ``r``, ..."""
    return names if isinstance(names, str) else ",".join(names)


def _settings(settings: EvaluationSettings | None, options: Mapping[str, Any]) -> EvaluationSettings:
    """``settings`` (default: the defaults) with ``options``, named as its fields, replacing
    theirs."""
    return (settings or EvaluationSettings()).updated(**options)


def pretrain(
    config: RunConfig | PathLike | None,
    out: PathLike | None = None,
    *,
    overrides: Overrides | None = None,
    data_dir: PathLike | None = None,
    resume: bool = False,
    stop_after_epochs: float | None = None,
    progress: bool = True,
) -> Path:
    """Train (or with ``resume``, continue) a run, as ``antlm train``; returns its directory
    (default ``runs/NAME``). ``overrides`` maps dotted keys to values:
    ``{"train.schedule": "2_CLM+2_MLM"}``. ``config=None`` with ``resume`` continues the run
    in ``out`` under the config it saved."""
    from antlm.train.trainer import train_run

    if config is None:
        if not (resume and out is not None):
            raise ConfigError("give a CONFIG file, or --resume --out RUN_DIR to continue a run")
        config = _saved_config(Path(out))
    run_config = _run_config(config, overrides)
    run_dir = Path(out) if out is not None else Path("runs") / run_config.name
    train_run(run_config, run_dir, resolve_data_dir(data_dir), resume=resume,
              stop_after_epochs=STOP_AFTER_EPOCHS.check(stop_after_epochs), progress=progress)
    return run_dir


def _saved_config(run_dir: Path) -> Path:
    """The config a run saved, to resume it without naming one; refused where ``run_dir`` is
    no run directory."""
    from antlm.rundir import RunPaths, read_config

    paths = RunPaths(run_dir)
    if not paths.config.is_file():
        read_config(paths)  # raises: not a run directory
    return paths.config


def run_state(run: PathLike) -> RunState | None:
    """Where a run's saved weights stand (``state.json``: step, words seen, finished), or None
    before its first checkpoint."""
    from antlm.rundir import RunPaths, read_state

    return read_state(RunPaths(Path(run)))


def train_tokenizer(
    config: RunConfig | PathLike,
    out: PathLike = "tokenizer.json",
    *,
    overrides: Overrides | None = None,
    data_dir: PathLike | None = None,
    force: bool = False,
) -> str:
    """Train (or reuse from the cache) the tokenizer of a config and save it to ``out``, as
    ``antlm tokenizer train``; returns what was trained, in one line."""
    from antlm.data.cache import default_cache_dir
    from antlm.data.prepare import load_split
    from antlm.data.prepare import train_tokenizer as train
    from antlm.outputs import check_output_file

    run_config = _run_config(config, overrides)
    check_output_file(Path(out), "tokenizer", force)
    corpus = load_split(run_config, resolve_data_dir(data_dir), "train")
    tokenizer = train(run_config, corpus, default_cache_dir())
    tokenizer.save(str(out))
    return (f"{run_config.tokenizer.kind} tokenizer, {tokenizer.vocab_size} entries, trained on "
            f"{corpus.summary()}")


def show_schedule(
    spec: str | None = None,
    *,
    epochs: float | None = None,
    words_per_epoch: str | int | None = None,
    steps_per_epoch: int | None = None,
    config: RunConfig | PathLike | None = None,
    overrides: Overrides | None = None,
    data_dir: PathLike | None = None,
) -> str:
    """The plan of a schedule ``spec`` (scaled to ``epochs``; with the words seen per phase for
    a corpus of ``words_per_epoch``, and the steps for ``steps_per_epoch``), or of a run
    ``config`` exactly as training places it, as ``antlm schedule show`` prints it."""
    if config is not None:
        from antlm.data.cache import default_cache_dir
        from antlm.train.plan import describe_plan

        return describe_plan(_run_config(config, overrides), resolve_data_dir(data_dir),
                             default_cache_dir())
    from antlm.schedule import format_plan, parse_schedule
    from antlm.train.plan import nominal_phase_words
    from antlm.units import parse_count

    if not spec:
        raise ConfigError("give a SPEC such as 4_CLM+16_MLM+4_CLM, or --config RUN_CONFIG")
    plan = parse_schedule(spec)
    if epochs is not None:
        plan = plan.scaled(SCALED_EPOCHS.check(epochs))
    words = None
    if words_per_epoch is not None:
        try:
            words = nominal_phase_words(plan, parse_count(str(words_per_epoch)))
        except ValueError as exc:
            raise ConfigError(f"--words-per-epoch: {exc}") from None
    steps = None if steps_per_epoch is None else STEPS_PER_EPOCH.check(steps_per_epoch)
    return format_plan(plan, steps, words)


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: the subject's name and ``results.json`` (its path and its whole content
    after the scores were merged in) and the suite they were scored under. Not the model: a
    notebook that keeps the record does not keep the weights in memory."""

    name: str
    results_path: Path
    suite: Suite
    results: dict[str, Any]

    def render(self, detail: bool = False, markdown: bool = False) -> str:
        """The tables ``antlm eval`` prints (``detail``: every subtask)."""
        from antlm.eval.report import render_evaluation

        return render_evaluation(self.results, self.suite, self.name, detail=detail,
                                 target="markdown" if markdown else "terminal")


def evaluation(
    path: PathLike,
    tasks: str | Sequence[str] | None = None,
    *,
    suite: str | None = None,
    data_dir: PathLike | None = None,
    settings: EvaluationSettings | None = None,
    **options: Any,
) -> Evaluation:
    """Zero-shot evaluation of a run or a Hugging Face model folder, as ``antlm eval``; the
    scores are merged into the subject's ``results.json``. ``tasks`` is one name, a
    comma-separated string as ``--tasks`` takes, or a list (default :data:`DEFAULT_TASKS`).
    ``settings`` (:class:`antlm.eval.settings.EvaluationSettings`) or its fields as keywords
    (``backend``, ``max_pairs``, ``batch_size``, ``precision``, ``device``, ``out``, ...) say how
    to score."""
    from antlm.eval.runner import evaluate_path
    from antlm.eval.suites import get_suite
    from antlm.eval.tasks import parse_task_list

    scoring = _settings(settings, options)
    chosen = get_suite(suite)
    subject, results = evaluate_path(
        path, parse_task_list(_comma_list(DEFAULT_TASKS if tasks is None else tasks)),
        resolve_data_dir(data_dir), chosen, scoring)
    return Evaluation(subject.name, subject.results_path, chosen, results)


def evaluate(
    path: PathLike,
    tasks: str | Sequence[str] | None = None,
    *,
    suite: str | None = None,
    data_dir: PathLike | None = None,
    settings: EvaluationSettings | None = None,
    **options: Any,
) -> dict[str, Any]:
    """:func:`evaluation`'s whole ``results.json``: what a notebook reads the scores from."""
    return evaluation(path, tasks, suite=suite, data_dir=data_dir, settings=settings,
                      **options).results


@dataclass(frozen=True)
class LearningCurve:
    """A run's learning curve as ``learning_curve.json`` holds it, the files written beside
    it, and its age-of-acquisition section of ``results.json`` (None: not asked for);
    ``name`` titles its tables (the run's or the repository's folder name)."""

    name: str
    curve: dict[str, Any]
    files: list[Path]
    aoa: dict[str, Any] | None


def evaluate_checkpoints(
    run: PathLike,
    tasks: str | Sequence[str] | None = None,
    *,
    suite: str | None = None,
    data_dir: PathLike | None = None,
    aoa: bool = True,
    settings: EvaluationSettings | None = None,
    **options: Any,
) -> LearningCurve:
    """Every milestone checkpoint (and the final model) scored on ``tasks`` (default: the
    official fast sets), and with ``aoa`` the age of acquisition of words, as ``antlm eval
    --checkpoints``. ``run`` is a run directory or a git repository of revisions as ``antlm
    export --checkpoints`` writes it (:mod:`antlm.eval.revisions`). One backend is scored:
    ``settings.backend`` when it names one, else (``auto``, ``declared``) the declared one; of
    the settings a curve uses the backend, ``max_pairs``, ``batch_size``, ``precision``,
    ``device``, ``progress``, and for a repository ``out`` (its results folder) and
    ``trust_remote_code``."""
    from antlm.eval import curves
    from antlm.eval.revisions import results_folder
    from antlm.eval.tasks import parse_task_list
    from antlm.rundir import RunPaths, read_results

    scoring = _settings(settings, options)
    curve = curves.evaluate_checkpoints(
        run, resolve_data_dir(data_dir), backend=scoring.backend,
        tasks=parse_task_list(_comma_list(curves.FAST_TASKS if tasks is None else tasks)),
        max_pairs_per_subtask=scoring.max_pairs, batch_size=scoring.batch_size,
        precision=scoring.precision, device=scoring.device, progress=scoring.progress,
        suite=suite, aoa=aoa, out=scoring.out, trust_remote_code=scoring.trust_remote_code)
    paths = RunPaths(results_folder(run, scoring.out))
    files = [paths.learning_curve.with_suffix(suffix) for suffix in (".json", ".md", ".png")]
    section = read_results(paths)["aoa"][curve["settings"]["suite"]] if aoa else None
    return LearningCurve(Path(run).resolve().name, curve, files, section)


def report(
    paths: PathLike | Sequence[PathLike],
    suite: str | None = None,
    markdown: bool = False,
    *,
    detail: bool = False,
    out: PathLike | None = None,
) -> str:
    """The report of one run (or several side by side), as ``antlm report`` prints it (plain
    text columns), or in Markdown (``markdown=True``) for a file or a notebook cell
    (``detail``: every subtask of one run). With ``out`` it is also written there (never
    into a run directory), in Markdown when ``out`` ends in ``.md``."""
    from antlm.eval.report import report_runs
    from antlm.eval.suites import get_suite
    from antlm.eval.tables import target_of

    dirs = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not dirs:
        raise ConfigError("give one or more RUN_DIRs, or --sweep ROOT/NAME")
    if out is None:
        return report_runs(dirs, get_suite(suite), detail=detail,
                           target="markdown" if markdown else "terminal")
    from antlm.atomic import atomic_write_bytes
    from antlm.outputs import check_output_file

    check_output_file(Path(out), "report", force=True)  # a report file is rewritten at will
    text = report_runs(dirs, get_suite(suite), detail=detail, target=target_of(out))
    atomic_write_bytes(Path(out), (text + "\n").encode())
    return text


@dataclass(frozen=True)
class SweepReport:
    """A sweep's summary: the files written (JSON, Markdown, plots) and the Markdown text;
    ``pending`` says why there is none yet (no files, no text) where other processes still
    run some of a sweep that declares its primary endpoint."""

    files: list[Path]
    markdown: str
    pending: str | None = None


def report_sweep(sweep_dir: PathLike, out: PathLike | None = None,
                 interim: bool = False) -> SweepReport:
    """Summarise the sweep in ``sweep_dir`` (``ROOT/NAME``): mean ± sd per arm, deltas, plots,
    written to ``out`` (default ``NAME/summary``), as ``antlm report --sweep``. A sweep that
    declares its primary endpoint is refused before every planned seed is in, unless
    ``interim``."""
    from antlm.outputs import refuse_run_directory
    from antlm.sweep.markdown import render_markdown
    from antlm.sweep.report import refuse_interim, write_summary
    from antlm.sweep.spec import sweep_of_directory
    from antlm.sweep.summary import collect

    directory = Path(sweep_dir)
    summary = collect(sweep_of_directory(directory), directory.parent)
    if not interim:
        refuse_interim(summary, directory)
    if out is not None:
        refuse_run_directory(Path(out), "sweep summary")
    files = write_summary(summary, Path(out) if out is not None else directory / "summary")
    return SweepReport(files, render_markdown(summary))


def sweep(
    spec: PathLike,
    root: PathLike = "runs",
    *,
    data_dir: PathLike | None = None,
    jobs: int = 1,
    arms: str | Sequence[str] | None = None,
    train_only: bool = False,
) -> SweepReport | None:
    """Train and evaluate every run of a sweep (a YAML path or a preset name) under
    ``root/NAME``, resuming what was done, as ``antlm sweep``; returns its summary (None with
    ``train_only``). Several processes may share a sweep: one that ends while others still
    run part of a sweep that declares its primary endpoint returns a report with ``pending``
    set, not an error."""
    from antlm.options import JOBS
    from antlm.sweep.report import InterimReportError
    from antlm.sweep.runner import run_sweep
    from antlm.sweep.spec import load_sweep

    chosen = arms.split(",") if isinstance(arms, str) else None if arms is None else list(arms)
    run_sweep(Path(spec), Path(root), resolve_data_dir(data_dir), jobs=JOBS.check(jobs),
              arms=chosen, train_only=train_only)
    if train_only:
        return None
    try:
        return report_sweep(Path(root) / load_sweep(spec).name)
    except InterimReportError as exc:
        return SweepReport([], "", pending=str(exc))


def sweep_status(spec: PathLike, root: PathLike = "runs") -> str:
    """Each run's stage (done, training, interrupted, pending) and the time left, without any
    score, as ``antlm sweep --status``: runs nothing."""
    from antlm.sweep.spec import load_sweep
    from antlm.sweep.status import render_status

    return render_status(load_sweep(spec), Path(root))


def finetune(
    run: PathLike,
    tasks: str | Sequence[str],
    *,
    data_dir: PathLike | None = None,
    config: FinetuneConfig | None = None,
    device: str = "auto",
    progress: bool = True,
) -> dict[str, Any]:
    """GLUE fine-tuning of a run under ``config`` (default: the BabyLM recipe), each task's
    record merged into its ``results.json``, as ``antlm finetune``; ``tasks`` is one name, a
    comma-separated string or a list. Returns each task's outcome."""
    from antlm.eval.finetune import finetune_run
    from antlm.eval.glue import parse_task_names

    names = parse_task_names([tasks] if isinstance(tasks, str) else list(tasks))
    return finetune_run(run, names, resolve_data_dir(data_dir), config, device=device,
                        progress=progress)


def macro(run: PathLike, suite: str | None = None, backend: str | None = None,
          markdown: bool = False) -> str:
    """The BabyLM macro-average table of a run or results directory (every result recorded so
    far), as ``antlm macro``; ``backend``: the zero-shot backend to read (default: the
    declared one)."""
    from antlm.eval.macro import report_macro
    from antlm.eval.suites import get_suite

    return report_macro(run, get_suite(suite), backend=backend,
                        target="markdown" if markdown else "terminal")


def plot(runs: PathLike | Sequence[PathLike], out: PathLike | None = None) -> Path:
    """The dev-loss figure of one run or several overlaid, as ``antlm plot``; returns the
    PNG's path."""
    from antlm.plots.runs import plot_runs

    return plot_runs([runs] if isinstance(runs, (str, os.PathLike)) else list(runs), out)


def export_hf(
    run: PathLike, out: PathLike, *, attention: str = "bidirectional", checkpoints: bool = False,
    force: bool = False,
) -> Path:
    """A run as a Hugging Face folder, as ``antlm export`` (``checkpoints``: a git repository
    with one branch per milestone checkpoint, see :func:`export_checkpoints`; ``force``: write
    into a folder that holds files); returns the folder."""
    if checkpoints:
        export_checkpoints(run, out, attention=attention, force=force)
        return Path(out)
    from antlm.export.hf import export_run

    return export_run(run, out, attention=attention, force=force)


def export_checkpoints(run: PathLike, out: PathLike, *, attention: str = "bidirectional",
                       force: bool = False) -> tuple[list[str], str]:
    """A run as a git repository in ``out``: the final model on ``main``, one branch per
    milestone checkpoint, as ``antlm export --checkpoints``; returns the branches (``main``
    first) and how to publish them to the Hub. The repository starts empty: ``force`` is
    refused."""
    from antlm.export.revisions import export_revisions, publish_instructions

    if force:
        raise ConfigError("--force does not apply to --checkpoints: the repository is built "
                          f"from scratch; remove {out} or choose a new folder")
    return export_revisions(run, out, attention=attention), publish_instructions(out)


def presets() -> tuple[Path, dict[str, list[str]]]:
    """The packaged presets' folder and their names by kind (``runs``, ``models``,
    ``sweeps``), as ``antlm presets`` lists them; a run preset's name goes where a config
    path does."""
    from antlm.presets import list_presets, preset_root

    return preset_root(), list_presets()


def write_presets(out: PathLike) -> list[Path]:
    """Copy every preset to ``out/{runs,models,sweeps}`` to edit (existing files kept; never
    into a run directory), as ``antlm presets --write``; returns the files written."""
    from antlm.outputs import refuse_run_directory
    from antlm.presets import write_presets as write

    refuse_run_directory(Path(out), "presets")
    return write(Path(out))


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
    comps_dir: PathLike | None = None,
) -> Any:
    """A run's BabyLM leaderboard submission in the official layout, as ``antlm submission``:
    computes what ``out`` does not hold yet (zero-shot with predictions, GLUE, the fast sets
    at every revision of ``track``), writes every ``predictions.json`` and the collated file;
    returns the report (:class:`antlm.eval.submission.SubmissionReport`: what was written,
    what is missing and why, the scores by the leaderboard's rule). ``glue_max_train_examples``
    and ``glue_epochs`` shorten fine-tuning for a quick check (not the recipe); a run beyond
    the track's rules (10 epochs, the track's corpus) is refused unless ``workshop_only``;
    ``comps_dir``: COMPS's folder when it is not under the data directory (absent: listed as
    missing)."""
    from antlm.eval.submission import glue_recipe, write_submission
    from antlm.eval.suites import get_suite

    return write_submission(run, out, resolve_data_dir(data_dir), get_suite(suite), track,
                            backend, BATCH_SIZE.check(batch_size),
                            glue_recipe(glue_max_train_examples, glue_epochs), device, progress,
                            force, workshop_only, comps_dir)
