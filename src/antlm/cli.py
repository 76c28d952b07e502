"""The ``antlm`` command. Argument parsing only: every sub-command calls into the library."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import NoReturn

from antlm.config import ConfigError, load_config, resolve_data_dir
from antlm.errors import BUG_EXIT, USAGE_EXIT, AntlmError, environment_error_message
from antlm.options import (
    BATCH_SIZE,
    DEVICES,
    JOBS,
    MAX_PAIRS,
    SCALED_EPOCHS,
    STEPS_PER_EPOCH,
    STOP_AFTER_EPOCHS,
)

DATA_DIR_OPTION = "data directory (default: $ANTLM_DATA_DIR, else ./data)"

Handler = Callable[[argparse.Namespace], int | None]


class _DefaultsFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default: the defaults encode the BabyLM recipe, so
    ``--help`` must show them. An option whose help already states its default, or whose default
    is "not given" (None, False), is left as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (not action.option_strings or "default" in text
                or action.default in (None, False, "", [], argparse.SUPPRESS)):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose sub-commands (at any depth) use :class:`_DefaultsFormatter`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- train
def _cmd_train(args: argparse.Namespace) -> None:
    from antlm.rundir import RunPaths, read_config
    from antlm.train.launch import launch_devices
    from antlm.train.trainer import train_run

    if args.devices and args.devices > 1:
        sys.exit(launch_devices(args.devices, sys.argv[1:]))
    if args.config is None:
        if not (args.resume and args.out):
            raise ConfigError("give a CONFIG file, or --resume --out RUN_DIR to continue a run")
        paths = RunPaths(Path(args.out))
        config = load_config(paths.config if paths.config.is_file() else None, args.set)
        if not paths.config.is_file():
            read_config(paths)  # raises: not a run directory
    else:
        config = load_config(args.config, args.set)
    out = Path(args.out) if args.out else Path("runs") / config.name
    result = train_run(
        config, out, resolve_data_dir(args.data_dir), resume=args.resume,
        stop_after_epochs=args.stop_after_epochs, progress=not args.no_progress,
    )
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one line, not one per process
        state = "finished" if result["finished"] else f"stopped at step {result['step']} (resumable)"
        print(f"antlm: run {out} {state}")


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model under a schedule")
    p.add_argument("config", nargs="?", help="run config YAML, or a preset name such as demo (antlm presets); omit "
                        "with --resume --out RUN")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set train.schedule=2_CLM+2_MLM")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    p.add_argument("--out", help="run directory (default: runs/NAME)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--stop-after-epochs", type=STOP_AFTER_EPOCHS.parse, default=None,
                   help="checkpoint and stop after this many more epochs (resume later; "
                        "default: train to the end)")
    p.add_argument("--devices", type=DEVICES.parse, default=None,
                   help="train on N local processes/GPUs via torchrun (DDP; default: one process)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_train)


# ---------------------------------------------------------------------------- tokenizer
def _cmd_tokenizer_train(args: argparse.Namespace) -> None:
    from antlm.data.cache import default_cache_dir
    from antlm.data.prepare import load_split, train_tokenizer
    from antlm.outputs import check_output_file

    config = load_config(args.config, args.set)
    check_output_file(Path(args.out), "tokenizer", args.force)
    corpus = load_split(config, resolve_data_dir(args.data_dir), "train")
    tokenizer = train_tokenizer(config, corpus, default_cache_dir())
    tokenizer.save(args.out)
    print(f"antlm: {config.tokenizer.kind} tokenizer, {tokenizer.vocab_size} entries, trained on "
          f"{corpus.summary()} -> {args.out}")


def _add_tokenizer(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tokenizer", help="tokenizer tools")
    tsub = p.add_subparsers(dest="tokenizer_command", required=True)
    t = tsub.add_parser("train", help="train (or reuse from cache) the tokenizer of a config")
    t.add_argument("config", help="run config YAML, or a preset name (antlm presets)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value")
    t.add_argument("--data-dir", help=DATA_DIR_OPTION)
    t.add_argument("--out", default="tokenizer.json", help="where the tokenizer goes")
    t.add_argument("--force", action="store_true", help="replace --out if it exists")
    t.set_defaults(handler=_cmd_tokenizer_train)


# ---------------------------------------------------------------------------- schedule
def _cmd_schedule_show(args: argparse.Namespace) -> None:
    from antlm.schedule import format_plan, parse_schedule
    from antlm.train.plan import describe_plan, nominal_phase_words
    from antlm.units import parse_count

    if args.config:
        from antlm.data.cache import default_cache_dir

        config = load_config(args.config, args.set)
        print(describe_plan(config, resolve_data_dir(args.data_dir), default_cache_dir()))
        return
    if not args.spec:
        raise ConfigError("give a SPEC such as 4_CLM+16_MLM+4_CLM, or --config RUN_CONFIG")
    plan = parse_schedule(args.spec)
    if args.epochs is not None:
        plan = plan.scaled(args.epochs)
    words = None
    if args.words_per_epoch is not None:
        try:
            words = nominal_phase_words(plan, parse_count(args.words_per_epoch))
        except ValueError as exc:
            raise ConfigError(f"--words-per-epoch: {exc}") from None
    print(format_plan(plan, args.steps_per_epoch, words))


def _add_schedule(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schedule", help="schedule language tools")
    ssub = p.add_subparsers(dest="schedule_command", required=True)
    s = ssub.add_parser("show", help="print the plan of a schedule, or of a run config")
    s.add_argument("spec", nargs="?", help="e.g. '4_CLM+16_MLM+4_CLM' or '(2_CLM+2_MLM)*6'")
    s.add_argument("--epochs", type=SCALED_EPOCHS.parse, default=None,
                   help="scale the schedule's proportions to this many epochs")
    s.add_argument("--words-per-epoch", default=None,
                   help="the corpus's words (e.g. 10M): adds the words seen per phase")
    s.add_argument("--steps-per-epoch", type=STEPS_PER_EPOCH.parse, default=None,
                   help="adds each phase's steps")
    s.add_argument("--config", help="a run config: its plan as training places it, with the "
                   "exact words seen (reads and tokenizes the corpus, cached)")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="with --config: override a config value")
    s.add_argument("--data-dir", help="with --config: " + DATA_DIR_OPTION)
    s.set_defaults(handler=_cmd_schedule_show)


# ---------------------------------------------------------------------------- eval / report
def _cmd_eval(args: argparse.Namespace) -> None:
    if args.checkpoints:
        _eval_checkpoints(args)
        return
    from antlm.eval.report import render_evaluation
    from antlm.eval.runner import evaluate_path
    from antlm.eval.suites import get_suite
    from antlm.eval.tasks import parse_task_list

    suite = get_suite(args.suite)
    subject, results = evaluate_path(
        args.path, parse_task_list(args.tasks or "blimp_filtered,blimp_supplement,ewok"), resolve_data_dir(args.data_dir), suite,
        backend=args.backend, batch_size=args.batch_size, max_pairs_per_subtask=args.max_pairs,
        precision=args.precision, device=args.device, progress=not args.no_progress,
        trust_remote_code=args.trust_remote_code, out=args.out,
        save_predictions=args.save_predictions, comps_dir=args.comps_dir,
    )
    print(f"antlm: results in {subject.results_path}", file=sys.stderr)
    print(render_evaluation(results, suite, subject.name, detail=args.detail, target="terminal"))


def _eval_checkpoints(args: argparse.Namespace) -> None:
    from antlm.eval.aoa import render_aoa
    from antlm.eval.curves import FAST_TASKS, evaluate_checkpoints, render_curve
    from antlm.eval.revisions import results_folder
    from antlm.eval.tasks import parse_task_list
    from antlm.rundir import RunPaths, read_results

    curve = evaluate_checkpoints(
        args.path, resolve_data_dir(args.data_dir),
        backend=args.backend,
        tasks=parse_task_list(args.tasks or ",".join(FAST_TASKS)),
        max_pairs_per_subtask=args.max_pairs,
        batch_size=args.batch_size,
        precision=args.precision, device=args.device, progress=not args.no_progress,
        suite=args.suite, aoa=not args.no_aoa, out=args.out,
        trust_remote_code=args.trust_remote_code,
    )
    name = Path(args.path).resolve().name
    folder = results_folder(args.path, args.out)
    print(render_curve(curve, name, target="terminal"))
    print(f"antlm: wrote {folder / 'learning_curve'}.{{json,md,png}}")
    if not args.no_aoa:
        section = read_results(RunPaths(folder))["aoa"][curve["settings"]["suite"]]
        print(render_aoa(section, name, target="terminal"))


def _cmd_report(args: argparse.Namespace) -> None:
    from antlm.atomic import atomic_write_bytes
    from antlm.eval.report import report_runs
    from antlm.eval.suites import get_suite
    from antlm.eval.tables import target_of
    from antlm.outputs import check_output_file

    if args.sweep:
        _report_sweep(Path(args.sweep), Path(args.out) if args.out else None, args.interim)
        return
    if not args.run_dirs:
        raise ConfigError("give one or more RUN_DIRs, or --sweep ROOT/NAME")
    if args.out is not None:  # a report file is rewritten at will, never in a run directory
        check_output_file(Path(args.out), "report", force=True)
    text = report_runs(args.run_dirs, get_suite(args.suite), detail=args.detail,
                       target=target_of(args.out))
    if args.out is None:
        print(text)
        return
    atomic_write_bytes(Path(args.out), (text + "\n").encode())
    print(f"antlm: wrote {args.out}")


def _report_sweep(sweep_dir: Path, out: Path | None, interim: bool = False) -> None:
    from antlm.outputs import refuse_run_directory
    from antlm.sweep.markdown import render_markdown
    from antlm.sweep.report import refuse_interim, write_summary
    from antlm.sweep.spec import sweep_of_directory
    from antlm.sweep.summary import collect

    sweep = sweep_of_directory(sweep_dir)
    summary = collect(sweep, sweep_dir.parent)
    if not interim:
        refuse_interim(summary, sweep_dir)
    if out is not None:
        refuse_run_directory(out, "sweep summary")
    for path in write_summary(summary, out or sweep_dir / "summary"):
        print(f"antlm: wrote {path}")
    print(render_markdown(summary))


def _add_suite(parser: argparse.ArgumentParser) -> None:
    from antlm.eval.suites import DEFAULT_SUITE, SUITES

    parser.add_argument("--suite", choices=list(SUITES), default=None,
                        help=f"the official pipeline whose conventions apply (default: "
                             f"{DEFAULT_SUITE}; see docs/EVALUATION.md)")


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="zero-shot BabyLM evaluation (BLiMP, supplement, EWoK) of a "
                                    "run or a Hugging Face model folder")
    p.add_argument("path", metavar="PATH",
                   help="a run directory, or a Hugging Face model folder (causal LMs through "
                        "AutoModelForCausalLM, masked LMs through AutoModelForMaskedLM); with "
                        "--checkpoints, a run or a git repository of revisions (chck_* "
                        "branches, as `antlm export --checkpoints` writes it)")
    p.add_argument("--tasks", default=None,
                   help="comma-separated: blimp_filtered, blimp, blimp_supplement, ewok, "
                        "entity_tracking(_fast), comps (--comps-dir), wug_adj, wug_past (Spearman's rho with human "
                        "choices), reading (surprisal in regressions on reading times; all its "
                        "words, whatever --max-pairs), the official fast sets blimp_fast, "
                        "supplement_fast, ewok_fast, and the word_order diagnostic (BLiMP "
                        "sentences vs. their words shuffled); default blimp_filtered,"
                        "blimp_supplement,ewok, with --checkpoints blimp_fast,supplement_fast,"
                        "ewok_fast")
    p.add_argument("--backend", default="auto",
                   help="auto (the model's own list), all, declared (the headline's alone), or "
                        "a list of causal, mlm, mntp, fused, mlm_word_l2r; one backend named "
                        "alone is also the headline, otherwise the headline is the declared one")
    _add_suite(p)
    p.add_argument("--out", help="Hugging Face folder or repository of revisions only: where "
                                 "its results.json (and learning curve) go (default: "
                                 "results/NAME)")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="run a model folder's own modelling code (needed for LTG-BERT "
                        "checkpoints; antlm's own exports are recognised without it)")
    p.add_argument("--save-predictions", action="store_true",
                   help="write every pair's scores to predictions/SUITE/TASK.jsonl beside "
                        "results.json")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    p.add_argument("--comps-dir", default=None,
                   help="the folder of COMPS's comps_*.jsonl files (default: "
                        "evaluation_data/full_eval/comps under the data directory; absent: "
                        "COMPS is reported missing, the other tasks are scored)")
    p.add_argument("--batch-size", type=BATCH_SIZE.parse, default=64,
                   help="model rows per forward pass")
    p.add_argument("--max-pairs", type=MAX_PAIRS.parse, default=None,
                   help="score only the first N pairs of each subtask (quick runs; default: all)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                   help="of the scoring forward passes")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--detail", action="store_true", help="list every subtask in the table")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--checkpoints", action="store_true",
                   help="learning curve: score every milestone checkpoint (of a run, or the "
                        "chck_* branches of a repository) with the declared backend (--backend "
                        "overrides) on the official fast sets, and the age of acquisition of "
                        "words over the checkpoints")
    p.add_argument("--no-aoa", action="store_true",
                   help="with --checkpoints: the learning curve alone, no age of acquisition")
    p.set_defaults(handler=_cmd_eval)

    r = sub.add_parser("report", help="results table of a run (or an evaluated model folder's "
                                      "results directory), or several side by side")
    r.add_argument("run_dirs", nargs="*", metavar="DIR", help="runs or results directories")
    r.add_argument("--sweep", metavar="ROOT/NAME",
                   help="summarise a sweep directory: mean ± sd per arm, deltas, plots")
    r.add_argument("--out", help="with --sweep: where to write the summary (default NAME/summary); "
                                 "with DIRs: a file for the report, Markdown if it ends in .md, "
                                 "else plain text (default: print it as plain text)")
    r.add_argument("--interim", action="store_true",
                   help="with --sweep: show a sweep that declares its primary endpoint before "
                        "all its planned seeds are in (marked interim)")
    r.add_argument("--detail", action="store_true", help="list every subtask (one run)")
    _add_suite(r)
    r.set_defaults(handler=_cmd_report)


# ---------------------------------------------------------------------------- sweep
def _cmd_sweep(args: argparse.Namespace) -> None:
    from antlm.sweep.runner import run_sweep
    from antlm.sweep.spec import load_sweep

    root = Path(args.root)
    if args.status:
        from antlm.sweep.status import render_status

        print(render_status(load_sweep(args.sweep), root))
        return
    run_sweep(Path(args.sweep), root, resolve_data_dir(args.data_dir), jobs=args.jobs,
              arms=args.arms.split(",") if args.arms else None, train_only=args.train_only)
    if not args.train_only:
        from antlm.sweep.report import InterimReportError

        try:
            _report_sweep(root / load_sweep(args.sweep).name, None)
        except InterimReportError as exc:  # other processes still run some: not an error here
            print(f"antlm sweep: no report yet: {exc}")


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="train and evaluate a grid of runs (resumable)")
    p.add_argument("sweep", help="sweep YAML, e.g. configs/sweeps/babyllama-tiny.yaml, or a "
                                 "preset name (antlm presets)")
    p.add_argument("--root", default="runs", help="runs go to ROOT/NAME/ARM/seedS")
    p.add_argument("--jobs", type=JOBS.parse, default=1, help="runs trained at once")
    p.add_argument("--arms", help="only these arms (comma-separated)")
    p.add_argument("--train-only", action="store_true",
                   help="train (or resume) every run, evaluate none; rerun without it to evaluate")
    p.add_argument("--status", action="store_true",
                   help="run nothing: list each run's stage (done, training, interrupted, "
                        "pending) and the time left, without showing any score")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    p.set_defaults(handler=_cmd_sweep)


# ---------------------------------------------------------------------------- finetune / macro
def _cmd_finetune(args: argparse.Namespace) -> None:
    from antlm.config import FinetuneConfig
    from antlm.eval.finetune import finetune_run
    from antlm.eval.glue import parse_task_names
    from antlm.eval.macro import report_macro
    from antlm.eval.suites import get_suite

    config = FinetuneConfig(**{f.name: getattr(args, f.name) for f in fields(FinetuneConfig)})
    finetune_run(
        args.run_dir, parse_task_names(args.task + [args.tasks]), resolve_data_dir(args.data_dir),
        config, device=args.device, progress=not args.no_progress,
    )
    # every result recorded so far, not just this call's
    print(report_macro(args.run_dir, get_suite(args.suite), target="terminal"))


def _cmd_macro(args: argparse.Namespace) -> None:
    from antlm.eval.macro import report_macro
    from antlm.eval.suites import get_suite

    print(report_macro(args.run_dir, get_suite(args.suite), backend=args.backend,
                       target="terminal"))


def _cmd_submission(args: argparse.Namespace) -> None:
    from antlm.eval.submission import glue_recipe, write_submission
    from antlm.eval.suites import get_suite

    report = write_submission(
        args.run_dir, args.out, resolve_data_dir(args.data_dir), get_suite(args.suite),
        args.track, args.backend, args.batch_size,
        glue_recipe(args.glue_max_train_examples, args.glue_epochs), args.device,
        not args.no_progress, args.force, args.workshop_only)
    print(report.render())


def _add_submission(sub: argparse._SubParsersAction) -> None:
    from antlm.eval.submission import OFFICIAL_BACKENDS, TRACK_REVISIONS

    p = sub.add_parser("submission", help="a run's BabyLM leaderboard submission: every "
                                          "predictions.json in the official layout, and the "
                                          "collated file (resumable)")
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument("--out", required=True,
                   help="the submission folder (rerun into the same folder to resume)")
    p.add_argument("--track", choices=list(TRACK_REVISIONS), default="strict-small",
                   help="which revisions the fast sets are scored at (default: strict-small)")
    p.add_argument("--backend", choices=list(OFFICIAL_BACKENDS), default=None,
                   help="default: the run's declared backend")
    p.add_argument("--batch-size", type=BATCH_SIZE.parse, default=64, help="pairs per batch")
    p.add_argument("--glue-max-train-examples", type=int, default=None,
                   help="fine-tune on a seeded N-example subset (a quick check, not the recipe)")
    p.add_argument("--glue-epochs", type=int, default=None,
                   help="at most this many fine-tuning epochs (default: the recipe's)")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--force", action="store_true",
                   help="write into a folder that holds other files")
    p.add_argument("--workshop-only", action="store_true",
                   help="a paper submitted to the workshop only, not to the challenge: exempt "
                        "from the track's limits (10 epochs, the track's corpus size)")
    _add_suite(p)
    p.set_defaults(handler=_cmd_submission)


def _add_finetune(sub: argparse._SubParsersAction) -> None:
    from antlm.config import FinetuneConfig

    p = sub.add_parser("finetune", help="GLUE fine-tuning (the BabyLM recipe) of a run")
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument("--task", action="append", default=[],
                   help="a GLUE task (repeatable): boolq, cola, mnli, mrpc, multirc, qnli, qqp, "
                        "rte, sst2, wsc")
    p.add_argument("--tasks", default="", help="comma-separated tasks, e.g. rte,mrpc,wsc")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    # The recipe's defaults are FinetuneConfig's: one place to change them.
    recipe = FinetuneConfig()
    p.add_argument("--max-train-examples", type=int, default=recipe.max_train_examples,
                   help="fine-tune on a seeded random N-example subset (quick runs; "
                        "default: the whole train set)")
    p.add_argument("--max-eval-examples", type=int, default=recipe.max_eval_examples,
                   help="evaluate on the first N validation examples (default: all)")
    p.add_argument("--epochs", type=int, default=recipe.epochs, help="at most this many epochs")
    p.add_argument("--lr", type=float, default=recipe.lr, help="learning rate")
    p.add_argument("--batch-size", type=BATCH_SIZE.parse, default=recipe.batch_size,
                   help="examples per step")
    p.add_argument("--patience", type=int, default=recipe.patience,
                   help="stop after this many epochs without improvement")
    p.add_argument("--seed", type=int, default=recipe.seed, help="classifier head and data order")
    p.add_argument("--max-length", type=int, default=recipe.max_length,
                   help="tokens per example (longer ones are truncated)")
    p.add_argument("--attention", choices=["causal", "bidirectional"], default=recipe.attention,
                   help="default: that of the schedule's final phase (MLM -> bidirectional)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_suite(p)
    p.set_defaults(handler=_cmd_finetune)

    m = sub.add_parser("macro", help="BabyLM macro-average (BLiMP, supplement, EWoK, GLUE)")
    m.add_argument("run_dir", metavar="DIR", help="a run or results directory")
    m.add_argument("--backend", default=None,
                   help="zero-shot backend to read (default: the declared one)")
    _add_suite(m)
    m.set_defaults(handler=_cmd_macro)


# ---------------------------------------------------------------------------- export
def _cmd_export(args: argparse.Namespace) -> None:
    if args.checkpoints:
        from antlm.export.revisions import export_revisions, publish_instructions

        if args.force:
            raise ConfigError("--force does not apply to --checkpoints: the repository is built "
                              f"from scratch; remove {args.out_dir} or choose a new folder")

        branches = export_revisions(args.run_dir, args.out_dir, attention=args.attention)
        print(f"antlm: exported {args.run_dir} -> {args.out_dir}, a git repository with the "
              f"final model on main and {len(branches) - 1} checkpoint branches: "
              f"{' '.join(branches[1:])}\n"
              f"antlm: {publish_instructions(args.out_dir)}")
        return
    from antlm.export.hf import export_run

    out = export_run(args.run_dir, args.out_dir, attention=args.attention, force=args.force)
    print(f"antlm: exported {args.run_dir} -> {out} (Hugging Face format)")


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a run's model as a Hugging Face folder (causal and "
                                      "masked-LM views, tokenizer, config, model card)")
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument("out_dir", help="the Hugging Face folder to write")
    p.add_argument("--attention", choices=["causal", "bidirectional"], default="bidirectional",
                   help="LTG-BERT only: the attention of AutoModel and the sequence classifier "
                        "(the masked- and causal-LM classes always attend bidirectionally and "
                        "causally)")
    p.add_argument("--checkpoints", action="store_true",
                   help="write OUT as a git repository: the final model on main, one branch per "
                        "milestone checkpoint (chck_1M, ...), ready to push to the Hugging Face Hub")
    p.add_argument("--force", action="store_true",
                   help="write into OUT_DIR although it holds files (never into a run directory)")
    p.set_defaults(handler=_cmd_export)


# ---------------------------------------------------------------------------- plot / presets
def _cmd_plot(args: argparse.Namespace) -> None:
    from antlm.plots.runs import plot_runs

    print(f"antlm: wrote {plot_runs(args.run_dirs, args.out)}")


def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="PNG of the dev loss of both objectives against words seen, "
                                    "phases shaded, runs overlaid")
    p.add_argument("run_dirs", nargs="+", metavar="RUN", help="one or more run directories")
    p.add_argument("--out", help="the PNG to write (default: RUN/dev_loss.png for one run, "
                                 "./dev_loss.png for several)")
    p.set_defaults(handler=_cmd_plot)


def _cmd_presets(args: argparse.Namespace) -> None:
    from antlm.presets import list_presets, preset_root, write_presets

    if args.write:
        from antlm.outputs import refuse_run_directory

        refuse_run_directory(Path(args.write), "presets")
        written = write_presets(Path(args.write))
        print(f"antlm: wrote {len(written)} preset files to {args.write} (existing ones kept)")
        return
    print(f"presets in {preset_root()} (give a run preset's name where a config path goes, "
          "e.g. `antlm train demo`):")
    for kind, names in list_presets().items():
        print(f"  {kind}: {' '.join(names)}")


def _add_presets(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the packaged model, run and sweep presets, or copy "
                                       "them out to edit")
    p.add_argument("--write", metavar="DIR", help="copy every preset to DIR/{runs,models,sweeps}")
    p.set_defaults(handler=_cmd_presets)


# ---------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    from antlm import __version__

    parser = _Parser(
        prog="antlm", description="Alternating causal / masked LM pretraining (AntLM). "
        "Every command takes --help; the data directory is --data-dir, else $ANTLM_DATA_DIR, "
        "else ./data."
    )
    parser.add_argument("--version", action="version", version=f"antlm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_tokenizer, _add_schedule, _add_eval, _add_sweep,
                _add_finetune, _add_submission, _add_export, _add_plot, _add_presets):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run one command under the error contract of :mod:`antlm.errors`: a user's mistake is one
    ``antlm: error:`` paragraph and exit code 2; an internal error keeps its traceback and asks
    for a bug report."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except AntlmError as exc:
        _fail(str(exc))
    except OSError as exc:
        message = environment_error_message(exc)
        if message is None:
            _report_bug()
        _fail(message)
    except KeyboardInterrupt:
        print("antlm: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception:  # noqa: BLE001 -- anything else is a bug: traceback and a request
        _report_bug()


def _fail(message: str) -> NoReturn:
    print(f"antlm: error: {message}", file=sys.stderr)
    sys.exit(USAGE_EXIT)


def _report_bug() -> NoReturn:
    """The traceback of the exception being handled, and what to do with it."""
    traceback.print_exc()
    print("antlm: internal error: this is a bug in antlm, not a problem with your input; please "
          "report it with the command you ran and the traceback above", file=sys.stderr)
    sys.exit(BUG_EXIT)


if __name__ == "__main__":
    main()
